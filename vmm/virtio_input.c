#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio_input.h"

enum { CFG_UNSET = 0x00, CFG_ID_NAME = 0x01, CFG_ID_SERIAL = 0x02, CFG_ID_DEVIDS = 0x03,
       CFG_PROP_BITS = 0x10, CFG_EV_BITS = 0x11, CFG_ABS_INFO = 0x12 };
enum { EVENTQ = 0, STATUSQ = 1 };

#define QUEUE_SIZE 64
#define NAME "vmdeck tablet"
#define SERIAL "vmdeck-tablet"

static void set_bit(uint8_t *bm, unsigned bit, uint8_t *size)
{
	bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (bit / 8 + 1u > *size)
		*size = (uint8_t)(bit / 8 + 1);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void ev_bits(uint8_t subsel, struct virtio_input_config *c)
{
	switch (subsel) {
	case EV_KEY:
		set_bit(c->u, BTN_LEFT, &c->size);
		set_bit(c->u, BTN_RIGHT, &c->size);
		set_bit(c->u, BTN_MIDDLE, &c->size);
		break;
	case EV_REL:
		set_bit(c->u, REL_WHEEL, &c->size);
		break;
	case EV_ABS:
		set_bit(c->u, ABS_X, &c->size);
		set_bit(c->u, ABS_Y, &c->size);
		break;
	}
}

void vinput_config(const struct virtio_input *ti, struct virtio_input_config *c)
{
	memset(c, 0, sizeof(*c));
	c->select = ti->select;
	c->subsel = ti->subsel;
	switch (ti->select) {
	case CFG_ID_NAME:
		if (ti->subsel == 0) {
			c->size = sizeof(NAME) - 1;
			memcpy(c->u, NAME, c->size);
		}
		break;
	case CFG_ID_SERIAL:
		if (ti->subsel == 0) {
			c->size = sizeof(SERIAL) - 1;
			memcpy(c->u, SERIAL, c->size);
		}
		break;
	case CFG_ID_DEVIDS:
		if (ti->subsel == 0) {
			/* bustype BUS_VIRTUAL, vendor/product as QEMU's tablet */
			const uint8_t ids[8] = { 0x06, 0x00, 0x27, 0x06, 0x03, 0x00, 0x01, 0x00 };
			memcpy(c->u, ids, sizeof(ids));
			c->size = sizeof(ids);
		}
		break;
	case CFG_EV_BITS:
		ev_bits(ti->subsel, c);
		break;
	case CFG_ABS_INFO:
		if (ti->subsel == ABS_X || ti->subsel == ABS_Y) {
			put_le32(c->u, 0);
			put_le32(c->u + 4, VINPUT_ABS_MAX);
			c->size = 20;                /* min, max, fuzz, flat, res */
		}
		break;
	}
}

static void config_read(struct virtio_pci *vp, unsigned offset, void *data, unsigned len)
{
	struct virtio_input *ti = vp->dev;
	struct virtio_input_config c;
	pthread_mutex_lock(&ti->lock);
	vinput_config(ti, &c);
	pthread_mutex_unlock(&ti->lock);
	memset(data, 0, len);
	if (offset < sizeof(c))
		memcpy(data, (uint8_t *)&c + offset, len < sizeof(c) - offset ? len : sizeof(c) - offset);
}

static void config_write(struct virtio_pci *vp, unsigned offset, const void *data, unsigned len)
{
	struct virtio_input *ti = vp->dev;
	const uint8_t *in = data;
	pthread_mutex_lock(&ti->lock);
	for (unsigned i = 0; i < len; i++) {
		if (offset + i == 0)
			ti->select = in[i];
		else if (offset + i == 1)
			ti->subsel = in[i];
	}
	pthread_mutex_unlock(&ti->lock);
}

/* Hands pending events to the guest's buffers (called with ti->lock).
 * Returns true when the guest must be notified. */
static bool deliver(struct virtio_input *ti, bool *broken)
{
	struct virtio_pci *vp = &ti->vp;
	bool pushed = false;
	pthread_mutex_lock(&vp->lock);
	struct virtqueue *vq = &vp->q[EVENTQ].vq;
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) && vq->ready && !vq->broken) {
		while (ti->count) {
			int got = vq_pop(vq, &ti->chain);
			if (got <= 0) {
				*broken = got < 0;
				break;
			}
			const struct virtio_input_event *e = &ti->pending[ti->head];
			uint8_t buf[8];
			memcpy(buf, &e->type, 2);
			memcpy(buf + 2, &e->code, 2);
			memcpy(buf + 4, &e->value, 4);
			uint32_t written = 0;
			const struct vq_chain *c = &ti->chain;
			for (unsigned i = c->nr_out; i < c->nr_out + c->nr_in && written < 8; i++) {
				size_t n = c->iov[i].iov_len < 8 - written ? c->iov[i].iov_len : 8 - written;
				memcpy(c->iov[i].iov_base, buf + written, n);
				written += (uint32_t)n;
			}
			vq_push(vq, c->head, written);
			ti->head = (ti->head + 1) % VINPUT_PENDING;
			ti->count--;
			pushed = true;
		}
	}
	pthread_mutex_unlock(&vp->lock);
	return pushed;
}

static void flush(struct virtio_input *ti)
{
	bool broken = false;
	pthread_mutex_lock(&ti->lock);
	bool pushed = deliver(ti, &broken);
	pthread_mutex_unlock(&ti->lock);
	if (pushed)
		virtio_pci_notify(&ti->vp, EVENTQ);
	if (broken)
		virtio_pci_queue_error(&ti->vp, EVENTQ);
}

/* The status queue carries LED state for keyboards; a tablet only returns
 * the buffers. */
static void drain_status(struct virtio_input *ti)
{
	struct virtio_pci *vp = &ti->vp;
	bool pushed = false, broken = false;
	pthread_mutex_lock(&ti->lock);
	pthread_mutex_lock(&vp->lock);
	struct virtqueue *vq = &vp->q[STATUSQ].vq;
	int got;
	while (vq->ready && !vq->broken && (got = vq_pop(vq, &ti->chain)) != 0) {
		if (got < 0) {
			broken = true;
			break;
		}
		vq_push(vq, ti->chain.head, 0);
		pushed = true;
	}
	pthread_mutex_unlock(&vp->lock);
	pthread_mutex_unlock(&ti->lock);
	if (pushed)
		virtio_pci_notify(vp, STATUSQ);
	if (broken)
		virtio_pci_queue_error(vp, STATUSQ);
}

static void kick(struct virtio_pci *vp, unsigned q)
{
	if (q == EVENTQ)
		flush(vp->dev);
	else
		drain_status(vp->dev);
}

static int activate(struct virtio_pci *vp)
{
	flush(vp->dev);
	return 0;
}

/* A driver reset forgets queued events: they belong to the old driver. */
static void reset(struct virtio_pci *vp)
{
	struct virtio_input *ti = vp->dev;
	pthread_mutex_lock(&ti->lock);
	ti->head = ti->count = 0;
	ti->select = ti->subsel = 0;
	ti->buttons = 0;
	ti->last_x = ti->last_y = -1;
	pthread_mutex_unlock(&ti->lock);
}

static const struct virtio_ops tablet_ops = {
	.name = "virtio-tablet",
	.device_id = VIRTIO_ID_INPUT,
	.class_code = 0x098000,           /* input device, other */
	.num_queues = 2,
	.queue_max = QUEUE_SIZE,
	.config_size = sizeof(struct virtio_input_config),
	.config_read = config_read,
	.config_write = config_write,
	.activate = activate,
	.reset = reset,
	.kick = kick,
};

static void queue_event(struct virtio_input *ti, uint16_t type, uint16_t code, uint32_t value)
{
	ti->pending[(ti->head + ti->count) % VINPUT_PENDING] = (struct virtio_input_event){ type, code, value };
	ti->count++;
	ti->events++;
}

void vinput_pointer(struct virtio_input *ti, unsigned x, unsigned y, unsigned width, unsigned height,
		    uint8_t buttons, int wheel)
{
	static const struct { uint8_t bit; uint16_t code; } btn[] = {
		{ VINPUT_BTN_LEFT, BTN_LEFT }, { VINPUT_BTN_MIDDLE, BTN_MIDDLE }, { VINPUT_BTN_RIGHT, BTN_RIGHT },
	};
	/* Scaled so that the last pixel maps to the top of the axis. */
	int ax = width > 1 ? (int)((uint64_t)(x < width ? x : width - 1) * VINPUT_ABS_MAX / (width - 1)) : 0;
	int ay = height > 1 ? (int)((uint64_t)(y < height ? y : height - 1) * VINPUT_ABS_MAX / (height - 1)) : 0;
	pthread_mutex_lock(&ti->lock);
	/* A report is at most 2 axes, 3 buttons, a wheel and SYN: all or nothing. */
	if (ti->count + 7 > VINPUT_PENDING) {
		ti->dropped++;
		pthread_mutex_unlock(&ti->lock);
		return;
	}
	if (ax != ti->last_x)
		queue_event(ti, EV_ABS, ABS_X, (uint32_t)ax);
	if (ay != ti->last_y)
		queue_event(ti, EV_ABS, ABS_Y, (uint32_t)ay);
	ti->last_x = ax;
	ti->last_y = ay;
	for (size_t i = 0; i < sizeof(btn) / sizeof(btn[0]); i++)
		if ((buttons ^ ti->buttons) & btn[i].bit)
			queue_event(ti, EV_KEY, btn[i].code, (buttons & btn[i].bit) ? 1 : 0);
	ti->buttons = buttons;
	if (wheel)
		queue_event(ti, EV_REL, REL_WHEEL, (uint32_t)wheel);
	queue_event(ti, EV_SYN, SYN_REPORT, 0);
	pthread_mutex_unlock(&ti->lock);
	flush(ti);
}

bool vinput_active(struct virtio_input *ti)
{
	struct virtio_pci *vp = &ti->vp;
	pthread_mutex_lock(&vp->lock);
	bool on = (vp->status & VIRTIO_STATUS_DRIVER_OK) && vp->q[EVENTQ].vq.ready &&
		  !(vp->status & VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_unlock(&vp->lock);
	return on;
}

struct virtio_input *vinput_tablet_create(const struct guest_mem *mem, struct irq_router *router,
					  struct error *err)
{
	struct virtio_input *ti = calloc(1, sizeof(*ti));
	if (!ti) {
		error_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ti->lock, NULL);
	ti->last_x = ti->last_y = -1;
	if (virtio_pci_init(&ti->vp, &tablet_ops, ti, mem, router, err) < 0) {
		vinput_destroy(ti);
		return NULL;
	}
	return ti;
}

void vinput_destroy(struct virtio_input *ti)
{
	if (!ti)
		return;
	if (ti->vp.ops)
		virtio_pci_destroy(&ti->vp);
	pthread_mutex_destroy(&ti->lock);
	free(ti);
}
