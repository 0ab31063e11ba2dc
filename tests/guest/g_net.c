/* virtio-net at the register level against the VMM's libslirp: a hand-built
 * DHCP DISCOVER must bring an OFFER of 10.0.2.15, ARP must resolve the
 * gateway and it must answer a ping.  Command line:
 *   udp=PORT   then send one UDP datagram to 10.0.2.2:PORT (the host's
 *              127.0.0.1:PORT) with the text "hello from the tiny guest"
 *   echo=PORT  the same, then take the host's answer, ECHO_LEN bytes that
 *              the card must split for this driver (it does not take
 *              VIRTIO_NET_F_MTU), put it back together and check it
 *   wait=syn   then answer ARP until a TCP SYN for port 80 arrives (a host
 *              forward being used) and report it
 *   wait=serve then serve one TCP connection on port 80 (what a host forward
 *              brings): accept it, send "hello through the forward\n" with
 *              FIN, acknowledge the peer's FIN, report "net: served"
 *   idle=1     at the end keep answering ARP instead of powering off (a
 *              test that still talks to the VMM stops it)
 *   hostile=1  first send an oversized frame and a chain outside guest RAM,
 *              report the device's state, reset it and start over
 * Every result is one "net: ..." line on the serial port. */
#include "virtio.h"

#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16
#define HDR 12
#define RXQ_SIZE 16
#define BUF 2048
#define SPIN 2000000ul

static struct gvdev dev;
static struct gvq rxq, txq;
static uint8_t rx_ring[16384] __attribute__((aligned(16384)));
static uint8_t tx_ring[16384] __attribute__((aligned(16384)));
static uint8_t rx_buf[RXQ_SIZE][BUF] __attribute__((aligned(64)));
static uint8_t tx_buf[HDR + 1600] __attribute__((aligned(64)));
static uint8_t frame[BUF];
static uint8_t mac[6];
static const uint8_t my_ip[4] = { 10, 0, 2, 15 }, gw_ip[4] = { 10, 0, 2, 2 };
static uint8_t gw_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void print_ip(const uint8_t *ip)
{
	for (int i = 0; i < 4; i++) {
		put_dec(ip[i]);
		if (i < 3)
			putc_serial('.');
	}
}

static void print_mac(const uint8_t *m)
{
	for (int i = 0; i < 6; i++) {
		putc_serial("0123456789abcdef"[m[i] >> 4]);
		putc_serial("0123456789abcdef"[m[i] & 15]);
		if (i < 5)
			putc_serial(':');
	}
}

/* ---- frames ---------------------------------------------------------------- */

static uint8_t *tx_frame(void)
{
	memset(tx_buf, 0, sizeof(tx_buf));
	return tx_buf + HDR;
}

static void send(size_t len)
{
	struct gbuf b = { tx_buf, (uint32_t)(HDR + len), false };
	gvq_submit(&dev, &txq, &b, 1);
	uint32_t done;
	gvq_wait(&txq, &done, SPIN);
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, type);
	return 14;
}

/* IPv4 header for L4 bytes of PROTO; UDP checksums are left 0 (none). */
static size_t ipv4(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t l4)
{
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4));
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, csum(ip, 20));
	return 34;
}

static size_t udp(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
		  size_t payload)
{
	size_t o = ipv4(f, src, dst, 17, 8 + payload);
	put16(f + o, sport);
	put16(f + o + 2, dport);
	put16(f + o + 4, (uint16_t)(8 + payload));
	return o + 8 + payload;
}

static void send_dhcp_discover(void)
{
	static const uint8_t all[4] = { 255, 255, 255, 255 }, none[4] = { 0 };
	uint8_t *f = tx_frame();
	eth(f, gw_mac, 0x0800);
	uint8_t *b = f + 42;
	b[0] = 1, b[1] = 1, b[2] = 6;
	put16(b + 4, 0x7e57), put16(b + 6, 0x0001);          /* xid 0x7e570001 */
	put16(b + 10, 0x8000);
	memcpy(b + 28, mac, 6);
	uint8_t *o = b + 236;
	o[0] = 99, o[1] = 130, o[2] = 83, o[3] = 99;
	o[4] = 53, o[5] = 1, o[6] = 1;                       /* DISCOVER */
	o[7] = 55, o[8] = 3, o[9] = 1, o[10] = 3, o[11] = 6;
	o[12] = 255;
	send(udp(f, none, all, 68, 67, 548));
}

static void send_arp(uint16_t op, const uint8_t *to_mac, const uint8_t *tip)
{
	uint8_t *f = tx_frame();
	eth(f, op == 1 ? gw_mac : to_mac, 0x0806);
	uint8_t *a = f + 14;
	put16(a, 1), put16(a + 2, 0x0800);
	a[4] = 6, a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, my_ip, 4);
	if (op == 2)
		memcpy(a + 18, to_mac, 6);
	memcpy(a + 24, tip, 4);
	send(60);
}

static void send_ping(uint16_t seq)
{
	uint8_t *f = tx_frame();
	eth(f, gw_mac, 0x0800);
	size_t o = ipv4(f, my_ip, gw_ip, 1, 8 + 16);
	uint8_t *c = f + o;
	c[0] = 8;
	put16(c + 4, 0x4242);
	put16(c + 6, seq);
	for (int i = 0; i < 16; i++)
		c[8 + i] = (uint8_t)i;
	put16(c + 2, csum(c, 24));
	send(o + 24);
}

static void send_udp_hello(uint16_t port)
{
	static const char msg[] = "hello from the tiny guest";
	uint8_t *f = tx_frame();
	eth(f, gw_mac, 0x0800);
	memcpy(f + 42, msg, sizeof(msg) - 1);
	send(udp(f, my_ip, gw_ip, 40000, port, sizeof(msg) - 1));
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* A TCP segment from port 80 to the frame's sender (its MAC, address and
 * port), checksummed: this driver offers no checksum offload. */
static void send_tcp(const uint8_t *peer, uint32_t seq, uint32_t ack, uint8_t flags, const char *data,
		     size_t len)
{
	static uint8_t sum[12 + 20 + 64];
	uint8_t *f = tx_frame();
	eth(f, peer + 6, 0x0800);
	size_t o = ipv4(f, my_ip, peer + 26, 6, 20 + len);
	uint8_t *t = f + o;
	put16(t, 80);
	put16(t + 2, get16(peer + 34));
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 8192);
	memcpy(t + 20, data, len);
	/* The pseudo-header, then the segment. */
	memcpy(sum, my_ip, 4);
	memcpy(sum + 4, peer + 26, 4);
	sum[8] = 0, sum[9] = 6;
	put16(sum + 10, (uint16_t)(20 + len));
	memcpy(sum + 12, t, 20 + len);
	put16(t + 16, csum(sum, 12 + 20 + len));
	send(o + 20 + len);
}

/* ---- receiving ----------------------------------------------------------------- */

static void post_rx(unsigned i)
{
	struct gbuf b = { rx_buf[i], BUF, true };
	gvq_submit(&dev, &rxq, &b, 1);
}

/* The next frame into FRAME (its length), or 0 after a while. */
static size_t receive(void)
{
	uint32_t len;
	int id = gvq_wait(&rxq, &len, SPIN);
	if (id < 0 || id >= RXQ_SIZE || len < HDR || len > BUF)
		return 0;
	uint16_t nbufs = (uint16_t)(rx_buf[id][10] | rx_buf[id][11] << 8);
	size_t n = len - HDR;
	memcpy(frame, rx_buf[id] + HDR, n);
	post_rx((unsigned)id);
	if (nbufs != 1) {
		print("net: num_buffers ");
		put_dec(nbufs);
		putc_serial('\n');
	}
	return n;
}

static void answer_arp(size_t n)
{
	if (n >= 42 && get16(frame + 12) == 0x0806 && get16(frame + 20) == 1 && !memcmp(frame + 38, my_ip, 4))
		send_arp(2, frame + 22, frame + 28);
}

static const uint8_t *dhcp_option(const uint8_t *o, const uint8_t *end, uint8_t code)
{
	while (o + 2 <= end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (*o == code)
			return o + 2;
		o += 2 + o[1];
	}
	return NULL;
}

static bool dhcp_offer(size_t n)
{
	if (n < 42 + 240 || get16(frame + 12) != 0x0800 || frame[23] != 17 || get16(frame + 34) != 67)
		return false;
	const uint8_t *b = frame + 42, *end = frame + n;
	const uint8_t *type = dhcp_option(b + 240, end, 53);
	if (b[0] != 2 || get16(b + 4) != 0x7e57 || !type || *type != 2)
		return false;
	const uint8_t *server = dhcp_option(b + 240, end, 54), *router = dhcp_option(b + 240, end, 3),
		      *dns = dhcp_option(b + 240, end, 6);
	print("net: dhcp offer ");
	print_ip(b + 16);
	if (server)
		print(" server "), print_ip(server);
	if (router)
		print(" router "), print_ip(router);
	if (dns)
		print(" dns "), print_ip(dns);
	putc_serial('\n');
	return true;
}

static bool arp_reply(size_t n)
{
	if (n < 42 || get16(frame + 12) != 0x0806 || get16(frame + 20) != 2 || memcmp(frame + 28, gw_ip, 4))
		return false;
	memcpy(gw_mac, frame + 22, 6);
	print("net: arp ");
	print_ip(gw_ip);
	print(" is at ");
	print_mac(gw_mac);
	putc_serial('\n');
	return true;
}

static bool echo_reply(size_t n)
{
	if (n < 42 || get16(frame + 12) != 0x0800 || frame[23] != 1 || frame[34] != 0)
		return false;
	print("net: ping ");
	print_ip(frame + 26);
	print(" reply seq ");
	put_dec(get16(frame + 40));
	print(csum(frame + 34, n - 34) == 0 ? " checksum ok" : " checksum BAD");
	putc_serial('\n');
	return true;
}

static bool syn_to_80(size_t n)
{
	if (n < 54 || get16(frame + 12) != 0x0800 || frame[23] != 6 || get16(frame + 36) != 80 ||
	    !(frame[47] & 0x02))
		return false;
	print("net: syn to port 80 from ");
	print_ip(frame + 26);
	putc_serial('\n');
	return true;
}

static bool syn_seen;

static bool tcp_to_80(size_t n)
{
	return n >= 54 && get16(frame + 12) == 0x0800 && (frame[14] & 15) == 5 && frame[23] == 6 &&
	       get16(frame + 36) == 80;
}

/* One connection to port 80, its states in order: SYN answered, our data
 * and FIN out, the peer's FIN acknowledged.  Segments are taken as they
 * come (slirp on the same host does not lose or reorder them); TRIES
 * bounds the frames and the empty waits. */
static bool serve(unsigned tries)
{
	static const char msg[] = "hello through the forward\n";
	static uint8_t peer[54];
	const uint32_t iss = 0x10000;
	uint32_t rcv_nxt = 0;
	int state = 0;
	for (unsigned i = 0; i < tries; i++) {
		size_t n = receive();
		if (n)
			answer_arp(n);
		if (!tcp_to_80(n))
			continue;
		uint8_t flags = frame[47];
		uint32_t seq = get32(frame + 38), ack = get32(frame + 42);
		size_t data = get16(frame + 16) - 20u - (frame[46] >> 4) * 4u;
		if (state == 0 && (flags & TCP_SYN) && !(flags & TCP_ACK)) {
			memcpy(peer, frame, sizeof(peer));
			syn_to_80(n);
			rcv_nxt = seq + 1;
			send_tcp(peer, iss, rcv_nxt, TCP_SYN | TCP_ACK, "", 0);
			state = 1;
		} else if (state == 1 && (flags & TCP_ACK) && ack == iss + 1) {
			rcv_nxt = seq + (uint32_t)data;
			send_tcp(peer, iss + 1, rcv_nxt, TCP_PSH | TCP_ACK | TCP_FIN, msg, sizeof(msg) - 1);
			state = 2;
		} else if (state == 2 && (flags & TCP_FIN)) {
			rcv_nxt = seq + (uint32_t)data + 1;
			send_tcp(peer, iss + 1 + sizeof(msg) - 1 + 1, rcv_nxt, TCP_ACK, "", 0);
			print("net: served ");
			put_dec(sizeof(msg) - 1);
			print(" bytes to ");
			print_ip(peer + 26);
			putc_serial('\n');
			return true;
		}
	}
	println(state ? "net: connection not finished" : "net: no syn");
	return false;
}

/* Receives until CHECK accepts a frame (answering ARP meanwhile, and
 * noting a forwarded connection that comes early); TRIES bounds the
 * frames and the empty waits. */
static bool expect(bool (*check)(size_t), unsigned tries, const char *what)
{
	for (unsigned i = 0; i < tries; i++) {
		size_t n = receive();
		if (n && check(n))
			return true;
		if (n)
			answer_arp(n);
		if (n && check != syn_to_80 && syn_to_80(n))
			syn_seen = true;
	}
	print("net: no ");
	println(what);
	return false;
}

/* ---- a datagram in fragments ------------------------------------------------------ */

#define ECHO_LEN 3000
static uint8_t echo_sum[12 + 8 + ECHO_LEN];     /* pseudo-header, then the datagram */
static size_t echo_got, echo_total;
static unsigned echo_frags;

/* Takes one IPv4 fragment of a UDP datagram from the gateway; true once
 * all its bytes are in. */
static bool echo_part(size_t n)
{
	if (n < 34 || get16(frame + 12) != 0x0800 || frame[14] != 0x45 || frame[23] != 17 ||
	    memcmp(frame + 26, gw_ip, 4))
		return false;
	size_t iplen = get16(frame + 16), off = (get16(frame + 20) & 0x1fffu) * 8u, len = iplen - 20;
	bool more = get16(frame + 20) & 0x2000;
	if (iplen < 20 || 14 + iplen > n || off + len > sizeof(echo_sum) - 12 || csum(frame + 14, 20)) {
		println("net: bad fragment");
		return false;
	}
	memcpy(echo_sum + 12 + off, frame + 34, len);
	echo_got += len;
	echo_frags++;
	if (!more)
		echo_total = off + len;
	return echo_total && echo_got == echo_total;
}

static void udp_echo(uint16_t port)
{
	send_udp_hello(port);
	if (!expect(echo_part, 16, "udp echo"))
		return;
	const uint8_t *u = echo_sum + 12;
	bool pattern = echo_total == 8 + ECHO_LEN && get16(u + 4) == echo_total;
	for (size_t i = 0; pattern && i < ECHO_LEN; i++)
		pattern = u[8 + i] == (uint8_t)(i * 7 + 1);
	memcpy(echo_sum, gw_ip, 4);
	memcpy(echo_sum + 4, my_ip, 4);
	echo_sum[8] = 0, echo_sum[9] = 17;
	put16(echo_sum + 10, (uint16_t)echo_total);
	print("net: udp echo ");
	put_dec(echo_total - 8);
	print(" bytes in ");
	put_dec(echo_frags);
	print(" fragments");
	print(pattern ? "" : ", content BAD");
	println(get16(u + 6) == 0 || csum(echo_sum, 12 + echo_total) == 0 ? ", checksum ok" : ", checksum BAD");
}

static int open_device(void)
{
	int r = virtio_open(&dev, 1, 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MRG_RXBUF |
				     1ull << VIRTIO_NET_F_STATUS);
	if (r < 0) {
		print("net: no device (step ");
		put_dec((uint64_t)-r);
		println(")");
		return r;
	}
	if (virtio_queue(&dev, &rxq, 0, RXQ_SIZE, rx_ring) < 0 || virtio_queue(&dev, &txq, 1, 16, tx_ring) < 0) {
		println("net: queue setup refused");
		return -1;
	}
	virtio_driver_ok(&dev);
	return 0;
}

/* A frame longer than the MTU allows, then a buffer nowhere in RAM: the
 * first is dropped, the second breaks the queue until a reset. */
static bool misbehave(void)
{
	static uint8_t big[HDR + 2000];
	struct gbuf b = { big, sizeof(big), false };
	uint32_t len;
	gvq_submit(&dev, &txq, &b, 1);
	println(gvq_wait(&txq, &len, SPIN) >= 0 ? "net: oversized frame returned" : "net: oversized frame kept");
	println(virtio_status(&dev) & 0x40 ? "net: device needs reset" : "net: device ok");
	struct gbuf nowhere = { (void *)0x7ff000000000ull, 64, false };
	gvq_submit(&dev, &txq, &nowhere, 1);
	for (unsigned long i = 0; i < SPIN && !(virtio_status(&dev) & 0x40); i++)
		pause_cpu();
	println(virtio_status(&dev) & 0x40 ? "net: device needs reset" : "net: device ok");
	return open_device() == 0;
}

static uint16_t port_of(const char *arg)
{
	uint16_t port = 0;
	for (const char *p = arg; *p >= '0' && *p <= '9'; p++)
		port = (uint16_t)(port * 10 + (unsigned)(*p - '0'));
	return port;
}

void guest_main(void)
{
	if (open_device() < 0)
		return;
	for (int i = 0; i < 6; i++)
		mac[i] = virtio_config8(&dev, (unsigned)i);
	print("net: mac ");
	print_mac(mac);
	putc_serial('\n');
	println(virtio_config8(&dev, 6) & 1 ? "net: link up" : "net: link down");
	char arg[16];
	if (cmdline_get("hostile", arg, sizeof(arg)) && !misbehave())
		return;
	for (unsigned i = 0; i < RXQ_SIZE; i++)
		post_rx(i);
	send_dhcp_discover();
	if (!expect(dhcp_offer, 8, "dhcp offer"))
		return;
	send_arp(1, gw_mac, gw_ip);
	if (!expect(arp_reply, 8, "arp reply"))
		return;
	send_ping(1);
	if (!expect(echo_reply, 8, "echo reply"))
		return;
	if (cmdline_get("udp", arg, sizeof(arg))) {
		send_udp_hello(port_of(arg));
		println("net: udp sent");
	}
	if (cmdline_get("echo", arg, sizeof(arg)))
		udp_echo(port_of(arg));
	if (cmdline_get("wait", arg, sizeof(arg)) && streq(arg, "syn")) {
		println("net: waiting for a syn");
		if (!syn_seen)
			expect(syn_to_80, 200, "syn");
	}
	if (cmdline_get("wait", arg, sizeof(arg)) && streq(arg, "serve")) {
		println("net: serving port 80");
		serve(3000);
	}
	println(virtio_status(&dev) & 0x40 ? "net: device needs reset" : "net: device ok");
	if (cmdline_get("idle", arg, sizeof(arg))) {
		println("net: idle");
		for (;;) {
			size_t n = receive();
			if (n)
				answer_arp(n);
		}
	}
}
