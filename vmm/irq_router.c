#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "src/log.h"
#include "vmm/irq_router.h"

void irq_router_init(struct irq_router *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = -1;
}

void irq_router_destroy(struct irq_router *r)
{
	pthread_mutex_destroy(&r->lock);
}

int irq_router_alloc(struct irq_router *r)
{
	pthread_mutex_lock(&r->lock);
	int gsi = r->nr < IRQ_ROUTER_MAX_MSI ? (int)(IRQ_ROUTER_FIRST_MSI + r->nr++) : -1;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

static struct kvm_irq_routing_entry irqchip(unsigned gsi, unsigned chip, unsigned pin)
{
	return (struct kvm_irq_routing_entry){ .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
					      .u.irqchip = { .irqchip = chip, .pin = pin } };
}

/* KVM_SET_GSI_ROUTING replaces KVM's default table, so the PIC and IOAPIC
 * routes that KVM_CREATE_IRQCHIP set up are written again first. */
static int commit(struct irq_router *r)
{
	if (r->vm_fd < 0)
		return 0;
	size_t max = 16 + 24 + r->nr;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -1;
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		t->entries[n++] = irqchip(gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16)
			t->entries[n++] = irqchip(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
						  gsi % 8);
	}
	for (unsigned i = 0; i < r->nr; i++) {
		if (!r->msi[i].valid)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = IRQ_ROUTER_FIRST_MSI + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)r->msi[i].address,
				   .address_hi = (uint32_t)(r->msi[i].address >> 32), .data = r->msi[i].data },
		};
	}
	t->nr = n;
	int ret = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t);
	if (ret < 0)
		log_warn("KVM refused the interrupt routing table: %s", strerror(errno));
	r->commits++;
	free(t);
	return ret;
}

int irq_router_set_msi(struct irq_router *r, unsigned gsi, uint64_t address, uint32_t data)
{
	unsigned i = gsi - IRQ_ROUTER_FIRST_MSI;
	pthread_mutex_lock(&r->lock);
	int ret = 0;
	if (gsi < IRQ_ROUTER_FIRST_MSI || i >= r->nr) {
		ret = -1;
	} else if (!r->msi[i].valid || r->msi[i].address != address || r->msi[i].data != data) {
		r->msi[i].address = address;
		r->msi[i].data = data;
		r->msi[i].valid = true;
		ret = commit(r);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_router_attach(struct irq_router *r, int vm_fd)
{
	pthread_mutex_lock(&r->lock);
	r->vm_fd = vm_fd;
	/* A new VM starts with MSI unprogrammed, and KVM_CREATE_IRQCHIP has
	 * already installed the PIC/IOAPIC routes: nothing to commit until the
	 * first vector is used (a commit costs milliseconds). */
	for (unsigned i = 0; i < r->nr; i++)
		r->msi[i].valid = false;
	pthread_mutex_unlock(&r->lock);
	return 0;
}
