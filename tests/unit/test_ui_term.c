/* The serial tab's terminal emulator and the key translations for the
 * guest: bytes in, screen text out; keys in, keysyms and bytes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "ui/ui_keys.h"
#include "ui/ui_term.h"

static const char *row(const struct ui_term *t, int back, int y)
{
	static char buf[4][256];
	static int i;
	char *b = buf[i++ % 4];
	ui_term_line_text(t, back, y, b, 256);
	return b;
}

static void feed(struct ui_term *t, const char *s)
{
	ui_term_feed(t, s, strlen(s));
}

static void test_text_lines_and_wrapping(void **state)
{
	struct ui_term t;
	assert_int_equal(ui_term_init(&t, 4, 10, 100), 0);
	feed(&t, "hello\r\nworld\n");
	assert_string_equal(row(&t, 0, 0), "hello");
	assert_string_equal(row(&t, 0, 1), "world");
	/* Bare LF returns the carriage too (small guests write only "\n"). */
	assert_int_equal(t.cy, 2);
	assert_int_equal(t.cx, 0);
	feed(&t, "0123456789abc");          /* wraps after the 10th column */
	assert_string_equal(row(&t, 0, 2), "0123456789");
	assert_string_equal(row(&t, 0, 3), "abc");
	feed(&t, "\r\nnext");                /* scrolls: hello goes to the scrollback */
	assert_string_equal(row(&t, 0, 0), "world");
	assert_string_equal(row(&t, 0, 3), "next");
	assert_int_equal(ui_term_scrollback(&t), 1);
	assert_string_equal(row(&t, 1, 0), "hello");
	feed(&t, "\b\bX\tY");
	assert_string_equal(row(&t, 0, 3), "neXt    Y");   /* BS moves, it does not erase */
	ui_term_free(&t);
}

static void test_escapes_move_erase_and_vanish(void **state)
{
	struct ui_term t;
	ui_term_init(&t, 3, 20, 10);
	/* Colours, a title (OSC), a mode change and charset selection never show. */
	feed(&t, "\033[1;32mok\033[0m \033]0;title\007\033[?25l\033(Bdone");
	assert_string_equal(row(&t, 0, 0), "ok done");
	assert_int_equal(ui_term_view_line(&t, 0, 0)[0].fg, 2);
	assert_true(ui_term_view_line(&t, 0, 0)[0].attr & UI_TATTR_BOLD);
	assert_int_equal(ui_term_view_line(&t, 0, 0)[3].fg, UI_TERM_DEFAULT);
	feed(&t, "\033[2;5Hmid\033[1;1H\033[K\033[3;1Hz");
	assert_string_equal(row(&t, 0, 0), "");
	assert_string_equal(row(&t, 0, 1), "    mid");
	assert_string_equal(row(&t, 0, 2), "z");
	feed(&t, "\033[2J");
	for (int y = 0; y < 3; y++)
		assert_string_equal(row(&t, 0, y), "");
	/* Cursor motion is clamped to the screen. */
	feed(&t, "\033[99;99Hq\033[A\033[200Dw");
	assert_string_equal(row(&t, 0, 2), "                   q");
	assert_string_equal(row(&t, 0, 1), "w");
	ui_term_free(&t);
}

static void test_utf8_and_garbage(void **state)
{
	struct ui_term t;
	ui_term_init(&t, 2, 10, 0);
	feed(&t, "é→\xff!");
	assert_int_equal(ui_term_view_line(&t, 0, 0)[0].ch, 0xe9);
	assert_int_equal(ui_term_view_line(&t, 0, 0)[1].ch, 0x2192);
	assert_int_equal(ui_term_view_line(&t, 0, 0)[2].ch, 0xfffd);    /* a stray byte shows */
	assert_int_equal(ui_term_view_line(&t, 0, 0)[3].ch, '!');
	/* Split across feeds. */
	ui_term_feed(&t, "\r\n\xe2\x86", 4);
	ui_term_feed(&t, "\x92", 1);
	assert_int_equal(ui_term_view_line(&t, 0, 1)[0].ch, 0x2192);
	/* An escape sequence cut in two is still swallowed whole. */
	feed(&t, "\033[3");
	feed(&t, "1mR");
	assert_int_equal(ui_term_view_line(&t, 0, 1)[1].ch, 'R');
	assert_int_equal(ui_term_view_line(&t, 0, 1)[1].fg, 1);
	ui_term_free(&t);
}

static void test_resize_keeps_the_newest_text(void **state)
{
	struct ui_term t;
	ui_term_init(&t, 4, 20, 50);
	for (int i = 0; i < 10; i++) {
		char line[32];
		snprintf(line, sizeof(line), "line %d\r\n", i);
		feed(&t, line);
	}
	feed(&t, "prompt$ ");
	assert_int_equal(ui_term_resize(&t, 3, 6), 0);
	assert_string_equal(row(&t, 0, 2), "prompt");     /* cut to 6 columns */
	assert_string_equal(row(&t, 0, 1), "line 9");
	assert_string_equal(row(&t, 0, 0), "line 8");
	assert_int_equal(t.cy, 2);
	assert_string_equal(row(&t, 8, 0), "line 0");
	/* Growing keeps the text at the top with the cursor after it. */
	ui_term_resize(&t, 30, 40);
	assert_string_equal(row(&t, 0, 0), "line 0");
	assert_string_equal(row(&t, 0, 10), "prompt");
	assert_int_equal(t.cy, 10);
	ui_term_free(&t);
}

static void test_keys_to_keysyms(void **state)
{
	struct ui_keyev ev[16];
	/* A printable character: press and release of its keysym. */
	assert_int_equal(ui_keys_to_x('a', false, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, 'a');
	assert_true(ev[0].down);
	assert_false(ev[1].down);
	assert_int_equal(ui_keys_to_x('A', false, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, 'A');        /* the VMM's keymap adds Shift */
	/* Ctrl-C: Control_L held around 'c'. */
	assert_int_equal(ui_keys_to_x(3, false, false, ev, 16), 4);
	assert_int_equal(ev[0].keysym, XK_Control_L);
	assert_true(ev[0].down);
	assert_int_equal(ev[1].keysym, 'c');
	assert_int_equal(ev[3].keysym, XK_Control_L);
	assert_false(ev[3].down);
	assert_int_equal(ui_keys_to_x('\r', false, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, XK_Return);
	assert_int_equal(ui_keys_to_x(0x7f, false, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, XK_BackSpace);
	assert_int_equal(ui_keys_to_x(27, false, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, XK_Escape);
	assert_int_equal(ui_keys_to_x(KEY_UP, true, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, XK_Up);
	assert_int_equal(ui_keys_to_x(KEY_F(5), true, false, ev, 16), 2);
	assert_int_equal(ev[0].keysym, XK_F1 + 4);
	assert_int_equal(ui_keys_to_x(KEY_BTAB, true, false, ev, 16), 4);   /* Shift-Tab */
	assert_int_equal(ev[0].keysym, XK_Shift_L);
	assert_int_equal(ev[1].keysym, XK_Tab);
	assert_int_equal(ui_keys_to_x(0xe9, false, false, ev, 16), 2);       /* é: Latin-1 keysym */
	assert_int_equal(ev[0].keysym, 0xe9);
	assert_int_equal(ui_keys_to_x(0x20ac, false, false, ev, 16), 2);     /* €: Unicode keysym */
	assert_int_equal(ev[0].keysym, 0x010020ac);
	assert_int_equal(ui_keys_to_x(KEY_RESIZE, true, false, ev, 16), 0);
	/* Alt adds Alt_L around the key. */
	assert_int_equal(ui_keys_to_x('x', false, true, ev, 16), 4);
	assert_int_equal(ev[0].keysym, XK_Alt_L);
}

static void test_keys_to_bytes(void **state)
{
	char b[16];
	assert_int_equal(ui_keys_to_vt('a', false, false, b, sizeof(b)), 1);
	assert_int_equal(b[0], 'a');
	assert_int_equal(ui_keys_to_vt(3, false, false, b, sizeof(b)), 1);
	assert_int_equal(b[0], 3);
	assert_int_equal(ui_keys_to_vt('\n', false, false, b, sizeof(b)), 1);
	assert_int_equal(b[0], '\r');
	assert_int_equal(ui_keys_to_vt(KEY_UP, true, false, b, sizeof(b)), 3);
	assert_memory_equal(b, "\033[A", 3);
	assert_int_equal(ui_keys_to_vt(KEY_F(12), true, false, b, sizeof(b)), 5);
	assert_memory_equal(b, "\033[24~", 5);
	assert_int_equal(ui_keys_to_vt(0x2192, false, false, b, sizeof(b)), 3);
	assert_memory_equal(b, "\xe2\x86\x92", 3);
	assert_int_equal(ui_keys_to_vt('x', false, true, b, sizeof(b)), 2);
	assert_memory_equal(b, "\033x", 2);
	assert_int_equal(ui_keys_to_vt(KEY_MOUSE, true, false, b, sizeof(b)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_lines_and_wrapping),
		cmocka_unit_test(test_escapes_move_erase_and_vanish),
		cmocka_unit_test(test_utf8_and_garbage),
		cmocka_unit_test(test_resize_keeps_the_newest_text),
		cmocka_unit_test(test_keys_to_keysyms),
		cmocka_unit_test(test_keys_to_bytes),
	};
	return cmocka_run_group_tests_name("serial terminal and keys", tests, NULL, NULL);
}
