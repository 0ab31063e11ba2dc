#include <string.h>

#include "tests/lib/netpkt.h"

const uint8_t pkt_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t pkt_csum(const void *data, size_t len, uint32_t initial)
{
	uint32_t s = sum16(data, len, initial);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

static size_t arp(uint8_t *f, uint16_t op, const struct pkt_addr *from, const uint8_t *tha,
		  const uint8_t *tip, const uint8_t *dst)
{
	size_t o = eth(f, dst, from->mac, 0x0806);
	uint8_t *a = f + o;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, from->mac, 6);
	memcpy(a + 14, from->ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tip, 4);
	memset(a + 28, 0, 18);                  /* pad to the Ethernet minimum */
	return o + 46;
}

size_t pkt_arp_request(uint8_t *f, const struct pkt_addr *from, const uint8_t target_ip[4])
{
	static const uint8_t zero[6];
	return arp(f, 1, from, zero, target_ip, pkt_broadcast);
}

size_t pkt_arp_reply(uint8_t *f, const struct pkt_addr *from, const struct pkt_addr *to)
{
	return arp(f, 2, from, to->mac, to->ip, to->mac);
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)l4len);
	return sum16(ph, 12, 0);
}

/* Ethernet + IPv4 header for L4LEN bytes of PROTO; returns the L4 offset. */
static size_t ipv4(uint8_t *f, const struct pkt_addr *from, const uint8_t *to_mac, const uint8_t *to_ip,
		   uint8_t proto, size_t l4len)
{
	size_t o = eth(f, to_mac, from->mac, 0x0800);
	uint8_t *ip = f + o;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, from->ip, 4);
	memcpy(ip + 16, to_ip, 4);
	put16(ip + 10, pkt_csum(ip, 20, 0));
	return o + 20;
}

size_t pkt_udp(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
	       uint16_t sport, uint16_t dport, const void *payload, size_t len)
{
	size_t o = ipv4(f, from, to_mac, to_ip, 17, 8 + len);
	uint8_t *u = f + o;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (len)
		memcpy(u + 8, payload, len);
	uint16_t c = pkt_csum(u, 8 + len, pseudo_sum(f + 14, 17, 8 + len));
	put16(u + 6, c ? c : 0xffff);
	return o + 8 + len;
}

size_t pkt_icmp_echo(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
		     uint16_t id, uint16_t seq)
{
	size_t o = ipv4(f, from, to_mac, to_ip, 1, 8 + 32);
	uint8_t *c = f + o;
	memset(c, 0, 40);
	c[0] = 8;
	put16(c + 4, id);
	put16(c + 6, seq);
	for (int i = 0; i < 32; i++)
		c[8 + i] = (uint8_t)('a' + i % 26);
	put16(c + 2, pkt_csum(c, 40, 0));
	return o + 40;
}

size_t pkt_tcp(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
	       uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
	       const void *payload, size_t len)
{
	size_t o = ipv4(f, from, to_mac, to_ip, 6, 20 + len);
	uint8_t *t = f + o;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, window);
	if (len)
		memcpy(t + 20, payload, len);
	put16(t + 16, pkt_csum(t, 20 + len, pseudo_sum(f + 14, 6, 20 + len)));
	return o + 20 + len;
}

size_t pkt_dhcp(uint8_t *f, const uint8_t mac[6], uint32_t xid, uint8_t type, const uint8_t requested[4])
{
	uint8_t b[548];
	memset(b, 0, sizeof(b));
	b[0] = 1;                                /* BOOTREQUEST */
	b[1] = 1;                                /* Ethernet */
	b[2] = 6;
	put32(b + 4, xid);
	put16(b + 10, 0x8000);                   /* answer by broadcast */
	memcpy(b + 28, mac, 6);
	uint8_t *o = b + 236;
	put32(o, 0x63825363);                    /* magic cookie */
	o += 4;
	*o++ = 53, *o++ = 1, *o++ = type;
	if (requested) {
		*o++ = 50, *o++ = 4;
		memcpy(o, requested, 4);
		o += 4;
	}
	*o++ = 55, *o++ = 3, *o++ = 1, *o++ = 3, *o++ = 6;
	*o++ = 255;
	struct pkt_addr from = { .ip = { 0, 0, 0, 0 } };
	memcpy(from.mac, mac, 6);
	static const uint8_t all[4] = { 255, 255, 255, 255 };
	return pkt_udp(f, &from, pkt_broadcast, all, 68, 67, b, sizeof(b));
}

static bool parse_ipv4(const uint8_t *ip, size_t len, struct pkt_info *p)
{
	if (len < 20 || (ip[0] >> 4) != 4)
		return false;
	size_t ihl = (size_t)(ip[0] & 15) * 4, total = get16(ip + 2);
	if (ihl < 20 || total < ihl || total > len)
		return false;
	p->proto = ip[9];
	memcpy(p->src, ip + 12, 4);
	memcpy(p->dst, ip + 16, 4);
	p->ip_csum_ok = pkt_csum(ip, ihl, 0) == 0;
	const uint8_t *l4 = ip + ihl;
	size_t l4len = total - ihl;
	if (p->proto == 17 && l4len >= 8) {
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->l4_csum_ok = get16(l4 + 6) == 0 || pkt_csum(l4, l4len, pseudo_sum(ip, 17, l4len)) == 0;
		p->payload = l4 + 8;
		p->payload_len = l4len - 8;
	} else if (p->proto == 6 && l4len >= 20) {
		size_t off = (size_t)(l4[12] >> 4) * 4;
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->seq = get32(l4 + 4);
		p->ack = get32(l4 + 8);
		p->tcp_flags = l4[13];
		p->window = get16(l4 + 14);
		p->l4_csum_ok = pkt_csum(l4, l4len, pseudo_sum(ip, 6, l4len)) == 0;
		p->payload = l4 + (off <= l4len ? off : l4len);
		p->payload_len = off <= l4len ? l4len - off : 0;
	} else if (p->proto == 1 && l4len >= 8) {
		p->icmp_type = l4[0];
		p->icmp_id = get16(l4 + 4);
		p->icmp_seq = get16(l4 + 6);
		p->l4_csum_ok = pkt_csum(l4, l4len, 0) == 0;
	}
	return true;
}

bool pkt_parse(const uint8_t *f, size_t len, struct pkt_info *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 14)
		return false;
	memcpy(p->dst_mac, f, 6);
	memcpy(p->src_mac, f + 6, 6);
	p->type = get16(f + 12);
	if (p->type == 0x0806 && len >= 14 + 28) {
		p->arp_op = get16(f + 20);
		memcpy(p->arp_sha, f + 22, 6);
		memcpy(p->arp_spa, f + 28, 4);
		memcpy(p->arp_tpa, f + 38, 4);
		return true;
	}
	if (p->type == 0x0800)
		return parse_ipv4(f + 14, len - 14, p);
	return true;
}

static void option(const uint8_t *o, const uint8_t *end, uint8_t code, uint8_t *out, size_t len)
{
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			return;
		if (o[0] == code && o[1] >= len) {
			memcpy(out, o + 2, len);
			return;
		}
		o += 2 + o[1];
	}
}

bool pkt_parse_dhcp(const struct pkt_info *p, struct pkt_dhcp_info *d)
{
	memset(d, 0, sizeof(*d));
	if (p->type != 0x0800 || p->proto != 17 || p->sport != 67 || p->payload_len < 240)
		return false;
	const uint8_t *b = p->payload, *end = b + p->payload_len;
	if (b[0] != 2 || get32(b + 236) != 0x63825363)
		return false;
	d->xid = get32(b + 4);
	memcpy(d->yiaddr, b + 16, 4);
	option(b + 240, end, 53, &d->type, 1);
	option(b + 240, end, 54, d->server, 4);
	option(b + 240, end, 3, d->router, 4);
	option(b + 240, end, 6, d->dns, 4);
	option(b + 240, end, 1, d->netmask, 4);
	return d->type != 0;
}
