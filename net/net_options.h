/* `--net` specifications: "none", or "user" with options
 *   hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (repeatable)
 *   restrict=on|off, net=ADDR[/PREFIX], mac=XX:XX:XX:XX:XX:XX, capture=FILE,
 *   mtu=BYTES
 * Defaults follow QEMU's user networking (10.0.2.0/24, gateway .2, DNS .3,
 * DHCP from .15, MAC 52:54:00:12:34:56) except that a forward without a
 * host address listens on 127.0.0.1, not on every address, and that the
 * link's MTU is 65520, as passt and slirp4netns make it: the NAT ends every
 * TCP connection on the host, so large frames cost nothing outside, and a
 * guest that moves 64 KiB per frame does a fortieth of the per-packet work. */
#ifndef VMDECK_NET_OPTIONS_H
#define VMDECK_NET_OPTIONS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"

#define NET_MAX_FORWARDS 32
#define NET_DEFAULT_MTU  65520

enum net_mode { NET_NONE, NET_USER };

struct net_hostfwd {
	bool udp;
	struct in_addr host_addr;       /* 127.0.0.1 unless given */
	uint16_t host_port;
	struct in_addr guest_addr;      /* the DHCP address unless given */
	uint16_t guest_port;
};

/* The guest network's addresses, derived from net=. */
struct net_addrs {
	struct in_addr network, netmask, gateway, dns, dhcp_start;
	unsigned prefix;
};

struct net_options {
	enum net_mode mode;
	bool restricted;
	struct net_addrs addrs;
	uint8_t mac[6];
	struct net_hostfwd fwd[NET_MAX_FORWARDS];
	unsigned nr_fwd;
	char *capture;                  /* pcap file, or NULL */
	unsigned mtu;
};

/* Parses a --net value; errors are one sentence naming the part. */
int net_options_parse(const char *spec, struct net_options *opt, struct error *err);
void net_options_free(struct net_options *opt);
/* 10.0.2.0/24 and the addresses QEMU puts in it. */
void net_addrs_default(struct net_addrs *a);

/* "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" inside network A. */
int net_hostfwd_parse(const char *spec, const struct net_addrs *a, struct net_hostfwd *out,
		      struct error *err);
/* "[tcp|udp]:[HOSTADDR]:HOSTPORT", what removing a forward names (a full
 * forward specification is accepted too). */
int net_hostfwd_parse_host(const char *spec, struct net_hostfwd *out, struct error *err);
/* "tcp:127.0.0.1:8080-10.0.2.15:80" */
void net_hostfwd_format(const struct net_hostfwd *f, char *buf, size_t len);
bool net_hostfwd_same_host(const struct net_hostfwd *a, const struct net_hostfwd *b);

#endif
