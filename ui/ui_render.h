/* A framebuffer drawn into terminal cells: each cell shows two pixels
 * stacked, as the upper half block "▀" with the upper pixel as foreground
 * and the lower as background (a cell whose two pixels match is a space on
 * that background).  The picture is scaled to the area keeping its aspect
 * (a cell is about twice as tall as wide, so each sample is square), each
 * sample averaging the source pixels it covers.
 *
 * The renderer keeps the cells it last emitted and writes escape
 * sequences only for cells that changed: 24-bit SGR (38;2 / 48;2) on
 * truecolor terminals, the xterm 256-colour palette on others, the 16
 * ANSI colours on the oldest.  It touches no
 * terminal itself: the caller writes the bytes (between ncurses updates)
 * wherever the area is on the screen. */
#ifndef VMDECK_UI_RENDER_H
#define VMDECK_UI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 32-bit framebuffer; the shifts say where red, green and blue sit in
 * each little-endian pixel (libvncclient's rfbGetClient(8, 3, 4) gives
 * red 0, green 8, blue 16). */
struct ui_fb {
	const uint8_t *pixels;
	int w, h;
	size_t stride;             /* bytes per row */
	int rshift, gshift, bshift;
};

struct ui_cell {
	uint32_t top, bottom;      /* 0xRRGGBB, or palette indexes (256 or 16 colours) */
	uint32_t ch;               /* 0: two pixels; else a character, top its
				    * colour and bottom its background */
};

enum ui_colors { UI_COLORS_16, UI_COLORS_256, UI_COLORS_TRUE };

struct ui_render {
	int cols, rows;            /* the area, in cells */
	enum ui_colors colors;
	/* The picture inside the area: ox, oy offsets and pw x ph cells. */
	int ox, oy, pw, ph;
	int fb_w, fb_h;            /* the source size the fit was made for */
	struct ui_cell *cur, *prev;
	bool prev_valid;           /* false: the next emit writes every cell */
	uint64_t frames, cells_written, bytes_written;
};

void ui_render_init(struct ui_render *r, enum ui_colors colors);
void ui_render_free(struct ui_render *r);
/* Sets the area; everything is written again on the next emit. */
int ui_render_resize(struct ui_render *r, int cols, int rows);
/* Forgets what the terminal shows (after the screen was cleared). */
void ui_render_invalidate(struct ui_render *r);

/* Where a W x H picture goes in a COLS x ROWS area, keeping its aspect. */
void ui_render_fit(int w, int h, int cols, int rows, int *ox, int *oy, int *pw, int *ph);

/* Samples FB into the cells (a NULL or empty FB draws black). */
void ui_render_frame(struct ui_render *r, const struct ui_fb *fb);

/* A text screen (characters with colours) centred in the area instead of
 * pixels; false when it does not fit (then draw its pixels). */
struct ui_textscreen;
bool ui_render_text(struct ui_render *r, const struct ui_textscreen *ts);

/* The escape sequences that bring the terminal from the last emitted
 * cells to the current ones, for an area whose top-left cell is at
 * screen row Y, column X (0-based), into OUT (at most CAP bytes).
 * Returns the length; ends with SGR 0.  When CAP is too small, emits what
 * fits and leaves the rest for the next call (the cells not written stay
 * "changed"). */
size_t ui_render_emit(struct ui_render *r, int y, int x, char *out, size_t cap);

/* A CAP with which ui_render_emit always writes everything. */
size_t ui_render_emit_bound(const struct ui_render *r);

/* The xterm 256-colour palette index nearest to RGB (cube or grey ramp). */
int ui_render_rgb_to_256(uint32_t rgb);
/* The nearest of the 16 ANSI colours (xterm's values), 0-15. */
int ui_render_rgb_to_16(uint32_t rgb);

#endif
