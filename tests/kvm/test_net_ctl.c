/* Host KVM tier, the network through the control socket: the tiny guest
 * g_net serves one TCP connection on its port 80 while the real `vmdeck
 * ctl` adds a forward to it and starts a capture at runtime.  Outside
 * truth: a host client reads the guest's bytes through the forward,
 * /proc/net/tcp shows who listens, tshark reads the capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/lib/ctltest.h"
#include "tests/lib/spawn.h"
#include "tests/lib/testlib.h"

#define SKIP_WITHOUT_KVM() do { if (!kvm_usable()) skip(); } while (0)
#define GREETING "hello through the forward\n"

struct vmtest {
	char dir[64], sock[128];
	struct vmproc p;
};

static int setup(void **state)
{
	struct vmtest *t = calloc(1, sizeof(*t));
	test_tmpdir(t->dir, sizeof(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/vm.sock", t->dir);
	*state = t;
	return 0;
}

/* Also after a failure: a VMM left behind would idle on forever. */
static int teardown(void **state)
{
	struct vmtest *t = *state;
	char pcap[160];
	if (t->p.pid > 0)
		vmproc_free(&t->p);
	snprintf(pcap, sizeof(pcap), "%s/live.pcap", t->dir);
	unlink(pcap);
	unlink(t->sock);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void start_vm(struct vmtest *t, const char *cmdline)
{
	/* No display: its VNC socket would take the default name, which
	 * other tests on this machine may hold. */
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_net.elf"), "--mem", "64M",
			 "--display", "none", "--net", "user", "--control", t->sock, "--cmdline", (char *)cmdline, NULL };
	assert_int_equal(vmproc_start(&t->p, argv, NULL), 0);
}

static void wait_for(struct vmtest *t, const char *text, int ms)
{
	if (!vmproc_wait_for(&t->p, text, ms))
		fail_msg("waited %d ms for \"%s\"; guest output:\n%s\nvmdeck stderr:\n%s", ms, text, t->p.obuf,
			 t->p.ebuf);
}

/* `vmdeck ctl SOCKET ARGS...`: its exit status, stdout parsed as JSON when
 * it succeeded (else NULL) and stderr in ERR. */
static int ctl(struct vmtest *t, json_object **out, char *err, size_t errlen, ...)
{
	char *argv[12] = { (char *)vmdeck_bin(), "ctl", t->sock };
	int n = 3;
	va_list ap;
	va_start(ap, errlen);
	for (char *a; n < 11 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, &r), 0);
	if (out)
		*out = r.status == 0 ? json_tokener_parse(r.out) : NULL;
	if (err)
		snprintf(err, errlen, "%s", r.err);
	int st = r.status;
	spawn_free(&r);
	return st;
}

/* The command must succeed; its result. */
static json_object *ctl_ok(struct vmtest *t, const char *cmd, const char *arg)
{
	json_object *o;
	char err[512];
	int st = ctl(t, &o, err, sizeof(err), cmd, arg, NULL);
	if (st != 0 || !o)
		fail_msg("vmdeck ctl %s %s: status %d: %s", cmd, arg ? arg : "", st, err);
	return o;
}

/* The command must fail with exit status STATUS and a message with TEXT. */
static void ctl_refused(struct vmtest *t, int status, const char *text, const char *cmd, const char *arg)
{
	char err[512];
	int st = ctl(t, NULL, err, sizeof(err), cmd, arg, NULL);
	if (st != status || !strstr(err, text))
		fail_msg("vmdeck ctl %s %s: status %d, stderr \"%s\"; wanted %d and \"%s\"", cmd, arg, st, err, status,
			 text);
}

static json_object *at(json_object *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	return o;
}

static const char *str(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v ? json_object_get_string(v) : "";
}

static int64_t num(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	if (!v)
		fail_msg("no %s in %s", path, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

/* The "net" entry of a status or stats reply's devices. */
static json_object *net_entry(json_object *reply)
{
	json_object *list = at(reply, "devices");
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if (!strcmp(str(json_object_array_get_idx(list, i), "kind"), "net"))
			return json_object_array_get_idx(list, i);
	fail_msg("no net device in %s", json_object_to_json_string(reply));
	return NULL;
}

/* Everything a connection to 127.0.0.1:PORT receives until the far end
 * closes (or 20 s pass); -1 with errno when it cannot connect. */
static ssize_t fetch(uint16_t port, char *buf, size_t len)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	size_t have = 0;
	ssize_t r;
	while (have < len - 1 && (r = recv(s, buf + have, len - 1 - have, 0)) > 0)
		have += (size_t)r;
	buf[have] = '\0';
	close(s);
	return (ssize_t)have;
}

static void tshark_finds(const char *pcap, const char *what, const char *filter)
{
	char *argv[] = { "tshark", "-n", "-r", (char *)pcap, "-Y", (char *)filter, NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, 30000, &r), 0);
	if (r.status != 0 || !r.out[0] || strstr(r.err, "cut short"))
		fail_msg("tshark -r %s -Y '%s' finds no %s (status %d): %s%s", pcap, filter, what, r.status, r.out, r.err);
	spawn_free(&r);
}

static void test_forward_and_capture_added_at_runtime(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest *t = *state;
	start_vm(t, "wait=serve idle=1");
	wait_for(t, "net: serving port 80\n", 30000);
	uint16_t port = tl_free_tcp_port();
	char rule[64], want[96], addrs[256], pcap[160], buf[256];
	snprintf(rule, sizeof(rule), "tcp::%u-:80", port);
	snprintf(want, sizeof(want), "tcp:127.0.0.1:%u-10.0.2.15:80", port);
	snprintf(pcap, sizeof(pcap), "%s/live.pcap", t->dir);

	json_object *r = ctl_ok(t, "hostfwd-add", rule);
	assert_string_equal(str(r, "forward.rule"), want);
	assert_string_equal(str(r, "forward.state"), "listening");
	json_object_put(r);
	tl_tcp_listeners(port, addrs, sizeof(addrs));
	assert_string_equal(addrs, "0100007F ");                /* 127.0.0.1 and nothing else */
	r = ctl_ok(t, "capture-start", pcap);
	assert_string_equal(str(r, "file"), pcap);
	json_object_put(r);
	r = ctl_ok(t, "status", NULL);
	json_object *net = net_entry(r);
	assert_string_equal(str(net, "forwards.0.rule"), want);
	assert_string_equal(str(net, "forwards.0.state"), "listening");
	assert_string_equal(str(net, "capture"), pcap);
	json_object_put(r);

	/* Through the forward to the guest's port 80 and back. */
	assert_int_equal(fetch(port, buf, sizeof(buf)), strlen(GREETING));
	assert_string_equal(buf, GREETING);
	wait_for(t, "net: served 26 bytes to 10.0.2.2\n", 20000);

	r = ctl_ok(t, "capture-stop", NULL);
	assert_string_equal(str(r, "file"), pcap);
	assert_true(num(r, "packets") >= 6);                     /* two handshakes' worth at least */
	json_object_put(r);
	tshark_finds(pcap, "forwarded SYN", "ip.dst == 10.0.2.15 && tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0");
	tshark_finds(pcap, "SYN-ACK from the guest", "ip.src == 10.0.2.15 && tcp.srcport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 1");
	tshark_finds(pcap, "the guest's greeting", "tcp.srcport == 80 && frame contains \"hello through the forward\"");

	/* The statistics count the traffic and list the forward; rates need
	 * two samples (one a second), and this test can be quicker. */
	r = ctl_ok(t, "stats", NULL);
	for (int i = 0; i < 30 && !at(r, "interval_s"); i++) {
		json_object_put(r);
		usleep(200000);
		r = ctl_ok(t, "stats", NULL);
	}
	net = net_entry(r);
	assert_true(num(net, "counters.tx_packets") >= 4);
	assert_true(num(net, "counters.rx_packets") >= 4);
	assert_true(num(net, "counters.capture_packets") >= 6);
	assert_int_equal(num(net, "counters.forwards"), 1);
	assert_int_equal(num(net, "counters.capturing"), 0);
	if (!at(net, "rates.tx_bytes"))
		fail_msg("no rate for tx_bytes in %s", json_object_to_json_string(r));
	assert_null(at(net, "rates.forwards"));                  /* a level, not a count */
	assert_string_equal(str(net, "forwards.0.rule"), want);
	json_object_put(r);

	/* Refusals, each with its reason, and the VM carries on. */
	ctl_refused(t, 1, "uses a host port another forward already takes", "hostfwd-add", rule);
	uint16_t taken = tl_free_tcp_port();
	int busy = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(taken) };
	assert_int_equal(bind(busy, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(busy, 1), 0);
	char busy_rule[64];
	snprintf(busy_rule, sizeof(busy_rule), "tcp::%u-:80", taken);
	ctl_refused(t, 1, "Address already in use", "hostfwd-add", busy_rule);
	close(busy);
	ctl_refused(t, 2, "is not [tcp|udp]:[HOSTADDR]:HOSTPORT", "hostfwd-add", "tcp:8080");
	ctl_refused(t, 2, "no forward listens on", "hostfwd-remove", busy_rule);
	ctl_refused(t, 1, "cannot create the capture file '/nonexistent-dir/x.pcap'", "capture-start",
		    "/nonexistent-dir/x.pcap");
	ctl_refused(t, 1, "no capture is running", "capture-stop", NULL);

	r = ctl_ok(t, "hostfwd-remove", rule);
	assert_string_equal(str(r, "removed"), want);
	json_object_put(r);
	assert_int_equal(fetch(port, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	r = ctl_ok(t, "status", NULL);
	assert_int_equal(json_object_array_length(at(net_entry(r), "forwards")), 0);
	json_object_put(r);

	json_object_put(ctl_ok(t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t->p, 20000), 0);
	assert_string_equal(t->p.ebuf ? t->p.ebuf : "", "");
}

/* Without --net the commands say why they cannot work, and the status
 * lists no network. */
static void test_without_a_card_the_commands_are_unavailable(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest *t = *state;
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_ctl.elf"), "--mem", "64M",
			 "--display", "none", "--control", t->sock, NULL };
	assert_int_equal(vmproc_start(&t->p, argv, NULL), 0);
	wait_for(t, "ctl: ready", 30000);
	const char *no = "this VM has no network card; start it with --net user";
	ctl_refused(t, 1, no, "hostfwd-add", "tcp::8080-:80");
	ctl_refused(t, 1, no, "hostfwd-remove", "tcp::8080");
	ctl_refused(t, 1, no, "capture-start", "/tmp/x.pcap");
	ctl_refused(t, 1, no, "capture-stop", NULL);
	json_object *r = ctl_ok(t, "status", NULL);
	json_object *list = at(r, "devices");
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		assert_string_not_equal(str(json_object_array_get_idx(list, i), "kind"), "net");
	json_object_put(r);
	json_object_put(ctl_ok(t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t->p, 20000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_and_capture_added_at_runtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_card_the_commands_are_unavailable, setup, teardown),
	};
	return cmocka_run_group_tests_name("host KVM: network control", tests, NULL, NULL);
}
