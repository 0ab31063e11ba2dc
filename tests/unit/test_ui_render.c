/* The framebuffer-to-cells renderer: known images to known cells and to
 * known escape sequences, only changed cells written again, aspect kept,
 * the 256-colour fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "ui/ui_render.h"

#define RED 0xff0000u
#define BLUE 0x0000ffu
#define WHITE 0xffffffu
#define BLACK 0x000000u

/* An image as libvncclient lays it out: red in the low byte. */
struct img {
	int w, h;
	uint32_t *px;
	struct ui_fb fb;
};

static void img_new(struct img *m, int w, int h, uint32_t fill)
{
	m->w = w;
	m->h = h;
	m->px = malloc((size_t)w * h * 4);
	for (int i = 0; i < w * h; i++)
		m->px[i] = (fill >> 16 & 0xff) | (fill & 0xff00) | (fill & 0xff) << 16;
	m->fb = (struct ui_fb){ (const uint8_t *)m->px, w, h, (size_t)w * 4, 0, 8, 16 };
}

static void img_set(struct img *m, int x, int y, uint32_t rgb)
{
	m->px[y * m->w + x] = (rgb >> 16 & 0xff) | (rgb & 0xff00) | (rgb & 0xff) << 16;
}

static void img_rows(struct img *m, int y0, int y1, uint32_t rgb)
{
	for (int y = y0; y < y1; y++)
		for (int x = 0; x < m->w; x++)
			img_set(m, x, y, rgb);
}

static struct ui_cell at(const struct ui_render *r, int x, int y)
{
	return r->cur[y * r->cols + x];
}

static char *emit(struct ui_render *r, int y, int x)
{
	size_t cap = ui_render_emit_bound(r);
	char *out = malloc(cap + 1);
	size_t n = ui_render_emit(r, y, x, out, cap);
	out[n] = '\0';
	return out;
}

static void test_fit_keeps_the_aspect(void **state)
{
	int ox, oy, pw, ph;
	/* 640x480 in 160x48 cells: 96 sample rows limit it, 128 columns wide, centred. */
	ui_render_fit(640, 480, 160, 48, &ox, &oy, &pw, &ph);
	assert_int_equal(pw, 128);
	assert_int_equal(ph, 48);
	assert_int_equal(ox, 16);
	assert_int_equal(oy, 0);
	/* 720x400 text mode in 80x24: 80 wide, 44 sample rows = 22 cells, one row margin. */
	ui_render_fit(720, 400, 80, 24, &ox, &oy, &pw, &ph);
	assert_int_equal(pw, 80);
	assert_int_equal(ph, 22);
	assert_int_equal(oy, 1);
	assert_int_equal(ox, 0);
	/* A very tall picture in a wide area. */
	ui_render_fit(100, 1000, 100, 10, &ox, &oy, &pw, &ph);
	assert_int_equal(ph, 10);
	assert_int_equal(pw, 2);
	assert_int_equal(ox, 49);
	ui_render_fit(0, 10, 10, 10, &ox, &oy, &pw, &ph);
	assert_int_equal(pw, 0);
}

static void test_halves_become_cells(void **state)
{
	/* 4x4: rows 0-1 red, 2 white, 3 black.  In 4x2 cells each cell holds two
	 * pixel rows: the first cell row red/red, the second white over black. */
	struct img m;
	img_new(&m, 4, 4, RED);
	img_rows(&m, 2, 3, WHITE);
	img_rows(&m, 3, 4, BLACK);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	assert_int_equal(ui_render_resize(&r, 4, 2), 0);
	ui_render_frame(&r, &m.fb);
	assert_int_equal(r.pw, 4);
	assert_int_equal(r.ph, 2);
	for (int x = 0; x < 4; x++) {
		assert_int_equal(at(&r, x, 0).top, RED);
		assert_int_equal(at(&r, x, 0).bottom, RED);
		assert_int_equal(at(&r, x, 1).top, WHITE);
		assert_int_equal(at(&r, x, 1).bottom, BLACK);
	}
	/* At screen row 5, column 10: a solid row is spaces on a red background
	 * (one colour change, no cursor moves inside the run), the other row
	 * upper half blocks, white on black. */
	char *out = emit(&r, 5, 10);
	assert_string_equal(out, "\033[6;11H\033[48;2;255;0;0m    "
				 "\033[7;11H\033[38;2;255;255;255;48;2;0;0;0m▀▀▀▀"
				 "\033[0m");
	free(out);
	ui_render_free(&r);
	free(m.px);
}

static void test_only_changed_cells_are_written(void **state)
{
	struct img m;
	img_new(&m, 8, 8, BLUE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	ui_render_resize(&r, 8, 4);
	ui_render_frame(&r, &m.fb);
	char *out = emit(&r, 0, 0);
	assert_int_equal(tl_count(out, "\033["), 1 + 4 + 1);   /* one colour, 4 rows, the reset */
	free(out);
	/* The same frame again: nothing to write. */
	ui_render_frame(&r, &m.fb);
	out = emit(&r, 0, 0);
	assert_string_equal(out, "");
	free(out);
	/* One pixel turns red: exactly its cell, upper half red over blue. */
	img_set(&m, 5, 6, RED);
	ui_render_frame(&r, &m.fb);
	out = emit(&r, 0, 0);
	assert_string_equal(out, "\033[4;6H\033[38;2;255;0;0;48;2;0;0;255m▀\033[0m");
	free(out);
	/* After the screen was cleared, everything again. */
	ui_render_invalidate(&r);
	out = emit(&r, 0, 0);
	assert_int_equal(tl_count(out, "▀") + tl_count(out, " "), 32);
	free(out);
	assert_int_equal(r.cells_written, 32 + 1 + 32);
	ui_render_free(&r);
	free(m.px);
}

static void test_samples_average_what_they_cover(void **state)
{
	/* 2x4 in one cell: each half covers a 2x2 block. */
	struct img m;
	img_new(&m, 2, 4, BLACK);
	img_set(&m, 0, 0, WHITE);              /* top: 1 white of 4 */
	img_set(&m, 0, 2, WHITE);              /* bottom: 3 white of 4 */
	img_set(&m, 1, 2, WHITE);
	img_set(&m, 0, 3, WHITE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	ui_render_resize(&r, 1, 1);
	ui_render_frame(&r, &m.fb);
	assert_int_equal(at(&r, 0, 0).top, 0x404040);    /* 255 / 4, rounded */
	assert_int_equal(at(&r, 0, 0).bottom, 0xbfbfbf);
	ui_render_free(&r);
	free(m.px);
}

static void test_letterbox_is_black_and_resize_rewrites(void **state)
{
	struct img m;
	img_new(&m, 2, 2, WHITE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	ui_render_resize(&r, 4, 1);            /* a square picture in a 4x1 area */
	ui_render_frame(&r, &m.fb);
	assert_int_equal(r.pw, 2);
	assert_int_equal(r.ox, 1);
	assert_int_equal(at(&r, 0, 0).top, BLACK);
	assert_int_equal(at(&r, 1, 0).top, WHITE);
	assert_int_equal(at(&r, 2, 0).bottom, WHITE);
	assert_int_equal(at(&r, 3, 0).bottom, BLACK);
	char *out = emit(&r, 0, 0);
	free(out);
	/* A new size: the fit is redone and every cell written. */
	ui_render_resize(&r, 2, 1);
	ui_render_frame(&r, &m.fb);
	assert_int_equal(r.ox, 0);
	out = emit(&r, 0, 0);
	assert_string_equal(out, "\033[1;1H\033[48;2;255;255;255m  \033[0m");
	free(out);
	/* No framebuffer (disconnected): black. */
	ui_render_frame(&r, NULL);
	out = emit(&r, 0, 0);
	assert_string_equal(out, "\033[1;1H\033[48;2;0;0;0m  \033[0m");
	free(out);
	ui_render_free(&r);
	free(m.px);
}

static void test_256_colour_palette(void **state)
{
	assert_int_equal(ui_render_rgb_to_256(0x000000), 16);
	assert_int_equal(ui_render_rgb_to_256(0xffffff), 231);
	assert_int_equal(ui_render_rgb_to_256(0xff0000), 196);
	assert_int_equal(ui_render_rgb_to_256(0x00ff00), 46);
	assert_int_equal(ui_render_rgb_to_256(0x0000ff), 21);
	assert_int_equal(ui_render_rgb_to_256(0x808080), 244);     /* the grey ramp beats the cube */
	assert_int_equal(ui_render_rgb_to_256(0xaa0000), 124);     /* VGA dark red: cube 2,0,0 */
	struct img m;
	img_new(&m, 2, 2, RED);
	img_rows(&m, 1, 2, BLUE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_256);
	ui_render_resize(&r, 2, 1);
	ui_render_frame(&r, &m.fb);
	char *out = emit(&r, 0, 0);
	assert_string_equal(out, "\033[1;1H\033[38;5;196;48;5;21m▀▀\033[0m");
	free(out);
	ui_render_free(&r);
	free(m.px);
}

static void test_16_colour_fallback(void **state)
{
	assert_int_equal(ui_render_rgb_to_16(0x000000), 0);
	assert_int_equal(ui_render_rgb_to_16(0xff0000), 9);
	assert_int_equal(ui_render_rgb_to_16(0xaa0000), 1);
	assert_int_equal(ui_render_rgb_to_16(0x0000ff), 4);
	assert_int_equal(ui_render_rgb_to_16(0xffffff), 15);
	assert_int_equal(ui_render_rgb_to_16(0x808080), 8);
	struct img m;
	img_new(&m, 2, 2, RED);
	img_rows(&m, 1, 2, BLUE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_16);
	ui_render_resize(&r, 3, 1);
	ui_render_frame(&r, &m.fb);
	char *out = emit(&r, 0, 0);
	/* Bright red over blue in plain SGR codes, then the black margin. */
	assert_string_equal(out, "\033[1;1H\033[91;44m▀▀\033[40m \033[0m");
	free(out);
	ui_render_free(&r);
	free(m.px);
}

static void test_small_buffers_finish_next_time(void **state)
{
	struct img m;
	img_new(&m, 40, 40, WHITE);
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	ui_render_resize(&r, 40, 20);
	ui_render_frame(&r, &m.fb);
	char small[200];
	size_t n = ui_render_emit(&r, 0, 0, small, sizeof(small));
	assert_true(n > 0 && n <= sizeof(small));
	assert_false(r.prev_valid);
	char *out = emit(&r, 0, 0);               /* a big enough buffer finishes */
	assert_true(r.prev_valid);
	free(out);
	out = emit(&r, 0, 0);
	assert_string_equal(out, "");
	free(out);
	ui_render_free(&r);
	free(m.px);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_keeps_the_aspect),
		cmocka_unit_test(test_halves_become_cells),
		cmocka_unit_test(test_only_changed_cells_are_written),
		cmocka_unit_test(test_samples_average_what_they_cover),
		cmocka_unit_test(test_letterbox_is_black_and_resize_rewrites),
		cmocka_unit_test(test_256_colour_palette),
		cmocka_unit_test(test_16_colour_fallback),
		cmocka_unit_test(test_small_buffers_finish_next_time),
	};
	return cmocka_run_group_tests_name("framebuffer renderer", tests, NULL, NULL);
}
