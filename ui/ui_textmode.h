/* VGA text mode read back from its pixels: when the guest's display shows
 * a text screen drawn with a known 8x16 font (the VGA's own, code page
 * 437), every 8- or 9-pixel cell is one glyph in two colours, so the
 * console can show real characters instead of half-block pixels: sharp
 * at any terminal size from 80x25 up, and selectable as text.  A cell
 * that matches no glyph closely (a cursor, a guest's own font) is taken
 * as the nearest; a screen where too many cells do not match is not text
 * mode, and the pixels are shown instead. */
#ifndef VMDECK_UI_TEXTMODE_H
#define VMDECK_UI_TEXTMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "ui/ui_render.h"

#define UI_TEXT_MAX_COLS 132
#define UI_TEXT_MAX_ROWS 60

struct ui_textcell {
	uint32_t ch;                 /* Unicode */
	uint32_t fg, bg;             /* 0xRRGGBB */
};

struct ui_textscreen {
	int cols, rows;
	struct ui_textcell cells[UI_TEXT_MAX_COLS * UI_TEXT_MAX_ROWS];
	int unmatched;               /* cells taken as their nearest glyph */
};

/* A glyph lookup built once from a font of 256 8x16 glyphs. */
struct ui_font_index;
struct ui_font_index *ui_font_index_new(const uint8_t (*font)[16]);
void ui_font_index_free(struct ui_font_index *ix);

/* Reads FB as a text screen; false when it does not look like one. */
bool ui_textmode_read(const struct ui_fb *fb, const struct ui_font_index *ix, struct ui_textscreen *out);

/* Code page 437 to Unicode (0 and 0xff as a space). */
uint32_t ui_cp437(uint8_t c);

#endif
