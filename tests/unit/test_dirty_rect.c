/* vmm/dirty_rect.c: changed tiles merged into few rectangles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/display.h"

static unsigned take(struct dirty_rects *d, struct display_rect *r, unsigned max)
{
	return dirty_take(d, r, max);
}

static void assert_rect(const struct display_rect *r, unsigned x, unsigned y, unsigned w, unsigned h)
{
	assert_int_equal(r->x, x);
	assert_int_equal(r->y, y);
	assert_int_equal(r->w, w);
	assert_int_equal(r->h, h);
}

static void test_one_pixel_is_one_tile(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[8];
	assert_int_equal(dirty_init(&d, 640, 480), 0);
	assert_true(dirty_empty(&d));
	assert_int_equal(take(&d, r, 8), 0);
	dirty_add(&d, 17, 33, 1, 1);
	assert_int_equal(take(&d, r, 8), 1);
	assert_rect(&r[0], 16, 32, 16, 16);
	assert_true(dirty_empty(&d));          /* taking clears */
	dirty_free(&d);
}

static void test_block_merges_into_one_rectangle(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[8];
	dirty_init(&d, 640, 480);
	for (unsigned y = 100; y < 200; y++)       /* line by line, as the renderer marks */
		dirty_add(&d, 50, y, 100, 1);
	assert_int_equal(take(&d, r, 8), 1);
	assert_rect(&r[0], 48, 96, 112, 112);
	dirty_free(&d);
}

static void test_l_shape_gives_two_rectangles(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[8];
	dirty_init(&d, 640, 480);
	dirty_add(&d, 0, 0, 64, 32);      /* 4 tiles wide, 2 high */
	dirty_add(&d, 0, 32, 16, 32);     /* 1 tile wide below */
	assert_int_equal(take(&d, r, 8), 2);
	assert_rect(&r[0], 0, 0, 64, 32);
	assert_rect(&r[1], 0, 32, 16, 32);
	dirty_free(&d);
}

static void test_separate_areas_stay_separate(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[8];
	dirty_init(&d, 640, 480);
	dirty_add(&d, 0, 0, 16, 16);
	dirty_add(&d, 320, 0, 16, 16);
	dirty_add(&d, 0, 400, 640, 16);
	assert_int_equal(take(&d, r, 8), 3);
	assert_rect(&r[0], 0, 0, 16, 16);
	assert_rect(&r[1], 320, 0, 16, 16);
	assert_rect(&r[2], 0, 400, 640, 16);
	dirty_free(&d);
}

static void test_edges_are_clipped(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[8];
	dirty_init(&d, 100, 50);             /* not multiples of 16 */
	dirty_add(&d, 90, 40, 1000, 1000);
	assert_int_equal(take(&d, r, 8), 1);
	assert_rect(&r[0], 80, 32, 20, 18);
	dirty_add(&d, 100, 0, 5, 5);          /* outside: ignored */
	dirty_add(&d, 0, 0, 0, 5);
	assert_true(dirty_empty(&d));
	dirty_add_all(&d);
	assert_int_equal(take(&d, r, 8), 1);
	assert_rect(&r[0], 0, 0, 100, 50);
	dirty_free(&d);
}

static void test_too_many_rectangles_become_the_bounding_box(void **state)
{
	struct dirty_rects d = { 0 };
	struct display_rect r[4];
	dirty_init(&d, 640, 480);
	for (unsigned i = 0; i < 10; i++)          /* a checkerboard row */
		dirty_add(&d, 32 * i, 64, 16, 16);
	dirty_add(&d, 600, 300, 1, 1);
	assert_int_equal(take(&d, r, 4), 1);
	assert_rect(&r[0], 0, 64, 608, 240);   /* tile rows 4..18 */
	dirty_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_pixel_is_one_tile),
		cmocka_unit_test(test_block_merges_into_one_rectangle),
		cmocka_unit_test(test_l_shape_gives_two_rectangles),
		cmocka_unit_test(test_separate_areas_stay_separate),
		cmocka_unit_test(test_edges_are_clipped),
		cmocka_unit_test(test_too_many_rectangles_become_the_bounding_box),
	};
	return cmocka_run_group_tests_name("dirty rectangles", tests, NULL, NULL);
}
