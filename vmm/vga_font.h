/* The built-in 8x16 font of VGA text mode (code page 437), loaded into
 * plane 2 at reset as a PC BIOS would. */
#ifndef VMDECK_VGA_FONT_H
#define VMDECK_VGA_FONT_H

#include <stdint.h>

extern const uint8_t vga_font_8x16[256][16];

#endif
