/* Devices the configuration asks for, created once per VMM process.  Each
 * device family is one block here; the devices themselves know nothing of
 * the command line. */
#include "net/net.h"
#include "net/net_report.h"
#include "vmm/virtio_balloon.h"
#include "vmm/virtio_blk.h"
#include "vmm/virtio_blk_stats.h"
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
	if (n) {
		vm_set_device_counters(vm, n, net_counters);
		vm_set_device_info(vm, n, net_info);
	}
	return 0;
}

static void balloon_destroy_dev(void *dev)
{
	balloon_destroy(dev);
}

/* --balloon: one virtio-balloon; "off" asks for none. */
static int create_balloon(struct vm *vm, struct error *err)
{
	struct balloon_options opt;
	bool enabled;
	if (!vm->cfg.balloon)
		return 0;
	if (balloon_parse(vm->cfg.balloon, &opt, &enabled, err) < 0)
		return -1;
	if (!enabled)
		return 0;
	struct virtio_balloon *b = balloon_create(&opt, &vm->mem, &vm->router, err);
	if (!b || vm_add_device(vm, "balloon", b, &b->vp, balloon_destroy_dev, err) < 0)
		return -1;
	vm_set_device_counters(vm, b, balloon_counters);
	return 0;
}

static int create_disks(struct vm *vm, struct error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		struct virtio_blk *b = vblk_create(vm->cfg.disks[i], i, &vm->mem, &vm->router, err);
		if (!b || vm_add_device(vm, "disk", b, &b->vp, vblk_destroy, err) < 0)
			return -1;
		vm_set_device_counters(vm, b, vblk_counters);
	}
	return 0;
}

int vm_create_devices(struct vm *vm, struct error *err)
{
	/* Display: VGA, the virtio tablet (vm_display.c). */
	if (vm_display_create(vm, err) < 0)
		return -1;
	if (create_disks(vm, err) < 0)
		return -1;
	if (create_net(vm, err) < 0)
		return -1;
	return create_balloon(vm, err);
}
