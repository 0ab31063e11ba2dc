#include <linux/input-event-codes.h>
#include <rfb/keysym.h>
#include <string.h>

#include "vmm/keymap.h"

#define S KEYMAP_SHIFT
#define G KEYMAP_ALTGR
#define A KEYMAP_ANY

struct keymap {
	const char *name;
	const char *letters[3];               /* the letter rows, left to right */
	const struct keymap_entry *symbols;   /* everything else that types a character */
};

/* Keys whose meaning does not depend on the layout. */
static const struct keymap_entry common[] = {
	{ XK_BackSpace, KEY_BACKSPACE, A }, { XK_Tab, KEY_TAB, A }, { XK_ISO_Left_Tab, KEY_TAB, S },
	{ XK_Return, KEY_ENTER, A }, { XK_Escape, KEY_ESC, A }, { XK_Delete, KEY_DELETE, A },
	{ XK_Home, KEY_HOME, A }, { XK_Left, KEY_LEFT, A }, { XK_Up, KEY_UP, A },
	{ XK_Right, KEY_RIGHT, A }, { XK_Down, KEY_DOWN, A }, { XK_Page_Up, KEY_PAGEUP, A },
	{ XK_Page_Down, KEY_PAGEDOWN, A }, { XK_End, KEY_END, A }, { XK_Insert, KEY_INSERT, A },
	{ XK_Print, KEY_SYSRQ, A }, { XK_Pause, KEY_PAUSE, A }, { XK_Menu, KEY_COMPOSE, A },
	{ XK_Scroll_Lock, KEY_SCROLLLOCK, A }, { XK_Num_Lock, KEY_NUMLOCK, A },
	{ XK_Caps_Lock, KEY_CAPSLOCK, A }, { XK_space, KEY_SPACE, A },
	{ XK_Shift_L, KEY_LEFTSHIFT, A }, { XK_Shift_R, KEY_RIGHTSHIFT, A },
	{ XK_Control_L, KEY_LEFTCTRL, A }, { XK_Control_R, KEY_RIGHTCTRL, A },
	{ XK_Alt_L, KEY_LEFTALT, A }, { XK_Alt_R, KEY_RIGHTALT, A }, { XK_Meta_L, KEY_LEFTALT, A },
	{ XK_Meta_R, KEY_RIGHTALT, A }, { XK_ISO_Level3_Shift, KEY_RIGHTALT, A },
	{ XK_Mode_switch, KEY_RIGHTALT, A }, { XK_Super_L, KEY_LEFTMETA, A },
	{ XK_Super_R, KEY_RIGHTMETA, A },
	{ XK_F1, KEY_F1, A }, { XK_F2, KEY_F2, A }, { XK_F3, KEY_F3, A }, { XK_F4, KEY_F4, A },
	{ XK_F5, KEY_F5, A }, { XK_F6, KEY_F6, A }, { XK_F7, KEY_F7, A }, { XK_F8, KEY_F8, A },
	{ XK_F9, KEY_F9, A }, { XK_F10, KEY_F10, A }, { XK_F11, KEY_F11, A }, { XK_F12, KEY_F12, A },
	{ XK_KP_Enter, KEY_KPENTER, A }, { XK_KP_Divide, KEY_KPSLASH, A },
	{ XK_KP_Multiply, KEY_KPASTERISK, A }, { XK_KP_Subtract, KEY_KPMINUS, A },
	{ XK_KP_Add, KEY_KPPLUS, A }, { XK_KP_Decimal, KEY_KPDOT, A }, { XK_KP_Delete, KEY_KPDOT, A },
	{ XK_KP_0, KEY_KP0, A }, { XK_KP_1, KEY_KP1, A }, { XK_KP_2, KEY_KP2, A }, { XK_KP_3, KEY_KP3, A },
	{ XK_KP_4, KEY_KP4, A }, { XK_KP_5, KEY_KP5, A }, { XK_KP_6, KEY_KP6, A }, { XK_KP_7, KEY_KP7, A },
	{ XK_KP_8, KEY_KP8, A }, { XK_KP_9, KEY_KP9, A }, { XK_KP_Insert, KEY_KP0, A },
	{ XK_KP_End, KEY_KP1, A }, { XK_KP_Down, KEY_KP2, A }, { XK_KP_Page_Down, KEY_KP3, A },
	{ XK_KP_Left, KEY_KP4, A }, { XK_KP_Begin, KEY_KP5, A }, { XK_KP_Right, KEY_KP6, A },
	{ XK_KP_Home, KEY_KP7, A }, { XK_KP_Up, KEY_KP8, A }, { XK_KP_Page_Up, KEY_KP9, A },
	{ 0, 0, 0 },
};

static const struct keymap_entry us_symbols[] = {
	{ '1', KEY_1, 0 }, { '!', KEY_1, S }, { '2', KEY_2, 0 }, { '@', KEY_2, S },
	{ '3', KEY_3, 0 }, { '#', KEY_3, S }, { '4', KEY_4, 0 }, { '$', KEY_4, S },
	{ '5', KEY_5, 0 }, { '%', KEY_5, S }, { '6', KEY_6, 0 }, { '^', KEY_6, S },
	{ '7', KEY_7, 0 }, { '&', KEY_7, S }, { '8', KEY_8, 0 }, { '*', KEY_8, S },
	{ '9', KEY_9, 0 }, { '(', KEY_9, S }, { '0', KEY_0, 0 }, { ')', KEY_0, S },
	{ '-', KEY_MINUS, 0 }, { '_', KEY_MINUS, S }, { '=', KEY_EQUAL, 0 }, { '+', KEY_EQUAL, S },
	{ '[', KEY_LEFTBRACE, 0 }, { '{', KEY_LEFTBRACE, S }, { ']', KEY_RIGHTBRACE, 0 },
	{ '}', KEY_RIGHTBRACE, S }, { ';', KEY_SEMICOLON, 0 }, { ':', KEY_SEMICOLON, S },
	{ '\'', KEY_APOSTROPHE, 0 }, { '"', KEY_APOSTROPHE, S }, { '`', KEY_GRAVE, 0 },
	{ '~', KEY_GRAVE, S }, { '\\', KEY_BACKSLASH, 0 }, { '|', KEY_BACKSLASH, S },
	{ ',', KEY_COMMA, 0 }, { '<', KEY_COMMA, S }, { '.', KEY_DOT, 0 }, { '>', KEY_DOT, S },
	{ '/', KEY_SLASH, 0 }, { '?', KEY_SLASH, S },
	{ 0, 0, 0 },
};

/* German (de, T1 with dead keys). */
static const struct keymap_entry de_symbols[] = {
	{ XK_dead_circumflex, KEY_GRAVE, 0 }, { XK_asciicircum, KEY_GRAVE, 0 }, { XK_degree, KEY_GRAVE, S },
	{ '1', KEY_1, 0 }, { '!', KEY_1, S }, { '2', KEY_2, 0 }, { '"', KEY_2, S },
	{ XK_twosuperior, KEY_2, G }, { '3', KEY_3, 0 }, { XK_section, KEY_3, S },
	{ XK_threesuperior, KEY_3, G }, { '4', KEY_4, 0 }, { '$', KEY_4, S }, { '5', KEY_5, 0 },
	{ '%', KEY_5, S }, { '6', KEY_6, 0 }, { '&', KEY_6, S }, { '7', KEY_7, 0 }, { '/', KEY_7, S },
	{ '{', KEY_7, G }, { '8', KEY_8, 0 }, { '(', KEY_8, S }, { '[', KEY_8, G }, { '9', KEY_9, 0 },
	{ ')', KEY_9, S }, { ']', KEY_9, G }, { '0', KEY_0, 0 }, { '=', KEY_0, S }, { '}', KEY_0, G },
	{ XK_ssharp, KEY_MINUS, 0 }, { '?', KEY_MINUS, S }, { '\\', KEY_MINUS, G },
	{ XK_dead_acute, KEY_EQUAL, 0 }, { XK_acute, KEY_EQUAL, 0 }, { XK_dead_grave, KEY_EQUAL, S },
	{ '`', KEY_EQUAL, S }, { '@', KEY_Q, G }, { XK_EuroSign, KEY_E, G },
	{ XK_udiaeresis, KEY_LEFTBRACE, 0 }, { XK_Udiaeresis, KEY_LEFTBRACE, S },
	{ '+', KEY_RIGHTBRACE, 0 }, { '*', KEY_RIGHTBRACE, S }, { '~', KEY_RIGHTBRACE, G },
	{ XK_odiaeresis, KEY_SEMICOLON, 0 }, { XK_Odiaeresis, KEY_SEMICOLON, S },
	{ XK_adiaeresis, KEY_APOSTROPHE, 0 }, { XK_Adiaeresis, KEY_APOSTROPHE, S },
	{ '#', KEY_BACKSLASH, 0 }, { '\'', KEY_BACKSLASH, S }, { '<', KEY_102ND, 0 },
	{ '>', KEY_102ND, S }, { '|', KEY_102ND, G }, { XK_mu, KEY_M, G }, { ',', KEY_COMMA, 0 },
	{ ';', KEY_COMMA, S }, { '.', KEY_DOT, 0 }, { ':', KEY_DOT, S }, { '-', KEY_SLASH, 0 },
	{ '_', KEY_SLASH, S },
	{ 0, 0, 0 },
};

/* French (fr, AZERTY). */
static const struct keymap_entry fr_symbols[] = {
	{ XK_twosuperior, KEY_GRAVE, 0 }, { '&', KEY_1, 0 }, { '1', KEY_1, S },
	{ XK_eacute, KEY_2, 0 }, { '2', KEY_2, S }, { '~', KEY_2, G }, { XK_dead_tilde, KEY_2, G },
	{ '"', KEY_3, 0 }, { '3', KEY_3, S }, { '#', KEY_3, G }, { '\'', KEY_4, 0 }, { '4', KEY_4, S },
	{ '{', KEY_4, G }, { '(', KEY_5, 0 }, { '5', KEY_5, S }, { '[', KEY_5, G }, { '-', KEY_6, 0 },
	{ '6', KEY_6, S }, { '|', KEY_6, G }, { XK_egrave, KEY_7, 0 }, { '7', KEY_7, S },
	{ '`', KEY_7, G }, { XK_dead_grave, KEY_7, G }, { '_', KEY_8, 0 }, { '8', KEY_8, S },
	{ '\\', KEY_8, G }, { XK_ccedilla, KEY_9, 0 }, { '9', KEY_9, S }, { '^', KEY_9, G },
	{ XK_agrave, KEY_0, 0 }, { '0', KEY_0, S }, { '@', KEY_0, G }, { ')', KEY_MINUS, 0 },
	{ XK_degree, KEY_MINUS, S }, { ']', KEY_MINUS, G }, { '=', KEY_EQUAL, 0 }, { '+', KEY_EQUAL, S },
	{ '}', KEY_EQUAL, G }, { XK_EuroSign, KEY_E, G }, { XK_dead_circumflex, KEY_LEFTBRACE, 0 },
	{ XK_dead_diaeresis, KEY_LEFTBRACE, S }, { '$', KEY_RIGHTBRACE, 0 },
	{ XK_sterling, KEY_RIGHTBRACE, S }, { XK_currency, KEY_RIGHTBRACE, G },
	{ XK_ugrave, KEY_APOSTROPHE, 0 }, { '%', KEY_APOSTROPHE, S }, { '*', KEY_BACKSLASH, 0 },
	{ XK_mu, KEY_BACKSLASH, S }, { '<', KEY_102ND, 0 }, { '>', KEY_102ND, S },
	{ ',', KEY_M, 0 }, { '?', KEY_M, S }, { ';', KEY_COMMA, 0 }, { '.', KEY_COMMA, S },
	{ ':', KEY_DOT, 0 }, { '/', KEY_DOT, S }, { '!', KEY_SLASH, 0 }, { XK_section, KEY_SLASH, S },
	{ 0, 0, 0 },
};

static const struct keymap maps[] = {
	{ "us", { "qwertyuiop", "asdfghjkl", "zxcvbnm" }, us_symbols },
	{ "de", { "qwertzuiop", "asdfghjkl", "yxcvbnm" }, de_symbols },
	{ "fr", { "azertyuiop", "qsdfghjklm", "wxcvbn" }, fr_symbols },
};

/* The keys under the letter rows, left to right. */
static const uint16_t rows[3][10] = {
	{ KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P },
	{ KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON },
	{ KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH },
};

const struct keymap *keymap_find(const char *name)
{
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (!strcmp(maps[i].name, name))
			return &maps[i];
	return NULL;
}

const char *keymap_names(void)
{
	return "us, de, fr";
}

static bool find_letter(const struct keymap *map, uint32_t keysym, struct keymap_entry *out)
{
	bool upper = keysym >= 'A' && keysym <= 'Z';
	uint32_t lower = upper ? keysym + 32 : keysym;
	if (lower < 'a' || lower > 'z')
		return false;
	for (unsigned r = 0; r < 3; r++) {
		const char *p = strchr(map->letters[r], (int)lower);
		if (p) {
			*out = (struct keymap_entry){ keysym, rows[r][p - map->letters[r]], upper ? S : 0 };
			return true;
		}
	}
	return false;
}

static bool find_in(const struct keymap_entry *t, uint32_t keysym, struct keymap_entry *out)
{
	for (; t->keycode; t++)
		if (t->keysym == keysym) {
			*out = *t;
			return true;
		}
	return false;
}

bool keymap_lookup(const struct keymap *map, uint32_t keysym, struct keymap_entry *out)
{
	return find_letter(map, keysym, out) || find_in(map->symbols, keysym, out) ||
	       find_in(common, keysym, out);
}

/* ---- the state machine ------------------------------------------------------ */

void keymap_state_init(struct keymap_state *st, const struct keymap *map)
{
	memset(st, 0, sizeof(*st));
	st->map = map;
}

/* Right Alt counts as AltGr only when the client says so (a US client's
 * Alt_R is a plain Alt that must not be lifted around keys). */
static bool track_modifier(struct keymap_state *st, uint16_t keycode, uint32_t keysym, bool down)
{
	switch (keycode) {
	case KEY_LEFTSHIFT: st->lshift = down; return true;
	case KEY_RIGHTSHIFT: st->rshift = down; return true;
	case KEY_RIGHTALT:
		if (!down || keysym == XK_ISO_Level3_Shift || keysym == XK_Mode_switch)
			st->altgr = down;
		return true;
	case KEY_LEFTCTRL: case KEY_RIGHTCTRL: case KEY_LEFTALT: case KEY_LEFTMETA: case KEY_RIGHTMETA:
		return true;
	default: return false;
	}
}

struct action_buf {
	struct key_action *a;
	unsigned n;
};

static void emit(struct action_buf *b, uint16_t keycode, bool down)
{
	if (b->n < KEYMAP_MAX_ACTIONS)
		b->a[b->n++] = (struct key_action){ keycode, down };
}

/* Brings Shift and AltGr to what E needs (SET), or back afterwards in the
 * reverse order. */
static void adjust_shift(struct keymap_state *st, bool want_shift, struct action_buf *b, bool set)
{
	bool shift = st->lshift || st->rshift;
	if (want_shift == shift)
		return;
	if (want_shift)
		emit(b, KEY_LEFTSHIFT, set);
	if (!want_shift && st->lshift)
		emit(b, KEY_LEFTSHIFT, !set);
	if (!want_shift && st->rshift)
		emit(b, KEY_RIGHTSHIFT, !set);
}

static void adjust(struct keymap_state *st, const struct keymap_entry *e, struct action_buf *b, bool set)
{
	bool want_shift = e->mods & S, want_altgr = e->mods & G;
	if (set)
		adjust_shift(st, want_shift, b, set);
	if (want_altgr != st->altgr)
		emit(b, KEY_RIGHTALT, want_altgr ? set : !set);
	if (!set)
		adjust_shift(st, want_shift, b, set);
}

static int held_slot(const struct keymap_state *st, uint32_t keysym)
{
	for (int i = 0; i < KEYMAP_MAX_HELD; i++)
		if (st->held[i].keycode && st->held[i].keysym == keysym)
			return i;
	return -1;
}

unsigned keymap_event(struct keymap_state *st, uint32_t keysym, bool down,
		      struct key_action out[KEYMAP_MAX_ACTIONS])
{
	struct action_buf b = { out, 0 };
	int slot = held_slot(st, keysym);
	struct keymap_entry e;
	if (!down && slot >= 0) {
		/* Release the key that was pressed, whatever the modifiers do now. */
		uint16_t kc = st->held[slot].keycode;
		st->held[slot].keycode = 0;
		track_modifier(st, kc, keysym, false);
		emit(&b, kc, false);
		return b.n;
	}
	if (!keymap_lookup(st->map, keysym, &e)) {
		st->unknown++;
		return 0;
	}
	if (!down) {
		track_modifier(st, e.keycode, keysym, false);
		emit(&b, e.keycode, false);
		return b.n;
	}
	if (track_modifier(st, e.keycode, keysym, true) || (e.mods & A)) {
		emit(&b, e.keycode, true);
	} else {
		adjust(st, &e, &b, true);
		emit(&b, e.keycode, true);
		adjust(st, &e, &b, false);
	}
	for (int i = 0; slot < 0 && i < KEYMAP_MAX_HELD; i++)
		if (!st->held[i].keycode)
			slot = i;
	if (slot >= 0) {
		st->held[slot].keysym = keysym;
		st->held[slot].keycode = e.keycode;
	}
	return b.n;
}

unsigned keymap_release_all(struct keymap_state *st, struct key_action *out, unsigned max)
{
	unsigned n = 0;
	for (int i = 0; i < KEYMAP_MAX_HELD && n < max; i++)
		if (st->held[i].keycode) {
			out[n++] = (struct key_action){ st->held[i].keycode, false };
			track_modifier(st, st->held[i].keycode, 0, false);
			st->held[i].keycode = 0;
		}
	return n;
}
