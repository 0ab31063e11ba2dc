/* virtio-input (virtio 1.2, 5.8) as an absolute pointing device: a tablet
 * with EV_ABS X/Y in 0..0x7fff, three buttons and a wheel, so the guest's
 * pointer sits exactly where the VNC client's is and never drifts. */
#ifndef VMDECK_VIRTIO_INPUT_H
#define VMDECK_VIRTIO_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/virtio_pci.h"

#define VINPUT_ABS_MAX   0x7fff
#define VINPUT_PENDING   256          /* events waiting for guest buffers */
#define VINPUT_BTN_LEFT   1
#define VINPUT_BTN_MIDDLE 2
#define VINPUT_BTN_RIGHT  4

struct virtio_input_event {
	uint16_t type, code;
	uint32_t value;
};

struct virtio_input {
	struct virtio_pci vp;
	pthread_mutex_t lock;
	uint8_t select, subsel;
	struct virtio_input_event pending[VINPUT_PENDING];
	unsigned head, count;
	uint8_t buttons;
	int last_x, last_y;
	uint64_t events, dropped;
	struct vq_chain chain;        /* scratch for the queue walks, under LOCK */
};

struct virtio_input *vinput_tablet_create(const struct guest_mem *mem, struct irq_router *router,
					  struct error *err);
void vinput_destroy(struct virtio_input *ti);
/* The pointer at X, Y of a WIDTH x HEIGHT screen, buttons VINPUT_BTN_*,
 * WHEEL clicks (positive: up).  Any thread. */
void vinput_pointer(struct virtio_input *ti, unsigned x, unsigned y, unsigned width, unsigned height,
		    uint8_t buttons, int wheel);
/* True while a guest driver has the device running. */
bool vinput_active(struct virtio_input *ti);

/* The config space the driver reads after writing SELECT and SUBSEL;
 * exposed for tests. */
struct virtio_input_config {
	uint8_t select, subsel, size, reserved[5];
	uint8_t u[128];
};
void vinput_config(const struct virtio_input *ti, struct virtio_input_config *out);

#endif
