/* vmm/vga*.c: VBE register sequences (ports and BAR 2), the legacy
 * registers and window, the framebuffer BAR's memslot hook, and what the
 * renderer draws: text cells against the font, cursor and blink, VBE
 * pixel formats, and dirty-log driven updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/pci.h"
#include "vmm/vga.h"
#include "vmm/vga_font.h"

struct fixture {
	struct vga v;
	uint64_t mapped_at;
	unsigned maps;
	bool log_works;
	unsigned long log[VGA_VRAM_SIZE / 4096 / (8 * sizeof(unsigned long))];
};

static int fake_map(void *ctx, uint64_t gpa)
{
	struct fixture *f = ctx;
	f->mapped_at = gpa;
	f->maps++;
	return 0;
}

static int fake_log(void *ctx, unsigned long *bitmap)
{
	struct fixture *f = ctx;
	if (!f->log_works)
		return -1;
	memcpy(bitmap, f->log, sizeof(f->log));
	memset(f->log, 0, sizeof(f->log));
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vga_mem_ops ops = { fake_map, fake_log, f };
	struct error err;
	assert_int_equal(vga_init(&f->v, &ops, &err), 0);
	f->log_works = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vga_destroy(&f->v);
	free(f);
	return 0;
}

/* ---- register access as the guest does it ---------------------------------- */

static void vbe_out(struct vga *v, uint16_t index, uint16_t val)
{
	vga_vbe_port_ops.write(v, 0, &index, 2);
	vga_vbe_port_ops.write(v, 1, &val, 2);
}

static uint16_t vbe_in(struct vga *v, uint16_t index)
{
	uint16_t val = 0;
	vga_vbe_port_ops.write(v, 0, &index, 2);
	vga_vbe_port_ops.read(v, 1, &val, 2);
	return val;
}

static void outb(struct vga *v, unsigned port, uint8_t val)
{
	vga_port_ops.write(v, port - VGA_PORT_BASE, &val, 1);
}

static uint8_t inb(struct vga *v, unsigned port)
{
	uint8_t val = 0;
	vga_port_ops.read(v, port - VGA_PORT_BASE, &val, 1);
	return val;
}

static void mem_write(struct vga *v, uint64_t gpa, uint8_t val)
{
	vga_window_ops.write(v, gpa - VGA_WINDOW_BASE, &val, 1);
}

static uint8_t mem_read(struct vga *v, uint64_t gpa)
{
	uint8_t val = 0;
	vga_window_ops.read(v, gpa - VGA_WINDOW_BASE, &val, 1);
	return val;
}

/* ---- VBE ------------------------------------------------------------------------ */

static void test_vbe_id_and_memory(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_ID), VBE_ID5);
	vbe_out(&f->v, VBE_INDEX_ID, VBE_ID0 + 2);          /* the driver asks for an older interface */
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_ID), VBE_ID0 + 2);
	vbe_out(&f->v, VBE_INDEX_ID, 0x1234);              /* not an id: ignored */
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_ID), VBE_ID0 + 2);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_VIDEO_MEMORY_64K), 256);
	assert_int_equal(vbe_in(&f->v, 0x77), 0);          /* unknown index */
}

static void test_vbe_getcaps_reports_the_maximum(void **state)
{
	struct fixture *f = *state;
	vbe_out(&f->v, VBE_INDEX_ENABLE, VBE_GETCAPS);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_XRES), VBE_MAX_XRES);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_YRES), VBE_MAX_YRES);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_BPP), 32);
	vbe_out(&f->v, VBE_INDEX_ENABLE, 0);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_XRES), 0);
}

/* The Linux bochs driver's sequence, through BAR 2. */
static void test_vbe_mode_set_through_mmio(void **state)
{
	struct fixture *f = *state;
	const uint16_t seq[][2] = {
		{ VBE_INDEX_ENABLE, 0 }, { VBE_INDEX_BPP, 32 }, { VBE_INDEX_XRES, 1920 }, { VBE_INDEX_YRES, 1080 },
		{ VBE_INDEX_BANK, 0 }, { VBE_INDEX_VIRT_WIDTH, 1920 }, { VBE_INDEX_VIRT_HEIGHT, 1080 },
		{ VBE_INDEX_X_OFFSET, 0 }, { VBE_INDEX_Y_OFFSET, 0 },
		{ VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED },
	};
	memset(f->v.vram, 0x55, 4096);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		vga_mmio_ops.write(&f->v, VGA_MMIO_VBE_OFF + 2 * seq[i][0], &seq[i][1], 2);
	uint16_t xres = 0, yres = 0, vh = 0;
	vga_mmio_ops.read(&f->v, VGA_MMIO_VBE_OFF + 2 * VBE_INDEX_XRES, &xres, 2);
	vga_mmio_ops.read(&f->v, VGA_MMIO_VBE_OFF + 2 * VBE_INDEX_YRES, &yres, 2);
	vga_mmio_ops.read(&f->v, VGA_MMIO_VBE_OFF + 2 * VBE_INDEX_VIRT_HEIGHT, &vh, 2);
	assert_int_equal(xres, 1920);
	assert_int_equal(yres, 1080);
	assert_int_equal(vh, VGA_VRAM_SIZE / (1920 * 4));   /* the whole memory is scrollable */
	assert_int_equal(f->v.vram[0], 0);                   /* enabling cleared the screen */
	uint32_t qext = 0, endian = 0;
	vga_mmio_ops.read(&f->v, VGA_MMIO_QEXT_OFF, &qext, 4);
	vga_mmio_ops.read(&f->v, VGA_MMIO_QEXT_OFF + 4, &endian, 4);
	assert_int_equal(qext, 8);
	assert_int_equal(endian, 0x1e1e1e1e);                /* little-endian framebuffer */
	struct vga_fb_info fb;
	vga_fb_info(&f->v, &fb);
	assert_int_equal(fb.width, 1920);
	assert_int_equal(fb.height, 1080);
	assert_int_equal(fb.stride, 1920 * 4);
	assert_int_equal(fb.bpp, 32);
}

static void test_vbe_values_are_brought_into_range(void **state)
{
	struct fixture *f = *state;
	vbe_out(&f->v, VBE_INDEX_XRES, 5000);
	vbe_out(&f->v, VBE_INDEX_YRES, 0);
	vbe_out(&f->v, VBE_INDEX_BPP, 17);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_XRES), 5000);   /* a scratch pad while disabled */
	vbe_out(&f->v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_XRES), VBE_MAX_XRES);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_YRES), 1);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_BPP), 8);
	/* Panning cannot leave the memory. */
	vbe_out(&f->v, VBE_INDEX_Y_OFFSET, 0xffff);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_Y_OFFSET), VGA_VRAM_SIZE / VBE_MAX_XRES - 1);
	vbe_out(&f->v, VBE_INDEX_BANK, 0xffff);
	assert_int_equal(vbe_in(&f->v, VBE_INDEX_BANK), 255);
}

static void test_vbe_nocLearmem_keeps_the_picture(void **state)
{
	struct fixture *f = *state;
	memset(f->v.vram, 0x77, 640 * 4);
	vbe_out(&f->v, VBE_INDEX_XRES, 640);
	vbe_out(&f->v, VBE_INDEX_YRES, 480);
	vbe_out(&f->v, VBE_INDEX_BPP, 32);
	vbe_out(&f->v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
	assert_int_equal(f->v.vram[100], 0x77);
}

static void test_vbe_banked_window(void **state)
{
	struct fixture *f = *state;
	vbe_out(&f->v, VBE_INDEX_XRES, 640);
	vbe_out(&f->v, VBE_INDEX_YRES, 480);
	vbe_out(&f->v, VBE_INDEX_BPP, 32);
	vbe_out(&f->v, VBE_INDEX_ENABLE, VBE_ENABLED);
	vbe_out(&f->v, VBE_INDEX_BANK, 3);
	mem_write(&f->v, 0xa0010, 0xab);
	assert_int_equal(f->v.vram[3 * 65536 + 0x10], 0xab);
	assert_int_equal(mem_read(&f->v, 0xa0010), 0xab);
	assert_int_equal(mem_read(&f->v, 0xb0000), 0xff);       /* a 64 KiB window only */
}

/* ---- legacy registers and window ---------------------------------------------------- */

static void test_attribute_flip_flop_and_dac(void **state)
{
	struct fixture *f = *state;
	inb(&f->v, 0x3da);                     /* resets the flip-flop */
	outb(&f->v, 0x3c0, 0x01);              /* index 1, palette address source off */
	outb(&f->v, 0x3c0, 0x3e);              /* data */
	assert_int_equal(inb(&f->v, 0x3c1), 0x3e);
	assert_int_equal(inb(&f->v, 0x3c0), 0x01);
	outb(&f->v, 0x3c8, 5);
	outb(&f->v, 0x3c9, 0x3f);
	outb(&f->v, 0x3c9, 0x20);
	outb(&f->v, 0x3c9, 0x01);
	outb(&f->v, 0x3c7, 5);
	assert_int_equal(inb(&f->v, 0x3c9), 0x3f);
	assert_int_equal(inb(&f->v, 0x3c9), 0x20);
	assert_int_equal(inb(&f->v, 0x3c9), 0x01);
	assert_int_equal(inb(&f->v, 0x3c8), 6);  /* the write index advanced */
	/* A 16-bit OUT writes index and data. */
	uint16_t w = 0x0f02;                     /* sequencer map mask = 0xf */
	vga_port_ops.write(&f->v, 0x3c4 - VGA_PORT_BASE, &w, 2);
	outb(&f->v, 0x3c4, 2);
	assert_int_equal(inb(&f->v, 0x3c5), 0x0f);
	/* CR11 bit 7 write-protects CR0-CR7. */
	outb(&f->v, 0x3d4, 0x11);
	outb(&f->v, 0x3d5, 0x80);
	outb(&f->v, 0x3d4, 0x01);
	outb(&f->v, 0x3d5, 0x10);
	assert_int_equal(inb(&f->v, 0x3d5), 0x4f);
}

static void test_text_memory_is_odd_even(void **state)
{
	struct fixture *f = *state;
	mem_write(&f->v, 0xb8000, 'A');
	mem_write(&f->v, 0xb8001, 0x1f);
	mem_write(&f->v, 0xb8002, 'B');
	/* Characters in plane 0, attributes in plane 1, interleaved in vram. */
	assert_int_equal(f->v.vram[0], 'A');
	assert_int_equal(f->v.vram[1], 0x1f);
	assert_int_equal(f->v.vram[4], 'B');
	assert_int_equal(mem_read(&f->v, 0xb8001), 0x1f);
	assert_int_equal(mem_read(&f->v, 0xa0000), 0xff);      /* mode 3 maps 0xB8000 only */
}

/* How a BIOS loads a font: plane 2 alone, linear, at 0xA0000. */
static void test_planar_writes_and_latches(void **state)
{
	struct fixture *f = *state;
	outb(&f->v, 0x3c4, 2), outb(&f->v, 0x3c5, 0x04);   /* map mask: plane 2 */
	outb(&f->v, 0x3c4, 4), outb(&f->v, 0x3c5, 0x06);   /* sequential, no odd/even */
	outb(&f->v, 0x3ce, 5), outb(&f->v, 0x3cf, 0x00);   /* write mode 0, no odd/even */
	outb(&f->v, 0x3ce, 6), outb(&f->v, 0x3cf, 0x04);   /* 0xA0000, 64 KiB */
	outb(&f->v, 0x3ce, 4), outb(&f->v, 0x3cf, 0x02);   /* read map 2 */
	mem_write(&f->v, 0xa0000 + 'A' * 32 + 3, 0x81);
	assert_int_equal(f->v.vram[('A' * 32 + 3) * 4 + 2], 0x81);
	assert_int_equal(mem_read(&f->v, 0xa0000 + 'A' * 32 + 3), 0x81);
	assert_true(f->v.font_changed);
	/* Write mode 0 with set/reset on all planes and a bit mask. */
	outb(&f->v, 0x3c4, 2), outb(&f->v, 0x3c5, 0x0f);
	outb(&f->v, 0x3ce, 0), outb(&f->v, 0x3cf, 0x05);   /* set/reset value: planes 0 and 2 */
	outb(&f->v, 0x3ce, 1), outb(&f->v, 0x3cf, 0x0f);   /* enable set/reset everywhere */
	outb(&f->v, 0x3ce, 8), outb(&f->v, 0x3cf, 0xf0);   /* bit mask: high nibble */
	mem_read(&f->v, 0xa8000);                          /* load the latches (zeros) */
	mem_write(&f->v, 0xa8000, 0x00);
	assert_int_equal(f->v.vram[0x8000 * 4 + 0], 0xf0);
	assert_int_equal(f->v.vram[0x8000 * 4 + 1], 0x00);
	assert_int_equal(f->v.vram[0x8000 * 4 + 2], 0xf0);
	assert_int_equal(f->v.vram[0x8000 * 4 + 3], 0x00);
	/* Write mode 1 copies the latches. */
	mem_read(&f->v, 0xa8000);
	outb(&f->v, 0x3ce, 5), outb(&f->v, 0x3cf, 0x01);
	mem_write(&f->v, 0xa8001, 0x12);
	assert_memory_equal(f->v.vram + 0x8001 * 4, f->v.vram + 0x8000 * 4, 4);
	/* Read mode 1: colour compare (colour 5 where the nibble is set). */
	outb(&f->v, 0x3ce, 5), outb(&f->v, 0x3cf, 0x08);
	outb(&f->v, 0x3ce, 2), outb(&f->v, 0x3cf, 0x05);
	outb(&f->v, 0x3ce, 7), outb(&f->v, 0x3cf, 0x0f);
	assert_int_equal(mem_read(&f->v, 0xa8000), 0xf0);
}

static void test_framebuffer_bar_moves_the_memslot(void **state)
{
	struct fixture *f = *state;
	struct pci_bus pb;
	struct bus pio, mmio;
	bus_init(&pio);
	bus_init(&mmio);
	pci_bus_init(&pb, &pio, &mmio, NULL, NULL);
	int slot = pci_bus_add(&pb, &f->v.pci);
	pci_bus_reset(&pb);
	assert_int_equal(f->mapped_at, 0xe1000000);          /* firmware placement */
	assert_true(f->v.pci.config[PCI_BAR0] & 0x08);        /* prefetchable */
	pci_config_write(&pb, 0, (unsigned)slot, 0, PCI_BAR0, 4, 0xffffffff);   /* sizing */
	assert_int_equal(f->mapped_at, 0);
	assert_int_equal(pci_config_read(&pb, 0, (unsigned)slot, 0, PCI_BAR0, 4), 0xff000008);
	pci_config_write(&pb, 0, (unsigned)slot, 0, PCI_BAR0, 4, 0xe8000000);
	assert_int_equal(f->mapped_at, 0xe8000000);
	pci_config_write(&pb, 0, (unsigned)slot, 0, PCI_COMMAND, 2, 0);         /* decoding off */
	assert_int_equal(f->mapped_at, 0);
	/* BAR 2 is ordinary MMIO on the bus. */
	pci_config_write(&pb, 0, (unsigned)slot, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	uint64_t bar2 = pci_config_read(&pb, 0, (unsigned)slot, 0, PCI_BAR0 + 8, 4) & ~0xfu;
	uint16_t id = 0;
	assert_true(bus_read(&mmio, bar2 + VGA_MMIO_VBE_OFF, &id, 2));
	assert_int_equal(id, VBE_ID5);
	pci_bus_destroy(&pb);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

/* ---- rendering ---------------------------------------------------------------------- */

static uint32_t px(struct fixture *f, unsigned x, unsigned y)
{
	return f->v.surface.pixels[y * f->v.surface.width + x];
}

static void put_char(struct fixture *f, unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
	mem_write(&f->v, 0xb8000 + 2 * (row * 80 + col), ch);
	mem_write(&f->v, 0xb8000 + 2 * (row * 80 + col) + 1, attr);
}

/* Cell ROW,COL must be glyph CH in FG on BG, 9 pixels wide. */
static void assert_cell(struct fixture *f, unsigned row, unsigned col, uint8_t ch, uint32_t fg, uint32_t bg)
{
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++) {
			bool on = x < 8 && (vga_font_8x16[ch][y] & (0x80 >> x));
			uint32_t got = px(f, col * 9 + x, row * 16 + y);
			if (got != (on ? fg : bg))
				fail_msg("cell %u,%u '%c' pixel %u,%u: %06x, want %06x", row, col, ch, x, y, got,
					 on ? fg : bg);
		}
}

static unsigned take_all(struct fixture *f, struct display_rect *r, unsigned max)
{
	return dirty_take(&f->v.dirty, r, max);
}

static void test_text_mode_draws_the_font(void **state)
{
	struct fixture *f = *state;
	outb(&f->v, 0x3d4, 0x0a), outb(&f->v, 0x3d5, 0x20);      /* no cursor */
	put_char(f, 0, 0, 'H', 0x1f);
	put_char(f, 0, 1, 'i', 0x1f);
	put_char(f, 3, 79, '#', 0x4e);
	assert_true(vga_refresh(&f->v, 0));                     /* first frame: new surface */
	assert_int_equal(f->v.surface.width, 720);
	assert_int_equal(f->v.surface.height, 400);
	assert_cell(f, 0, 0, 'H', 0xffffff, 0x0000aa);
	assert_cell(f, 0, 1, 'i', 0xffffff, 0x0000aa);
	assert_cell(f, 3, 79, '#', 0xffff55, 0xaa0000);
	assert_cell(f, 1, 0, ' ', 0xaaaaaa, 0x000000);
	struct display_rect r[64];
	assert_true(take_all(f, r, 64) >= 1);
	/* Nothing changed: nothing to send. */
	assert_false(vga_refresh(&f->v, 0));
	assert_int_equal(take_all(f, r, 64), 0);
	/* One character: one cell's tiles. */
	put_char(f, 10, 40, 'x', 0x07);
	vga_refresh(&f->v, 0);
	assert_int_equal(take_all(f, r, 64), 1);
	assert_true(r[0].x <= 360 && r[0].x + r[0].w >= 369 && r[0].y <= 160 && r[0].y + r[0].h >= 176);
	assert_true(r[0].w <= 32 && r[0].h <= 32);
	assert_cell(f, 10, 40, 'x', 0xaaaaaa, 0x000000);
}

static void test_line_graphics_fill_the_ninth_column(void **state)
{
	struct fixture *f = *state;
	outb(&f->v, 0x3d4, 0x0a), outb(&f->v, 0x3d5, 0x20);
	put_char(f, 0, 0, 0xc4, 0x07);                            /* ─ */
	put_char(f, 0, 1, 0xb3, 0x07);                            /* │: outside 0xC0-0xDF */
	vga_refresh(&f->v, 0);
	unsigned y = 0;   /* the horizontal line's row in the font */
	while (y < 16 && vga_font_8x16[0xc4][y] != 0xff)
		y++;
	assert_true(y < 16);
	assert_int_equal(px(f, 8, y), 0xaaaaaa);
	assert_int_equal(px(f, 9 + 8, 0), 0x000000);
}

static void test_cursor_and_blink(void **state)
{
	struct fixture *f = *state;
	put_char(f, 5, 5, 'B', 0x87);                             /* blinking light grey */
	outb(&f->v, 0x3d4, 0x0e), outb(&f->v, 0x3d5, 0x00);
	outb(&f->v, 0x3d4, 0x0f), outb(&f->v, 0x3d5, 2 * 80 + 3);  /* cursor at row 2, col 3 */
	vga_refresh(&f->v, 0);                                    /* phase on */
	/* Mode 3's cursor is scan lines 13-14 in the foreground colour. */
	assert_int_equal(px(f, 3 * 9 + 4, 2 * 16 + 13), 0xaaaaaa);
	assert_int_equal(px(f, 3 * 9 + 4, 2 * 16 + 12), 0x000000);
	assert_cell(f, 5, 5, 'B', 0xaaaaaa, 0x000000);
	vga_refresh(&f->v, 300);                                  /* cursor phase off */
	assert_int_equal(px(f, 3 * 9 + 4, 2 * 16 + 13), 0x000000);
	vga_refresh(&f->v, 600);                                  /* text blink phase off */
	assert_cell(f, 5, 5, 'B', 0x000000, 0x000000);
	/* With blinking off (AR10 bit 3), bit 7 means a bright background. */
	inb(&f->v, 0x3da);
	outb(&f->v, 0x3c0, 0x30);
	outb(&f->v, 0x3c0, 0x04);
	vga_refresh(&f->v, 600);
	assert_cell(f, 5, 5, 'B', 0xaaaaaa, 0x555555);
}

static void set_vbe(struct fixture *f, unsigned w, unsigned h, unsigned bpp)
{
	vbe_out(&f->v, VBE_INDEX_XRES, (uint16_t)w);
	vbe_out(&f->v, VBE_INDEX_YRES, (uint16_t)h);
	vbe_out(&f->v, VBE_INDEX_BPP, (uint16_t)bpp);
	vbe_out(&f->v, VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
}

/* A viewer is set up with the mode's size before any picture exists: the
 * surface stays untouched (an unwatched VM does not pay for it) and the
 * first refresh still draws everything. */
static void test_viewer_setup_renders_nothing(void **state)
{
	struct fixture *f = *state;
	outb(&f->v, 0x3d4, 0x0a), outb(&f->v, 0x3d5, 0x20);      /* no cursor */
	put_char(f, 0, 0, 'H', 0x1f);
	unsigned w = 0, h = 0;
	const uint32_t *px = vga_surface_for_viewers(&f->v, &w, &h);
	assert_non_null(px);
	assert_int_equal(w, 720);
	assert_int_equal(h, 400);
	assert_int_equal(f->v.surface.width, 0);                /* nothing rendered */
	assert_int_equal(px[0], 0);
	assert_true(vga_refresh(&f->v, 0));                     /* so the first refresh is full */
	assert_ptr_equal(f->v.surface.pixels, px);
	assert_cell(f, 0, 0, 'H', 0xffffff, 0x0000aa);
	set_vbe(f, 800, 600, 32);
	vga_surface_for_viewers(&f->v, &w, &h);
	assert_int_equal(w, 720);                               /* the picture that exists */
	vga_refresh(&f->v, 0);
	vga_surface_for_viewers(&f->v, &w, &h);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
}

static void test_vbe_formats(void **state)
{
	struct fixture *f = *state;
	set_vbe(f, 64, 8, 16);
	f->v.vram[0] = 0x1f, f->v.vram[1] = 0xf8;               /* 0xf81f: magenta */
	f->v.vram[2] = 0xe0, f->v.vram[3] = 0x07;               /* green */
	vga_refresh(&f->v, 0);
	assert_int_equal(px(f, 0, 0), 0xff00ff);
	assert_int_equal(px(f, 1, 0), 0x00ff00);
	set_vbe(f, 64, 8, 0);
	vbe_out(&f->v, VBE_INDEX_ENABLE, 0);
	set_vbe(f, 64, 8, 24);
	f->v.vram[0] = 0x11, f->v.vram[1] = 0x22, f->v.vram[2] = 0x33;
	vga_refresh(&f->v, 0);
	assert_int_equal(px(f, 0, 0), 0x332211);
	vbe_out(&f->v, VBE_INDEX_ENABLE, 0);
	set_vbe(f, 64, 8, 8);
	outb(&f->v, 0x3c8, 9);
	outb(&f->v, 0x3c9, 0x3f), outb(&f->v, 0x3c9, 0x00), outb(&f->v, 0x3c9, 0x20);
	f->v.vram[5] = 9;
	vga_refresh(&f->v, 0);
	assert_int_equal(px(f, 5, 0), 0xff0082);                 /* 6-bit DAC scaled to 8 bits */
}

/* KVM's dirty log decides which lines are compared at all. */
static void test_vbe_updates_follow_the_dirty_log(void **state)
{
	struct fixture *f = *state;
	set_vbe(f, 1024, 768, 32);
	vga_refresh(&f->v, 0);
	struct display_rect r[64];
	take_all(f, r, 64);
	/* A guest store the log does not report is not seen... */
	uint32_t red = 0xff0000;
	memcpy(f->v.vram + 100 * 4096 + 40, &red, 4);
	vga_refresh(&f->v, 0);
	assert_int_equal(take_all(f, r, 64), 0);
	/* ...until its page is dirty: then exactly that spot is sent. */
	f->log[100 / (8 * sizeof(unsigned long))] |= 1ul << (100 % (8 * sizeof(unsigned long)));
	vga_refresh(&f->v, 0);
	assert_int_equal(take_all(f, r, 64), 1);
	assert_int_equal(r[0].y, 96);                             /* line 100 */
	assert_int_equal(r[0].x, 0);                              /* pixel 10 */
	assert_int_equal(r[0].w, 16);
	assert_int_equal(px(f, 10, 100), 0xff0000);
	/* Without a log every line is compared: still only real changes go out. */
	f->log_works = false;
	memcpy(f->v.vram + 700 * 4096, &red, 4);
	vga_refresh(&f->v, 0);
	assert_int_equal(take_all(f, r, 64), 1);
	assert_int_equal(r[0].y, 688);
}

static void test_mode_change_resizes_and_blank(void **state)
{
	struct fixture *f = *state;
	assert_true(vga_refresh(&f->v, 0));
	set_vbe(f, 800, 600, 32);
	assert_true(vga_refresh(&f->v, 0));
	assert_int_equal(f->v.surface.width, 800);
	vbe_out(&f->v, VBE_INDEX_ENABLE, 0);
	assert_true(vga_refresh(&f->v, 0));                      /* back to the legacy mode */
	/* Palette source off (bit 5 of the attribute index) blanks the screen. */
	inb(&f->v, 0x3da);
	outb(&f->v, 0x3c0, 0x00);
	vga_refresh(&f->v, 0);
	for (unsigned i = 0; i < f->v.surface.width * f->v.surface.height; i++)
		assert_int_equal(f->v.surface.pixels[i], 0);
}

static void test_mode_13h(void **state)
{
	struct fixture *f = *state;
	/* What a BIOS programs for mode 13h (320x200, 256 colours). */
	const uint8_t cr[25] = { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0, 0, 0, 0, 0, 0,
				 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff };
	outb(&f->v, 0x3d4, 0x11), outb(&f->v, 0x3d5, 0x0e);
	for (unsigned i = 0; i < 25; i++)
		outb(&f->v, 0x3d4, (uint8_t)i), outb(&f->v, 0x3d5, cr[i]);
	outb(&f->v, 0x3c4, 4), outb(&f->v, 0x3c5, 0x0e);        /* chain 4 */
	outb(&f->v, 0x3c4, 2), outb(&f->v, 0x3c5, 0x0f);        /* all planes */
	outb(&f->v, 0x3c4, 1), outb(&f->v, 0x3c5, 0x01);
	outb(&f->v, 0x3ce, 5), outb(&f->v, 0x3cf, 0x40);        /* 256 colours */
	outb(&f->v, 0x3ce, 6), outb(&f->v, 0x3cf, 0x05);        /* graphics, 0xA0000 */
	mem_write(&f->v, 0xa0000 + 320 * 10 + 7, 4);            /* EGA red */
	mem_write(&f->v, 0xa0000 + 320 * 10 + 8, 0);
	vga_refresh(&f->v, 0);
	assert_int_equal(f->v.surface.width, 320);
	assert_int_equal(f->v.surface.height, 200);
	assert_int_equal(px(f, 7, 10), 0xaa0000);
	assert_int_equal(px(f, 8, 10), 0x000000);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_vbe_id_and_memory),
		T(test_vbe_getcaps_reports_the_maximum),
		T(test_vbe_mode_set_through_mmio),
		T(test_vbe_values_are_brought_into_range),
		T(test_vbe_nocLearmem_keeps_the_picture),
		T(test_vbe_banked_window),
		T(test_attribute_flip_flop_and_dac),
		T(test_text_memory_is_odd_even),
		T(test_planar_writes_and_latches),
		T(test_framebuffer_bar_moves_the_memslot),
		T(test_text_mode_draws_the_font),
		T(test_viewer_setup_renders_nothing),
		T(test_line_graphics_fill_the_ninth_column),
		T(test_cursor_and_blink),
		T(test_vbe_formats),
		T(test_vbe_updates_follow_the_dirty_log),
		T(test_mode_change_resizes_and_blank),
		T(test_mode_13h),
	};
	return cmocka_run_group_tests_name("vga", tests, NULL, NULL);
}
