/* The virtio 1.x modern PCI transport (virtio 1.2, 4.1): common, notify,
 * ISR, device and PCI-config capabilities in BAR 4, MSI-X in BAR 1.
 *
 * A device model (blk, net, balloon, input) supplies a struct virtio_ops
 * and never sees PCI.  Guest kicks arrive on ioeventfds that the VMM's main
 * loop watches; interrupts leave through MSI-X irqfds (or INTx and the ISR
 * when the driver did not enable MSI-X). */
#ifndef VMDECK_VIRTIO_PCI_H
#define VMDECK_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/pci.h"
#include "vmm/pci_msix.h"
#include "vmm/virtio_queue.h"

#define VIRTIO_MAX_QUEUES 16

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

/* Transport features */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Device ids (virtio 1.2, 5) */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_INPUT   18

struct virtio_pci;

struct virtio_ops {
	const char *name;
	uint16_t device_id;
	uint32_t class_code;
	unsigned num_queues;
	uint16_t queue_max;
	unsigned config_size;
	uint64_t features;                         /* device features, transport bits added */
	/* Device-specific config space, at OFFSET (< config_size). */
	void (*config_read)(struct virtio_pci *vp, unsigned offset, void *data, unsigned len);
	void (*config_write)(struct virtio_pci *vp, unsigned offset, const void *data, unsigned len);
	/* The driver set DRIVER_OK with these features; queues are enabled. */
	int (*activate)(struct virtio_pci *vp);
	/* The driver reset the device (or the VM reset): stop and forget
	 * everything, waiting for requests in flight.  Called without the
	 * transport lock. */
	void (*reset)(struct virtio_pci *vp);
	/* The guest kicked QUEUE; runs on the main loop. */
	void (*kick)(struct virtio_pci *vp, unsigned queue);
};

struct virtio_queue_state {
	struct virtio_pci *vp;
	struct virtqueue vq;
	uint16_t size, msix_vector, enabled;
	uint64_t desc, driver, device;
	int kick_fd;                 /* ioeventfd for this queue's notify address */
	unsigned watch;              /* main-loop source id */
};

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	const struct virtio_ops *ops;
	void *dev;                   /* the device model */
	const struct guest_mem *mem;
	pthread_mutex_t lock;

	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint8_t status, config_generation, isr;
	uint16_t queue_select, config_vector;
	struct virtio_queue_state q[VIRTIO_MAX_QUEUES];

	unsigned pci_cfg_cap;        /* offset of the PCI-config access capability */
	int vm_fd;                   /* ioeventfds are registered here */
	uint64_t notify_base;        /* guest-physical address of the notify region */
	unsigned notify_len;         /* the ioeventfds' length: 0 (any) or 2 */
	uint64_t bad_chains, resets;
};

int virtio_pci_init(struct virtio_pci *vp, const struct virtio_ops *ops, void *dev,
		    const struct guest_mem *mem, struct irq_router *router, struct error *err);
void virtio_pci_destroy(struct virtio_pci *vp);
/* Binds irqfds and ioeventfds to a new KVM VM (each boot). */
int virtio_pci_attach_kvm(struct virtio_pci *vp, int vm_fd, struct error *err);
/* Device reset, as on a VM reset. */
void virtio_pci_reset(struct virtio_pci *vp);

bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit);
struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q);
/* After pushing used buffers on QUEUE: interrupts the guest if it wants. */
void virtio_pci_notify(struct virtio_pci *vp, unsigned queue);
/* The device config changed (config_generation bumps, interrupt). */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* A queue went bad (hostile chain): DEVICE_NEEDS_RESET, counted, logged
 * once; the VMM carries on. */
void virtio_pci_queue_error(struct virtio_pci *vp, unsigned queue);

#endif
