#include <stdlib.h>
#include <string.h>

#include "ui/ui_textmode.h"

/* Unicode of code page 437's 0x00-0x1f and 0x7f-0xff. */
static const uint16_t cp437_low[32] = {
	0x0020, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25d8, 0x25cb, 0x25d9, 0x2642, 0x2640,
	0x266a, 0x266b, 0x263c, 0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7, 0x25ac, 0x21a8, 0x2191, 0x2193,
	0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc,
};

static const uint16_t cp437_high[129] = {
	0x2302,
	0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee,
	0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9, 0x00ff, 0x00d6,
	0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa,
	0x00ba, 0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb, 0x2591, 0x2592, 0x2593, 0x2502,
	0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510, 0x2514,
	0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, 0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550,
	0x256c, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b, 0x256a, 0x2518, 0x250c,
	0x2588, 0x2584, 0x258c, 0x2590, 0x2580, 0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4,
	0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229, 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320,
	0x2321, 0x00f7, 0x2248, 0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x0020,
};

uint32_t ui_cp437(uint8_t c)
{
	if (c < 0x20)
		return cp437_low[c];
	if (c < 0x7f)
		return c;
	return cp437_high[c - 0x7f];
}

/* ---- the glyph index ------------------------------------------------------------ */

struct glyph {
	uint64_t a, b;               /* rows 0-7 and 8-15, 8 bits each */
	uint32_t ch;
};

struct ui_font_index {
	struct glyph g[256];
	int n;
};

static struct glyph pack(const uint8_t rows[16])
{
	struct glyph g = { 0, 0, 0 };
	for (int r = 0; r < 8; r++) {
		g.a |= (uint64_t)rows[r] << (8 * r);
		g.b |= (uint64_t)rows[r + 8] << (8 * r);
	}
	return g;
}

struct ui_font_index *ui_font_index_new(const uint8_t (*font)[16])
{
	struct ui_font_index *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return NULL;
	/* Glyphs that look alike (blank, say) mean the plainest character:
	 * printable ASCII first, then the rest. */
	for (int pass = 0; pass < 2; pass++) {
		for (int c = 0; c < 256; c++) {
			bool ascii = c >= 0x20 && c < 0x7f;
			if (ascii != (pass == 0))
				continue;
			struct glyph g = pack(font[c]);
			bool dup = false;
			for (int i = 0; i < ix->n && !dup; i++)
				dup = ix->g[i].a == g.a && ix->g[i].b == g.b;
			if (dup)
				continue;
			g.ch = ui_cp437((uint8_t)c);
			ix->g[ix->n++] = g;
		}
	}
	return ix;
}

void ui_font_index_free(struct ui_font_index *ix)
{
	free(ix);
}

/* ---- reading a screen ------------------------------------------------------------- */

static uint32_t pixel(const struct ui_fb *fb, int x, int y)
{
	uint32_t p;
	memcpy(&p, fb->pixels + (size_t)y * fb->stride + (size_t)x * 4, 4);
	return (p >> fb->rshift & 0xff) << 16 | (p >> fb->gshift & 0xff) << 8 | (p >> fb->bshift & 0xff);
}

/* The nearest glyph to (A, B); its distance in bits. */
static int nearest(const struct ui_font_index *ix, uint64_t a, uint64_t b, uint32_t *ch)
{
	int best = 129;
	for (int i = 0; i < ix->n && best; i++) {
		int d = __builtin_popcountll(ix->g[i].a ^ a) + __builtin_popcountll(ix->g[i].b ^ b);
		if (d < best) {
			best = d;
			*ch = ix->g[i].ch;
		}
	}
	return best;
}

/* One cell: two colours, the glyph drawn with them.  False when the cell
 * has more colours than text mode ever draws in one cell. */
static bool read_cell(const struct ui_fb *fb, const struct ui_font_index *ix, int x0, int y0, int cw,
		      struct ui_textcell *out, bool *exact)
{
	uint32_t c0 = pixel(fb, x0, y0), c1 = c0;
	int n0 = 0, n1 = 0;
	uint64_t a = 0, b = 0;
	for (int r = 0; r < 16; r++) {
		for (int x = 0; x < 8; x++) {
			uint32_t p = pixel(fb, x0 + x, y0 + r);
			if (p == c0) {
				n0++;
				continue;
			}
			if (n1 == 0)
				c1 = p;
			else if (p != c1)
				return false;
			n1++;
			/* Font rows have the leftmost pixel in the top bit. */
			if (r < 8)
				a |= 1ull << (8 * r + 7 - x);
			else
				b |= 1ull << (8 * (r - 8) + 7 - x);
		}
	}
	/* Bits are set where the colour is not the first pixel's: that is the
	 * background or the foreground; try both readings.  The ninth column,
	 * where there is one, is the background's (but for line-drawing
	 * characters): it settles a tie. */
	uint32_t ch1 = ' ', ch2 = ' ';
	int d1 = nearest(ix, a, b, &ch1);
	int d2 = nearest(ix, ~a, ~b, &ch2);
	uint32_t ninth = cw == 9 ? pixel(fb, x0 + 8, y0) : c0;
	if (d1 == d2 && ninth != c0 && (n1 == 0 || ninth == c1)) {
		if (n1 == 0)
			c1 = ninth;           /* one colour in eight columns: the glyph fills them */
		*out = (struct ui_textcell){ ch2, c0, c1 };
	} else if (d1 <= d2) {
		*out = (struct ui_textcell){ ch1, n1 ? c1 : c0, c0 };
	} else {
		*out = (struct ui_textcell){ ch2, c0, n1 ? c1 : c0 };
		d1 = d2;
	}
	*exact = d1 <= 2;
	return true;
}

bool ui_textmode_read(const struct ui_fb *fb, const struct ui_font_index *ix, struct ui_textscreen *out)
{
	if (!fb || !fb->pixels || !ix || fb->h % 16 || fb->h / 16 > UI_TEXT_MAX_ROWS)
		return false;
	int cw = fb->w % 9 == 0 && (fb->w / 9 == 80 || fb->w / 9 == 40) ? 9 : 8;
	int cols = fb->w / cw;
	if (fb->w % cw || (cols != 40 && cols != 80 && cols != 132))
		return false;
	out->cols = cols;
	out->rows = fb->h / 16;
	out->unmatched = 0;
	int cells = cols * out->rows, limit = cells / 10;
	for (int y = 0; y < out->rows; y++) {
		for (int x = 0; x < cols; x++) {
			bool exact;
			if (!read_cell(fb, ix, x * cw, y * 16, cw, &out->cells[y * cols + x], &exact))
				return false;             /* a picture, not text */
			if (!exact && ++out->unmatched > limit)
				return false;
		}
	}
	return true;
}
