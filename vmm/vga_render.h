/* Internal to the VGA renderer (vga_render.c, vga_text.c): a snapshot of
 * the registers taken under the device lock, and the colour lookups. */
#ifndef VMDECK_VGA_RENDER_H
#define VMDECK_VGA_RENDER_H

#include "vmm/vga.h"

struct vga_snapshot {
	struct vga_regs r;
	uint16_t vbe[VBE_INDEX_NB];
	uint32_t vbe_start, vbe_line;
	bool changed;                 /* registers changed since the last frame */
	bool font_changed;
	bool planes_written;          /* the legacy window was written */
};

/* Colour of DAC entry I as 0x00RRGGBB. */
uint32_t vga_dac_color(const struct vga_snapshot *s, unsigned i);
/* Colour of 4-bit attribute colour C through the attribute palette. */
uint32_t vga_attr_color(const struct vga_snapshot *s, unsigned c);

/* Text mode geometry from the CRTC, sequencer and attribute registers. */
struct vga_text_mode {
	unsigned cols, rows, cw, ch;  /* cells, cell size in pixels */
	unsigned start, stride;       /* in cells */
};
bool vga_text_geometry(const struct vga_snapshot *s, struct vga_text_mode *m);
/* Draws the cells that differ from v->shadow (all of them when FULL). */
void vga_text_render(struct vga *v, const struct vga_snapshot *s, const struct vga_text_mode *m,
		     bool full, uint64_t now_ms, struct dirty_rects *dirty);

#endif
