/* A PS/2 mouse on the i8042's auxiliary port: the command set Linux's
 * psmouse and BIOS-era drivers use (reset, identify, sample rate,
 * resolution, scaling, stream/remote/wrap modes, status) and the
 * IntelliMouse (wheel, id 3) and IntelliMouse Explorer (id 4) extensions.
 * The device only produces bytes; the controller queues them. */
#ifndef VMDECK_PS2_MOUSE_H
#define VMDECK_PS2_MOUSE_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_MOUSE_REPLY_MAX 4
#define PS2_MOUSE_LEFT   1
#define PS2_MOUSE_RIGHT  2
#define PS2_MOUSE_MIDDLE 4

struct ps2_mouse {
	uint8_t pending;            /* command waiting for its argument */
	bool enabled, remote, wrap, scale21;
	uint8_t rate, resolution, id;
	uint8_t rates[3];           /* the last sample rates, for the id sequences */
	int dx, dy, dz;             /* movement not reported yet (dy: up) */
	uint8_t buttons;
	bool buttons_changed;
};

void ps2_mouse_reset(struct ps2_mouse *m);
/* A byte from the host (controller command 0xD4); returns the reply
 * bytes written to OUT. */
unsigned ps2_mouse_write(struct ps2_mouse *m, uint8_t b, uint8_t out[PS2_MOUSE_REPLY_MAX]);
/* Accumulates movement (DY positive = up) and the button state. */
void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons);
/* In stream mode with something to report: the next packet (3 or 4 bytes),
 * clamped to what one packet holds; 0 when there is nothing to send. */
unsigned ps2_mouse_packet(struct ps2_mouse *m, uint8_t out[PS2_MOUSE_REPLY_MAX]);
/* True once the guest's driver switched reporting on. */
static inline bool ps2_mouse_streaming(const struct ps2_mouse *m) { return m->enabled && !m->remote; }

#endif
