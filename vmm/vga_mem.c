/* CPU accesses to the legacy window at 0xA0000-0xBFFFF: chain-4, odd/even
 * (text) and planar addressing with the graphics controller's latches,
 * read modes, write modes and raster operations.  The planes live
 * interleaved at the start of vram (plane P of offset O is vram[4*O+P]),
 * so chain-4 addressing is a plain byte array.  Called with v->lock held. */
#include "vmm/vga.h"

enum { GR_SR_VALUE = 0, GR_SR_ENABLE = 1, GR_COMPARE = 2, GR_ROTATE = 3, GR_READ_MAP = 4,
       GR_MODE = 5, GR_MISC = 6, GR_DONT_CARE = 7, GR_BIT_MASK = 8 };
enum { SR_MAP_MASK = 2, SR_MEMORY_MODE = 4 };
#define SR4_CHAIN4 0x08

/* Expands four plane bits into a byte mask per plane. */
static uint32_t expand4(unsigned bits)
{
	uint32_t m = 0;
	for (unsigned p = 0; p < 4; p++)
		if (bits & (1u << p))
			m |= 0xffu << (8 * p);
	return m;
}

void vga_mark_dirty(struct vga *v, uint32_t offset, uint32_t len)
{
	if (!len || offset >= VGA_VRAM_SIZE)
		return;
	if (len > VGA_VRAM_SIZE - offset)
		len = VGA_VRAM_SIZE - offset;
	const unsigned bits = 8 * sizeof(unsigned long);
	for (uint32_t pg = offset / 4096; pg <= (offset + len - 1) / 4096; pg++)
		v->host_dirty[pg / bits] |= 1ul << (pg % bits);
}

/* Window offset (0..0x1FFFF) to an offset in the mapped area, or -1 when
 * the memory map select leaves that part of the window unmapped. */
static int64_t map_window(const struct vga *v, uint32_t addr)
{
	switch ((v->r.gr[GR_MISC] >> 2) & 3) {
	case 0:
		return addr;
	case 1:
		if (addr >= 0x10000)
			return -1;
		/* VBE banked access: 64 KiB banks of the whole video memory. */
		return (int64_t)addr + (vga_vbe_enabled(v) ? (uint64_t)v->vbe[VBE_INDEX_BANK] << 16 : 0);
	case 2:
		return addr >= 0x10000 && addr < 0x18000 ? (int64_t)addr - 0x10000 : -1;
	default:
		return addr >= 0x18000 ? (int64_t)addr - 0x18000 : -1;
	}
}

static bool odd_even(const struct vga *v)
{
	return v->r.gr[GR_MODE] & 0x10;
}

uint8_t vga_mem_readb(struct vga *v, uint32_t addr)
{
	int64_t a = map_window(v, addr);
	if (a < 0)
		return 0xff;
	if (v->r.sr[SR_MEMORY_MODE] & SR4_CHAIN4)
		return a < VGA_VRAM_SIZE ? v->vram[a] : 0xff;
	if (odd_even(v)) {
		unsigned plane = (v->r.gr[GR_READ_MAP] & 2) | (a & 1);
		uint64_t off = ((uint64_t)(a & ~1) << 1) | plane;
		return off < VGA_PLANES_SIZE ? v->vram[off] : 0xff;
	}
	if ((uint64_t)a * 4 >= VGA_PLANES_SIZE)
		return 0xff;
	uint32_t latch;
	__builtin_memcpy(&latch, v->vram + a * 4, 4);
	v->r.latch = latch;
	if (!(v->r.gr[GR_MODE] & 0x08))
		return (uint8_t)(latch >> (8 * (v->r.gr[GR_READ_MAP] & 3)));
	/* Read mode 1: a bit is set where every cared-for plane matches. */
	uint32_t diff = (latch ^ expand4(v->r.gr[GR_COMPARE])) & expand4(v->r.gr[GR_DONT_CARE]);
	diff |= diff >> 16;
	diff |= diff >> 8;
	return (uint8_t)~diff;
}

static uint32_t rotate(const struct vga *v, uint8_t val)
{
	unsigned b = v->r.gr[GR_ROTATE] & 7;
	return (uint8_t)((val >> b) | (val << (8 - b)));
}

/* Write modes 0-3 and the raster operation: the four bytes to store. */
static uint32_t planar_value(const struct vga *v, uint8_t val, uint32_t *bit_mask_out)
{
	const uint8_t *gr = v->r.gr;
	uint32_t latch = v->r.latch, out, bit_mask = gr[GR_BIT_MASK];
	switch (gr[GR_MODE] & 3) {
	case 1:
		*bit_mask_out = 0xffffffff;
		return latch;
	case 2:
		out = expand4(val & 0x0f);
		break;
	case 3:
		bit_mask &= rotate(v, val);
		out = expand4(gr[GR_SR_VALUE]);
		break;
	default: {
		uint32_t r = rotate(v, val) * 0x01010101u;
		uint32_t set = expand4(gr[GR_SR_ENABLE]);
		out = (r & ~set) | (expand4(gr[GR_SR_VALUE]) & set);
		break;
	}
	}
	switch (gr[GR_ROTATE] >> 3 & 3) {
	case 1: out &= latch; break;
	case 2: out |= latch; break;
	case 3: out ^= latch; break;
	}
	bit_mask *= 0x01010101u;
	*bit_mask_out = bit_mask;
	return (out & bit_mask) | (latch & ~bit_mask);
}

void vga_mem_writeb(struct vga *v, uint32_t addr, uint8_t val)
{
	int64_t a = map_window(v, addr);
	if (a < 0)
		return;
	uint8_t map_mask = v->r.sr[SR_MAP_MASK] & 0x0f;
	if (v->r.sr[SR_MEMORY_MODE] & SR4_CHAIN4) {
		if (a >= VGA_VRAM_SIZE || !(map_mask & (1u << (a & 3))))
			return;
		v->vram[a] = val;
		vga_mark_dirty(v, (uint32_t)a, 1);
		if ((a & 3) == 2 && a < VGA_PLANES_SIZE)
			v->font_changed = true;
		return;
	}
	if (odd_even(v)) {
		unsigned plane = (v->r.gr[GR_READ_MAP] & 2) | (a & 1);
		uint64_t off = ((uint64_t)(a & ~1) << 1) | plane;
		if (off >= VGA_PLANES_SIZE || !(map_mask & (1u << plane)))
			return;
		v->vram[off] = val;
		vga_mark_dirty(v, (uint32_t)off, 1);
		v->font_changed |= plane == 2;
		return;
	}
	if ((uint64_t)a * 4 >= VGA_PLANES_SIZE)
		return;
	uint32_t bit_mask, value = planar_value(v, val, &bit_mask), old;
	uint32_t write_mask = expand4(map_mask);
	__builtin_memcpy(&old, v->vram + a * 4, 4);
	value = (old & ~write_mask) | (value & write_mask);
	__builtin_memcpy(v->vram + a * 4, &value, 4);
	vga_mark_dirty(v, (uint32_t)a * 4, 4);
	v->font_changed |= (map_mask & 4) != 0;
	(void)bit_mask;
}
