/* PCI bus 0 (vmm/pci.c): config space masks, BAR sizing and mapping onto
 * the I/O and MMIO buses, capability lists, ECAM and 0xCF8/0xCFC, the
 * firmware-style BAR assignment of pci_bus_reset and INTx sharing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/log.h"
#include "vmm/layout.h"
#include "vmm/pci.h"

#define VENDOR 0x1234
#define DEVICE 0x5678
#define CLASS  0x028000
#define REV    0x07

/* What a BAR's handler saw. */
struct probe {
	unsigned bar;
	unsigned reads, writes;
	uint64_t last_off, last_val;
	unsigned last_len;
};

static void probe_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct probe *p = opaque;
	p->reads++;
	p->last_off = off;
	p->last_len = len;
	bus_put_le(data, len, 0xb0000000u | p->bar << 16 | (uint32_t)off);
}

static void probe_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct probe *p = opaque;
	p->writes++;
	p->last_off = off;
	p->last_len = len;
	p->last_val = bus_get_le(data, len);
}

static const struct bus_ops probe_ops = { .read = probe_read, .write = probe_write };

/* IOAPIC pins as the bus drives them. */
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

struct fakedev {
	struct pci_device pci;
	struct probe probe[PCI_NUM_BARS];
	unsigned moved[PCI_NUM_BARS];
	unsigned written, last_written_off, last_written_len;
};

struct fix {
	struct bus pio, mmio;
	struct pci_bus pb;
	struct irq_rec irq;
	struct fakedev a, b, c;
};

static void bar_moved(struct pci_device *d, unsigned bar)
{
	struct fakedev *f = d->owner;
	f->moved[bar]++;
}

static void config_written(struct pci_device *d, unsigned off, unsigned len)
{
	struct fakedev *f = d->owner;
	f->written++;
	f->last_written_off = off;
	f->last_written_len = len;
}

/* BAR0 I/O 32 bytes, BAR1 MEM32 4 KiB, BAR2-3 MEM64 prefetchable 1 MiB,
 * BAR4 MEM32 prefetchable 8 KiB, BAR5 none; INTA. */
static void fakedev_init(struct fakedev *f, const char *name)
{
	pci_device_init(&f->pci, name, VENDOR, DEVICE, CLASS, REV);
	pci_set_subsystem(&f->pci, 0xaaaa, 0xbbbb);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		f->probe[i].bar = i;
	pci_set_bar(&f->pci, 0, PCI_BAR_IO, 0x20, false, &probe_ops, &f->probe[0]);
	pci_set_bar(&f->pci, 1, PCI_BAR_MEM32, 0x1000, false, &probe_ops, &f->probe[1]);
	pci_set_bar(&f->pci, 2, PCI_BAR_MEM64, 0x100000, true, &probe_ops, &f->probe[2]);
	pci_set_bar(&f->pci, 4, PCI_BAR_MEM32, 0x2000, true, &probe_ops, &f->probe[4]);
	pci_set_intx_pin(&f->pci, 1);
	f->pci.owner = f;
	f->pci.bar_moved = bar_moved;
	f->pci.config_written = config_written;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	pci_bus_init(&f->pb, &f->pio, &f->mmio, rec_irq, &f->irq);
	fakedev_init(&f->a, "a");
	fakedev_init(&f->b, "b");
	assert_int_equal(pci_bus_add(&f->pb, &f->a.pci), 1);
	assert_int_equal(pci_bus_add(&f->pb, &f->b.pci), 2);
	pci_bus_reset(&f->pb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	pci_bus_destroy(&f->pb);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	free(f);
	return 0;
}

static uint32_t cr(struct fix *f, unsigned slot, unsigned off, unsigned len)
{
	return pci_config_read(&f->pb, 0, slot, 0, off, len);
}

static void cw(struct fix *f, unsigned slot, unsigned off, unsigned len, uint32_t v)
{
	pci_config_write(&f->pb, 0, slot, 0, off, len, v);
}

static uint32_t mmio_read32(struct fix *f, uint64_t addr, bool *hit)
{
	uint8_t b[4];
	bool h = bus_read(&f->mmio, addr, b, 4);
	if (hit)
		*hit = h;
	return (uint32_t)bus_get_le(b, 4);
}

static bool mmio_hits(struct fix *f, uint64_t addr) { bool h; mmio_read32(f, addr, &h); return h; }
static bool pio_hits(struct fix *f, uint64_t port) { uint8_t b[2]; return bus_read(&f->pio, port, b, 2); }

/* ---- identity and read-only fields ---------------------------------------- */

static void test_ids_and_read_only_fields(void **state)
{
	struct fix *f = *state;
	assert_int_equal(cr(f, 1, PCI_VENDOR_ID, 4), DEVICE << 16 | VENDOR);
	assert_int_equal(cr(f, 1, PCI_DEVICE_ID, 2), DEVICE);
	assert_int_equal(cr(f, 1, PCI_REVISION_ID, 4), CLASS << 8 | REV);
	assert_int_equal(cr(f, 1, PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(cr(f, 1, PCI_SUBSYSTEM_VENDOR_ID, 4), 0xbbbbaaaa);
	assert_int_equal(cr(f, 1, PCI_INTERRUPT_PIN, 1), 1);
	/* The host bridge is slot 0. */
	assert_int_equal(cr(f, 0, PCI_VENDOR_ID, 4), 0x00081b36);
	assert_int_equal(cr(f, 0, PCI_CLASS_DEVICE, 2), 0x0600);

	for (unsigned off = 0; off < 0x10; off += 4)
		if (off != PCI_COMMAND)
			cw(f, 1, off, 4, 0xffffffff);
	cw(f, 1, PCI_SUBSYSTEM_VENDOR_ID, 4, 0);
	cw(f, 1, PCI_INTERRUPT_PIN, 1, 3);
	cw(f, 1, PCI_HEADER_TYPE, 1, 0x80);
	assert_int_equal(cr(f, 1, PCI_VENDOR_ID, 4), DEVICE << 16 | VENDOR);
	assert_int_equal(cr(f, 1, PCI_REVISION_ID, 4), CLASS << 8 | REV);
	assert_int_equal(cr(f, 1, PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(cr(f, 1, PCI_SUBSYSTEM_VENDOR_ID, 4), 0xbbbbaaaa);
	assert_int_equal(cr(f, 1, PCI_INTERRUPT_PIN, 1), 1);
	/* Interrupt line is the OS's scratch byte. */
	cw(f, 1, PCI_INTERRUPT_LINE, 1, 0x55);
	assert_int_equal(cr(f, 1, PCI_INTERRUPT_LINE, 1), 0x55);
	/* COMMAND keeps only the bits a device implements. */
	cw(f, 1, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), 0x0547);
	/* The hook saw the write. */
	assert_int_equal(f->a.last_written_off, PCI_COMMAND);
	assert_int_equal(f->a.last_written_len, 2);
}

static void test_absent_devices_read_all_ones(void **state)
{
	struct fix *f = *state;
	assert_int_equal(cr(f, 5, PCI_VENDOR_ID, 4), 0xffffffff);
	assert_int_equal(cr(f, 5, PCI_VENDOR_ID, 2), 0xffffffff);
	assert_int_equal(cr(f, 31, PCI_VENDOR_ID, 4), 0xffffffff);
	assert_int_equal(cr(f, 32, PCI_VENDOR_ID, 4), 0xffffffff);
	assert_int_equal(pci_config_read(&f->pb, 0, 1, 1, PCI_VENDOR_ID, 4), 0xffffffff);   /* fn 1 */
	assert_int_equal(pci_config_read(&f->pb, 1, 1, 0, PCI_VENDOR_ID, 4), 0xffffffff);   /* bus 1 */
	assert_int_equal(cr(f, 1, PCI_CONFIG_SIZE - 2, 4), 0xffffffff);                   /* past the end */
	assert_int_equal(cr(f, 1, PCI_CONFIG_SIZE - 4, 4), 0);                            /* extended space */
	/* Writes there go nowhere and hurt nothing. */
	pci_config_write(&f->pb, 0, 7, 0, PCI_COMMAND, 2, 0xffff);
	pci_config_write(&f->pb, 0, 1, 3, PCI_COMMAND, 2, 0);
	cw(f, 1, PCI_CONFIG_SIZE - 1, 4, 0xffffffff);
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(cr(f, 1, PCI_CONFIG_SIZE - 4, 4), 0);
}

/* ---- BARs ---------------------------------------------------------------- */

static uint32_t size_bar(struct fix *f, unsigned slot, unsigned bar)
{
	unsigned off = PCI_BAR0 + 4 * bar;
	uint32_t old = cr(f, slot, off, 4);
	cw(f, slot, off, 4, 0xffffffff);
	uint32_t v = cr(f, slot, off, 4);
	cw(f, slot, off, 4, old);
	assert_int_equal(cr(f, slot, off, 4), old);
	return v;
}

static void test_bar_sizing(void **state)
{
	struct fix *f = *state;
	cw(f, 1, PCI_COMMAND, 2, 0);                            /* as Linux does */
	unsigned ranges = f->mmio.nr + f->pio.nr;
	assert_int_equal(size_bar(f, 1, 0), 0xffffffe1);        /* I/O, 32 bytes */
	assert_int_equal(size_bar(f, 1, 1), 0xfffff000);        /* MEM32, 4 KiB */
	assert_int_equal(size_bar(f, 1, 2), 0xfff0000c);        /* MEM64 prefetchable, 1 MiB */
	assert_int_equal(size_bar(f, 1, 3), 0xffffffff);        /* its high dword */
	assert_int_equal(size_bar(f, 1, 4), 0xffffe008);        /* MEM32 prefetchable, 8 KiB */
	assert_int_equal(size_bar(f, 1, 5), 0);                 /* not implemented */
	assert_int_equal(f->mmio.nr + f->pio.nr, ranges);       /* decoding off: nothing mapped */

	/* A 64-bit BAR larger than 4 GiB: the low dword has no address bits. */
	fakedev_init(&f->c, "c");
	memset(f->c.pci.bars, 0, sizeof(f->c.pci.bars));
	pci_set_bar(&f->c.pci, 0, PCI_BAR_MEM64, 8 * GiB, false, &probe_ops, &f->c.probe[0]);
	assert_int_equal(pci_bus_add(&f->pb, &f->c.pci), 3);
	enum log_level lvl = log_get_level();
	log_set_level(LOG_ERROR);                               /* "no room for BAR0" */
	pci_bus_reset(&f->pb);
	log_set_level(lvl);
	cw(f, 3, PCI_COMMAND, 2, 0);
	assert_int_equal(size_bar(f, 3, 0), 0x00000004);
	assert_int_equal(size_bar(f, 3, 1), 0xfffffffe);
}

/* Places device A's BARs explicitly with decoding off. */
static void place_a(struct fix *f)
{
	cw(f, 1, PCI_COMMAND, 2, 0);
	cw(f, 1, PCI_BAR0, 4, 0xd000);
	cw(f, 1, PCI_BAR0 + 4, 4, 0xe2000000);
	cw(f, 1, PCI_BAR0 + 8, 4, 0);
	cw(f, 1, PCI_BAR0 + 12, 4, 1);                          /* 4 GiB */
	cw(f, 1, PCI_BAR0 + 16, 4, 0xe2100000);
	memset(f->a.probe, 0, sizeof(f->a.probe));
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		f->a.probe[i].bar = i;
}

static void test_bars_mapped_only_while_decoding(void **state)
{
	struct fix *f = *state;
	cw(f, 2, PCI_COMMAND, 2, 0);                            /* B out of the way */
	place_a(f);
	assert_int_equal(f->mmio.nr, 0);
	assert_int_equal(f->pio.nr, 0);
	assert_false(mmio_hits(f, 0xe2000000));
	assert_false(pio_hits(f, 0xd000));
	assert_false(f->a.pci.bars[1].mapped);

	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(f->mmio.nr, 3);
	assert_int_equal(mmio_read32(f, 0xe2000010, NULL), 0xb0010010);
	assert_int_equal(f->a.probe[1].reads, 1);
	assert_int_equal(f->a.probe[1].last_off, 0x10);
	assert_int_equal(mmio_read32(f, 0x100000000ull + 0xfff00, NULL), 0xb00fff00 | 2 << 16);
	assert_int_equal(f->a.probe[2].last_off, 0xfff00);
	assert_true(mmio_hits(f, 0xe2101ffc));
	assert_int_equal(f->a.probe[4].last_off, 0x1ffc);
	assert_false(mmio_hits(f, 0xe2102000));                 /* just past BAR4 */
	assert_false(pio_hits(f, 0xd000));                      /* I/O still off */
	assert_true(f->a.pci.bars[1].mapped);
	assert_int_equal(f->a.pci.bars[1].mapped_at, 0xe2000000);
	assert_int_equal(f->a.pci.bars[2].mapped_at, 0x100000000ull);

	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(f->mmio.nr, 0);
	assert_false(mmio_hits(f, 0xe2000000));
	uint8_t b[2];
	assert_true(bus_read(&f->pio, 0xd01e, b, 2));
	assert_int_equal(f->a.probe[0].last_off, 0x1e);
	uint32_t v = 0x1234;
	assert_true(bus_write(&f->pio, 0xd004, &v, 2));
	assert_int_equal(f->a.probe[0].writes, 1);
	assert_int_equal(f->a.probe[0].last_val, 0x1234);
	assert_false(pio_hits(f, 0xd020));

	cw(f, 1, PCI_COMMAND, 2, 0);
	assert_int_equal(f->mmio.nr + f->pio.nr, 0);
}

static void test_bar_moves(void **state)
{
	struct fix *f = *state;
	cw(f, 2, PCI_COMMAND, 2, 0);
	place_a(f);
	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	memset(f->a.moved, 0, sizeof(f->a.moved));
	uint64_t unhandled = f->mmio.unhandled;

	cw(f, 1, PCI_BAR0 + 4, 4, 0xe3000000);
	assert_int_equal(f->a.moved[1], 1);
	assert_false(mmio_hits(f, 0xe2000000));
	assert_int_equal(f->mmio.unhandled, unhandled + 1);
	assert_int_equal(f->a.probe[1].reads, 0);
	assert_true(mmio_hits(f, 0xe3000008));
	assert_int_equal(f->a.probe[1].reads, 1);
	assert_int_equal(f->a.probe[1].last_off, 8);
	assert_int_equal(f->a.pci.bars[1].mapped_at, 0xe3000000);
	/* Writing the same address again changes nothing. */
	cw(f, 1, PCI_BAR0 + 4, 4, 0xe3000000);
	assert_int_equal(f->a.moved[1], 1);
	assert_int_equal(f->mmio.nr, 3);

	/* The high dword of a 64-bit BAR moves it too. */
	cw(f, 1, PCI_BAR0 + 12, 4, 2);
	assert_false(mmio_hits(f, 0x100000000ull));
	assert_true(mmio_hits(f, 0x200000000ull + 0x40));
	assert_int_equal(f->a.probe[2].last_off, 0x40);

	/* And the I/O BAR. */
	cw(f, 1, PCI_BAR0, 4, 0xd100);
	assert_int_equal(f->a.moved[0], 1);
	assert_false(pio_hits(f, 0xd000));
	assert_true(pio_hits(f, 0xd100));
	assert_int_equal(cr(f, 1, PCI_BAR0, 4), 0xd101);        /* type bit kept */
}

static void test_bar_at_zero_or_overlapping_stays_unmapped(void **state)
{
	struct fix *f = *state;
	cw(f, 2, PCI_COMMAND, 2, 0);
	place_a(f);
	cw(f, 1, PCI_BAR0 + 4, 4, 0);
	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_false(f->a.pci.bars[1].mapped);
	assert_false(mmio_hits(f, 0));
	assert_int_equal(f->mmio.nr, 2);                        /* BAR2 and BAR4 only */

	/* B's BAR4 (8 KiB) over A's BAR1 (4 KiB at 0xe2001000). */
	cw(f, 1, PCI_BAR0 + 4, 4, 0xe2001000);
	assert_true(f->a.pci.bars[1].mapped);
	cw(f, 2, PCI_BAR0 + 16, 4, 0xe2000000);
	cw(f, 2, PCI_BAR0 + 4, 4, 0xe2001000);                  /* B's BAR1 exactly on A's */
	cw(f, 2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_false(f->b.pci.bars[4].mapped);
	assert_false(f->b.pci.bars[1].mapped);
	assert_true(f->b.pci.bars[2].mapped);                   /* reset put it elsewhere */
	assert_true(mmio_hits(f, 0xe2001000));
	assert_int_equal(f->a.probe[1].reads, 1);               /* A answers, not B */
	assert_int_equal(f->b.probe[1].reads + f->b.probe[4].reads, 0);
	assert_false(mmio_hits(f, 0xe2000000));                 /* B's BAR4 is not half-mapped */

	/* I/O: B's BAR0 on A's. */
	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_IO);
	cw(f, 2, PCI_BAR0, 4, 0xd010);                          /* the size masks it to 0xd000 */
	assert_int_equal(cr(f, 2, PCI_BAR0, 4), 0xd001);
	cw(f, 2, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_false(f->b.pci.bars[0].mapped);
	assert_true(pio_hits(f, 0xd010));
	assert_int_equal(f->a.probe[0].reads, 1);

	/* The top of the I/O space is fine, past it is not. */
	cw(f, 2, PCI_BAR0, 4, 0xffe0);
	assert_true(f->b.pci.bars[0].mapped);
	cw(f, 2, PCI_BAR0, 4, 0x10000);
	assert_false(f->b.pci.bars[0].mapped);
	assert_false(pio_hits(f, 0xffe0));
}

/* Sizing with decoding on (firmware does that) must not map the BAR at the
 * all-ones pattern: pci.c's own rule is "0 and the all-ones sizing pattern
 * are not addresses". */
static void test_sizing_pattern_never_mapped(void **state)
{
	struct fix *f = *state;
	cw(f, 1, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	for (unsigned bar = 0; bar < 5; bar++) {
		if (bar == 3)
			continue;
		unsigned off = PCI_BAR0 + 4 * bar;
		cw(f, 1, off, 4, 0xffffffff);
		if (f->a.pci.bars[bar].mapped)
			printf("BAR%u sizing pattern mapped at %#llx\n", bar,
			       (unsigned long long)f->a.pci.bars[bar].mapped_at);
		assert_false(f->a.pci.bars[bar].mapped);
	}
	cw(f, 1, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_false(f->a.pci.bars[2].mapped);
	assert_false(mmio_hits(f, 0xfffff000));
	assert_false(mmio_hits(f, 0xffffe000));
}

/* ---- status and capabilities --------------------------------------------- */

static void test_status_w1c(void **state)
{
	struct fix *f = *state;
	struct pci_device *d = &f->a.pci;
	pci_put16(d->config + PCI_STATUS, 0xf900 | PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	cw(f, 1, PCI_STATUS, 2, 0);
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), 0xf918);
	cw(f, 1, PCI_STATUS, 2, 0x8000);
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), 0x7918);
	cw(f, 1, PCI_STATUS, 1, 0xff);                          /* low byte: nothing W1C there */
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), 0x7918);
	cw(f, 1, PCI_STATUS + 1, 1, 0x01);                      /* bit 8 by a byte write */
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), 0x7818);
	/* A dword write to COMMAND+STATUS clears what is set in the high half. */
	cw(f, 1, PCI_COMMAND, 4, 0xffff0000 | PCI_COMMAND_MEMORY);
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
}

static void test_capability_list(void **state)
{
	struct fix *f = *state;
	fakedev_init(&f->c, "c");
	assert_int_equal(cr(f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	unsigned c1 = pci_add_capability(&f->c.pci, PCI_CAP_ID_VNDR, 6);
	unsigned c2 = pci_add_capability(&f->c.pci, PCI_CAP_ID_MSIX, 12);
	unsigned c3 = pci_add_capability(&f->c.pci, PCI_CAP_ID_VNDR, 20);
	assert_int_equal(c1, 0x40);
	assert_int_equal(c2, 0x48);                             /* dword-aligned after 6 bytes */
	assert_int_equal(c3, 0x54);
	assert_int_equal(pci_bus_add(&f->pb, &f->c.pci), 3);
	assert_true(cr(f, 3, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	static const struct { unsigned off, id; } want[] = { { 0x54, 0x09 }, { 0x48, 0x11 }, { 0x40, 0x09 } };
	unsigned p = cr(f, 3, PCI_CAPABILITY_LIST, 1), n = 0;
	while (p && n < 10) {
		assert_true(n < 3);
		assert_int_equal(p, want[n].off);
		assert_int_equal(p & 3, 0);
		assert_int_equal(cr(f, 3, p, 1), want[n].id);
		p = cr(f, 3, p + 1, 1);
		n++;
	}
	assert_int_equal(n, 3);
	/* The list is read-only. */
	cw(f, 3, PCI_CAPABILITY_LIST, 1, 0x80);
	cw(f, 3, 0x54, 2, 0xffff);
	assert_int_equal(cr(f, 3, PCI_CAPABILITY_LIST, 1), 0x54);
	assert_int_equal(cr(f, 3, 0x54, 2), 0x4809);
}

/* config_reading lets a device compute a register just before it is read. */
static void reading_hook(struct pci_device *d, unsigned off, unsigned len)
{
	if (off <= 0x60 && off + len > 0x60)
		d->config[0x60]++;
}

static void test_config_reading_hook(void **state)
{
	struct fix *f = *state;
	f->a.pci.config_reading = reading_hook;
	assert_int_equal(cr(f, 1, 0x60, 1), 1);
	assert_int_equal(cr(f, 1, 0x60, 4), 2);
	assert_int_equal(cr(f, 1, 0x64, 4), 0);
	assert_int_equal(cr(f, 1, 0x60, 1), 3);
}

/* ---- ECAM and configuration mechanism #1 ------------------------------------ */

static uint64_t ecam(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return LAYOUT_PCI_ECAM + ((uint64_t)bus << 20 | dev << 15 | fn << 12 | reg);
}

static uint64_t mmio_read(struct fix *f, uint64_t addr, unsigned len)
{
	uint8_t b[8];
	assert_true(bus_read(&f->mmio, addr, b, len));
	return bus_get_le(b, len);
}

static void mmio_write(struct fix *f, uint64_t addr, unsigned len, uint64_t v)
{
	uint8_t b[8];
	bus_put_le(b, len, v);
	assert_true(bus_write(&f->mmio, addr, b, len));
}

static void test_ecam(void **state)
{
	struct fix *f = *state;
	assert_int_equal(bus_register(&f->mmio, LAYOUT_PCI_ECAM, LAYOUT_PCI_ECAM_SIZE, &pci_ecam_ops, &f->pb,
				      "ecam"), 0);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 0), 4), DEVICE << 16 | VENDOR);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 2), 2), DEVICE);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 8), 1), REV);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 0xb), 1), CLASS >> 16);
	assert_int_equal(mmio_read(f, ecam(0, 0, 0, 0), 4), 0x00081b36);
	assert_int_equal(mmio_read(f, ecam(0, 2, 0, 0x3d), 1), 1);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 0xffc), 4), 0);  /* extended space */
	/* Absent: other buses, functions and slots. */
	assert_int_equal(mmio_read(f, ecam(1, 1, 0, 0), 4), 0xffffffff);
	assert_int_equal(mmio_read(f, ecam(15, 1, 0, 0), 4), 0xffffffff);
	assert_int_equal(mmio_read(f, ecam(0, 1, 1, 0), 4), 0xffffffff);
	assert_int_equal(mmio_read(f, ecam(0, 1, 7, 0), 2), 0xffff);
	assert_int_equal(mmio_read(f, ecam(0, 31, 0, 0), 4), 0xffffffff);
	/* Unaligned and 64-bit accesses are not config accesses. */
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 1), 2), 0xffff);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 2), 4), 0xffffffff);
	assert_int_equal(mmio_read(f, ecam(0, 1, 0, 0), 8), ~0ull);
	/* Writes land in the right device and register. */
	mmio_write(f, ecam(0, 2, 0, PCI_INTERRUPT_LINE), 1, 0x42);
	assert_int_equal(cr(f, 2, PCI_INTERRUPT_LINE, 1), 0x42);
	assert_int_equal(cr(f, 1, PCI_INTERRUPT_LINE, 1), pci_intx_gsi(1, 1));
	mmio_write(f, ecam(0, 1, 0, PCI_COMMAND), 2, 0);
	assert_false(f->a.pci.bars[1].mapped);
	mmio_write(f, ecam(0, 1, 0, PCI_COMMAND + 1), 2, 0xffff);    /* unaligned: dropped */
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), 0);
	mmio_write(f, ecam(0, 1, 0, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	assert_true(f->a.pci.bars[1].mapped);
	mmio_write(f, ecam(1, 1, 0, PCI_COMMAND), 2, 0);             /* bus 1: nobody */
	assert_true(f->a.pci.bars[1].mapped);
}

static uint32_t pio_read(struct fix *f, uint64_t port, unsigned len)
{
	uint8_t b[4];
	bus_read(&f->pio, port, b, len);
	return (uint32_t)bus_get_le(b, len);
}

static void pio_write(struct fix *f, uint64_t port, unsigned len, uint32_t v)
{
	uint8_t b[4];
	bus_put_le(b, len, v);
	assert_true(bus_write(&f->pio, port, b, len));
}

static uint32_t cf8(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg;
}

static void test_cf8_cfc(void **state)
{
	struct fix *f = *state;
	/* Registered as the VM registers them (0xCF9 is the reset register). */
	assert_int_equal(bus_register(&f->pio, PORT_PCI_CONF_ADDR, 1, &pci_conf_addr_ops, &f->pb, "a"), 0);
	assert_int_equal(bus_register(&f->pio, PORT_PCI_CONF_DATA, 4, &pci_conf_data_ops, &f->pb, "d"), 0);

	pio_write(f, 0xcf8, 4, cf8(0, 1, 0, 0));
	assert_int_equal(pio_read(f, 0xcf8, 4), cf8(0, 1, 0, 0));
	assert_int_equal(pio_read(f, 0xcfc, 4), DEVICE << 16 | VENDOR);
	assert_int_equal(pio_read(f, 0xcfe, 2), DEVICE);
	assert_int_equal(pio_read(f, 0xcfd, 1), VENDOR >> 8);
	assert_int_equal(pio_read(f, 0xcff, 1), DEVICE >> 8);
	assert_int_equal(pio_read(f, 0xcfe, 4), 0xffffffff);   /* runs past the data port */
	pio_write(f, 0xcf8, 4, cf8(0, 1, 0, 8));
	assert_int_equal(pio_read(f, 0xcfc, 4), CLASS << 8 | REV);
	pio_write(f, 0xcf8, 4, cf8(0, 0, 0, 0));
	assert_int_equal(pio_read(f, 0xcfc, 4), 0x00081b36);
	/* The two low bits of the address register are not kept. */
	pio_write(f, 0xcf8, 4, cf8(0, 2, 0, 0x3c) | 3);
	assert_int_equal(pio_read(f, 0xcf8, 4), cf8(0, 2, 0, 0x3c));
	assert_int_equal(pio_read(f, 0xcfd, 1), 1);             /* interrupt pin */
	/* Byte accesses to 0xCF8 are not the address register. */
	assert_int_equal(pio_read(f, 0xcf8, 1), 0xff);
	pio_write(f, 0xcf8, 1, 0);
	assert_int_equal(pio_read(f, 0xcf8, 4), cf8(0, 2, 0, 0x3c));
	/* Absent bus, function and slot. */
	pio_write(f, 0xcf8, 4, cf8(1, 1, 0, 0));
	assert_int_equal(pio_read(f, 0xcfc, 4), 0xffffffff);
	pio_write(f, 0xcf8, 4, cf8(0, 1, 2, 0));
	assert_int_equal(pio_read(f, 0xcfc, 4), 0xffffffff);
	pio_write(f, 0xcf8, 4, cf8(0, 9, 0, 0));
	assert_int_equal(pio_read(f, 0xcfc, 2), 0xffff);
	/* Enable bit clear: no config cycle at all. */
	pio_write(f, 0xcf8, 4, cf8(0, 1, 0, 0) & 0x7fffffff);
	assert_int_equal(pio_read(f, 0xcfc, 4), 0xffffffff);
	pio_write(f, 0xcf8, 4, cf8(0, 1, 0, PCI_COMMAND) & 0x7fffffff);
	pio_write(f, 0xcfc, 2, 0);
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	/* Writes: byte offsets into the data port pick the register. */
	pio_write(f, 0xcf8, 4, cf8(0, 1, 0, PCI_COMMAND));
	pio_write(f, 0xcfc, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(cr(f, 1, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	assert_false(f->a.pci.bars[0].mapped);
	assert_true(f->a.pci.bars[1].mapped);
	pci_put16(f->a.pci.config + PCI_STATUS, 0x8000 | PCI_STATUS_CAP_LIST);
	pio_write(f, 0xcfe, 2, 0x8000);                         /* STATUS is 0x06 */
	assert_int_equal(cr(f, 1, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	pio_write(f, 0xcf8, 4, cf8(0, 2, 0, PCI_INTERRUPT_LINE));
	pio_write(f, 0xcfc, 1, 0x33);
	pio_write(f, 0xcfd, 1, 4);                              /* pin: read-only */
	assert_int_equal(cr(f, 2, PCI_INTERRUPT_LINE, 2), 0x0133);
	/* A reset forgets the latch. */
	pci_bus_reset(&f->pb);
	assert_int_equal(pio_read(f, 0xcf8, 4), 0);
}

/* ---- firmware-style assignment -------------------------------------------- */

static void check_assigned(struct fix *f, struct fakedev *d, unsigned slot)
{
	uint16_t want_cmd = 0;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &d->pci.bars[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		uint32_t lo = cr(f, slot, PCI_BAR0 + 4 * i, 4);
		uint64_t addr = lo & ~(b->kind == PCI_BAR_IO ? 3u : 15u);
		if (b->kind == PCI_BAR_MEM64)
			addr |= (uint64_t)cr(f, slot, PCI_BAR0 + 4 * i + 4, 4) << 32;
		assert_int_equal(addr & (b->size - 1), 0);
		if (b->kind == PCI_BAR_IO) {
			assert_int_equal(lo & 3, 1);
			assert_true(addr >= 0xc000 && addr + b->size <= 0x10000);
			assert_true(pio_hits(f, addr + b->size - 2));
			want_cmd |= PCI_COMMAND_IO;
		} else {
			assert_true(addr >= LAYOUT_PCI_MMIO32 && addr + b->size <= LAYOUT_PCI_MMIO32_END);
			assert_true(mmio_hits(f, addr + b->size - 4));
			assert_int_equal(d->probe[i].last_off, b->size - 4);
			want_cmd |= PCI_COMMAND_MEMORY;
		}
		assert_true(b->mapped);
		assert_int_equal(b->mapped_at, addr);
	}
	assert_int_equal(cr(f, slot, PCI_COMMAND, 2), want_cmd);
	assert_int_equal(cr(f, slot, PCI_INTERRUPT_LINE, 1), pci_intx_gsi(slot, 1));
}

static void test_bus_reset_assigns_bars(void **state)
{
	struct fix *f = *state;
	check_assigned(f, &f->a, 1);
	check_assigned(f, &f->b, 2);
	assert_int_equal(f->mmio.nr, 6);
	assert_int_equal(f->pio.nr, 2);
	/* The first I/O BAR goes at 0xC000; the ranges do not overlap (the bus
	 * would have refused), and the two devices got different places. */
	assert_int_equal(f->a.pci.bars[0].mapped_at, 0xc000);
	assert_int_not_equal(f->a.pci.bars[1].mapped_at, f->b.pci.bars[1].mapped_at);

	/* The guest moves things around; a reset puts them back exactly. */
	uint64_t a1 = f->a.pci.bars[1].mapped_at;
	cw(f, 1, PCI_BAR0 + 4, 4, 0xfd000000);
	cw(f, 2, PCI_COMMAND, 2, 0);
	cw(f, 1, PCI_INTERRUPT_LINE, 1, 0);
	pci_bus_reset(&f->pb);
	assert_false(mmio_hits(f, 0xfd000000));
	assert_int_equal(f->a.pci.bars[1].mapped_at, a1);
	check_assigned(f, &f->a, 1);
	check_assigned(f, &f->b, 2);

	/* A BAR that does not fit in the window is left unassigned and the
	 * device's memory decoding off. */
	fakedev_init(&f->c, "c");
	memset(f->c.pci.bars, 0, sizeof(f->c.pci.bars));
	pci_set_bar(&f->c.pci, 0, PCI_BAR_MEM64, 8 * GiB, false, &probe_ops, &f->c.probe[0]);
	pci_set_bar(&f->c.pci, 2, PCI_BAR_IO, 0x100, false, &probe_ops, &f->c.probe[2]);
	assert_int_equal(pci_bus_add(&f->pb, &f->c.pci), 3);
	enum log_level lvl = log_get_level();
	log_set_level(LOG_ERROR);
	pci_bus_reset(&f->pb);
	log_set_level(lvl);
	assert_false(f->c.pci.bars[0].mapped);
	assert_int_equal(cr(f, 3, PCI_BAR0, 4), 0x4);
	assert_int_equal(cr(f, 3, PCI_COMMAND, 2), PCI_COMMAND_IO);
	assert_true(f->c.pci.bars[2].mapped);
	assert_int_equal(f->c.pci.bars[2].mapped_at & 0xff, 0);
	check_assigned(f, &f->a, 1);
	check_assigned(f, &f->b, 2);
}

/* ---- INTx ------------------------------------------------------------------ */

static void test_intx_swizzle(void **state)
{
	static const struct { unsigned slot, pin, gsi; } t[] = {
		{ 0, 1, 16 }, { 1, 1, 17 }, { 1, 2, 18 }, { 1, 4, 20 }, { 2, 1, 18 }, { 4, 4, 23 },
		{ 5, 4, 16 }, { 7, 2, 16 }, { 8, 1, 16 }, { 9, 3, 19 }, { 31, 4, 18 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(pci_intx_gsi(t[i].slot, t[i].pin), t[i].gsi);
	/* Every slot's four pins reach four different links. */
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		for (unsigned p = 1; p <= 4; p++)
			for (unsigned q = p + 1; q <= 4; q++)
				assert_int_not_equal(pci_intx_gsi(s, p), pci_intx_gsi(s, q));
}

/* A at slot 1 pin INTB and B at slot 2 pin INTA share GSI 18. */
static void test_intx_shared_link(void **state)
{
	struct fix *f = *state;
	pci_set_intx_pin(&f->a.pci, 2);
	assert_int_equal(pci_intx_gsi(1, 2), 18);
	assert_int_equal(pci_intx_gsi(2, 1), 18);
	f->irq.events = 0;

	pci_set_intx(&f->a.pci, true);
	assert_int_equal(f->irq.level[18], 1);
	assert_int_equal(f->irq.events, 1);
	assert_true(cr(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&f->b.pci, true);
	assert_int_equal(f->irq.level[18], 1);
	pci_set_intx(&f->a.pci, false);
	assert_int_equal(f->irq.level[18], 1);                  /* B still asserts */
	assert_false(cr(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_true(cr(f, 2, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&f->a.pci, false);                         /* idempotent */
	assert_int_equal(f->irq.level[18], 1);
	pci_set_intx(&f->b.pci, false);
	assert_int_equal(f->irq.level[18], 0);
	pci_set_intx(&f->b.pci, true);
	pci_set_intx(&f->b.pci, true);                          /* no double count */
	pci_set_intx(&f->b.pci, false);
	assert_int_equal(f->irq.level[18], 0);
	assert_int_equal(f->irq.level[17], 0);
	for (unsigned g = 0; g < 64; g++)
		if (g != 18)
			assert_int_equal(f->irq.level[g], 0);
	/* A reset deasserts. */
	pci_set_intx(&f->a.pci, true);
	pci_bus_reset(&f->pb);
	assert_int_equal(f->irq.level[18], 0);
	assert_int_equal(f->pb.intx_count[2], 0);
}

static void test_intx_disable(void **state)
{
	struct fix *f = *state;
	uint16_t cmd = (uint16_t)cr(f, 1, PCI_COMMAND, 2);
	pci_set_intx(&f->a.pci, true);
	assert_int_equal(f->irq.level[17], 1);
	cw(f, 1, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(f->irq.level[17], 0);
	assert_true(cr(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);   /* still pending */
	pci_set_intx(&f->a.pci, false);
	pci_set_intx(&f->a.pci, true);
	assert_int_equal(f->irq.level[17], 0);
	cw(f, 1, PCI_COMMAND, 2, cmd);
	assert_int_equal(f->irq.level[17], 1);
	/* Deasserting while disabled, then enabling: nothing comes back. */
	cw(f, 1, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	pci_set_intx(&f->a.pci, false);
	cw(f, 1, PCI_COMMAND, 2, cmd);
	assert_int_equal(f->irq.level[17], 0);
	assert_int_equal(f->pb.intx_count[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_and_read_only_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_devices_read_all_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bars_mapped_only_while_decoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_at_zero_or_overlapping_stays_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizing_pattern_never_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_reading_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecam, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cf8_cfc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_reset_assigns_bars, setup, teardown),
		cmocka_unit_test(test_intx_swizzle),
		cmocka_unit_test_setup_teardown(test_intx_shared_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_disable, setup, teardown),
	};
	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
