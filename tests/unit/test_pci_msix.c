/* MSI-X (vmm/pci_msix.c): the capability, the vector table at every access
 * width, the PBA, per-vector and function masking, and delivery through the
 * vector's irqfd (an eventfd: tests read it back).  The GSI router has no
 * KVM VM (vm_fd -1), so routing is recorded but never committed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/pci_msix.h"

#define NVEC      4
#define MSIX_BAR  2
#define TABLE_OFF 0x000
#define PBA_OFF   0x800
#define CTRL_ENABLE  0x8000
#define CTRL_MASKALL 0x4000

struct fix {
	struct bus pio, mmio;
	struct pci_bus pb;
	struct irq_router router;
	struct pci_device dev;
	struct msix m;
	unsigned slot;
	uint64_t bar;            /* where pci_bus_reset put the MSI-X BAR */
};

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	msix_bar_read(&((struct fix *)opaque)->m, off, data, len);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	msix_bar_write(&((struct fix *)opaque)->m, off, data, len);
}

static const struct bus_ops msix_ops = { .read = bar_read, .write = bar_write };

static void config_written(struct pci_device *d, unsigned off, unsigned len)
{
	struct fix *f = d->owner;
	msix_config_written(&f->m, off, len);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	pci_bus_init(&f->pb, &f->pio, &f->mmio, NULL, NULL);
	irq_router_init(&f->router);
	pci_device_init(&f->dev, "msix-dev", 0x1234, 0x0001, 0xff0000, 0);
	pci_set_bar(&f->dev, MSIX_BAR, PCI_BAR_MEM32, 0x1000, false, &msix_ops, f);
	f->dev.owner = f;
	f->dev.config_written = config_written;
	struct error err = { "" };
	assert_int_equal(msix_init(&f->m, &f->dev, &f->router, NVEC, MSIX_BAR, TABLE_OFF, PBA_OFF, &err), 0);
	f->slot = (unsigned)pci_bus_add(&f->pb, &f->dev);
	pci_bus_reset(&f->pb);
	assert_true(f->dev.bars[MSIX_BAR].mapped);
	f->bar = f->dev.bars[MSIX_BAR].mapped_at;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	msix_destroy(&f->m);
	irq_router_destroy(&f->router);
	pci_bus_destroy(&f->pb);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	free(f);
	return 0;
}

static uint32_t cr(struct fix *f, unsigned off, unsigned len)
{
	return pci_config_read(&f->pb, 0, f->slot, 0, off, len);
}

static void cw(struct fix *f, unsigned off, unsigned len, uint32_t v)
{
	pci_config_write(&f->pb, 0, f->slot, 0, off, len, v);
}

static unsigned find_msix_cap(struct fix *f)
{
	unsigned p = cr(f, PCI_CAPABILITY_LIST, 1);
	for (unsigned n = 0; p && n < 48; n++, p = cr(f, p + 1, 1))
		if (cr(f, p, 1) == PCI_CAP_ID_MSIX)
			return p;
	fail_msg("no MSI-X capability");
	return 0;
}

static void set_control(struct fix *f, uint16_t v)
{
	cw(f, find_msix_cap(f) + 2, 2, v);
}

/* Table and PBA through the BAR as the guest reaches it (the MMIO bus). */
static uint64_t tr(struct fix *f, uint64_t off, unsigned len)
{
	uint8_t b[8];
	assert_true(bus_read(&f->mmio, f->bar + off, b, len));
	return bus_get_le(b, len);
}

static void tw(struct fix *f, uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];
	bus_put_le(b, len, v);
	assert_true(bus_write(&f->mmio, f->bar + off, b, len));
}

static uint64_t entry(unsigned v, unsigned word) { return TABLE_OFF + 16ull * v + 4 * word; }

static void program(struct fix *f, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	tw(f, entry(v, 0), 8, addr);
	tw(f, entry(v, 2), 4, data);
	tw(f, entry(v, 3), 4, masked ? 1 : 0);
}

/* The eventfd's counter (and resets it), or -1 with errno EAGAIN if 0. */
static int64_t irqfd_count(struct fix *f, unsigned v)
{
	uint64_t n;
	ssize_t r = read(f->m.irqfd[v], &n, sizeof(n));
	if (r < 0)
		return -errno;
	assert_int_equal(r, 8);
	return (int64_t)n;
}

static const typeof(((struct irq_router *)0)->msi[0]) *route(struct fix *f, unsigned v)
{
	return &f->router.msi[f->m.gsi[v] - IRQ_ROUTER_FIRST_MSI];
}

static void test_capability(void **state)
{
	struct fix *f = *state;
	unsigned c = find_msix_cap(f);
	assert_int_equal(c & 3, 0);
	assert_int_equal(cr(f, c + 2, 2), NVEC - 1);             /* table size - 1, disabled */
	assert_int_equal(cr(f, c + 4, 4), TABLE_OFF | MSIX_BAR);
	assert_int_equal(cr(f, c + 8, 4), PBA_OFF | MSIX_BAR);
	assert_true(cr(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* Only enable and function mask are writable. */
	cw(f, c + 2, 2, 0xffff);
	assert_int_equal(cr(f, c + 2, 2), CTRL_ENABLE | CTRL_MASKALL | (NVEC - 1));
	cw(f, c + 4, 4, 0xfffffff0);
	cw(f, c + 8, 4, 0);
	cw(f, c, 2, 0);
	assert_int_equal(cr(f, c + 4, 4), TABLE_OFF | MSIX_BAR);
	assert_int_equal(cr(f, c + 8, 4), PBA_OFF | MSIX_BAR);
	assert_int_equal(cr(f, c, 1), PCI_CAP_ID_MSIX);
	assert_true(msix_enabled(&f->m));
	/* One GSI and one eventfd per vector, all different. */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(f->m.gsi[v], IRQ_ROUTER_FIRST_MSI + v);
		assert_true(f->m.irqfd[v] >= 0);
		for (unsigned w = 0; w < v; w++)
			assert_int_not_equal(f->m.irqfd[v], f->m.irqfd[w]);
	}
}

static void test_reset_state(void **state)
{
	struct fix *f = *state;
	assert_false(msix_enabled(&f->m));
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(tr(f, entry(v, 0), 8), 0);
		assert_int_equal(tr(f, entry(v, 2), 4), 0);
		assert_int_equal(tr(f, entry(v, 3), 4), 1);      /* masked */
	}
	assert_int_equal(tr(f, PBA_OFF, 8), 0);

	/* Dirty everything, then reset again. */
	set_control(f, CTRL_ENABLE | CTRL_MASKALL);
	for (unsigned v = 0; v < NVEC; v++)
		program(f, v, 0xfee00000 + v, 0x40 + v, v & 1);
	msix_notify(&f->m, 0);
	msix_notify(&f->m, 1);
	assert_int_equal(tr(f, PBA_OFF, 8), 3);
	msix_reset(&f->m);
	assert_false(msix_enabled(&f->m));
	assert_int_equal(cr(f, find_msix_cap(f) + 2, 2), NVEC - 1);
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(tr(f, entry(v, 0), 8), 0);
		assert_int_equal(tr(f, entry(v, 2), 4), 0);
		assert_int_equal(tr(f, entry(v, 3), 4), 1);
		assert_int_equal(irqfd_count(f, v), -EAGAIN);
	}
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
}

static void test_table_access_widths(void **state)
{
	struct fix *f = *state;
	/* dword */
	tw(f, entry(1, 0), 4, 0xfee01000);
	/* bytes */
	static const uint8_t hi[4] = { 0x78, 0x56, 0x34, 0x12 };
	for (unsigned i = 0; i < 4; i++)
		tw(f, entry(1, 1) + i, 1, hi[i]);
	/* words */
	tw(f, entry(1, 2), 2, 0x4021);
	tw(f, entry(1, 2) + 2, 2, 0xbeef);
	assert_int_equal(tr(f, entry(1, 0), 4), 0xfee01000);
	assert_int_equal(tr(f, entry(1, 1), 4), 0x12345678);
	assert_int_equal(tr(f, entry(1, 0), 8), 0x12345678fee01000ull);
	assert_int_equal(tr(f, entry(1, 2), 4), 0xbeef4021);
	assert_int_equal(tr(f, entry(1, 2) + 1, 2), 0xef40);
	assert_int_equal(tr(f, entry(1, 3), 1), 1);
	assert_int_equal(f->m.table[1][0], 0xfee01000);
	assert_int_equal(f->m.table[1][1], 0x12345678);
	assert_int_equal(f->m.table[1][2], 0xbeef4021);
	/* A qword across data and control. */
	tw(f, entry(2, 2), 8, 0x0000000100000055ull);
	assert_int_equal(f->m.table[2][2], 0x55);
	assert_int_equal(f->m.table[2][3], 1);
	/* Neighbours untouched. */
	assert_int_equal(tr(f, entry(0, 0), 8), 0);
	assert_int_equal(tr(f, entry(2, 0), 8), 0);
	/* Past the table (4 vectors = 64 bytes) and between table and PBA:
	 * reads 0, writes go nowhere. */
	tw(f, entry(NVEC, 0), 4, 0xffffffff);
	tw(f, 0x400, 8, ~0ull);
	assert_int_equal(tr(f, entry(NVEC, 0), 4), 0);
	assert_int_equal(tr(f, 0x400, 8), 0);
	/* The PBA is read-only. */
	tw(f, PBA_OFF, 8, ~0ull);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	assert_int_equal(f->m.pending, 0);
}

static void test_masked_vector_pends_then_fires_on_unmask(void **state)
{
	struct fix *f = *state;
	set_control(f, CTRL_ENABLE);
	program(f, 2, 0xfee02000, 0x4062, true);
	msix_notify(&f->m, 2);
	assert_int_equal(tr(f, PBA_OFF, 8), 1u << 2);
	assert_int_equal(tr(f, PBA_OFF, 1), 1u << 2);
	assert_int_equal(irqfd_count(f, 2), -EAGAIN);
	assert_int_equal(f->m.held, 1);
	assert_int_equal(f->m.delivered, 0);
	assert_false(route(f, 2)->valid);                        /* not routed before use */

	tw(f, entry(2, 3), 4, 0);                                /* unmask */
	assert_int_equal(irqfd_count(f, 2), 1);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	assert_int_equal(f->m.delivered, 1);
	assert_true(route(f, 2)->valid);
	assert_int_equal(route(f, 2)->address, 0xfee02000);
	assert_int_equal(route(f, 2)->data, 0x4062);
	assert_int_equal(f->router.commits, 0);                  /* no KVM VM: nothing committed */
	for (unsigned v = 0; v < NVEC; v++)
		if (v != 2)
			assert_int_equal(irqfd_count(f, v), -EAGAIN);

	/* Unmasked now: straight through, with the message as it is now. */
	tw(f, entry(2, 2), 4, 0x4063);
	msix_notify(&f->m, 2);
	msix_notify(&f->m, 2);
	assert_int_equal(irqfd_count(f, 2), 2);
	assert_int_equal(route(f, 2)->data, 0x4063);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	/* Masking again holds the next one. */
	tw(f, entry(2, 3), 4, 1);
	msix_notify(&f->m, 2);
	assert_int_equal(irqfd_count(f, 2), -EAGAIN);
	assert_int_equal(tr(f, PBA_OFF, 8), 1u << 2);
	/* A write to another vector does not release it. */
	tw(f, entry(3, 3), 4, 0);
	assert_int_equal(irqfd_count(f, 2), -EAGAIN);
	assert_int_equal(tr(f, PBA_OFF, 8), 1u << 2);
}

static void test_function_mask(void **state)
{
	struct fix *f = *state;
	set_control(f, CTRL_ENABLE | CTRL_MASKALL);
	program(f, 1, 0xfee00000, 0x41, false);
	program(f, 3, 0xfee00000, 0x43, false);
	msix_notify(&f->m, 1);
	msix_notify(&f->m, 3);
	assert_int_equal(irqfd_count(f, 1), -EAGAIN);
	assert_int_equal(irqfd_count(f, 3), -EAGAIN);
	assert_int_equal(tr(f, PBA_OFF, 8), 0xa);
	/* Unmasking an entry while the function is masked releases nothing. */
	tw(f, entry(1, 3), 4, 0);
	assert_int_equal(irqfd_count(f, 1), -EAGAIN);
	/* Clearing the function mask releases both. */
	set_control(f, CTRL_ENABLE);
	assert_int_equal(irqfd_count(f, 1), 1);
	assert_int_equal(irqfd_count(f, 3), 1);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	assert_int_equal(f->m.held, 2);
	assert_int_equal(f->m.delivered, 2);
	assert_int_equal(route(f, 3)->data, 0x43);
}

static void test_disabled_delivers_nothing(void **state)
{
	struct fix *f = *state;
	program(f, 0, 0xfee00000, 0x30, false);
	msix_notify(&f->m, 0);
	assert_int_equal(irqfd_count(f, 0), -EAGAIN);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	assert_int_equal(f->m.held + f->m.delivered, 0);
	/* Enabling later does not deliver what came while disabled. */
	set_control(f, CTRL_ENABLE);
	assert_int_equal(irqfd_count(f, 0), -EAGAIN);
	/* Vectors past the table are ignored. */
	msix_notify(&f->m, NVEC);
	msix_notify(&f->m, MSIX_NO_VECTOR);
	assert_int_equal(tr(f, PBA_OFF, 8), 0);
	assert_int_equal(f->m.held + f->m.delivered, 0);
	msix_notify(&f->m, 0);
	assert_int_equal(irqfd_count(f, 0), 1);
	/* Disabled again: nothing. */
	set_control(f, 0);
	msix_notify(&f->m, 0);
	assert_int_equal(irqfd_count(f, 0), -EAGAIN);
}

/* The GSI router without a KVM VM (vm_fd -1): no ioctl, state only. */
/* The device chooses the vector count; more than the table holds is a
 * sentence, not an overflow. */
static void test_vector_count_is_bounded(void **state)
{
	struct pci_device d;
	struct irq_router r;
	struct msix m;
	struct error err;
	pci_device_init(&d, "too-many", 0x1af4, 0x1042, 0x018000, 1);
	irq_router_init(&r);
	assert_int_equal(msix_init(&m, &d, &r, MSIX_MAX_VECTORS + 1, 1, 0, 0x800, &err), -1);
	assert_non_null(strstr(err.msg, "asks for 65 MSI-X vectors"));
	msix_destroy(&m);
	assert_int_equal(msix_init(&m, &d, &r, 0, 1, 0, 0x800, &err), -1);
	msix_destroy(&m);
	irq_router_destroy(&r);
}

static void test_irq_router(void **state)
{
	struct irq_router *r = malloc(sizeof(*r));
	assert_non_null(r);
	irq_router_init(r);
	assert_int_equal(r->vm_fd, -1);
	for (unsigned i = 0; i < IRQ_ROUTER_MAX_MSI; i++)
		assert_int_equal(irq_router_alloc(r), IRQ_ROUTER_FIRST_MSI + i);
	assert_int_equal(irq_router_alloc(r), -1);                /* exhausted */
	assert_int_equal(irq_router_alloc(r), -1);
	/* Only GSIs that were handed out can be routed. */
	assert_int_equal(irq_router_set_msi(r, 0, 0xfee00000, 0x41), -1);
	assert_int_equal(irq_router_set_msi(r, IRQ_ROUTER_FIRST_MSI - 1, 0xfee00000, 0x41), -1);
	assert_int_equal(irq_router_set_msi(r, IRQ_ROUTER_FIRST_MSI + IRQ_ROUTER_MAX_MSI, 0xfee00000, 0x41), -1);
	assert_int_equal(irq_router_set_msi(r, IRQ_ROUTER_FIRST_MSI + 5, 0x1fee01000ull, 0x4055), 0);
	assert_true(r->msi[5].valid);
	assert_int_equal(r->msi[5].address, 0x1fee01000ull);
	assert_int_equal(r->msi[5].data, 0x4055);
	assert_false(r->msi[4].valid);
	assert_int_equal(r->commits, 0);                          /* nothing to commit to */
	/* Detaching (a VM reset) forgets every route. */
	assert_int_equal(irq_router_attach(r, -1), 0);
	assert_false(r->msi[5].valid);
	assert_int_equal(r->commits, 0);
	irq_router_destroy(r);
	free(r);

	/* Fewer GSIs than vectors: msix_init says so instead of overrunning. */
	r = malloc(sizeof(*r));
	assert_non_null(r);
	irq_router_init(r);
	r->nr = IRQ_ROUTER_MAX_MSI - 1;
	struct pci_device *d = calloc(1, sizeof(*d));
	struct msix *m = calloc(1, sizeof(*m));
	assert_non_null(d);
	assert_non_null(m);
	pci_device_init(d, "short", 0x1234, 0x0002, 0xff0000, 0);
	struct error err = { "" };
	assert_int_equal(msix_init(m, d, r, 2, 0, 0, 0x800, &err), -1);
	assert_non_null(strstr(err.msg, "out of interrupt resources"));
	msix_destroy(m);
	free(m);
	free(d);
	irq_router_destroy(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
		cmocka_unit_test(test_vector_count_is_bounded),
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_access_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked_vector_pends_then_fires_on_unmask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_delivers_nothing, setup, teardown),
		cmocka_unit_test(test_irq_router),
	};
	return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
