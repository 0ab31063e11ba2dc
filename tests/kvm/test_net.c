/* Host KVM tier, network: the tiny guest g_net drives virtio-net at the
 * register level against `vmdeck run --net user`; results are checked on
 * the serial output, with host sockets, /proc/net/tcp and tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "tests/lib/testlib.h"

#define TIMEOUT_MS 30000
#define SKIP_WITHOUT_KVM() do { if (!kvm_usable()) skip(); } while (0)

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		printf("expected \"%s\" in:\n%s\n", needle, hay);
		fail();
	}
}

/* Runs g_net.elf with the given extra arguments (NULL-terminated). */
static void run_guest(struct spawn_result *r, ...)
{
	char *argv[32] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_net.elf"),
			   "--mem", "64M" };
	int n = 6;
	va_list ap;
	va_start(ap, r);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(spawn_run(argv, NULL, NULL, TIMEOUT_MS, r), 0);
	if (r->status != 0)
		printf("--- guest output ---\n%s--- vmdeck stderr ---\n%s\n", r->out, r->err);
}

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

static void test_dhcp_arp_ping_and_capture(void **state)
{
	SKIP_WITHOUT_KVM();
	char path[] = "/tmp/vmdeck-net-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char opt[128];
	snprintf(opt, sizeof(opt), "user,capture=%s", path);
	struct spawn_result r;
	run_guest(&r, "--net", opt, NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "net: mac 52:54:00:12:34:56\n");
	assert_has(r.out, "net: link up\n");
	assert_has(r.out, "net: dhcp offer 10.0.2.15 server 10.0.2.2 router 10.0.2.2 dns 10.0.2.3\n");
	assert_has(r.out, "net: arp 10.0.2.2 is at 52:55:0a:00:02:02\n");
	assert_has(r.out, "net: ping 10.0.2.2 reply seq 1 checksum ok\n");
	assert_has(r.out, "net: device ok\n");
	assert_null(strstr(r.out, "num_buffers"));
	assert_string_equal(r.err, "");
	spawn_free(&r);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The capture is a pcap that tshark reads without complaint. */
	char *argv[] = { "tshark", "-r", path, "-Y", "dhcp || arp || icmp", NULL };
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "0.0.0.0 → 255.255.255.255 DHCP");
	assert_has(r.out, "DHCP Discover - Transaction ID 0x7e570001");
	assert_has(r.out, "10.0.2.2 → 255.255.255.255 DHCP");
	assert_has(r.out, "DHCP Offer    - Transaction ID 0x7e570001");
	assert_has(r.out, "Who has 10.0.2.2? Tell 10.0.2.15");
	assert_has(r.out, "10.0.2.2 is at 52:55:0a:00:02:02");
	assert_has(r.out, "Echo (ping) reply");
	assert_null(strstr(r.err, "appears to have been cut short"));
	spawn_free(&r);
	unlink(path);
}

/* Outside truth: a datagram to 10.0.2.2:PORT arrives on the host's
 * 127.0.0.1:PORT; with restrict=on it does not, while DHCP still works. */
static void test_udp_reaches_the_host_unless_restricted(void **state)
{
	SKIP_WITHOUT_KVM();
	for (int restricted = 0; restricted <= 1; restricted++) {
		uint16_t port;
		int s = udp_socket(&port);
		char cmdline[64];
		snprintf(cmdline, sizeof(cmdline), "udp=%u", port);
		struct spawn_result r;
		run_guest(&r, "--net", restricted ? "user,restrict=on" : "user", "--cmdline", cmdline, NULL);
		assert_int_equal(r.status, 0);
		assert_has(r.out, "net: dhcp offer 10.0.2.15");
		assert_has(r.out, "net: ping 10.0.2.2 reply seq 1");
		assert_has(r.out, "net: udp sent");
		char buf[64] = "";
		ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
		if (restricted) {
			assert_int_equal(n, -1);
			assert_int_equal(errno, EAGAIN);
			/* The restricted offer names no router and no DNS server. */
			assert_null(strstr(r.out, "router"));
		} else {
			assert_int_equal(n, 25);
			buf[n] = '\0';
			assert_string_equal(buf, "hello from the tiny guest");
		}
		close(s);
		spawn_free(&r);
	}
}

struct echo {
	int s;
	ssize_t got;                  /* the guest's datagram, -1 if none came */
};

/* Answers the guest's first datagram with ECHO_BYTES bytes of the pattern
 * g_net checks, to where it came from (slirp's socket for the guest). */
#define ECHO_BYTES 3000
static void *echo_back(void *arg)
{
	struct echo *e = arg;
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	char in[64];
	e->got = -1;
	for (int i = 0; i < 800 && e->got < 0; i++) {
		e->got = recvfrom(e->s, in, sizeof(in), 0, (struct sockaddr *)&from, &len);
		if (e->got < 0)
			usleep(25000);
	}
	if (e->got > 0) {
		static uint8_t out[ECHO_BYTES];
		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7 + 1);
		sendto(e->s, out, sizeof(out), 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

/* The tiny guest's driver does not take VIRTIO_NET_F_MTU, so it keeps the
 * classic 1500 bytes while the card's link (and libslirp) has 65520: a
 * 3000-byte answer from the host reaches it in three IPv4 fragments, each
 * in one of its 2048-byte buffers, and puts itself back together. */
static void test_large_udp_reaches_a_driver_without_the_mtu_feature_in_fragments(void **state)
{
	SKIP_WITHOUT_KVM();
	uint16_t port;
	struct echo e = { .s = udp_socket(&port) };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, echo_back, &e), 0);
	char cmdline[64];
	snprintf(cmdline, sizeof(cmdline), "echo=%u", port);
	struct spawn_result r;
	run_guest(&r, "--net", "user", "--cmdline", cmdline, NULL);
	pthread_join(th, NULL);
	assert_int_equal(e.got, 25);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "net: udp echo 3000 bytes in 3 fragments, checksum ok\n");
	assert_null(strstr(r.out, "num_buffers"));
	close(e.s);
	spawn_free(&r);
}

struct forward_check {
	uint16_t port;
	char spec[64];
	char listeners[256];          /* addresses listening on the port, hex */
	int second_status;
	char second_err[512];
	int connect_errno;
	int fd;                       /* the connection, open until the VM is done */
};

/* Runs beside the VM: waits for the forward, looks at it, tries a second
 * VM on the same port, then connects (which makes the guest see a SYN). */
static void *check_forward(void *arg)
{
	struct forward_check *c = arg;
	for (int i = 0; i < 400 && !c->listeners[0]; i++) {
		tl_tcp_listeners(c->port, c->listeners, sizeof(c->listeners));
		if (!c->listeners[0])
			usleep(25000);
	}
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_net.elf"), "--mem", "64M",
			 "--net", c->spec, NULL };
	struct spawn_result r;
	if (spawn_run(argv, NULL, NULL, TIMEOUT_MS, &r) == 0) {
		c->second_status = r.status;
		snprintf(c->second_err, sizeof(c->second_err), "%s", r.err);
		spawn_free(&r);
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(c->port) };
	c->connect_errno = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
	c->fd = s;                    /* closing it would make slirp give up the SYN */
	return NULL;
}

static void test_hostfwd_on_loopback_reaches_the_guest_and_refuses_a_second_bind(void **state)
{
	SKIP_WITHOUT_KVM();
	struct forward_check c = { .port = tl_free_tcp_port() };
	snprintf(c.spec, sizeof(c.spec), "user,hostfwd=tcp::%u-:80", c.port);
	vmdeck_bin();
	guest_path("g_net.elf");      /* resolved before the thread shares them */
	pthread_t t;
	pthread_create(&t, NULL, check_forward, &c);
	struct spawn_result r;
	run_guest(&r, "--net", c.spec, "--cmdline", "wait=syn", NULL);
	pthread_join(t, NULL);
	close(c.fd);
	if (r.status != 0)
		printf("listeners '%s', second run %d '%s', connect errno %d\n", c.listeners, c.second_status,
		       c.second_err, c.connect_errno);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "net: waiting for a syn");
	assert_has(r.out, "net: syn to port 80 from 10.0.2.2\n");
	spawn_free(&r);
	assert_string_equal(c.listeners, "0100007F ");          /* 127.0.0.1 and nothing else */
	assert_int_equal(c.connect_errno, 0);
	char want[160];
	snprintf(want, sizeof(want), "vmdeck run: cannot forward tcp:127.0.0.1:%u-10.0.2.15:80: Address already in use\n",
		 c.port);
	assert_int_equal(c.second_status, 2);
	assert_string_equal(c.second_err, want);
	char after[64];
	tl_tcp_listeners(c.port, after, sizeof(after));
	assert_string_equal(after, "");                         /* closed with the VM */
}

/* A driver that misbehaves is dropped, then refused until it resets the
 * device; the VMM says so once and carries on, and so does the network. */
static void test_hostile_driver_is_survived(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	run_guest(&r, "--net", "user", "--cmdline", "hostile=1", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "net: oversized frame returned\nnet: device ok\nnet: device needs reset\n");
	assert_has(r.out, "net: dhcp offer 10.0.2.15");
	assert_has(r.out, "net: ping 10.0.2.2 reply seq 1 checksum ok\nnet: device ok\n");
	assert_string_equal(r.err, "vmdeck: warning: virtio-net: the guest's driver sent a buffer outside guest RAM "
				   "on queue 1; the device waits for a reset\n");
	spawn_free(&r);
}

static void test_no_card_without_net_option(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	run_guest(&r, NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "net: no device (step 1)");
	spawn_free(&r);
	run_guest(&r, "--net", "none", NULL);
	assert_has(r.out, "net: no device (step 1)");
	spawn_free(&r);
}

/* Bad --net input: exit 2, one line naming the problem, before any boot. */
static void expect_refusal(const char *want, ...)
{
	char *argv[16] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_net.elf") };
	int n = 4;
	va_list ap;
	va_start(ap, want);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, TIMEOUT_MS, &r), 0);
	if (r.status != 2 || strcmp(r.err, want))
		printf("exit %d, stderr: %s(wanted \"%s\")\n", r.status, r.err, want);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	spawn_free(&r);
}

static void test_bad_net_options_are_refused(void **state)
{
	expect_refusal("vmdeck run: --net: hostfwd 'tcp:8080-:80' is not [tcp|udp]:[HOSTADDR]:HOSTPORT-"
		       "[GUESTADDR]:GUESTPORT, as in hostfwd=tcp::8080-:80\n",
		       "--net", "user,hostfwd=tcp:8080-:80", NULL);
	expect_refusal("vmdeck run: --net is given twice; a VM has one network card\n",
		       "--net", "user", "--net", "none", NULL);
	expect_refusal("vmdeck run: --net takes none or user[,OPTIONS], not 'bridge'\n", "--net", "bridge", NULL);
	expect_refusal("vmdeck run: --net has no option 'smb'\n", "--net", "user,smb=/tmp", NULL);
	if (kvm_usable())
		expect_refusal("vmdeck run: cannot create the capture file '/nonexistent/c.pcap': No such file or "
			       "directory\n", "--mem", "64M", "--net", "user,capture=/nonexistent/c.pcap", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_arp_ping_and_capture),
		cmocka_unit_test(test_udp_reaches_the_host_unless_restricted),
		cmocka_unit_test(test_large_udp_reaches_a_driver_without_the_mtu_feature_in_fragments),
		cmocka_unit_test(test_hostfwd_on_loopback_reaches_the_guest_and_refuses_a_second_bind),
		cmocka_unit_test(test_hostile_driver_is_survived),
		cmocka_unit_test(test_no_card_without_net_option),
		cmocka_unit_test(test_bad_net_options_are_refused),
	};
	return cmocka_run_group_tests_name("host KVM: network", tests, NULL, NULL);
}
