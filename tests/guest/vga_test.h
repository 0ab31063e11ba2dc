/* What g_vga draws, shared by the guest and the host tests that check the
 * pixels a VNC client receives. */
#ifndef GUEST_VGA_TEST_H
#define GUEST_VGA_TEST_H

#include <stdint.h>

#define VGA_TEST_LINE0      "vmdeck VGA text: Hello, world! 0123456789"
#define VGA_TEST_ATTR0      0x1f            /* white on blue */
#define VGA_TEST_LINE2      "<>[]{}|~ ABCxyz @#$%"
#define VGA_TEST_ATTR2      0x4e            /* yellow on red */
#define VGA_TEST_LINE2_COL  10
#define VGA_TEST_WIDTH      1024
#define VGA_TEST_HEIGHT     768

/* 32x32 blocks in eight colours, and a one-pixel white frame. */
static inline uint32_t vga_test_pattern(unsigned x, unsigned y)
{
	static const uint32_t colours[8] = {
		0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0x808080,
	};
	if (x == 0 || y == 0 || x == VGA_TEST_WIDTH - 1 || y == VGA_TEST_HEIGHT - 1)
		return 0xffffff;
	return colours[((x >> 5) + 3 * (y >> 5)) & 7];
}

#endif
