/* Widgets drawn on a curses screen that goes nowhere (output to
 * /dev/null), read back cell by cell: clipped text, meters, the hint bar,
 * boxes, lists and text fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui.h"

struct fixture {
	SCREEN *scr;
	FILE *out, *in;
	struct ui_app app;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	setlocale(LC_ALL, "C.UTF-8");
	f->out = fopen("/dev/null", "w");
	f->in = fopen("/dev/null", "r");
	f->scr = newterm("xterm-256color", f->out, f->in);
	assert_non_null(f->scr);
	set_term(f->scr);
	resizeterm(24, 80);
	f->app.rows = 24;
	f->app.cols = 80;
	f->app.utf8 = true;      /* attributes stay 0: monochrome is enough here */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	endwin();
	delscreen(f->scr);
	fclose(f->out);
	fclose(f->in);
	free(f);
	return 0;
}

/* Row Y of the screen as UTF-8, trailing blanks cut. */
static char *screen_row(int y, char *buf, size_t len)
{
	size_t pos = 0;
	for (int x = 0; x < COLS && pos + 8 < len; x++) {
		cchar_t cc;
		wchar_t wc[8];
		attr_t a;
		short pair;
		mvin_wch(y, x, &cc);
		getcchar(&cc, wc, &a, &pair, NULL);
		char mb[16];
		int n = wctomb(mb, wc[0] ? wc[0] : L' ');
		if (n > 0) {
			memcpy(buf + pos, mb, (size_t)n);
			pos += (size_t)n;
		}
	}
	while (pos && buf[pos - 1] == ' ')
		pos--;
	buf[pos] = '\0';
	return buf;
}

static void test_text_is_clipped_and_padded(void **state)
{
	char b[512];
	erase();
	mvaddstr(0, 0, "xxxxxxxxxxxxxxxxxxxx");
	ui_text(0, 2, 5, 0, "hello world");
	assert_string_equal(screen_row(0, b, sizeof(b)), "xxhelloxxxxxxxxxxxxx");
	ui_text(0, 2, 8, 0, "ab");            /* padded: the old text goes */
	assert_string_equal(screen_row(0, b, sizeof(b)), "xxab      xxxxxxxxxx");
	ui_text(1, 0, 6, 0, "né→ok!");           /* characters, not bytes */
	assert_string_equal(screen_row(1, b, sizeof(b)), "né→ok!");
	ui_text(2, 0, 10, 0, "a\tb\033c");       /* controls never reach the screen */
	assert_string_equal(screen_row(2, b, sizeof(b)), "a b c");
	ui_text_right(3, 0, 10, 0, "42");
	assert_string_equal(screen_row(3, b, sizeof(b)), "        42");
	assert_int_equal(ui_width("né→"), 3);
}

static void test_meter_and_hints(void **state)
{
	struct fixture *f = *state;
	char b[512];
	erase();
	ui_meter(&f->app, 0, 0, 24, "CPU", 0.5, "50%");
	/* 19 inside the brackets: 10 bars (9.5 rounded), the text right-aligned inside. */
	assert_string_equal(screen_row(0, b, sizeof(b)), "CPU[||||||||||      50%]");
	ui_meter(&f->app, 1, 0, 14, "M", 2.0, "full");       /* clipped to 100% */
	assert_string_equal(screen_row(1, b, sizeof(b)), "M[|||||||full]");
	static const struct ui_hint h[] = { { "F1", "Help" }, { "F10", "Quit" }, { NULL, NULL } };
	ui_hints(&f->app, (struct ui_rect){ 2, 0, 1, 80 }, h);
	assert_string_equal(screen_row(2, b, sizeof(b)), "F1Help F10Quit");
	ui_hints(&f->app, (struct ui_rect){ 3, 0, 1, 9 }, h);   /* what does not fit goes */
	assert_string_equal(screen_row(3, b, sizeof(b)), "F1Help");
}

static void test_box_and_too_small(void **state)
{
	struct fixture *f = *state;
	char b[512];
	erase();
	ui_box(&f->app, (struct ui_rect){ 0, 0, 3, 12 }, 0, 0, "Hi");
	/* ACS lines read back as the terminal's line-drawing characters. */
	screen_row(0, b, sizeof(b));
	assert_non_null(strstr(b, " Hi "));
	assert_int_equal(ui_width(b), 12);
	erase();
	f->app.rows = 10;
	f->app.cols = 40;
	ui_too_small(&f->app, 12, 60);
	assert_string_equal(screen_row(4, b, sizeof(b)), "vmdeck needs 60x12,");
	assert_string_equal(screen_row(5, b, sizeof(b)), "this terminal is 40x10.");
	f->app.rows = 24;
	f->app.cols = 80;
}

static void test_list_moves_and_scrolls(void **state)
{
	struct ui_list l = { .n = 20 };
	struct ui_key down = { KEY_DOWN, true }, pgdn = { KEY_NPAGE, true }, end = { KEY_END, true },
		      up = { 'k', false }, home = { KEY_HOME, true }, other = { 'x', false };
	assert_true(ui_list_key(&l, down, 5));
	assert_int_equal(l.sel, 1);
	assert_true(ui_list_key(&l, pgdn, 5));
	assert_int_equal(l.sel, 5);
	assert_int_equal(l.top, 1);            /* the selection stays visible */
	ui_list_key(&l, end, 5);
	assert_int_equal(l.sel, 19);
	assert_int_equal(l.top, 15);
	ui_list_key(&l, down, 5);              /* no further than the end */
	assert_int_equal(l.sel, 19);
	ui_list_key(&l, up, 5);
	assert_int_equal(l.sel, 18);
	ui_list_key(&l, home, 5);
	assert_int_equal(l.sel, 0);
	assert_int_equal(l.top, 0);
	assert_false(ui_list_key(&l, other, 5));
	l.n = 3;                               /* rows went away */
	l.sel = 10;
	ui_list_fix(&l, 5);
	assert_int_equal(l.sel, 2);
	l.n = 0;
	ui_list_fix(&l, 5);
	assert_int_equal(l.sel, 0);
}

static void type(struct ui_field *f, const char *s)
{
	for (; *s; s++)
		ui_field_key(f, (struct ui_key){ (unsigned char)*s, false });
}

static void test_field_editing(void **state)
{
	struct fixture *f = *state;
	struct ui_field fl;
	ui_field_set(&fl, "");
	type(&fl, "hello");
	assert_string_equal(fl.buf, "hello");
	ui_field_key(&fl, (struct ui_key){ KEY_LEFT, true });
	ui_field_key(&fl, (struct ui_key){ KEY_LEFT, true });
	type(&fl, "XY");
	assert_string_equal(fl.buf, "helXYlo");
	ui_field_key(&fl, (struct ui_key){ 0x7f, false });          /* Backspace */
	assert_string_equal(fl.buf, "helXlo");
	ui_field_key(&fl, (struct ui_key){ KEY_DC, true });         /* Delete */
	assert_string_equal(fl.buf, "helXo");
	ui_field_key(&fl, (struct ui_key){ 0xe9, false });          /* é, two bytes */
	assert_string_equal(fl.buf, "helXéo");
	ui_field_key(&fl, (struct ui_key){ KEY_BACKSPACE, true });  /* one character back */
	assert_string_equal(fl.buf, "helXo");
	ui_field_key(&fl, (struct ui_key){ 0x15, false });          /* Ctrl-U: to the start */
	assert_string_equal(fl.buf, "o");
	assert_false(ui_field_key(&fl, (struct ui_key){ 3, false })); /* Ctrl-C is not ours */
	/* A long value scrolls to keep the cursor visible. */
	ui_field_set(&fl, "abcdefghijklmnopqrstuvwxyz");
	char b[512];
	erase();
	ui_field_draw(&f->app, &fl, 0, 0, 10, 0, true);
	assert_string_equal(screen_row(0, b, sizeof(b)), "rstuvwxyz");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_clipped_and_padded),
		cmocka_unit_test(test_meter_and_hints),
		cmocka_unit_test(test_box_and_too_small),
		cmocka_unit_test(test_list_moves_and_scrolls),
		cmocka_unit_test(test_field_editing),
	};
	return cmocka_run_group_tests_name("widgets", tests, setup, teardown);
}
