/* Keys typed in the terminal, as ncurses reports them, turned into what
 * a guest gets: X keysym press/release events for the VNC console, and
 * byte sequences (VT100/xterm) for the serial console.  The terminal
 * delivers characters, not key presses, so a Ctrl-letter becomes
 * Control_L held around the letter, and uppercase letters are sent as
 * their keysym (the VMM's keymap adds Shift as the guest's layout needs). */
#ifndef VMDECK_UI_KEYS_H
#define VMDECK_UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The console's escape key: leaves the console window (Ctrl-]). */
#define UI_KEY_ESCAPE 0x1d

/* Keysyms used here (X11 keysymdef.h). */
enum {
	XK_BackSpace = 0xff08, XK_Tab = 0xff09, XK_Return = 0xff0d, XK_Escape = 0xff1b,
	XK_Home = 0xff50, XK_Left = 0xff51, XK_Up = 0xff52, XK_Right = 0xff53, XK_Down = 0xff54,
	XK_Page_Up = 0xff55, XK_Page_Down = 0xff56, XK_End = 0xff57, XK_Insert = 0xff63,
	XK_F1 = 0xffbe, XK_Shift_L = 0xffe1, XK_Control_L = 0xffe3, XK_Alt_L = 0xffe9,
	XK_Delete = 0xffff,
};

struct ui_keyev {
	uint32_t keysym;
	bool down;
};

/* KEY is what wget_wch returned: a character (IS_CODE false) or an
 * ncurses KEY_* code.  ALT: it came after a lone ESC.  Writes at most MAX
 * events and returns how many (0: nothing to send). */
size_t ui_keys_to_x(int key, bool is_code, bool alt, struct ui_keyev *out, size_t max);

/* The bytes a VT100-ish terminal sends for KEY, for the serial console;
 * returns their number (0: nothing). */
size_t ui_keys_to_vt(int key, bool is_code, bool alt, char *out, size_t max);

#endif
