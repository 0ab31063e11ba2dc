#include <string.h>

#include "vmm/ps2_mouse.h"

enum { ACK = 0xfa, RESEND = 0xfe, BAT_OK = 0xaa };

static void defaults(struct ps2_mouse *m)
{
	m->enabled = m->remote = m->scale21 = false;
	m->rate = 100;
	m->resolution = 2;
	m->dx = m->dy = m->dz = 0;
	m->buttons_changed = false;
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	defaults(m);
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* One movement packet from the accumulated state, even an empty one. */
static unsigned make_packet(struct ps2_mouse *m, uint8_t *out)
{
	int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255), dz = clamp(m->dz, -8, 7);
	m->dx -= dx;
	m->dy -= dy;
	m->dz -= dz;
	m->buttons_changed = false;
	out[0] = (uint8_t)(0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
	out[1] = (uint8_t)dx;
	out[2] = (uint8_t)dy;
	if (m->id == 3) {
		out[3] = (uint8_t)dz;
		return 4;
	}
	if (m->id == 4) {
		out[3] = (uint8_t)(dz & 0x0f);
		return 4;
	}
	return 3;
}

/* IntelliMouse knocks: rates 200,100,80 give id 3, then 200,200,80 id 4. */
static void note_rate(struct ps2_mouse *m, uint8_t rate)
{
	m->rates[0] = m->rates[1];
	m->rates[1] = m->rates[2];
	m->rates[2] = rate;
	if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
		m->id = 3;
	else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 && m->id == 3)
		m->id = 4;
}

static unsigned argument(struct ps2_mouse *m, uint8_t cmd, uint8_t b, uint8_t *out)
{
	if (cmd == 0xf3) {
		m->rate = b;
		note_rate(m, b);
	} else if (cmd == 0xe8) {
		m->resolution = b & 3;
	}
	out[0] = ACK;
	return 1;
}

static unsigned status(const struct ps2_mouse *m, uint8_t *out)
{
	out[0] = ACK;
	out[1] = (uint8_t)((m->remote ? 0x40 : 0) | (m->enabled ? 0x20 : 0) | (m->scale21 ? 0x10 : 0) |
			   (m->buttons & PS2_MOUSE_LEFT ? 4 : 0) | (m->buttons & PS2_MOUSE_MIDDLE ? 2 : 0) |
			   (m->buttons & PS2_MOUSE_RIGHT ? 1 : 0));
	out[2] = m->resolution;
	out[3] = m->rate;
	return 4;
}

unsigned ps2_mouse_write(struct ps2_mouse *m, uint8_t b, uint8_t out[PS2_MOUSE_REPLY_MAX])
{
	if (m->pending) {
		uint8_t cmd = m->pending;
		m->pending = 0;
		return argument(m, cmd, b, out);
	}
	if (m->wrap && b != 0xec && b != 0xff) {
		out[0] = b;                          /* wrap mode echoes */
		return 1;
	}
	out[0] = ACK;
	switch (b) {
	case 0xff:
		ps2_mouse_reset(m);
		out[1] = BAT_OK;
		out[2] = 0x00;                       /* device id after the self-test */
		return 3;
	case 0xf6: defaults(m); return 1;
	/* Both clear the movement counters, as the PS/2 mouse spec says. */
	case 0xf5: m->enabled = false; m->dx = m->dy = m->dz = 0; return 1;
	case 0xf4: m->enabled = true; m->dx = m->dy = m->dz = 0; return 1;
	case 0xf3: case 0xe8: m->pending = b; return 1;
	case 0xf2: out[1] = m->id; return 2;
	case 0xf0: m->remote = true; return 1;
	case 0xea: m->remote = false; return 1;
	case 0xee: m->wrap = true; return 1;
	case 0xec: m->wrap = false; return 1;
	case 0xeb: return 1 + make_packet(m, out + 1);
	case 0xe9: return status(m, out);
	case 0xe7: m->scale21 = true; return 1;
	case 0xe6: m->scale21 = false; return 1;
	case 0xfe: return 1;
	default:
		out[0] = RESEND;
		return 1;
	}
}

void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons)
{
	if (!m->enabled && !m->remote) {
		m->buttons = buttons;        /* nobody listens: nothing to report later */
		return;
	}
	/* Bounded so that a flood cannot overflow the sums. */
	m->dx = clamp(m->dx + clamp(dx, -65536, 65536), -65536, 65536);
	m->dy = clamp(m->dy + clamp(dy, -65536, 65536), -65536, 65536);
	m->dz = clamp(m->dz + clamp(dz, -64, 64), -64, 64);
	if (buttons != m->buttons) {
		m->buttons = buttons;
		m->buttons_changed = true;
	}
}

unsigned ps2_mouse_packet(struct ps2_mouse *m, uint8_t out[PS2_MOUSE_REPLY_MAX])
{
	if (!ps2_mouse_streaming(m) || m->wrap)
		return 0;
	if (!m->dx && !m->dy && !m->dz && !m->buttons_changed)
		return 0;
	return make_packet(m, out);
}
