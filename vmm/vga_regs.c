/* The legacy VGA register file behind ports 0x3C0-0x3DF (and BAR 2's
 * copy of them at 0x400).  Called with v->lock held. */
#include <string.h>

#include "vmm/vga.h"

/* What a PC BIOS leaves behind for mode 3 (80x25 text, 9x16 cells). */
static const uint8_t mode3_sr[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_cr[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
	0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gr[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_ar[21] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x0c, 0x00, 0x0f, 0x08, 0x00,
};

/* The 64 EGA colours in DAC entries 0-63 (6 bits per component): bit 0/3
 * blue, 1/4 green, 2/5 red, high bits 2/3 intensity. */
static void ega_palette(uint8_t *pal)
{
	for (unsigned i = 0; i < 64; i++) {
		unsigned r = ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15;
		unsigned g = ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15;
		unsigned b = ((i >> 0) & 1) * 0x2a + ((i >> 3) & 1) * 0x15;
		pal[3 * i] = (uint8_t)r;
		pal[3 * i + 1] = (uint8_t)g;
		pal[3 * i + 2] = (uint8_t)b;
	}
	/* Colour 6 (AR06 = 0x14) is brown, not dark yellow. */
}

void vga_regs_mode3(struct vga_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->misc = 0x67;
	memcpy(r->sr, mode3_sr, sizeof(mode3_sr));
	memcpy(r->cr, mode3_cr, sizeof(mode3_cr));
	memcpy(r->gr, mode3_gr, sizeof(mode3_gr));
	memcpy(r->ar, mode3_ar, sizeof(mode3_ar));
	r->ar_index = 0x20;                  /* palette address source: display on */
	r->pel_mask = 0xff;
	ega_palette(r->palette);
}

static uint8_t dac_read(struct vga_regs *r)
{
	uint8_t val = r->palette[r->dac_read_index * 3 + r->dac_sub_index];
	if (++r->dac_sub_index == 3) {
		r->dac_sub_index = 0;
		r->dac_read_index++;
	}
	return val;
}

static void dac_write(struct vga *v, uint8_t val)
{
	struct vga_regs *r = &v->r;
	r->dac_cache[r->dac_sub_index] = val;
	if (++r->dac_sub_index == 3) {
		memcpy(&r->palette[r->dac_write_index * 3], r->dac_cache, 3);
		r->dac_sub_index = 0;
		r->dac_write_index++;
		v->regs_changed = true;
	}
}

uint8_t vga_ioport_read(struct vga *v, unsigned port)
{
	struct vga_regs *r = &v->r;
	switch (port) {
	case 0x3c0:
		return r->ar_flip_flop ? 0 : r->ar_index;
	case 0x3c1:
		return (r->ar_index & 0x1f) < sizeof(r->ar) ? r->ar[r->ar_index & 0x1f] : 0;
	case 0x3c2:
		return 0x10;                 /* switch sense: a colour monitor */
	case 0x3c4:
		return r->sr_index;
	case 0x3c5:
		return r->sr[r->sr_index & 7];
	case 0x3c6:
		return r->pel_mask;
	case 0x3c7:
		return r->dac_state;
	case 0x3c8:
		return r->dac_write_index;
	case 0x3c9:
		return dac_read(r);
	case 0x3ca:
		return r->feature;
	case 0x3cc:
		return r->misc;
	case 0x3ce:
		return r->gr_index;
	case 0x3cf:
		return r->gr[r->gr_index & 15];
	case 0x3d4:
		return r->cr_index;
	case 0x3d5:
		return r->cr[r->cr_index & 31];
	case 0x3da:
		/* Reading input status 1 resets the attribute flip-flop; the retrace
		 * bits toggle so that guests polling for a retrace move on. */
		r->ar_flip_flop = false;
		r->st01_toggle ^= 0x09;
		return r->st01_toggle;
	default:
		return 0xff;
	}
}

static void ar_write(struct vga *v, uint8_t val)
{
	struct vga_regs *r = &v->r;
	if (!r->ar_flip_flop) {
		r->ar_index = val & 0x3f;
		v->regs_changed = true;          /* bit 5 blanks or shows the screen */
	} else {
		unsigned i = r->ar_index & 0x1f;
		if (i < sizeof(r->ar)) {
			static const uint8_t mask[21] = {
				0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
				0x3f, 0x3f, 0xef, 0xff, 0x3f, 0x0f, 0x0f,
			};
			r->ar[i] = val & mask[i];
			v->regs_changed = true;
		}
	}
	r->ar_flip_flop = !r->ar_flip_flop;
}

static void cr_write(struct vga *v, uint8_t val)
{
	struct vga_regs *r = &v->r;
	unsigned i = r->cr_index & 31;
	if (i >= 25)
		return;
	/* CR11 bit 7 protects CR00-CR07, except CR07's line compare bit. */
	if ((r->cr[0x11] & 0x80) && i <= 7) {
		if (i == 7)
			r->cr[7] = (uint8_t)((r->cr[7] & ~0x10) | (val & 0x10));
		return;
	}
	r->cr[i] = val;
	v->regs_changed = true;
}

void vga_ioport_write(struct vga *v, unsigned port, uint8_t val)
{
	struct vga_regs *r = &v->r;
	switch (port) {
	case 0x3c0:
		ar_write(v, val);
		break;
	case 0x3c2:
		r->misc = val & ~0x10;
		v->regs_changed = true;
		break;
	case 0x3c4:
		r->sr_index = val & 7;
		break;
	case 0x3c5:
		r->sr[r->sr_index & 7] = val;
		v->regs_changed = true;
		break;
	case 0x3c6:
		r->pel_mask = val;
		break;
	case 0x3c7:
		r->dac_read_index = val;
		r->dac_sub_index = 0;
		r->dac_state = 3;
		break;
	case 0x3c8:
		r->dac_write_index = val;
		r->dac_sub_index = 0;
		r->dac_state = 0;
		break;
	case 0x3c9:
		dac_write(v, val);
		break;
	case 0x3ce:
		r->gr_index = val & 15;
		break;
	case 0x3cf:
		r->gr[r->gr_index & 15] = val;
		v->regs_changed = true;
		break;
	case 0x3d4:
		r->cr_index = val;
		break;
	case 0x3d5:
		cr_write(v, val);
		break;
	case 0x3da:
		r->feature = val & 0x10;
		break;
	}
}
