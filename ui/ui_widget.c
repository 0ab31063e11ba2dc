/* Drawing helpers shared by every view: clipped text, boxes, the
 * function-key bar, meters, lists and text fields. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ui/ui.h"

/* Bytes of the UTF-8 character starting at S. */
static int char_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
	for (int i = 1; i < n; i++)
		if (!s[i])
			return i;
	return n;
}

int ui_width(const char *s)
{
	int w = 0;
	for (; *s; s += char_len(s))
		w++;
	return w;
}

void ui_text(int y, int x, int w, attr_t attr, const char *s)
{
	if (w <= 0)
		return;
	attr_t old_attr;
	short old_pair;
	attr_get(&old_attr, &old_pair, NULL);
	attrset(attr);
	move(y, x);
	int col = 0;
	char buf[8];
	for (const char *p = s ? s : ""; *p && col < w; col++) {
		int n = char_len(p);
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f) {
			addch(' ');          /* never a control character on the screen */
		} else {
			memcpy(buf, p, (size_t)n);
			buf[n] = '\0';
			addstr(buf);
		}
		p += n;
	}
	for (; col < w; col++)
		addch(' ');
	attr_set(old_attr, old_pair, NULL);
}

void ui_textf(int y, int x, int w, attr_t attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui_text(y, x, w, attr, buf);
}

void ui_text_right(int y, int x, int w, attr_t attr, const char *s)
{
	int sw = ui_width(s);
	if (sw >= w) {
		ui_text(y, x, w, attr, s);
		return;
	}
	ui_text(y, x, w - sw, attr, "");
	ui_text(y, x + w - sw, sw, attr, s);
}

void ui_fill(struct ui_rect r, attr_t attr)
{
	for (int y = 0; y < r.h; y++)
		ui_text(r.y + y, r.x, r.w, attr, "");
}

void ui_box(const struct ui_app *app, struct ui_rect r, attr_t attr, attr_t title_attr, const char *title)
{
	if (r.h < 2 || r.w < 4)
		return;
	ui_fill(r, attr);
	attr_t old_attr;
	short old_pair;
	attr_get(&old_attr, &old_pair, NULL);
	attrset(attr);
	mvaddch(r.y, r.x, ACS_ULCORNER);
	mvhline(r.y, r.x + 1, ACS_HLINE, r.w - 2);
	mvaddch(r.y, r.x + r.w - 1, ACS_URCORNER);
	mvvline(r.y + 1, r.x, ACS_VLINE, r.h - 2);
	mvvline(r.y + 1, r.x + r.w - 1, ACS_VLINE, r.h - 2);
	mvaddch(r.y + r.h - 1, r.x, ACS_LLCORNER);
	mvhline(r.y + r.h - 1, r.x + 1, ACS_HLINE, r.w - 2);
	mvaddch(r.y + r.h - 1, r.x + r.w - 1, ACS_LRCORNER);
	attr_set(old_attr, old_pair, NULL);
	if (title && *title) {
		char t[256];
		snprintf(t, sizeof(t), " %s ", title);
		int tw = ui_width(t);
		if (tw > r.w - 4)
			tw = r.w - 4;
		ui_text(r.y, r.x + 2, tw, title_attr, t);
	}
}

void ui_hints(const struct ui_app *app, struct ui_rect r, const struct ui_hint *hints)
{
	int x = r.x, end = r.x + r.w;
	for (const struct ui_hint *h = hints; h && h->key && x < end; h++) {
		int kw = ui_width(h->key), lw = ui_width(h->label) + 1;
		if (x + kw > end)
			break;
		ui_text(r.y, x, kw, ui_attr(app, UI_R_HINT_KEY), h->key);
		x += kw;
		if (x + lw > end)
			lw = end - x;
		ui_text(r.y, x, lw, ui_attr(app, UI_R_HINT_LABEL), h->label);
		x += lw;
	}
	if (x < end)
		ui_text(r.y, x, end - x, ui_attr(app, UI_R_HINT_LABEL), "");
}

void ui_meter(const struct ui_app *app, int y, int x, int w, const char *label, double frac, const char *text)
{
	int lw = ui_width(label);
	ui_text(y, x, lw, ui_attr(app, UI_R_METER_LABEL), label);
	int inner = w - lw - 2;
	if (inner < 1)
		return;
	ui_text(y, x + lw, 1, ui_attr(app, UI_R_BOLD), "[");
	if (!(frac >= 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	int tw = ui_width(text), fill = (int)(frac * inner + 0.5);
	attr_t bar = ui_attr(app, frac > 0.85 ? UI_R_METER_HIGH : UI_R_METER_BAR);
	for (int i = 0; i < inner; i++) {
		/* The text sits right-aligned inside the bar, as in htop. */
		int ti = i - (inner - tw);
		char ch[8] = " ";
		attr_t a = ui_attr(app, UI_R_METER_TEXT);
		if (ti >= 0 && ti < tw) {
			const char *p = text;
			for (int k = 0; k < ti; k++)
				p += char_len(p);
			int n = char_len(p);
			memcpy(ch, p, (size_t)n);
			ch[n] = '\0';
		} else if (i < fill) {
			strcpy(ch, "|");
			a = bar;
		}
		ui_text(y, x + lw + 1 + i, 1, a, ch);
	}
	ui_text(y, x + lw + 1 + inner, 1, ui_attr(app, UI_R_BOLD), "]");
}

void ui_too_small(const struct ui_app *app, int need_rows, int need_cols)
{
	/* Short lines: the terminal may be very narrow. */
	char need[64], have[64];
	snprintf(need, sizeof(need), "vmdeck needs %dx%d,", need_cols, need_rows);
	snprintf(have, sizeof(have), "this terminal is %dx%d.", app->cols, app->rows);
	int y = app->rows / 2 - 1;
	if (y < 0)
		y = 0;
	ui_text(y, 0, app->cols, ui_attr(app, UI_R_BOLD), need);
	if (y + 1 < app->rows)
		ui_text(y + 1, 0, app->cols, ui_attr(app, UI_R_BOLD), have);
	if (y + 2 < app->rows)
		ui_text(y + 2, 0, app->cols, ui_attr(app, UI_R_DIM), "Enlarge it, or q quits.");
}

/* ---- lists ------------------------------------------------------------------------- */

void ui_list_fix(struct ui_list *l, int h)
{
	if (l->sel >= l->n)
		l->sel = l->n - 1;
	if (l->sel < 0)
		l->sel = 0;
	if (h < 1)
		h = 1;
	if (l->top > l->sel)
		l->top = l->sel;
	if (l->sel >= l->top + h)
		l->top = l->sel - h + 1;
	if (l->top > l->n - h)
		l->top = l->n - h;
	if (l->top < 0)
		l->top = 0;
}

bool ui_list_key(struct ui_list *l, struct ui_key k, int h)
{
	if (k.is_code) {
		switch (k.code) {
		case KEY_UP: l->sel--; break;
		case KEY_DOWN: l->sel++; break;
		case KEY_PPAGE: l->sel -= h > 1 ? h - 1 : 1; break;
		case KEY_NPAGE: l->sel += h > 1 ? h - 1 : 1; break;
		case KEY_HOME: l->sel = 0; break;
		case KEY_END: l->sel = l->n - 1; break;
		default: return false;
		}
	} else if (k.code == 'k') {
		l->sel--;
	} else if (k.code == 'j') {
		l->sel++;
	} else {
		return false;
	}
	ui_list_fix(l, h);
	return true;
}

/* ---- text fields ------------------------------------------------------------------- */

void ui_field_set(struct ui_field *f, const char *s)
{
	snprintf(f->buf, sizeof(f->buf), "%s", s ? s : "");
	f->len = f->cur = strlen(f->buf);
}

static size_t prev_char(const struct ui_field *f, size_t i)
{
	while (i > 0 && ((unsigned char)f->buf[--i] & 0xc0) == 0x80)
		;
	return i;
}

static size_t next_char(const struct ui_field *f, size_t i)
{
	return i < f->len ? i + (size_t)char_len(f->buf + i) : i;
}

static void cut(struct ui_field *f, size_t from, size_t to)
{
	memmove(f->buf + from, f->buf + to, f->len - to + 1);
	f->len -= to - from;
	f->cur = from;
}

bool ui_field_key(struct ui_field *f, struct ui_key k)
{
	if (k.is_code) {
		switch (k.code) {
		case KEY_LEFT: f->cur = prev_char(f, f->cur); return true;
		case KEY_RIGHT: f->cur = next_char(f, f->cur); return true;
		case KEY_HOME: f->cur = 0; return true;
		case KEY_END: f->cur = f->len; return true;
		case KEY_BACKSPACE:
			if (f->cur)
				cut(f, prev_char(f, f->cur), f->cur);
			return true;
		case KEY_DC:
			if (f->cur < f->len)
				cut(f, f->cur, next_char(f, f->cur));
			return true;
		default: return false;
		}
	}
	if (k.code == 0x7f || k.code == 0x08) {
		if (f->cur)
			cut(f, prev_char(f, f->cur), f->cur);
		return true;
	}
	if (k.code == 0x15) {             /* Ctrl-U */
		cut(f, 0, f->cur);
		return true;
	}
	if (k.code == 0x01) {             /* Ctrl-A */
		f->cur = 0;
		return true;
	}
	if (k.code == 0x05) {             /* Ctrl-E */
		f->cur = f->len;
		return true;
	}
	if (k.code < 0x20 || k.code == 0x7f || k.code > 0x10ffff)
		return false;
	char u[4];
	size_t n;
	unsigned c = (unsigned)k.code;
	if (c < 0x80) {
		u[0] = (char)c, n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | (c >> 6 & 0x3f)), u[2] = (char)(0x80 | (c & 0x3f)), n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18), u[1] = (char)(0x80 | (c >> 12 & 0x3f)),
		u[2] = (char)(0x80 | (c >> 6 & 0x3f)), u[3] = (char)(0x80 | (c & 0x3f)), n = 4;
	}
	if (f->len + n + 1 > sizeof(f->buf))
		return true;
	memmove(f->buf + f->cur + n, f->buf + f->cur, f->len - f->cur + 1);
	memcpy(f->buf + f->cur, u, n);
	f->len += n;
	f->cur += n;
	return true;
}

void ui_field_draw(const struct ui_app *app, const struct ui_field *f, int y, int x, int w, attr_t attr,
		   bool focus)
{
	if (w < 1)
		return;
	/* Scroll so that the cursor stays visible. */
	int cur_col = 0;
	for (size_t i = 0; i < f->cur; i = next_char(f, i))
		cur_col++;
	int skip = cur_col >= w ? cur_col - w + 1 : 0;
	const char *p = f->buf;
	for (int i = 0; i < skip && *p; i++)
		p += char_len(p);
	ui_text(y, x, w, attr, p);
	if (focus) {
		int cx = x + cur_col - skip;
		char under[8] = " ";
		const char *c = f->buf + f->cur;
		if (*c) {
			int n = char_len(c);
			memcpy(under, c, (size_t)n);
			under[n] = '\0';
		}
		ui_text(y, cx, 1, attr | A_REVERSE, under);
	}
}
