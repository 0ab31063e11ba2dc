/* Building and reading the few frames the network tests exchange: ARP,
 * IPv4 with UDP, TCP and ICMP echo, DHCP. */
#ifndef TESTS_NETPKT_H
#define TESTS_NETPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

extern const uint8_t pkt_broadcast[6];

struct pkt_addr {
	uint8_t mac[6];
	uint8_t ip[4];
};

size_t pkt_arp_request(uint8_t *f, const struct pkt_addr *from, const uint8_t target_ip[4]);
size_t pkt_arp_reply(uint8_t *f, const struct pkt_addr *from, const struct pkt_addr *to);
size_t pkt_udp(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
	       uint16_t sport, uint16_t dport, const void *payload, size_t len);
size_t pkt_icmp_echo(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
		     uint16_t id, uint16_t seq);
size_t pkt_tcp(uint8_t *f, const struct pkt_addr *from, const uint8_t to_mac[6], const uint8_t to_ip[4],
	       uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
	       const void *payload, size_t len);
/* DHCPDISCOVER (TYPE 1) or DHCPREQUEST (TYPE 3, asking for REQUESTED). */
size_t pkt_dhcp(uint8_t *f, const uint8_t mac[6], uint32_t xid, uint8_t type, const uint8_t requested[4]);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct pkt_info {
	uint8_t dst_mac[6], src_mac[6];
	uint16_t type;
	/* ARP */
	uint16_t arp_op;
	uint8_t arp_sha[6], arp_spa[4], arp_tpa[4];
	/* IPv4 */
	uint8_t proto, src[4], dst[4];
	bool ip_csum_ok, l4_csum_ok;
	uint16_t sport, dport;          /* UDP, TCP */
	uint8_t icmp_type;
	uint16_t icmp_id, icmp_seq;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;
	const uint8_t *payload;
	size_t payload_len;
};

bool pkt_parse(const uint8_t *f, size_t len, struct pkt_info *p);

struct pkt_dhcp_info {
	uint8_t type;                   /* 2 OFFER, 5 ACK */
	uint32_t xid;
	uint8_t yiaddr[4], server[4], router[4], dns[4], netmask[4];
};
bool pkt_parse_dhcp(const struct pkt_info *p, struct pkt_dhcp_info *d);

uint16_t pkt_csum(const void *data, size_t len, uint32_t initial);

#endif
