#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/pci_msix.h"

#define CTRL_ENABLE   0x8000
#define CTRL_MASKALL  0x4000
#define ENTRY_MASKED  0x1

int msix_init(struct msix *m, struct pci_device *pci, struct irq_router *router, unsigned nr,
	      unsigned bar, uint32_t table_off, uint32_t pba_off, struct error *err)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	for (unsigned v = 0; v < MSIX_MAX_VECTORS; v++)
		m->irqfd[v] = -1;
	if (nr == 0 || nr > MSIX_MAX_VECTORS)
		return error_set(err, "%s asks for %u MSI-X vectors; vmdeck supports 1 to %d", pci->name, nr,
				 MSIX_MAX_VECTORS);
	m->pci = pci;
	m->router = router;
	m->nr = nr;
	m->table_off = table_off;
	m->pba_off = pba_off;
	for (unsigned v = 0; v < nr; v++) {
		m->irqfd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		m->gsi[v] = irq_router_alloc(router);
		if (m->irqfd[v] < 0 || m->gsi[v] < 0)
			return error_set(err, "out of interrupt resources for %s", pci->name);
	}
	m->cap = pci_add_capability(pci, PCI_CAP_ID_MSIX, 12);
	pci_put16(pci->config + m->cap + 2, (uint16_t)(nr - 1));
	pci_put16(pci->wmask + m->cap + 2, CTRL_ENABLE | CTRL_MASKALL);
	pci_put32(pci->config + m->cap + 4, table_off | bar);
	pci_put32(pci->config + m->cap + 8, pba_off | bar);
	msix_reset(m);
	return 0;
}

void msix_destroy(struct msix *m)
{
	for (unsigned v = 0; v < m->nr; v++)
		if (m->irqfd[v] >= 0)
			close(m->irqfd[v]);
	pthread_mutex_destroy(&m->lock);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned v = 0; v < m->nr; v++) {
		memset(m->table[v], 0, sizeof(m->table[v]));
		m->table[v][3] = ENTRY_MASKED;
	}
	m->pending = 0;
	uint16_t ctrl = pci_get16(m->pci->config + m->cap + 2);
	pci_put16(m->pci->config + m->cap + 2, ctrl & ~(CTRL_ENABLE | CTRL_MASKALL));
	pthread_mutex_unlock(&m->lock);
}

int msix_attach_kvm(struct msix *m, int vm_fd, struct error *err)
{
	for (unsigned v = 0; v < m->nr; v++) {
		struct kvm_irqfd fd = { .fd = (uint32_t)m->irqfd[v], .gsi = (uint32_t)m->gsi[v] };
		if (ioctl(vm_fd, KVM_IRQFD, &fd) < 0)
			return error_errno(err, errno, "KVM refused an irqfd for %s", m->pci->name);
	}
	return 0;
}

static uint16_t control(const struct msix *m)
{
	return pci_get16(m->pci->config + m->cap + 2);
}

bool msix_enabled(struct msix *m)
{
	return (control(m) & CTRL_ENABLE) != 0;
}

static bool masked(const struct msix *m, unsigned v)
{
	return (control(m) & CTRL_MASKALL) || (m->table[v][3] & ENTRY_MASKED);
}

static void deliver(struct msix *m, unsigned v)
{
	uint64_t address = (uint64_t)m->table[v][1] << 32 | m->table[v][0];
	/* Routes are made when a vector is used, not on every table write:
	 * drivers write address and data while the vector is masked. */
	irq_router_set_msi(m->router, (unsigned)m->gsi[v], address, m->table[v][2]);
	uint64_t one = 1;
	if (write(m->irqfd[v], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("msix %s: irqfd write: %s", m->pci->name, strerror(errno));
	m->delivered++;
}

void msix_notify(struct msix *m, unsigned vector)
{
	pthread_mutex_lock(&m->lock);
	if (vector < m->nr && msix_enabled(m)) {
		if (masked(m, vector)) {
			m->pending |= 1ull << vector;
			m->held++;
		} else {
			deliver(m, vector);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

/* Pending vectors that are no longer masked fire now. */
static void flush_pending(struct msix *m)
{
	if (!msix_enabled(m))
		return;
	for (unsigned v = 0; v < m->nr; v++)
		if ((m->pending & (1ull << v)) && !masked(m, v)) {
			m->pending &= ~(1ull << v);
			deliver(m, v);
		}
}

void msix_config_written(struct msix *m, unsigned off, unsigned len)
{
	if (off + len <= m->cap + 2 || off >= m->cap + 4)
		return;
	pthread_mutex_lock(&m->lock);
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_bar_read(struct msix *m, uint64_t offset, void *data, unsigned len)
{
	uint8_t bytes[8] = { 0 };
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < len && i < 8; i++) {
		uint64_t o = offset + i;
		if (o >= m->table_off && o < m->table_off + 16ull * m->nr) {
			uint64_t t = o - m->table_off;
			bytes[i] = (uint8_t)(m->table[t / 16][(t % 16) / 4] >> (8 * (t % 4)));
		} else if (o >= m->pba_off && o < m->pba_off + 8) {
			bytes[i] = (uint8_t)(m->pending >> (8 * (o - m->pba_off)));
		}
	}
	pthread_mutex_unlock(&m->lock);
	memcpy(data, bytes, len);
}

void msix_bar_write(struct msix *m, uint64_t offset, const void *data, unsigned len)
{
	const uint8_t *in = data;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < len && i < 8; i++) {
		uint64_t o = offset + i;
		if (o < m->table_off || o >= m->table_off + 16ull * m->nr)
			continue;   /* the PBA is read-only */
		uint64_t t = o - m->table_off;
		uint32_t *word = &m->table[t / 16][(t % 16) / 4];
		unsigned shift = 8 * (t % 4);
		*word = (*word & ~(0xffu << shift)) | (uint32_t)in[i] << shift;
	}
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}
