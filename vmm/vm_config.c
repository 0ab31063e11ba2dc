/* Devices the configuration asks for, created once per VMM process.  Each
 * device family is one block here; the devices themselves know nothing of
 * the command line. */
#include "net/net.h"
#include "vmm/vm.h"

static void destroy_net(void *dev)
{
	net_destroy(dev);
}

/* --net: one virtio-net card with its own user-mode NAT. */
static int create_net(struct vm *vm, struct error *err)
{
	struct net_options opt;
	if (!vm->cfg.net)
		return 0;
	if (net_options_parse(vm->cfg.net, &opt, err) < 0)
		return -1;
	struct net *n = opt.mode == NET_USER ? net_create(&opt, &vm->mem, &vm->router, err) : NULL;
	bool failed = opt.mode == NET_USER && !n;
	net_options_free(&opt);
	if (failed || (n && vm_add_device(vm, "net", n, net_pci(n), destroy_net, err) < 0))
		return -1;
	return 0;
}

int vm_create_devices(struct vm *vm, struct error *err)
{
	if (create_net(vm, err) < 0)
		return -1;
	return 0;
}
