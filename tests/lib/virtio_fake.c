#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/virtio_fake.h"

enum {
	C_DFSELECT = 0x00, C_DF = 0x04, C_GFSELECT = 0x08, C_GF = 0x0c, C_MSIX = 0x10, C_STATUS = 0x14,
	C_QSELECT = 0x16, C_QSIZE = 0x18, C_QMSIX = 0x1a, C_QENABLE = 0x1c, C_QNOFF = 0x1e,
	C_QDESC = 0x20, C_QDRIVER = 0x28, C_QDEVICE = 0x30,
};
#define CFG_BAR 4

static void no_irq(void *ctx, unsigned gsi, int level) {}

void vfake_init(struct vfake *f, size_t ram_size)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, ram_size);
	f->ram_size = ram_size;
	f->next = VFAKE_RAM_BASE;
	gm_add(&f->mem, VFAKE_RAM_BASE, ram_size, f->ram);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	irq_router_init(&f->router);
	pci_bus_init(&f->pci, &f->pio, &f->mmio, no_irq, f);
}

static uint32_t cfg32(struct vfake *f, unsigned off)
{
	return pci_config_read(&f->pci, 0, (unsigned)f->slot, 0, off, 4);
}

/* The capabilities, walked as a driver walks them. */
static void find_caps(struct vfake *f)
{
	for (unsigned c = cfg32(f, PCI_CAPABILITY_LIST) & 0xff; c; c = (cfg32(f, c) >> 8) & 0xff) {
		uint32_t h = cfg32(f, c);
		if ((h & 0xff) == PCI_CAP_ID_MSIX) {
			f->msix_cap = c;
			continue;
		}
		if ((h & 0xff) != PCI_CAP_ID_VNDR)
			continue;
		uint64_t off = cfg32(f, c + 8);
		switch (h >> 24) {
		case 1: f->common = off; break;
		case 2: f->notify = off; f->notify_mult = cfg32(f, c + 16); break;
		case 3: f->isr = off; break;
		case 4: f->device = off; break;
		}
	}
}

void vfake_attach(struct vfake *f, struct virtio_pci *vp)
{
	f->vp = vp;
	f->slot = pci_bus_add(&f->pci, &vp->pci);
	pci_bus_reset(&f->pci);
	find_caps(f);
}

void vfake_destroy(struct vfake *f)
{
	vfake_run();
	pci_bus_destroy(&f->pci);
	irq_router_destroy(&f->router);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	free(f->ram);
}

uint64_t vfake_alloc(struct vfake *f, size_t len, size_t align)
{
	uint64_t at = (f->next + align - 1) & ~(uint64_t)(align - 1);
	f->next = at + len;
	if (f->next > VFAKE_RAM_BASE + f->ram_size)
		abort();
	memset(vfake_ptr(f, at), 0, len);
	return at;
}

void *vfake_ptr(struct vfake *f, uint64_t gpa)
{
	return f->ram + (gpa - VFAKE_RAM_BASE);
}

uint64_t vfake_read(struct vfake *f, uint64_t bar_off, unsigned len)
{
	uint8_t b[8] = { 0 };
	const struct pci_bar *bar = &f->vp->pci.bars[CFG_BAR];
	bar->ops->read(bar->opaque, bar_off, b, len);
	return bus_get_le(b, len);
}

void vfake_write(struct vfake *f, uint64_t bar_off, uint64_t v, unsigned len)
{
	uint8_t b[8];
	const struct pci_bar *bar = &f->vp->pci.bars[CFG_BAR];
	bus_put_le(b, len, v);
	bar->ops->write(bar->opaque, bar_off, b, len);
}

uint64_t vfake_config(struct vfake *f, unsigned off, unsigned len)
{
	return vfake_read(f, f->device + off, len);
}

uint8_t vfake_status(struct vfake *f)
{
	return (uint8_t)vfake_read(f, f->common + C_STATUS, 1);
}

void vfake_reset(struct vfake *f)
{
	vfake_write(f, f->common + C_STATUS, 0, 1);
}

uint8_t vfake_set_features(struct vfake *f, uint64_t features)
{
	vfake_reset(f);
	vfake_write(f, f->common + C_STATUS, 1 | 2, 1);
	for (unsigned i = 0; i < 2; i++) {
		vfake_write(f, f->common + C_GFSELECT, i, 4);
		vfake_write(f, f->common + C_GF, (uint32_t)(features >> (32 * i)), 4);
	}
	vfake_write(f, f->common + C_STATUS, 1 | 2 | 8, 1);
	return vfake_status(f);
}

uint64_t vfake_negotiate(struct vfake *f, uint64_t wanted)
{
	uint64_t offered = 0;
	for (unsigned i = 0; i < 2; i++) {
		vfake_write(f, f->common + C_DFSELECT, i, 4);
		offered |= vfake_read(f, f->common + C_DF, 4) << (32 * i);
	}
	uint64_t features = (offered & wanted) | 1ull << VIRTIO_F_VERSION_1;
	return vfake_set_features(f, features) & 8 ? features : 0;
}

int vfake_queue(struct vfake *f, struct vfake_queue *q, unsigned index, uint16_t size)
{
	memset(q, 0, sizeof(*q));
	q->index = (uint16_t)index;
	q->size = size;
	q->desc = vfake_alloc(f, 16u * size, 16);
	q->avail = vfake_alloc(f, 6 + 2u * size, 2);
	q->used = vfake_alloc(f, 6 + 8u * size, 4);
	vfake_write(f, f->common + C_QSELECT, index, 2);
	vfake_write(f, f->common + C_QSIZE, size, 2);
	vfake_write(f, f->common + C_QDESC, q->desc, 8);
	vfake_write(f, f->common + C_QDRIVER, q->avail, 8);
	vfake_write(f, f->common + C_QDEVICE, q->used, 8);
	vfake_write(f, f->common + C_QENABLE, 1, 2);
	return vfake_read(f, f->common + C_QENABLE, 2) == 1 ? 0 : -1;
}

void vfake_driver_ok(struct vfake *f)
{
	vfake_write(f, f->common + C_STATUS, 1 | 2 | 8 | 4, 1);
	vfake_run();
}

void vfake_msix(struct vfake *f, unsigned nq)
{
	const struct pci_bar *bar = &f->vp->pci.bars[1];
	uint32_t table = cfg32(f, f->msix_cap + 4) & ~7u;
	for (unsigned v = 0; v <= nq; v++) {
		uint32_t e[4] = { 0xfee00000u, 0, 0x40 + v, 0 };
		for (unsigned i = 0; i < 4; i++)
			bar->ops->write(bar->opaque, table + 16 * v + 4 * i, &e[i], 4);
	}
	for (unsigned q = 0; q < nq; q++) {
		vfake_write(f, f->common + C_QSELECT, q, 2);
		vfake_write(f, f->common + C_QMSIX, q, 2);
	}
	vfake_write(f, f->common + C_MSIX, nq, 2);
	uint32_t ctrl = pci_config_read(&f->pci, 0, (unsigned)f->slot, 0, f->msix_cap + 2, 2);
	pci_config_write(&f->pci, 0, (unsigned)f->slot, 0, f->msix_cap + 2, 2, ctrl | 0x8000);
}

uint64_t vfake_irqs(struct vfake *f, unsigned vector)
{
	uint64_t n = 0;
	if (read(f->vp->msix.irqfd[vector], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

uint16_t vfake_add(struct vfake *f, struct vfake_queue *q, const struct vfake_buf *bufs, unsigned n)
{
	uint16_t head = q->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % q->size);
		uint8_t *d = vfake_ptr(f, q->desc + 16ull * idx);
		uint16_t flags = (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		uint16_t next = (uint16_t)((idx + 1) % q->size);
		memcpy(d, &bufs[i].gpa, 8);
		memcpy(d + 8, &bufs[i].len, 4);
		memcpy(d + 12, &flags, 2);
		memcpy(d + 14, &next, 2);
	}
	q->next_desc = (uint16_t)((head + n) % q->size);
	uint16_t *avail = vfake_ptr(f, q->avail);
	avail[2 + q->avail_idx % q->size] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail[1] = ++q->avail_idx;
	return head;
}

void vfake_run(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

void vfake_kick(struct vfake *f, struct vfake_queue *q)
{
	vfake_write(f, f->common + C_QSELECT, q->index, 2);
	uint64_t noff = vfake_read(f, f->common + C_QNOFF, 2);
	vfake_write(f, f->notify + noff * f->notify_mult, q->index, 2);
	vfake_run();
}

bool vfake_used(struct vfake *f, struct vfake_queue *q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = vfake_ptr(f, q->used);
	uint16_t idx;
	memcpy(&idx, used + 2, 2);
	if (idx == q->last_used)
		return false;
	uint8_t *e = used + 4 + 8u * (q->last_used % q->size);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
	q->last_used++;
	return true;
}
