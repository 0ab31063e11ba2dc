/* Port-forward specifications, in QEMU's hostfwd syntax. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_options.h"

#define HOSTFWD_SYNTAX "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, as in hostfwd=tcp::8080-:80"

/* Cuts S at the first SEP: returns the text before it (in BUF) and moves
 * *S past it; false if there is no SEP. */
static bool take_until(const char **s, char sep, char *buf, size_t len)
{
	const char *p = strchr(*s, sep);
	if (!p || (size_t)(p - *s) >= len)
		return false;
	memcpy(buf, *s, (size_t)(p - *s));
	buf[p - *s] = '\0';
	*s = p + 1;
	return true;
}

static bool parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	if (!*s || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static int parse_proto(const char *spec, const char *s, struct net_hostfwd *f, struct error *err)
{
	if (!*s || !strcmp(s, "tcp"))
		f->udp = false;
	else if (!strcmp(s, "udp"))
		f->udp = true;
	else
		return error_set(err, "hostfwd '%s' has protocol '%s'; it takes tcp or udp", spec, s);
	return 0;
}

static int parse_addr(const char *spec, const char *what, const char *s, struct in_addr *out,
		      struct error *err)
{
	if (inet_pton(AF_INET, s, out) != 1)
		return error_set(err, "hostfwd '%s' has %s address '%s', which is not an IPv4 address", spec,
				 what, s);
	return 0;
}

static int check_port(const char *spec, const char *what, const char *s, uint16_t *out,
		      struct error *err)
{
	if (!parse_port(s, out))
		return error_set(err, "hostfwd '%s' has %s port '%s', which is not a port number from 1 to 65535",
				 spec, what, s);
	return 0;
}

static unsigned colons(const char *s, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		c += s[i] == ':';
	return c;
}

/* The shape, before any field is looked at, so that a missing colon is
 * reported as such and not as a strange address. */
static bool well_shaped(const char *spec, bool guest_half)
{
	const char *dash = strchr(spec, '-');
	if (!guest_half)
		return colons(spec, dash ? (size_t)(dash - spec) : strlen(spec)) == 2;
	return dash && colons(spec, (size_t)(dash - spec)) == 2 && colons(dash + 1, strlen(dash + 1)) == 1;
}

/* The host half: "PROTO:ADDR:PORT" followed by END (the end of the string
 * or '-').  Moves *S past it. */
static int parse_host_half(const char *spec, const char **s, struct net_hostfwd *f, struct error *err)
{
	char proto[8], addr[64], port[16];
	if (!take_until(s, ':', proto, sizeof(proto)) || !take_until(s, ':', addr, sizeof(addr)))
		return error_set(err, "hostfwd '%s' is not " HOSTFWD_SYNTAX, spec);
	size_t n = strcspn(*s, "-");
	if (n >= sizeof(port))
		return error_set(err, "hostfwd '%s' is not " HOSTFWD_SYNTAX, spec);
	memcpy(port, *s, n);
	port[n] = '\0';
	*s += n;
	f->host_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (parse_proto(spec, proto, f, err) < 0 ||
	    (*addr && parse_addr(spec, "host", addr, &f->host_addr, err) < 0) ||
	    check_port(spec, "host", port, &f->host_port, err) < 0)
		return -1;
	return 0;
}

int net_hostfwd_parse(const char *spec, const struct net_addrs *a, struct net_hostfwd *out,
		      struct error *err)
{
	struct net_hostfwd f = { 0 };
	const char *s = spec;
	char addr[64];
	if (!well_shaped(spec, true))
		return error_set(err, "hostfwd '%s' is not " HOSTFWD_SYNTAX, spec);
	if (parse_host_half(spec, &s, &f, err) < 0)
		return -1;
	if (*s != '-' || (s++, !take_until(&s, ':', addr, sizeof(addr))))
		return error_set(err, "hostfwd '%s' is not " HOSTFWD_SYNTAX, spec);
	f.guest_addr = a->dhcp_start;
	if (*addr && parse_addr(spec, "guest", addr, &f.guest_addr, err) < 0)
		return -1;
	if ((f.guest_addr.s_addr & a->netmask.s_addr) != a->network.s_addr) {
		char net[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a->network, net, sizeof(net));
		return error_set(err, "hostfwd '%s' has guest address '%s', outside the guest network %s/%u",
				 spec, addr, net, a->prefix);
	}
	if (check_port(spec, "guest", s, &f.guest_port, err) < 0)
		return -1;
	*out = f;
	return 0;
}

int net_hostfwd_parse_host(const char *spec, struct net_hostfwd *out, struct error *err)
{
	struct net_hostfwd f = { 0 };
	const char *s = spec;
	if (!well_shaped(spec, false))
		return error_set(err, "hostfwd '%s' is not [tcp|udp]:[HOSTADDR]:HOSTPORT, as in tcp::8080", spec);
	if (parse_host_half(spec, &s, &f, err) < 0)
		return -1;
	if (*s && *s != '-')
		return error_set(err, "hostfwd '%s' is not [tcp|udp]:[HOSTADDR]:HOSTPORT, as in tcp::8080", spec);
	*out = f;
	return 0;
}

void net_hostfwd_format(const struct net_hostfwd *f, char *buf, size_t len)
{
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
	inet_ntop(AF_INET, &f->guest_addr, guest, sizeof(guest));
	snprintf(buf, len, "%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", host, f->host_port, guest,
		 f->guest_port);
}

bool net_hostfwd_same_host(const struct net_hostfwd *a, const struct net_hostfwd *b)
{
	return a->udp == b->udp && a->host_addr.s_addr == b->host_addr.s_addr &&
	       a->host_port == b->host_port;
}
