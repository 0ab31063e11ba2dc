/* vmm/bus.c: PIO/MMIO range dispatch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "vmm/bus.h"

/* A device that records its last access and answers reads with a value
 * derived from the offset. */
struct fake_dev {
	unsigned reads, writes;
	uint64_t offset;
	unsigned len;
	uint8_t data[8];
	uint8_t tag;
	struct bus *bus;          /* for the remapping device */
};

static void dev_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct fake_dev *d = opaque;
	d->reads++;
	d->offset = offset;
	d->len = len;
	uint8_t *b = data;
	for (unsigned i = 0; i < len; i++)
		b[i] = (uint8_t)(d->tag + offset + i);
}

static void dev_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct fake_dev *d = opaque;
	d->writes++;
	d->offset = offset;
	d->len = len;
	memcpy(d->data, data, len);
}

static const struct bus_ops dev_ops = { .read = dev_read, .write = dev_write };
static const struct bus_ops write_only_ops = { .write = dev_write };
static const struct bus_ops read_only_ops = { .read = dev_read };

static void register_refuses_overlaps(void **state)
{
	struct bus bus;
	struct fake_dev a = { 0 }, b = { 0 };
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &dev_ops, &a, "a"), 0);
	static const struct { uint64_t base, len; } clash[] = {
		{ 0x3f8, 8 }, { 0x3f0, 9 }, { 0x3ff, 1 }, { 0x3fa, 2 }, { 0x300, 0x200 }, { 0x3fc, 0x100 },
	};
	for (size_t i = 0; i < sizeof(clash) / sizeof(clash[0]); i++)
		if (bus_register(&bus, clash[i].base, clash[i].len, &dev_ops, &b, "b") != -1)
			fail_msg("%#llx+%llu overlaps [0x3f8, 0x400) but was accepted",
				 (unsigned long long)clash[i].base, (unsigned long long)clash[i].len);
	assert_int_equal(bus.nr, 1);
	assert_int_equal(bus_register(&bus, 0x3f0, 8, &dev_ops, &b, "below"), 0);   /* adjacent */
	assert_int_equal(bus_register(&bus, 0x400, 1, &dev_ops, &b, "above"), 0);
	assert_int_equal(bus_register(&bus, 0x500, 0, &dev_ops, &b, "empty"), -1);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 1, 4, &dev_ops, &b, "wraps"), -1);
	assert_int_equal(bus.nr, 3);
	/* Kept sorted by base whatever the registration order. */
	for (unsigned i = 1; i < bus.nr; i++)
		assert_true(bus.ranges[i - 1].base + bus.ranges[i - 1].len <= bus.ranges[i].base);
	bus_destroy(&bus);
}

/* A range may end exactly at the top of the address space; overlaps with
 * it must still be refused although base + len wraps to 0. */
static void register_refuses_overlaps_at_the_top(void **state)
{
	struct bus bus;
	struct fake_dev a = { 0 }, b = { 0 };
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 15, 16, &dev_ops, &a, "top"), 0);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 7, 1, &dev_ops, &b, "inside"), -1);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 1, &dev_ops, &b, "last byte"), -1);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 31, 32, &dev_ops, &b, "around"), -1);
	assert_int_equal(bus.nr, 1);
	bus_destroy(&bus);

	bus_init(&bus);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 3, 1, &dev_ops, &a, "small"), 0);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 7, 8, &dev_ops, &b, "covers it"), -1);
	assert_int_equal(bus.nr, 1);
	/* The last byte of the address space is reachable. */
	assert_int_equal(bus_register(&bus, UINT64_MAX, 1, &dev_ops, &b, "last"), 0);
	uint8_t v = 0;
	b.tag = 0x40;
	assert_true(bus_read(&bus, UINT64_MAX, &v, 1));
	assert_int_equal(v, 0x40);
	bus_destroy(&bus);
}

static void dispatch_passes_offset_data_and_length(void **state)
{
	struct bus bus;
	struct fake_dev uart = { .tag = 0x10 }, pm = { .tag = 0x80 };
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x600, 0x10, &dev_ops, &pm, "pm"), 0);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, &dev_ops, &uart, "uart"), 0);

	const uint8_t w[4] = { 0xde, 0xad, 0xbe, 0xef };
	assert_true(bus_write(&bus, 0x3fb, w, 1));
	assert_int_equal(uart.writes, 1);
	assert_int_equal(uart.offset, 3);
	assert_int_equal(uart.len, 1);
	assert_int_equal(uart.data[0], 0xde);
	assert_true(bus_write(&bus, 0x608, w, 4));
	assert_int_equal(pm.writes, 1);
	assert_int_equal(pm.offset, 8);
	assert_int_equal(pm.len, 4);
	assert_memory_equal(pm.data, w, 4);

	uint8_t r[4] = { 0 };
	assert_true(bus_read(&bus, 0x60c, r, 2));
	assert_int_equal(pm.reads, 1);
	assert_int_equal(pm.offset, 0xc);
	assert_int_equal(pm.len, 2);
	assert_int_equal(r[0], 0x8c);
	assert_int_equal(r[1], 0x8d);
	assert_int_equal(uart.reads, 0);
	assert_int_equal(bus.unhandled, 0);
	bus_destroy(&bus);
}

static void unhandled_reads_all_ones_and_counts(void **state)
{
	struct bus bus;
	struct fake_dev d = { 0 };
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x60, 1, &dev_ops, &d, "kbd"), 0);
	assert_int_equal(bus_register(&bus, 0x70, 2, &write_only_ops, &d, "wo"), 0);
	assert_int_equal(bus_register(&bus, 0x80, 1, &read_only_ops, &d, "ro"), 0);
	uint8_t buf[8];
	memset(buf, 0, sizeof(buf));
	assert_false(bus_read(&bus, 0x61, buf, 4));          /* just past a device */
	for (int i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0xff);
	assert_int_equal(buf[4], 0);                        /* only LEN bytes */
	assert_int_equal(bus.unhandled, 1);
	assert_false(bus_write(&bus, 0x5f, buf, 1));        /* just before */
	assert_int_equal(bus.unhandled, 2);
	memset(buf, 0, sizeof(buf));
	assert_false(bus_read(&bus, 0x71, buf, 2));         /* a device without read */
	assert_int_equal(buf[0], 0xff);
	assert_int_equal(buf[1], 0xff);
	assert_int_equal(bus.unhandled, 3);
	assert_true(bus_write(&bus, 0x80, buf, 1));         /* a device without write: absorbed */
	assert_int_equal(bus.unhandled, 3);
	assert_int_equal(d.writes, 0);
	assert_int_equal(d.reads, 0);
	bus_destroy(&bus);
}

static void unregister_needs_base_and_owner(void **state)
{
	struct bus bus;
	struct fake_dev a = { .tag = 1 }, b = { .tag = 2 };
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, &dev_ops, &a, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x2000, 0x100, &dev_ops, &b, "b"), 0);
	assert_int_equal(bus_unregister(&bus, 0x1000, &b), -1);    /* not the owner */
	assert_int_equal(bus_unregister(&bus, 0x1010, &a), -1);    /* not the base */
	assert_int_equal(bus_unregister(&bus, 0x3000, &a), -1);
	assert_int_equal(bus.nr, 2);
	assert_int_equal(bus_unregister(&bus, 0x1000, &a), 0);
	assert_int_equal(bus.nr, 1);
	uint8_t v;
	assert_false(bus_read(&bus, 0x1000, &v, 1));
	assert_int_equal(v, 0xff);
	assert_true(bus_read(&bus, 0x2001, &v, 1));
	assert_int_equal(v, 3);
	/* The freed range can be taken again, e.g. by a moved BAR. */
	assert_int_equal(bus_register(&bus, 0x1080, 0x100, &dev_ops, &a, "a moved"), 0);
	assert_true(bus_read(&bus, 0x1080, &v, 1));
	assert_int_equal(v, 1);
	assert_int_equal(bus_unregister(&bus, 0x1080, &a), 0);
	assert_int_equal(bus_unregister(&bus, 0x1080, &a), -1);   /* only once */
	bus_destroy(&bus);
}

static void many_ranges_grow_and_dispatch(void **state)
{
	struct bus bus;
	struct fake_dev devs[100];
	bus_init(&bus);
	/* Registered in a scrambled order. */
	for (unsigned k = 0; k < 100; k++) {
		unsigned i = (k * 37) % 100;
		devs[i] = (struct fake_dev){ .tag = (uint8_t)i };
		assert_int_equal(bus_register(&bus, 0x10000 + i * 0x100ull, 0x10, &dev_ops, &devs[i], "d"), 0);
	}
	assert_int_equal(bus.nr, 100);
	for (unsigned i = 0; i < 100; i++) {
		uint8_t v;
		assert_true(bus_read(&bus, 0x10000 + i * 0x100ull + 5, &v, 1));
		assert_int_equal(v, (uint8_t)(i + 5));
		assert_false(bus_read(&bus, 0x10000 + i * 0x100ull + 0x10, &v, 1));
	}
	assert_int_equal(bus.unhandled, 100);
	bus_destroy(&bus);
}

/* Callbacks run without the bus lock, so a device may remap itself from
 * inside an access (a BAR move) without deadlocking. */
static void remap_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct fake_dev *d = opaque;
	uint64_t new_base = bus_get_le(data, len);
	assert_int_equal(bus_unregister(d->bus, 0x5000, d), 0);
	assert_int_equal(bus_register(d->bus, new_base, 0x10, &dev_ops, d, "moved"), 0);
	d->writes++;
}

static const struct bus_ops remap_ops = { .read = dev_read, .write = remap_write };

static void remap_from_inside_a_callback(void **state)
{
	struct bus bus;
	struct fake_dev d = { .tag = 0x30 };
	bus_init(&bus);
	d.bus = &bus;
	assert_int_equal(bus_register(&bus, 0x5000, 0x10, &remap_ops, &d, "bar"), 0);
	alarm(10);   /* a deadlock ends the program instead of hanging the suite */
	uint8_t nb[4];
	bus_put_le(nb, 4, 0x9000);
	assert_true(bus_write(&bus, 0x5004, nb, 4));
	alarm(0);
	assert_int_equal(d.writes, 1);
	uint8_t v;
	assert_false(bus_read(&bus, 0x5000, &v, 1));
	assert_true(bus_read(&bus, 0x9002, &v, 1));
	assert_int_equal(v, 0x32);
	bus_destroy(&bus);
}

static void le_helpers(void **state)
{
	uint8_t b[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	assert_int_equal(bus_get_le(b, 1), 0x11);
	assert_int_equal(bus_get_le(b, 2), 0x2211);
	assert_int_equal(bus_get_le(b, 4), 0x44332211);
	assert_int_equal(bus_get_le(b, 8), 0x8877665544332211ull);
	assert_int_equal(bus_get_le(b, 16), 0x8877665544332211ull);   /* at most 8 bytes */
	uint8_t o[9];
	memset(o, 0, sizeof(o));
	bus_put_le(o, 2, 0xabcdef);
	assert_int_equal(o[0], 0xef);
	assert_int_equal(o[1], 0xcd);
	assert_int_equal(o[2], 0);
	memset(o, 0, sizeof(o));
	bus_put_le(o, 9, 0x0102030405060708ull);
	assert_int_equal(o[0], 8);
	assert_int_equal(o[7], 1);
	assert_int_equal(o[8], 0);   /* never more than 8 bytes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(register_refuses_overlaps),
		cmocka_unit_test(register_refuses_overlaps_at_the_top),
		cmocka_unit_test(dispatch_passes_offset_data_and_length),
		cmocka_unit_test(unhandled_reads_all_ones_and_counts),
		cmocka_unit_test(unregister_needs_base_and_owner),
		cmocka_unit_test(many_ranges_grow_and_dispatch),
		cmocka_unit_test(remap_from_inside_a_callback),
		cmocka_unit_test(le_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
