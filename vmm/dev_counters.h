/* Named counters a device reports for the statistics model: a device fills
 * a list, the model keeps the totals monotonic and turns them into rates.
 * One hook shape for every device family (disks, network, balloon...). */
#ifndef VMDECK_DEV_COUNTERS_H
#define VMDECK_DEV_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#define DEV_COUNTERS_MAX 32

struct dev_counter {
	const char *name;      /* static string, e.g. "rd_bytes" */
	uint64_t value;
	bool gauge;            /* a level (in flight, pages held), not a count: no rate */
};

/* Fills at most MAX counters of DEV into OUT and returns how many; the
 * names and their order must be the same on every call. */
typedef unsigned (*dev_counters_fn)(void *dev, struct dev_counter *out, unsigned max);

#endif
