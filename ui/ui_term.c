#include <stdlib.h>
#include <string.h>

#include "ui/ui_term.h"

enum { S_GROUND, S_ESC, S_CSI, S_OSC, S_OSC_ESC, S_SKIP_ONE };

static struct ui_tcell blank(const struct ui_term *t)
{
	return (struct ui_tcell){ ' ', UI_TERM_DEFAULT, t->pen.bg, 0 };
}

static struct ui_tcell *line_at(const struct ui_term *t, int idx)
{
	int cap = t->sb_max + t->rows;
	return t->lines + (size_t)((t->first + idx) % cap) * (size_t)t->cols;
}

/* Screen row Y (0 = top of the screen). */
static struct ui_tcell *screen_line(const struct ui_term *t, int y)
{
	return line_at(t, t->nlines - t->rows + y);
}

static void clear_cells(const struct ui_term *t, struct ui_tcell *c, int n)
{
	struct ui_tcell b = blank(t);
	for (int i = 0; i < n; i++)
		c[i] = b;
}

int ui_term_init(struct ui_term *t, int rows, int cols, int scrollback)
{
	memset(t, 0, sizeof(*t));
	if (rows < 1)
		rows = 1;
	if (cols < 1)
		cols = 1;
	t->rows = rows;
	t->cols = cols;
	t->sb_max = scrollback < 0 ? 0 : scrollback;
	t->lines = malloc((size_t)(t->sb_max + rows) * (size_t)cols * sizeof(*t->lines));
	if (!t->lines)
		return -1;
	t->pen = (struct ui_tcell){ ' ', UI_TERM_DEFAULT, UI_TERM_DEFAULT, 0 };
	t->nlines = rows;
	t->newline_mode = true;
	for (int y = 0; y < rows; y++)
		clear_cells(t, screen_line(t, y), cols);
	return 0;
}

void ui_term_free(struct ui_term *t)
{
	free(t->lines);
	t->lines = NULL;
}

int ui_term_resize(struct ui_term *t, int rows, int cols)
{
	if (rows == t->rows && cols == t->cols)
		return 0;
	struct ui_term n;
	if (ui_term_init(&n, rows, cols, t->sb_max) < 0)
		return -1;
	/* Keep the newest lines up to the cursor's, the cursor on the last. */
	int keep = t->nlines - (t->rows - 1 - t->cy);   /* lines up to the cursor's */
	int take = keep < n.sb_max + rows ? keep : n.sb_max + rows;
	n.nlines = take > rows ? take : rows;
	int w = cols < t->cols ? cols : t->cols;
	for (int i = 0; i < take; i++) {
		struct ui_tcell *dst = line_at(&n, i);
		clear_cells(&n, dst, cols);
		memcpy(dst, line_at(t, keep - take + i), (size_t)w * sizeof(*dst));
	}
	n.cy = take < rows ? take - 1 : rows - 1;
	if (n.cy < 0)
		n.cy = 0;
	n.cx = t->cx < cols ? t->cx : cols - 1;
	n.pen = t->pen;
	n.newline_mode = t->newline_mode;
	n.bytes = t->bytes;
	n.generation = t->generation + 1;
	free(t->lines);
	*t = n;
	return 0;
}

/* ---- screen operations ------------------------------------------------------------ */

static void scroll_up(struct ui_term *t)
{
	int cap = t->sb_max + t->rows;
	if (t->nlines < cap)
		t->nlines++;
	else
		t->first = (t->first + 1) % cap;
	clear_cells(t, screen_line(t, t->rows - 1), t->cols);
}

static void line_feed(struct ui_term *t)
{
	if (t->cy == t->rows - 1)
		scroll_up(t);
	else
		t->cy++;
}

static void put_char(struct ui_term *t, uint32_t ch)
{
	if (t->wrap_pending) {
		t->cx = 0;
		line_feed(t);
		t->wrap_pending = false;
	}
	struct ui_tcell c = t->pen;
	c.ch = ch;
	screen_line(t, t->cy)[t->cx] = c;
	if (t->cx == t->cols - 1)
		t->wrap_pending = true;
	else
		t->cx++;
}

static int param(const struct ui_term *t, int i, int def)
{
	return i < t->nparams && t->params[i] > 0 ? t->params[i] : def;
}

static void clamp_cursor(struct ui_term *t)
{
	t->cy = t->cy < 0 ? 0 : t->cy >= t->rows ? t->rows - 1 : t->cy;
	t->cx = t->cx < 0 ? 0 : t->cx >= t->cols ? t->cols - 1 : t->cx;
	t->wrap_pending = false;
}

static void erase_display(struct ui_term *t, int mode)
{
	struct ui_tcell *l = screen_line(t, t->cy);
	if (mode == 0) {
		clear_cells(t, l + t->cx, t->cols - t->cx);
		for (int y = t->cy + 1; y < t->rows; y++)
			clear_cells(t, screen_line(t, y), t->cols);
	} else if (mode == 1) {
		clear_cells(t, l, t->cx + 1);
		for (int y = 0; y < t->cy; y++)
			clear_cells(t, screen_line(t, y), t->cols);
	} else {
		for (int y = 0; y < t->rows; y++)
			clear_cells(t, screen_line(t, y), t->cols);
	}
}

static void erase_line(struct ui_term *t, int mode)
{
	struct ui_tcell *l = screen_line(t, t->cy);
	if (mode == 0)
		clear_cells(t, l + t->cx, t->cols - t->cx);
	else if (mode == 1)
		clear_cells(t, l, t->cx + 1);
	else
		clear_cells(t, l, t->cols);
}

static void sgr(struct ui_term *t)
{
	if (t->nparams == 0) {
		t->pen = (struct ui_tcell){ ' ', UI_TERM_DEFAULT, UI_TERM_DEFAULT, 0 };
		return;
	}
	for (int i = 0; i < t->nparams; i++) {
		int p = t->params[i];
		if (p == 0)
			t->pen = (struct ui_tcell){ ' ', UI_TERM_DEFAULT, UI_TERM_DEFAULT, 0 };
		else if (p == 1)
			t->pen.attr |= UI_TATTR_BOLD;
		else if (p == 4)
			t->pen.attr |= UI_TATTR_UNDERLINE;
		else if (p == 7)
			t->pen.attr |= UI_TATTR_REVERSE;
		else if (p == 22)
			t->pen.attr &= (uint8_t)~UI_TATTR_BOLD;
		else if (p == 24)
			t->pen.attr &= (uint8_t)~UI_TATTR_UNDERLINE;
		else if (p == 27)
			t->pen.attr &= (uint8_t)~UI_TATTR_REVERSE;
		else if (p >= 30 && p <= 37)
			t->pen.fg = (uint8_t)(p - 30);
		else if (p == 39)
			t->pen.fg = UI_TERM_DEFAULT;
		else if (p >= 40 && p <= 47)
			t->pen.bg = (uint8_t)(p - 40);
		else if (p == 49)
			t->pen.bg = UI_TERM_DEFAULT;
		else if (p >= 90 && p <= 97)
			t->pen.fg = (uint8_t)(p - 90 + 8);
		else if (p >= 100 && p <= 107)
			t->pen.bg = (uint8_t)(p - 100 + 8);
		else if ((p == 38 || p == 48) && i + 1 < t->nparams)
			i += t->params[i + 1] == 5 ? 2 : t->params[i + 1] == 2 ? 4 : 1;   /* 256/rgb: not kept */
	}
}

static void csi(struct ui_term *t, char final)
{
	if (t->private_mode)
		return;             /* modes (?25l ...) do not change the text */
	switch (final) {
	case 'A': t->cy -= param(t, 0, 1); break;
	case 'B': t->cy += param(t, 0, 1); break;
	case 'C': t->cx += param(t, 0, 1); break;
	case 'D': t->cx -= param(t, 0, 1); break;
	case 'E': t->cy += param(t, 0, 1); t->cx = 0; break;
	case 'F': t->cy -= param(t, 0, 1); t->cx = 0; break;
	case 'G': t->cx = param(t, 0, 1) - 1; break;
	case 'd': t->cy = param(t, 0, 1) - 1; break;
	case 'H':
	case 'f':
		t->cy = param(t, 0, 1) - 1;
		t->cx = param(t, 1, 1) - 1;
		break;
	case 'J': erase_display(t, t->nparams ? t->params[0] : 0); return;
	case 'K': erase_line(t, t->nparams ? t->params[0] : 0); return;
	case 'm': sgr(t); return;
	case 's': t->saved_cy = t->cy; t->saved_cx = t->cx; return;
	case 'u': t->cy = t->saved_cy; t->cx = t->saved_cx; break;
	default: return;
	}
	clamp_cursor(t);
}

static void control(struct ui_term *t, uint8_t c)
{
	switch (c) {
	case '\r': t->cx = 0; t->wrap_pending = false; break;
	case '\n':
	case '\v':
	case '\f':
		if (t->newline_mode)
			t->cx = 0;
		line_feed(t);
		t->wrap_pending = false;
		break;
	case '\b':
		if (t->cx > 0)
			t->cx--;
		t->wrap_pending = false;
		break;
	case '\t':
		t->cx = (t->cx / 8 + 1) * 8;
		if (t->cx >= t->cols)
			t->cx = t->cols - 1;
		break;
	case 0x1b: t->state = S_ESC; break;
	default: break;      /* BEL, NUL and the rest: nothing to show */
	}
}

static void esc(struct ui_term *t, uint8_t c)
{
	t->state = S_GROUND;
	switch (c) {
	case '[':
		t->state = S_CSI;
		t->nparams = 0;
		t->private_mode = false;
		memset(t->params, 0, sizeof(t->params));
		break;
	case ']': t->state = S_OSC; break;
	case '(': case ')': case '*': case '+': case '#': t->state = S_SKIP_ONE; break;
	case '7': t->saved_cy = t->cy; t->saved_cx = t->cx; break;
	case '8': t->cy = t->saved_cy; t->cx = t->saved_cx; clamp_cursor(t); break;
	case 'D': line_feed(t); break;
	case 'E': t->cx = 0; line_feed(t); break;
	case 'M':
		if (t->cy > 0)
			t->cy--;
		break;
	case 'c':
		t->pen = (struct ui_tcell){ ' ', UI_TERM_DEFAULT, UI_TERM_DEFAULT, 0 };
		t->cy = t->cx = 0;
		erase_display(t, 2);
		break;
	default: break;
	}
}

static void csi_byte(struct ui_term *t, uint8_t c)
{
	if (c >= '0' && c <= '9') {
		if (t->nparams == 0)
			t->nparams = 1;
		int *p = &t->params[t->nparams - 1];
		if (*p < 10000)
			*p = *p * 10 + (c - '0');
	} else if (c == ';') {
		if (t->nparams == 0)
			t->nparams = 1;
		if (t->nparams < (int)(sizeof(t->params) / sizeof(t->params[0])))
			t->params[t->nparams++] = 0;
	} else if (c == '?' || c == '>' || c == '=' || c == '<') {
		t->private_mode = true;
	} else if (c >= 0x40 && c <= 0x7e) {
		t->state = S_GROUND;
		csi(t, (char)c);
	} else if (c < 0x20) {
		control(t, c);           /* controls inside a sequence still act */
	}
}

static void ground_byte(struct ui_term *t, uint8_t c)
{
	if (t->utf8_left) {
		if ((c & 0xc0) == 0x80) {
			t->utf8_cp = t->utf8_cp << 6 | (c & 0x3f);
			if (--t->utf8_left == 0)
				put_char(t, t->utf8_cp);
			return;
		}
		t->utf8_left = 0;
		put_char(t, 0xfffd);
	}
	if (c < 0x20 || c == 0x7f) {
		if (c != 0x7f)
			control(t, c);
	} else if (c < 0x80) {
		put_char(t, c);
	} else if ((c & 0xe0) == 0xc0) {
		t->utf8_cp = c & 0x1f, t->utf8_left = 1;
	} else if ((c & 0xf0) == 0xe0) {
		t->utf8_cp = c & 0x0f, t->utf8_left = 2;
	} else if ((c & 0xf8) == 0xf0) {
		t->utf8_cp = c & 0x07, t->utf8_left = 3;
	} else {
		put_char(t, 0xfffd);     /* a stray byte: shown, not swallowed */
	}
}

void ui_term_feed(struct ui_term *t, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)buf[i];
		switch (t->state) {
		case S_GROUND: ground_byte(t, c); break;
		case S_ESC: esc(t, c); break;
		case S_CSI: csi_byte(t, c); break;
		case S_OSC:
			if (c == 0x07)
				t->state = S_GROUND;
			else if (c == 0x1b)
				t->state = S_OSC_ESC;
			break;
		case S_OSC_ESC: t->state = c == '\\' ? S_GROUND : S_OSC; break;
		case S_SKIP_ONE: t->state = S_GROUND; break;
		}
	}
	t->bytes += len;
	if (len)
		t->generation++;
}

int ui_term_scrollback(const struct ui_term *t)
{
	return t->nlines - t->rows;
}

const struct ui_tcell *ui_term_view_line(const struct ui_term *t, int back, int row)
{
	if (back < 0)
		back = 0;
	if (back > ui_term_scrollback(t))
		back = ui_term_scrollback(t);
	return line_at(t, t->nlines - t->rows - back + row);
}

void ui_term_line_text(const struct ui_term *t, int back, int row, char *buf, size_t len)
{
	const struct ui_tcell *l = ui_term_view_line(t, back, row);
	int end = t->cols;
	while (end > 0 && l[end - 1].ch == ' ')
		end--;
	size_t pos = 0;
	for (int i = 0; i < end && pos + 5 < len; i++) {
		uint32_t c = l[i].ch;
		if (c < 0x80) {
			buf[pos++] = (char)c;
		} else if (c < 0x800) {
			buf[pos++] = (char)(0xc0 | c >> 6);
			buf[pos++] = (char)(0x80 | (c & 0x3f));
		} else {
			buf[pos++] = (char)(0xe0 | (c >> 12 & 0x0f));
			buf[pos++] = (char)(0x80 | (c >> 6 & 0x3f));
			buf[pos++] = (char)(0x80 | (c & 0x3f));
		}
	}
	if (len)
		buf[pos < len ? pos : len - 1] = '\0';
}
