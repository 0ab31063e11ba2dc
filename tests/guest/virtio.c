#include "virtio.h"

#define CAP_VNDR 0x09
#define CAP_MSIX 0x11

static uint64_t cfg_addr(unsigned slot, unsigned off)
{
	return PCI_ECAM_BASE + ((uint64_t)slot << 15) + off;
}

uint32_t pci_read32(unsigned slot, unsigned off) { return *(volatile uint32_t *)cfg_addr(slot, off); }
void pci_write32(unsigned slot, unsigned off, uint32_t v) { *(volatile uint32_t *)cfg_addr(slot, off) = v; }
uint16_t pci_read16(unsigned slot, unsigned off) { return *(volatile uint16_t *)cfg_addr(slot, off); }
void pci_write16(unsigned slot, unsigned off, uint16_t v) { *(volatile uint16_t *)cfg_addr(slot, off) = v; }

uint64_t pci_bar(unsigned slot, unsigned bar)
{
	uint32_t lo = pci_read32(slot, 0x10 + 4 * bar);
	if (lo & 1)
		return lo & ~3u;
	uint64_t addr = lo & ~0xfull;
	if ((lo & 6) == 4)
		addr |= (uint64_t)pci_read32(slot, 0x14 + 4 * bar) << 32;
	return addr;
}

int pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t id = pci_read32(slot, 0);
		if ((id & 0xffff) == vendor && (id >> 16) == device)
			return (int)slot;
	}
	return -1;
}

/* Common configuration registers */
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_STATUS   0x14
#define C_QSELECT  0x16
#define C_QSIZE    0x18
#define C_QMSIX    0x1a
#define C_QENABLE  0x1c
#define C_QNOFF    0x1e
#define C_QDESC    0x20
#define C_QDRIVER  0x28
#define C_QDEVICE  0x30

static volatile uint8_t *reg8(struct gvdev *d, unsigned off) { return (volatile uint8_t *)(d->common + off); }
static volatile uint16_t *reg16(struct gvdev *d, unsigned off) { return (volatile uint16_t *)(d->common + off); }
static volatile uint32_t *reg32(struct gvdev *d, unsigned off) { return (volatile uint32_t *)(d->common + off); }

static void find_caps(struct gvdev *d)
{
	unsigned slot = (unsigned)d->slot;
	for (unsigned c = pci_read32(slot, 0x34) & 0xff; c; c = (pci_read32(slot, c) >> 8) & 0xff) {
		uint32_t h = pci_read32(slot, c);
		if ((h & 0xff) == CAP_MSIX) {
			uint32_t table = pci_read32(slot, c + 4);
			d->msix_table = pci_bar(slot, table & 7) + (table & ~7u);
			continue;
		}
		if ((h & 0xff) != CAP_VNDR)
			continue;
		unsigned type = h >> 24;
		uint64_t addr = pci_bar(slot, pci_read32(slot, c + 4) & 0xff) + pci_read32(slot, c + 8);
		if (type == 1)
			d->common = addr;
		else if (type == 2) {
			d->notify = addr;
			d->notify_mult = pci_read32(slot, c + 16);
		} else if (type == 3)
			d->isr = addr;
		else if (type == 4)
			d->device = addr;
	}
}

int virtio_open(struct gvdev *d, unsigned device_id, uint64_t wanted)
{
	memset(d, 0, sizeof(*d));
	d->slot = pci_find(0x1af4, (uint16_t)(0x1040 + device_id));
	if (d->slot < 0)
		return -1;
	pci_write16((unsigned)d->slot, 0x04, 0x0006);        /* memory decoding, bus master */
	find_caps(d);
	if (!d->common || !d->notify || !d->device)
		return -2;
	*reg8(d, C_STATUS) = 0;
	*reg8(d, C_STATUS) = 1 | 2;                           /* ACKNOWLEDGE, DRIVER */
	uint64_t offered = 0;
	for (unsigned i = 0; i < 2; i++) {
		*reg32(d, C_DFSELECT) = i;
		offered |= (uint64_t)*reg32(d, C_DF) << (32 * i);
	}
	d->features = (offered & wanted) | (1ull << 32);
	for (unsigned i = 0; i < 2; i++) {
		*reg32(d, C_GFSELECT) = i;
		*reg32(d, C_GF) = (uint32_t)(d->features >> (32 * i));
	}
	*reg8(d, C_STATUS) = 1 | 2 | 8;                       /* FEATURES_OK */
	if (!(*reg8(d, C_STATUS) & 8))
		return -3;
	return 0;
}

int virtio_queue(struct gvdev *d, struct gvq *q, unsigned index, uint16_t size, void *mem)
{
	memset(q, 0, sizeof(*q));
	memset(mem, 0, 16384);
	*reg16(d, C_QSELECT) = (uint16_t)index;
	if (*reg16(d, C_QSIZE) < size)
		size = *reg16(d, C_QSIZE);
	*reg16(d, C_QSIZE) = size;
	q->index = (uint16_t)index;
	q->size = size;
	q->desc = mem;
	q->avail = (volatile uint16_t *)((uint8_t *)mem + 16u * size);
	q->used = (volatile uint8_t *)(((uint64_t)q->avail + 6 + 2u * size + 4095) & ~4095ull);
	q->notify_off = *reg16(d, C_QNOFF);
	*(volatile uint64_t *)(d->common + C_QDESC) = (uint64_t)q->desc;
	*(volatile uint64_t *)(d->common + C_QDRIVER) = (uint64_t)q->avail;
	*(volatile uint64_t *)(d->common + C_QDEVICE) = (uint64_t)q->used;
	*reg16(d, C_QENABLE) = 1;
	return *reg16(d, C_QENABLE) == 1 ? 0 : -1;
}

void virtio_msix(struct gvdev *d, struct gvq *q, unsigned vec, unsigned vector)
{
	volatile uint32_t *e = (volatile uint32_t *)(d->msix_table + 16ull * vec);
	e[0] = 0xfee00000u | (lapic_id() << 12);
	e[1] = 0;
	e[2] = vector;
	e[3] = 0;                                             /* unmasked */
	*reg16(d, C_QSELECT) = q->index;
	*reg16(d, C_QMSIX) = (uint16_t)vec;
	/* Enable MSI-X in the capability's control word. */
	unsigned slot = (unsigned)d->slot;
	for (unsigned c = pci_read32(slot, 0x34) & 0xff; c; c = (pci_read32(slot, c) >> 8) & 0xff)
		if ((pci_read32(slot, c) & 0xff) == CAP_MSIX)
			pci_write16(slot, c + 2, (uint16_t)(pci_read16(slot, c + 2) | 0x8000));
}

void virtio_driver_ok(struct gvdev *d)
{
	*reg8(d, C_STATUS) = 1 | 2 | 8 | 4;
}

uint8_t virtio_status(struct gvdev *d)
{
	return *reg8(d, C_STATUS);
}

uint8_t virtio_config8(struct gvdev *d, unsigned off) { return *(volatile uint8_t *)(d->device + off); }
uint32_t virtio_config32(struct gvdev *d, unsigned off) { return *(volatile uint32_t *)(d->device + off); }
uint64_t virtio_config64(struct gvdev *d, unsigned off)
{
	return virtio_config32(d, off) | (uint64_t)virtio_config32(d, off + 4) << 32;
}

uint16_t gvq_submit(struct gvdev *d, struct gvq *q, const struct gbuf *bufs, unsigned n)
{
	uint16_t head = q->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % q->size);
		uint16_t flags = (uint16_t)((bufs[i].write ? 2 : 0) | (i + 1 < n ? 1 : 0));
		uint16_t next = (uint16_t)((idx + 1) % q->size);
		q->desc[2 * idx] = (uint64_t)bufs[i].addr;
		q->desc[2 * idx + 1] = bufs[i].len | (uint64_t)flags << 32 | (uint64_t)next << 48;
	}
	q->next_desc = (uint16_t)((head + n) % q->size);
	q->avail[2 + q->avail_idx % q->size] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->avail[1] = ++q->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(volatile uint16_t *)(d->notify + (uint64_t)q->notify_off * d->notify_mult) = q->index;
	return head;
}

int gvq_wait(struct gvq *q, uint32_t *len, unsigned long spin)
{
	for (unsigned long i = 0; i < spin; i++) {
		uint16_t used_idx = *(volatile uint16_t *)(q->used + 2);
		if (used_idx != q->last_used) {
			volatile uint8_t *e = q->used + 4 + 8u * (q->last_used % q->size);
			uint32_t id = *(volatile uint32_t *)e;
			*len = *(volatile uint32_t *)(e + 4);
			q->last_used++;
			return (int)id;
		}
		pause_cpu();
	}
	return -1;
}
