/* Devices the configuration asks for, created once per VMM process.  Each
 * device family is one block here; the devices themselves know nothing of
 * the command line. */
#include "vmm/vm.h"

int vm_create_devices(struct vm *vm, struct error *err)
{
	/* Display: VGA, the virtio tablet (vm_display.c). */
	if (vm_display_create(vm, err) < 0)
		return -1;
	return 0;
}
