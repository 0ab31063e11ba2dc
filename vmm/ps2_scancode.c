#include <linux/input-event-codes.h>

#include "vmm/ps2_scancode.h"

#define E0 0x100   /* extended key: 0xE0 prefix */

static const uint16_t set2[KEY_COMPOSE + 1] = {
	[KEY_ESC] = 0x76, [KEY_1] = 0x16, [KEY_2] = 0x1e, [KEY_3] = 0x26, [KEY_4] = 0x25,
	[KEY_5] = 0x2e, [KEY_6] = 0x36, [KEY_7] = 0x3d, [KEY_8] = 0x3e, [KEY_9] = 0x46,
	[KEY_0] = 0x45, [KEY_MINUS] = 0x4e, [KEY_EQUAL] = 0x55, [KEY_BACKSPACE] = 0x66,
	[KEY_TAB] = 0x0d, [KEY_Q] = 0x15, [KEY_W] = 0x1d, [KEY_E] = 0x24, [KEY_R] = 0x2d,
	[KEY_T] = 0x2c, [KEY_Y] = 0x35, [KEY_U] = 0x3c, [KEY_I] = 0x43, [KEY_O] = 0x44,
	[KEY_P] = 0x4d, [KEY_LEFTBRACE] = 0x54, [KEY_RIGHTBRACE] = 0x5b, [KEY_ENTER] = 0x5a,
	[KEY_LEFTCTRL] = 0x14, [KEY_A] = 0x1c, [KEY_S] = 0x1b, [KEY_D] = 0x23, [KEY_F] = 0x2b,
	[KEY_G] = 0x34, [KEY_H] = 0x33, [KEY_J] = 0x3b, [KEY_K] = 0x42, [KEY_L] = 0x4b,
	[KEY_SEMICOLON] = 0x4c, [KEY_APOSTROPHE] = 0x52, [KEY_GRAVE] = 0x0e, [KEY_LEFTSHIFT] = 0x12,
	[KEY_BACKSLASH] = 0x5d, [KEY_Z] = 0x1a, [KEY_X] = 0x22, [KEY_C] = 0x21, [KEY_V] = 0x2a,
	[KEY_B] = 0x32, [KEY_N] = 0x31, [KEY_M] = 0x3a, [KEY_COMMA] = 0x41, [KEY_DOT] = 0x49,
	[KEY_SLASH] = 0x4a, [KEY_RIGHTSHIFT] = 0x59, [KEY_KPASTERISK] = 0x7c, [KEY_LEFTALT] = 0x11,
	[KEY_SPACE] = 0x29, [KEY_CAPSLOCK] = 0x58, [KEY_F1] = 0x05, [KEY_F2] = 0x06, [KEY_F3] = 0x04,
	[KEY_F4] = 0x0c, [KEY_F5] = 0x03, [KEY_F6] = 0x0b, [KEY_F7] = 0x83, [KEY_F8] = 0x0a,
	[KEY_F9] = 0x01, [KEY_F10] = 0x09, [KEY_NUMLOCK] = 0x77, [KEY_SCROLLLOCK] = 0x7e,
	[KEY_KP7] = 0x6c, [KEY_KP8] = 0x75, [KEY_KP9] = 0x7d, [KEY_KPMINUS] = 0x7b, [KEY_KP4] = 0x6b,
	[KEY_KP5] = 0x73, [KEY_KP6] = 0x74, [KEY_KPPLUS] = 0x79, [KEY_KP1] = 0x69, [KEY_KP2] = 0x72,
	[KEY_KP3] = 0x7a, [KEY_KP0] = 0x70, [KEY_KPDOT] = 0x71, [KEY_102ND] = 0x61, [KEY_F11] = 0x78,
	[KEY_F12] = 0x07, [KEY_KPENTER] = E0 | 0x5a, [KEY_RIGHTCTRL] = E0 | 0x14,
	[KEY_KPSLASH] = E0 | 0x4a, [KEY_SYSRQ] = E0 | 0x7c, [KEY_RIGHTALT] = E0 | 0x11,
	[KEY_HOME] = E0 | 0x6c, [KEY_UP] = E0 | 0x75, [KEY_PAGEUP] = E0 | 0x7d, [KEY_LEFT] = E0 | 0x6b,
	[KEY_RIGHT] = E0 | 0x74, [KEY_END] = E0 | 0x69, [KEY_DOWN] = E0 | 0x72,
	[KEY_PAGEDOWN] = E0 | 0x7a, [KEY_INSERT] = E0 | 0x70, [KEY_DELETE] = E0 | 0x71,
	[KEY_LEFTMETA] = E0 | 0x1f, [KEY_RIGHTMETA] = E0 | 0x27, [KEY_COMPOSE] = E0 | 0x2f,
};

unsigned ps2_scancode(unsigned keycode, bool down, uint8_t out[PS2_SCANCODE_MAX])
{
	if (keycode == KEY_PAUSE) {
		/* Pause sends its whole make-and-break sequence on press only. */
		static const uint8_t pause[8] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
		if (!down)
			return 0;
		for (unsigned i = 0; i < 8; i++)
			out[i] = pause[i];
		return 8;
	}
	if (keycode >= sizeof(set2) / sizeof(set2[0]) || !set2[keycode])
		return 0;
	unsigned n = 0;
	if (set2[keycode] & E0)
		out[n++] = 0xe0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = (uint8_t)set2[keycode];
	return n;
}
