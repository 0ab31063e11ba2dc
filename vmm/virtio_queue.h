/* Split virtqueues (virtio 1.2, 2.7) over guest memory.
 *
 * Every descriptor is copied out of guest memory once and checked before it
 * is used: addresses inside RAM, chains without loops and no longer than
 * the queue, device-writable buffers after readable ones, one level of
 * indirection with a sane table.  A bad chain marks the queue broken and
 * is counted; the caller asks for a device reset.  Nothing here trusts the
 * guest and nothing aborts. */
#ifndef VMDECK_VIRTIO_QUEUE_H
#define VMDECK_VIRTIO_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

#define VQ_MAX_SIZE     1024
#define VQ_MAX_SEGS     1024    /* buffers in one chain, indirect included */

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY     1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One request: readable (out) segments first, then writable (in) ones. */
struct vq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	size_t out_len, in_len;
	struct iovec iov[VQ_MAX_SEGS];
};

enum vq_error {
	VQ_OK, VQ_BAD_HEAD, VQ_BAD_NEXT, VQ_LOOP, VQ_OUT_OF_RAM, VQ_ORDER, VQ_NESTED_INDIRECT,
	VQ_BAD_INDIRECT, VQ_TOO_MANY, VQ_BAD_RING,
};

struct virtqueue {
	pthread_mutex_t lock;           /* serializes pushes from several threads */
	const struct guest_mem *mem;
	uint16_t size;
	bool ready, event_idx, broken;
	enum vq_error last_error;
	uint64_t errors;
	struct vring_desc *desc;
	uint16_t *avail;                /* flags, idx, ring[size], used_event */
	uint8_t *used;                  /* flags, idx, ring[size] {id, len}, avail_event */
	uint16_t last_avail;            /* next entry of the avail ring to take */
	uint16_t used_idx;              /* our copy of used->idx */
	uint16_t signalled_used;        /* used_idx when the guest was last notified */
	bool signalled_valid;
	bool kicks_off;                 /* the device asked not to be kicked */
};

void vq_init(struct virtqueue *vq);
void vq_destroy(struct virtqueue *vq);
/* Checks and maps the three rings; -1 if any of them is not in RAM or is
 * misaligned, or SIZE is not a power of two <= VQ_MAX_SIZE. */
int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	      uint64_t avail, uint64_t used, bool event_idx);
void vq_disable(struct virtqueue *vq);

/* Takes the next chain: 1 when CHAIN was filled, 0 when the queue is empty,
 * -1 when the chain is invalid (the queue is then broken). */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);
/* Returns HEAD to the guest with LEN bytes written into its buffers. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/* Returns N chains at once: the guest sees them all or none of them (one
 * used-index update), as a merged receive buffer must appear. */
struct vq_used_elem {
	uint16_t head;
	uint32_t len;
};
void vq_push_many(struct virtqueue *vq, const struct vq_used_elem *elems, unsigned n);
/* Gives back the last N chains popped and not pushed (a frame did not fit)
 * and asks the guest to kick when it adds the next buffer.  Returns true if
 * buffers arrived meanwhile (retry before waiting for the kick). */
bool vq_rewind(struct virtqueue *vq, uint16_t n);
/* After pushes: true when the guest wants an interrupt now. */
bool vq_should_notify(struct virtqueue *vq);
/* Asks the guest not to kick (while the device is busy) or to kick again;
 * returns true if new buffers arrived meanwhile (re-check before sleeping). */
bool vq_enable_kicks(struct virtqueue *vq, bool enable);
const char *vq_error_text(enum vq_error e);

#endif
