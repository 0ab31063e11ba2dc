/* VGA text mode drawn into the display surface: characters and attributes
 * from planes 0 and 1, glyphs from plane 2 (the built-in font unless the
 * guest loaded its own), 8 or 9 pixel wide cells, the hardware cursor and
 * blinking.  Only cells that changed since the last frame are drawn. */
#include <string.h>

#include "vmm/vga_render.h"

#define CURSOR_BLINK_MS 267   /* 16 frames at 60 Hz */
#define TEXT_BLINK_MS   533   /* 32 frames */

/* Per cell in v->shadow: character, attribute and what blinking showed. */
enum { SH_CHAR, SH_ATTR, SH_STATE, SH_SIZE };
#define ST_VALID  0x01
#define ST_CURSOR 0x02
#define ST_HIDDEN 0x04

bool vga_text_geometry(const struct vga_snapshot *s, struct vga_text_mode *m)
{
	const uint8_t *cr = s->r.cr;
	unsigned vde = cr[0x12] | (cr[0x07] & 0x02) << 7 | (cr[0x07] & 0x40) << 3;
	m->cw = (s->r.sr[1] & 1) ? 8 : 9;
	m->ch = (cr[0x09] & 0x1f) + 1;
	m->cols = cr[0x01] + 1u;
	m->rows = (vde + 1) / m->ch;
	m->start = (unsigned)cr[0x0c] << 8 | cr[0x0d];
	m->stride = cr[0x13] * 2u;
	if (m->cols < 1 || m->rows < 1 || m->ch > 32)
		return false;
	return m->cols * m->cw <= VBE_MAX_XRES && m->rows * m->ch <= VBE_MAX_YRES;
}

/* Plane 2 offset of font map SEL (0-7): 0, 16, 32, 48, 8, 24, 40, 56 KiB. */
static unsigned font_offset(unsigned sel)
{
	return ((sel & 3) * 16 + (sel >> 2) * 8) * 1024;
}

struct cell {
	uint8_t ch, attr, state;
};

static void draw_cell(struct vga *v, const struct vga_snapshot *s, const struct vga_text_mode *m,
		      unsigned col, unsigned row, struct cell c)
{
	uint8_t sr3 = s->r.sr[3];
	unsigned map_a = ((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3), map_b = ((sr3 >> 4) & 1) << 2 | (sr3 & 3);
	unsigned font = font_offset((c.attr & 0x08) ? map_a : map_b);
	bool blink_attr = s->r.ar[0x10] & 0x08;
	uint32_t fg = vga_attr_color(s, c.attr & 0x0f);
	uint32_t bg = vga_attr_color(s, blink_attr ? (c.attr >> 4) & 7 : c.attr >> 4);
	if (c.state & ST_HIDDEN)
		fg = bg;
	bool lge = (s->r.ar[0x10] & 0x04) && c.ch >= 0xc0 && c.ch <= 0xdf;
	unsigned cs = s->r.cr[0x0a] & 0x1f, ce = s->r.cr[0x0b] & 0x1f;
	uint32_t *px = v->surface.pixels + (size_t)row * m->ch * v->surface.width + col * m->cw;
	for (unsigned y = 0; y < m->ch; y++, px += v->surface.width) {
		uint32_t off = (font + c.ch * 32u + y) * 4 + 2;
		uint8_t bits = off < VGA_PLANES_SIZE ? v->vram[off] : 0;
		if ((c.state & ST_CURSOR) && y >= cs && y <= ce)
			bits = 0xff;
		for (unsigned x = 0; x < 8; x++)
			px[x] = (bits & (0x80 >> x)) ? fg : bg;
		if (m->cw == 9)
			px[8] = (lge && (bits & 1)) || ((c.state & ST_CURSOR) && y >= cs && y <= ce) ? fg : bg;
	}
}

static struct cell read_cell(const struct vga *v, const struct vga_snapshot *s, const struct vga_text_mode *m,
			     unsigned i, unsigned cursor, uint64_t now_ms)
{
	/* Odd/even text: character I is at plane 0/1 offset 2*I, vram[4*(2*I)/2]. */
	uint32_t off = ((m->start + (i / m->cols) * m->stride + i % m->cols) * 4) % VGA_PLANES_SIZE;
	struct cell c = { v->vram[off], v->vram[off + 1], ST_VALID };
	bool cursor_on = !(s->r.cr[0x0a] & 0x20) && (now_ms / CURSOR_BLINK_MS) % 2 == 0;
	if (i == cursor && cursor_on)
		c.state |= ST_CURSOR;
	if ((s->r.ar[0x10] & 0x08) && (c.attr & 0x80) && (now_ms / TEXT_BLINK_MS) % 2 == 1)
		c.state |= ST_HIDDEN;
	return c;
}

void vga_text_render(struct vga *v, const struct vga_snapshot *s, const struct vga_text_mode *m,
		     bool full, uint64_t now_ms, struct dirty_rects *dirty)
{
	unsigned n = m->cols * m->rows;
	/* The cursor address counts like the start address; make it a cell. */
	unsigned rel = (((unsigned)s->r.cr[0x0e] << 8 | s->r.cr[0x0f]) - m->start) & 0xffff;
	unsigned cursor = n;
	if (m->stride && rel % m->stride < m->cols && rel / m->stride < m->rows)
		cursor = (rel / m->stride) * m->cols + rel % m->stride;
	for (unsigned i = 0; i < n; i++) {
		struct cell c = read_cell(v, s, m, i, cursor, now_ms);
		uint8_t *sh = v->shadow + i * SH_SIZE;
		if (!full && sh[SH_CHAR] == c.ch && sh[SH_ATTR] == c.attr && sh[SH_STATE] == c.state)
			continue;
		sh[SH_CHAR] = c.ch;
		sh[SH_ATTR] = c.attr;
		sh[SH_STATE] = c.state;
		unsigned col = i % m->cols, row = i / m->cols;
		draw_cell(v, s, m, col, row, c);
		dirty_add(dirty, col * m->cw, row * m->ch, m->cw, m->ch);
	}
}
