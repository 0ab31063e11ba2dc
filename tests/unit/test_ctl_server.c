/* The control socket server in-process: real UNIX sockets, the GLib loop
 * run by the test, the VM behind a fake struct ctl_vm_ops.  Every command
 * and every kind of bad input; the server and other clients must carry
 * on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/ctl_path.h"
#include "src/ctl_server.h"
#include "src/ctl_vm.h"
#include "vmm/display_ctl.h"
#include "vmm/vga.h"

struct fake {
	struct ctl_server *srv;
	char last[32];
	uint64_t target;
	int calls;
	enum ctl_status fail;      /* what the next op returns */
};

static void note(struct fake *f, const char *what)
{
	snprintf(f->last, sizeof(f->last), "%s", what);
	f->calls++;
}

static void f_status(void *vmm, json_object *out)
{
	note(vmm, "status");
	json_object_object_add(out, "state", json_object_new_string("running"));
}

static void f_stats(void *vmm, json_object *out)
{
	note(vmm, "stats");
	json_object_object_add(out, "cpus", json_object_new_array());
}

static enum ctl_status op(void *vmm, const char *name, json_object *out, struct error *err)
{
	struct fake *f = vmm;
	note(f, name);
	if (f->fail != CTL_OK) {
		enum ctl_status st = f->fail;
		f->fail = CTL_OK;
		error_set(err, "the fake VM cannot %s now", name);
		return st;
	}
	json_object *data = json_object_new_object();
	json_object_object_add(data, "state", json_object_new_string(name));
	ctl_server_emit(f->srv, "state", data);
	json_object_object_add(out, "done", json_object_new_string(name));
	return CTL_OK;
}

static enum ctl_status f_pause(void *v, json_object *o, struct error *e) { return op(v, "pause", o, e); }
static enum ctl_status f_resume(void *v, json_object *o, struct error *e) { return op(v, "resume", o, e); }
static enum ctl_status f_powerdown(void *v, json_object *o, struct error *e) { return op(v, "powerdown", o, e); }
static enum ctl_status f_reset(void *v, json_object *o, struct error *e) { return op(v, "reset", o, e); }
static enum ctl_status f_quit(void *v, json_object *o, struct error *e) { return op(v, "quit", o, e); }
static enum ctl_status f_balloon(void *v, uint64_t target, json_object *o, struct error *e)
{
	((struct fake *)v)->target = target;
	return op(v, "balloon", o, e);
}

static const struct ctl_vm_ops fake_ops = {
	f_status, f_stats, f_pause, f_resume, f_powerdown, f_reset, f_quit, f_balloon,
};

struct fx {
	char dir[64], path[128];
	struct ctl_server *srv;
	struct fake fake;
	struct ctl_vm vm;
};

static struct fx *start(const struct ctl_limits *lim)
{
	struct fx *x = calloc(1, sizeof(*x));
	strcpy(x->dir, "/tmp/vmdeck-ctl-test-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/t.sock", x->dir);
	x->srv = ctl_server_new(lim);
	x->fake.srv = x->srv;
	x->vm = (struct ctl_vm){ &fake_ops, &x->fake };
	ctl_server_register(x->srv, ctl_vm_commands, &x->vm);
	struct error err;
	assert_int_equal(ctl_server_listen(x->srv, x->path, &err), 0);
	return x;
}

static int setup(void **state)
{
	*state = start(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	ctl_server_free(x->srv);
	rmdir(x->dir);
	free(x);
	return 0;
}

static void pump(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static int client(struct fx *x)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, x->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	pump();
	return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			pump();
			continue;
		}
		assert_true(w > 0);
		p += w;
		len -= (size_t)w;
	}
}

/* Reads one line, running the server meanwhile; NULL at end of stream. */
static char *read_line(int fd)
{
	static char buf[4 << 20];
	static size_t have;
	static int last_fd = -1;
	if (fd != last_fd)
		have = 0, last_fd = fd;
	gint64 deadline = g_get_monotonic_time() + 5000000;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			size_t n = (size_t)(nl - buf);
			char *line = g_strndup(buf, n);
			memmove(buf, nl + 1, have - n - 1);
			have -= n + 1;
			return line;
		}
		pump();
		ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (r == 0)
			return NULL;
		if (r > 0) {
			have += (size_t)r;
			continue;
		}
		assert_true(errno == EAGAIN);
		assert_true(g_get_monotonic_time() < deadline);
		g_usleep(200);
	}
}

static json_object *read_json(int fd)
{
	char *line = read_line(fd);
	assert_non_null(line);
	json_object *o = json_tokener_parse(line);
	g_free(line);
	assert_non_null(o);
	return o;
}

static json_object *rpc(int fd, const char *line)
{
	send_all(fd, line, strlen(line));
	for (;;) {
		json_object *o = read_json(fd);
		if (!json_object_object_get_ex(o, "event", NULL))
			return o;
		json_object_put(o);
	}
}

static bool ok(json_object *o)
{
	json_object *v;
	return json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
}

static const char *get_str(json_object *o, const char *path)
{
	/* "a.b.c" */
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	json_object *cur = o;
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(cur, k, &cur))
			return NULL;
	return json_object_get_string(cur);
}

static void expect_error(int fd, const char *line, const char *code)
{
	json_object *r = rpc(fd, line);
	if (ok(r) || strcmp(get_str(r, "error.code"), code)) {
		printf("request %s: got %s, wanted error %s\n", line, json_object_to_json_string(r), code);
		fail();
	}
	assert_true(strlen(get_str(r, "error.message")) > 10);
	json_object_put(r);
}

static void expect_alive(int fd)
{
	json_object *r = rpc(fd, "{\"cmd\":\"status\"}\n");
	assert_true(ok(r));
	assert_string_equal(get_str(r, "result.state"), "running");
	json_object_put(r);
}

static void test_every_vm_command(void **state)
{
	struct fx *x = *state;
	int fd = client(x);
	static const char *const simple[] = { "pause", "resume", "powerdown", "reset", "quit" };
	for (size_t i = 0; i < 5; i++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"cmd\":\"%s\",\"id\":%zu}\n", simple[i], i + 1);
		json_object *r = rpc(fd, line);
		assert_true(ok(r));
		assert_string_equal(x->fake.last, simple[i]);
		assert_string_equal(get_str(r, "result.done"), simple[i]);
		assert_int_equal(atoi(get_str(r, "id")), (int)i + 1);
		json_object_put(r);
	}
	json_object *r = rpc(fd, "{\"cmd\":\"status\",\"id\":\"abc\"}\n");
	assert_true(ok(r));
	assert_string_equal(get_str(r, "id"), "abc");
	assert_string_equal(get_str(r, "result.state"), "running");
	json_object_put(r);
	r = rpc(fd, "{\"cmd\":\"stats\",\"id\":{\"n\":1}}\n");
	assert_true(ok(r));
	assert_string_equal(get_str(r, "id.n"), "1");
	assert_string_equal(x->fake.last, "stats");
	json_object_put(r);
	r = rpc(fd, "{\"cmd\":\"balloon\",\"target\":268435456}\n");
	assert_true(ok(r));
	assert_int_equal(x->fake.target, 268435456ull);
	json_object_put(r);
	r = rpc(fd, "{\"cmd\":\"balloon\",\"target\":\"1.5G\"}\n");
	assert_true(ok(r));
	assert_int_equal(x->fake.target, 1536ull << 20);
	json_object_put(r);
	r = rpc(fd, "{\"cmd\":\"balloon\",\"target\":\"300\"}\n");   /* a bare number means MiB, as --mem */
	assert_true(ok(r));
	assert_int_equal(x->fake.target, 300ull << 20);
	json_object_put(r);
	close(fd);
}

static void test_help_lists_every_row(void **state)
{
	struct fx *x = *state;
	int fd = client(x);
	json_object *r = rpc(fd, "{\"cmd\":\"help\"}\n");
	assert_true(ok(r));
	const char *s = json_object_to_json_string(r);
	static const char *const names[] = { "help", "subscribe", "unsubscribe", "status", "stats", "pause",
					     "resume", "powerdown", "reset", "quit", "balloon", "target" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char q[64];
		snprintf(q, sizeof(q), "\"%s\"", names[i]);
		assert_non_null(strstr(s, q));
	}
	json_object_put(r);
	close(fd);
}

static void test_failing_operation_reports_its_reason(void **state)
{
	struct fx *x = *state;
	int fd = client(x);
	x->fake.fail = CTL_ERR_UNAVAILABLE;
	json_object *r = rpc(fd, "{\"cmd\":\"balloon\",\"target\":1,\"id\":9}\n");
	assert_false(ok(r));
	assert_string_equal(get_str(r, "error.code"), "unavailable");
	assert_string_equal(get_str(r, "error.message"), "the fake VM cannot balloon now");
	assert_string_equal(get_str(r, "id"), "9");
	json_object_put(r);
	x->fake.fail = CTL_ERR_FAILED;
	expect_error(fd, "{\"cmd\":\"pause\"}\n", "failed");
	expect_alive(fd);
	close(fd);
}

static void test_bad_requests_get_errors_and_the_connection_lives(void **state)
{
	struct fx *x = *state;
	int fd = client(x);
	static const struct { const char *line, *code; } cases[] = {
		{ "{\"cmd\":\n", "parse-error" },
		{ "not json at all\n", "parse-error" },
		{ "{\"cmd\":\"status\"} trailing\n", "parse-error" },
		{ "{\"cmd\":\"status\"}{\"cmd\":\"status\"}\n", "parse-error" },
		{ "[1,2,3]\n", "invalid-request" },
		{ "\"status\"\n", "invalid-request" },
		{ "{}\n", "invalid-request" },
		{ "{\"cmd\":42}\n", "invalid-request" },
		{ "{\"cmd\":null}\n", "invalid-request" },
		{ "{\"cmd\":\"fly\"}\n", "unknown-command" },
		{ "{\"cmd\":\"\"}\n", "unknown-command" },
		{ "{\"cmd\":\"balloon\"}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":true}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":1.5}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":[1]}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":-5}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":\"12 parsecs\"}\n", "bad-args" },
		{ "{\"cmd\":\"balloon\",\"target\":\"99999999999999999999T\"}\n", "bad-args" },
		{ "{\"cmd\":\"status\",\"verbose\":true}\n", "bad-args" },
		{ "{\"cmd\":\"subscribe\",\"events\":\"state\"}\n", "bad-args" },
		{ "{\"cmd\":\"subscribe\",\"events\":[1]}\n", "bad-args" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_error(fd, cases[i].line, cases[i].code);
		expect_alive(fd);
	}
	/* Bytes that are not text, a NUL inside the line, deep nesting. */
	static const char nul_line[] = "{\"cmd\":\"sta\0tus\"}\n";
	send_all(fd, nul_line, sizeof(nul_line) - 1);
	json_object *r = read_json(fd);
	assert_false(ok(r));
	json_object_put(r);
	expect_error(fd, "\xff\xfe\x80\n", "parse-error");
	GString *deep = g_string_new("{\"cmd\":\"status\",\"id\":");
	for (int i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	g_string_append(deep, "\n");
	expect_error(fd, deep->str, "parse-error");
	g_string_free(deep, TRUE);
	/* Empty lines are ignored, CRLF is fine. */
	r = rpc(fd, "\n\r\n{\"cmd\":\"status\"}\r\n");
	assert_true(ok(r));
	json_object_put(r);
	assert_int_equal(ctl_server_clients(x->srv), 1);
	close(fd);
}

/* The display's row: a PNG of the VGA's picture, paths absolute, failures
 * named; without a display the answer says why. */
static void test_screendump(void **state)
{
	struct fx *x = *state;
	struct vga v;
	struct error err;
	assert_int_equal(vga_init(&v, NULL, &err), 0);
	ctl_server_register(x->srv, display_ctl_commands, &v);
	int fd = client(x);
	char line[512], path[256];
	snprintf(path, sizeof(path), "%s/shot.png", x->dir);
	snprintf(line, sizeof(line), "{\"cmd\":\"screendump\",\"file\":\"%s\"}\n", path);
	json_object *r = rpc(fd, line);
	assert_true(ok(r));
	assert_string_equal(get_str(r, "result.file"), path);
	json_object_put(r);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > 100);
	unlink(path);
	expect_error(fd, "{\"cmd\":\"screendump\",\"file\":\"shot.png\"}\n", "bad-args");
	expect_error(fd, "{\"cmd\":\"screendump\",\"file\":7}\n", "bad-args");
	expect_error(fd, "{\"cmd\":\"screendump\"}\n", "bad-args");
	r = rpc(fd, "{\"cmd\":\"screendump\",\"file\":\"/nonexistent-dir/shot.png\"}\n");
	assert_false(ok(r));
	assert_string_equal(get_str(r, "error.code"), "failed");
	assert_non_null(strstr(get_str(r, "error.message"), "/nonexistent-dir/shot.png"));
	json_object_put(r);
	expect_alive(fd);
	close(fd);
	vga_destroy(&v);
}

static void test_screendump_without_a_display(void **state)
{
	struct fx *x = *state;
	ctl_server_register(x->srv, display_ctl_commands, NULL);
	int fd = client(x);
	expect_error(fd, "{\"cmd\":\"screendump\",\"file\":\"/tmp/x.png\"}\n", "unavailable");
	expect_alive(fd);
	close(fd);
}

static void test_line_over_1mib_gets_error_then_disconnect(void **state)
{
	struct fx *x = *state;
	int bystander = client(x);
	int fd = client(x);
	size_t n = CTL_LINE_MAX + 100;
	char *big = malloc(n);
	memset(big, 'a', n);
	send_all(fd, big, n);
	json_object *r = read_json(fd);
	assert_false(ok(r));
	assert_string_equal(get_str(r, "error.code"), "line-too-long");
	json_object_put(r);
	assert_null(read_line(fd));                /* closed */
	close(fd);
	expect_alive(bystander);
	/* Just under the limit is a request like any other. */
	fd = client(x);
	size_t pad = CTL_LINE_MAX - 40;
	GString *s = g_string_new("{\"cmd\":\"help\",\"id\":\"");
	for (size_t i = 0; i < pad; i++)
		g_string_append_c(s, 'x');
	g_string_append(s, "\"}\n");
	assert_true(s->len - 1 <= CTL_LINE_MAX);
	r = rpc(fd, s->str);
	assert_true(ok(r));
	assert_int_equal(strlen(get_str(r, "id")), pad);
	json_object_put(r);
	g_string_free(s, TRUE);
	free(big);
	expect_alive(fd);
	close(fd);
	close(bystander);
	assert_int_equal(ctl_server_counters(x->srv).dropped, 1);
}

static void test_client_that_never_reads_is_dropped(void **state)
{
	struct ctl_limits lim = { CTL_LINE_MAX, 64 << 10, 16 };
	struct fx *x = start(&lim);
	int bystander = client(x);
	int fd = client(x);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* Thousands of requests whose replies it never reads. */
	const char *req = "{\"cmd\":\"help\"}\n";
	for (int i = 0; i < 2000 && ctl_server_counters(x->srv).dropped == 0; i++) {
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
			break;
		pump();
	}
	pump();
	assert_int_equal(ctl_server_counters(x->srv).dropped, 1);
	expect_alive(bystander);
	assert_int_equal(ctl_server_clients(x->srv), 1);
	close(fd);
	close(bystander);
	ctl_server_free(x->srv);
	rmdir(x->dir);
	free(x);
}

static void test_a_hundred_clients_at_once(void **state)
{
	struct fx *x = *state;
	int fds[100];
	for (int i = 0; i < 100; i++)
		fds[i] = client(x);
	assert_int_equal(ctl_server_clients(x->srv), 100);
	/* All ask at once, then all read. */
	for (int i = 0; i < 100; i++) {
		char line[64];
		snprintf(line, sizeof(line), "{\"cmd\":\"status\",\"id\":%d}\n", i);
		send_all(fds[i], line, strlen(line));
	}
	for (int i = 0; i < 100; i++) {
		json_object *r = read_json(fds[i]);
		assert_true(ok(r));
		assert_int_equal(atoi(get_str(r, "id")), i);
		json_object_put(r);
	}
	for (int i = 0; i < 100; i++)
		close(fds[i]);
	pump();
	assert_int_equal(ctl_server_clients(x->srv), 0);
}

static void test_clients_beyond_the_maximum_are_told(void **state)
{
	struct ctl_limits lim = { CTL_LINE_MAX, CTL_DEFAULT_OUT_MAX, 100 };
	struct fx *x = start(&lim);
	int fds[101];
	for (int i = 0; i < 100; i++)
		fds[i] = client(x);
	fds[100] = client(x);
	json_object *r = read_json(fds[100]);
	assert_false(ok(r));
	assert_string_equal(get_str(r, "error.code"), "too-many-clients");
	json_object_put(r);
	assert_null(read_line(fds[100]));
	expect_alive(fds[99]);
	for (int i = 0; i <= 100; i++)
		close(fds[i]);
	ctl_server_free(x->srv);
	rmdir(x->dir);
	free(x);
}

static void test_events_go_to_subscribers_only(void **state)
{
	struct fx *x = *state;
	int a = client(x), b = client(x), c = client(x);
	json_object *r = rpc(a, "{\"cmd\":\"subscribe\",\"events\":[\"state\"]}\n");
	assert_true(ok(r));
	json_object_put(r);
	r = rpc(b, "{\"cmd\":\"subscribe\",\"events\":[\"balloon\"]}\n");
	json_object_put(r);
	r = rpc(c, "{\"cmd\":\"pause\"}\n");
	assert_true(ok(r));
	json_object_put(r);
	json_object *ev = read_json(a);
	assert_string_equal(get_str(ev, "event"), "state");
	assert_string_equal(get_str(ev, "data.state"), "pause");
	assert_true(json_object_get_double(json_object_object_get(ev, "time")) > 1e9);
	json_object_put(ev);
	/* B and C got nothing before their next reply. */
	r = rpc(b, "{\"cmd\":\"status\"}\n");
	json_object *line = r;
	assert_true(ok(line));
	json_object_put(r);
	send_all(c, "{\"cmd\":\"status\"}\n", 17);
	r = read_json(c);
	assert_true(ok(r));
	json_object_put(r);
	/* Unsubscribed: quiet again. */
	json_object_put(rpc(a, "{\"cmd\":\"unsubscribe\"}\n"));
	json_object_put(rpc(c, "{\"cmd\":\"resume\"}\n"));
	send_all(a, "{\"cmd\":\"status\"}\n", 17);
	r = read_json(a);
	assert_null(json_object_object_get(r, "event"));
	json_object_put(r);
	close(a);
	close(b);
	close(c);
}

static void test_half_closed_client_still_gets_its_reply(void **state)
{
	struct fx *x = *state;
	int fd = client(x);
	send_all(fd, "{\"cmd\":\"status\"}", 16);       /* no newline, then end of input */
	shutdown(fd, SHUT_WR);
	json_object *r = read_json(fd);
	assert_true(ok(r));
	json_object_put(r);
	assert_null(read_line(fd));
	close(fd);
}

static void test_socket_file_is_private_and_stale_ones_are_replaced(void **state)
{
	struct fx *x = *state;
	struct stat st;
	assert_int_equal(stat(x->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second server on a live socket is refused. */
	struct ctl_server *s2 = ctl_server_new(NULL);
	struct error err;
	assert_int_equal(ctl_server_listen(s2, x->path, &err), -1);
	assert_non_null(strstr(err.msg, "already serves"));
	ctl_server_free(s2);
	expect_alive(client(x));
	/* A socket nobody listens on is taken over. */
	char stale[160];
	snprintf(stale, sizeof(stale), "%s/stale.sock", x->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	s2 = ctl_server_new(NULL);
	assert_int_equal(ctl_server_listen(s2, stale, &err), 0);
	ctl_server_free(s2);
	assert_int_equal(stat(stale, &st), -1);          /* removed on the way out */
	/* A path that is no socket is left alone. */
	FILE *f = fopen(stale, "w");
	fclose(f);
	s2 = ctl_server_new(NULL);
	assert_int_equal(ctl_server_listen(s2, stale, &err), -1);
	ctl_server_free(s2);
	assert_int_equal(stat(stale, &st), 0);
	unlink(stale);
}

static void test_socket_paths(void **state)
{
	char dir[] = "/tmp/vmdeck-xdg-XXXXXX";
	assert_non_null(mkdtemp(dir));
	setenv("XDG_RUNTIME_DIR", dir, 1);
	char path[256], want[256];
	struct error err;
	assert_int_equal(ctl_path_for_name("web-01.test_2", path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/vmdeck/web-01.test_2.sock", dir);
	assert_string_equal(path, want);
	struct stat st;
	snprintf(want, sizeof(want), "%s/vmdeck", dir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Names as the VM library takes them, nothing that leaves the directory. */
	static const char *const bad[] = { "", ".hidden", "a/b", "../x", "a b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_path_for_name(bad[i], path, sizeof(path), &err), -1);
		assert_non_null(strstr(err.msg, "is not a VM name"));
	}
	/* A directory others can enter is refused. */
	chmod(want, 0755);
	assert_int_equal(ctl_path_for_name("web", path, sizeof(path), &err), -1);
	assert_non_null(strstr(err.msg, "other users"));
	rmdir(want);
	/* Anything with a slash is a path, as typed. */
	assert_int_equal(ctl_path_resolve("/some/where.sock", path, sizeof(path), &err), 0);
	assert_string_equal(path, "/some/where.sock");
	assert_int_equal(ctl_path_resolve("vm", path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/vmdeck/vm.sock", dir);
	assert_string_equal(path, want);
	snprintf(want, sizeof(want), "%s/vmdeck", dir);
	rmdir(want);
	rmdir(dir);
	unsetenv("XDG_RUNTIME_DIR");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_every_vm_command),
		T(test_help_lists_every_row),
		T(test_failing_operation_reports_its_reason),
		T(test_bad_requests_get_errors_and_the_connection_lives),
		T(test_screendump),
		T(test_screendump_without_a_display),
		T(test_line_over_1mib_gets_error_then_disconnect),
		cmocka_unit_test(test_client_that_never_reads_is_dropped),
		T(test_a_hundred_clients_at_once),
		cmocka_unit_test(test_clients_beyond_the_maximum_are_told),
		T(test_events_go_to_subscribers_only),
		T(test_half_closed_client_still_gets_its_reply),
		T(test_socket_file_is_private_and_stale_ones_are_replaced),
		cmocka_unit_test(test_socket_paths),
	};
	return cmocka_run_group_tests_name("control socket server", tests, NULL, NULL);
}
