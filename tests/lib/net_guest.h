/* A guest network stack small enough for tests: a fake-guest virtio-net
 * driver (tests/lib/virtio_fake.h) that sends frames, receives them with
 * recycled buffers, and answers ARP for its own address. */
#ifndef TESTS_NET_GUEST_H
#define TESTS_NET_GUEST_H

#include "tests/lib/netpkt.h"
#include "tests/lib/virtio_fake.h"
#include "vmm/virtio_net.h"

#define NGUEST_RX 128
#define NGUEST_BUF 2048

struct nguest {
	struct vfake f;
	struct virtio_net *dev;
	struct vfake_queue rx, tx;
	struct pkt_addr me;                 /* 52:54:00:12:34:56, 10.0.2.15 */
	uint64_t rx_gpa[VQ_MAX_SIZE];       /* buffer of each posted descriptor */
	uint64_t tx_gpa;
	bool answer_arp;
	unsigned arp_answers;
};

/* RAM first: the device needs it before nguest_attach. */
void nguest_init(struct nguest *g);
/* Negotiates FEATURES and posts NR_RX receive buffers (0: none yet). */
void nguest_attach(struct nguest *g, struct virtio_net *dev, uint64_t features, unsigned nr_rx);
void nguest_destroy(struct nguest *g);
void nguest_post_rx(struct nguest *g, unsigned n);

void nguest_send(struct nguest *g, const uint8_t *frame, size_t len);
/* The next frame for the guest within MS milliseconds (0: none); fills
 * INFO when it is not NULL. */
size_t nguest_recv(struct nguest *g, uint8_t *buf, int ms, struct pkt_info *info);
/* The first frame MATCH accepts within MS; others are consumed. */
size_t nguest_wait(struct nguest *g, uint8_t *buf, int ms, bool (*match)(const struct pkt_info *p, void *ctx),
		   void *ctx, struct pkt_info *info);
/* Runs the main loop for MS milliseconds. */
void nguest_loop(int ms);

#endif
