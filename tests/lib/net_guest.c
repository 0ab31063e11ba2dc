#include <glib.h>
#include <string.h>

#include "tests/lib/net_guest.h"

#define F(bit) (1ull << (bit))

void nguest_init(struct nguest *g)
{
	memset(g, 0, sizeof(*g));
	vfake_init(&g->f, 16 << 20);
	memcpy(g->me.mac, (uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 6);
	memcpy(g->me.ip, (uint8_t[]){ 10, 0, 2, 15 }, 4);
	g->answer_arp = true;
}

void nguest_post_rx(struct nguest *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vfake_buf b = { vfake_alloc(&g->f, NGUEST_BUF, 64), NGUEST_BUF, true };
		g->rx_gpa[vfake_add(&g->f, &g->rx, &b, 1)] = b.gpa;
	}
	if (n)
		vfake_kick(&g->f, &g->rx);
}

void nguest_attach(struct nguest *g, struct virtio_net *dev, uint64_t features, unsigned nr_rx)
{
	g->dev = dev;
	vfake_attach(&g->f, &dev->vp);
	vfake_negotiate(&g->f, features);
	vfake_queue(&g->f, &g->rx, VIRTIO_NET_RXQ, 256);
	vfake_queue(&g->f, &g->tx, VIRTIO_NET_TXQ, 256);
	vfake_msix(&g->f, 2);
	g->tx_gpa = vfake_alloc(&g->f, 16 + PKT_MAX, 64);
	vfake_driver_ok(&g->f);
	nguest_post_rx(g, nr_rx);
}

void nguest_destroy(struct nguest *g)
{
	vfake_destroy(&g->f);
}

void nguest_send(struct nguest *g, const uint8_t *frame, size_t len)
{
	uint8_t *p = vfake_ptr(&g->f, g->tx_gpa);
	memset(p, 0, sizeof(struct virtio_net_hdr));
	memcpy(p + sizeof(struct virtio_net_hdr), frame, len);
	struct vfake_buf b = { g->tx_gpa, (uint32_t)(sizeof(struct virtio_net_hdr) + len), false };
	vfake_add(&g->f, &g->tx, &b, 1);
	vfake_kick(&g->f, &g->tx);
	uint32_t id, ulen;
	while (vfake_used(&g->f, &g->tx, &id, &ulen))
		;
}

/* A used receive buffer, reassembled when it was merged, and reposted. */
static size_t take_frame(struct nguest *g, uint8_t *buf)
{
	uint32_t id, len;
	if (!vfake_used(&g->f, &g->rx, &id, &len))
		return 0;
	uint8_t tmp[16 + PKT_MAX * 2];
	struct virtio_net_hdr h;
	size_t at = 0;
	memcpy(&h, vfake_ptr(&g->f, g->rx_gpa[id]), sizeof(h));
	for (unsigned i = 0;; i++) {
		if (at + len <= sizeof(tmp))
			memcpy(tmp + at, vfake_ptr(&g->f, g->rx_gpa[id]), len);
		at += len;
		struct vfake_buf b = { g->rx_gpa[id], NGUEST_BUF, true };
		g->rx_gpa[vfake_add(&g->f, &g->rx, &b, 1)] = b.gpa;
		if (i + 1 >= h.num_buffers || !vfake_used(&g->f, &g->rx, &id, &len))
			break;
	}
	size_t n = at > sizeof(h) ? at - sizeof(h) : 0;
	if (n > PKT_MAX)
		n = PKT_MAX;
	memcpy(buf, tmp + sizeof(h), n);
	return n ? n : 1;
}

static gboolean expire(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

static void answer_arp(struct nguest *g, const struct pkt_info *p)
{
	if (!g->answer_arp || p->type != 0x0806 || p->arp_op != 1 || memcmp(p->arp_tpa, g->me.ip, 4))
		return;
	struct pkt_addr them;
	memcpy(them.mac, p->arp_sha, 6);
	memcpy(them.ip, p->arp_spa, 4);
	uint8_t reply[PKT_MAX];
	size_t n = pkt_arp_reply(reply, &g->me, &them);
	nguest_send(g, reply, n);
	g->arp_answers++;
}

size_t nguest_recv(struct nguest *g, uint8_t *buf, int ms, struct pkt_info *info)
{
	bool expired = false;
	guint timer = g_timeout_add((guint)ms, expire, &expired);
	size_t n = 0;
	while (!(n = take_frame(g, buf)) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(timer);
	if (n) {
		struct pkt_info p;
		pkt_parse(buf, n, &p);
		answer_arp(g, &p);
		if (info)
			*info = p;
		vfake_kick(&g->f, &g->rx);
	}
	return n;
}

size_t nguest_wait(struct nguest *g, uint8_t *buf, int ms, bool (*match)(const struct pkt_info *p, void *ctx),
		   void *ctx, struct pkt_info *info)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	for (;;) {
		gint64 left = (end - g_get_monotonic_time()) / 1000;
		if (left <= 0)
			return 0;
		struct pkt_info p;
		size_t n = nguest_recv(g, buf, (int)left, &p);
		if (n && match(&p, ctx)) {
			if (info)
				*info = p;
			return n;
		}
	}
}

void nguest_loop(int ms)
{
	bool expired = false;
	g_timeout_add((guint)ms, expire, &expired);
	while (!expired)
		g_main_context_iteration(NULL, TRUE);
}
