/* vmm/guest_mem.c: bounds-checked guest-physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vmm/guest_mem.h"

static uint8_t low[4096], high[8192];

static struct guest_mem two_regions(void)
{
	struct guest_mem gm = { 0 };
	assert_int_equal(gm_add(&gm, 0x1000, sizeof(low), low), 0);
	assert_int_equal(gm_add(&gm, 0x100000000ull, sizeof(high), high), 0);
	return gm;
}

static void add_refuses_overlap_empty_and_wrap(void **state)
{
	struct guest_mem gm = two_regions();
	uint8_t other[16];
	/* Every way of touching [0x1000, 0x2000). */
	assert_int_equal(gm_add(&gm, 0x1000, 0x1000, other), -1);   /* identical */
	assert_int_equal(gm_add(&gm, 0x0800, 0x1000, other), -1);   /* overlaps the start */
	assert_int_equal(gm_add(&gm, 0x1800, 0x1000, other), -1);   /* overlaps the end */
	assert_int_equal(gm_add(&gm, 0x1100, 0x10, other), -1);     /* inside */
	assert_int_equal(gm_add(&gm, 0x0000, 0x10000, other), -1);  /* around */
	assert_int_equal(gm_add(&gm, 0x1fff, 1, other), -1);        /* last byte */
	assert_int_equal(gm_add(&gm, 0x5000, 0, other), -1);        /* empty */
	assert_int_equal(gm_add(&gm, UINT64_MAX - 0xff, 0x200, other), -1);   /* wraps past 2^64 */
	assert_int_equal(gm.nr, 2);
	/* Adjacent on either side is fine. */
	assert_int_equal(gm_add(&gm, 0x0000, 0x1000, other), 0);
	assert_int_equal(gm_add(&gm, 0x2000, 0x1000, other), 0);
	assert_int_equal(gm.nr, 4);
}

static void add_stops_when_full(void **state)
{
	struct guest_mem gm = { 0 };
	uint8_t b[16];
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++)
		assert_int_equal(gm_add(&gm, i * 0x1000ull, 16, b), 0);
	assert_int_equal(gm_add(&gm, 0x100000, 16, b), -1);
	assert_int_equal(gm.nr, GM_MAX_REGIONS);
	assert_int_equal(gm_total(&gm), GM_MAX_REGIONS * 16);
}

static void ptr_translates_inside_regions(void **state)
{
	struct guest_mem gm = two_regions();
	assert_ptr_equal(gm_ptr(&gm, 0x1000, 1), low);
	assert_ptr_equal(gm_ptr(&gm, 0x1000, sizeof(low)), low);          /* the whole region */
	assert_ptr_equal(gm_ptr(&gm, 0x1ffc, 4), low + 0xffc);            /* ends on the last byte */
	assert_ptr_equal(gm_ptr(&gm, 0x100001000ull, 0x1000), high + 0x1000);
	assert_true(gm_is_ram(&gm, 0x1abc, 0x10));
	assert_int_equal(gm_total(&gm), sizeof(low) + sizeof(high));
}

static void ptr_refuses_everything_not_wholly_in_one_region(void **state)
{
	struct guest_mem gm = two_regions();
	uint8_t adj[4096];
	assert_int_equal(gm_add(&gm, 0x2000, sizeof(adj), adj), 0);   /* adjacent to low */
	static const struct { uint64_t gpa, len; } bad[] = {
		{ 0x0fff, 1 },                      /* just below */
		{ 0x0fff, 2 },                      /* straddles the start */
		{ 0x1ffc, 5 },                      /* one byte past the end (into the adjacent region) */
		{ 0x1000, 0x1001 },                 /* region + 1 byte */
		{ 0x1800, 0x1000 },                 /* spans two adjacent regions: refused, never clamped */
		{ 0x3000, 1 },                      /* after the adjacent region */
		{ 0x1010, UINT64_MAX },             /* length that wraps */
		{ 0x1010, UINT64_MAX - 0xf },       /* gpa + len == 2^64 exactly */
		{ 0x1010, 0x8000000000000000ull },
		{ UINT64_MAX, 1 },
		{ UINT64_MAX, 2 },                  /* gpa + len wraps to 1 */
		{ 0x100000000ull + 0x2000, 1 },     /* just past high */
		{ 0xffffffffull, 2 },               /* straddles 4 GiB into high */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gm_ptr(&gm, bad[i].gpa, bad[i].len))
			fail_msg("%#llx+%#llx should not be RAM", (unsigned long long)bad[i].gpa,
				 (unsigned long long)bad[i].len);
		assert_false(gm_is_ram(&gm, bad[i].gpa, bad[i].len));
	}
}

static void read_write_copy_or_refuse_untouched(void **state)
{
	struct guest_mem gm = two_regions();
	memset(low, 0, sizeof(low));
	const uint8_t pattern[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(gm_write(&gm, 0x1ff8, pattern, sizeof(pattern)), 0);
	assert_memory_equal(low + 0xff8, pattern, sizeof(pattern));
	uint8_t back[8] = { 0 };
	assert_int_equal(gm_read(&gm, 0x1ff8, back, sizeof(back)), 0);
	assert_memory_equal(back, pattern, sizeof(back));

	/* One byte too far: nothing is copied either way. */
	memset(back, 0xee, sizeof(back));
	assert_int_equal(gm_read(&gm, 0x1ff9, back, sizeof(back)), -1);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0xee);
	const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(gm_write(&gm, 0x1ff9, ones, sizeof(ones)), -1);
	assert_memory_equal(low + 0xff8, pattern, sizeof(pattern));
	assert_int_equal(gm_write(&gm, UINT64_MAX - 3, ones, sizeof(ones)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_refuses_overlap_empty_and_wrap),
		cmocka_unit_test(add_stops_when_full),
		cmocka_unit_test(ptr_translates_inside_regions),
		cmocka_unit_test(ptr_refuses_everything_not_wholly_in_one_region),
		cmocka_unit_test(read_write_copy_or_refuse_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
