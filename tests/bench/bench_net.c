/* Host-side micro-benchmark of the network path: TCP through virtio-net
 * and libslirp in one process, without KVM.
 *
 * Three threads, as in the VMM: the main loop (device, libslirp), a "vCPU"
 * thread that is the guest (a virtio driver on fake guest RAM with a
 * minimal TCP, MSS 1460, 64 KiB window; it kicks through the notify
 * register, waits on the MSI-X irqfds and suppresses both with EVENT_IDX
 * as Linux does), and the host with an ordinary socket on 127.0.0.1.
 * Measured: 64 MiB guest -> host (through 10.0.2.2) and host -> guest
 * (through a hostfwd port); wall-clock throughput and the CPU time of the
 * main-loop thread (what the VMM spends) per MiB.
 *
 * It stands in for the nested benchmark (a Linux L2 under vmdeck and under
 * QEMU -netdev user with busybox nc + dd) until the nested tier is in
 * main: there is no QEMU reference here, so the numbers are absolute. */
#include <arpa/inet.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "src/log.h"
#include "tests/lib/net_guest.h"

#define TOTAL     (64u << 20)
#define MSS       1460
#define WINDOW    65535
#define RING      256
#define HDR       sizeof(struct virtio_net_hdr)
#define F(bit) (1ull << (bit))
#define FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MAC) | \
		  F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_F_EVENT_IDX))

static const uint8_t GW[4] = { 10, 0, 2, 2 };

struct guest {
	struct nguest g;
	struct net *n;
	uint8_t gw_mac[6];
	uint64_t tx_gpa[RING];
	uint16_t tx_free;               /* descriptors the device has given back */
	uint16_t tx_kicked, rx_kicked;  /* avail index at the last kick */
	GMainLoop *loop;
	double cpu_ms;                  /* the guest thread's own CPU */
};

static double thread_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *msg)
{
	fprintf(stderr, "bench_net: %s\n", msg);
	exit(1);
}

/* ---- the guest's virtio driver (runs on the guest thread) ------------------------- */

static uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* virtio 1.2, 2.7.7.2: does the device want a kick for NEW_IDX? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Kicks Q through the notify register, as a vCPU would, if the device asked. */
static void notify(struct guest *g, struct vfake_queue *q, uint16_t *kicked)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t event = load16((uint8_t *)vfake_ptr(&g->g.f, q->used) + 4 + 8u * q->size);
	if (need_event(event, q->avail_idx, *kicked))
		vfake_write(&g->g.f, g->g.f.notify + (uint64_t)q->index * g->g.f.notify_mult, q->index, 2);
	*kicked = q->avail_idx;
}

/* Asks for an interrupt at the next used entry and sleeps on the irqfd;
 * true if the ring has something now. */
static bool wait_used(struct guest *g, struct vfake_queue *q, int ms)
{
	uint8_t *used = vfake_ptr(&g->g.f, q->used);
	uint16_t *used_event = (uint16_t *)vfake_ptr(&g->g.f, q->avail) + 2 + q->size;
	store16(used_event, q->last_used);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (load16(used + 2) != q->last_used)
		return true;
	/* An interrupt may be left over from before: sleep until the ring
	 * moves or the time is up. */
	double end = wall_ms() + ms;
	struct pollfd p = { g->n->dev->vp.msix.irqfd[q->index], POLLIN, 0 };
	while (load16(used + 2) == q->last_used) {
		int left = (int)(end - wall_ms());
		if (left < 0 || poll(&p, 1, left) <= 0)
			return load16(used + 2) != q->last_used;
		uint64_t n;
		if (read(p.fd, &n, sizeof(n)) < 0)
			return false;
	}
	return true;
}

static void reclaim_tx(struct guest *g)
{
	uint32_t id, len;
	while (vfake_used(&g->g.f, &g->g.tx, &id, &len))
		g->tx_free++;
}

static void queue_frame(struct guest *g, const uint8_t *frame, size_t len)
{
	reclaim_tx(g);
	while (!g->tx_free) {
		notify(g, &g->g.tx, &g->tx_kicked);
		wait_used(g, &g->g.tx, 10);
		reclaim_tx(g);
	}
	uint64_t gpa = g->tx_gpa[g->g.tx.next_desc];
	uint8_t *p = vfake_ptr(&g->g.f, gpa);
	memset(p, 0, HDR);
	memcpy(p + HDR, frame, len);
	struct vfake_buf b = { gpa, (uint32_t)(HDR + len), false };
	vfake_add(&g->g.f, &g->g.tx, &b, 1);
	g->tx_free--;
}

/* The next received frame (0: none within MS); buffers go back at once. */
static size_t receive(struct guest *g, uint8_t *buf, int ms, struct pkt_info *p)
{
	uint32_t id, len;
	if (!vfake_used(&g->g.f, &g->g.rx, &id, &len)) {
		notify(g, &g->g.rx, &g->rx_kicked);
		if (!wait_used(g, &g->g.rx, ms) || !vfake_used(&g->g.f, &g->g.rx, &id, &len))
			return 0;
	}
	uint64_t gpa = g->g.rx_gpa[id];
	size_t n = len > HDR ? len - HDR : 0;
	memcpy(buf, (uint8_t *)vfake_ptr(&g->g.f, gpa) + HDR, n);
	struct vfake_buf b = { gpa, NGUEST_BUF, true };
	g->g.rx_gpa[vfake_add(&g->g.f, &g->g.rx, &b, 1)] = gpa;
	pkt_parse(buf, n, p);
	return n;
}

/* A TCP segment; SYNs carry the MSS option. */
static size_t segment(struct guest *g, uint8_t *f, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		      uint32_t ack, const void *data, size_t len)
{
	if (!(flags & TCP_SYN))
		return pkt_tcp(f, &g->g.me, g->gw_mac, GW, sport, dport, flags, seq, ack, WINDOW, data, len);
	uint8_t opt[4] = { 2, 4, MSS >> 8, MSS & 0xff };
	size_t n = pkt_tcp(f, &g->g.me, g->gw_mac, GW, sport, dport, flags, seq, ack, WINDOW, opt, 4);
	uint8_t *t = f + 34, pseudo[12];
	t[12] = 6 << 4;
	t[16] = t[17] = 0;
	memcpy(pseudo, f + 26, 8);
	pseudo[8] = 0, pseudo[9] = 6, pseudo[10] = 0, pseudo[11] = 24;
	uint32_t sum = 0;
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	uint16_t c = pkt_csum(t, 24, sum);
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	return n;
}

/* ---- set-up on the main thread ------------------------------------------------ */

static void start(struct guest *g, const char *spec)
{
	struct net_options opt;
	struct error err;
	memset(g, 0, sizeof(*g));
	if (net_options_parse(spec, &opt, &err) < 0)
		die(err.msg);
	nguest_init(&g->g);
	g->n = net_create(&opt, &g->g.f.mem, &g->g.f.router, &err);
	net_options_free(&opt);
	if (!g->n)
		die(err.msg);
	nguest_attach(&g->g, g->n->dev, FEATURES, RING);    /* MSI-X: vector 0 rx, 1 tx */
	for (unsigned i = 0; i < RING; i++)
		g->tx_gpa[i] = vfake_alloc(&g->g.f, HDR + PKT_MAX, 64);
	g->tx_free = RING;
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	nguest_send(&g->g, f, pkt_arp_request(f, &g->g.me, GW));
	g->tx_kicked = g->g.tx.avail_idx;
	g->tx_free = RING;
	while (nguest_recv(&g->g, f, 2000, &p) && !(p.type == 0x0806 && p.arp_op == 2))
		;
	if (p.arp_op != 2)
		die("no ARP reply from the gateway");
	memcpy(g->gw_mac, p.arp_sha, 6);
	g->rx_kicked = g->g.rx.avail_idx;
	g->loop = g_main_loop_new(NULL, FALSE);
}

static void stop(struct guest *g)
{
	g_main_loop_unref(g->loop);
	net_destroy(g->n);
	nguest_destroy(&g->g);
}

/* ---- the host side ------------------------------------------------------------ */

struct host {
	int listen_fd, port;
	uint64_t bytes;
};

static void *host_reader(void *arg)
{
	struct host *h = arg;
	int c = accept(h->listen_fd, NULL, NULL);
	static char buf[1 << 16];
	ssize_t n;
	while ((n = read(c, buf, sizeof(buf))) > 0)
		h->bytes += (uint64_t)n;
	close(c);
	return NULL;
}

static void *host_writer(void *arg)
{
	struct host *h = arg;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)h->port) };
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("cannot connect to the forward");
	static char buf[1 << 16];
	memset(buf, 'v', sizeof(buf));
	for (uint64_t sent = 0; sent < TOTAL;) {
		ssize_t n = write(c, buf, TOTAL - sent < sizeof(buf) ? TOTAL - sent : sizeof(buf));
		if (n <= 0)
			break;
		sent += (uint64_t)n;
	}
	close(c);
	return NULL;
}

static int listener(int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 1);
	getsockname(s, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return s;
}

/* ---- guest -> host -------------------------------------------------------------- */

struct sender {
	struct guest *g;
	uint16_t port;
	uint64_t retransmits;
};

static bool is_tcp(const struct pkt_info *p, uint16_t port)
{
	return p->proto == 6 && p->dport == port;
}

static void *guest_sender(void *arg)
{
	struct sender *s = arg;
	struct guest *g = s->g;
	double c0 = thread_cpu_ms();
	uint8_t f[PKT_MAX], data[MSS];
	memset(data, 'g', sizeof(data));
	const uint16_t sport = 33000;
	uint32_t iss = 1000, end = iss + 1 + TOTAL, win = MSS, una, nxt, rcv = 0;
	struct pkt_info p;
	queue_frame(g, f, segment(g, f, sport, s->port, TCP_SYN, iss, 0, NULL, 0));
	notify(g, &g->g.tx, &g->tx_kicked);
	while (receive(g, f, 3000, &p) && !(is_tcp(&p, sport) && (p.tcp_flags & TCP_SYN)))
		;
	if (!is_tcp(&p, sport) || !(p.tcp_flags & TCP_ACK))
		die("no SYN-ACK from slirp");
	rcv = p.seq + 1;
	una = nxt = iss + 1;
	win = p.window;
	double last_progress = wall_ms();
	while (una != end) {
		while (nxt != end && nxt - una + MSS <= win) {
			uint32_t len = end - nxt < MSS ? end - nxt : MSS;
			queue_frame(g, f, segment(g, f, sport, s->port, TCP_ACK | TCP_PSH, nxt, rcv, data, len));
			nxt += len;
		}
		notify(g, &g->g.tx, &g->tx_kicked);
		bool full = true;
		while (full && receive(g, f, 20, &p)) {
			if (!is_tcp(&p, sport) || !(p.tcp_flags & TCP_ACK))
				continue;
			if ((int32_t)(p.ack - una) > 0) {
				una = p.ack;
				last_progress = wall_ms();
			}
			win = p.window;
			full = nxt == end || nxt - una + MSS > win;
		}
		if (wall_ms() - last_progress > 200) {     /* go back N */
			nxt = una;
			s->retransmits++;
			last_progress = wall_ms();
		}
	}
	queue_frame(g, f, segment(g, f, sport, s->port, TCP_ACK | TCP_FIN, end, rcv, NULL, 0));
	notify(g, &g->g.tx, &g->tx_kicked);
	g->cpu_ms = thread_cpu_ms() - c0;
	g_main_loop_quit(g->loop);
	return NULL;
}

#define RUNS 3

struct result {
	double ms, cpu, guest_cpu;
};

static int by_time(const void *a, const void *b)
{
	double x = ((const struct result *)a)->ms, y = ((const struct result *)b)->ms;
	return x < y ? -1 : x > y;
}

/* The median run of RUNS, by wall-clock time. */
static void report(const char *what, struct result *r)
{
	qsort(r, RUNS, sizeof(*r), by_time);
	double mib = TOTAL / 1048576.0;
	struct result m = r[RUNS / 2];
	printf("%-34s %6.1f MiB/s (runs %.1f..%.1f)  VMM main loop %.2f ms CPU/MiB  guest thread %.2f\n", what,
	       mib / (m.ms / 1e3), mib / (r[RUNS - 1].ms / 1e3), mib / (r[0].ms / 1e3), m.cpu / mib, m.guest_cpu / mib);
}

static void guest_to_host(struct result *res)
{
	struct guest g;
	struct host h = { .listen_fd = listener(&h.port) };
	pthread_t ht, gt;
	start(&g, "user");
	pthread_create(&ht, NULL, host_reader, &h);
	struct sender s = { &g, (uint16_t)h.port, 0 };
	double t0 = wall_ms(), c0 = thread_cpu_ms();
	pthread_create(&gt, NULL, guest_sender, &s);
	g_main_loop_run(g.loop);
	pthread_join(gt, NULL);
	double cpu = thread_cpu_ms() - c0, ms = wall_ms() - t0;
	nguest_loop(50);                         /* the FIN goes out */
	stop(&g);
	pthread_join(ht, NULL);
	close(h.listen_fd);
	if (h.bytes != TOTAL)
		die("the host did not receive every byte");
	*res = (struct result){ ms, cpu, g.cpu_ms };
	if (s.retransmits)
		printf("guest -> host: %llu go-back-N retransmissions\n", (unsigned long long)s.retransmits);
}

/* ---- host -> guest -------------------------------------------------------------- */

struct receiver {
	struct guest *g;
	uint64_t got;
};

static void *guest_receiver(void *arg)
{
	struct receiver *r = arg;
	struct guest *g = r->g;
	double c0 = thread_cpu_ms();
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	const uint16_t lport = 5001;
	while (receive(g, f, 3000, &p) && !(is_tcp(&p, lport) && (p.tcp_flags & TCP_SYN)))
		;
	if (!is_tcp(&p, lport))
		die("no SYN through the forward");
	uint16_t peer = p.sport;
	uint32_t rcv = p.seq + 1, iss = 77000;
	queue_frame(g, f, segment(g, f, lport, peer, TCP_SYN | TCP_ACK, iss, rcv, NULL, 0));
	notify(g, &g->g.tx, &g->tx_kicked);
	unsigned unacked = 0;
	for (bool fin = false; !fin;) {
		size_t n = receive(g, f, unacked ? 0 : 100, &p);
		if (!n) {
			if (unacked) {                       /* nothing more for now: acknowledge */
				queue_frame(g, f, segment(g, f, lport, peer, TCP_ACK, iss + 1, rcv, NULL, 0));
				notify(g, &g->g.tx, &g->tx_kicked);
				unacked = 0;
			}
			continue;
		}
		if (!is_tcp(&p, lport))
			continue;
		if (p.seq == rcv && p.payload_len) {
			rcv += (uint32_t)p.payload_len;
			r->got += p.payload_len;
			unacked++;
		} else if (p.payload_len) {
			unacked = 2;                            /* out of order: say where we are */
		}
		if (p.tcp_flags & TCP_FIN) {
			rcv++;
			fin = true;
			unacked = 2;
		}
		if (unacked >= 2) {
			queue_frame(g, f, segment(g, f, lport, peer, TCP_ACK, iss + 1, rcv, NULL, 0));
			notify(g, &g->g.tx, &g->tx_kicked);
			unacked = 0;
		}
	}
	g->cpu_ms = thread_cpu_ms() - c0;
	g_main_loop_quit(g->loop);
	return NULL;
}

static void host_to_guest(struct result *res)
{
	struct guest g;
	struct host h = { .port = 0 };
	close(listener(&h.port));
	char spec[64];
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp::%d-:5001", h.port);
	start(&g, spec);
	pthread_t ht, gt;
	struct receiver r = { &g, 0 };
	double t0 = wall_ms(), c0 = thread_cpu_ms();
	pthread_create(&gt, NULL, guest_receiver, &r);
	pthread_create(&ht, NULL, host_writer, &h);
	g_main_loop_run(g.loop);
	pthread_join(gt, NULL);
	double cpu = thread_cpu_ms() - c0, ms = wall_ms() - t0;
	pthread_join(ht, NULL);
	struct net_stats st;
	net_get_stats(g.n, &st);
	stop(&g);
	if (r.got != TOTAL)
		die("the guest did not receive every byte");
	*res = (struct result){ ms, cpu, g.cpu_ms };
	if (st.dev.rx_dropped)
		printf("host -> guest: %llu frames dropped (backlog max %llu)\n", (unsigned long long)st.dev.rx_dropped,
		       (unsigned long long)st.dev.backlog_max);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	printf("network micro-benchmark, in-process (virtio-net + libslirp, fake guest on its own thread; "
	       "no KVM, no QEMU reference)\n");
	printf("64 MiB per run, median of %d runs; CPU is thread time per MiB moved\n", RUNS);
	struct result up[RUNS], down[RUNS];
	for (int i = 0; i < RUNS; i++) {
		guest_to_host(&up[i]);
		host_to_guest(&down[i]);
	}
	report("guest -> host TCP (via 10.0.2.2)", up);
	report("host -> guest TCP (via hostfwd)", down);
	return 0;
}
