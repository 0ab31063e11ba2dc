/* The display end to end: finds the VGA on PCI, checks the VBE registers
 * through the ports and BAR 2, writes known text into VGA text memory,
 * then (after the host types 'g') sets a 1024x768x32 VBE mode and draws a
 * pattern into the linear framebuffer from ring 3, then (after 'k') echoes
 * every byte the i8042 delivers until ESC is released.  As a bzImage it
 * reads the screen_info the VMM filled and draws into that framebuffer;
 * bench=idle then halts, bench=animate redraws the whole screen forever. */
#include "vga_test.h"
#include "virtio.h"

#define VBE_INDEX 0x1ce
#define VBE_DATA  0x1cf

static volatile uint32_t *lfb;
static uint32_t lfb_stride;   /* pixels */

static void vbe_write(uint16_t index, uint16_t val)
{
	outw(VBE_INDEX, index);
	outw(VBE_DATA, val);
}

static uint16_t vbe_read(uint16_t index)
{
	outw(VBE_INDEX, index);
	return inw(VBE_DATA);
}

static void wait_serial(char c)
{
	for (;;) {
		if (inb(0x3fd) & 1) {
			if ((char)inb(0x3f8) == c)
				return;
		} else {
			pause_cpu();
		}
	}
}

static void report(const char *what, uint64_t v)
{
	print("vga: ");
	print(what);
	print(" ");
	put_hex(v);
	putc_serial('\n');
}

/* Ring 3: native speed, plain memory stores into the memslot. */
static void draw_pattern(void)
{
	for (unsigned y = 0; y < VGA_TEST_HEIGHT; y++)
		for (unsigned x = 0; x < VGA_TEST_WIDTH; x++)
			lfb[y * lfb_stride + x] = vga_test_pattern(x, y);
}

/* Benchmark load: every frame changes every pixel (the pattern moves). */
static void animate(void)
{
	for (unsigned k = 1;; k++)
		for (unsigned y = 0; y < VGA_TEST_HEIGHT; y++)
			for (unsigned x = 0; x < VGA_TEST_WIDTH; x++)
				lfb[y * lfb_stride + x] = vga_test_pattern((x + k) % VGA_TEST_WIDTH, y) ^ k;
}

static void write_text(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	volatile uint16_t *text = (volatile uint16_t *)0xb8000ull;
	for (unsigned i = 0; s[i]; i++)
		text[row * 80 + col + i] = (uint16_t)(attr << 8 | (uint8_t)s[i]);
}

static void echo_keys(void)
{
	println("kbd: ready");
	for (;;) {
		uint8_t st = inb(0x64);
		if (!(st & 1))
			continue;
		uint8_t b = inb(0x60);
		print(st & 0x20 ? "aux: " : "kbd: ");
		put_hex(b);
		putc_serial('\n');
		if (!(st & 0x20) && b == 0x81)       /* ESC released (set 1) */
			return;
	}
}

static void boot_framebuffer(void)
{
	const uint8_t *si = (const uint8_t *)boot_info;     /* screen_info is at offset 0 */
	uint16_t w, h, depth, line;
	uint32_t base, size;
	memcpy(&w, si + 0x12, 2);
	memcpy(&h, si + 0x14, 2);
	memcpy(&depth, si + 0x16, 2);
	memcpy(&base, si + 0x18, 4);
	memcpy(&size, si + 0x1c, 4);
	memcpy(&line, si + 0x24, 2);
	report("screen_info type", si[0x0f]);
	print("vga: screen_info ");
	put_dec(w);
	print("x");
	put_dec(h);
	print("x");
	put_dec(depth);
	print(" stride ");
	put_dec(line);
	print(" size64k ");
	put_dec(size);
	print(" rgb ");
	put_dec(si[0x26]); print("@"); put_dec(si[0x27]); print(" ");
	put_dec(si[0x28]); print("@"); put_dec(si[0x29]); print(" ");
	put_dec(si[0x2a]); print("@"); put_dec(si[0x2b]);
	putc_serial('\n');
	report("screen_info base", base);
	lfb = (volatile uint32_t *)(uint64_t)base;
	lfb_stride = line / 4;
	enter_user(draw_pattern);
	println("vga: lfb ready");
}

void guest_main(void)
{
	int slot = pci_find(0x1234, 0x1111);
	if (slot < 0) {
		println("vga: no display device");
		return;
	}
	uint64_t bar0 = pci_bar((unsigned)slot, 0), bar2 = pci_bar((unsigned)slot, 2);
	report("class", pci_read32((unsigned)slot, 8) >> 8);
	report("bar0", bar0);
	report("vbe id", vbe_read(0));
	report("mmio vbe id", *(volatile uint16_t *)(bar2 + 0x500));
	report("mmio vram64k", *(volatile uint16_t *)(bar2 + 0x500 + 2 * 0xa));
	report("mmio qext size", mmio_read32(bar2 + 0x600));
	if (boot_is_bzimage) {
		boot_framebuffer();
		char mode[16];
		if (cmdline_get("bench", mode, sizeof(mode))) {
			println(streq(mode, "animate") ? "vga: animating" : "vga: idle");
			if (streq(mode, "animate"))
				enter_user(animate);
			for (;;)
				hlt();                        /* interrupts are off: an idle vCPU */
		}
	} else {
		outb(0x3d4, 0x0a);
		outb(0x3d5, 0x20);                /* cursor off: the pixels stay put */
		write_text(0, 0, VGA_TEST_LINE0, VGA_TEST_ATTR0);
		write_text(2, VGA_TEST_LINE2_COL, VGA_TEST_LINE2, VGA_TEST_ATTR2);
		println("vga: text ready");
		wait_serial('g');
		vbe_write(4, 0);
		vbe_write(1, VGA_TEST_WIDTH);
		vbe_write(2, VGA_TEST_HEIGHT);
		vbe_write(3, 32);
		vbe_write(4, 0x41);               /* enabled, linear framebuffer */
		report("mode", (uint64_t)vbe_read(1) << 32 | (uint64_t)vbe_read(2) << 16 | vbe_read(3));
		lfb = (volatile uint32_t *)bar0;
		lfb_stride = VGA_TEST_WIDTH;
		enter_user(draw_pattern);
		println("vga: lfb ready");
	}
	wait_serial('k');
	echo_keys();
}
