/* virtio-net against a fake guest: rings in malloc'ed RAM, a driver that
 * uses only the transport's registers, and a peer that records frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/virtio_fake.h"
#include "vmm/virtio_net.h"
#include "vmm/virtio_net_frag.h"

#define HDR 12
#define TEST_MTU 1500
#define MAX_FRAME VIRTIO_NET_FRAME(TEST_MTU)
#define F(bit) (1ull << (bit))
#define ALL_FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MTU) | \
		      F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | \
		      F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
		      F(VIRTIO_F_EVENT_IDX))

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t OTHER[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

struct sent {
	unsigned n;
	size_t len[64];
	uint8_t frame[64][2048];
};

struct t {
	struct vfake f;
	struct virtio_net *n;
	struct vfake_queue rx, tx, ctrl;
	struct sent sent;
	uint64_t features;
};

static void record(void *opaque, const uint8_t *frame, size_t len)
{
	struct sent *s = opaque;
	if (s->n < 64) {
		memcpy(s->frame[s->n], frame, len < sizeof(s->frame[0]) ? len : sizeof(s->frame[0]));
		s->len[s->n++] = len;
	}
}

/* A device with an MTU of MTU, its queues up and DRIVER_OK, the driver
 * asking WANTED. */
static struct t *start_mtu(uint64_t wanted, unsigned mtu)
{
	struct t *t = calloc(1, sizeof(*t));
	struct error err;
	vfake_init(&t->f, 8 << 20);
	t->n = virtio_net_create(MAC, mtu, (struct virtio_net_peer){ &t->sent, record }, &t->f.mem,
				 &t->f.router, &err);
	assert_non_null(t->n);
	vfake_attach(&t->f, &t->n->vp);
	t->features = vfake_negotiate(&t->f, wanted);
	assert_true(t->features & F(VIRTIO_F_VERSION_1));
	assert_int_equal(vfake_queue(&t->f, &t->rx, 0, 64), 0);
	assert_int_equal(vfake_queue(&t->f, &t->tx, 1, 64), 0);
	assert_int_equal(vfake_queue(&t->f, &t->ctrl, 2, 16), 0);
	vfake_msix(&t->f, 3);
	vfake_driver_ok(&t->f);
	return t;
}

static struct t *start(uint64_t wanted)
{
	return start_mtu(wanted, TEST_MTU);
}

static void stop(struct t *t)
{
	virtio_net_destroy(t->n);
	vfake_destroy(&t->f);
	free(t);
}

static struct virtio_net_stats stats(struct t *t)
{
	struct virtio_net_stats s;
	virtio_net_get_stats(t->n, &s);
	return s;
}

/* ---- frames ---------------------------------------------------------------- */

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, OTHER, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

/* Ethernet + IPv4 + UDP with PAYLOAD bytes; the UDP checksum field holds
 * the pseudo-header sum, as a driver leaves it for NEEDS_CSUM. */
static size_t udp_frame(uint8_t *f, const uint8_t *dst, size_t payload, uint8_t proto)
{
	size_t l4 = (proto == 6 ? 20 : 8) + payload;
	size_t o = eth(f, dst, 0x0800);
	uint8_t *ip = f + o;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4) >> 8);
	ip[3] = (uint8_t)(20 + l4);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 2, 15 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 0, 2, 2 }, 4);
	uint16_t c = virtio_net_csum_fold(virtio_net_csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *l = ip + 20;
	memset(l, 0, l4);
	l[0] = 0x30, l[1] = 0x39, l[2] = 0x00, l[3] = 0x35;
	for (size_t i = 0; i < payload; i++)
		l[l4 - payload + i] = (uint8_t)(i * 7 + 1);
	if (proto == 17) {
		l[4] = (uint8_t)(l4 >> 8);
		l[5] = (uint8_t)l4;
	} else {
		l[12] = 5 << 4;
	}
	/* Pseudo-header sum, not complemented, in the checksum field. */
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0, pseudo[9] = proto, pseudo[10] = (uint8_t)(l4 >> 8), pseudo[11] = (uint8_t)l4;
	uint16_t p = (uint16_t)~virtio_net_csum_fold(virtio_net_csum_add(0, pseudo, 12));
	size_t field = proto == 17 ? 6 : 16;
	l[field] = (uint8_t)(p >> 8);
	l[field + 1] = (uint8_t)p;
	return o + 20 + l4;
}

/* True when the L4 checksum of an IPv4 frame verifies. */
static bool l4_checksum_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t l4 = len - 34;
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0, pseudo[9] = ip[9], pseudo[10] = (uint8_t)(l4 >> 8), pseudo[11] = (uint8_t)l4;
	uint64_t sum = virtio_net_csum_add(virtio_net_csum_add(0, pseudo, 12), ip + 20, l4);
	return virtio_net_csum_fold(sum) == 0;
}

/* Sends FRAME with header H split over three buffers. */
static void send_split(struct t *t, const struct virtio_net_hdr *h, const uint8_t *frame, size_t len)
{
	uint64_t hg = vfake_alloc(&t->f, HDR, 8), a = vfake_alloc(&t->f, len, 8);
	memcpy(vfake_ptr(&t->f, hg), h, HDR);
	memcpy(vfake_ptr(&t->f, a), frame, len);
	size_t first = len / 3;
	struct vfake_buf b[3] = { { hg, HDR, false }, { a, (uint32_t)first, false },
				  { a + first, (uint32_t)(len - first), false } };
	vfake_add(&t->f, &t->tx, b, 3);
	vfake_kick(&t->f, &t->tx);
}

/* Posts COUNT receive buffers of SIZE bytes; returns the first address. */
static uint64_t post_rx(struct t *t, unsigned count, uint32_t size)
{
	uint64_t first = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t g = vfake_alloc(&t->f, size, 8);
		if (!i)
			first = g;
		struct vfake_buf b = { g, size, true };
		vfake_add(&t->f, &t->rx, &b, 1);
	}
	return first;
}

/* ---- configuration and features ------------------------------------------------ */

static void test_config_space_and_features(void **state)
{
	struct t *t = start(ALL_FEATURES);
	assert_int_equal(t->features & ALL_FEATURES, ALL_FEATURES);
	for (int i = 0; i < 6; i++)
		assert_int_equal(vfake_config(&t->f, (unsigned)i, 1), MAC[i]);
	assert_int_equal(vfake_config(&t->f, 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vfake_config(&t->f, 10, 2), 1500);
	assert_int_equal(vfake_status(&t->f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	/* No segmentation offloads are offered, and VERSION_1 is required. */
	assert_int_equal(vfake_set_features(&t->f, F(VIRTIO_NET_F_MAC)) & 8, 0);
	assert_int_equal(vfake_set_features(&t->f, F(VIRTIO_F_VERSION_1) | F(11 /* HOST_TSO4 */)) & 8, 0);
	stop(t);
}

/* The MTU the driver reads is the one both directions keep to: a jumbo
 * frame spreads over mergeable buffers, one byte more is dropped. */
static void test_mtu_in_config_bounds_frames_both_ways(void **state)
{
	enum { MTU = 9000, LONGEST = VIRTIO_NET_FRAME(MTU) };
	struct t *t = start_mtu(ALL_FEATURES, MTU);
	assert_int_equal(vfake_config(&t->f, 10, 2), MTU);
	static uint8_t big[LONGEST + 1];
	eth(big, OTHER, 0x0800);
	struct virtio_net_hdr h = { 0 };
	send_split(t, &h, big, sizeof(big));
	send_split(t, &h, big, LONGEST);
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(t->sent.len[0], LONGEST);
	assert_int_equal(stats(t).tx_oversized, 1);
	post_rx(t, 8, 2048);
	memcpy(big, MAC, 6);
	assert_int_equal(virtio_net_receive(t->n, big, sizeof(big)), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(virtio_net_receive(t->n, big, LONGEST), VIRTIO_NET_RX_DELIVERED);
	uint32_t id, len, total = 0;
	while (vfake_used(&t->f, &t->rx, &id, &len))
		total += len;
	assert_int_equal(total, HDR + LONGEST);
	stop(t);
}

/* Large frames fill the backlog's bytes before its count. */
static void test_backlog_is_bounded_in_bytes(void **state)
{
	enum { LONGEST = VIRTIO_NET_FRAME(VIRTIO_NET_MAX_MTU) };
	struct t *t = start_mtu(ALL_FEATURES, VIRTIO_NET_MAX_MTU);
	static uint8_t big[LONGEST];
	memcpy(big, MAC, 6);
	unsigned queued = 0, dropped = 0;
	for (unsigned i = 0; i < 100; i++) {
		enum virtio_net_rx r = virtio_net_receive(t->n, big, LONGEST);
		queued += r == VIRTIO_NET_RX_QUEUED;
		dropped += r == VIRTIO_NET_RX_DROPPED;
	}
	assert_int_equal(queued, VIRTIO_NET_BACKLOG_BYTES / LONGEST);
	assert_int_equal(dropped, 100 - queued);
	assert_int_equal(virtio_net_backlog(t->n), queued);
	assert_int_equal(stats(t).rx_dropped, dropped);
	stop(t);
}

static void test_mtu_outside_limits_is_refused(void **state)
{
	struct vfake f;
	struct error err;
	vfake_init(&f, 1 << 20);
	struct virtio_net_peer peer = { NULL, record };
	assert_null(virtio_net_create(MAC, VIRTIO_NET_MIN_MTU - 1, peer, &f.mem, &f.router, &err));
	assert_non_null(strstr(err.msg, "MTU of 1279"));
	assert_null(virtio_net_create(MAC, VIRTIO_NET_MAX_MTU + 1, peer, &f.mem, &f.router, &err));
	vfake_destroy(&f);
}

/* ---- transmit ------------------------------------------------------------------- */

static void test_tx_split_chain_reaches_peer(void **state)
{
	struct t *t = start(ALL_FEATURES);
	uint8_t frame[200];
	size_t len = udp_frame(frame, OTHER, 120, 17);
	frame[40] = frame[41] = 0;          /* a complete frame: no UDP checksum */
	struct virtio_net_hdr h = { 0 };
	send_split(t, &h, frame, len);
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(t->sent.len[0], len);
	assert_memory_equal(t->sent.frame[0], frame, len);
	uint32_t id, ulen;
	assert_true(vfake_used(&t->f, &t->tx, &id, &ulen));
	assert_int_equal(id, 0);
	assert_int_equal(ulen, 0);
	assert_true(vfake_irqs(&t->f, VIRTIO_NET_TXQ) >= 1);
	struct virtio_net_stats s = stats(t);
	assert_int_equal(s.tx_packets, 1);
	assert_int_equal(s.tx_bytes, len);
	stop(t);
}

static void test_tx_partial_checksum_is_completed(void **state)
{
	struct t *t = start(ALL_FEATURES);
	for (uint8_t proto = 6; proto <= 17; proto += 11) {
		uint8_t frame[300];
		size_t len = udp_frame(frame, OTHER, proto == 6 ? 101 : 100, proto);
		assert_false(l4_checksum_ok(frame, len));
		struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
					    .csum_offset = proto == 17 ? 6 : 16 };
		send_split(t, &h, frame, len);
		unsigned last = t->sent.n - 1;
		assert_int_equal(t->sent.len[last], len);
		assert_true(l4_checksum_ok(t->sent.frame[last], len));
	}
	assert_int_equal(t->sent.n, 2);
	stop(t);
}

static void test_tx_checksum_request_without_feature_or_in_range_is_dropped(void **state)
{
	struct t *t = start(ALL_FEATURES & ~F(VIRTIO_NET_F_CSUM));
	uint8_t frame[200];
	size_t len = udp_frame(frame, OTHER, 50, 17);
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6 };
	send_split(t, &h, frame, len);
	assert_int_equal(t->sent.n, 0);
	assert_int_equal(stats(t).tx_errors, 1);
	stop(t);

	t = start(ALL_FEATURES);
	struct virtio_net_hdr bad[] = {
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)len, .csum_offset = 0 },
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = (uint16_t)(len - 35) },
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 0xffff, .csum_offset = 0xffff },
		{ .gso_type = 1, .gso_size = 1000 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		send_split(t, &bad[i], frame, len);
	assert_int_equal(t->sent.n, 0);
	assert_int_equal(stats(t).tx_errors, 4);
	/* The device goes on. */
	struct virtio_net_hdr ok = { 0 };
	send_split(t, &ok, frame, len);
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(vfake_status(&t->f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	stop(t);
}

static void test_tx_oversized_and_runt_frames_are_dropped_and_counted(void **state)
{
	struct t *t = start(ALL_FEATURES);
	static uint8_t big[MAX_FRAME + 1];
	eth(big, OTHER, 0x0800);
	struct virtio_net_hdr h = { 0 };
	send_split(t, &h, big, sizeof(big));
	send_split(t, &h, big, 13);
	send_split(t, &h, big, MAX_FRAME);   /* the largest allowed */
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(t->sent.len[0], MAX_FRAME);
	struct virtio_net_stats s = stats(t);
	assert_int_equal(s.tx_oversized, 1);
	assert_int_equal(s.tx_errors, 1);
	/* Every chain went back to the driver. */
	uint32_t id, len;
	for (int i = 0; i < 3; i++)
		assert_true(vfake_used(&t->f, &t->tx, &id, &len));
	stop(t);
}

static void test_tx_bad_chain_needs_reset_then_recovers(void **state)
{
	struct t *t = start(ALL_FEATURES);
	struct vfake_buf b = { 0x7fff0000000ull, 64, false };   /* outside RAM */
	vfake_add(&t->f, &t->tx, &b, 1);
	vfake_kick(&t->f, &t->tx);
	assert_int_equal(t->sent.n, 0);
	assert_true(vfake_status(&t->f) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(stats(t).tx_errors, 1);
	assert_true(vfake_irqs(&t->f, 3) >= 1);       /* config change */
	/* The driver resets and starts over. */
	t->features = vfake_negotiate(&t->f, ALL_FEATURES);
	assert_int_equal(vfake_queue(&t->f, &t->rx, 0, 64), 0);
	assert_int_equal(vfake_queue(&t->f, &t->tx, 1, 64), 0);
	vfake_driver_ok(&t->f);
	uint8_t frame[100];
	size_t len = udp_frame(frame, OTHER, 20, 17);
	struct virtio_net_hdr h = { 0 };
	send_split(t, &h, frame, len);
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(vfake_status(&t->f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	stop(t);
}

static void test_tx_flood_yields_to_the_main_loop(void **state)
{
	struct t *t = start(ALL_FEATURES);
	uint8_t frame[64];
	size_t len = eth(frame, OTHER, 0x88b5) + 40;
	uint64_t g = vfake_alloc(&t->f, HDR + len, 8);
	memcpy(vfake_ptr(&t->f, g) + HDR, frame, len);
	struct vfake_buf b = { g, (uint32_t)(HDR + len), false };
	for (int i = 0; i < 64; i++)
		vfake_add(&t->f, &t->tx, &b, 1);
	/* One turn of the loop takes at most a budget of frames. */
	vfake_write(&t->f, t->f.notify + t->f.notify_mult * 1, 1, 2);
	g_main_context_iteration(NULL, FALSE);
	assert_true(t->sent.n <= VIRTIO_NET_TX_BUDGET);
	vfake_run();
	assert_int_equal(stats(t).tx_packets, 64);
	stop(t);
}

/* ---- receive -------------------------------------------------------------------- */

static void test_rx_single_buffer_header_and_data_valid(void **state)
{
	struct t *t = start(ALL_FEATURES & ~F(VIRTIO_NET_F_MRG_RXBUF));
	uint64_t buf = post_rx(t, 2, 2048);
	vfake_kick(&t->f, &t->rx);
	uint8_t tcp[200];
	size_t len = udp_frame(tcp, MAC, 60, 6);
	assert_int_equal(virtio_net_receive(t->n, tcp, len), VIRTIO_NET_RX_DELIVERED);
	uint8_t arp[60];
	size_t alen = eth(arp, MAC, 0x0806) + 28;
	assert_int_equal(virtio_net_receive(t->n, arp, alen), VIRTIO_NET_RX_DELIVERED);
	uint32_t id, ulen;
	assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
	assert_int_equal(ulen, HDR + len);
	struct virtio_net_hdr h;
	memcpy(&h, vfake_ptr(&t->f, buf), HDR);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(h.num_buffers, 1);
	assert_memory_equal((uint8_t *)vfake_ptr(&t->f, buf) + HDR, tcp, len);
	assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
	memcpy(&h, vfake_ptr(&t->f, buf + 2048), HDR);
	assert_int_equal(h.flags, 0);                /* ARP carries no L4 checksum */
	assert_true(vfake_irqs(&t->f, VIRTIO_NET_RXQ) >= 1);
	struct virtio_net_stats s = stats(t);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.rx_bytes, len + alen);
	stop(t);
}

static void test_rx_without_guest_csum_never_claims_valid(void **state)
{
	struct t *t = start(ALL_FEATURES & ~F(VIRTIO_NET_F_GUEST_CSUM));
	uint64_t buf = post_rx(t, 1, 2048);
	uint8_t tcp[200];
	size_t len = udp_frame(tcp, MAC, 60, 6);
	assert_int_equal(virtio_net_receive(t->n, tcp, len), VIRTIO_NET_RX_DELIVERED);
	struct virtio_net_hdr h;
	memcpy(&h, vfake_ptr(&t->f, buf), HDR);
	assert_int_equal(h.flags, 0);
	stop(t);
}

static void test_rx_mergeable_spreads_a_frame_over_buffers(void **state)
{
	struct t *t = start(ALL_FEATURES);
	uint64_t buf = post_rx(t, 4, 512);
	uint8_t frame[1514];
	size_t len = udp_frame(frame, MAC, 1514 - 42, 17);
	assert_int_equal(len, 1514);
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_DELIVERED);
	uint16_t used_idx;
	memcpy(&used_idx, (uint8_t *)vfake_ptr(&t->f, t->rx.used) + 2, 2);
	assert_int_equal(used_idx, 3);               /* all three published together */
	uint8_t got[2048];
	size_t at = 0;
	uint32_t id, ulen, expect[3] = { 512, 512, HDR + 1514 - 1024 };
	for (int i = 0; i < 3; i++) {
		assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
		assert_int_equal(id, i);
		assert_int_equal(ulen, expect[i]);
		memcpy(got + at, vfake_ptr(&t->f, buf + 512ull * id), ulen);
		at += ulen;
	}
	struct virtio_net_hdr h;
	memcpy(&h, got, HDR);
	assert_int_equal(h.num_buffers, 3);
	assert_memory_equal(got + HDR, frame, len);
	stop(t);
}

static void test_rx_waits_for_buffers_in_order(void **state)
{
	struct t *t = start(ALL_FEATURES);
	uint8_t frame[3][100];
	for (int i = 0; i < 3; i++) {
		udp_frame(frame[i], MAC, 20, 17);
		frame[i][60] = (uint8_t)i;              /* tell them apart */
		assert_int_equal(virtio_net_receive(t->n, frame[i], 62), VIRTIO_NET_RX_QUEUED);
	}
	assert_int_equal(virtio_net_backlog(t->n), 3);
	uint64_t buf = post_rx(t, 3, 1536);
	vfake_kick(&t->f, &t->rx);
	assert_int_equal(virtio_net_backlog(t->n), 0);
	for (int i = 0; i < 3; i++) {
		uint32_t id, ulen;
		assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
		assert_int_equal(ulen, HDR + 62);
		assert_int_equal(((uint8_t *)vfake_ptr(&t->f, buf + 1536ull * id))[HDR + 60], i);
	}
	assert_int_equal(stats(t).backlog_max, 3);
	stop(t);
}

static void test_rx_mergeable_short_of_buffers_waits_then_completes(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 1, 512);
	uint8_t frame[1000];
	size_t len = udp_frame(frame, MAC, 1000 - 42, 17);
	/* One 512-byte buffer is not enough: it is given back, untouched. */
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_QUEUED);
	uint32_t id, ulen;
	assert_false(vfake_used(&t->f, &t->rx, &id, &ulen));
	post_rx(t, 1, 1024);
	vfake_kick(&t->f, &t->rx);
	assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
	assert_int_equal(id, 0);
	assert_int_equal(ulen, 512);
	assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
	assert_int_equal(id, 1);
	assert_int_equal(ulen, HDR + len - 512);
	stop(t);
}

static void test_rx_backlog_is_bounded(void **state)
{
	struct t *t = start(ALL_FEATURES);
	uint8_t frame[100];
	size_t len = udp_frame(frame, MAC, 20, 17);
	for (int i = 0; i < VIRTIO_NET_BACKLOG + 50; i++)
		virtio_net_receive(t->n, frame, len);
	struct virtio_net_stats s = stats(t);
	assert_int_equal(s.backlog, VIRTIO_NET_BACKLOG);
	assert_int_equal(s.rx_dropped, 50);
	/* A reset forgets the rest, counted. */
	vfake_reset(&t->f);
	s = stats(t);
	assert_int_equal(s.backlog, 0);
	assert_int_equal(s.rx_dropped, VIRTIO_NET_BACKLOG + 50);
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_DROPPED);
	stop(t);
}

static void test_rx_buffer_too_small_is_returned_and_counted(void **state)
{
	struct t *t = start(ALL_FEATURES & ~F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(t, 1, 100);
	uint8_t frame[600];
	size_t len = udp_frame(frame, MAC, 500, 17);
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_DROPPED);
	uint32_t id, ulen;
	assert_true(vfake_used(&t->f, &t->rx, &id, &ulen));
	assert_int_equal(ulen, 0);
	assert_int_equal(stats(t).rx_errors, 1);
	assert_int_equal(vfake_status(&t->f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	stop(t);
}

static void test_rx_oversized_from_peer_and_before_driver_ok_dropped(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 4, 2048);
	static uint8_t big[MAX_FRAME + 1];
	memcpy(big, MAC, 6);
	assert_int_equal(virtio_net_receive(t->n, big, sizeof(big)), VIRTIO_NET_RX_DROPPED);
	vfake_reset(&t->f);
	uint8_t frame[100];
	size_t len = udp_frame(frame, MAC, 20, 17);
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(stats(t).rx_dropped, 2);
	stop(t);
}

/* A UDP packet of 4000 bytes, larger than the classic MTU, from a card
 * whose MTU is 65520 to a driver that did not take VIRTIO_NET_F_MTU: three
 * fragments, each with a valid IP header, that put the packet back together. */
static void test_rx_fragments_ipv4_for_a_driver_without_the_mtu_feature(void **state)
{
	struct t *t = start_mtu(ALL_FEATURES & ~F(VIRTIO_NET_F_MTU), VIRTIO_NET_MAX_MTU);
	uint64_t buf = post_rx(t, 8, 2048);
	static uint8_t frame[4100];
	size_t len = udp_frame(frame, MAC, 4000, 17);
	assert_int_equal(virtio_net_receive(t->n, frame, len), VIRTIO_NET_RX_DELIVERED);
	static uint8_t data[4100];
	size_t data_len = 0;
	uint32_t id, ulen;
	unsigned n = 0;
	const uint16_t want_off[] = { 0x2000 | 0, 0x2000 | 185, 370 }, want_len[] = { 1500, 1500, 1068 };
	while (vfake_used(&t->f, &t->rx, &id, &ulen)) {
		const uint8_t *f = (uint8_t *)vfake_ptr(&t->f, buf + 2048ull * id) + HDR, *ip = f + 14;
		struct virtio_net_hdr h;
		memcpy(&h, f - HDR, HDR);
		assert_true(n < 3);
		assert_int_equal(ulen, HDR + 14 + want_len[n]);
		assert_int_equal(h.flags, 0);                    /* a fragment's L4 sum is not checked */
		assert_memory_equal(f, frame, 14);
		assert_int_equal(ip[2] << 8 | ip[3], want_len[n]);
		assert_int_equal(ip[6] << 8 | ip[7], want_off[n]);
		assert_int_equal(virtio_net_csum_fold(virtio_net_csum_add(0, ip, 20)), 0);
		assert_memory_equal(ip + 12, frame + 14 + 12, 8);   /* same addresses */
		assert_int_equal(ip[4] << 8 | ip[5], frame[18] << 8 | frame[19]);   /* same id */
		memcpy(data + data_len, ip + 20, want_len[n] - 20u);
		data_len += want_len[n] - 20u;
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(data_len, len - 34);
	assert_memory_equal(data, frame + 34, data_len);
	struct virtio_net_stats s = stats(t);
	assert_int_equal(s.rx_fragmented, 1);
	assert_int_equal(s.rx_packets, 3);
	stop(t);
}

/* What is not split: for a driver that took the MTU, a packet with DF set,
 * or one that is not IPv4, the frame goes whole. */
static void test_rx_does_not_fragment_what_it_must_not(void **state)
{
	static uint8_t frame[4100];
	size_t len = udp_frame(frame, MAC, 4000, 17);
	uint32_t id, ulen;
	for (int c = 0; c < 3; c++) {
		uint64_t wanted = c == 0 ? ALL_FEATURES : ALL_FEATURES & ~F(VIRTIO_NET_F_MTU);
		struct t *t = start_mtu(wanted, VIRTIO_NET_MAX_MTU);
		post_rx(t, 8, 2048);
		uint8_t *copy = malloc(len);
		memcpy(copy, frame, len);
		if (c == 1)
			copy[14 + 6] |= 0x40;                    /* DF */
		if (c == 2)
			copy[12] = 0x86, copy[13] = 0xdd;        /* not IPv4 */
		assert_int_equal(virtio_net_receive(t->n, copy, len), VIRTIO_NET_RX_DELIVERED);
		uint32_t total = 0;
		while (vfake_used(&t->f, &t->rx, &id, &ulen))
			total += ulen;
		assert_int_equal(total, HDR + len);
		struct virtio_net_stats s = stats(t);
		assert_int_equal(s.rx_packets, 1);
		assert_int_equal(s.rx_fragmented, 0);
		free(copy);
		stop(t);
	}
}

/* Splitting a packet that is itself a fragment: the offsets add up and
 * the last piece keeps MF; IP options and short headers are left alone. */
static void test_frag_ipv4_of_a_fragment_and_refusals(void **state)
{
	static uint8_t frame[3100];
	size_t len = udp_frame(frame, MAC, 3000, 17);
	uint8_t *ip = frame + 14;
	ip[6] = 0x20, ip[7] = 10;                            /* MF, offset 80 bytes */
	static struct sent got;
	assert_int_equal(virtio_net_frag_ipv4(frame, len, 1500, record, &got), 3);
	assert_int_equal(got.frame[0][14 + 6] << 8 | got.frame[0][14 + 7], 0x2000 | 10);
	assert_int_equal(got.frame[1][14 + 6] << 8 | got.frame[1][14 + 7], 0x2000 | (10 + 185));
	assert_int_equal(got.frame[2][14 + 6] << 8 | got.frame[2][14 + 7], 0x2000 | (10 + 370));
	ip[6] = 0, ip[7] = 0;
	assert_int_equal(virtio_net_frag_ipv4(frame, len, 3100, record, &got), 0);   /* fits */
	ip[0] = 0x46;                                         /* options */
	assert_int_equal(virtio_net_frag_ipv4(frame, len, 1500, record, &got), 0);
	ip[0] = 0x45;
	assert_int_equal(virtio_net_frag_ipv4(frame, 30, 1500, record, &got), 0);    /* truncated */
	assert_int_equal(virtio_net_frag_ipv4(frame, len - 1, 1500, record, &got), 0); /* shorter than its length */
	assert_int_equal(virtio_net_frag_ipv4(frame, len, 27, record, &got), 0);      /* no room for data */
	assert_int_equal(got.n, 3);
}

static enum virtio_net_rx deliver_to(struct t *t, const uint8_t *dst)
{
	uint8_t frame[100];
	size_t len = udp_frame(frame, dst, 20, 17);
	return virtio_net_receive(t->n, frame, len);
}

static uint16_t avail_event(struct t *t, struct vfake_queue *q)
{
	uint16_t v;
	memcpy(&v, (uint8_t *)vfake_ptr(&t->f, q->used) + 4 + 8u * q->size, 2);
	return v;
}

/* Kicks are VM exits: the device asks for them on the receive queue only
 * when it ran out of buffers, and re-arms the transmit queue only once it
 * has taken everything. */
static void test_kicks_asked_for_only_when_needed(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 4, 1536);
	vfake_kick(&t->f, &t->rx);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(avail_event(t, &t->rx), 0);          /* refills need no kick */
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_QUEUED);
	assert_int_equal(avail_event(t, &t->rx), 4);          /* out of buffers: kick at the next */
	post_rx(t, 1, 1536);
	vfake_kick(&t->f, &t->rx);
	assert_int_equal(virtio_net_backlog(t->n), 0);
	uint8_t frame[100];
	size_t len = udp_frame(frame, OTHER, 20, 17);
	struct virtio_net_hdr h = { 0 };
	for (int i = 0; i < 3; i++)
		send_split(t, &h, frame, len);
	assert_int_equal(avail_event(t, &t->tx), t->tx.avail_idx);   /* idle again: re-armed */
	assert_int_equal(t->sent.n, 3);
	stop(t);
}

/* ---- control queue -------------------------------------------------------------- */

/* Sends a control command; returns the ack byte. */
static uint8_t ctrl(struct t *t, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
	uint64_t g = vfake_alloc(&t->f, 2 + len + 1, 8);
	uint8_t *p = vfake_ptr(&t->f, g);
	p[0] = cls;
	p[1] = cmd;
	if (len)
		memcpy(p + 2, data, len);
	p[2 + len] = 0xee;
	struct vfake_buf b[3] = { { g, 2, false }, { g + 2, (uint32_t)len, false }, { g + 2 + len, 1, true } };
	if (len)
		vfake_add(&t->f, &t->ctrl, b, 3);
	else
		vfake_add(&t->f, &t->ctrl, (struct vfake_buf[]){ b[0], b[2] }, 2);
	vfake_kick(&t->f, &t->ctrl);
	uint32_t id, ulen;
	assert_true(vfake_used(&t->f, &t->ctrl, &id, &ulen));
	assert_int_equal(ulen, 1);
	return p[2 + len];
}

static uint8_t set_bool(struct t *t, uint8_t cmd, uint8_t on)
{
	return ctrl(t, VIRTIO_NET_CTRL_RX, cmd, &on, 1);
}

/* MAC_TABLE_SET with the given unicast and multicast entries. */
static uint8_t set_table(struct t *t, const uint8_t (*uni)[6], uint32_t nu, const uint8_t (*multi)[6], uint32_t nm)
{
	uint8_t data[512];
	size_t o = 0;
	memcpy(data + o, &nu, 4), o += 4;
	if (nu)
		memcpy(data + o, uni, 6 * nu), o += 6 * nu;
	memcpy(data + o, &nm, 4), o += 4;
	if (nm)
		memcpy(data + o, multi, 6 * nm), o += 6 * nm;
	return ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, data, o);
}

static void test_ctrl_rx_mode_and_mac_filter(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 32, 1536);
	const uint8_t uni[1][6] = { { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 } };
	const uint8_t multi[1][6] = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
	const uint8_t other_multi[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	/* Promiscuous until the driver says otherwise (as QEMU). */
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_ALLMULTI, 0), VIRTIO_NET_OK);
	assert_int_equal(set_table(t, uni, 1, multi, 1), VIRTIO_NET_OK);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, bcast), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, uni[0]), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, multi[0]), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(deliver_to(t, other_multi), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(stats(t).rx_filtered, 2);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_ALLMULTI, 1), VIRTIO_NET_OK);
	assert_int_equal(deliver_to(t, other_multi), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_PROMISC, 1), VIRTIO_NET_OK);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DELIVERED);
	stop(t);
}

static void test_ctrl_rejects_what_it_does_not_know(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 8, 1536);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	const uint8_t uni[1][6] = { { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 } };
	assert_int_equal(set_table(t, uni, 1, NULL, 0), VIRTIO_NET_OK);
	/* A table claiming more entries than it carries changes nothing. */
	uint8_t lying[4 + 6 + 4] = { 2, 0, 0, 0 };
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, lying, sizeof(lying)),
			 VIRTIO_NET_ERR);
	assert_int_equal(deliver_to(t, uni[0]), VIRTIO_NET_RX_DELIVERED);
	/* Extra bytes after the tables are an error as well. */
	uint8_t trailing[4 + 4 + 1] = { 0 };
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, trailing, sizeof(trailing)),
			 VIRTIO_NET_ERR);
	uint8_t on = 1;
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, 2 /* ALLUNI: needs CTRL_RX_EXTRA */, &on, 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, 2 /* VLAN */, 0, "\0\0", 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, 4 /* MQ */, 0, "\1\0", 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "\1\1", 2), VIRTIO_NET_ERR);
	/* A table longer than the device keeps accepts all of that kind. */
	static uint8_t many[VIRTIO_NET_MAC_TABLE + 1][6];
	for (int i = 0; i <= VIRTIO_NET_MAC_TABLE; i++)
		memcpy(many[i], uni[0], 6), many[i][5] = (uint8_t)i;
	uint8_t data[4 + sizeof(many) + 4];
	uint32_t nu = VIRTIO_NET_MAC_TABLE + 1, nm = 0;
	memcpy(data, &nu, 4);
	memcpy(data + 4, many, sizeof(many));
	memcpy(data + 4 + sizeof(many), &nm, 4);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, data, sizeof(data)),
			 VIRTIO_NET_OK);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DELIVERED);
	assert_true(stats(t).ctrl_errors >= 6);
	stop(t);
}

static void test_ctrl_without_ctrl_rx_feature_refuses_filtering(void **state)
{
	struct t *t = start(ALL_FEATURES & ~F(VIRTIO_NET_F_CTRL_RX) & ~F(VIRTIO_NET_F_CTRL_MAC_ADDR));
	post_rx(t, 4, 1536);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, OTHER, 6), VIRTIO_NET_ERR);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DELIVERED);
	stop(t);
}

static void test_ctrl_mac_addr_set_and_reset_restores(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 8, 1536);
	assert_int_equal(set_bool(t, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, OTHER, 6), VIRTIO_NET_OK);
	assert_int_equal(vfake_config(&t->f, 3, 1), OTHER[3]);
	assert_int_equal(deliver_to(t, OTHER), VIRTIO_NET_RX_DELIVERED);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DROPPED);
	assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, OTHER, 5), VIRTIO_NET_ERR);
	vfake_reset(&t->f);
	assert_int_equal(vfake_config(&t->f, 3, 1), MAC[3]);
	stop(t);
}

/* ---- link ----------------------------------------------------------------------- */

static void test_link_down_drops_both_ways_and_interrupts(void **state)
{
	struct t *t = start(ALL_FEATURES);
	post_rx(t, 4, 1536);
	vfake_irqs(&t->f, 3);
	virtio_net_set_link(t->n, false);
	assert_int_equal(vfake_config(&t->f, 6, 2), 0);
	assert_int_equal(vfake_irqs(&t->f, 3), 1);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DROPPED);
	uint8_t frame[100];
	size_t len = udp_frame(frame, OTHER, 20, 17);
	struct virtio_net_hdr h = { 0 };
	send_split(t, &h, frame, len);
	assert_int_equal(t->sent.n, 0);
	assert_int_equal(stats(t).tx_link_down, 1);
	virtio_net_set_link(t->n, true);
	assert_int_equal(vfake_config(&t->f, 6, 2), VIRTIO_NET_S_LINK_UP);
	send_split(t, &h, frame, len);
	assert_int_equal(t->sent.n, 1);
	assert_int_equal(deliver_to(t, MAC), VIRTIO_NET_RX_DELIVERED);
	stop(t);
}

static void test_checksum_helpers(void **state)
{
	/* RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d. */
	const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(virtio_net_csum_fold(virtio_net_csum_add(0, d, sizeof(d))), 0x220d);
	const uint8_t odd[] = { 0x01 };
	assert_int_equal(virtio_net_csum_fold(virtio_net_csum_add(0, odd, 1)), 0xfeff);
	/* The word-at-a-time sum against the textbook one, lengths and carries
	 * of every kind (all-ones buffers carry the most). */
	static uint8_t b[1600];
	uint32_t seed = 7;
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(seed % sizeof(b));
		for (size_t i = 0; i < n; i++)
			b[i] = round % 5 == 0 ? 0xff : (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
		seed = seed * 1103515245u + 12345u;
		uint64_t want = 999;
		for (size_t i = 0; i + 1 < n; i += 2)
			want += (uint32_t)b[i] << 8 | b[i + 1];
		if (n & 1)
			want += (uint32_t)b[n - 1] << 8;
		assert_int_equal(virtio_net_csum_fold(virtio_net_csum_add(999, b, n)), virtio_net_csum_fold(want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_space_and_features),
		cmocka_unit_test(test_mtu_in_config_bounds_frames_both_ways),
		cmocka_unit_test(test_backlog_is_bounded_in_bytes),
		cmocka_unit_test(test_mtu_outside_limits_is_refused),
		cmocka_unit_test(test_tx_split_chain_reaches_peer),
		cmocka_unit_test(test_tx_partial_checksum_is_completed),
		cmocka_unit_test(test_tx_checksum_request_without_feature_or_in_range_is_dropped),
		cmocka_unit_test(test_tx_oversized_and_runt_frames_are_dropped_and_counted),
		cmocka_unit_test(test_tx_bad_chain_needs_reset_then_recovers),
		cmocka_unit_test(test_tx_flood_yields_to_the_main_loop),
		cmocka_unit_test(test_rx_single_buffer_header_and_data_valid),
		cmocka_unit_test(test_rx_without_guest_csum_never_claims_valid),
		cmocka_unit_test(test_rx_mergeable_spreads_a_frame_over_buffers),
		cmocka_unit_test(test_rx_waits_for_buffers_in_order),
		cmocka_unit_test(test_rx_mergeable_short_of_buffers_waits_then_completes),
		cmocka_unit_test(test_rx_backlog_is_bounded),
		cmocka_unit_test(test_rx_buffer_too_small_is_returned_and_counted),
		cmocka_unit_test(test_rx_oversized_from_peer_and_before_driver_ok_dropped),
		cmocka_unit_test(test_rx_fragments_ipv4_for_a_driver_without_the_mtu_feature),
		cmocka_unit_test(test_rx_does_not_fragment_what_it_must_not),
		cmocka_unit_test(test_frag_ipv4_of_a_fragment_and_refusals),
		cmocka_unit_test(test_kicks_asked_for_only_when_needed),
		cmocka_unit_test(test_ctrl_rx_mode_and_mac_filter),
		cmocka_unit_test(test_ctrl_rejects_what_it_does_not_know),
		cmocka_unit_test(test_ctrl_without_ctrl_rx_feature_refuses_filtering),
		cmocka_unit_test(test_ctrl_mac_addr_set_and_reset_restores),
		cmocka_unit_test(test_link_down_drops_both_ways_and_interrupts),
		cmocka_unit_test(test_checksum_helpers),
	};
	return cmocka_run_group_tests_name("virtio-net device", tests, NULL, NULL);
}
