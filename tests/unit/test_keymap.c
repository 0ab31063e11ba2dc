/* vmm/keymap.c and vmm/ps2_scancode.c: keysyms to keys for the us, de and
 * fr layouts, the modifier state machine, and the set-2 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/input-event-codes.h>
#include <rfb/keysym.h>
#include <stdio.h>
#include <string.h>

#include "vmm/keymap.h"
#include "vmm/ps2_scancode.h"

static void expect_key(const char *layout, uint32_t keysym, unsigned keycode, unsigned mods)
{
	struct keymap_entry e;
	const struct keymap *m = keymap_find(layout);
	assert_non_null(m);
	if (!keymap_lookup(m, keysym, &e))
		fail_msg("%s: keysym %#x has no key", layout, keysym);
	if (e.keycode != keycode || (e.mods & (KEYMAP_SHIFT | KEYMAP_ALTGR)) != mods)
		fail_msg("%s: keysym %#x is key %u mods %#x, want key %u mods %#x", layout, keysym, e.keycode,
			 e.mods, keycode, mods);
}

#define S KEYMAP_SHIFT
#define G KEYMAP_ALTGR

static void test_us_layout(void **state)
{
	expect_key("us", 'a', KEY_A, 0);
	expect_key("us", 'A', KEY_A, S);
	expect_key("us", 'z', KEY_Z, 0);
	expect_key("us", 'y', KEY_Y, 0);
	expect_key("us", '1', KEY_1, 0);
	expect_key("us", '!', KEY_1, S);
	expect_key("us", '@', KEY_2, S);
	expect_key("us", '~', KEY_GRAVE, S);
	expect_key("us", '|', KEY_BACKSLASH, S);
	expect_key("us", '/', KEY_SLASH, 0);
	expect_key("us", '?', KEY_SLASH, S);
	expect_key("us", '"', KEY_APOSTROPHE, S);
	expect_key("us", XK_Return, KEY_ENTER, 0);
	expect_key("us", XK_F7, KEY_F7, 0);
	expect_key("us", XK_KP_Enter, KEY_KPENTER, 0);
	expect_key("us", XK_Control_R, KEY_RIGHTCTRL, 0);
	struct keymap_entry e;
	assert_false(keymap_lookup(keymap_find("us"), XK_udiaeresis, &e));   /* no ü on a US keyboard */
	assert_null(keymap_find("xx"));
}

static void test_de_layout(void **state)
{
	expect_key("de", 'z', KEY_Y, 0);          /* QWERTZ */
	expect_key("de", 'y', KEY_Z, 0);
	expect_key("de", 'Z', KEY_Y, S);
	expect_key("de", '@', KEY_Q, G);
	expect_key("de", XK_EuroSign, KEY_E, G);
	expect_key("de", XK_udiaeresis, KEY_LEFTBRACE, 0);
	expect_key("de", XK_Odiaeresis, KEY_SEMICOLON, S);
	expect_key("de", XK_ssharp, KEY_MINUS, 0);
	expect_key("de", '?', KEY_MINUS, S);
	expect_key("de", '\\', KEY_MINUS, G);
	expect_key("de", '"', KEY_2, S);
	expect_key("de", '/', KEY_7, S);
	expect_key("de", '{', KEY_7, G);
	expect_key("de", '<', KEY_102ND, 0);
	expect_key("de", '|', KEY_102ND, G);
	expect_key("de", '-', KEY_SLASH, 0);
	expect_key("de", '#', KEY_BACKSLASH, 0);
}

static void test_fr_layout(void **state)
{
	expect_key("fr", 'a', KEY_Q, 0);          /* AZERTY */
	expect_key("fr", 'q', KEY_A, 0);
	expect_key("fr", 'w', KEY_Z, 0);
	expect_key("fr", 'z', KEY_W, 0);
	expect_key("fr", 'm', KEY_SEMICOLON, 0);
	expect_key("fr", '1', KEY_1, S);          /* digits need Shift */
	expect_key("fr", '&', KEY_1, 0);
	expect_key("fr", XK_eacute, KEY_2, 0);
	expect_key("fr", '@', KEY_0, G);
	expect_key("fr", ',', KEY_M, 0);
	expect_key("fr", '!', KEY_SLASH, 0);
	expect_key("fr", XK_ugrave, KEY_APOSTROPHE, 0);
	expect_key("fr", XK_dead_circumflex, KEY_LEFTBRACE, 0);
}

/* The actions of one event, as "+30 -30" (press and release of key 30). */
static void events(struct keymap_state *st, uint32_t keysym, bool down, const char *want)
{
	struct key_action a[KEYMAP_MAX_ACTIONS];
	unsigned n = keymap_event(st, keysym, down, a);
	char got[128] = "";
	for (unsigned i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%c%u", i ? " " : "", a[i].down ? '+' : '-',
			 a[i].keycode);
	if (strcmp(got, want))
		fail_msg("keysym %#x %s: got \"%s\", want \"%s\"", keysym, down ? "down" : "up", got, want);
}

static void test_modifiers_are_added_and_lifted(void **state)
{
	struct keymap_state st;
	keymap_state_init(&st, keymap_find("de"));
	/* A US client types '@' (Shift+2 there) for a German guest: AltGr+Q. */
	events(&st, XK_Shift_L, true, "+42");
	events(&st, '@', true, "-42 +100 +16 -100 +42");
	events(&st, '@', false, "-16");
	events(&st, XK_Shift_L, false, "-42");
	/* Shift is already held for an upper-case letter: nothing added. */
	events(&st, XK_Shift_R, true, "+54");
	events(&st, 'Z', true, "+21");
	events(&st, XK_Shift_R, false, "-54");
	/* Released under its press-time key even though 'z' now differs. */
	events(&st, 'Z', false, "-21");
	/* Caps Lock on the client: 'A' without Shift held gets one. */
	events(&st, 'A', true, "+42 +30 -42");
	events(&st, 'A', false, "-30");
	/* Keys whose modifiers do not matter pass through untouched. */
	events(&st, XK_Shift_L, true, "+42");
	events(&st, XK_Left, true, "+105");
	events(&st, XK_Left, false, "-105");
	events(&st, XK_Shift_L, false, "-42");
	/* Unknown keysyms are counted, never sent. */
	events(&st, 0x1234567, true, "");
	assert_int_equal(st.unknown, 1);
	/* A US client's right Alt is plain Alt: not lifted around keys. */
	keymap_state_init(&st, keymap_find("us"));
	events(&st, XK_Alt_R, true, "+100");
	events(&st, 'f', true, "+33");
	struct key_action a[KEYMAP_MAX_HELD];
	assert_int_equal(keymap_release_all(&st, a, KEYMAP_MAX_HELD), 2);
}

static void scancode(unsigned keycode, bool down, const uint8_t *want, unsigned n)
{
	uint8_t got[PS2_SCANCODE_MAX];
	unsigned len = ps2_scancode(keycode, down, got);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static void test_set2_scancodes(void **state)
{
	scancode(KEY_A, true, (const uint8_t[]){ 0x1c }, 1);
	scancode(KEY_A, false, (const uint8_t[]){ 0xf0, 0x1c }, 2);
	scancode(KEY_ESC, true, (const uint8_t[]){ 0x76 }, 1);
	scancode(KEY_ENTER, true, (const uint8_t[]){ 0x5a }, 1);
	scancode(KEY_KPENTER, true, (const uint8_t[]){ 0xe0, 0x5a }, 2);
	scancode(KEY_RIGHT, false, (const uint8_t[]){ 0xe0, 0xf0, 0x74 }, 3);
	scancode(KEY_RIGHTALT, true, (const uint8_t[]){ 0xe0, 0x11 }, 2);
	scancode(KEY_F7, true, (const uint8_t[]){ 0x83 }, 1);
	scancode(KEY_102ND, true, (const uint8_t[]){ 0x61 }, 1);
	scancode(KEY_PAUSE, true, (const uint8_t[]){ 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 }, 8);
	scancode(KEY_PAUSE, false, NULL, 0);
	scancode(KEY_MAX - 1, true, NULL, 0);
	/* Every key the layouts use has a scancode. */
	const char *names[] = { "us", "de", "fr" };
	for (unsigned l = 0; l < 3; l++)
		for (uint32_t ks = 0x20; ks < 0x100; ks++) {
			struct keymap_entry e;
			uint8_t b[PS2_SCANCODE_MAX];
			if (keymap_lookup(keymap_find(names[l]), ks, &e) && !ps2_scancode(e.keycode, true, b))
				fail_msg("%s: keysym %#x maps to key %u without a scancode", names[l], ks, e.keycode);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_us_layout),
		cmocka_unit_test(test_de_layout),
		cmocka_unit_test(test_fr_layout),
		cmocka_unit_test(test_modifiers_are_added_and_lifted),
		cmocka_unit_test(test_set2_scancodes),
	};
	return cmocka_run_group_tests_name("keymaps and scancodes", tests, NULL, NULL);
}
