/* I/O-port and MMIO buses: address ranges dispatched to device callbacks.
 *
 * Callbacks run on vCPU threads without the bus lock held, so a device may
 * (re)map ranges from inside an access (a PCI BAR move through ECAM).
 * Devices outlive their ranges, which keeps that safe. */
#ifndef VMDECK_BUS_H
#define VMDECK_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* OFFSET is relative to the range's base; LEN is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	pthread_rwlock_t lock;
	struct bus_range *ranges;   /* sorted by base, never overlapping */
	unsigned nr, cap;
	uint64_t unhandled;         /* accesses that hit no device */
};

void bus_init(struct bus *bus);
void bus_destroy(struct bus *bus);
/* Returns -1 if the range overlaps a registered one or memory is short. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name);
/* Removes the range starting at BASE owned by OPAQUE; -1 if there is none. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);
/* Dispatch.  An access that hits no device reads all-ones and is counted;
 * the functions return false then. */
bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len);
bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len);

/* Little-endian helpers for device registers. */
uint64_t bus_get_le(const void *data, unsigned len);
void bus_put_le(void *data, unsigned len, uint64_t value);

#endif
