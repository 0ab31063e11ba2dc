/* restrict=on's frame policy, frame by frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "net/net_restrict.h"
#include "tests/lib/netpkt.h"

static const struct pkt_addr me = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, { 10, 0, 2, 15 } };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static bool allows(const uint8_t *f, size_t n)
{
	struct net_addrs a;
	net_addrs_default(&a);
	return net_restrict_allows(&a, f, n);
}

static void test_ipv4(void **state)
{
	uint8_t f[PKT_MAX];
	const uint8_t gw[4] = { 10, 0, 2, 2 }, dns[4] = { 10, 0, 2, 3 }, out[4] = { 8, 8, 8, 8 };
	assert_true(allows(f, pkt_arp_request(f, &me, gw)));
	assert_true(allows(f, pkt_dhcp(f, me.mac, 1, 1, NULL)));
	assert_true(allows(f, pkt_icmp_echo(f, &me, gw_mac, gw, 1, 1)));
	assert_false(allows(f, pkt_icmp_echo(f, &me, gw_mac, out, 1, 1)));
	assert_false(allows(f, pkt_udp(f, &me, gw_mac, dns, 5000, 53, "q", 1)));     /* DNS: slirp refuses too */
	assert_false(allows(f, pkt_udp(f, &me, gw_mac, out, 5000, 53, "q", 1)));
	assert_false(allows(f, pkt_tcp(f, &me, gw_mac, gw, 5000, 22, 0x02, 1, 0, 100, NULL, 0)));
	assert_false(allows(f, pkt_tcp(f, &me, gw_mac, out, 5000, 80, 0x02, 1, 0, 100, NULL, 0)));
	/* Answers on connections that came in through a forward. */
	assert_true(allows(f, pkt_tcp(f, &me, gw_mac, gw, 80, 40000, 0x12, 1, 1, 100, NULL, 0)));
	assert_true(allows(f, pkt_tcp(f, &me, gw_mac, gw, 80, 40000, 0x18, 2, 1, 100, "x", 1)));
	assert_false(allows(f, pkt_tcp(f, &me, gw_mac, out, 80, 40000, 0x18, 2, 1, 100, "x", 1)));
	/* Truncated headers are not given the benefit of the doubt. */
	pkt_tcp(f, &me, gw_mac, gw, 80, 40000, 0x18, 2, 1, 100, NULL, 0);
	assert_false(allows(f, 14 + 19));
	assert_false(allows(f, 10));
	f[14] = 0x44;                                   /* IHL below 5 */
	assert_false(allows(f, 60));
}

static void test_ipv6_and_others(void **state)
{
	uint8_t f[128] = { 0 };
	memcpy(f, gw_mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x60;
	ip[6] = 58;                                     /* ICMPv6 */
	ip[24] = 0xff, ip[25] = 0x02, ip[39] = 2;        /* ff02::2, router solicitation */
	assert_true(allows(f, 14 + 40 + 8));
	ip[24] = 0xfe, ip[25] = 0xc0, ip[39] = 2;        /* fec0::2 */
	assert_true(allows(f, 14 + 40 + 8));
	ip[24] = 0x20, ip[25] = 0x01, ip[39] = 1;        /* 2001::1 */
	assert_false(allows(f, 14 + 40 + 8));
	ip[24] = 0xfe, ip[25] = 0xc0;
	ip[6] = 6;                                      /* TCP SYN to fec0::... */
	ip[40 + 13] = 0x02;
	assert_false(allows(f, 14 + 40 + 20));
	f[12] = 0x88, f[13] = 0xb5;                     /* an experimental ethertype */
	assert_false(allows(f, 60));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_and_others),
	};
	return cmocka_run_group_tests_name("restrict=on policy", tests, NULL, NULL);
}
