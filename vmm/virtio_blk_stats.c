#include "vmm/virtio_blk.h"
#include "vmm/virtio_blk_stats.h"

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The pool threads count as they complete requests; read without locks. */
unsigned vblk_counters(void *dev, struct dev_counter *out, unsigned max)
{
	const struct vblk_stats *s = &((struct virtio_blk *)dev)->stats;
	const struct dev_counter all[] = {
		{ "rd_ops", get(&s->rd_ops), false },
		{ "wr_ops", get(&s->wr_ops), false },
		{ "rd_bytes", get(&s->rd_bytes), false },
		{ "wr_bytes", get(&s->wr_bytes), false },
		{ "flushes", get(&s->flushes), false },
		{ "discards", get(&s->discards), false },
		{ "write_zeroes", get(&s->write_zeroes), false },
		{ "errors", get(&s->errors), false },
		{ "unsupported", get(&s->unsupported), false },
		{ "rd_ns", get(&s->rd_ns), false },
		{ "wr_ns", get(&s->wr_ns), false },
		{ "flush_ns", get(&s->flush_ns), false },
		{ "in_flight", get(&s->in_flight), true },
		{ "max_in_flight", get(&s->max_in_flight), true },
	};
	unsigned n = 0;
	for (; n < max && n < sizeof(all) / sizeof(all[0]); n++)
		out[n] = all[n];
	return n;
}
