/* Bochs VBE DISPI: the mode registers behind ports 0x1CE/0x1CF and BAR 2
 * offset 0x500.  Every value the guest writes is brought back into range
 * before it is used, so the visible area always lies inside vram.  Called
 * with v->lock held. */
#include <string.h>

#include "vmm/vga.h"

static unsigned bytes_per_pixel(unsigned bpp)
{
	return bpp == 4 ? 1 : (bpp + 7) / 8;   /* 4 bpp is planar: not linear */
}

bool vga_vbe_enabled(const struct vga *v)
{
	return v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED;
}

/* Clamps the mode to what the hardware and the memory allow, and derives
 * the line length, the virtual height and the visible start. */
static void fixup(struct vga *v)
{
	uint16_t *r = v->vbe;
	if (r[VBE_INDEX_BPP] != 4 && r[VBE_INDEX_BPP] != 8 && r[VBE_INDEX_BPP] != 15 &&
	    r[VBE_INDEX_BPP] != 16 && r[VBE_INDEX_BPP] != 24 && r[VBE_INDEX_BPP] != 32)
		r[VBE_INDEX_BPP] = 8;
	if (r[VBE_INDEX_XRES] > VBE_MAX_XRES)
		r[VBE_INDEX_XRES] = VBE_MAX_XRES;
	r[VBE_INDEX_XRES] &= (uint16_t)~7u;
	if (r[VBE_INDEX_XRES] == 0)
		r[VBE_INDEX_XRES] = 8;
	if (r[VBE_INDEX_YRES] > VBE_MAX_YRES)
		r[VBE_INDEX_YRES] = VBE_MAX_YRES;
	if (r[VBE_INDEX_YRES] == 0)
		r[VBE_INDEX_YRES] = 1;
	if (r[VBE_INDEX_VIRT_WIDTH] > VBE_MAX_XRES)
		r[VBE_INDEX_VIRT_WIDTH] = VBE_MAX_XRES;
	if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES])
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
	unsigned bpp = bytes_per_pixel(r[VBE_INDEX_BPP]);
	uint32_t line = r[VBE_INDEX_VIRT_WIDTH] * bpp;
	/* The mode must fit: shrink the height if the memory is too small. */
	if ((uint64_t)line * r[VBE_INDEX_YRES] > VGA_VRAM_SIZE) {
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
		line = r[VBE_INDEX_XRES] * bpp;
		if ((uint64_t)line * r[VBE_INDEX_YRES] > VGA_VRAM_SIZE)
			r[VBE_INDEX_YRES] = (uint16_t)(VGA_VRAM_SIZE / line);
	}
	uint32_t vheight = VGA_VRAM_SIZE / line;
	r[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)(vheight > 0xffff ? 0xffff : vheight);
	if (r[VBE_INDEX_X_OFFSET] > r[VBE_INDEX_VIRT_WIDTH] - r[VBE_INDEX_XRES])
		r[VBE_INDEX_X_OFFSET] = (uint16_t)(r[VBE_INDEX_VIRT_WIDTH] - r[VBE_INDEX_XRES]);
	if (r[VBE_INDEX_Y_OFFSET] > r[VBE_INDEX_VIRT_HEIGHT] - r[VBE_INDEX_YRES])
		r[VBE_INDEX_Y_OFFSET] = (uint16_t)(r[VBE_INDEX_VIRT_HEIGHT] - r[VBE_INDEX_YRES]);
	v->vbe_line = line;
	v->vbe_start = r[VBE_INDEX_Y_OFFSET] * line + r[VBE_INDEX_X_OFFSET] * bpp;
	v->regs_changed = true;
}

/* A VBE mode is a linear graphics mode for the legacy side too: the window
 * becomes a 64 KiB bank at 0xA0000 with chain-4 addressing. */
static void legacy_for_vbe(struct vga *v)
{
	v->r.gr[6] = (uint8_t)((v->r.gr[6] & ~0x0c) | 0x05);
	v->r.sr[4] |= 0x08;
	v->r.gr[5] = (uint8_t)((v->r.gr[5] & ~0x70) | 0x40);
}

static void enable(struct vga *v, uint16_t val)
{
	uint16_t *r = v->vbe;
	if ((val & VBE_ENABLED) && !(r[VBE_INDEX_ENABLE] & VBE_ENABLED)) {
		r[VBE_INDEX_VIRT_WIDTH] = 0;
		r[VBE_INDEX_X_OFFSET] = 0;
		r[VBE_INDEX_Y_OFFSET] = 0;
		r[VBE_INDEX_ENABLE] |= VBE_ENABLED;
		fixup(v);
		legacy_for_vbe(v);
		if (!(val & VBE_NOCLEARMEM)) {
			memset(v->vram, 0, (size_t)r[VBE_INDEX_YRES] * v->vbe_line);
			vga_mark_dirty(v, 0, r[VBE_INDEX_YRES] * v->vbe_line);
		}
	} else if (!(val & VBE_ENABLED)) {
		r[VBE_INDEX_BANK] = 0;
	}
	r[VBE_INDEX_ENABLE] = val;
	v->regs_changed = true;
}

uint16_t vga_vbe_read(struct vga *v, unsigned index)
{
	if (index >= VBE_INDEX_NB)
		return 0;
	if (v->vbe[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
		switch (index) {
		case VBE_INDEX_XRES: return VBE_MAX_XRES;
		case VBE_INDEX_YRES: return VBE_MAX_YRES;
		case VBE_INDEX_BPP: return VBE_MAX_BPP;
		}
	}
	if (index == VBE_INDEX_VIDEO_MEMORY_64K)
		return VGA_VRAM_SIZE >> 16;
	return v->vbe[index];
}

void vga_vbe_write(struct vga *v, unsigned index, uint16_t val)
{
	uint16_t *r = v->vbe;
	switch (index) {
	case VBE_INDEX_ID:
		if (val >= VBE_ID0 && val <= VBE_ID5)
			r[index] = val;
		break;
	case VBE_INDEX_XRES: case VBE_INDEX_YRES: case VBE_INDEX_BPP: case VBE_INDEX_VIRT_WIDTH:
	case VBE_INDEX_X_OFFSET: case VBE_INDEX_Y_OFFSET:
		r[index] = val;
		/* While disabled the registers are a scratch pad: the mode is
		 * checked when it is switched on. */
		if (vga_vbe_enabled(v))
			fixup(v);
		break;
	case VBE_INDEX_BANK:
		r[index] = val < (VGA_VRAM_SIZE >> 16) ? val : (uint16_t)((VGA_VRAM_SIZE >> 16) - 1);
		break;
	case VBE_INDEX_ENABLE:
		enable(v, val);
		break;
	default:
		v->bad_accesses++;   /* read-only or unknown */
	}
}

void vga_set_boot_mode(struct vga *v, unsigned width, unsigned height, unsigned bpp)
{
	pthread_mutex_lock(&v->lock);
	v->vbe[VBE_INDEX_ENABLE] = 0;
	v->vbe[VBE_INDEX_XRES] = (uint16_t)width;
	v->vbe[VBE_INDEX_YRES] = (uint16_t)height;
	v->vbe[VBE_INDEX_BPP] = (uint16_t)bpp;
	enable(v, VBE_ENABLED | VBE_LFB_ENABLED);
	v->boot_mode_set = true;
	pthread_mutex_unlock(&v->lock);
}
