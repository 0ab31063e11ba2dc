/* VGA text mode read back from pixels: a screen drawn with a font is
 * read as its characters and colours, a cursor is tolerated, a picture
 * is not taken for text, and the renderer writes characters for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "ui/ui_render.h"
#include "ui/ui_textmode.h"

/* A made-up font: glyph C has row R = hash(C, R), glyph 0 and ' ' blank,
 * 0xdb a full block as in code page 437. */
static uint8_t font[256][16];

static void make_font(void)
{
	for (int c = 0; c < 256; c++)
		for (int r = 0; r < 16; r++)
			font[c][r] = (uint8_t)((c * 2654435761u >> (r % 8 + 5)) ^ (r * 37 + c));
	memset(font[0], 0, 16);
	memset(font[' '], 0, 16);
	memset(font[0xdb], 0xff, 16);
}

struct screen {
	int w, h;
	uint32_t *px;
	struct ui_fb fb;
};

static void draw_char(struct screen *s, int col, int row, int cw, uint8_t c, uint32_t fg, uint32_t bg)
{
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < cw; x++) {
			bool on = x < 8 && font[c][y] >> (7 - x) & 1;
			uint32_t rgb = on ? fg : bg;
			s->px[(row * 16 + y) * s->w + col * cw + x] = (rgb >> 16) | (rgb & 0xff00) | (rgb & 0xff) << 16;
		}
}

static void new_screen(struct screen *s, int w, int h)
{
	s->w = w;
	s->h = h;
	s->px = calloc((size_t)w * h, 4);
	s->fb = (struct ui_fb){ (const uint8_t *)s->px, w, h, (size_t)w * 4, 0, 8, 16 };
}

static void test_text_screen_is_read_back(void **state)
{
	make_font();
	struct ui_font_index *ix = ui_font_index_new((const uint8_t (*)[16])font);
	struct screen s;
	new_screen(&s, 720, 400);                      /* 80x25 of 9x16 */
	const char *line = "Debian GNU/Linux 12 login:";
	for (int i = 0; line[i]; i++)
		draw_char(&s, i, 24, 9, (uint8_t)line[i], 0xaaaaaa, 0x000000);
	draw_char(&s, 0, 0, 9, 0x82, 0xffff55, 0x0000aa);     /* é, yellow on blue */
	draw_char(&s, 1, 0, 9, 0xdb, 0xaa0000, 0x000000);     /* a full block: mostly "foreground" */
	static struct ui_textscreen ts;
	assert_true(ui_textmode_read(&s.fb, ix, &ts));
	assert_int_equal(ts.cols, 80);
	assert_int_equal(ts.rows, 25);
	assert_int_equal(ts.unmatched, 0);
	for (int i = 0; line[i]; i++)
		assert_int_equal(ts.cells[24 * 80 + i].ch, (uint32_t)line[i]);
	assert_int_equal(ts.cells[24 * 80].fg, 0xaaaaaa);
	assert_int_equal(ts.cells[24 * 80].bg, 0x000000);
	assert_int_equal(ts.cells[0].ch, 0xe9);
	assert_int_equal(ts.cells[0].fg, 0xffff55);
	assert_int_equal(ts.cells[0].bg, 0x0000aa);
	assert_int_equal(ts.cells[1].ch, 0x2588);
	assert_int_equal(ts.cells[1].fg, 0xaa0000);
	assert_int_equal(ts.cells[5 * 80 + 5].ch, ' ');
	/* A cursor (two rows of foreground under a cell) is the nearest glyph. */
	for (int y = 14; y < 16; y++)
		for (int x = 0; x < 8; x++)
			s.px[(24 * 16 + y) * 720 + 26 * 9 + x] = 0xaaaaaa;
	assert_true(ui_textmode_read(&s.fb, ix, &ts));
	assert_int_equal(ts.unmatched, 1);
	assert_int_equal(ts.cells[24 * 80 + 26].ch, ' ');
	/* The renderer writes characters, centred in a bigger area. */
	struct ui_render r;
	ui_render_init(&r, UI_COLORS_TRUE);
	ui_render_resize(&r, 82, 25);
	assert_true(ui_render_text(&r, &ts));
	size_t cap = ui_render_emit_bound(&r);
	char *out = malloc(cap + 1);
	out[ui_render_emit(&r, 0, 0, out, cap)] = '\0';
	tl_assert_contains(out, "\033[25;1H \033[38;2;170;170;170mDebian");  /* one column of border */
	tl_assert_contains(out, "Debian GNU/Linux 12 login:");
	tl_assert_contains(out, "\033[38;2;255;255;85;48;2;0;0;170mé");
	tl_assert_not_contains(out, "▀");
	ui_render_text(&r, &ts);                                    /* unchanged: nothing to write */
	assert_int_equal(ui_render_emit(&r, 0, 0, out, cap), 0);
	/* Too small an area: the caller falls back to pixels. */
	ui_render_resize(&r, 60, 20);
	assert_false(ui_render_text(&r, &ts));
	free(out);
	ui_render_free(&r);
	free(s.px);
	ui_font_index_free(ix);
}

static void test_pictures_are_not_text(void **state)
{
	make_font();
	struct ui_font_index *ix = ui_font_index_new((const uint8_t (*)[16])font);
	static struct ui_textscreen ts;
	struct screen s;
	new_screen(&s, 640, 480);                      /* a graphics mode */
	for (int i = 0; i < 640 * 480; i++)
		s.px[i] = (uint32_t)(i * 2654435761u);
	assert_false(ui_textmode_read(&s.fb, ix, &ts));
	/* Two colours everywhere, but no glyph shapes: still not text. */
	for (int i = 0; i < 640 * 480; i++)
		s.px[i] = (i * 7 / 3) % 5 ? 0 : 0xffffff;
	assert_false(ui_textmode_read(&s.fb, ix, &ts));
	/* Sizes that are no text mode at all. */
	struct ui_fb odd = s.fb;
	odd.w = 1024;
	odd.h = 770;
	assert_false(ui_textmode_read(&odd, ix, &ts));
	/* The same font on 8-pixel cells (640x400) reads too. */
	memset(s.px, 0, 640 * 480 * 4);
	draw_char(&s, 3, 2, 8, 'Q', 0xffffff, 0x000000);
	odd.w = 640;
	odd.h = 400;
	assert_true(ui_textmode_read(&odd, ix, &ts));
	assert_int_equal(ts.cells[2 * 80 + 3].ch, 'Q');
	free(s.px);
	ui_font_index_free(ix);
}

static void test_code_page_437(void **state)
{
	assert_int_equal(ui_cp437('A'), 'A');
	assert_int_equal(ui_cp437(0x01), 0x263a);
	assert_int_equal(ui_cp437(0x7f), 0x2302);
	assert_int_equal(ui_cp437(0x82), 0xe9);
	assert_int_equal(ui_cp437(0xb3), 0x2502);
	assert_int_equal(ui_cp437(0xc4), 0x2500);
	assert_int_equal(ui_cp437(0xdb), 0x2588);
	assert_int_equal(ui_cp437(0xe1), 0xdf);
	assert_int_equal(ui_cp437(0xfe), 0x25a0);
	assert_int_equal(ui_cp437(0xff), ' ');
	assert_int_equal(ui_cp437(0x00), ' ');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_screen_is_read_back),
		cmocka_unit_test(test_pictures_are_not_text),
		cmocka_unit_test(test_code_page_437),
	};
	return cmocka_run_group_tests_name("text mode from pixels", tests, NULL, NULL);
}
