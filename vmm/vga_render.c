/* From video memory to the display surface, doing as little as possible:
 * VBE modes read KVM's dirty log of the framebuffer memslot and compare
 * only the lines on dirty pages, 16 pixels at a time; text mode compares
 * cells; legacy graphics modes are drawn again only after the window or
 * the registers were written.  An idle screen costs one ioctl per frame. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/vga_render.h"

#define LONG_BITS (8 * sizeof(unsigned long))
#define PAGES (VGA_VRAM_SIZE / 4096)
#define CHUNK 16

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vga_now_ms(void)
{
	return now_ns() / 1000000;
}

uint32_t vga_dac_color(const struct vga_snapshot *s, unsigned i)
{
	const uint8_t *p = &s->r.palette[(i & 0xff) * 3];
	if (s->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC)
		return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	uint32_t c = 0;
	for (int k = 0; k < 3; k++) {
		unsigned x = p[k] & 0x3f;
		c = c << 8 | (x << 2 | x >> 4);
	}
	return c;
}

uint32_t vga_attr_color(const struct vga_snapshot *s, unsigned c)
{
	const uint8_t *ar = s->r.ar;
	unsigned i = ar[c & 0x0f] & 0x3f;
	if (ar[0x10] & 0x80)
		i = (i & 0x0f) | (ar[0x14] & 0x03) << 4;
	i |= (ar[0x14] & 0x0c) << 4;
	return vga_dac_color(s, i);
}

/* ---- surface ------------------------------------------------------------- */

/* The surface never moves: it is allocated once for the largest mode
 * (untouched pages cost nothing), so a consumer holding the pointer can
 * never read freed memory when the mode changes.  NULL when out of memory. */
static uint32_t *surface_pixels(struct vga *v)
{
	if (!v->surface.pixels)
		v->surface.pixels = calloc((size_t)VBE_MAX_XRES * VBE_MAX_YRES, 4);
	return v->surface.pixels;
}

static bool resize(struct vga *v, unsigned w, unsigned h)
{
	if (!surface_pixels(v) || (v->surface.width == w && v->surface.height == h))
		return false;
	v->surface.width = w;
	v->surface.height = h;
	memset(v->surface.pixels, 0, (size_t)w * h * 4);
	return true;
}

/* ---- VBE linear modes ---------------------------------------------------- */

static void convert(uint32_t *dst, const uint8_t *src, unsigned n, unsigned bpp, const uint32_t *pal)
{
	switch (bpp) {
	case 32:
		for (unsigned i = 0; i < n; i++, src += 4)
			dst[i] = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16;
		break;
	case 24:
		for (unsigned i = 0; i < n; i++, src += 3)
			dst[i] = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16;
		break;
	case 16:
		for (unsigned i = 0; i < n; i++, src += 2) {
			unsigned p = src[0] | src[1] << 8, r = p >> 11, g = (p >> 5) & 0x3f, b = p & 0x1f;
			dst[i] = (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
		}
		break;
	case 15:
		for (unsigned i = 0; i < n; i++, src += 2) {
			unsigned p = src[0] | src[1] << 8, r = (p >> 10) & 0x1f, g = (p >> 5) & 0x1f, b = p & 0x1f;
			dst[i] = (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
		}
		break;
	case 8:
		for (unsigned i = 0; i < n; i++)
			dst[i] = pal[src[i]];
		break;
	default:
		memset(dst, 0, n * 4);
	}
}

/* Converts line Y and copies the 16-pixel chunks that differ. */
static void vbe_line(struct vga *v, const struct vga_snapshot *s, unsigned y, const uint32_t *pal,
		     struct dirty_rects *dirty)
{
	unsigned w = v->surface.width, bpp = s->vbe[VBE_INDEX_BPP];
	unsigned bytes = bpp == 15 ? 2 : bpp / 8;
	const uint8_t *src = v->vram + s->vbe_start + (size_t)y * s->vbe_line;
	uint32_t *dst = v->surface.pixels + (size_t)y * w, tmp[CHUNK];
	for (unsigned x = 0; x < w; x += CHUNK) {
		unsigned n = w - x < CHUNK ? w - x : CHUNK;
		convert(tmp, src + (size_t)x * bytes, n, bpp, pal);
		if (memcmp(tmp, dst + x, n * 4)) {
			memcpy(dst + x, tmp, n * 4);
			dirty_add(dirty, x, y, n, 1);
		}
	}
}

static bool page_dirty(const unsigned long *bm, uint32_t pg)
{
	return (bm[pg / LONG_BITS] >> (pg % LONG_BITS)) & 1;
}

static void render_vbe(struct vga *v, const struct vga_snapshot *s, bool full, bool log_ok,
		       struct dirty_rects *dirty)
{
	unsigned bpp = s->vbe[VBE_INDEX_BPP];
	uint32_t pal[256];
	if (bpp == 8)
		for (unsigned i = 0; i < 256; i++)
			pal[i] = vga_dac_color(s, i);
	unsigned bytes = bpp == 15 ? 2 : bpp / 8;
	for (unsigned y = 0; y < v->surface.height; y++) {
		uint32_t first = s->vbe_start + y * s->vbe_line;
		uint32_t last = first + v->surface.width * bytes - 1;
		if (last >= VGA_VRAM_SIZE)
			break;
		bool dirty_line = full || !log_ok;
		for (uint32_t pg = first / 4096; !dirty_line && pg <= last / 4096; pg++)
			dirty_line = page_dirty(v->dirty_bitmap, pg);
		if (dirty_line)
			vbe_line(v, s, y, pal, dirty);
	}
}

/* ---- legacy graphics ----------------------------------------------------- */

struct gfx_mode {
	unsigned width, height, scan;   /* scan: lines per pixel row */
	uint32_t start, line;           /* bytes in vram */
	bool chunky;                    /* 256 colours, one byte per pixel */
};

static bool gfx_geometry(const struct vga_snapshot *s, struct gfx_mode *g)
{
	const uint8_t *cr = s->r.cr;
	unsigned vde = cr[0x12] | (cr[0x07] & 0x02) << 7 | (cr[0x07] & 0x40) << 3;
	g->chunky = s->r.gr[5] & 0x40;
	g->width = (cr[0x01] + 1u) * (g->chunky ? 4 : 8);
	g->scan = ((cr[0x09] & 0x1f) + 1) * ((cr[0x09] & 0x80) ? 2 : 1);
	g->height = (vde + 1) / g->scan;
	g->start = ((unsigned)cr[0x0c] << 8 | cr[0x0d]) * 4;
	g->line = cr[0x13] << 3;
	return g->width && g->height && g->width <= VBE_MAX_XRES && g->height <= VBE_MAX_YRES;
}

static void gfx_line(struct vga *v, const struct vga_snapshot *s, const struct gfx_mode *g, unsigned y,
		     uint32_t *out)
{
	/* Scan doubling repeats a row on the monitor; memory holds it once. */
	uint32_t off = g->start + y * g->line;
	if (g->chunky) {
		for (unsigned x = 0; x < g->width; x++)
			out[x] = vga_dac_color(s, v->vram[(off + x) % VGA_PLANES_SIZE]);
		return;
	}
	uint8_t plane_mask = s->r.ar[0x12] & 0x0f;
	for (unsigned x = 0; x < g->width; x += 8) {
		const uint8_t *p = v->vram + (off + x / 2) % VGA_PLANES_SIZE;   /* 4 planes = 8 pixels */
		for (unsigned b = 0; b < 8; b++) {
			unsigned c = 0;
			for (unsigned pl = 0; pl < 4; pl++)
				c |= ((p[pl] >> (7 - b)) & 1) << pl;
			out[x + b] = vga_attr_color(s, c & plane_mask);
		}
	}
}

static void render_gfx(struct vga *v, const struct vga_snapshot *s, const struct gfx_mode *g,
		       struct dirty_rects *dirty)
{
	uint32_t *tmp = malloc(g->width * sizeof(uint32_t));
	if (!tmp)
		return;
	for (unsigned y = 0; y < g->height; y++) {
		gfx_line(v, s, g, y, tmp);
		uint32_t *dst = v->surface.pixels + (size_t)y * g->width;
		for (unsigned x = 0; x < g->width; x += CHUNK) {
			unsigned n = g->width - x < CHUNK ? g->width - x : CHUNK;
			if (memcmp(tmp + x, dst + x, n * 4)) {
				memcpy(dst + x, tmp + x, n * 4);
				dirty_add(dirty, x, y, n, 1);
			}
		}
	}
	free(tmp);
}

/* ---- one frame ----------------------------------------------------------- */

enum kind { K_BLANK, K_VBE, K_TEXT, K_GFX };

static enum kind classify(const struct vga_snapshot *s, struct vga_text_mode *t, struct gfx_mode *g)
{
	if (s->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED)
		return s->vbe[VBE_INDEX_BPP] == 4 ? K_BLANK : K_VBE;
	if (!(s->r.ar_index & 0x20) || (s->r.sr[1] & 0x20))
		return K_BLANK;
	if (!(s->r.gr[6] & 1))
		return vga_text_geometry(s, t) ? K_TEXT : K_BLANK;
	return gfx_geometry(s, g) ? K_GFX : K_BLANK;
}

static void take_snapshot(struct vga *v, struct vga_snapshot *s)
{
	pthread_mutex_lock(&v->lock);
	s->r = v->r;
	memcpy(s->vbe, v->vbe, sizeof(s->vbe));
	s->vbe_start = v->vbe_start;
	s->vbe_line = v->vbe_line;
	s->changed = v->regs_changed;
	s->font_changed = v->font_changed;
	v->regs_changed = v->font_changed = false;
	/* Window writes and VMM writes of vram join KVM's log below. */
	s->planes_written = false;
	for (unsigned i = 0; i < PAGES / LONG_BITS; i++) {
		if (i < VGA_PLANES_SIZE / 4096 / LONG_BITS && v->host_dirty[i])
			s->planes_written = true;
		v->dirty_bitmap[i] |= v->host_dirty[i];
		v->host_dirty[i] = 0;
	}
	pthread_mutex_unlock(&v->lock);
}

/* The picture's size in mode K; a blank screen keeps the surface's size
 * (640x480 before the first picture). */
static void picture_size(const struct vga *v, enum kind k, const struct vga_snapshot *s,
			 const struct vga_text_mode *t, const struct gfx_mode *g, unsigned *w, unsigned *h)
{
	*w = v->surface.width ? v->surface.width : 640;
	*h = v->surface.height ? v->surface.height : 480;
	if (k == K_VBE)
		*w = s->vbe[VBE_INDEX_XRES], *h = s->vbe[VBE_INDEX_YRES];
	else if (k == K_TEXT)
		*w = t->cols * t->cw, *h = t->rows * t->ch;
	else if (k == K_GFX)
		*w = g->width, *h = g->height;
}

/* The size the current mode's picture would have, from a copy of the
 * registers that leaves their change flags for the next refresh. */
static void mode_size(struct vga *v, unsigned *w, unsigned *h)
{
	struct vga_snapshot s = { 0 };
	pthread_mutex_lock(&v->lock);
	s.r = v->r;
	memcpy(s.vbe, v->vbe, sizeof(s.vbe));
	pthread_mutex_unlock(&v->lock);
	struct vga_text_mode t = { 0 };
	struct gfx_mode g = { 0 };
	picture_size(v, classify(&s, &t, &g), &s, &t, &g, w, h);
}

const uint32_t *vga_surface_for_viewers(struct vga *v, unsigned *w, unsigned *h)
{
	if (v->surface.width) {
		*w = v->surface.width, *h = v->surface.height;
	} else {
		mode_size(v, w, h);
	}
	return surface_pixels(v);
}

bool vga_refresh(struct vga *v, uint64_t now_ms)
{
	struct dirty_rects *dirty = &v->dirty;
	uint64_t t0 = now_ns();
	if (!v->dirty_bitmap)
		v->dirty_bitmap = calloc(PAGES / LONG_BITS, sizeof(unsigned long));
	if (!v->dirty_bitmap)
		return false;
	memset(v->dirty_bitmap, 0, PAGES / 8);
	/* KVM's log first, then the host's own writes on top. */
	bool log_ok = v->mem_ops.dirty_log && v->mem_ops.dirty_log(v->mem_ops.ctx, v->dirty_bitmap) == 0;
	struct vga_snapshot s;
	take_snapshot(v, &s);
	struct vga_text_mode t = { 0 };
	struct gfx_mode g = { 0 };
	enum kind k = classify(&s, &t, &g);
	unsigned w, h;
	picture_size(v, k, &s, &t, &g, &w, &h);
	bool resized = resize(v, w, h);
	if (!v->surface.pixels)
		return false;
	if (resized || dirty->width != w || dirty->height != h) {
		if (dirty_init(dirty, w, h) < 0)
			return false;
		dirty_add_all(dirty);
	}
	bool full = resized || s.changed;
	switch (k) {
	case K_VBE:
		render_vbe(v, &s, full, log_ok, dirty);
		break;
	case K_TEXT:
		if (v->shadow_cells != t.cols * t.rows) {
			free(v->shadow);
			v->shadow = calloc(t.cols * t.rows, 3);
			v->shadow_cells = v->shadow ? t.cols * t.rows : 0;
			full = true;
		}
		if (v->shadow)
			vga_text_render(v, &s, &t, full || s.font_changed, now_ms, dirty);
		break;
	case K_GFX:
		if (full || s.planes_written)
			render_gfx(v, &s, &g, dirty);
		break;
	case K_BLANK:
		if (full) {
			memset(v->surface.pixels, 0, (size_t)w * h * 4);
			dirty_add_all(dirty);
		}
		break;
	}
	v->refreshes++;
	v->refresh_ns += now_ns() - t0;
	return resized;
}
