/* pvpanic (QEMU's ISA variant): the guest writes to one I/O port when its
 * kernel panics, so a panic is an event instead of a silent hang.  Linux
 * binds its pvpanic driver to the ACPI device QEMU0001 in the DSDT. */
#ifndef VMDECK_DEV_PVPANIC_H
#define VMDECK_DEV_PVPANIC_H

#include <stdint.h>

#include "vmm/acpi_aml.h"
#include "vmm/bus.h"

#define PVPANIC_PANICKED     0x1     /* the guest kernel panicked */
#define PVPANIC_CRASH_LOADED 0x2     /* it is about to run a crash kernel */

struct pvpanic {
	void (*event)(void *opaque, unsigned bits);   /* any vCPU thread */
	void *opaque;
	uint64_t panics, crash_loads;
};

void pvpanic_init(struct pvpanic *p, void (*event)(void *opaque, unsigned bits), void *opaque);
/* The DSDT device (inside \_SB) that tells the guest where the port is. */
void pvpanic_aml(struct aml *a);

extern const struct bus_ops pvpanic_bus_ops;     /* at PORT_PVPANIC, 1 byte */

#endif
