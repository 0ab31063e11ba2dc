/* Intel 8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse.
 *
 * Enough of the controller for firmware and Linux probes and for the reset
 * line (command 0xFE); the keyboard answers the PS/2 command set.  Keys are
 * queued with i8042_kbd_bytes (scancode set 2, translated to set 1 when the
 * guest asks for translation). */
#ifndef VMDECK_DEV_I8042_H
#define VMDECK_DEV_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"
#include "vmm/ps2_mouse.h"

#define I8042_QUEUE 64

struct i8042_queue {
	uint8_t data[I8042_QUEUE];
	unsigned head, count;
};

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line irq_kbd, irq_aux;
	void (*reset)(void *opaque);   /* the guest pulsed the CPU reset line */
	void *reset_opaque;

	uint8_t status;
	uint8_t ccb;                   /* controller command byte */
	uint8_t outport;
	uint8_t pending_cmd;           /* controller command waiting for its data byte */
	uint8_t out;                   /* the output buffer the guest reads at 0x60 */
	bool out_full, out_aux;
	struct i8042_queue kbd_q, aux_q;

	/* keyboard */
	uint8_t kbd_pending;           /* keyboard command waiting for its argument */
	bool kbd_scanning;
	uint8_t kbd_set;
	uint8_t kbd_leds;
	/* set-2 to set-1 translation: a 0xF0 break prefix was seen */
	bool xlat_break;

	struct ps2_mouse mouse;        /* on the auxiliary port */
};

void i8042_init(struct i8042 *k, struct irq_line kbd, struct irq_line aux,
		void (*reset)(void *), void *opaque);
void i8042_destroy(struct i8042 *k);
void i8042_reset(struct i8042 *k);
/* Queues bytes from the keyboard (scancode set 2 as the device sends them). */
void i8042_kbd_bytes(struct i8042 *k, const uint8_t *bytes, unsigned n);

/* Mouse movement (DY positive = down, as on screen; DZ positive = wheel
 * up) and buttons
 * (PS2_MOUSE_*); reported when the guest's driver streams. */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, uint8_t buttons);
/* True when a guest driver switched the mouse on. */
bool i8042_mouse_active(struct i8042 *k);

extern const struct bus_ops i8042_bus_ops;   /* registered at 0x60 and 0x64 */

#define I8042_STS_OBF    0x01
#define I8042_STS_SYS    0x04
#define I8042_STS_CMD    0x08
#define I8042_STS_UNLOCK 0x10
#define I8042_STS_AUXOBF 0x20
#define I8042_CCB_KBDINT 0x01
#define I8042_CCB_AUXINT 0x02
#define I8042_CCB_SYS    0x04
#define I8042_CCB_KBDDIS 0x10
#define I8042_CCB_AUXDIS 0x20
#define I8042_CCB_XLATE  0x40

#endif
