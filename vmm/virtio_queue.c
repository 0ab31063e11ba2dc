#include <string.h>

#include "vmm/virtio_queue.h"

void vq_init(struct virtqueue *vq)
{
	memset(vq, 0, sizeof(*vq));
	pthread_mutex_init(&vq->lock, NULL);
}

void vq_destroy(struct virtqueue *vq)
{
	pthread_mutex_destroy(&vq->lock);
}

int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	      uint64_t avail, uint64_t used, bool event_idx)
{
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)))
		return -1;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -1;
	void *d = gm_ptr(mem, desc, 16ull * size);
	void *a = gm_ptr(mem, avail, 6 + 2ull * size);
	void *u = gm_ptr(mem, used, 6 + 8ull * size);
	if (!d || !a || !u)
		return -1;
	pthread_mutex_lock(&vq->lock);
	vq->mem = mem;
	vq->size = size;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->event_idx = event_idx;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->kicks_off = false;
	vq->broken = false;
	vq->last_error = VQ_OK;
	vq->ready = true;
	pthread_mutex_unlock(&vq->lock);
	return 0;
}

void vq_disable(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->ready = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	pthread_mutex_unlock(&vq->lock);
}

static uint16_t load16(const void *p)
{
	uint16_t v;
	__atomic_load((const uint16_t *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

static void store16(void *p, uint16_t v)
{
	__atomic_store((uint16_t *)p, &v, __ATOMIC_RELEASE);
}

static int fail(struct virtqueue *vq, enum vq_error e)
{
	vq->broken = true;
	vq->last_error = e;
	vq->errors++;
	return -1;
}

/* A copy, so that the guest changing the descriptor cannot make us check
 * one value and use another. */
static struct vring_desc read_desc(const struct vring_desc *table, unsigned i)
{
	struct vring_desc d;
	memcpy(&d, (const void *)&table[i], sizeof(d));
	return d;
}

static int add_segment(struct virtqueue *vq, struct vq_chain *c, const struct vring_desc *d)
{
	if (c->nr_out + c->nr_in >= VQ_MAX_SEGS)
		return fail(vq, VQ_TOO_MANY);
	void *p = d->len ? gm_ptr(vq->mem, d->addr, d->len) : NULL;
	if (d->len && !p)
		return fail(vq, VQ_OUT_OF_RAM);
	struct iovec *iov = &c->iov[c->nr_out + c->nr_in];
	iov->iov_base = p;
	iov->iov_len = d->len;
	if (d->flags & VRING_DESC_F_WRITE) {
		c->nr_in++;
		c->in_len += d->len;
	} else {
		if (c->nr_in)
			return fail(vq, VQ_ORDER);   /* readable after writable */
		c->nr_out++;
		c->out_len += d->len;
	}
	return 0;
}

/* Switches the walk to an indirect table; -1 if it is not acceptable. */
static int enter_indirect(struct virtqueue *vq, const struct vring_desc *d, bool *in_indirect,
			  const struct vring_desc **table, unsigned *table_size)
{
	/* A flag, not a comparison of TABLE with the ring: an indirect table
	 * may be the descriptor table itself, and entering it again would
	 * restart the walk forever. */
	if (*in_indirect)
		return fail(vq, VQ_NESTED_INDIRECT);
	if (d->flags & VRING_DESC_F_NEXT)
		return fail(vq, VQ_BAD_INDIRECT);   /* INDIRECT and NEXT together are not allowed */
	if (d->len == 0 || d->len % sizeof(struct vring_desc) || d->len / sizeof(struct vring_desc) > VQ_MAX_SEGS)
		return fail(vq, VQ_BAD_INDIRECT);
	/* No alignment check: virtio 1.2 (2.7.5.3) requires none for indirect
	 * tables, and read_desc copies each entry out with memcpy. */
	const struct vring_desc *t = gm_ptr(vq->mem, d->addr, d->len);
	if (!t)
		return fail(vq, VQ_BAD_INDIRECT);
	*in_indirect = true;
	*table = t;
	*table_size = d->len / sizeof(struct vring_desc);
	return 0;
}

static int walk(struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	const struct vring_desc *table = vq->desc;
	unsigned table_size = vq->size, i = head, steps = 0;
	bool in_indirect = false;
	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		/* A table can be walked at most once per entry: more is a loop. */
		if (++steps > table_size)
			return fail(vq, VQ_LOOP);
		struct vring_desc d = read_desc(table, i);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (enter_indirect(vq, &d, &in_indirect, &table, &table_size) < 0)
				return -1;
			i = 0;
			steps = 0;
			continue;
		}
		if (add_segment(vq, c, &d) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= table_size)
			return fail(vq, VQ_BAD_NEXT);
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	if (!vq->ready || vq->broken)
		return vq->broken ? -1 : 0;
	uint16_t avail_idx = load16(&vq->avail[1]);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return fail(vq, VQ_BAD_RING);       /* the guest claims more than the ring holds */
	uint16_t head = load16(&vq->avail[2 + vq->last_avail % vq->size]);
	if (head >= vq->size)
		return fail(vq, VQ_BAD_HEAD);
	if (walk(vq, head, chain) < 0)
		return -1;
	vq->last_avail++;
	/* avail_event follows us only while kicks are wanted: a device that
	 * turned them off leaves it behind, and the guest stops kicking. */
	if (vq->event_idx && !vq->kicks_off)
		store16(vq->used + 4 + 8ull * vq->size, vq->last_avail);   /* avail_event */
	return 1;
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	pthread_mutex_lock(&vq->lock);
	if (vq->ready) {
		uint8_t *elem = vq->used + 4 + 8ull * (vq->used_idx % vq->size);
		uint32_t id = head;
		memcpy(elem, &id, 4);
		memcpy(elem + 4, &len, 4);
		vq->used_idx++;
		store16(vq->used + 2, vq->used_idx);
	}
	pthread_mutex_unlock(&vq->lock);
}

void vq_push_many(struct virtqueue *vq, const struct vq_used_elem *elems, unsigned n)
{
	pthread_mutex_lock(&vq->lock);
	if (vq->ready) {
		for (unsigned i = 0; i < n; i++) {
			uint8_t *elem = vq->used + 4 + 8ull * ((uint16_t)(vq->used_idx + i) % vq->size);
			uint32_t id = elems[i].head;
			memcpy(elem, &id, 4);
			memcpy(elem + 4, &elems[i].len, 4);
		}
		vq->used_idx = (uint16_t)(vq->used_idx + n);
		store16(vq->used + 2, vq->used_idx);
	}
	pthread_mutex_unlock(&vq->lock);
}

bool vq_rewind(struct virtqueue *vq, uint16_t n)
{
	if (!vq->ready || vq->broken)
		return false;
	vq->last_avail = (uint16_t)(vq->last_avail - n);
	/* The guest already published what we gave back, so avail_event at
	 * last_avail would never trigger: ask for a kick on the next index the
	 * guest publishes instead. */
	uint16_t avail_idx = load16(&vq->avail[1]);
	if (vq->event_idx)
		store16(vq->used + 4 + 8ull * vq->size, avail_idx);
	else
		store16(vq->used, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail[1]) != avail_idx;
}

bool vq_should_notify(struct virtqueue *vq)
{
	pthread_mutex_lock(&vq->lock);
	bool notify = false;
	if (vq->ready) {
		/* The used index must be visible before we read the guest's
		 * suppression state (virtio 1.2, 2.7.7.2). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		uint16_t now = vq->used_idx, old = vq->signalled_used;
		if (vq->event_idx) {
			uint16_t event = load16(&vq->avail[2 + vq->size]);   /* used_event */
			notify = !vq->signalled_valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
		} else {
			notify = !(load16(&vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT) && now != old;
		}
		vq->signalled_used = now;
		vq->signalled_valid = true;
	}
	pthread_mutex_unlock(&vq->lock);
	return notify;
}

bool vq_enable_kicks(struct virtqueue *vq, bool enable)
{
	if (!vq->ready)
		return false;
	vq->kicks_off = !enable;
	if (vq->event_idx) {
		if (enable)
			store16(vq->used + 4 + 8ull * vq->size, vq->last_avail);
	} else {
		store16(vq->used, enable ? 0 : VRING_USED_F_NO_NOTIFY);
	}
	if (!enable)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail[1]) != vq->last_avail;
}

const char *vq_error_text(enum vq_error e)
{
	switch (e) {
	case VQ_OK: return "no error";
	case VQ_BAD_HEAD: return "a chain head outside the descriptor table";
	case VQ_BAD_NEXT: return "a next index outside the descriptor table";
	case VQ_LOOP: return "a descriptor chain that loops";
	case VQ_OUT_OF_RAM: return "a buffer outside guest RAM";
	case VQ_ORDER: return "a device-readable buffer after a writable one";
	case VQ_NESTED_INDIRECT: return "an indirect table inside an indirect table";
	case VQ_BAD_INDIRECT: return "a malformed indirect descriptor table";
	case VQ_TOO_MANY: return "a chain with too many buffers";
	case VQ_BAD_RING: return "an avail index that runs ahead of the ring";
	}
	return "an unknown error";
}
