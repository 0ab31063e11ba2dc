/* MSI-X: the capability, the vector table and the pending-bit array in a
 * memory BAR.  Each vector has a GSI with an MSI route and an eventfd bound
 * to it with KVM_IRQFD, so any thread signals an interrupt with one write. */
#ifndef VMDECK_PCI_MSIX_H
#define VMDECK_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/irq_router.h"
#include "vmm/pci.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_NO_VECTOR   0xffff

struct msix {
	pthread_mutex_t lock;
	struct pci_device *pci;
	struct irq_router *router;
	unsigned cap;                      /* capability offset in config space */
	unsigned nr;
	uint32_t table_off, pba_off;       /* within the BAR */
	uint32_t table[MSIX_MAX_VECTORS][4];   /* addr lo, addr hi, data, control */
	uint64_t pending;
	int gsi[MSIX_MAX_VECTORS];
	int irqfd[MSIX_MAX_VECTORS];
	uint64_t delivered, held;          /* counters */
};

/* Adds the capability to PCI; the table and PBA live in BAR at the given
 * offsets (the caller maps msix_bar_ops there or calls msix_bar_* itself). */
int msix_init(struct msix *m, struct pci_device *pci, struct irq_router *router, unsigned nr,
	      unsigned bar, uint32_t table_off, uint32_t pba_off, struct error *err);
void msix_destroy(struct msix *m);
void msix_reset(struct msix *m);
/* Binds every vector's eventfd to its GSI in the new KVM VM. */
int msix_attach_kvm(struct msix *m, int vm_fd, struct error *err);

bool msix_enabled(struct msix *m);
/* Signals VECTOR: delivered now, or left pending while masked. */
void msix_notify(struct msix *m, unsigned vector);

/* Call from the device's pci config_written hook. */
void msix_config_written(struct msix *m, unsigned off, unsigned len);
/* Accesses to the table/PBA region of the BAR (OFFSET relative to the BAR). */
void msix_bar_read(struct msix *m, uint64_t offset, void *data, unsigned len);
void msix_bar_write(struct msix *m, uint64_t offset, const void *data, unsigned len);

#endif
