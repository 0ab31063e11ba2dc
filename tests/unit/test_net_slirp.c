/* The network backend in-process: the virtio-net device, libslirp on the
 * GLib main loop, forwards, restrict=on, capture and counters, driven by a
 * fake guest and checked against real host sockets and tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"
#include "tests/lib/net_guest.h"
#include "tests/lib/testlib.h"

#define F(bit) (1ull << (bit))
#define FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MAC) | \
		  F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_F_EVENT_IDX))

static const uint8_t GW[4] = { 10, 0, 2, 2 }, DNS[4] = { 10, 0, 2, 3 }, ME[4] = { 10, 0, 2, 15 };
static const uint8_t OUTSIDE[4] = { 192, 0, 2, 1 };   /* TEST-NET-1 */

struct vm_net {
	struct nguest g;
	struct net *n;
	uint8_t gw_mac[6];
};

static struct vm_net *start(const char *spec)
{
	struct vm_net *v = calloc(1, sizeof(*v));
	struct net_options opt;
	struct error err;
	if (net_options_parse(spec, &opt, &err) < 0) {
		printf("%s\n", err.msg);
		fail();
	}
	nguest_init(&v->g);
	v->n = net_create(&opt, &v->g.f.mem, &v->g.f.router, &err);
	net_options_free(&opt);
	if (!v->n) {
		printf("%s\n", err.msg);
		fail();
	}
	nguest_attach(&v->g, v->n->dev, FEATURES, 64);
	return v;
}

static void stop(struct vm_net *v)
{
	net_destroy(v->n);
	nguest_destroy(&v->g);
	free(v);
}

static struct net_stats stats(struct vm_net *v)
{
	struct net_stats s;
	net_get_stats(v->n, &s);
	return s;
}

/* ---- what the guest does ---------------------------------------------------------- */

static bool is_dhcp(const struct pkt_info *p, void *ctx)
{
	struct pkt_dhcp_info d;
	return pkt_parse_dhcp(p, &d) && d.type == *(uint8_t *)ctx;
}

static struct pkt_dhcp_info dhcp(struct vm_net *v, uint8_t type)
{
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	struct pkt_dhcp_info d = { 0 };
	uint8_t want = type == 1 ? 2 : 5;
	nguest_send(&v->g, f, pkt_dhcp(f, v->g.me.mac, 0x1234, type, type == 3 ? ME : NULL));
	if (nguest_wait(&v->g, f, 3000, is_dhcp, &want, &p))
		pkt_parse_dhcp(&p, &d);
	return d;
}

static bool is_arp_reply(const struct pkt_info *p, void *ctx)
{
	return p->type == 0x0806 && p->arp_op == 2 && !memcmp(p->arp_spa, ctx, 4);
}

/* ARP for the gateway: slirp learns our MAC and we learn its. */
static void resolve_gateway(struct vm_net *v)
{
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	nguest_send(&v->g, f, pkt_arp_request(f, &v->g.me, GW));
	assert_true(nguest_wait(&v->g, f, 3000, is_arp_reply, (void *)GW, &p));
	memcpy(v->gw_mac, p.arp_sha, 6);
}

static bool is_echo_reply(const struct pkt_info *p, void *ctx)
{
	return p->type == 0x0800 && p->proto == 1 && p->icmp_type == 0 && p->icmp_seq == *(uint16_t *)ctx;
}

static bool ping(struct vm_net *v, const uint8_t *ip, uint16_t seq)
{
	uint8_t f[PKT_MAX];
	nguest_send(&v->g, f, pkt_icmp_echo(f, &v->g.me, v->gw_mac, ip, 0x77, seq));
	return nguest_wait(&v->g, f, 2000, is_echo_reply, &seq, NULL) != 0;
}

static void send_udp(struct vm_net *v, const uint8_t *ip, uint16_t port, const char *msg)
{
	uint8_t f[PKT_MAX];
	nguest_send(&v->g, f, pkt_udp(f, &v->g.me, v->gw_mac, ip, 40000, port, msg, strlen(msg)));
}

static void send_syn(struct vm_net *v, const uint8_t *ip, uint16_t port)
{
	uint8_t f[PKT_MAX];
	nguest_send(&v->g, f, pkt_tcp(f, &v->g.me, v->gw_mac, ip, 41000, port, TCP_SYN, 1000, 0, 65535, NULL, 0));
}

/* ---- the host side ----------------------------------------------------------------- */

static int udp_socket(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return s;
}

/* A UDP port nothing is bound to right now. */
static uint16_t free_udp_port(void)
{
	uint16_t port;
	close(udp_socket(&port));
	return port;
}

/* What a host socket received while the main loop ran for MS. */
static ssize_t host_recv(int s, char *buf, size_t len, int ms)
{
	for (int waited = 0; waited < ms; waited += 20) {
		ssize_t n = recv(s, buf, len - 1, 0);
		if (n >= 0) {
			buf[n] = '\0';
			return n;
		}
		nguest_loop(20);
	}
	return -1;
}

/* /proc/net/tcp: local addresses (hex, as the kernel prints) listening on PORT. */
static unsigned listeners(uint16_t port, char addrs[][16], unsigned max)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned n = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char local[64], remote[64];
		unsigned st;
		if (sscanf(line, " %*d: %63s %63s %x", local, remote, &st) != 3 || st != 0x0a)
			continue;
		char *colon = strchr(local, ':');
		if (colon && strtoul(colon + 1, NULL, 16) == port && n < max) {
			*colon = '\0';
			snprintf(addrs[n++], 16, "%.15s", local);
		}
	}
	fclose(f);
	return n;
}

static int tcp_connect(in_addr_t addr, uint16_t port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = addr, .sin_port = htons(port) };
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return s;
	int e = errno;
	close(s);
	errno = e;
	return -1;
}

/* A non-loopback IPv4 address of this host, or 0. */
static in_addr_t outside_address(void)
{
	struct ifaddrs *list, *i;
	in_addr_t found = 0;
	if (getifaddrs(&list) < 0)
		return 0;
	for (i = list; i && !found; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
			in_addr_t a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			if ((ntohl(a) >> 24) != 127)
				found = a;
		}
	freeifaddrs(list);
	return found;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_dhcp_offers_the_qemu_addresses(void **state)
{
	struct vm_net *v = start("user");
	struct pkt_dhcp_info d = dhcp(v, 1);
	assert_int_equal(d.type, 2);
	assert_memory_equal(d.yiaddr, ME, 4);
	assert_memory_equal(d.server, GW, 4);
	assert_memory_equal(d.router, GW, 4);
	assert_memory_equal(d.dns, DNS, 4);
	assert_memory_equal(d.netmask, ((uint8_t[]){ 255, 255, 255, 0 }), 4);
	d = dhcp(v, 3);
	assert_int_equal(d.type, 5);                   /* ACK */
	assert_memory_equal(d.yiaddr, ME, 4);
	struct net_stats s = stats(v);
	assert_true(s.dev.tx_packets >= 2);
	assert_true(s.dev.rx_packets >= 2);
	assert_true(s.dev.rx_bytes > 2 * 548);
	stop(v);
}

static void test_other_network_and_mac(void **state)
{
	struct vm_net *v = start("user,net=192.168.76.0/24,mac=52:54:00:ab:cd:ef");
	memcpy(v->g.me.mac, (uint8_t[]){ 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef }, 6);
	assert_int_equal(vfake_config(&v->g.f, 3, 1), 0xab);
	struct pkt_dhcp_info d = dhcp(v, 1);
	assert_int_equal(d.type, 2);
	assert_memory_equal(d.yiaddr, ((uint8_t[]){ 192, 168, 76, 15 }), 4);
	assert_memory_equal(d.router, ((uint8_t[]){ 192, 168, 76, 2 }), 4);
	assert_memory_equal(d.dns, ((uint8_t[]){ 192, 168, 76, 3 }), 4);
	stop(v);
}

static void test_arp_and_ping_the_gateway(void **state)
{
	struct vm_net *v = start("user");
	resolve_gateway(v);
	assert_memory_equal(v->gw_mac, ((uint8_t[]){ 0x52, 0x55, 10, 0, 2, 2 }), 6);
	assert_true(ping(v, GW, 1));
	assert_true(ping(v, DNS, 2));
	stop(v);
}

static void test_udp_reaches_the_host(void **state)
{
	struct vm_net *v = start("user");
	uint16_t port;
	int s = udp_socket(&port);
	resolve_gateway(v);
	send_udp(v, GW, port, "hello from the guest");
	char buf[256];
	assert_int_equal(host_recv(s, buf, sizeof(buf), 2000), 20);
	assert_string_equal(buf, "hello from the guest");
	close(s);
	stop(v);
}

static void test_udp_reply_comes_back(void **state)
{
	struct vm_net *v = start("user");
	uint16_t port;
	int s = udp_socket(&port);
	resolve_gateway(v);
	send_udp(v, GW, port, "ping");
	char buf[64];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	for (int i = 0; i < 100 && recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen) < 0; i++)
		nguest_loop(20);
	assert_int_equal(sendto(s, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	bool got = false;
	for (int i = 0; i < 20 && !got; i++)
		got = nguest_recv(&v->g, f, 200, &p) && p.proto == 17 && p.dport == 40000;
	assert_true(got);
	assert_memory_equal(p.src, GW, 4);
	assert_int_equal(p.sport, port);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "pong", 4);
	assert_true(p.l4_csum_ok);
	close(s);
	stop(v);
}

static void test_restrict_drops_outbound_and_counts(void **state)
{
	struct vm_net *v = start("user,restrict=on");
	uint16_t port;
	int s = udp_socket(&port);
	struct pkt_dhcp_info d = dhcp(v, 1);
	assert_int_equal(d.type, 2);                   /* DHCP still answers */
	resolve_gateway(v);
	assert_true(ping(v, GW, 1));                   /* and the gateway pings */
	send_udp(v, GW, port, "must not arrive");      /* to the host */
	send_udp(v, OUTSIDE, 53, "must not leave");    /* to the world */
	send_syn(v, GW, 22);
	send_syn(v, OUTSIDE, 80);
	assert_false(ping(v, OUTSIDE, 2));
	char buf[64];
	assert_true(host_recv(s, buf, sizeof(buf), 500) < 0);
	struct net_stats st = stats(v);
	assert_int_equal(st.tx_restricted, 5);
	assert_true(st.restricted);
	close(s);
	stop(v);

	/* The same guest without restrict=on reaches the host. */
	v = start("user");
	s = udp_socket(&port);
	resolve_gateway(v);
	send_udp(v, GW, port, "arrives");
	assert_int_equal(host_recv(s, buf, sizeof(buf), 2000), 7);
	assert_int_equal(stats(v).tx_restricted, 0);
	close(s);
	stop(v);
}

/* A DNS query for NAME (type A) with ID. */
static size_t dns_query(uint8_t *q, uint16_t id, const char *name)
{
	size_t n = 0;
	q[n++] = (uint8_t)(id >> 8), q[n++] = (uint8_t)id;
	q[n++] = 0x01, q[n++] = 0x00;                     /* recursion desired */
	q[n++] = 0, q[n++] = 1, memset(q + n, 0, 6), n += 6;
	for (const char *label = name; *label;) {
		size_t len = strcspn(label, ".");
		q[n++] = (uint8_t)len;
		memcpy(q + n, label, len);
		n += len;
		label += len + (label[len] == '.');
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;   /* A, IN */
	return n;
}

/* The host's first nameserver from /etc/resolv.conf, or 0. */
static in_addr_t host_nameserver(void)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[256], addr[64];
	in_addr_t found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		if (sscanf(line, "nameserver %63s", addr) == 1)
			inet_pton(AF_INET, addr, &found);
	if (f)
		fclose(f);
	return found;
}

/* The host resolver's own answer to Q (its length, or -1). */
static ssize_t ask_directly(const uint8_t *q, size_t qlen, uint8_t *answer, size_t max)
{
	in_addr_t ns = host_nameserver();
	if (!ns)
		return -1;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = ns, .sin_port = htons(53) };
	struct timeval tv = { 2, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = sendto(s, q, qlen, 0, (struct sockaddr *)&a, sizeof(a)) < 0 ? -1 : recv(s, answer, max, 0);
	close(s);
	return n;
}

struct dns_wait {
	uint16_t id;
};

static bool is_dns_answer(const struct pkt_info *p, void *ctx)
{
	const struct dns_wait *w = ctx;
	return p->proto == 17 && p->sport == 53 && p->payload_len >= 12 &&
	       (p->payload[0] << 8 | p->payload[1]) == w->id;
}

/* Outside truth: the answer that comes back from 10.0.2.3 says what the
 * host's resolver says when asked directly. */
static void test_dns_is_forwarded_to_the_host_resolver(void **state)
{
	uint8_t q[256], direct[512];
	size_t qlen = dns_query(q, 0x4242, "localhost");
	if (ask_directly(q, qlen, direct, sizeof(direct)) < 12) {
		printf("the host's resolver does not answer: nothing to compare with\n");
		skip();
	}
	struct vm_net *v = start("user");
	resolve_gateway(v);
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	nguest_send(&v->g, f, pkt_udp(f, &v->g.me, v->gw_mac, DNS, 40053, 53, q, qlen));
	struct dns_wait w = { 0x4242 };
	assert_true(nguest_wait(&v->g, f, 5000, is_dns_answer, &w, &p));
	assert_memory_equal(p.src, DNS, 4);
	assert_int_equal(p.dport, 40053);
	assert_int_equal(p.payload[3] & 0x0f, direct[3] & 0x0f);          /* the same rcode */
	assert_int_equal(p.payload[6] << 8 | p.payload[7], direct[6] << 8 | direct[7]);   /* answers */
	stop(v);
}

/* ICMPv6 router solicitation from the guest's link-local address. */
static size_t router_solicitation(uint8_t *f, const uint8_t *mac)
{
	static const uint8_t all_routers[16] = { 0xff, 0x02, [15] = 2 };
	uint8_t src[16] = { 0xfe, 0x80, [8] = (uint8_t)(mac[0] ^ 2), mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5] };
	memcpy(f, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 2 }, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14, *icmp = ip + 40;
	memset(ip, 0, 40 + 16);
	ip[0] = 0x60;
	ip[5] = 16;                                      /* payload length */
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, all_routers, 16);
	icmp[0] = 133;
	icmp[8] = 1, icmp[9] = 1;                        /* source link-layer address */
	memcpy(icmp + 10, mac, 6);
	uint8_t pseudo[40];
	memcpy(pseudo, ip + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[35] = 16, pseudo[39] = 58;
	uint32_t sum = 0;
	for (int i = 0; i < 40; i += 2)
		sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	uint16_t c = pkt_csum(icmp, 16, sum);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	return 14 + 40 + 16;
}

static bool is_ipv6(const struct pkt_info *p, void *ctx)
{
	return p->type == 0x86dd;
}

/* IPv6 is on: a router solicitation brings an advertisement of fec0::/64. */
static void test_ipv6_router_advertises_the_qemu_prefix(void **state)
{
	struct vm_net *v = start("user");
	uint8_t f[PKT_MAX];
	nguest_send(&v->g, f, router_solicitation(f, v->g.me.mac));
	bool found = false;
	for (int i = 0; i < 10 && !found; i++) {
		size_t n = nguest_wait(&v->g, f, 2000, is_ipv6, NULL, NULL);
		if (n < 14 + 40 + 16 || f[14 + 6] != 58 || f[14 + 40] != 134)
			continue;
		for (size_t o = 14 + 40 + 16; o + 8 <= n && f[o + 1]; o += 8u * f[o + 1])
			if (f[o] == 3 && o + 32 <= n) {         /* prefix information */
				assert_int_equal(f[o + 2], 64);
				assert_memory_equal(f + o + 16, ((uint8_t[]){ 0xfe, 0xc0, 0, 0, 0, 0, 0, 0 }), 8);
				found = true;
			}
	}
	assert_true(found);
	stop(v);
}

static bool is_syn_to(const struct pkt_info *p, void *ctx)
{
	return p->proto == 6 && (p->tcp_flags & TCP_SYN) && p->dport == *(uint16_t *)ctx;
}

static void test_hostfwd_listens_on_loopback_only_and_reaches_the_guest(void **state)
{
	uint16_t port = tl_free_tcp_port();
	char spec[128];
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp::%u-:80", port);
	struct vm_net *v = start(spec);
	resolve_gateway(v);
	char addrs[4][16];
	assert_int_equal(listeners(port, addrs, 4), 1);
	assert_string_equal(addrs[0], "0100007F");     /* 127.0.0.1 */
	in_addr_t outside = outside_address();
	if (outside) {
		assert_int_equal(tcp_connect(outside, port), -1);
		assert_int_equal(errno, ECONNREFUSED);
	}
	/* A second bind of the same port is refused, by the kernel and by a
	 * second network. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(s);
	struct net_options opt;
	struct error err;
	assert_int_equal(net_options_parse(spec, &opt, &err), 0);
	struct nguest g2;
	nguest_init(&g2);
	assert_null(net_create(&opt, &g2.f.mem, &g2.f.router, &err));
	char want[160];
	snprintf(want, sizeof(want), "cannot forward tcp:127.0.0.1:%u-10.0.2.15:80: Address already in use", port);
	assert_string_equal(err.msg, want);
	net_options_free(&opt);
	nguest_destroy(&g2);
	/* The forward works: the guest sees the SYN for its port 80. */
	int c = tcp_connect(htonl(INADDR_LOOPBACK), port);
	assert_true(c >= 0);
	uint8_t f[PKT_MAX];
	struct pkt_info p;
	uint16_t eighty = 80;
	assert_true(nguest_wait(&v->g, f, 3000, is_syn_to, &eighty, &p));
	assert_memory_equal(p.src, GW, 4);
	assert_memory_equal(p.dst, ME, 4);
	close(c);
	struct net_forward_info info[4];
	assert_int_equal(net_forwards(v->n, info, 4), 1);
	snprintf(want, sizeof(want), "tcp:127.0.0.1:%u-10.0.2.15:80", port);
	assert_string_equal(info[0].spec, want);
	assert_string_equal(info[0].state, "listening");
	stop(v);
	assert_int_equal(listeners(port, addrs, 4), 0);  /* gone with the VM */
}

static void test_hostfwd_added_and_removed_at_runtime(void **state)
{
	struct vm_net *v = start("user");
	uint16_t port = tl_free_tcp_port();
	char spec[64], host[64];
	struct error err;
	snprintf(spec, sizeof(spec), "tcp::%u-:22", port);
	snprintf(host, sizeof(host), "tcp::%u", port);
	char addrs[4][16];
	assert_int_equal(listeners(port, addrs, 4), 0);
	assert_int_equal(net_hostfwd_add(v->n, spec, &err), 0);
	assert_int_equal(listeners(port, addrs, 4), 1);
	assert_int_equal(net_hostfwd_add(v->n, spec, &err), -1);
	assert_non_null(strstr(err.msg, "another forward already takes"));
	int c = tcp_connect(htonl(INADDR_LOOPBACK), port);
	assert_true(c >= 0);
	close(c);
	assert_int_equal(stats(v).forwards, 1);
	assert_int_equal(net_hostfwd_remove(v->n, host, &err), 0);
	assert_int_equal(listeners(port, addrs, 4), 0);
	assert_int_equal(tcp_connect(htonl(INADDR_LOOPBACK), port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(net_hostfwd_remove(v->n, host, &err), -1);
	snprintf(spec, sizeof(spec), "no forward listens on tcp::%u", port);
	assert_string_equal(err.msg, spec);
	assert_int_equal(net_hostfwd_add(v->n, "tcp::99999-:22", &err), -1);
	assert_string_equal(err.msg, "hostfwd 'tcp::99999-:22' has host port '99999', which is not a port "
				     "number from 1 to 65535");
	assert_int_equal(net_hostfwd_add(v->n, "udp::5555-10.0.9.1:53", &err), -1);
	assert_string_equal(err.msg, "hostfwd 'udp::5555-10.0.9.1:53' has guest address '10.0.9.1', outside "
				     "the guest network 10.0.2.0/24");
	assert_int_equal(stats(v).forwards, 0);
	stop(v);
}

static bool tshark_lists(const char *path, const char *filter, const char *want)
{
	char cmd[512], out[8192];
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -Y '%s' 2>&1", path, filter);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	if (rc != 0 || !strstr(out, want)) {
		printf("tshark -r %s -Y %s (status %d):\n%s\n(wanted \"%s\")\n", path, filter, rc, out, want);
		return false;
	}
	return true;
}

static void test_capture_at_runtime_is_read_by_tshark(void **state)
{
	struct vm_net *v = start("user");
	char path[] = "/tmp/vmdeck-capture-XXXXXX.pcap";
	int fd = mkstemps(path, 5);
	close(fd);
	unlink(path);
	struct error err;
	assert_int_equal(net_capture_stop(v->n, &err), -1);
	assert_string_equal(err.msg, "no capture is running");
	assert_int_equal(net_capture_start(v->n, path, &err), 0);
	assert_int_equal(net_capture_start(v->n, path, &err), -1);
	assert_true(stats(v).capturing);
	assert_int_equal(dhcp(v, 1).type, 2);
	resolve_gateway(v);
	assert_true(ping(v, GW, 7));
	assert_int_equal(net_capture_stop(v->n, &err), 0);
	struct net_stats s = stats(v);
	assert_false(s.capturing);
	assert_true(s.capture_packets >= 6);
	/* Traffic after the stop is not in the file. */
	assert_true(ping(v, GW, 8));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(tshark_lists(path, "dhcp", "DHCP Discover"));
	assert_true(tshark_lists(path, "dhcp", "DHCP Offer"));
	assert_true(tshark_lists(path, "arp", "10.0.2.2 is at 52:55:0a:00:02:02"));
	assert_true(tshark_lists(path, "icmp", "seq=7"));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -Y 'icmp.seq == 8' | grep -q .", path);
	assert_int_not_equal(system(cmd), 0);
	assert_int_equal(net_capture_start(v->n, "/nonexistent/dir/x.pcap", &err), -1);
	assert_string_equal(err.msg, "cannot create the capture file '/nonexistent/dir/x.pcap': No such file or "
				     "directory");
	unlink(path);
	stop(v);
}

static void test_two_vms_have_independent_nats(void **state)
{
	struct vm_net *a = start("user,restrict=on");
	struct vm_net *b = start("user");
	assert_int_equal(dhcp(a, 1).type, 2);
	assert_int_equal(dhcp(b, 1).type, 2);   /* both get 10.0.2.15 from their own server */
	resolve_gateway(a);
	resolve_gateway(b);
	uint16_t port;
	int s = udp_socket(&port);
	send_udp(a, GW, port, "from a");
	send_udp(b, GW, port, "from b");
	char buf[64];
	assert_int_equal(host_recv(s, buf, sizeof(buf), 2000), 6);
	assert_string_equal(buf, "from b");
	assert_true(host_recv(s, buf, sizeof(buf), 300) < 0);
	assert_int_equal(stats(a).tx_restricted, 1);
	assert_int_equal(stats(b).tx_restricted, 0);
	close(s);
	stop(a);
	stop(b);
}

/* The longest wait between two runs of a 10 ms timer. */
struct ticker {
	gint64 last, max_gap;
	unsigned ticks;
};

static gboolean tick(gpointer data)
{
	struct ticker *t = data;
	gint64 now = g_get_monotonic_time();
	if (t->last && now - t->last > t->max_gap)
		t->max_gap = now - t->last;
	t->last = now;
	t->ticks++;
	return G_SOURCE_CONTINUE;
}

struct flood {
	uint16_t port;
	unsigned datagrams;
};

static void *flood_port(void *arg)
{
	struct flood *fl = arg;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(fl->port) };
	char payload[1000];
	memset(payload, 'x', sizeof(payload));
	for (unsigned i = 0; i < fl->datagrams; i++)
		sendto(s, payload, sizeof(payload), MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a));
	close(s);
	return NULL;
}

/* A host flooding a forwarded UDP port while the guest takes nothing: the
 * backlog stays bounded, slirp stops reading, the loop stays responsive,
 * and traffic resumes when the guest posts buffers. */
static void test_rx_flood_is_bounded_and_loop_stays_responsive(void **state)
{
	uint16_t port = free_udp_port();
	char spec[64];
	snprintf(spec, sizeof(spec), "user,hostfwd=udp::%u-:5000", port);
	struct vm_net *v = start(spec);
	resolve_gateway(v);
	/* The driver starts over and posts no receive buffers. */
	uint8_t f[PKT_MAX];
	vfake_reset(&v->g.f);
	vfake_negotiate(&v->g.f, FEATURES);
	vfake_queue(&v->g.f, &v->g.rx, VIRTIO_NET_RXQ, 256);
	vfake_queue(&v->g.f, &v->g.tx, VIRTIO_NET_TXQ, 256);
	vfake_driver_ok(&v->g.f);
	struct ticker tk = { 0 };
	guint t = g_timeout_add(10, tick, &tk);
	struct flood fl = { port, 20000 };
	pthread_t th;
	pthread_create(&th, NULL, flood_port, &fl);
	nguest_loop(500);
	pthread_join(th, NULL);
	nguest_loop(100);
	g_source_remove(t);
	/* The loop kept serving its other sources all along. */
	if (getenv("VMDECK_TEST_VERBOSE") || tk.max_gap > 1000000)
		printf("a 10 ms timer waited at most %lld ms during the flood (%u ticks)\n",
		       (long long)tk.max_gap / 1000, tk.ticks);
	assert_true(tk.ticks >= 10);
	assert_true(tk.max_gap <= 1000000);     /* generous: a loaded 2-CPU host stalls ~0.4 s */
	/* slirp stopped reading once a frame waited: the kernel's socket
	 * buffer took the flood, not our memory, and nothing was dropped here. */
	struct net_stats st = stats(v);
	assert_true(st.dev.backlog >= 1);
	assert_true(st.dev.backlog_max < 16);
	assert_int_equal(st.dev.rx_dropped, 0);
	/* Buffers again: the waiting frames flow. */
	nguest_post_rx(&v->g, 64);
	unsigned got = 0;
	while (nguest_recv(&v->g, f, 200, NULL))
		got++;
	assert_true(got >= 10);
	stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_offers_the_qemu_addresses),
		cmocka_unit_test(test_other_network_and_mac),
		cmocka_unit_test(test_arp_and_ping_the_gateway),
		cmocka_unit_test(test_udp_reaches_the_host),
		cmocka_unit_test(test_udp_reply_comes_back),
		cmocka_unit_test(test_dns_is_forwarded_to_the_host_resolver),
		cmocka_unit_test(test_ipv6_router_advertises_the_qemu_prefix),
		cmocka_unit_test(test_restrict_drops_outbound_and_counts),
		cmocka_unit_test(test_hostfwd_listens_on_loopback_only_and_reaches_the_guest),
		cmocka_unit_test(test_hostfwd_added_and_removed_at_runtime),
		cmocka_unit_test(test_capture_at_runtime_is_read_by_tshark),
		cmocka_unit_test(test_two_vms_have_independent_nats),
		cmocka_unit_test(test_rx_flood_is_bounded_and_loop_stays_responsive),
	};
	return cmocka_run_group_tests_name("network backend (libslirp, in-process)", tests, NULL, NULL);
}
