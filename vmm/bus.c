#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose base is > ADDR. */
static unsigned upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	if (len == 0 || base + len - 1 < base)
		return -1;
	pthread_rwlock_wrlock(&bus->lock);
	unsigned i = upper_bound(bus, base);
	/* Compared by last byte: base + len wraps to 0 for a range that ends at
	 * the top of the address space. */
	const struct bus_range *prev = i > 0 ? &bus->ranges[i - 1] : NULL;
	bool clash = (prev && prev->base + (prev->len - 1) >= base) ||
		     (i < bus->nr && bus->ranges[i].base <= base + (len - 1));
	if (!clash && bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));
		if (r) {
			bus->ranges = r;
			bus->cap = cap;
		} else {
			clash = true;
		}
	}
	if (!clash) {
		memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(*bus->ranges));
		bus->ranges[i] = (struct bus_range){ base, len, ops, opaque, name };
		bus->nr++;
	}
	pthread_rwlock_unlock(&bus->lock);
	return clash ? -1 : 0;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	int ret = -1;
	pthread_rwlock_wrlock(&bus->lock);
	unsigned i = upper_bound(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base && bus->ranges[i - 1].opaque == opaque) {
		i--;
		memmove(&bus->ranges[i], &bus->ranges[i + 1], (bus->nr - i - 1) * sizeof(*bus->ranges));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static bool lookup(struct bus *bus, uint64_t addr, struct bus_range *out)
{
	bool found = false;
	pthread_rwlock_rdlock(&bus->lock);
	unsigned i = upper_bound(bus, addr);
	if (i > 0 && addr - bus->ranges[i - 1].base < bus->ranges[i - 1].len) {
		*out = bus->ranges[i - 1];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	return found;
}

bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len)
{
	struct bus_range r;
	if (!lookup(bus, addr, &r) || !r.ops->read) {
		memset(data, 0xff, len);
		__atomic_fetch_add(&bus->unhandled, 1, __ATOMIC_RELAXED);
		return false;
	}
	r.ops->read(r.opaque, addr - r.base, data, len);
	return true;
}

bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len)
{
	struct bus_range r;
	if (!lookup(bus, addr, &r)) {
		__atomic_fetch_add(&bus->unhandled, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (r.ops->write)
		r.ops->write(r.opaque, addr - r.base, data, len);
	return true;
}

uint64_t bus_get_le(const void *data, unsigned len)
{
	const uint8_t *b = data;
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

void bus_put_le(void *data, unsigned len, uint64_t value)
{
	uint8_t *b = data;
	for (unsigned i = 0; i < len && i < 8; i++)
		b[i] = (uint8_t)(value >> (8 * i));
}
