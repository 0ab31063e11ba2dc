/* --net parsing: defaults, forwards, and one sentence for each mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "net/net_options.h"

static void expect_error(const char *spec, const char *want)
{
	struct net_options opt;
	struct error err;
	if (net_options_parse(spec, &opt, &err) == 0) {
		printf("'%s' was accepted\n", spec);
		fail();
	}
	if (strcmp(err.msg, want)) {
		printf("'%s':\n  got  %s\n  want %s\n", spec, err.msg, want);
		fail();
	}
	assert_null(strchr(err.msg, '\n'));
}

static struct net_options parse_ok(const char *spec)
{
	struct net_options opt;
	struct error err;
	if (net_options_parse(spec, &opt, &err) < 0) {
		printf("'%s': %s\n", spec, err.msg);
		fail();
	}
	return opt;
}

static const char *ip(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;
	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
}

static void test_defaults_are_qemus(void **state)
{
	struct net_options o = parse_ok("user");
	assert_int_equal(o.mode, NET_USER);
	assert_string_equal(ip(o.addrs.network), "10.0.2.0");
	assert_string_equal(ip(o.addrs.netmask), "255.255.255.0");
	assert_string_equal(ip(o.addrs.gateway), "10.0.2.2");
	assert_string_equal(ip(o.addrs.dns), "10.0.2.3");
	assert_string_equal(ip(o.addrs.dhcp_start), "10.0.2.15");
	assert_memory_equal(o.mac, ((uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }), 6);
	assert_false(o.restricted);
	assert_int_equal(o.nr_fwd, 0);
	assert_null(o.capture);
	assert_int_equal(o.mtu, 65520);          /* not QEMU's: see net_options.h */
	net_options_free(&o);
	o = parse_ok("none");
	assert_int_equal(o.mode, NET_NONE);
}

static void test_forwards(void **state)
{
	struct net_options o = parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=udp:0.0.0.0:5353-10.0.2.20:53,"
					"hostfwd=::2222-:22");
	assert_int_equal(o.nr_fwd, 3);
	assert_false(o.fwd[0].udp);
	assert_string_equal(ip(o.fwd[0].host_addr), "127.0.0.1");   /* not every address */
	assert_int_equal(o.fwd[0].host_port, 8080);
	assert_string_equal(ip(o.fwd[0].guest_addr), "10.0.2.15");
	assert_int_equal(o.fwd[0].guest_port, 80);
	assert_true(o.fwd[1].udp);
	assert_string_equal(ip(o.fwd[1].host_addr), "0.0.0.0");     /* when asked */
	assert_string_equal(ip(o.fwd[1].guest_addr), "10.0.2.20");
	assert_int_equal(o.fwd[1].guest_port, 53);
	assert_false(o.fwd[2].udp);                                  /* tcp by default */
	char buf[96];
	net_hostfwd_format(&o.fwd[1], buf, sizeof(buf));
	assert_string_equal(buf, "udp:0.0.0.0:5353-10.0.2.20:53");
	net_options_free(&o);
}

static void test_network_mac_restrict_capture(void **state)
{
	/* The forward's default guest address follows net=, in any order. */
	struct net_options o = parse_ok("user,hostfwd=tcp::1-:2,net=192.168.76.0/22,mac=02:00:00:AA:bb:01,"
					"restrict=on,capture=a,,b.pcap");
	assert_string_equal(ip(o.addrs.network), "192.168.76.0");
	assert_string_equal(ip(o.addrs.netmask), "255.255.252.0");
	assert_string_equal(ip(o.addrs.gateway), "192.168.76.2");
	assert_string_equal(ip(o.addrs.dns), "192.168.76.3");
	assert_string_equal(ip(o.fwd[0].guest_addr), "192.168.76.15");
	assert_memory_equal(o.mac, ((uint8_t[]){ 0x02, 0x00, 0x00, 0xaa, 0xbb, 0x01 }), 6);
	assert_true(o.restricted);
	assert_string_equal(o.capture, "a,b.pcap");
	net_options_free(&o);
	o = parse_ok("user,net=10.9.0.0");
	assert_int_equal(o.addrs.prefix, 24);
	net_options_free(&o);
}

static void test_mode_errors(void **state)
{
	expect_error("tap", "--net takes none or user[,OPTIONS], not 'tap'");
	expect_error("hostfwd=tcp::1-:2", "--net takes none or user[,OPTIONS], not 'hostfwd=tcp::1-:2'");
	expect_error("none,restrict=on", "--net none takes no options");
	expect_error("user,foo=1", "--net has no option 'foo'");
	expect_error("user,restrict=maybe", "--net: restrict takes on or off, not 'maybe'");
	expect_error("user,capture=", "--net: capture= needs a file name");
}

static void test_hostfwd_errors_are_one_sentence(void **state)
{
	const char *syntax = "is not [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, as in hostfwd=tcp::8080-:80";
	char want[256];
	const char *shapes[] = { "tcp:8080-:80", "tcp::8080", "tcp::8080:80", "8080:80", "tcp::80-:8:0", "" };
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char spec[64];
		snprintf(spec, sizeof(spec), "user,hostfwd=%s", shapes[i]);
		snprintf(want, sizeof(want), "--net: hostfwd '%s' %s", shapes[i], syntax);
		expect_error(spec, want);
	}
	expect_error("user,hostfwd=sctp::1-:2", "--net: hostfwd 'sctp::1-:2' has protocol 'sctp'; it takes tcp or udp");
	expect_error("user,hostfwd=tcp:localhost:8080-:80",
		     "--net: hostfwd 'tcp:localhost:8080-:80' has host address 'localhost', which is not an IPv4 address");
	expect_error("user,hostfwd=tcp::0-:80",
		     "--net: hostfwd 'tcp::0-:80' has host port '0', which is not a port number from 1 to 65535");
	expect_error("user,hostfwd=tcp::65536-:80",
		     "--net: hostfwd 'tcp::65536-:80' has host port '65536', which is not a port number from 1 to 65535");
	expect_error("user,hostfwd=tcp::80-:",
		     "--net: hostfwd 'tcp::80-:' has guest port '', which is not a port number from 1 to 65535");
	expect_error("user,hostfwd=tcp::80-:+1",
		     "--net: hostfwd 'tcp::80-:+1' has guest port '+1', which is not a port number from 1 to 65535");
	expect_error("user,hostfwd=tcp::80-1.2.3:80",
		     "--net: hostfwd 'tcp::80-1.2.3:80' has guest address '1.2.3', which is not an IPv4 address");
	expect_error("user,hostfwd=tcp::80-10.0.3.1:80",
		     "--net: hostfwd 'tcp::80-10.0.3.1:80' has guest address '10.0.3.1', outside the guest network 10.0.2.0/24");
	expect_error("user,hostfwd=tcp::8080-:80,hostfwd=tcp:127.0.0.1:8080-:81",
		     "--net: hostfwd 'tcp:127.0.0.1:8080-:81' uses a host port another hostfwd already takes");
	/* The same port over the other protocol is another socket. */
	struct net_options o = parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=udp::8080-:80");
	net_options_free(&o);
	char many[33 * 24 + 8] = "user";
	for (int i = 1; i <= 31; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), ",hostfwd=::%d-:1", 1000 + i);
	o = parse_ok(many);
	assert_int_equal(o.nr_fwd, 31);
	net_options_free(&o);
	strcat(many, ",hostfwd=::2000-:1");
	expect_error(many, "--net has more than 32 options");
}

static void test_network_and_mac_errors(void **state)
{
	expect_error("user,net=10.0.3.5/24", "--net: net='10.0.3.5/24' has host bits set; the network would be 10.0.3.0/24");
	expect_error("user,net=10.0.3.0/28", "--net: net='10.0.3.0/28' needs a prefix length from 1 to 27");
	expect_error("user,net=10.0.3.0/", "--net: net='10.0.3.0/' needs a prefix length from 1 to 27");
	expect_error("user,net=10.0.3", "--net: net='10.0.3' is not ADDRESS/PREFIX, as in net=10.0.2.0/24");
	expect_error("user,mac=01:00:5e:00:00:01",
		     "--net: mac='01:00:5e:00:00:01' is a multicast address; the first byte must be even");
	expect_error("user,mac=52:54:00:12:34", "--net: mac='52:54:00:12:34' is not six hex bytes such as 52:54:00:12:34:56");
	expect_error("user,mac=52:54:00:12:34:56:78",
		     "--net: mac='52:54:00:12:34:56:78' is not six hex bytes such as 52:54:00:12:34:56");
	expect_error("user,mac=52-54-00-12-34-56",
		     "--net: mac='52-54-00-12-34-56' is not six hex bytes such as 52:54:00:12:34:56");
	expect_error("user,mac=00:00:00:00:00:00", "--net: mac='00:00:00:00:00:00' is all zeros");
}

static void test_mtu(void **state)
{
	struct net_options o = parse_ok("user,mtu=1500");
	assert_int_equal(o.mtu, 1500);
	o = parse_ok("user,mtu=1280");
	assert_int_equal(o.mtu, 1280);
	o = parse_ok("user,mtu=65520");
	assert_int_equal(o.mtu, 65520);
	expect_error("user,mtu=1279", "--net: mtu='1279' is not a number of bytes from 1280 to 65520");
	expect_error("user,mtu=65521", "--net: mtu='65521' is not a number of bytes from 1280 to 65520");
	expect_error("user,mtu=9k", "--net: mtu='9k' is not a number of bytes from 1280 to 65520");
	expect_error("user,mtu=", "--net: mtu='' is not a number of bytes from 1280 to 65520");
	expect_error("user,mtu=-1500", "--net: mtu='-1500' is not a number of bytes from 1280 to 65520");
}

static void test_forward_removal_syntax(void **state)
{
	struct net_hostfwd f;
	struct error err;
	assert_int_equal(net_hostfwd_parse_host("tcp::8080", &f, &err), 0);
	assert_false(f.udp);
	assert_int_equal(f.host_port, 8080);
	assert_string_equal(ip(f.host_addr), "127.0.0.1");
	assert_int_equal(net_hostfwd_parse_host("udp:0.0.0.0:53", &f, &err), 0);
	assert_true(f.udp);
	assert_string_equal(ip(f.host_addr), "0.0.0.0");
	assert_int_equal(net_hostfwd_parse_host("tcp::8080-:80", &f, &err), 0);   /* the whole forward */
	assert_int_equal(net_hostfwd_parse_host("tcp:8080", &f, &err), -1);
	assert_string_equal(err.msg, "hostfwd 'tcp:8080' is not [tcp|udp]:[HOSTADDR]:HOSTPORT, as in tcp::8080");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_qemus),
		cmocka_unit_test(test_forwards),
		cmocka_unit_test(test_network_mac_restrict_capture),
		cmocka_unit_test(test_mode_errors),
		cmocka_unit_test(test_hostfwd_errors_are_one_sentence),
		cmocka_unit_test(test_network_and_mac_errors),
		cmocka_unit_test(test_forward_removal_syntax),
		cmocka_unit_test(test_mtu),
	};
	return cmocka_run_group_tests_name("--net options", tests, NULL, NULL);
}
