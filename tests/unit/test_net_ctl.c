/* The network's control commands in-process: a real control server on a
 * socket, the real backend (virtio-net and libslirp) behind a fake guest,
 * both on the GLib loop the test runs.  Each command, each kind of bad
 * input, and what the statistics hooks report; checked against host
 * sockets, /proc/net/tcp and tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"
#include "net/net_ctl.h"
#include "net/net_report.h"
#include "src/ctl_server.h"
#include "tests/lib/net_guest.h"
#include "tests/lib/testlib.h"

#define F(bit) (1ull << (bit))
#define FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MAC) | \
		  F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_F_EVENT_IDX))

struct fx {
	struct nguest g;
	struct net *n;
	struct ctl_server *srv;
	int fd;                     /* our end of the control connection */
};

static struct fx *start(bool with_net)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct net_options opt;
	struct error err;
	nguest_init(&x->g);
	if (with_net) {
		assert_int_equal(net_options_parse("user", &opt, &err), 0);
		x->n = net_create(&opt, &x->g.f.mem, &x->g.f.router, &err);
		net_options_free(&opt);
		assert_non_null(x->n);
		nguest_attach(&x->g, x->n->dev, FEATURES, 64);
	}
	x->srv = ctl_server_new(NULL);
	ctl_server_register(x->srv, net_ctl_commands, x->n);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ctl_server_adopt(x->srv, sv[0]), 0);
	x->fd = sv[1];
	return x;
}

static int setup(void **state)
{
	*state = start(true);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	close(x->fd);
	ctl_server_free(x->srv);
	net_destroy(x->n);
	nguest_destroy(&x->g);
	free(x);
	return 0;
}

/* Sends LINE and returns the reply, running the loop (server and NAT)
 * meanwhile. */
static json_object *call(struct fx *x, const char *line)
{
	char buf[1 << 16];
	size_t have = 0;
	assert_int_equal(send(x->fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	assert_int_equal(send(x->fd, "\n", 1, MSG_NOSIGNAL), 1);
	for (int waited = 0; waited < 5000; waited += 5) {
		nguest_loop(5);
		ssize_t r = recv(x->fd, buf + have, sizeof(buf) - 1 - have, MSG_DONTWAIT);
		if (r > 0)
			have += (size_t)r;
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = '\0';
			json_object *o = json_tokener_parse(buf);
			assert_non_null(o);
			return o;
		}
	}
	fail_msg("no reply to %s", line);
	return NULL;
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

/* A successful reply's result (the reply stays owned by *R). */
static json_object *expect_ok(struct fx *x, const char *line, json_object **r)
{
	*r = call(x, line);
	if (!json_object_get_boolean(at(*r, "ok")))
		fail_msg("%s: %s", line, json_object_to_json_string(*r));
	return at(*r, "result");
}

/* An error reply with CODE whose message contains TEXT. */
static void expect_error(struct fx *x, const char *line, const char *code, const char *text)
{
	json_object *r = call(x, line);
	const char *got = str(r, "error.code"), *msg = str(r, "error.message");
	if (json_object_get_boolean(at(r, "ok")) || strcmp(got, code) || !strstr(msg, text))
		fail_msg("%s: got %s, wanted %s with \"%s\"", line, json_object_to_json_string(r), code, text);
	json_object_put(r);
}

/* ---- host side -------------------------------------------------------------------- */

static int tcp_connect(uint16_t port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return s;
	int e = errno;
	close(s);
	errno = e;
	return -1;
}

/* A TCP socket of ours listening on 127.0.0.1:PORT. */
static int occupy(uint16_t port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port) };
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	return s;
}

/* How many sockets listen on TCP PORT (/proc/net/tcp, state 0A). */
static unsigned listening(uint16_t port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned n = 0, local_port, st;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*s %x", &local_port, &st) == 2 && st == 0x0a && local_port == port)
			n++;
	fclose(f);
	return n;
}

static bool is_syn_to(const struct pkt_info *p, void *ctx)
{
	return p->proto == 6 && (p->tcp_flags & TCP_SYN) && p->dport == *(uint16_t *)ctx;
}

static bool is_offer(const struct pkt_info *p, void *ctx)
{
	struct pkt_dhcp_info d;
	return pkt_parse_dhcp(p, &d) && d.type == 2;
}

/* ---- the commands ------------------------------------------------------------------ */

static void test_help_lists_the_network_rows(void **state)
{
	struct fx *x = *state;
	json_object *r, *res = expect_ok(x, "{\"cmd\":\"help\"}", &r);
	const char *want[][3] = { { "hostfwd-add", "rule", "string" }, { "hostfwd-remove", "rule", "string" },
				  { "capture-start", "file", "path" }, { "capture-stop", NULL, NULL } };
	json_object *list = at(res, "commands");
	for (size_t w = 0; w < 4; w++) {
		json_object *row = NULL;
		for (size_t i = 0; i < json_object_array_length(list); i++)
			if (!strcmp(str(json_object_array_get_idx(list, i), "name"), want[w][0]))
				row = json_object_array_get_idx(list, i);
		if (!row)
			fail_msg("help does not list %s", want[w][0]);
		json_object *args = at(row, "args");
		if (!want[w][1]) {
			assert_int_equal(json_object_array_length(args), 0);
			continue;
		}
		assert_int_equal(json_object_array_length(args), 1);
		assert_string_equal(str(args, "0.name"), want[w][1]);
		assert_string_equal(str(args, "0.type"), want[w][2]);
		assert_true(json_object_get_boolean(at(args, "0.required")));
	}
	json_object_put(r);
}

static void test_hostfwd_added_reaches_the_guest_and_is_removed(void **state)
{
	struct fx *x = *state;
	uint16_t port = tl_free_tcp_port();
	char line[256], want[128];
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::%u-:80\"}", port);
	json_object *r, *res = expect_ok(x, line, &r);
	snprintf(want, sizeof(want), "tcp:127.0.0.1:%u-10.0.2.15:80", port);
	assert_string_equal(str(res, "forward.rule"), want);
	assert_string_equal(str(res, "forward.state"), "listening");
	assert_string_equal(str(res, "forward.host_addr"), "127.0.0.1");
	assert_int_equal(num(res, "forward.host_port"), port);
	assert_string_equal(str(res, "forward.guest_addr"), "10.0.2.15");
	assert_int_equal(num(res, "forward.guest_port"), 80);
	assert_int_equal(num(res, "forwards"), 1);
	json_object_put(r);
	assert_int_equal(listening(port), 1);
	/* Outside truth: a host connection becomes a SYN to the guest's port 80. */
	int c = tcp_connect(port);
	assert_true(c >= 0);
	uint8_t f[PKT_MAX];
	uint16_t eighty = 80;
	assert_true(nguest_wait(&x->g, f, 3000, is_syn_to, &eighty, NULL));
	close(c);
	/* Removed by its host side; the port is free again. */
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-remove\",\"rule\":\"tcp::%u\"}", port);
	res = expect_ok(x, line, &r);
	assert_string_equal(str(res, "removed"), want);
	assert_int_equal(num(res, "forwards"), 0);
	json_object_put(r);
	assert_int_equal(tcp_connect(port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(listening(port), 0);
	/* The whole rule names it too. */
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"udp:127.0.0.1:%u-10.0.2.15:53\"}", port);
	res = expect_ok(x, line, &r);
	assert_string_equal(str(res, "forward.state"), "bound");
	json_object_put(r);
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-remove\",\"rule\":\"udp:127.0.0.1:%u-10.0.2.15:53\"}", port);
	expect_ok(x, line, &r);
	json_object_put(r);
}

static void test_hostfwd_bad_inputs(void **state)
{
	struct fx *x = *state;
	uint16_t port = tl_free_tcp_port(), other = tl_free_tcp_port();
	char line[256], text[128];
	expect_error(x, "{\"cmd\":\"hostfwd-add\"}", "bad-args", "rule");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":8080}", "bad-args", "rule");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":[\"tcp::8080-:80\"]}", "bad-args", "rule");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::8080-:80\",\"port\":8080}", "bad-args", "port");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp:8080-:80\"}", "bad-args",
		     "hostfwd 'tcp:8080-:80' is not [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::99999-:22\"}", "bad-args",
		     "not a port number from 1 to 65535");
	expect_error(x, "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::2222-10.0.9.1:22\"}", "bad-args",
		     "outside the guest network 10.0.2.0/24");
	/* A port something else on the host holds. */
	int busy = occupy(port);
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::%u-:80\"}", port);
	snprintf(text, sizeof(text), "cannot forward tcp:127.0.0.1:%u-10.0.2.15:80: Address already in use", port);
	expect_error(x, line, "failed", text);
	close(busy);
	/* A port this VM's own forward holds. */
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::%u-:22\"}", other);
	json_object *r;
	expect_ok(x, line, &r);
	json_object_put(r);
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::%u-:23\"}", other);
	expect_error(x, line, "failed", "uses a host port another forward already takes");
	/* Removing: unknown forwards, bad rules, wrong types. */
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-remove\",\"rule\":\"tcp::%u\"}", port);
	snprintf(text, sizeof(text), "no forward listens on tcp::%u", port);
	expect_error(x, line, "bad-args", text);
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-remove\",\"rule\":\"udp::%u\"}", other);
	expect_error(x, line, "bad-args", "no forward listens on");
	expect_error(x, "{\"cmd\":\"hostfwd-remove\",\"rule\":\"tcp\"}", "bad-args", "is not [tcp|udp]:[HOSTADDR]:HOSTPORT");
	expect_error(x, "{\"cmd\":\"hostfwd-remove\",\"rule\":true}", "bad-args", "rule");
	expect_error(x, "{\"cmd\":\"hostfwd-remove\"}", "bad-args", "rule");
	/* Nothing of that changed the one good forward. */
	json_object *info = json_object_new_object();
	net_info(x->n, info);
	assert_int_equal(json_object_array_length(at(info, "forwards")), 1);
	assert_int_equal(num(info, "forwards.0.guest_port"), 22);
	json_object_put(info);
}

static void test_capture_at_runtime_is_read_by_tshark(void **state)
{
	struct fx *x = *state;
	char dir[] = "/tmp/vmdeck-netctl-XXXXXX", path[128], line[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run.pcap", dir);
	snprintf(line, sizeof(line), "{\"cmd\":\"capture-start\",\"file\":\"%s\"}", path);
	json_object *r, *res = expect_ok(x, line, &r);
	assert_string_equal(str(res, "file"), path);
	json_object_put(r);
	expect_error(x, line, "unavailable", "is already running");
	/* A DHCP exchange goes into the file. */
	uint8_t f[PKT_MAX];
	nguest_send(&x->g, f, pkt_dhcp(f, x->g.me.mac, 0x5eed, 1, NULL));
	assert_true(nguest_wait(&x->g, f, 3000, is_offer, NULL, NULL));
	res = expect_ok(x, "{\"cmd\":\"capture-stop\"}", &r);
	assert_string_equal(str(res, "file"), path);
	assert_int_equal(num(res, "packets"), 2);
	assert_true(num(res, "bytes") > 2 * 300);
	json_object_put(r);
	expect_error(x, "{\"cmd\":\"capture-stop\"}", "unavailable", "no capture is running");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char cmd[512], out[4096];
	snprintf(cmd, sizeof(cmd), "tshark -n -r '%s' -Y 'dhcp.option.dhcp == 1 || dhcp.option.dhcp == 2' 2>&1", path);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	if (!strstr(out, "DHCP Discover - Transaction ID 0x5eed") || !strstr(out, "DHCP Offer    - Transaction ID 0x5eed"))
		fail_msg("tshark -r %s:\n%s", path, out);
	unlink(path);
	rmdir(dir);
}

static void test_capture_bad_inputs(void **state)
{
	struct fx *x = *state;
	expect_error(x, "{\"cmd\":\"capture-stop\"}", "unavailable", "no capture is running");
	expect_error(x, "{\"cmd\":\"capture-start\"}", "bad-args", "file");
	expect_error(x, "{\"cmd\":\"capture-start\",\"file\":7}", "bad-args", "file");
	expect_error(x, "{\"cmd\":\"capture-start\",\"file\":\"run.pcap\"}", "bad-args", "absolute");
	expect_error(x, "{\"cmd\":\"capture-stop\",\"file\":\"/tmp/x.pcap\"}", "bad-args", "file");
	/* Files that cannot be written (root may write anywhere that exists). */
	expect_error(x, "{\"cmd\":\"capture-start\",\"file\":\"/nonexistent-dir/x.pcap\"}", "failed",
		     "cannot create the capture file '/nonexistent-dir/x.pcap': No such file or directory");
	expect_error(x, "{\"cmd\":\"capture-start\",\"file\":\"/tmp\"}", "failed",
		     "cannot create the capture file '/tmp': Is a directory");
	struct net_stats s;
	net_get_stats(x->n, &s);
	assert_false(s.capturing);
}

static void test_without_a_network_card_everything_is_unavailable(void **state)
{
	struct fx *x = start(false);
	const char *lines[] = { "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::8080-:80\"}",
				"{\"cmd\":\"hostfwd-remove\",\"rule\":\"tcp::8080\"}",
				"{\"cmd\":\"capture-start\",\"file\":\"/tmp/x.pcap\"}", "{\"cmd\":\"capture-stop\"}" };
	for (size_t i = 0; i < 4; i++)
		expect_error(x, lines[i], "unavailable", "this VM has no network card; start it with --net user");
	/* Arguments are still checked first: a typo is the client's. */
	expect_error(x, "{\"cmd\":\"hostfwd-add\"}", "bad-args", "rule");
	teardown((void **)&x);
}

/* ---- what the statistics see ---------------------------------------------------- */

static const struct dev_counter *counter(const struct dev_counter *c, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	fail_msg("no counter %s", name);
	return NULL;
}

static void test_counters_and_state_for_the_statistics(void **state)
{
	struct fx *x = *state;
	struct dev_counter c[DEV_COUNTERS_MAX];
	unsigned n = net_counters(x->n, c, DEV_COUNTERS_MAX);
	assert_true(n >= 20 && n <= DEV_COUNTERS_MAX);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = i + 1; k < n; k++)
			assert_string_not_equal(c[i].name, c[k].name);
	assert_int_equal(counter(c, n, "tx_packets")->value, 0);
	uint8_t f[PKT_MAX];
	nguest_send(&x->g, f, pkt_dhcp(f, x->g.me.mac, 0x77, 1, NULL));
	assert_true(nguest_wait(&x->g, f, 3000, is_offer, NULL, NULL));
	uint16_t port = tl_free_tcp_port();
	char line[128];
	snprintf(line, sizeof(line), "{\"cmd\":\"hostfwd-add\",\"rule\":\"tcp::%u-:80\"}", port);
	json_object *r;
	expect_ok(x, line, &r);
	json_object_put(r);
	n = net_counters(x->n, c, DEV_COUNTERS_MAX);
	assert_int_equal(counter(c, n, "tx_packets")->value, 1);
	assert_true(counter(c, n, "tx_bytes")->value >= 300);
	assert_false(counter(c, n, "tx_packets")->gauge);
	assert_int_equal(counter(c, n, "rx_packets")->value, 1);
	assert_false(counter(c, n, "rx_bytes")->gauge);
	/* Levels, which get no rate and must not be summed. */
	assert_int_equal(counter(c, n, "forwards")->value, 1);
	assert_true(counter(c, n, "forwards")->gauge);
	assert_int_equal(counter(c, n, "link_up")->value, 1);
	assert_true(counter(c, n, "link_up")->gauge);
	assert_true(counter(c, n, "capturing")->gauge);
	assert_true(counter(c, n, "rx_backlog")->gauge);
	assert_int_equal(net_counters(x->n, c, 3), 3);
	/* The state beside the counters: the forward and its state. */
	json_object *info = json_object_new_object();
	net_info(x->n, info);
	char want[96];
	snprintf(want, sizeof(want), "tcp:127.0.0.1:%u-10.0.2.15:80", port);
	assert_string_equal(str(info, "forwards.0.rule"), want);
	assert_string_equal(str(info, "forwards.0.state"), "listening");
	assert_string_equal(str(info, "mac"), "52:54:00:12:34:56");
	assert_true(json_object_get_boolean(at(info, "link_up")));
	assert_false(json_object_get_boolean(at(info, "restricted")));
	assert_true(json_object_object_get_ex(info, "capture", NULL));
	assert_null(at(info, "capture"));                     /* null: no capture running */
	json_object_put(info);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_help_lists_the_network_rows),
		T(test_hostfwd_added_reaches_the_guest_and_is_removed),
		T(test_hostfwd_bad_inputs),
		T(test_capture_at_runtime_is_read_by_tshark),
		T(test_capture_bad_inputs),
		cmocka_unit_test(test_without_a_network_card_everything_is_unavailable),
		T(test_counters_and_state_for_the_statistics),
	};
	return cmocka_run_group_tests_name("network control commands", tests, NULL, NULL);
}
