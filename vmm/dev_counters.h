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
 * names and their order must be the same on every call.  Runs on the main
 * loop while the device works on other threads: read counters atomically.
 *
 * A device plugs in next to its vm_add_device call in vm_config.c with
 * vm_set_device_counters(vm, dev, fn); vmm/virtio_blk_stats.c is the model
 * (the disks' struct vblk_stats as counters, in_flight as a gauge).
 * The statistics then show them under "devices" with kind "disk", with a
 * rate per second for each counter that is not a gauge. */
typedef unsigned (*dev_counters_fn)(void *dev, struct dev_counter *out, unsigned max);

/* A device's state that is not a number: adds members to OUT (a JSON
 * object), such as the network's list of forwards with their state.  Runs
 * on the main loop when a client asks; `stats` and `status` show it in
 * the device's entry.  Plugs in with vm_set_device_info(vm, dev, fn). */
struct json_object;
typedef void (*dev_info_fn)(void *dev, struct json_object *out);

#endif
