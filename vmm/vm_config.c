/* Devices the configuration asks for, created once per VMM process.  Each
 * device family is one block here; the devices themselves know nothing of
 * the command line. */
#include "vmm/virtio_balloon.h"
#include "vmm/vm.h"

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

int vm_create_devices(struct vm *vm, struct error *err)
{
	if (create_balloon(vm, err) < 0)
		return -1;
	return 0;
}
