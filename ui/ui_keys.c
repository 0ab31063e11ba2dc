#include <curses.h>
#include <string.h>

#include "ui/ui_keys.h"

/* ncurses KEY_* codes with a keysym and a VT sequence. */
static const struct {
	int code;
	uint32_t keysym;
	const char *vt;
} special[] = {
	{ KEY_UP, XK_Up, "\033[A" },           { KEY_DOWN, XK_Down, "\033[B" },
	{ KEY_RIGHT, XK_Right, "\033[C" },     { KEY_LEFT, XK_Left, "\033[D" },
	{ KEY_HOME, XK_Home, "\033[H" },       { KEY_END, XK_End, "\033[F" },
	{ KEY_PPAGE, XK_Page_Up, "\033[5~" },  { KEY_NPAGE, XK_Page_Down, "\033[6~" },
	{ KEY_IC, XK_Insert, "\033[2~" },      { KEY_DC, XK_Delete, "\033[3~" },
	{ KEY_BACKSPACE, XK_BackSpace, "\177" }, { KEY_ENTER, XK_Return, "\r" },
	{ KEY_BTAB, XK_Tab, "\033[Z" },
};

static const char *const fkeys_vt[12] = {
	"\033OP", "\033OQ", "\033OR", "\033OS", "\033[15~", "\033[17~",
	"\033[18~", "\033[19~", "\033[20~", "\033[21~", "\033[23~", "\033[24~",
};

static size_t add(struct ui_keyev *out, size_t max, size_t n, uint32_t keysym, bool down)
{
	if (n < max)
		out[n] = (struct ui_keyev){ keysym, down };
	return n + 1;
}

/* A tap of KEYSYM with modifiers held around it. */
static size_t tap(struct ui_keyev *out, size_t max, uint32_t keysym, bool ctrl, bool alt, bool shift)
{
	size_t n = 0;
	if (ctrl)
		n = add(out, max, n, XK_Control_L, true);
	if (alt)
		n = add(out, max, n, XK_Alt_L, true);
	if (shift)
		n = add(out, max, n, XK_Shift_L, true);
	n = add(out, max, n, keysym, true);
	n = add(out, max, n, keysym, false);
	if (shift)
		n = add(out, max, n, XK_Shift_L, false);
	if (alt)
		n = add(out, max, n, XK_Alt_L, false);
	if (ctrl)
		n = add(out, max, n, XK_Control_L, false);
	return n < max ? n : max;
}

size_t ui_keys_to_x(int key, bool is_code, bool alt, struct ui_keyev *out, size_t max)
{
	if (is_code) {
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
			if (special[i].code == key)
				return tap(out, max, special[i].keysym, false, alt, key == KEY_BTAB);
		if (key >= KEY_F(1) && key <= KEY_F(12))
			return tap(out, max, XK_F1 + (uint32_t)(key - KEY_F(1)), false, alt, false);
		return 0;
	}
	switch (key) {
	case '\r':
	case '\n':
		return tap(out, max, XK_Return, false, alt, false);
	case '\t':
		return tap(out, max, XK_Tab, false, alt, false);
	case 0x7f:
	case 0x08:
		return tap(out, max, XK_BackSpace, false, alt, false);
	case 0x1b:
		return tap(out, max, XK_Escape, false, alt, false);
	case 0:
		return tap(out, max, ' ', true, alt, false);        /* Ctrl-Space */
	}
	if (key >= 1 && key <= 26)
		return tap(out, max, (uint32_t)('a' + key - 1), true, alt, false);
	if (key >= 28 && key <= 31)                               /* Ctrl-\ ] ^ _ */
		return tap(out, max, (uint32_t)("\\]^_"[key - 28]), true, alt, false);
	if (key >= 0x20 && key <= 0xff)
		return tap(out, max, (uint32_t)key, false, alt, false);
	if (key > 0xff && key <= 0x10ffff)
		return tap(out, max, 0x01000000u | (uint32_t)key, false, alt, false);
	return 0;
}

static size_t utf8(unsigned c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

size_t ui_keys_to_vt(int key, bool is_code, bool alt, char *out, size_t max)
{
	char buf[16];
	size_t n = 0;
	if (alt)
		buf[n++] = '\033';
	if (is_code) {
		const char *seq = NULL;
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]) && !seq; i++)
			if (special[i].code == key)
				seq = special[i].vt;
		if (!seq && key >= KEY_F(1) && key <= KEY_F(12))
			seq = fkeys_vt[key - KEY_F(1)];
		if (!seq)
			return 0;
		memcpy(buf + n, seq, strlen(seq));
		n += strlen(seq);
	} else if (key == '\n') {
		buf[n++] = '\r';        /* what a terminal's Enter sends */
	} else if (key >= 0 && key <= 0x10ffff) {
		n += utf8((unsigned)key, buf + n);
	} else {
		return 0;
	}
	if (n > max)
		return 0;
	memcpy(out, buf, n);
	return n;
}
