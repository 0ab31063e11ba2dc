/* X keysyms (what VNC clients send) to key presses on the guest's
 * keyboard.  The guest's layout decides which key makes which character,
 * so the user names it (--keymap us|de|fr); a keysym becomes the key that
 * types it there plus the Shift and AltGr state it needs, and the state
 * machine adds or lifts those modifiers around the key when the held ones
 * differ (a US client typing '@' for a German guest presses AltGr+Q). */
#ifndef VMDECK_KEYMAP_H
#define VMDECK_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#define KEYMAP_SHIFT 0x01
#define KEYMAP_ALTGR 0x02
#define KEYMAP_ANY   0x80     /* modifiers do not matter (F1, arrows...) */

struct keymap_entry {
	uint32_t keysym;
	uint16_t keycode;         /* Linux KEY_* */
	uint8_t mods;
};

struct keymap;

/* The layout called NAME, or NULL. */
const struct keymap *keymap_find(const char *name);
/* "us, de, fr" for messages. */
const char *keymap_names(void);
/* The key and modifiers that type KEYSYM; false if the layout has none. */
bool keymap_lookup(const struct keymap *map, uint32_t keysym, struct keymap_entry *out);

struct key_action {
	uint16_t keycode;
	bool down;
};

#define KEYMAP_MAX_HELD 16
#define KEYMAP_MAX_ACTIONS 8

struct keymap_state {
	const struct keymap *map;
	bool lshift, rshift, altgr;          /* as the guest sees them */
	struct { uint32_t keysym; uint16_t keycode; } held[KEYMAP_MAX_HELD];
	uint64_t unknown;                    /* keysyms the layout cannot type */
};

void keymap_state_init(struct keymap_state *st, const struct keymap *map);
/* One client key event; writes the key presses and releases to send. */
unsigned keymap_event(struct keymap_state *st, uint32_t keysym, bool down,
		      struct key_action out[KEYMAP_MAX_ACTIONS]);
/* Releases everything held (the client went away). */
unsigned keymap_release_all(struct keymap_state *st, struct key_action *out, unsigned max);

#endif
