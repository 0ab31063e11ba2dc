/* What a display device shows: a host-side XRGB8888 surface, and the
 * areas of it that changed since a consumer (the VNC server, a screen
 * dump) last looked. */
#ifndef VMDECK_DISPLAY_H
#define VMDECK_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"

struct display_surface {
	uint32_t *pixels;        /* 0x00RRGGBB, WIDTH pixels per row, no padding */
	unsigned width, height;
};

struct display_rect {
	unsigned x, y, w, h;
};

/* Changed areas as a bitmap of DIRTY_TILE x DIRTY_TILE tiles; merged into
 * a few rectangles when read out. */
#define DIRTY_TILE 16
struct dirty_rects {
	unsigned width, height;  /* pixels */
	unsigned tw, th;         /* tiles */
	uint8_t *tiles;          /* tw * th, 1 = changed */
	unsigned count;          /* tiles set */
};

int dirty_init(struct dirty_rects *d, unsigned width, unsigned height);
void dirty_free(struct dirty_rects *d);
/* Marks the pixels [X, X+W) x [Y, Y+H) (clipped to the surface). */
void dirty_add(struct dirty_rects *d, unsigned x, unsigned y, unsigned w, unsigned h);
void dirty_add_all(struct dirty_rects *d);
static inline bool dirty_empty(const struct dirty_rects *d) { return d->count == 0; }
/* Merges the changed tiles into at most MAX rectangles (clipped to the
 * surface; adjacent runs of equal width grow downwards) and clears the
 * bitmap.  Returns how many were written to OUT. */
unsigned dirty_take(struct dirty_rects *d, struct display_rect *out, unsigned max);

struct vga;
/* Writes the display's current picture to PATH as a PNG (mode 0600 if it
 * creates it).  Runs on the main loop. */
int display_screendump(struct vga *vga, const char *path, struct error *err);
/* The same for any surface (tests, other devices). */
int display_surface_png(const struct display_surface *s, const char *path, struct error *err);

#endif
