/* A minimal virtio 1.x modern PCI driver for the tiny guests: finds a
 * device on bus 0 through ECAM, negotiates features, sets up split queues
 * and submits chains.  Completion is polled, or signalled by MSI-X. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "guest.h"

#define PCI_ECAM_BASE 0xe0000000ull

uint32_t pci_read32(unsigned slot, unsigned off);
void pci_write32(unsigned slot, unsigned off, uint32_t v);
uint16_t pci_read16(unsigned slot, unsigned off);
void pci_write16(unsigned slot, unsigned off, uint16_t v);
/* BAR address as firmware (the VMM) assigned it; 64-bit BARs included. */
uint64_t pci_bar(unsigned slot, unsigned bar);
/* First slot with VENDOR:DEVICE, or -1. */
int pci_find(uint16_t vendor, uint16_t device);

struct gvq {
	uint16_t index, size;
	volatile uint64_t *desc;         /* 16 bytes each: addr, len|flags|next */
	volatile uint16_t *avail;
	volatile uint8_t *used;
	uint16_t next_desc, avail_idx, last_used;
	uint16_t notify_off;
};

struct gvdev {
	int slot;
	uint64_t common, notify, isr, device, msix_table;
	uint32_t notify_mult;
	uint64_t features;               /* negotiated */
};

/* Finds the device with virtio DEVICE_ID, resets it and negotiates
 * VERSION_1 plus WANTED (what the device offers of it); returns 0 or a
 * negative step number for the report. */
int virtio_open(struct gvdev *d, unsigned device_id, uint64_t wanted);
/* Sets up queue Q with SIZE entries in MEM (16 KiB aligned area). */
int virtio_queue(struct gvdev *d, struct gvq *q, unsigned index, uint16_t size, void *mem);
/* MSI-X: routes queue Q (and vector VEC) to interrupt VECTOR on this CPU. */
void virtio_msix(struct gvdev *d, struct gvq *q, unsigned vec, unsigned vector);
void virtio_driver_ok(struct gvdev *d);
uint8_t virtio_status(struct gvdev *d);
uint8_t virtio_config8(struct gvdev *d, unsigned off);
uint32_t virtio_config32(struct gvdev *d, unsigned off);
uint64_t virtio_config64(struct gvdev *d, unsigned off);

struct gbuf {
	void *addr;
	uint32_t len;
	bool write;                      /* device writes into it */
};
/* Queues one chain of N buffers and kicks; returns its head. */
uint16_t gvq_submit(struct gvdev *d, struct gvq *q, const struct gbuf *bufs, unsigned n);
/* Waits (polling) for the next used entry; returns its id, *LEN the length
 * written; -1 after SPIN polls without one. */
int gvq_wait(struct gvq *q, uint32_t *len, unsigned long spin);

#endif
