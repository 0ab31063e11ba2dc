/* Devices the configuration asks for, created once per VMM process.  Each
 * device family is one block here; the devices themselves know nothing of
 * the command line. */
#include "vmm/virtio_blk.h"
#include "vmm/vm.h"

static int create_disks(struct vm *vm, struct error *err)
{
	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		struct virtio_blk *b = vblk_create(vm->cfg.disks[i], i, &vm->mem, &vm->router, err);
		if (!b || vm_add_device(vm, "disk", b, &b->vp, vblk_destroy, err) < 0)
			return -1;
	}
	return 0;
}

int vm_create_devices(struct vm *vm, struct error *err)
{
	/* Display: VGA, the virtio tablet (vm_display.c). */
	if (vm_display_create(vm, err) < 0)
		return -1;
	return create_disks(vm, err);
}
