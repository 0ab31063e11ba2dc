#include <string.h>

#include "vmm/dev_i8042.h"
#include "vmm/layout.h"

enum {
	KBD_ACK = 0xfa, KBD_RESEND = 0xfe, KBD_BAT_OK = 0xaa, KBD_ECHO = 0xee,
};

static void q_push(struct i8042_queue *q, uint8_t b)
{
	if (q->count < I8042_QUEUE) {
		q->data[(q->head + q->count) % I8042_QUEUE] = b;
		q->count++;
	}
}

static uint8_t q_pop(struct i8042_queue *q)
{
	uint8_t b = q->data[q->head];
	q->head = (q->head + 1) % I8042_QUEUE;
	q->count--;
	return b;
}

static void set_irqs(struct i8042 *k)
{
	bool kbd = k->out_full && !k->out_aux && (k->ccb & I8042_CCB_KBDINT);
	bool aux = k->out_full && k->out_aux && (k->ccb & I8042_CCB_AUXINT);
	irq_line_set(&k->irq_kbd, kbd);
	irq_line_set(&k->irq_aux, aux);
}

/* Loads the next queued byte into the output buffer if it is free.  The
 * IRQ lines are edge-triggered: each new byte lowers and raises them. */
static void refill(struct i8042 *k)
{
	if (k->out_full)
		return;
	if (k->kbd_q.count && !(k->ccb & I8042_CCB_KBDDIS)) {
		k->out = q_pop(&k->kbd_q);
		k->out_aux = false;
	} else if (k->aux_q.count && !(k->ccb & I8042_CCB_AUXDIS)) {
		k->out = q_pop(&k->aux_q);
		k->out_aux = true;
	} else {
		return;
	}
	k->out_full = true;
	set_irqs(k);
}

/* Bytes the controller itself produces bypass the device queues and the
 * interface-disable bits: they are the answer the guest is polling for
 * right now.  That includes D2/D3, which place a byte in the output buffer
 * as if the keyboard or the mouse had sent it: Linux probes for an active
 * multiplexer with D3 loopbacks while the AUX interface is disabled, and a
 * byte held back then costs it a 10000-poll timeout. */
static void controller_output(struct i8042 *k, uint8_t b, bool aux)
{
	k->out = b;
	k->out_aux = aux;
	k->out_full = true;
	set_irqs(k);
}

static void controller_reply(struct i8042 *k, uint8_t b)
{
	controller_output(k, b, false);
}

/* Translates one set-2 byte to set 1 when the command byte asks for it. */
static void kbd_emit(struct i8042 *k, uint8_t b)
{
	static const uint8_t set2_to_set1[128] = {
		0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
		0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
		0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
		0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
		0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
		0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
		0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
		0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
	};
	if (!(k->ccb & I8042_CCB_XLATE)) {
		q_push(&k->kbd_q, b);
		return;
	}
	if (b == 0xf0) {
		k->xlat_break = true;
		return;
	}
	uint8_t t = b;
	if (b < 0x80)
		t = set2_to_set1[b];
	else if (b == 0x83)
		t = 0x41;        /* F7 */
	if (k->xlat_break && b != 0xe0 && b != 0xe1) {
		t |= 0x80;
		k->xlat_break = false;
	}
	q_push(&k->kbd_q, t);
}

void i8042_kbd_bytes(struct i8042 *k, const uint8_t *bytes, unsigned n)
{
	pthread_mutex_lock(&k->lock);
	if (k->kbd_scanning) {
		for (unsigned i = 0; i < n; i++)
			kbd_emit(k, bytes[i]);
		refill(k);
	}
	pthread_mutex_unlock(&k->lock);
}

static void kbd_reply(struct i8042 *k, uint8_t b)
{
	q_push(&k->kbd_q, b);
}

static void kbd_defaults(struct i8042 *k)
{
	k->kbd_set = 2;
	k->kbd_scanning = true;
	k->kbd_leds = 0;
}

/* A byte written to port 0x60 that is addressed to the keyboard. */
static void kbd_write(struct i8042 *k, uint8_t b)
{
	if (k->kbd_pending) {
		uint8_t cmd = k->kbd_pending;
		k->kbd_pending = 0;
		if (cmd == 0xed)
			k->kbd_leds = b & 7;
		if (cmd == 0xf0 && b == 0) {
			kbd_reply(k, KBD_ACK);
			kbd_reply(k, k->kbd_set);
			return;
		}
		if (cmd == 0xf0 && b >= 1 && b <= 3)
			k->kbd_set = b;
		kbd_reply(k, KBD_ACK);
		return;
	}
	switch (b) {
	case 0xff:                                   /* reset and self-test */
		kbd_defaults(k);
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, KBD_BAT_OK);
		break;
	case 0xf2:                                   /* identify: MF2 keyboard */
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, 0xab);
		kbd_reply(k, (k->ccb & I8042_CCB_XLATE) ? 0x41 : 0x83);
		break;
	case 0xed: case 0xf0: case 0xf3:             /* commands with an argument */
		k->kbd_pending = b;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xee:
		kbd_reply(k, KBD_ECHO);
		break;
	case 0xf4:
		k->kbd_scanning = true;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xf5:
		kbd_defaults(k);
		k->kbd_scanning = false;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xf6:
		kbd_defaults(k);
		kbd_reply(k, KBD_ACK);
		break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
		kbd_reply(k, KBD_ACK);
		break;
	default:
		kbd_reply(k, KBD_RESEND);
	}
}

/* A data byte that completes a controller command. */
static void command_data(struct i8042 *k, uint8_t cmd, uint8_t b)
{
	switch (cmd) {
	case 0x60:
		k->ccb = b;
		set_irqs(k);
		break;
	case 0xd1:
		k->outport = b;
		if (!(b & 1) && k->reset)
			k->reset(k->reset_opaque);
		break;
	case 0xd2:
		controller_output(k, b, false);
		break;
	case 0xd3:
		controller_output(k, b, true);
		break;
	case 0xd4: {
		uint8_t reply[PS2_MOUSE_REPLY_MAX];
		unsigned n = ps2_mouse_write(&k->mouse, b, reply);
		for (unsigned i = 0; i < n; i++)
			q_push(&k->aux_q, reply[i]);
		break;
	}
	}
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20:
		controller_reply(k, k->ccb);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending_cmd = cmd;
		break;
	case 0xa7:
		k->ccb |= I8042_CCB_AUXDIS;
		break;
	case 0xa8:
		k->ccb &= (uint8_t)~I8042_CCB_AUXDIS;
		break;
	case 0xa9: case 0xab:                        /* interface tests: no error */
		controller_reply(k, 0x00);
		break;
	case 0xaa:                                   /* self-test passed */
		k->status |= I8042_STS_SYS;
		controller_reply(k, 0x55);
		break;
	case 0xad:
		k->ccb |= I8042_CCB_KBDDIS;
		break;
	case 0xae:
		k->ccb &= (uint8_t)~I8042_CCB_KBDDIS;
		break;
	case 0xc0:                                   /* input port: keyboard not inhibited */
		controller_reply(k, 0x80);
		break;
	case 0xd0:
		controller_reply(k, k->outport);
		break;
	default:
		/* 0xF0-0xFF pulse output lines; bit 0 low is the CPU reset line. */
		if (cmd >= 0xf0 && !(cmd & 1) && k->reset)
			k->reset(k->reset_opaque);
	}
}

void i8042_reset(struct i8042 *k)
{
	k->status = I8042_STS_SYS | I8042_STS_UNLOCK;
	k->ccb = I8042_CCB_KBDINT | I8042_CCB_SYS | I8042_CCB_XLATE;
	k->outport = 0x03;                           /* reset line high, A20 on */
	k->pending_cmd = k->kbd_pending = 0;
	k->out_full = k->out_aux = k->xlat_break = false;
	memset(&k->kbd_q, 0, sizeof(k->kbd_q));
	memset(&k->aux_q, 0, sizeof(k->aux_q));
	kbd_defaults(k);
	ps2_mouse_reset(&k->mouse);
	set_irqs(k);
}

/* Movement waits in the mouse while the queue is too full for a packet:
 * packets are never split or dropped. */
static void mouse_flush(struct i8042 *k)
{
	uint8_t pkt[PS2_MOUSE_REPLY_MAX];
	while (k->aux_q.count + PS2_MOUSE_REPLY_MAX <= I8042_QUEUE) {
		unsigned n = ps2_mouse_packet(&k->mouse, pkt);
		if (!n)
			break;
		for (unsigned i = 0; i < n; i++)
			q_push(&k->aux_q, pkt[i]);
	}
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, uint8_t buttons)
{
	pthread_mutex_lock(&k->lock);
	ps2_mouse_move(&k->mouse, dx, -dy, -dz, buttons);
	mouse_flush(k);
	refill(k);
	pthread_mutex_unlock(&k->lock);
}

bool i8042_mouse_active(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	bool on = ps2_mouse_streaming(&k->mouse) && !(k->ccb & I8042_CCB_AUXDIS);
	pthread_mutex_unlock(&k->lock);
	return on;
}

void i8042_init(struct i8042 *k, struct irq_line kbd, struct irq_line aux,
		void (*reset)(void *), void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->irq_kbd = kbd;
	k->irq_aux = aux;
	k->reset = reset;
	k->reset_opaque = opaque;
	i8042_reset(k);
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static uint8_t status_byte(const struct i8042 *k)
{
	uint8_t s = k->status & ~(I8042_STS_OBF | I8042_STS_AUXOBF);
	if (k->out_full)
		s |= I8042_STS_OBF | (k->out_aux ? I8042_STS_AUXOBF : 0);
	return s;
}

/* The bus range starts at 0x60; the command/status port is offset 4. */
static void i8042_bus_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t v = 0xff;
	pthread_mutex_lock(&k->lock);
	if (offset == PORT_I8042_CMD - PORT_I8042_DATA) {
		v = status_byte(k);
	} else if (offset == 0) {
		v = k->out;
		if (k->out_full) {
			k->out_full = false;
			set_irqs(k);
			mouse_flush(k);
			refill(k);
		}
	}
	pthread_mutex_unlock(&k->lock);
	memset(data, v, len);
}

static void i8042_bus_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct i8042 *k = opaque;
	uint8_t b = *(const uint8_t *)data;
	pthread_mutex_lock(&k->lock);
	if (offset == PORT_I8042_CMD - PORT_I8042_DATA) {
		k->status |= I8042_STS_CMD;
		k->pending_cmd = 0;
		controller_command(k, b);
	} else if (offset == 0) {
		k->status &= (uint8_t)~I8042_STS_CMD;
		if (k->pending_cmd) {
			uint8_t cmd = k->pending_cmd;
			k->pending_cmd = 0;
			command_data(k, cmd, b);
		} else {
			kbd_write(k, b);
		}
	}
	refill(k);
	pthread_mutex_unlock(&k->lock);
}

const struct bus_ops i8042_bus_ops = { .read = i8042_bus_read, .write = i8042_bus_write };
