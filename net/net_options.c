#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_options.h"
#include "src/kvopts.h"
#include "vmm/virtio_net.h"

#define OPT "--net"
#define MIN_HOSTS_PREFIX 27      /* .15 (the DHCP start) must be inside */

static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void derive(struct net_addrs *a, uint32_t network, unsigned prefix)
{
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	a->prefix = prefix;
	a->network.s_addr = htonl(network);
	a->netmask.s_addr = htonl(mask);
	a->gateway.s_addr = htonl(network + 2);
	a->dns.s_addr = htonl(network + 3);
	a->dhcp_start.s_addr = htonl(network + 15);
}

void net_addrs_default(struct net_addrs *a)
{
	derive(a, 0x0a000200u, 24);
}

static int parse_network(const char *s, struct net_addrs *a, struct error *err)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix = 24;
	struct in_addr in;
	if (n >= sizeof(addr))
		return error_set(err, OPT ": net='%s' is not ADDRESS/PREFIX, as in net=10.0.2.0/24", s);
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (slash) {
		char *end;
		prefix = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || prefix < 1 || prefix > MIN_HOSTS_PREFIX)
			return error_set(err, OPT ": net='%s' needs a prefix length from 1 to %d", s,
					 MIN_HOSTS_PREFIX);
	}
	if (inet_pton(AF_INET, addr, &in) != 1)
		return error_set(err, OPT ": net='%s' is not ADDRESS/PREFIX, as in net=10.0.2.0/24", s);
	uint32_t host = ntohl(in.s_addr), mask = 0xffffffffu << (32 - prefix);
	if (host & ~mask) {
		struct in_addr net = { htonl(host & mask) };
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &net, buf, sizeof(buf));
		return error_set(err, OPT ": net='%s' has host bits set; the network would be %s/%lu", s, buf,
				 prefix);
	}
	derive(a, host, (unsigned)prefix);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6], struct error *err)
{
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);
		if (lo < 0 || (i < 5 && p[2] != ':') || (i == 5 && p[2]))
			return error_set(err, OPT ": mac='%s' is not six hex bytes such as 52:54:00:12:34:56", s);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return error_set(err, OPT ": mac='%s' is a multicast address; the first byte must be even", s);
	static const uint8_t zero[6];
	if (!memcmp(mac, zero, 6))
		return error_set(err, OPT ": mac='%s' is all zeros", s);
	return 0;
}

static int parse_mtu(const char *s, unsigned *mtu, struct error *err)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || *s == '-' || v < VIRTIO_NET_MIN_MTU || v > VIRTIO_NET_MAX_MTU)
		return error_set(err, OPT ": mtu='%s' is not a number of bytes from %u to %u", s,
				 VIRTIO_NET_MIN_MTU, VIRTIO_NET_MAX_MTU);
	*mtu = (unsigned)v;
	return 0;
}

/* Forwards are parsed last: their guest addresses depend on net=. */
static int parse_forwards(struct kvopts *o, struct net_options *opt, struct error *err)
{
	for (unsigned i = 0; i < o->nr; i++) {
		struct kvopt *kv = &o->items[i];
		if (!kv->key || strcmp(kv->key, "hostfwd"))
			continue;
		kv->used = true;
		if (opt->nr_fwd >= NET_MAX_FORWARDS)
			return error_set(err, OPT " takes at most %d hostfwd options", NET_MAX_FORWARDS);
		struct net_hostfwd f;
		struct error why;
		if (net_hostfwd_parse(kv->value, &opt->addrs, &f, &why) < 0)
			return error_set(err, OPT ": %s", why.msg);
		for (unsigned j = 0; j < opt->nr_fwd; j++)
			if (net_hostfwd_same_host(&opt->fwd[j], &f))
				return error_set(err, OPT ": hostfwd '%s' uses a host port another hostfwd already "
						 "takes", kv->value);
		opt->fwd[opt->nr_fwd++] = f;
	}
	return 0;
}

static int parse_user(struct kvopts *o, struct net_options *opt, struct error *err)
{
	const char *net = kvopts_get(o, "net"), *mac = kvopts_get(o, "mac"), *capture = kvopts_get(o, "capture");
	const char *mtu = kvopts_get(o, "mtu");
	if (kvopts_get_bool(o, "restrict", false, &opt->restricted, OPT, err) < 0)
		return -1;
	if (mtu && parse_mtu(mtu, &opt->mtu, err) < 0)
		return -1;
	if (net && parse_network(net, &opt->addrs, err) < 0)
		return -1;
	if (mac && parse_mac(mac, opt->mac, err) < 0)
		return -1;
	if (capture && !*capture)
		return error_set(err, OPT ": capture= needs a file name");
	if (parse_forwards(o, opt, err) < 0 || kvopts_check_used(o, OPT, err) < 0)
		return -1;
	if (capture && !(opt->capture = strdup(capture)))
		return error_set(err, "out of memory");
	return 0;
}

int net_options_parse(const char *spec, struct net_options *opt, struct error *err)
{
	struct kvopts o;
	memset(opt, 0, sizeof(*opt));
	net_addrs_default(&opt->addrs);
	memcpy(opt->mac, default_mac, 6);
	opt->mtu = NET_DEFAULT_MTU;
	if (kvopts_parse(&o, spec, OPT, err) < 0) {
		kvopts_free(&o);
		return -1;
	}
	const char *mode = kvopts_head(&o);
	int r;
	if (mode && !strcmp(mode, "none")) {
		opt->mode = NET_NONE;
		r = o.nr > 1 ? error_set(err, OPT " none takes no options") : 0;
	} else if (mode && !strcmp(mode, "user")) {
		opt->mode = NET_USER;
		r = parse_user(&o, opt, err);
	} else {
		r = error_set(err, OPT " takes none or user[,OPTIONS], not '%s'", mode ? mode : spec);
	}
	kvopts_free(&o);
	if (r < 0)
		net_options_free(opt);
	return r;
}

void net_options_free(struct net_options *opt)
{
	free(opt->capture);
	opt->capture = NULL;
}
