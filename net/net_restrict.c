#include <arpa/inet.h>
#include <string.h>

#include "net/net_restrict.h"

#define ETH_HLEN 14
#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86dd
#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMPV6 58
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define BOOTP_SERVER 67

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* TCP that does not open a connection, or UDP to the DHCP server. */
static bool l4_allowed(unsigned proto, const uint8_t *l4, size_t len, bool first_fragment)
{
	if (!first_fragment)
		return true;          /* reassembly needs the first one, judged below */
	if (proto == PROTO_TCP)
		return len >= 14 && !((l4[13] & (TCP_SYN | TCP_ACK)) == TCP_SYN);
	if (proto == PROTO_UDP)
		return len >= 4 && get16(l4 + 2) == BOOTP_SERVER;
	return false;
}

static bool ipv4_allowed(const struct net_addrs *a, const uint8_t *ip, size_t len)
{
	if (len < 20 || (ip[0] >> 4) != 4)
		return false;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		return false;
	struct in_addr dst;
	memcpy(&dst.s_addr, ip + 16, 4);
	bool inside = (dst.s_addr & a->netmask.s_addr) == a->network.s_addr;
	bool limited_broadcast = dst.s_addr == INADDR_BROADCAST;
	if (!inside && !limited_broadcast)
		return false;
	unsigned proto = ip[9];
	bool first_fragment = !(get16(ip + 6) & 0x1fff);
	if (proto == PROTO_ICMP)
		return inside;        /* libslirp answers echo requests to the gateway */
	return l4_allowed(proto, ip + ihl, len - ihl, first_fragment);
}

/* Link-local and multicast destinations stay on the guest's link:
 * neighbour discovery and router solicitations.  The virtual prefix
 * (fec0::/64) is as in QEMU. */
static bool ipv6_allowed(const uint8_t *ip, size_t len)
{
	if (len < 40 || (ip[0] >> 4) != 6)
		return false;
	const uint8_t *dst = ip + 24;
	bool link = (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) || dst[0] == 0xff;
	bool site = dst[0] == 0xfe && (dst[1] & 0xc0) == 0xc0;   /* fec0::/10 */
	if (!link && !site)
		return false;
	if (ip[6] == PROTO_ICMPV6)
		return true;
	return l4_allowed(ip[6], ip + 40, len - 40, true);
}

bool net_restrict_allows(const struct net_addrs *a, const uint8_t *frame, size_t len)
{
	if (len < ETH_HLEN)
		return false;
	switch (get16(frame + 12)) {
	case ETH_P_ARP:
		return true;
	case ETH_P_IP:
		return ipv4_allowed(a, frame + ETH_HLEN, len - ETH_HLEN);
	case ETH_P_IPV6:
		return ipv6_allowed(frame + ETH_HLEN, len - ETH_HLEN);
	default:
		return false;
	}
}
