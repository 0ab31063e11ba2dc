#include <stdlib.h>
#include <string.h>

#include "vmm/display.h"

int dirty_init(struct dirty_rects *d, unsigned width, unsigned height)
{
	unsigned tw = (width + DIRTY_TILE - 1) / DIRTY_TILE, th = (height + DIRTY_TILE - 1) / DIRTY_TILE;
	uint8_t *tiles = calloc((size_t)tw * th + 1, 1);
	if (!tiles)
		return -1;
	free(d->tiles);
	*d = (struct dirty_rects){ .width = width, .height = height, .tw = tw, .th = th, .tiles = tiles };
	return 0;
}

void dirty_free(struct dirty_rects *d)
{
	free(d->tiles);
	memset(d, 0, sizeof(*d));
}

void dirty_add(struct dirty_rects *d, unsigned x, unsigned y, unsigned w, unsigned h)
{
	if (x >= d->width || y >= d->height || w == 0 || h == 0)
		return;
	unsigned x1 = w > d->width - x ? d->width : x + w;
	unsigned y1 = h > d->height - y ? d->height : y + h;
	for (unsigned ty = y / DIRTY_TILE; ty <= (y1 - 1) / DIRTY_TILE; ty++) {
		uint8_t *row = d->tiles + (size_t)ty * d->tw;
		for (unsigned tx = x / DIRTY_TILE; tx <= (x1 - 1) / DIRTY_TILE; tx++) {
			d->count += !row[tx];
			row[tx] = 1;
		}
	}
}

void dirty_add_all(struct dirty_rects *d)
{
	dirty_add(d, 0, 0, d->width, d->height);
}

/* Rectangles are built in tile units, then clipped to pixels. */
static struct display_rect clip(const struct dirty_rects *d, unsigned tx, unsigned ty, unsigned tw, unsigned th)
{
	struct display_rect r = { tx * DIRTY_TILE, ty * DIRTY_TILE, tw * DIRTY_TILE, th * DIRTY_TILE };
	if (r.x + r.w > d->width)
		r.w = d->width - r.x;
	if (r.y + r.h > d->height)
		r.h = d->height - r.y;
	return r;
}

unsigned dirty_take(struct dirty_rects *d, struct display_rect *out, unsigned max)
{
	if (d->count == 0 || max == 0)
		return 0;
	unsigned n = 0;
	bool overflow = false;
	unsigned bx0 = d->tw, by0 = d->th, bx1 = 0, by1 = 0;   /* bounding box, for overflow */
	/* out[] holds rectangles in tile units until the end.  A run of changed
	 * tiles extends the rectangle right above it when both span the same
	 * columns; otherwise it starts a new one. */
	for (unsigned ty = 0; ty < d->th; ty++) {
		const uint8_t *row = d->tiles + (size_t)ty * d->tw;
		for (unsigned tx = 0; tx < d->tw;) {
			if (!row[tx]) {
				tx++;
				continue;
			}
			unsigned x0 = tx;
			while (tx < d->tw && row[tx])
				tx++;
			bx0 = x0 < bx0 ? x0 : bx0;
			bx1 = tx > bx1 ? tx : bx1;
			by0 = ty < by0 ? ty : by0;
			by1 = ty + 1;
			if (overflow)
				continue;
			unsigned i = 0;
			while (i < n && !(out[i].x == x0 && out[i].w == tx - x0 && out[i].y + out[i].h == ty))
				i++;
			if (i < n)
				out[i].h++;
			else if (n < max)
				out[n++] = (struct display_rect){ x0, ty, tx - x0, 1 };
			else
				overflow = true;
		}
	}
	if (overflow) {
		out[0] = clip(d, bx0, by0, bx1 - bx0, by1 - by0);
		n = 1;
	} else {
		for (unsigned i = 0; i < n; i++)
			out[i] = clip(d, out[i].x, out[i].y, out[i].w, out[i].h);
	}
	memset(d->tiles, 0, (size_t)d->tw * d->th);
	d->count = 0;
	return n;
}
