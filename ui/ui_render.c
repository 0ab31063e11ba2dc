#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_render.h"
#include "ui/ui_textmode.h"

#define BLACK 0x000000u

void ui_render_init(struct ui_render *r, enum ui_colors colors)
{
	memset(r, 0, sizeof(*r));
	r->colors = colors;
}

/* A colour as the cells keep it in this mode. */
static uint32_t quantise(const struct ui_render *r, uint32_t rgb)
{
	switch (r->colors) {
	case UI_COLORS_16: return (uint32_t)ui_render_rgb_to_16(rgb);
	case UI_COLORS_256: return (uint32_t)ui_render_rgb_to_256(rgb);
	default: return rgb;
	}
}

void ui_render_free(struct ui_render *r)
{
	free(r->cur);
	free(r->prev);
	r->cur = r->prev = NULL;
}

int ui_render_resize(struct ui_render *r, int cols, int rows)
{
	if (cols < 0)
		cols = 0;
	if (rows < 0)
		rows = 0;
	size_t n = (size_t)cols * (size_t)rows;
	struct ui_cell *cur = calloc(n ? n : 1, sizeof(*cur)), *prev = calloc(n ? n : 1, sizeof(*prev));
	if (!cur || !prev) {
		free(cur);
		free(prev);
		return -1;
	}
	free(r->cur);
	free(r->prev);
	r->cur = cur;
	r->prev = prev;
	r->cols = cols;
	r->rows = rows;
	r->prev_valid = false;
	r->fb_w = r->fb_h = -1;
	return 0;
}

void ui_render_invalidate(struct ui_render *r)
{
	r->prev_valid = false;
}

void ui_render_fit(int w, int h, int cols, int rows, int *ox, int *oy, int *pw, int *ph)
{
	*ox = *oy = *pw = *ph = 0;
	if (w <= 0 || h <= 0 || cols <= 0 || rows <= 0)
		return;
	/* Samples are square: pw samples across, 2 * ph down. */
	long sw = cols, sh = (long)cols * h / w;
	if (sh > 2L * rows) {
		sh = 2L * rows;
		sw = sh * w / h;
	}
	if (sw < 1)
		sw = 1;
	if (sh < 1)
		sh = 1;
	*pw = (int)sw;
	*ph = (int)((sh + 1) / 2);
	*ox = (cols - *pw) / 2;
	*oy = (rows - *ph) / 2;
}

/* ---- sampling ------------------------------------------------------------------- */

/* The average colour of source rectangle [x0, x1) x [y0, y1). */
static uint32_t average(const struct ui_fb *fb, int x0, int x1, int y0, int y1)
{
	if (x1 <= x0)
		x1 = x0 + 1;
	if (y1 <= y0)
		y1 = y0 + 1;
	if (x1 > fb->w)
		x1 = fb->w;
	if (y1 > fb->h)
		y1 = fb->h;
	uint32_t rs = 0, gs = 0, bs = 0, n = 0;
	for (int y = y0; y < y1; y++) {
		const uint8_t *row = fb->pixels + (size_t)y * fb->stride;
		for (int x = x0; x < x1; x++) {
			uint32_t p;
			memcpy(&p, row + (size_t)x * 4, 4);
			rs += p >> fb->rshift & 0xff;
			gs += p >> fb->gshift & 0xff;
			bs += p >> fb->bshift & 0xff;
			n++;
		}
	}
	if (!n)
		return BLACK;
	return (rs + n / 2) / n << 16 | (gs + n / 2) / n << 8 | (bs + n / 2) / n;
}

static const uint8_t cube_levels[6] = { 0, 95, 135, 175, 215, 255 };

static int nearest_level(int v)
{
	/* The cube's steps are uneven: 0, 95, then every 40. */
	if (v < 48)
		return 0;
	if (v < 115)
		return 1;
	return (v - 35) / 40 > 5 ? 5 : (v - 35) / 40;
}

static int dist2(int r1, int g1, int b1, int r2, int g2, int b2)
{
	return (r1 - r2) * (r1 - r2) + (g1 - g2) * (g1 - g2) + (b1 - b2) * (b1 - b2);
}

int ui_render_rgb_to_16(uint32_t rgb)
{
	static const uint32_t ansi[16] = {
		0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
		0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
	};
	int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff, best = 0, bd = 1 << 30;
	for (int i = 0; i < 16; i++) {
		int d = dist2(r, g, b, (int)(ansi[i] >> 16), (int)(ansi[i] >> 8 & 0xff), (int)(ansi[i] & 0xff));
		if (d < bd) {
			bd = d;
			best = i;
		}
	}
	return best;
}

int ui_render_rgb_to_256(uint32_t rgb)
{
	int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
	int ri = nearest_level(r), gi = nearest_level(g), bi = nearest_level(b);
	int cube = 16 + 36 * ri + 6 * gi + bi;
	int dc = dist2(r, g, b, cube_levels[ri], cube_levels[gi], cube_levels[bi]);
	/* The grey ramp 232..255 is 8, 18, ..., 238. */
	int avg = (r + g + b) / 3;
	int gi2 = avg < 3 ? 0 : (avg - 3) / 10 > 23 ? 23 : (avg - 3) / 10;
	int gv = 8 + 10 * gi2;
	int dg = dist2(r, g, b, gv, gv, gv);
	return dg < dc ? 232 + gi2 : cube;
}

void ui_render_frame(struct ui_render *r, const struct ui_fb *fb)
{
	size_t n = (size_t)r->cols * (size_t)r->rows;
	if (!n)
		return;
	bool empty = !fb || !fb->pixels || fb->w <= 0 || fb->h <= 0;
	if (empty) {
		memset(r->cur, 0, n * sizeof(*r->cur));
		uint32_t k = quantise(r, BLACK);
		for (size_t i = 0; i < n; i++)
			r->cur[i] = (struct ui_cell){ k, k, 0 };
		return;
	}
	if (fb->w != r->fb_w || fb->h != r->fb_h) {
		ui_render_fit(fb->w, fb->h, r->cols, r->rows, &r->ox, &r->oy, &r->pw, &r->ph);
		r->fb_w = fb->w;
		r->fb_h = fb->h;
	}
	uint32_t black = quantise(r, BLACK);
	for (size_t i = 0; i < n; i++)
		r->cur[i] = (struct ui_cell){ black, black, 0 };
	int sh = 2 * r->ph;
	for (int cy = 0; cy < r->ph; cy++) {
		struct ui_cell *row = r->cur + (size_t)(r->oy + cy) * (size_t)r->cols + r->ox;
		for (int half = 0; half < 2; half++) {
			int s = 2 * cy + half;
			int y0 = (int)((long)s * fb->h / sh), y1 = (int)((long)(s + 1) * fb->h / sh);
			if (y0 >= fb->h)
				continue;
			for (int cx = 0; cx < r->pw; cx++) {
				int x0 = (int)((long)cx * fb->w / r->pw), x1 = (int)((long)(cx + 1) * fb->w / r->pw);
				uint32_t c = quantise(r, average(fb, x0, x1, y0, y1));
				if (half == 0)
					row[cx].top = c;
				else
					row[cx].bottom = c;
			}
		}
	}
	r->frames++;
}

size_t ui_render_emit_bound(const struct ui_render *r)
{
	/* Per cell at most: a cursor move (12), two 24-bit colours (40), a
	 * 3-byte glyph; then SGR 0. */
	return (size_t)r->cols * (size_t)r->rows * 60 + 16;
}

bool ui_render_text(struct ui_render *r, const struct ui_textscreen *ts)
{
	if (ts->cols > r->cols || ts->rows > r->rows)
		return false;
	uint32_t black = quantise(r, BLACK);
	size_t n = (size_t)r->cols * (size_t)r->rows;
	for (size_t i = 0; i < n; i++)
		r->cur[i] = (struct ui_cell){ black, black, 0 };
	int ox = (r->cols - ts->cols) / 2, oy = (r->rows - ts->rows) / 2;
	for (int y = 0; y < ts->rows; y++) {
		for (int x = 0; x < ts->cols; x++) {
			const struct ui_textcell *t = &ts->cells[y * ts->cols + x];
			uint32_t fg = quantise(r, t->fg), bg = quantise(r, t->bg);
			r->cur[(size_t)(oy + y) * (size_t)r->cols + (size_t)(ox + x)] =
				(struct ui_cell){ fg, bg, t->ch ? t->ch : ' ' };
		}
	}
	/* The pixel fit no longer describes the area. */
	r->fb_w = r->fb_h = -1;
	r->frames++;
	return true;
}

/* ---- emitting -------------------------------------------------------------------- */

struct emitter {
	char *out;
	size_t cap, len;
	enum ui_colors colors;
	uint32_t fg, bg;
	bool have_fg, have_bg;
	int cy, cx;               /* where the terminal cursor is; -1: unknown */
};

static bool fits(struct emitter *e, size_t need)
{
	return e->len + need + 8 <= e->cap;     /* keep room for the final SGR 0 */
}

static void emit_str(struct emitter *e, const char *s, size_t n)
{
	memcpy(e->out + e->len, s, n);
	e->len += n;
}

static size_t sgr_color(char *buf, enum ui_colors colors, int which, uint32_t c)
{
	if (colors == UI_COLORS_TRUE)
		return (size_t)sprintf(buf, "%d;2;%u;%u;%u", which, c >> 16 & 0xff, c >> 8 & 0xff, c & 0xff);
	if (colors == UI_COLORS_256)
		return (size_t)sprintf(buf, "%d;5;%u", which, c & 0xff);
	/* 30-37 / 40-47, and the bright ones 90-97 / 100-107. */
	int base = which == 38 ? (c < 8 ? 30 : 90) : (c < 8 ? 40 : 100);
	return (size_t)sprintf(buf, "%u", (unsigned)base + (c & 7));
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80 && c >= 0x20) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c > 0xffff)
		c = 0xfffd;
	out[0] = (char)(0xe0 | c >> 12);
	out[1] = (char)(0x80 | (c >> 6 & 0x3f));
	out[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

/* Writes one cell at screen (Y, X); false when OUT is full. */
static bool emit_cell(struct emitter *e, int y, int x, struct ui_cell c)
{
	char buf[96];
	size_t n = 0;
	if (e->cy != y || e->cx != x)
		n += (size_t)sprintf(buf, "\033[%d;%dH", y + 1, x + 1);
	/* Two equal halves are a space: only the background matters.  So is a
	 * blank character. */
	bool solid = c.ch ? c.ch == ' ' : c.top == c.bottom;
	bool need_fg = !solid && (!e->have_fg || e->fg != c.top);
	bool need_bg = !e->have_bg || e->bg != c.bottom;
	if (need_fg || need_bg) {
		buf[n++] = '\033';
		buf[n++] = '[';
		if (need_fg)
			n += sgr_color(buf + n, e->colors, 38, c.top);
		if (need_fg && need_bg)
			buf[n++] = ';';
		if (need_bg)
			n += sgr_color(buf + n, e->colors, 48, c.bottom);
		buf[n++] = 'm';
	}
	char text[4];
	const char *glyph = solid ? " " : "\xe2\x96\x80";     /* U+2580 upper half block */
	size_t gl = solid ? 1 : 3;
	if (c.ch && !solid) {
		gl = utf8_encode(c.ch, text);
		glyph = text;
	}
	if (!fits(e, n + gl))
		return false;
	emit_str(e, buf, n);
	emit_str(e, glyph, gl);
	if (need_fg) {
		e->fg = c.top;
		e->have_fg = true;
	}
	if (need_bg) {
		e->bg = c.bottom;
		e->have_bg = true;
	}
	e->cy = y;
	e->cx = x + 1;
	return true;
}

size_t ui_render_emit(struct ui_render *r, int y, int x, char *out, size_t cap)
{
	struct emitter e = { .out = out, .cap = cap, .colors = r->colors, .cy = -1, .cx = -1 };
	bool full = true;
	for (int cy = 0; cy < r->rows && full; cy++) {
		for (int cx = 0; cx < r->cols; cx++) {
			size_t i = (size_t)cy * (size_t)r->cols + (size_t)cx;
			struct ui_cell c = r->cur[i];
			if (r->prev_valid && r->prev[i].top == c.top && r->prev[i].bottom == c.bottom &&
			    r->prev[i].ch == c.ch)
				continue;
			if (!emit_cell(&e, y + cy, x + cx, c)) {
				full = false;
				break;
			}
			r->prev[i] = c;
			r->cells_written++;
		}
	}
	if (e.len) {
		memcpy(out + e.len, "\033[0m", 4);
		e.len += 4;
	}
	/* Whatever did not fit is still different from prev: once every cell
	 * was written, prev describes the terminal. */
	if (full)
		r->prev_valid = true;
	r->bytes_written += e.len;
	return e.len;
}
