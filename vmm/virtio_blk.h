/* virtio-blk (virtio 1.2, 5.2) over the block layer in disk/.
 *
 * Requests are parsed on the main loop when the guest kicks and run on a
 * small thread pool, so several are in flight and no vCPU waits for I/O.
 * Completions go back to the guest from the pool threads (MSI-X irqfd). */
#ifndef VMDECK_VIRTIO_BLK_H
#define VMDECK_VIRTIO_BLK_H

#include <glib.h>
#include <pthread.h>
#include <stdint.h>

#include "disk/blk.h"
#include "src/error.h"
#include "vmm/virtio_pci.h"

#define VBLK_SERIAL_LEN 20

/* Counters, read by the statistics code; updated atomically. */
struct vblk_stats {
	uint64_t rd_ops, wr_ops, rd_bytes, wr_bytes;
	uint64_t flushes, discards, write_zeroes, errors, unsupported;
	uint64_t rd_ns, wr_ns, flush_ns;     /* summed service times */
	uint64_t in_flight, max_in_flight;
};

struct virtio_blk {
	struct virtio_pci vp;
	struct blk *blk;
	char *path;
	bool read_only;
	GThreadPool *pool;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned in_flight;
	uint64_t sectors;
	uint32_t discard_align;               /* sectors */
	char serial[VBLK_SERIAL_LEN + 1];
	struct vblk_stats stats;
};

/* Opens the image SPEC describes ("FILE[,format=qcow2|raw][,readonly=on]
 * [,cache=writeback|none|unsafe]") and builds the device; errors name the
 * file and the cause. */
struct virtio_blk *vblk_create(const char *spec, unsigned index, const struct guest_mem *mem,
			       struct irq_router *router, struct error *err);
/* Takes a void pointer to serve as a struct vm_device destructor. */
void vblk_destroy(void *b);

#endif
