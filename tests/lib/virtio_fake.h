/* A fake guest for device tests: malloc'ed RAM behind a struct guest_mem,
 * the device on a real PCI bus, and a small virtio driver that talks to
 * the modern transport only through its registers (found through the PCI
 * capabilities, as a real driver finds them) and split rings in that RAM.
 * Kicks go through the notify register and the GLib main loop, as in the
 * VMM. */
#ifndef TESTS_VIRTIO_FAKE_H
#define TESTS_VIRTIO_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/guest_mem.h"
#include "vmm/irq_router.h"
#include "vmm/pci.h"
#include "vmm/virtio_pci.h"

#define VFAKE_RAM_BASE 0x100000ull

struct vfake {
	struct guest_mem mem;
	uint8_t *ram;
	uint64_t ram_size, next;         /* bump allocator, guest-physical */
	struct bus pio, mmio;
	struct pci_bus pci;
	struct irq_router router;
	struct virtio_pci *vp;
	int slot;
	uint64_t common, isr, device, notify;   /* offsets in BAR 4 */
	uint32_t notify_mult;
	unsigned msix_cap;
};

struct vfake_queue {
	uint16_t index, size;
	uint64_t desc, avail, used;      /* guest-physical */
	uint16_t next_desc, avail_idx, last_used;
};

struct vfake_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;                      /* the device writes it */
};

/* RAM of SIZE bytes at VFAKE_RAM_BASE. */
void vfake_init(struct vfake *f, size_t ram_size);
/* Puts VP on the bus (slot 1) and finds its registers. */
void vfake_attach(struct vfake *f, struct virtio_pci *vp);
void vfake_destroy(struct vfake *f);

uint64_t vfake_alloc(struct vfake *f, size_t len, size_t align);
void *vfake_ptr(struct vfake *f, uint64_t gpa);

uint64_t vfake_read(struct vfake *f, uint64_t bar_off, unsigned len);
void vfake_write(struct vfake *f, uint64_t bar_off, uint64_t v, unsigned len);
/* Device config space. */
uint64_t vfake_config(struct vfake *f, unsigned off, unsigned len);
uint8_t vfake_status(struct vfake *f);

/* Reset, ACKNOWLEDGE|DRIVER, features (WANTED & offered, plus VERSION_1),
 * FEATURES_OK; returns the negotiated features, 0 if refused. */
uint64_t vfake_negotiate(struct vfake *f, uint64_t wanted);
/* Writes FEATURES exactly as given (to test refusal); returns the status. */
uint8_t vfake_set_features(struct vfake *f, uint64_t features);
int vfake_queue(struct vfake *f, struct vfake_queue *q, unsigned index, uint16_t size);
void vfake_driver_ok(struct vfake *f);
void vfake_reset(struct vfake *f);
/* MSI-X on, queue Q signalling vector Q, config changes vector NQ. */
void vfake_msix(struct vfake *f, unsigned nq);
/* Interrupts signalled on VECTOR since the last call. */
uint64_t vfake_irqs(struct vfake *f, unsigned vector);

/* Writes a chain of N buffers into the ring (not kicked); returns its head. */
uint16_t vfake_add(struct vfake *f, struct vfake_queue *q, const struct vfake_buf *bufs, unsigned n);
/* Kicks queue Q through the notify register and runs the main loop until
 * it is idle. */
void vfake_kick(struct vfake *f, struct vfake_queue *q);
void vfake_run(void);
/* The next used element: true and *ID, *LEN set, or false. */
bool vfake_used(struct vfake *f, struct vfake_queue *q, uint32_t *id, uint32_t *len);

#endif
