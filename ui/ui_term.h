/* A small terminal emulator for the serial console tab: it turns what the
 * guest writes to its UART into a grid of cells with a scrollback.  It
 * understands what consoles commonly send (UTF-8, CR, LF, BS, TAB, cursor
 * movement, erase, the 8/16 SGR colours, bold, reverse, save/restore) and
 * skips other escape sequences whole, so they never show as garbage.
 * Pure: no terminal I/O, tested by feeding bytes. */
#ifndef VMDECK_UI_TERM_H
#define VMDECK_UI_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UI_TERM_DEFAULT 0xff        /* the default colour */

enum { UI_TATTR_BOLD = 1, UI_TATTR_REVERSE = 2, UI_TATTR_UNDERLINE = 4 };

struct ui_tcell {
	uint32_t ch;                /* a code point; ' ' when empty */
	uint8_t fg, bg;             /* 0..15 or UI_TERM_DEFAULT */
	uint8_t attr;
};

struct ui_term {
	int rows, cols;
	int sb_max;                 /* lines kept above the screen */
	struct ui_tcell *lines;     /* ring of sb_max + rows lines of cols cells */
	int nlines;                 /* lines in use (>= rows) */
	int first;                  /* ring index of the oldest line */
	int cy, cx;                 /* cursor on the screen */
	bool wrap_pending;          /* the last column was written */
	int saved_cy, saved_cx;
	struct ui_tcell pen;        /* the current colours and attributes */
	/* escape parser */
	int state;
	int params[16], nparams;
	bool private_mode;
	uint32_t utf8_cp;
	int utf8_left;
	bool newline_mode;          /* LF also returns the carriage (on by default:
				     * small guests write bare "\n") */
	uint64_t bytes;
	unsigned generation;        /* bumped on every change, for redraws */
};

int ui_term_init(struct ui_term *t, int rows, int cols, int scrollback);
void ui_term_free(struct ui_term *t);
/* Keeps the text (the newest lines, cut to the new width). */
int ui_term_resize(struct ui_term *t, int rows, int cols);
void ui_term_feed(struct ui_term *t, const char *buf, size_t len);
/* Line ROW (0 = top) of the view scrolled back BACK lines (0 = the
 * screen); COLS cells. */
const struct ui_tcell *ui_term_view_line(const struct ui_term *t, int back, int row);
/* How many lines the view can scroll back. */
int ui_term_scrollback(const struct ui_term *t);
/* The text of a view line, trailing blanks cut, as UTF-8 (for tests). */
void ui_term_line_text(const struct ui_term *t, int back, int row, char *buf, size_t len);

#endif
