/* An interrupt line as a device sees it.  The VMM backs it with KVM's
 * in-kernel irqchip; unit tests back it with a recorder. */
#ifndef VMDECK_IRQ_H
#define VMDECK_IRQ_H

struct irq_line {
	void (*set)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l && l->set)
		l->set(l->ctx, l->gsi, level);
}

#endif
