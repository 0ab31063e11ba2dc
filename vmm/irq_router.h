/* KVM GSI routing: the in-kernel PIC/IOAPIC routes every VM has, plus one
 * MSI route per MSI-X vector in use.  The table outlives KVM VMs (a reset
 * builds a new one) and is committed again on attach. */
#ifndef VMDECK_IRQ_ROUTER_H
#define VMDECK_IRQ_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_ROUTER_FIRST_MSI 24      /* GSIs below are the IOAPIC's pins */
#define IRQ_ROUTER_MAX_MSI   512

struct irq_router {
	pthread_mutex_t lock;
	int vm_fd;                            /* -1 between KVM VMs */
	unsigned nr;                          /* MSI GSIs handed out */
	struct {
		uint64_t address;
		uint32_t data;
		bool valid;                   /* routed; else the GSI goes nowhere */
	} msi[IRQ_ROUTER_MAX_MSI];
	uint64_t commits;
};

void irq_router_init(struct irq_router *r);
void irq_router_destroy(struct irq_router *r);
/* A new MSI GSI (not routed yet), or -1 when none are left. */
int irq_router_alloc(struct irq_router *r);
/* Points GSI at an MSI message; commits when something changed. */
int irq_router_set_msi(struct irq_router *r, unsigned gsi, uint64_t address, uint32_t data);
/* Starts over with VM_FD (a new KVM VM, or -1 for none): every MSI route
 * is forgotten until its vector fires again. */
int irq_router_attach(struct irq_router *r, int vm_fd);

#endif
