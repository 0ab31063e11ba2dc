/* The virtio modern PCI transport (vmm/virtio_pci.c), driven the way a
 * guest driver drives it: find the vendor capabilities by walking config
 * space, then use the common/notify/ISR/device regions through the BAR as
 * mapped on the MMIO bus.  The device behind it is a small fake with two
 * queues and 8 bytes of config space that counts what it is asked to do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/virtio_pci.h"

/* Common configuration layout (virtio 1.2, 4.1.4.3), written out here from
 * the spec rather than taken from the code under test. */
enum {
	DFSELECT = 0x00, DF = 0x04, GFSELECT = 0x08, GF = 0x0c, MSIX_CONFIG = 0x10, NUMQ = 0x12,
	STATUS = 0x14, CFGGEN = 0x15, QSELECT = 0x16, QSIZE = 0x18, QMSIX = 0x1a, QENABLE = 0x1c,
	QNOFF = 0x1e, QDESC = 0x20, QDRIVER = 0x28, QDEVICE = 0x30,
};
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI_CFG = 5 };

#define ACK       VIRTIO_STATUS_ACKNOWLEDGE
#define DRIVER    VIRTIO_STATUS_DRIVER
#define DRIVER_OK VIRTIO_STATUS_DRIVER_OK
#define FEAT_OK   VIRTIO_STATUS_FEATURES_OK
#define NEEDS_RESET VIRTIO_STATUS_NEEDS_RESET

#define DEV_ID     42
#define NQ         2
#define QMAX       16
#define DEV_FEAT_A 5          /* two device-specific feature bits */
#define DEV_FEAT_B 9
#define RAM_SIZE   0x100000ull
#define NOVEC      0xffff

struct fakedev {
	unsigned activated, resets, kicks[NQ];
	unsigned config_reads, config_writes;
	int activate_ret;
	bool event_idx_at_activate;
	uint8_t config[8];
};

static struct fakedev *dev_of(struct virtio_pci *vp) { return vp->dev; }

static void fd_config_read(struct virtio_pci *vp, unsigned off, void *data, unsigned len)
{
	assert_true(off + len <= 8);
	dev_of(vp)->config_reads++;
	memcpy(data, dev_of(vp)->config + off, len);
}

static void fd_config_write(struct virtio_pci *vp, unsigned off, const void *data, unsigned len)
{
	assert_true(off + len <= 8);
	dev_of(vp)->config_writes++;
	memcpy(dev_of(vp)->config + off, data, len);
}

static int fd_activate(struct virtio_pci *vp)
{
	dev_of(vp)->activated++;
	dev_of(vp)->event_idx_at_activate = virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX);
	return dev_of(vp)->activate_ret;
}

static void fd_reset(struct virtio_pci *vp) { dev_of(vp)->resets++; }

static void fd_kick(struct virtio_pci *vp, unsigned q)
{
	assert_true(q < NQ);
	dev_of(vp)->kicks[q]++;
}

static const struct virtio_ops fake_ops = {
	.name = "fake", .device_id = DEV_ID, .class_code = 0xff0000, .num_queues = NQ, .queue_max = QMAX,
	.config_size = 8, .features = 1ull << DEV_FEAT_A | 1ull << DEV_FEAT_B,
	.config_read = fd_config_read, .config_write = fd_config_write, .activate = fd_activate,
	.reset = fd_reset, .kick = fd_kick,
};

struct irq_rec {
	int level[64];
	unsigned events;
};

static void rec_irq(void *ctx, unsigned gsi, int level)
{
	struct irq_rec *r = ctx;
	assert_true(gsi < 64);
	r->level[gsi] = level;
	r->events++;
}

struct region {
	bool found;
	unsigned cap, cap_len, bar;
	uint32_t off, len;
	uint64_t base;           /* guest-physical, after BAR assignment */
};

struct fix {
	struct guest_mem gm;
	uint8_t *ram;
	struct bus pio, mmio;
	struct pci_bus pb;
	struct irq_rec irq;
	struct irq_router router;
	struct virtio_pci vp;
	struct fakedev dev;
	unsigned slot, gsi;
	struct region r[6];      /* by cfg_type */
	uint32_t notify_mult;
	unsigned msix_cap;
	uint64_t msix_bar;
};

static uint32_t cr(struct fix *f, unsigned off, unsigned len)
{
	return pci_config_read(&f->pb, 0, f->slot, 0, off, len);
}

static void cw(struct fix *f, unsigned off, unsigned len, uint32_t v)
{
	pci_config_write(&f->pb, 0, f->slot, 0, off, len, v);
}

static uint64_t bar_address(struct fix *f, unsigned bar)
{
	uint32_t lo = cr(f, PCI_BAR0 + 4 * bar, 4);
	uint64_t a = lo & ~0xfu;
	if ((lo & 6) == 4)
		a |= (uint64_t)cr(f, PCI_BAR0 + 4 * bar + 4, 4) << 32;
	return a;
}

/* What a driver does first: walk the capability list. */
static void discover(struct fix *f)
{
	memset(f->r, 0, sizeof(f->r));
	f->msix_cap = 0;
	unsigned p = cr(f, PCI_CAPABILITY_LIST, 1);
	for (unsigned n = 0; p && n < 48; n++, p = cr(f, p + 1, 1)) {
		assert_int_equal(p & 3, 0);
		assert_true(p >= 0x40);
		unsigned id = cr(f, p, 1);
		if (id == PCI_CAP_ID_MSIX) {
			f->msix_cap = p;
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		unsigned type = cr(f, p + 3, 1);
		assert_true(type >= 1 && type <= 5);
		struct region *r = &f->r[type];
		assert_false(r->found);                         /* one of each */
		r->found = true;
		r->cap = p;
		r->cap_len = cr(f, p + 2, 1);
		r->bar = cr(f, p + 4, 1);
		r->off = cr(f, p + 8, 4);
		r->len = cr(f, p + 12, 4);
		if (type == CAP_NOTIFY)
			f->notify_mult = cr(f, p + 16, 4);
	}
	for (unsigned t = CAP_COMMON; t <= CAP_DEVICE; t++)
		f->r[t].base = bar_address(f, f->r[t].bar) + f->r[t].off;
	assert_true(f->msix_cap != 0);
	f->msix_bar = bar_address(f, cr(f, f->msix_cap + 4, 4) & 7);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->ram = calloc(1, RAM_SIZE);
	assert_non_null(f->ram);
	assert_int_equal(gm_add(&f->gm, 0, RAM_SIZE, f->ram), 0);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	pci_bus_init(&f->pb, &f->pio, &f->mmio, rec_irq, &f->irq);
	irq_router_init(&f->router);
	struct error err = { "" };
	assert_int_equal(virtio_pci_init(&f->vp, &fake_ops, &f->dev, &f->gm, &f->router, &err), 0);
	int slot = pci_bus_add(&f->pb, &f->vp.pci);
	assert_true(slot > 0);
	f->slot = (unsigned)slot;
	f->gsi = pci_intx_gsi(f->slot, 1);
	pci_bus_reset(&f->pb);
	discover(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	virtio_pci_destroy(&f->vp);
	irq_router_destroy(&f->router);
	pci_bus_destroy(&f->pb);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	free(f->ram);
	free(f);
	return 0;
}

static uint64_t rd(struct fix *f, unsigned type, uint64_t off, unsigned len)
{
	uint8_t b[8];
	assert_true(bus_read(&f->mmio, f->r[type].base + off, b, len));
	return bus_get_le(b, len);
}

static void wr(struct fix *f, unsigned type, uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];
	bus_put_le(b, len, v);
	assert_true(bus_write(&f->mmio, f->r[type].base + off, b, len));
}

static uint64_t crd(struct fix *f, unsigned off, unsigned len) { return rd(f, CAP_COMMON, off, len); }
static void cwr(struct fix *f, unsigned off, unsigned len, uint64_t v) { wr(f, CAP_COMMON, off, len, v); }
static uint8_t status(struct fix *f) { return (uint8_t)crd(f, STATUS, 1); }
static void set_status(struct fix *f, uint8_t s) { cwr(f, STATUS, 1, s); }

/* Drivers write 64-bit fields as two 32-bit halves. */
static void cwr64(struct fix *f, unsigned off, uint64_t v)
{
	cwr(f, off, 4, (uint32_t)v);
	cwr(f, off + 4, 4, v >> 32);
}

static void write_features(struct fix *f, uint64_t features)
{
	cwr(f, GFSELECT, 4, 0);
	cwr(f, GF, 4, (uint32_t)features);
	cwr(f, GFSELECT, 4, 1);
	cwr(f, GF, 4, features >> 32);
}

static uint64_t read_64(struct fix *f, unsigned sel, unsigned win, uint32_t select)
{
	cwr(f, sel, 4, select);
	return crd(f, win, 4);
}

static const uint64_t good_features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_EVENT_IDX |
				      1ull << VIRTIO_F_INDIRECT_DESC | 1ull << DEV_FEAT_A;

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status. */
static uint8_t negotiate(struct fix *f, uint64_t features)
{
	set_status(f, 0);
	set_status(f, ACK);
	set_status(f, ACK | DRIVER);
	write_features(f, features);
	set_status(f, ACK | DRIVER | FEAT_OK);
	return status(f);
}

static void queue_setup(struct fix *f, unsigned q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	cwr(f, QSELECT, 2, q);
	cwr(f, QSIZE, 2, size);
	cwr64(f, QDESC, desc);
	cwr64(f, QDRIVER, avail);
	cwr64(f, QDEVICE, used);
	cwr(f, QENABLE, 2, 1);
}

/* Queue q's rings at 0x1000 + 0x3000 * q. */
static void good_queue(struct fix *f, unsigned q)
{
	uint64_t b = 0x1000 + 0x3000ull * q;
	queue_setup(f, q, QMAX, b, b + 0x1000, b + 0x2000);
	cwr(f, QSELECT, 2, q);
	assert_int_equal(crd(f, QENABLE, 2), 1);
}

static void kick(struct fix *f, unsigned q)
{
	cwr(f, QSELECT, 2, q);
	uint64_t off = crd(f, QNOFF, 2) * f->notify_mult;
	wr(f, CAP_NOTIFY, off, 2, q);
}

static void run_main_loop(void)
{
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

/* Guest-side split ring helpers for queue q (size QMAX, as good_queue). */
static void put_desc(struct fix *f, unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };
	memcpy(f->ram + 0x1000 + 0x3000 * q + 16 * i, &d, 16);
}

static void publish(struct fix *f, unsigned q, uint16_t head)
{
	uint8_t *avail = f->ram + 0x2000 + 0x3000 * q;
	uint16_t idx;
	memcpy(&idx, avail + 2, 2);
	memcpy(avail + 4 + 2 * (idx % QMAX), &head, 2);
	idx++;
	memcpy(avail + 2, &idx, 2);
}

/* ---- discovery ------------------------------------------------------------ */

static void test_identity_and_capabilities(void **state)
{
	struct fix *f = *state;
	assert_int_equal(cr(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cr(f, PCI_DEVICE_ID, 2), 0x1040 + DEV_ID);
	assert_true(cr(f, PCI_REVISION_ID, 1) >= 1);             /* modern-only devices */
	assert_int_equal(cr(f, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cr(f, PCI_CLASS_DEVICE, 2), 0xff00);
	assert_int_equal(cr(f, PCI_INTERRUPT_PIN, 1), 1);
	assert_true(cr(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	for (unsigned t = CAP_COMMON; t <= CAP_PCI_CFG; t++)
		assert_true(f->r[t].found);
	assert_int_equal(f->r[CAP_COMMON].bar, 4);
	assert_true(f->r[CAP_COMMON].len >= 0x38);
	assert_int_equal(f->r[CAP_ISR].bar, 4);
	assert_true(f->r[CAP_ISR].len >= 1);
	assert_int_equal(f->r[CAP_DEVICE].bar, 4);
	assert_int_equal(f->r[CAP_DEVICE].len, 8);
	assert_int_equal(f->r[CAP_NOTIFY].bar, 4);
	assert_int_equal(f->r[CAP_NOTIFY].cap_len, 20);
	assert_int_equal(f->notify_mult, 4);
	assert_true(f->r[CAP_PCI_CFG].cap_len >= 20);
	for (unsigned t = CAP_COMMON; t <= CAP_DEVICE; t++) {
		const struct region *r = &f->r[t];
		assert_true(r->cap_len >= 16);
		assert_true(r->bar < PCI_NUM_BARS);
		assert_true((uint64_t)r->off + r->len <= f->vp.pci.bars[r->bar].size);
		assert_int_not_equal(bar_address(f, r->bar), 0);
	}
	/* The four regions do not overlap. */
	for (unsigned a = CAP_COMMON; a <= CAP_DEVICE; a++)
		for (unsigned b = a + 1; b <= CAP_DEVICE; b++)
			assert_true(f->r[a].off + f->r[a].len <= f->r[b].off ||
				    f->r[b].off + f->r[b].len <= f->r[a].off);
	/* BAR 4 is 64-bit prefetchable memory. */
	assert_int_equal(cr(f, PCI_BAR0 + 16, 4) & 0xf, 0xc);
	/* MSI-X: one vector per queue plus config, table in BAR 1. */
	assert_int_equal(cr(f, f->msix_cap + 2, 2) & 0x7ff, NQ);
	assert_int_equal(cr(f, f->msix_cap + 4, 4) & 7, 1);
	/* Every queue's notify address lies in the notify region. */
	assert_int_equal(crd(f, NUMQ, 2), NQ);
	for (unsigned q = 0; q < NQ; q++) {
		cwr(f, QSELECT, 2, q);
		assert_true(crd(f, QNOFF, 2) * f->notify_mult + 2 <= f->r[CAP_NOTIFY].len);
	}
}

/* ---- features --------------------------------------------------------------- */

static void test_device_features(void **state)
{
	struct fix *f = *state;
	uint32_t lo = (uint32_t)read_64(f, DFSELECT, DF, 0);
	assert_int_equal(lo, 1u << VIRTIO_F_INDIRECT_DESC | 1u << VIRTIO_F_EVENT_IDX | 1u << DEV_FEAT_A |
			 1u << DEV_FEAT_B);
	assert_int_equal(crd(f, DFSELECT, 4), 0);
	assert_int_equal(read_64(f, DFSELECT, DF, 1), 1);       /* VERSION_1 */
	assert_int_equal(crd(f, DFSELECT, 4), 1);
	assert_int_equal(read_64(f, DFSELECT, DF, 2), 0);
	assert_int_equal(read_64(f, DFSELECT, DF, 0xffffffff), 0);
	cwr(f, DF, 4, 0);                                        /* read-only */
	assert_int_equal(read_64(f, DFSELECT, DF, 0), lo);
}

static void test_features_ok(void **state)
{
	struct fix *f = *state;
	/* A bit the device did not offer. */
	assert_int_equal(negotiate(f, good_features | 1ull << 7), ACK | DRIVER);
	assert_int_equal(negotiate(f, good_features | 1ull << 40), ACK | DRIVER);
	/* No VERSION_1: a legacy driver on a modern-only device. */
	assert_int_equal(negotiate(f, good_features & ~(1ull << VIRTIO_F_VERSION_1)), ACK | DRIVER);
	/* What was offered, with VERSION_1: accepted. */
	assert_int_equal(negotiate(f, good_features), ACK | DRIVER | FEAT_OK);
	assert_int_equal(read_64(f, GFSELECT, GF, 0), (uint32_t)good_features);
	assert_int_equal(read_64(f, GFSELECT, GF, 1), 1);
	assert_true(virtio_pci_has_feature(&f->vp, VIRTIO_F_EVENT_IDX));
	assert_true(virtio_pci_has_feature(&f->vp, DEV_FEAT_A));
	assert_false(virtio_pci_has_feature(&f->vp, DEV_FEAT_B));
	/* After FEATURES_OK the features are frozen. */
	write_features(f, 1ull << VIRTIO_F_VERSION_1);
	assert_int_equal(read_64(f, GFSELECT, GF, 0), (uint32_t)good_features);
	assert_int_equal(f->dev.activated, 0);
	/* The minimum is fine too. */
	assert_int_equal(negotiate(f, 1ull << VIRTIO_F_VERSION_1), ACK | DRIVER | FEAT_OK);
	assert_false(virtio_pci_has_feature(&f->vp, VIRTIO_F_EVENT_IDX));
}

/* ---- queues ---------------------------------------------------------------- */

static void test_queue_size_limits(void **state)
{
	struct fix *f = *state;
	negotiate(f, good_features);
	cwr(f, QSELECT, 2, 0);
	assert_int_equal(crd(f, QSIZE, 2), QMAX);
	cwr(f, QSIZE, 2, 8);
	assert_int_equal(crd(f, QSIZE, 2), 8);
	static const uint16_t bad[] = { 12, 3, 0, 32, 0x8000, 0xffff, 17 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cwr(f, QSIZE, 2, bad[i]);
		assert_int_equal(crd(f, QSIZE, 2), 8);
	}
	cwr(f, QSIZE, 2, 1);
	assert_int_equal(crd(f, QSIZE, 2), 1);
	cwr(f, QSIZE, 2, QMAX);
	assert_int_equal(crd(f, QSIZE, 2), QMAX);
	/* Queue 1 was not touched. */
	cwr(f, QSELECT, 2, 1);
	assert_int_equal(crd(f, QSIZE, 2), QMAX);
	assert_int_equal(crd(f, QNOFF, 2), 1);
	/* A queue that does not exist reads size 0 and ignores writes. */
	cwr(f, QSELECT, 2, NQ);
	assert_int_equal(crd(f, QSELECT, 2), NQ);
	assert_int_equal(crd(f, QSIZE, 2), 0);
	cwr(f, QSIZE, 2, 4);
	cwr(f, QENABLE, 2, 1);
	assert_int_equal(crd(f, QSIZE, 2), 0);
	assert_int_equal(crd(f, QENABLE, 2), 0);
	assert_int_equal(crd(f, QMSIX, 2), NOVEC);
	assert_int_equal(f->vp.status & NEEDS_RESET, 0);
}

static void test_queue_addresses_64bit(void **state)
{
	struct fix *f = *state;
	cwr(f, QSELECT, 2, 0);
	cwr(f, QDESC, 4, 0x12345000);
	cwr(f, QDESC + 4, 4, 0x1);
	assert_int_equal(crd(f, QDESC, 4), 0x12345000);
	assert_int_equal(crd(f, QDESC + 4, 4), 0x1);
	assert_int_equal(crd(f, QDESC, 8), 0x112345000ull);
	/* High half first, and a later low-half write keeps the high half. */
	cwr(f, QDRIVER + 4, 4, 0xabcd);
	cwr(f, QDRIVER, 4, 0x2000);
	assert_int_equal(crd(f, QDRIVER, 8), 0xabcd00002000ull);
	cwr(f, QDRIVER, 4, 0x3000);
	assert_int_equal(crd(f, QDRIVER, 8), 0xabcd00003000ull);
	/* One 64-bit write. */
	cwr(f, QDEVICE, 8, 0xfedcba9876543000ull);
	assert_int_equal(crd(f, QDEVICE, 4), 0x76543000);
	assert_int_equal(crd(f, QDEVICE + 4, 4), 0xfedcba98);
	assert_int_equal(f->vp.q[0].desc, 0x112345000ull);
	/* Per queue. */
	cwr(f, QSELECT, 2, 1);
	assert_int_equal(crd(f, QDESC, 8), 0);
	cwr64(f, QDESC, 0x5000);
	cwr(f, QSELECT, 2, 0);
	assert_int_equal(crd(f, QDESC, 8), 0x112345000ull);
}

static void test_queue_enable(void **state)
{
	struct fix *f = *state;
	negotiate(f, good_features);
	queue_setup(f, 0, 8, 0x1000, 0x2000, 0x3000);
	assert_int_equal(crd(f, QENABLE, 2), 1);
	struct virtqueue *vq = virtio_pci_queue(&f->vp, 0);
	assert_non_null(vq);
	assert_true(vq->ready);
	assert_int_equal(vq->size, 8);
	assert_true(vq->event_idx);
	assert_ptr_equal(vq->desc, f->ram + 0x1000);
	assert_ptr_equal(vq->avail, f->ram + 0x2000);
	assert_ptr_equal(vq->used, f->ram + 0x3000);
	/* An enabled queue's fields are frozen (the vector excepted). */
	cwr(f, QSIZE, 2, 4);
	cwr64(f, QDESC, 0x8000);
	assert_int_equal(crd(f, QSIZE, 2), 8);
	assert_int_equal(crd(f, QDESC, 8), 0x1000);
	cwr(f, QMSIX, 2, 1);
	assert_int_equal(crd(f, QMSIX, 2), 1);
	assert_null(virtio_pci_queue(&f->vp, NQ));
	assert_int_equal(status(f), ACK | DRIVER | FEAT_OK);
}

static void test_queue_outside_ram_needs_reset(void **state)
{
	struct fix *f = *state;
	enum log_level lvl = log_get_level();
	log_set_level(LOG_ERROR);
	negotiate(f, good_features);
	queue_setup(f, 0, QMAX, RAM_SIZE + 0x10000000, 0x2000, 0x3000);
	assert_int_equal(crd(f, QENABLE, 2), 0);
	assert_int_equal(status(f), ACK | DRIVER | FEAT_OK | NEEDS_RESET);
	assert_int_equal(f->vp.bad_chains, 1);
	assert_false(f->vp.q[0].vq.ready);
	assert_int_equal(f->vp.q[0].vq.last_error, VQ_BAD_RING);
	/* The used ring running off the end of RAM, and a misaligned table. */
	queue_setup(f, 1, QMAX, 0x4000, 0x5000, RAM_SIZE - 8 * QMAX);
	assert_int_equal(crd(f, QENABLE, 2), 0);
	queue_setup(f, 1, QMAX, 0x4008, 0x5000, 0x6000);
	assert_int_equal(crd(f, QENABLE, 2), 0);
	assert_int_equal(f->vp.bad_chains, 3);
	/* The driver cannot clear NEEDS_RESET except by resetting, and a device
	 * in that state is not started. */
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_true(status(f) & NEEDS_RESET);
	assert_int_equal(dev_of(&f->vp)->activated, 0);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	negotiate(f, good_features);
	good_queue(f, 0);
	assert_int_equal(status(f), ACK | DRIVER | FEAT_OK);
	log_set_level(lvl);
}

/* ---- status ------------------------------------------------------------------ */

static void test_driver_ok_activates_once(void **state)
{
	struct fix *f = *state;
	negotiate(f, good_features);
	good_queue(f, 0);
	good_queue(f, 1);
	assert_int_equal(f->dev.activated, 0);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_int_equal(f->dev.activated, 1);
	assert_true(f->dev.event_idx_at_activate);
	assert_int_equal(status(f), ACK | DRIVER | FEAT_OK | DRIVER_OK);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_int_equal(f->dev.activated, 1);
	/* DRIVER_OK without FEATURES_OK does not start the device. */
	negotiate(f, 1ull << 7);
	set_status(f, ACK | DRIVER | DRIVER_OK);
	assert_int_equal(f->dev.activated, 1);
	/* A device that cannot start asks for a reset. */
	f->dev.activate_ret = -1;
	negotiate(f, good_features);
	uint8_t gen = (uint8_t)crd(f, CFGGEN, 1);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_int_equal(f->dev.activated, 2);
	assert_true(status(f) & NEEDS_RESET);
	assert_int_equal((uint8_t)crd(f, CFGGEN, 1), (uint8_t)(gen + 1));
}

static void test_reset_clears_everything(void **state)
{
	struct fix *f = *state;
	negotiate(f, good_features);
	good_queue(f, 0);
	cwr(f, QMSIX, 2, 1);
	cwr(f, MSIX_CONFIG, 2, 2);
	cwr(f, QSELECT, 2, 1);
	cwr(f, QSIZE, 2, 4);
	cwr64(f, QDESC, 0x7000);
	cwr(f, DFSELECT, 4, 1);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	virtio_pci_config_changed(&f->vp);                       /* ISR bit and INTx up */
	assert_int_equal(f->irq.level[f->gsi], 1);
	unsigned resets = f->dev.resets;
	uint64_t vresets = f->vp.resets;

	set_status(f, 0);
	assert_int_equal(f->dev.resets, resets + 1);
	assert_int_equal(f->vp.resets, vresets + 1);
	assert_int_equal(status(f), 0);
	assert_int_equal(crd(f, DFSELECT, 4), 0);
	assert_int_equal(read_64(f, GFSELECT, GF, 0), 0);
	assert_int_equal(read_64(f, GFSELECT, GF, 1), 0);
	assert_false(virtio_pci_has_feature(&f->vp, VIRTIO_F_VERSION_1));
	assert_int_equal(crd(f, MSIX_CONFIG, 2), NOVEC);
	assert_int_equal(f->irq.level[f->gsi], 0);
	assert_int_equal(f->vp.isr, 0);
	cwr(f, QSELECT, 2, 0);
	assert_int_equal(crd(f, QSELECT, 2), 0);
	for (unsigned q = 0; q < NQ; q++) {
		cwr(f, QSELECT, 2, q);
		assert_int_equal(crd(f, QSIZE, 2), QMAX);
		assert_int_equal(crd(f, QENABLE, 2), 0);
		assert_int_equal(crd(f, QMSIX, 2), NOVEC);
		assert_int_equal(crd(f, QDESC, 8), 0);
		assert_int_equal(crd(f, QDRIVER, 8), 0);
		assert_int_equal(crd(f, QDEVICE, 8), 0);
		assert_false(f->vp.q[q].vq.ready);
	}
	assert_int_equal(f->dev.activated, 1);
	/* A device can be brought up again. */
	negotiate(f, good_features);
	good_queue(f, 0);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_int_equal(f->dev.activated, 2);
}

/* ---- interrupts ---------------------------------------------------------- */

static void test_config_generation_and_isr(void **state)
{
	struct fix *f = *state;
	uint8_t gen = (uint8_t)crd(f, CFGGEN, 1);
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0);
	virtio_pci_config_changed(&f->vp);
	assert_int_equal((uint8_t)crd(f, CFGGEN, 1), (uint8_t)(gen + 1));
	assert_int_equal(f->irq.level[f->gsi], 1);
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0x2);             /* config change */
	assert_int_equal(f->irq.level[f->gsi], 0);               /* the read deasserts */
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0);               /* and clears */
	for (int i = 0; i < 300; i++)
		virtio_pci_config_changed(&f->vp);
	assert_int_equal((uint8_t)crd(f, CFGGEN, 1), (uint8_t)(gen + 301));

	/* A used buffer: ISR bit 0.  (No event idx: every push may interrupt.) */
	rd(f, CAP_ISR, 0, 1);
	negotiate(f, good_features & ~(1ull << VIRTIO_F_EVENT_IDX));
	good_queue(f, 0);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	vq_push(virtio_pci_queue(&f->vp, 0), 0, 0);
	virtio_pci_notify(&f->vp, 0);
	assert_int_equal(f->irq.level[f->gsi], 1);
	assert_true(cr(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0x1);
	assert_int_equal(f->irq.level[f->gsi], 0);
	assert_false(cr(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Both causes at once. */
	vq_push(virtio_pci_queue(&f->vp, 0), 0, 0);
	virtio_pci_notify(&f->vp, 0);
	virtio_pci_config_changed(&f->vp);
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0x3);
	assert_int_equal(f->irq.level[f->gsi], 0);
}

static void msix_program(struct fix *f, unsigned v, uint32_t data, bool masked)
{
	uint8_t b[16];
	bus_put_le(b, 8, 0xfee00000);
	bus_put_le(b + 8, 4, data);
	bus_put_le(b + 12, 4, masked);
	for (unsigned i = 0; i < 16; i += 4)
		assert_true(bus_write(&f->mmio, f->msix_bar + 16 * v + i, b + i, 4));
}

static int64_t irqfd_count(struct fix *f, unsigned v)
{
	uint64_t n;
	return read(f->vp.msix.irqfd[v], &n, 8) == 8 ? (int64_t)n : -errno;
}

static void test_msix_vectors(void **state)
{
	struct fix *f = *state;
	/* NQ + 1 vectors: 0..NQ. */
	cwr(f, MSIX_CONFIG, 2, NQ);
	assert_int_equal(crd(f, MSIX_CONFIG, 2), NQ);
	cwr(f, MSIX_CONFIG, 2, NQ + 1);
	assert_int_equal(crd(f, MSIX_CONFIG, 2), NOVEC);
	cwr(f, MSIX_CONFIG, 2, 0x8000);
	assert_int_equal(crd(f, MSIX_CONFIG, 2), NOVEC);
	cwr(f, QSELECT, 2, 1);
	cwr(f, QMSIX, 2, 0);
	assert_int_equal(crd(f, QMSIX, 2), 0);
	cwr(f, QMSIX, 2, 7);
	assert_int_equal(crd(f, QMSIX, 2), NOVEC);
	cwr(f, QMSIX, 2, NOVEC);
	assert_int_equal(crd(f, QMSIX, 2), NOVEC);

	/* With MSI-X on, a used buffer fires the queue's vector and nothing else. */
	negotiate(f, good_features & ~(1ull << VIRTIO_F_EVENT_IDX));
	good_queue(f, 0);
	cwr(f, QSELECT, 2, 0);
	cwr(f, QMSIX, 2, 1);
	cwr(f, MSIX_CONFIG, 2, 2);
	msix_program(f, 1, 0x4041, false);
	msix_program(f, 2, 0x4042, true);
	cw(f, f->msix_cap + 2, 2, 0x8000);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	vq_push(virtio_pci_queue(&f->vp, 0), 0, 0);
	virtio_pci_notify(&f->vp, 0);
	assert_int_equal(irqfd_count(f, 1), 1);
	assert_int_equal(irqfd_count(f, 0), -EAGAIN);
	assert_int_equal(f->irq.level[f->gsi], 0);
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0);
	/* Config changes go to the (masked) config vector: pending. */
	virtio_pci_config_changed(&f->vp);
	assert_int_equal(irqfd_count(f, 2), -EAGAIN);
	uint8_t pba[8];
	assert_true(bus_read(&f->mmio, f->msix_bar + 0x800, pba, 8));
	assert_int_equal(bus_get_le(pba, 8), 1u << 2);
	assert_int_equal(f->irq.level[f->gsi], 0);
	/* NO_VECTOR: nothing at all. */
	cwr(f, QSELECT, 2, 0);
	cwr(f, QMSIX, 2, NOVEC);
	vq_push(virtio_pci_queue(&f->vp, 0), 0, 0);
	virtio_pci_notify(&f->vp, 0);
	for (unsigned v = 0; v <= NQ; v++)
		assert_int_equal(irqfd_count(f, v), -EAGAIN);
	assert_int_equal(f->irq.level[f->gsi], 0);
}

static void test_queue_error(void **state)
{
	struct fix *f = *state;
	enum log_level lvl = log_get_level();
	log_set_level(LOG_ERROR);
	negotiate(f, good_features);
	good_queue(f, 0);
	good_queue(f, 1);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	uint8_t gen = (uint8_t)crd(f, CFGGEN, 1);

	/* The guest hands queue 1 a self-looping chain. */
	put_desc(f, 1, 3, 0x20000, 16, VRING_DESC_F_NEXT, 3);
	publish(f, 1, 3);
	struct vq_chain *c = malloc(sizeof(*c));
	assert_non_null(c);
	assert_int_equal(vq_pop(virtio_pci_queue(&f->vp, 1), c), -1);
	free(c);
	virtio_pci_queue_error(&f->vp, 1);
	assert_int_equal(status(f), ACK | DRIVER | FEAT_OK | DRIVER_OK | NEEDS_RESET);
	assert_int_equal(f->vp.bad_chains, 1);
	assert_int_equal((uint8_t)crd(f, CFGGEN, 1), (uint8_t)(gen + 1));
	assert_int_equal(rd(f, CAP_ISR, 0, 1), 0x2);             /* told through a config interrupt */
	virtio_pci_queue_error(&f->vp, 1);
	assert_int_equal(f->vp.bad_chains, 2);
	/* Kicks on the broken queue no longer reach the device; the other queue works. */
	run_main_loop();
	memset(f->dev.kicks, 0, sizeof(f->dev.kicks));
	kick(f, 1);
	kick(f, 0);
	run_main_loop();
	assert_int_equal(f->dev.kicks[1], 0);
	assert_int_equal(f->dev.kicks[0], 1);
	/* Only a reset clears it. */
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	assert_true(status(f) & NEEDS_RESET);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	log_set_level(lvl);
}

/* ---- device config and the PCI-config window ------------------------------ */

static void test_device_config(void **state)
{
	struct fix *f = *state;
	memcpy(f->dev.config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(rd(f, CAP_DEVICE, 0, 8), 0x8877665544332211ull);
	assert_int_equal(rd(f, CAP_DEVICE, 4, 4), 0x88776655);
	assert_int_equal(rd(f, CAP_DEVICE, 7, 1), 0x88);
	wr(f, CAP_DEVICE, 2, 2, 0xbbaa);
	assert_int_equal(f->dev.config[2], 0xaa);
	assert_int_equal(f->dev.config[3], 0xbb);
	/* Past config_size: reads 0, writes go nowhere, the device is not called. */
	unsigned reads = f->dev.config_reads, writes = f->dev.config_writes;
	assert_int_equal(rd(f, CAP_DEVICE, 6, 4), 0);
	assert_int_equal(rd(f, CAP_DEVICE, 8, 1), 0);
	wr(f, CAP_DEVICE, 6, 4, 0xffffffff);
	wr(f, CAP_DEVICE, 0x100, 4, 0xffffffff);
	assert_int_equal(f->dev.config_reads, reads);
	assert_int_equal(f->dev.config_writes, writes);
	assert_int_equal(f->dev.config[6], 0x77);
}

/* Sets the window (bar, offset, length) of the PCI-config capability. */
static void window(struct fix *f, unsigned bar, uint32_t off, uint32_t len)
{
	unsigned c = f->r[CAP_PCI_CFG].cap;
	cw(f, c + 4, 1, bar);
	cw(f, c + 8, 4, off);
	cw(f, c + 12, 4, len);
}

static uint32_t window_read(struct fix *f, unsigned len) { return cr(f, f->r[CAP_PCI_CFG].cap + 16, len); }
static void window_write(struct fix *f, unsigned len, uint32_t v) { cw(f, f->r[CAP_PCI_CFG].cap + 16, len, v); }

static void test_pci_cfg_window(void **state)
{
	struct fix *f = *state;
	unsigned c = f->r[CAP_PCI_CFG].cap;
	window(f, 4, f->r[CAP_COMMON].off + NUMQ, 2);
	assert_int_equal(cr(f, c + 4, 1), 4);
	assert_int_equal(cr(f, c + 8, 4), f->r[CAP_COMMON].off + NUMQ);
	assert_int_equal(cr(f, c + 12, 4), 2);
	assert_int_equal(window_read(f, 2), NQ);
	assert_int_equal(window_read(f, 4), NQ);
	/* Writes go through to the common config. */
	window(f, 4, f->r[CAP_COMMON].off + QSELECT, 2);
	window_write(f, 2, 1);
	assert_int_equal(crd(f, QSELECT, 2), 1);
	window(f, 4, f->r[CAP_COMMON].off + STATUS, 1);
	window_write(f, 1, ACK);
	assert_int_equal(status(f), ACK);
	assert_int_equal(window_read(f, 1), ACK);
	window(f, 4, f->r[CAP_COMMON].off + DFSELECT, 4);
	window_write(f, 4, 1);
	window(f, 4, f->r[CAP_COMMON].off + DF, 4);
	assert_int_equal(window_read(f, 4), 1);                  /* VERSION_1 */
	/* The ISR through the window acknowledges as well. */
	virtio_pci_config_changed(&f->vp);
	window(f, 4, f->r[CAP_ISR].off, 1);
	assert_int_equal(window_read(f, 1), 0x2);
	assert_int_equal(f->irq.level[f->gsi], 0);
	/* The MSI-X table in BAR 1. */
	window(f, 1, 12, 4);
	assert_int_equal(window_read(f, 4), 1);                  /* vector 0 masked */

	/* Windows that address nothing: no access, the data stays as written. */
	window(f, 4, 0, 3);
	window_write(f, 4, 0xdeadbeef);
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 6, 0, 4);
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 0, 0, 4);                                      /* BAR 0 is not implemented */
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 4, (uint32_t)f->vp.pci.bars[4].size - 2, 4);   /* runs past the BAR */
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 4, (uint32_t)f->vp.pci.bars[4].size, 1);
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 4, 0xfffffffe, 4);                             /* offset + length wraps 2^32 */
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	window(f, 1, 0xffffffff, 2);
	assert_int_equal(window_read(f, 4), 0xdeadbeef);
	assert_int_equal(status(f), ACK);
}

/* ---- kicks ------------------------------------------------------------------ */

static void test_kick_through_bar(void **state)
{
	struct fix *f = *state;
	negotiate(f, good_features);
	good_queue(f, 1);
	set_status(f, ACK | DRIVER | FEAT_OK | DRIVER_OK);
	run_main_loop();
	assert_int_equal(f->dev.kicks[0] + f->dev.kicks[1], 0);

	kick(f, 1);
	assert_int_equal(f->dev.kicks[1], 0);                    /* delivered by the main loop */
	run_main_loop();
	assert_int_equal(f->dev.kicks[1], 1);
	assert_int_equal(f->dev.kicks[0], 0);
	/* Two kicks before the loop runs coalesce into one call. */
	kick(f, 1);
	kick(f, 1);
	run_main_loop();
	assert_int_equal(f->dev.kicks[1], 2);
	/* A queue that is not enabled: the kick is swallowed. */
	kick(f, 0);
	run_main_loop();
	assert_int_equal(f->dev.kicks[0], 0);
	/* Notify addresses of queues that do not exist. */
	wr(f, CAP_NOTIFY, NQ * f->notify_mult, 2, NQ);
	wr(f, CAP_NOTIFY, 0x100, 2, 0);
	run_main_loop();
	assert_int_equal(f->dev.kicks[0] + f->dev.kicks[1], 2);
	/* A 4-byte kick works too. */
	cwr(f, QSELECT, 2, 1);
	wr(f, CAP_NOTIFY, crd(f, QNOFF, 2) * f->notify_mult, 4, 1);
	run_main_loop();
	assert_int_equal(f->dev.kicks[1], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_size_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_addresses_64bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_outside_ram_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_driver_ok_activates_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_clears_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_generation_and_isr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kick_through_bar, setup, teardown),
	};
	return cmocka_run_group_tests_name("virtio-pci", tests, NULL, NULL);
}
