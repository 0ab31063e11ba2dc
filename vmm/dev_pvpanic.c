#include <string.h>

#include "vmm/dev_pvpanic.h"
#include "vmm/layout.h"

void pvpanic_init(struct pvpanic *p, void (*event)(void *opaque, unsigned bits), void *opaque)
{
	memset(p, 0, sizeof(*p));
	p->event = event;
	p->opaque = opaque;
}

/* Reading the port tells the driver which events we understand. */
static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pvpanic *p = opaque;
	unsigned bits = *(const uint8_t *)data & (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	if (!bits)
		return;
	if (bits & PVPANIC_PANICKED)
		__atomic_fetch_add(&p->panics, 1, __ATOMIC_RELAXED);
	if (bits & PVPANIC_CRASH_LOADED)
		__atomic_fetch_add(&p->crash_loads, 1, __ATOMIC_RELAXED);
	if (p->event)
		p->event(p->opaque, bits);
}

const struct bus_ops pvpanic_bus_ops = { .read = pvpanic_read, .write = pvpanic_write };

void pvpanic_aml(struct aml *a)
{
	size_t dev = aml_device_begin(a, "PEVT");
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	aml_name(a, "_STA");
	aml_int(a, 0x0f);                 /* present, enabled, shown, functioning */
	aml_name(a, "_CRS");
	size_t crs = aml_buffer_begin(a);
	aml_res_io(a, PORT_PVPANIC, 1);
	aml_res_end(a);
	aml_buffer_end(a, crs);
	aml_end(a, dev);
}
