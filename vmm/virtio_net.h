/* virtio-net (virtio 1.2, 5.1): one receive and one transmit queue plus the
 * control queue, over the modern PCI transport.
 *
 * The device knows nothing of the network behind it: frames the guest sends
 * go to a peer callback, frames for the guest come in through
 * virtio_net_receive().  Everything but reset and config reads runs on the
 * VMM's main loop; a device lock keeps a reset from a vCPU thread out of the
 * rings while the main loop uses them.
 *
 * Offered: MAC, STATUS (link), MTU (1500), MRG_RXBUF, CTRL_VQ with CTRL_RX
 * and CTRL_MAC_ADDR, CSUM (the device completes partial checksums before a
 * frame leaves, because the peer checks every checksum in software) and
 * GUEST_CSUM (frames from the peer carry correct checksums, so TCP and UDP
 * ones are marked DATA_VALID).  No segmentation offloads: every frame fits
 * the MTU, so anything longer is hostile and dropped. */
#ifndef VMDECK_VIRTIO_NET_H
#define VMDECK_VIRTIO_NET_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/virtio_pci.h"

/* Feature bits (virtio 1.2, 5.1.3) */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_MRG_RXBUF      15
#define VIRTIO_NET_F_STATUS         16
#define VIRTIO_NET_F_CTRL_VQ        17
#define VIRTIO_NET_F_CTRL_RX        18
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23

#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_hdr with num_buffers: 12 bytes with VERSION_1. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
struct virtio_net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

/* Control queue (virtio 1.2, 5.1.6.5) */
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_RX             0
#define VIRTIO_NET_CTRL_RX_PROMISC     0
#define VIRTIO_NET_CTRL_RX_ALLMULTI    1
#define VIRTIO_NET_CTRL_MAC            1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET  0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET   1

enum { VIRTIO_NET_RXQ, VIRTIO_NET_TXQ, VIRTIO_NET_CTRLQ, VIRTIO_NET_NUM_QUEUES };

#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_MIN_MTU    1280                       /* what IPv6 needs */
#define VIRTIO_NET_MAX_MTU    65520                      /* libslirp's limit, rounded down */
#define VIRTIO_NET_FRAME(mtu) (14 + 4 + (mtu))           /* Ethernet + VLAN tag + MTU */
#define VIRTIO_NET_MAX_FRAME  VIRTIO_NET_FRAME(VIRTIO_NET_MAX_MTU)
#define VIRTIO_NET_MAC_TABLE  64                         /* filter entries kept */
#define VIRTIO_NET_BACKLOG    1024                       /* frames waiting for buffers */
#define VIRTIO_NET_BACKLOG_BYTES (4u << 20)              /* ... and their bytes */
#define VIRTIO_NET_TX_BUDGET  128                        /* frames per main-loop turn */

/* Counters, updated atomically; "rx" is toward the guest, "tx" from it. */
struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_dropped;        /* backlog full, link down, reset, broken queue */
	uint64_t rx_errors;         /* the guest's buffers cannot hold the frame */
	uint64_t rx_filtered;       /* not for us by the guest's RX mode and MAC filter */
	uint64_t rx_fragmented;     /* IPv4 packets split for a driver without the MTU feature */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_link_down;      /* dropped while the link is down */
	uint64_t tx_oversized;      /* longer than the MTU allows */
	uint64_t tx_errors;         /* bad header, checksum offsets or descriptor chain */
	uint64_t ctrl_commands, ctrl_errors;
	uint64_t backlog, backlog_max;
};

struct virtio_net_peer {
	void *opaque;
	/* A frame from the guest, checksums complete; called on the main
	 * loop without the device lock (it may call virtio_net_receive). */
	void (*tx)(void *opaque, const uint8_t *frame, size_t len);
};

struct virtio_net_filter {
	bool promisc, allmulti, uni_overflow, multi_overflow;
	unsigned nr_uni, nr_multi;
	uint8_t uni[VIRTIO_NET_MAC_TABLE][6], multi[VIRTIO_NET_MAC_TABLE][6];
};

struct virtio_net {
	struct virtio_pci vp;
	struct virtio_net_peer peer;
	pthread_mutex_t lock;           /* rings, filter, backlog, MAC, link */
	bool active;                    /* DRIVER_OK and not reset since */
	bool mrg_rxbuf, tx_csum, rx_csum;
	bool driver_mtu;                /* the driver took VIRTIO_NET_F_MTU */
	bool link_up;
	uint8_t config_mac[6];          /* the MAC a reset goes back to */
	uint8_t mac[6];                 /* the MAC now (the driver may set it) */
	unsigned mtu;                   /* the link's; frames up to VIRTIO_NET_FRAME(mtu) */
	struct virtio_net_filter filter;
	GQueue backlog;                 /* of struct vnet_frame, oldest first */
	size_t backlog_bytes;
	struct vq_chain chain;          /* scratch for the main loop */
	struct vq_used_elem rx_used[VQ_MAX_SIZE];   /* one merged receive */
	uint8_t tx_frame[VIRTIO_NET_MAX_FRAME + sizeof(struct virtio_net_hdr)];
	struct virtio_net_stats stats;
};

/* From best to worst: a frame split in fragments reports its worst. */
enum virtio_net_rx { VIRTIO_NET_RX_DELIVERED, VIRTIO_NET_RX_QUEUED, VIRTIO_NET_RX_DROPPED };

/* MTU: VIRTIO_NET_MIN_MTU..VIRTIO_NET_MAX_MTU, told to the driver in the
 * config space (VIRTIO_NET_F_MTU); longer frames are dropped both ways.  A
 * driver that does not take the feature gets IPv4 packets longer than the
 * classic 1500 bytes in fragments (virtio_net_frag.h). */
struct virtio_net *virtio_net_create(const uint8_t mac[6], unsigned mtu, struct virtio_net_peer peer,
				     const struct guest_mem *mem, struct irq_router *router,
				     struct error *err);
void virtio_net_destroy(struct virtio_net *n);

/* A frame for the guest (main loop): written into its buffers now, kept in
 * a bounded backlog until it posts some, or dropped and counted. */
enum virtio_net_rx virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len);
/* Frames waiting for guest buffers: the peer stops reading from the
 * outside world while there are some. */
unsigned virtio_net_backlog(struct virtio_net *n);
void virtio_net_set_link(struct virtio_net *n, bool up);
bool virtio_net_link(struct virtio_net *n);
void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *out);

/* Internet checksum helpers, shared with the tests. */
uint64_t virtio_net_csum_add(uint64_t sum, const uint8_t *p, size_t len);
uint16_t virtio_net_csum_fold(uint64_t sum);

#endif
