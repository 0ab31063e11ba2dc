#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/virtio_net.h"
#include "vmm/virtio_net_frag.h"

#define HDR_LEN sizeof(struct virtio_net_hdr)
#define ETH_HLEN 14
#define CSUM_OFFSET_UDP 6

struct vnet_frame {
	size_t len;
	uint8_t data[];
};

static const uint8_t broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* ---- buffers ---------------------------------------------------------------- */

/* Copies LEN bytes at offset OFF of the buffer IOV describes into DST;
 * returns how many there were. */
static size_t iov_read(const struct iovec *iov, unsigned n, size_t off, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off < len - done ? iov[i].iov_len - off : len - done;
		memcpy(out + done, (const uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

static size_t iov_write(const struct iovec *iov, unsigned n, size_t off, const void *src, size_t len)
{
	const uint8_t *in = src;
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off < len - done ? iov[i].iov_len - off : len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, in + done, take);
		done += take;
		off = 0;
	}
	return done;
}

static uint8_t *iov_byte(const struct iovec *iov, unsigned n, size_t off)
{
	for (unsigned i = 0; i < n; i++) {
		if (off < iov[i].iov_len)
			return (uint8_t *)iov[i].iov_base + off;
		off -= iov[i].iov_len;
	}
	return NULL;
}

static void rekick(struct virtio_net *n, unsigned q)
{
	uint64_t one = 1;
	if (write(n->vp.q[q].kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("virtio-net: rekick: %s", strerror(errno));
}

/* ---- checksums -------------------------------------------------------------- */

/* SUM accumulates big-endian 16-bit words; chunks must start at even
 * offsets.  The one's-complement sum does not care about byte order
 * (RFC 1071), so the bulk is added 8 bytes at a time in host order and
 * swapped once: every frame the guest sends goes through here. */
uint64_t virtio_net_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint64_t host = 0;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		host += (w & 0xffffffffu) + (w >> 32);
	}
	for (; len >= 2; p += 2, len -= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		host += h;
	}
	while (host >> 16)
		host = (host & 0xffff) + (host >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	host = __builtin_bswap16((uint16_t)host);
#endif
	sum += host;
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t virtio_net_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* NEEDS_CSUM: the field at csum_start + csum_offset holds the pseudo-header
 * sum; the sum from csum_start to the end, folded, goes in its place. */
static bool complete_csum(uint8_t *frame, size_t len, const struct virtio_net_hdr *h)
{
	size_t start = h->csum_start, off = h->csum_offset;
	if (start >= len || off + 2 > len - start)
		return false;
	uint16_t c = virtio_net_csum_fold(virtio_net_csum_add(0, frame + start, len - start));
	if (c == 0 && off == CSUM_OFFSET_UDP)
		c = 0xffff;                       /* 0 means "no checksum" in UDP */
	frame[start + off] = (uint8_t)(c >> 8);
	frame[start + off + 1] = (uint8_t)c;
	return true;
}

/* Frames from the peer are built with correct checksums; an unfragmented
 * TCP or UDP one can be marked so (other checksums the guest checks itself). */
static bool l4_checksummed(const uint8_t *f, size_t len)
{
	if (len < ETH_HLEN)
		return false;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	const uint8_t *ip = f + ETH_HLEN;
	size_t iplen = len - ETH_HLEN;
	if (type == 0x0800 && iplen >= 20 && (ip[0] >> 4) == 4) {
		bool fragment = (ip[6] & 0x3f) || ip[7];    /* MF or an offset */
		return !fragment && (ip[9] == 6 || ip[9] == 17);
	}
	if (type == 0x86dd && iplen >= 40 && (ip[0] >> 4) == 6)
		return ip[6] == 6 || ip[6] == 17;
	return false;
}

/* ---- transmit ----------------------------------------------------------------- */

/* Copies the chain in n->chain into n->tx_frame and checks it; returns the
 * frame length, or 0 when it was dropped (and counted). */
static size_t tx_take(struct virtio_net *n)
{
	const struct vq_chain *c = &n->chain;
	if (c->out_len < HDR_LEN + ETH_HLEN) {
		count(&n->stats.tx_errors, 1);
		return 0;
	}
	if (c->out_len > HDR_LEN + VIRTIO_NET_FRAME(n->mtu)) {
		count(&n->stats.tx_oversized, 1);
		return 0;
	}
	size_t total = iov_read(c->iov, c->nr_out, 0, n->tx_frame, c->out_len);
	struct virtio_net_hdr h;
	memcpy(&h, n->tx_frame, HDR_LEN);
	size_t len = total - HDR_LEN;
	bool csum_ok = !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		       (n->tx_csum && complete_csum(n->tx_frame + HDR_LEN, len, &h));
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE || !csum_ok) {
		count(&n->stats.tx_errors, 1);
		return 0;
	}
	if (!n->link_up) {
		count(&n->stats.tx_link_down, 1);
		return 0;
	}
	return len;
}

/* Sends up to MAX frames; returns how many chains it took, or -1 when the
 * queue broke or the device went down. */
static int tx_some(struct virtio_net *n, struct virtqueue *vq, unsigned max)
{
	int done = 0;
	for (; (unsigned)done < max; done++) {
		pthread_mutex_lock(&n->lock);
		int got = n->active ? vq_pop(vq, &n->chain) : -1;
		if (got <= 0) {
			bool broken = got < 0 && n->active;
			pthread_mutex_unlock(&n->lock);
			if (broken) {
				count(&n->stats.tx_errors, 1);
				virtio_pci_queue_error(&n->vp, VIRTIO_NET_TXQ);
			}
			return got < 0 ? -1 : done;
		}
		size_t len = tx_take(n);
		vq_push(vq, n->chain.head, 0);
		pthread_mutex_unlock(&n->lock);
		if (len) {
			count(&n->stats.tx_packets, 1);
			count(&n->stats.tx_bytes, len);
			/* Without the lock: the peer may answer at once. */
			n->peer.tx(n->peer.opaque, n->tx_frame + HDR_LEN, len);
		}
	}
	return done;
}

/* Turns the guest's kicks off, or on again (then true when buffers came
 * in meanwhile).  Under the lock: a reset may be taking the queue down. */
static bool tx_kicks(struct virtio_net *n, struct virtqueue *vq, bool on)
{
	pthread_mutex_lock(&n->lock);
	bool more = n->active && vq_enable_kicks(vq, on);
	pthread_mutex_unlock(&n->lock);
	return more;
}

/* Each kick costs the guest a VM exit: while we work it need not kick, and
 * what it queues meanwhile goes out in the same pass. */
static void kick_tx(struct virtio_net *n)
{
	struct virtqueue *vq = virtio_pci_queue(&n->vp, VIRTIO_NET_TXQ);
	unsigned done = 0;
	tx_kicks(n, vq, false);
	for (;;) {
		int r = tx_some(n, vq, VIRTIO_NET_TX_BUDGET - done);
		if (r < 0)
			break;
		done += (unsigned)r;
		if (done >= VIRTIO_NET_TX_BUDGET) {
			/* A flood must not starve the rest of the main loop:
			 * come back on the next turn, kicks still off. */
			rekick(n, VIRTIO_NET_TXQ);
			break;
		}
		if (!tx_kicks(n, vq, true))
			break;
		tx_kicks(n, vq, false);
	}
	pthread_mutex_lock(&n->lock);
	if (n->active)
		virtio_pci_notify(&n->vp, VIRTIO_NET_TXQ);
	pthread_mutex_unlock(&n->lock);
}

/* ---- receive ------------------------------------------------------------------ */

static bool mac_in(const uint8_t (*table)[6], unsigned nr, const uint8_t *mac)
{
	for (unsigned i = 0; i < nr; i++)
		if (!memcmp(table[i], mac, 6))
			return true;
	return false;
}

/* The guest's RX mode and MAC filter (virtio 1.2, 5.1.6.5.1-2). */
static bool rx_wanted(const struct virtio_net *n, const uint8_t *frame)
{
	const struct virtio_net_filter *f = &n->filter;
	if (f->promisc || !memcmp(frame, broadcast_mac, 6))
		return true;
	if (frame[0] & 1)
		return f->allmulti || f->multi_overflow || mac_in(f->multi, f->nr_multi, frame);
	return !memcmp(frame, n->mac, 6) || f->uni_overflow || mac_in(f->uni, f->nr_uni, frame);
}

enum rx_result { RX_OK, RX_NO_BUFFERS, RX_FAILED };

/* Hands every chain popped so far back empty: the guest posted a buffer
 * that cannot take this frame. */
static enum rx_result rx_give_back(struct virtio_net *n, struct virtqueue *vq, unsigned nbufs)
{
	for (unsigned i = 0; i < nbufs; i++)
		n->rx_used[i].len = 0;
	vq_push_many(vq, n->rx_used, nbufs);
	count(&n->stats.rx_errors, 1);
	return RX_FAILED;
}

/* Writes bytes [DONE, DONE+TAKE) of header+frame into the chain's
 * writable buffers. */
static void rx_fill(const struct vq_chain *c, const struct virtio_net_hdr *h, const uint8_t *frame,
		    size_t done, size_t take)
{
	const struct iovec *in = c->iov + c->nr_out;
	size_t w = 0;
	if (done < HDR_LEN) {
		w = HDR_LEN - done < take ? HDR_LEN - done : take;
		iov_write(in, c->nr_in, 0, (const uint8_t *)h + done, w);
	}
	if (w < take)
		iov_write(in, c->nr_in, w, frame + (done + w - HDR_LEN), take - w);
}

/* One frame into the guest's buffers, merged over several when the driver
 * allows it.  All chains appear to the guest at once. */
static enum rx_result rx_write(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	struct virtqueue *vq = virtio_pci_queue(&n->vp, VIRTIO_NET_RXQ);
	if (vq->broken)
		return RX_FAILED;
	struct virtio_net_hdr h = { .num_buffers = 1 };
	if (n->rx_csum && l4_checksummed(frame, len))
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	size_t total = HDR_LEN + len, done = 0;
	uint8_t *nb_lo = NULL, *nb_hi = NULL;        /* where num_buffers lands */
	unsigned nbufs = 0;
	while (done < total) {
		int got = vq_pop(vq, &n->chain);
		if (got < 0) {
			virtio_pci_queue_error(&n->vp, VIRTIO_NET_RXQ);
			return RX_FAILED;
		}
		if (got == 0) {
			if (vq_rewind(vq, (uint16_t)nbufs))
				rekick(n, VIRTIO_NET_RXQ);   /* buffers came meanwhile */
			return RX_NO_BUFFERS;
		}
		const struct vq_chain *c = &n->chain;
		n->rx_used[nbufs++] = (struct vq_used_elem){ .head = c->head };
		size_t need = nbufs == 1 ? (n->mrg_rxbuf ? HDR_LEN : total) : 1;
		if (c->in_len < need || nbufs >= VQ_MAX_SIZE)
			return rx_give_back(n, vq, nbufs);
		if (nbufs == 1) {
			nb_lo = iov_byte(c->iov + c->nr_out, c->nr_in, offsetof(struct virtio_net_hdr, num_buffers));
			nb_hi = iov_byte(c->iov + c->nr_out, c->nr_in, offsetof(struct virtio_net_hdr, num_buffers) + 1);
		}
		size_t take = c->in_len < total - done ? c->in_len : total - done;
		rx_fill(c, &h, frame, done, take);
		n->rx_used[nbufs - 1].len = (uint32_t)take;
		done += take;
	}
	if (nb_lo && nb_hi) {
		*nb_lo = (uint8_t)nbufs;
		*nb_hi = (uint8_t)(nbufs >> 8);
	}
	vq_push_many(vq, n->rx_used, nbufs);
	count(&n->stats.rx_packets, 1);
	count(&n->stats.rx_bytes, len);
	return RX_OK;
}

static void backlog_stats(struct virtio_net *n)
{
	uint64_t len = g_queue_get_length(&n->backlog);
	__atomic_store_n(&n->stats.backlog, len, __ATOMIC_RELAXED);
	if (len > n->stats.backlog_max)
		__atomic_store_n(&n->stats.backlog_max, len, __ATOMIC_RELAXED);
}

static bool backlog_add(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	struct vnet_frame *f;
	if (g_queue_get_length(&n->backlog) >= VIRTIO_NET_BACKLOG ||
	    n->backlog_bytes + len > VIRTIO_NET_BACKLOG_BYTES || !(f = malloc(sizeof(*f) + len))) {
		count(&n->stats.rx_dropped, 1);
		return false;
	}
	f->len = len;
	memcpy(f->data, frame, len);
	g_queue_push_tail(&n->backlog, f);
	n->backlog_bytes += len;
	backlog_stats(n);
	return true;
}

static void backlog_clear(struct virtio_net *n)
{
	struct vnet_frame *f;
	while ((f = g_queue_pop_head(&n->backlog))) {
		count(&n->stats.rx_dropped, 1);
		free(f);
	}
	n->backlog_bytes = 0;
	backlog_stats(n);
}

/* Moves waiting frames into new guest buffers; with the lock held. */
static void backlog_flush(struct virtio_net *n)
{
	struct vnet_frame *f;
	bool any = false;
	while ((f = g_queue_peek_head(&n->backlog))) {
		enum rx_result r = rx_write(n, f->data, f->len);
		if (r == RX_NO_BUFFERS)
			break;
		if (r == RX_FAILED)
			count(&n->stats.rx_dropped, 1);
		any |= r == RX_OK;
		n->backlog_bytes -= f->len;
		free(g_queue_pop_head(&n->backlog));
	}
	backlog_stats(n);
	if (any)
		virtio_pci_notify(&n->vp, VIRTIO_NET_RXQ);
}

/* A wanted frame into the guest's buffers, or behind those waiting; with
 * the lock held. */
static enum virtio_net_rx rx_deliver(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	if (!g_queue_is_empty(&n->backlog))
		return backlog_add(n, frame, len) ? VIRTIO_NET_RX_QUEUED : VIRTIO_NET_RX_DROPPED;
	enum rx_result r = rx_write(n, frame, len);
	if (r == RX_OK) {
		virtio_pci_notify(&n->vp, VIRTIO_NET_RXQ);
		return VIRTIO_NET_RX_DELIVERED;
	}
	if (r == RX_NO_BUFFERS && backlog_add(n, frame, len))
		return VIRTIO_NET_RX_QUEUED;
	if (r == RX_FAILED)
		count(&n->stats.rx_dropped, 1);
	return VIRTIO_NET_RX_DROPPED;
}

struct rx_fragments {
	struct virtio_net *n;
	enum virtio_net_rx worst;       /* dropped over queued over delivered */
};

static void rx_fragment(void *opaque, const uint8_t *frag, size_t len)
{
	struct rx_fragments *f = opaque;
	enum virtio_net_rx r = rx_deliver(f->n, frag, len);
	if (r > f->worst)
		f->worst = r;
}

enum virtio_net_rx virtio_net_receive(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	enum virtio_net_rx ret = VIRTIO_NET_RX_DROPPED;
	pthread_mutex_lock(&n->lock);
	struct rx_fragments frags = { n, VIRTIO_NET_RX_DELIVERED };
	if (!n->active || !n->link_up || len < ETH_HLEN || len > VIRTIO_NET_FRAME(n->mtu)) {
		count(&n->stats.rx_dropped, 1);
	} else if (!rx_wanted(n, frame)) {
		count(&n->stats.rx_filtered, 1);
	} else if (!n->driver_mtu && len > ETH_HLEN + VIRTIO_NET_CLASSIC_MTU &&
		   virtio_net_frag_ipv4(frame, len, VIRTIO_NET_CLASSIC_MTU, rx_fragment, &frags)) {
		count(&n->stats.rx_fragmented, 1);
		ret = frags.worst;
	} else {
		ret = rx_deliver(n, frame, len);
	}
	pthread_mutex_unlock(&n->lock);
	return ret;
}

unsigned virtio_net_backlog(struct virtio_net *n)
{
	return (unsigned)__atomic_load_n(&n->stats.backlog, __ATOMIC_RELAXED);
}

/* The guest kicks the receive queue only when we ran out of buffers (the
 * rewind asked for it); with buffers in hand, refills need no exit. */
static void kick_rx(struct virtio_net *n)
{
	pthread_mutex_lock(&n->lock);
	if (n->active) {
		backlog_flush(n);
		if (g_queue_is_empty(&n->backlog))
			vq_enable_kicks(virtio_pci_queue(&n->vp, VIRTIO_NET_RXQ), false);
	}
	pthread_mutex_unlock(&n->lock);
}

/* ---- control queue ------------------------------------------------------------ */

static uint8_t ctrl_rx(struct virtio_net *n, uint8_t cmd, const struct vq_chain *c)
{
	uint8_t on;
	if (!virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_CTRL_RX) || c->out_len != 3)
		return VIRTIO_NET_ERR;
	iov_read(c->iov, c->nr_out, 2, &on, 1);
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		n->filter.promisc = on != 0;
	else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
		n->filter.allmulti = on != 0;
	else
		return VIRTIO_NET_ERR;               /* the others need CTRL_RX_EXTRA */
	return VIRTIO_NET_OK;
}

/* One table of MAC_TABLE_SET: le32 entries, then 6 bytes each.  Tables
 * longer than we keep mean "accept all of that kind", as in QEMU. */
static bool read_mac_table(const struct vq_chain *c, size_t *off, uint8_t (*table)[6], unsigned *nr,
			   bool *overflow)
{
	uint32_t entries;
	if (c->out_len - *off < 4)
		return false;
	iov_read(c->iov, c->nr_out, *off, &entries, 4);
	*off += 4;
	if (entries > (c->out_len - *off) / 6)
		return false;
	*overflow = entries > VIRTIO_NET_MAC_TABLE;
	*nr = *overflow ? 0 : entries;
	for (unsigned i = 0; i < *nr; i++)
		iov_read(c->iov, c->nr_out, *off + 6ull * i, table[i], 6);
	*off += 6ull * entries;
	return true;
}

static uint8_t ctrl_mac(struct virtio_net *n, uint8_t cmd, const struct vq_chain *c)
{
	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_CTRL_MAC_ADDR) || c->out_len != 2 + 6)
			return VIRTIO_NET_ERR;
		iov_read(c->iov, c->nr_out, 2, n->mac, 6);
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	/* Parse into a copy: a malformed command changes nothing. */
	struct virtio_net_filter f = n->filter;
	size_t off = 2;
	if (!read_mac_table(c, &off, f.uni, &f.nr_uni, &f.uni_overflow) ||
	    !read_mac_table(c, &off, f.multi, &f.nr_multi, &f.multi_overflow) || off != c->out_len)
		return VIRTIO_NET_ERR;
	n->filter = f;
	return VIRTIO_NET_OK;
}

static void kick_ctrl(struct virtio_net *n)
{
	struct virtqueue *vq = virtio_pci_queue(&n->vp, VIRTIO_NET_CTRLQ);
	pthread_mutex_lock(&n->lock);
	int got;
	while (n->active && (got = vq_pop(vq, &n->chain)) != 0) {
		if (got < 0) {
			count(&n->stats.ctrl_errors, 1);
			virtio_pci_queue_error(&n->vp, VIRTIO_NET_CTRLQ);
			break;
		}
		const struct vq_chain *c = &n->chain;
		if (c->out_len < 2 || c->in_len < 1) {
			count(&n->stats.ctrl_errors, 1);     /* nowhere to answer */
			vq_push(vq, c->head, 0);
			continue;
		}
		uint8_t cls_cmd[2];
		iov_read(c->iov, c->nr_out, 0, cls_cmd, 2);
		uint8_t ack = cls_cmd[0] == VIRTIO_NET_CTRL_RX ? ctrl_rx(n, cls_cmd[1], c)
			    : cls_cmd[0] == VIRTIO_NET_CTRL_MAC ? ctrl_mac(n, cls_cmd[1], c)
			    : VIRTIO_NET_ERR;
		count(&n->stats.ctrl_commands, 1);
		if (ack != VIRTIO_NET_OK)
			count(&n->stats.ctrl_errors, 1);
		iov_write(c->iov + c->nr_out, c->nr_in, 0, &ack, 1);
		vq_push(vq, c->head, 1);
	}
	if (n->active)
		virtio_pci_notify(&n->vp, VIRTIO_NET_CTRLQ);
	pthread_mutex_unlock(&n->lock);
}

/* ---- transport hooks ------------------------------------------------------------ */

struct vnet_config {
	uint8_t mac[6];
	uint16_t status, max_virtqueue_pairs, mtu;
} __attribute__((packed));

static void config_read(struct virtio_pci *vp, unsigned offset, void *data, unsigned len)
{
	struct virtio_net *n = vp->dev;
	struct vnet_config c = { .max_virtqueue_pairs = 1, .mtu = (uint16_t)n->mtu };
	pthread_mutex_lock(&n->lock);
	memcpy(c.mac, n->mac, 6);
	c.status = n->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	pthread_mutex_unlock(&n->lock);
	memset(data, 0, len);
	if (offset + len <= sizeof(c))
		memcpy(data, (uint8_t *)&c + offset, len);
}

static void kick(struct virtio_pci *vp, unsigned q)
{
	struct virtio_net *n = vp->dev;
	if (q == VIRTIO_NET_RXQ)
		kick_rx(n);
	else if (q == VIRTIO_NET_TXQ)
		kick_tx(n);
	else if (q == VIRTIO_NET_CTRLQ)
		kick_ctrl(n);
}

/* DRIVER_OK, on a vCPU thread: the main loop looks at every queue once, in
 * case the driver queued buffers before it kicks. */
static int activate(struct virtio_pci *vp)
{
	struct virtio_net *n = vp->dev;
	pthread_mutex_lock(&n->lock);
	n->mrg_rxbuf = virtio_pci_has_feature(vp, VIRTIO_NET_F_MRG_RXBUF);
	n->tx_csum = virtio_pci_has_feature(vp, VIRTIO_NET_F_CSUM);
	n->rx_csum = virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_CSUM);
	n->driver_mtu = virtio_pci_has_feature(vp, VIRTIO_NET_F_MTU);
	n->active = true;
	vq_enable_kicks(virtio_pci_queue(vp, VIRTIO_NET_RXQ), false);
	pthread_mutex_unlock(&n->lock);
	for (unsigned q = 0; q < VIRTIO_NET_NUM_QUEUES; q++)
		rekick(n, q);
	return 0;
}

static void filter_reset(struct virtio_net_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->promisc = true;      /* as QEMU: drivers without CTRL_RX see everything */
}

/* Any thread; once it returns the main loop no longer touches the rings. */
static void reset(struct virtio_pci *vp)
{
	struct virtio_net *n = vp->dev;
	pthread_mutex_lock(&n->lock);
	n->active = false;
	backlog_clear(n);
	filter_reset(&n->filter);
	memcpy(n->mac, n->config_mac, 6);
	pthread_mutex_unlock(&n->lock);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.class_code = 0x020000,          /* network, Ethernet */
	.num_queues = VIRTIO_NET_NUM_QUEUES,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.config_size = sizeof(struct vnet_config),
	.features = 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
		    1ull << VIRTIO_NET_F_MTU | 1ull << VIRTIO_NET_F_MAC |
		    1ull << VIRTIO_NET_F_MRG_RXBUF | 1ull << VIRTIO_NET_F_STATUS |
		    1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX |
		    1ull << VIRTIO_NET_F_CTRL_MAC_ADDR,
	.config_read = config_read,
	.activate = activate,
	.reset = reset,
	.kick = kick,
};

/* ---- lifecycle ------------------------------------------------------------------ */

struct virtio_net *virtio_net_create(const uint8_t mac[6], unsigned mtu, struct virtio_net_peer peer,
				     const struct guest_mem *mem, struct irq_router *router,
				     struct error *err)
{
	if (mtu < VIRTIO_NET_MIN_MTU || mtu > VIRTIO_NET_MAX_MTU) {
		error_set(err, "virtio-net: an MTU of %u is outside %u..%u", mtu, VIRTIO_NET_MIN_MTU,
			  VIRTIO_NET_MAX_MTU);
		return NULL;
	}
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		error_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	g_queue_init(&n->backlog);
	n->peer = peer;
	n->link_up = true;
	n->mtu = mtu;
	memcpy(n->config_mac, mac, 6);
	memcpy(n->mac, mac, 6);
	filter_reset(&n->filter);
	if (virtio_pci_init(&n->vp, &net_ops, n, mem, router, err) < 0) {
		virtio_net_destroy(n);
		return NULL;
	}
	return n;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->vp.ops)
		virtio_pci_destroy(&n->vp);
	backlog_clear(n);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void virtio_net_set_link(struct virtio_net *n, bool up)
{
	pthread_mutex_lock(&n->lock);
	bool changed = n->link_up != up;
	n->link_up = up;
	if (!up)
		backlog_clear(n);
	pthread_mutex_unlock(&n->lock);
	if (changed)
		virtio_pci_config_changed(&n->vp);
}

bool virtio_net_link(struct virtio_net *n)
{
	pthread_mutex_lock(&n->lock);
	bool up = n->link_up;
	pthread_mutex_unlock(&n->lock);
	return up;
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *out)
{
	const uint64_t *src = (const uint64_t *)&n->stats;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
