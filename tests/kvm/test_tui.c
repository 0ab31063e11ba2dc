/* The console (TUI) driven in tmux like a user would: keys in with
 * send-keys, the screen out with capture-pane; the truth about the VMs
 * checked outside the TUI with `vmdeck list --json` and kill(2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "vmm/kvm.h"
#include "tests/lib/testlib.h"

struct fixture {
	char *home;
	char sock[64];              /* a tmux server of our own */
};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *out = NULL;
	int r = tl_run(cmd, &out);
	if (r != 0)
		printf("`%s` failed (%d): %s\n", cmd, r, out);
	free(out);
}

static int setup(void **state)
{
	if (!kvm_usable())
		skip();
	if (!tl_have_program("tmux")) {
		printf("tmux is not installed (make deps installs it): the TUI tests cannot drive a terminal\n");
		skip();
	}
	struct fixture *f = calloc(1, sizeof(*f));
	f->home = tl_mkdtemp();
	tl_private_xdg(f->home);
	snprintf(f->sock, sizeof(f->sock), "vmdeck-tui-%d", (int)getpid());
	*state = f;
	return 0;
}

static struct spawn_result vd(const char *first, ...)
{
	const char *pre[] = { first, NULL };
	struct spawn_result r;
	va_list ap;
	va_start(ap, first);
	int started = spawn_vmdeck_va(pre, ap, 30000, &r);
	va_end(ap);
	assert_int_equal(started, 0);
	return r;
}

static void ok(struct spawn_result r)
{
	if (r.status)
		printf("exit %d: %s%s", r.status, r.out, r.err);
	assert_int_equal(r.status, 0);
	spawn_free(&r);
}

/* State and reason of VM NAME from `vmdeck list --json`. */
static void truth(const char *name, char *state, size_t slen, char *reason, size_t rlen, int *pid)
{
	struct spawn_result r = vd("list", "--json", NULL);
	json_object *arr = json_tokener_parse(r.out);
	spawn_free(&r);
	snprintf(state, slen, "absent");
	if (reason)
		reason[0] = '\0';
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		if (strcmp(json_object_get_string(json_object_object_get(o, "name")), name))
			continue;
		snprintf(state, slen, "%s", json_object_get_string(json_object_object_get(o, "state")));
		if (reason && (v = json_object_object_get(o, "reason")))
			snprintf(reason, rlen, "%s", json_object_get_string(v));
		if (pid)
			*pid = (v = json_object_object_get(o, "pid")) ? json_object_get_int(v) : 0;
	}
	json_object_put(arr);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sh("tmux -L %s kill-server 2>/dev/null; true", f->sock);
	struct spawn_result r = vd("list", "--json", NULL);
	json_object *arr = json_tokener_parse(r.out);
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *pid = json_object_object_get(json_object_array_get_idx(arr, i), "pid");
		if (pid)
			kill(json_object_get_int(pid), SIGKILL);
	}
	json_object_put(arr);
	spawn_free(&r);
	usleep(200000);
	tl_rmtree(f->home);
	free(f->home);
	free(f);
	return 0;
}

/* Opens the TUI (vmdeck ARGS) in a COLS x ROWS tmux window. */
static void open_tui(struct fixture *f, int cols, int rows, const char *args)
{
	sh("tmux -L %s -f /dev/null new-session -d -s t -x %d -y %d "
	   "'env LANG=C.UTF-8 TERM=tmux-256color %s %s; echo TUI-EXITED $?; sleep 600'",
	   f->sock, cols, rows, vmdeck_bin(), args);
}

static char *capture(struct fixture *f)
{
	char cmd[256], *out = NULL;
	snprintf(cmd, sizeof(cmd), "tmux -L %s capture-pane -p -t t", f->sock);
	tl_run(cmd, &out);
	return out;
}

/* Waits until the screen shows NEEDLE (or, with SHOWN false, no longer
 * does) and returns the screen. */
static char *await_screen(struct fixture *f, const char *needle, bool shown, int ms)
{
	char *s = NULL;
	for (int waited = 0; waited <= ms; waited += 100) {
		free(s);
		s = capture(f);
		if (s && (strstr(s, needle) != NULL) == shown)
			return s;
		usleep(100000);
	}
	printf("the screen %s \"%s\"; it shows:\n%s\n", shown ? "never showed" : "still shows", needle, s);
	fail();
	return s;
}

static char *wait_screen(struct fixture *f, const char *needle, int ms)
{
	return await_screen(f, needle, true, ms);
}

static char *wait_screen_gone(struct fixture *f, const char *needle, int ms)
{
	return await_screen(f, needle, false, ms);
}

static void keys(struct fixture *f, const char *k)
{
	sh("tmux -L %s send-keys -t t %s", f->sock, k);
	usleep(150000);
}

/* The screen line holding NEEDLE. */
static char *row_of(const char *screen, const char *needle, char *buf, size_t len)
{
	const char *p = strstr(screen, needle);
	if (!p) {
		snprintf(buf, len, "(no line with %s)", needle);
		return buf;
	}
	const char *start = p, *end = strchr(p, '\n');
	while (start > screen && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end ? end - start : (long)strlen(start)), start);
	return buf;
}

static void test_wizard_start_console_and_kill(void **state)
{
	struct fixture *f = *state;
	open_tui(f, 120, 32, "");
	free(wait_screen(f, "No VMs yet: press F7", 5000));
	keys(f, "F7");
	free(wait_screen(f, "New VM", 2000));
	/* Name, vCPUs, memory, kernel, initrd, command line, network, forwards, Create. */
	keys(f, "C-u wiz Tab Tab C-u 64M Tab C-u 16M Tab");
	char k[512];
	snprintf(k, sizeof(k), "'%s' Tab Tab Tab Tab Tab Enter", guest_path("g_irq.elf"));
	keys(f, k);
	free(wait_screen(f, "VM 'wiz' is ready", 3000));
	char st[64], why[512];
	truth("wiz", st, sizeof(st), NULL, 0, NULL);
	assert_string_equal(st, "stopped");
	keys(f, "Escape");
	/* Start it: the row turns running, and so does the truth. */
	keys(f, "F2");
	char *s = wait_screen(f, "wiz is running, VMM pid", 8000), line[512];
	tl_assert_contains(row_of(s, "wiz ", line, sizeof(line)), "running");
	free(s);
	truth("wiz", st, sizeof(st), NULL, 0, NULL);
	assert_string_equal(st, "running");
	/* The console opens on the display (an empty text screen: this guest
	 * writes to COM1 only); F12 is the serial tab, where a key echoes. */
	keys(f, "F4");
	free(wait_screen(f, "text 80x25", 5000));
	keys(f, "F12");
	free(wait_screen(f, "irq: ready", 5000));
	keys(f, "z");
	s = wait_screen(f, "irq: rx z", 5000);
	tl_assert_contains(s, "Ctrl-] back");
	free(s);
	keys(f, "C-]");
	free(wait_screen(f, "F1Help F2Start", 3000));
	/* Kill asks first; then the row says stopped and why. */
	keys(f, "F9");
	free(wait_screen(f, "Kill VM 'wiz' now?", 2000));
	keys(f, "y");
	s = wait_screen(f, "wiz is stopped: killed with vmdeck kill", 5000);
	tl_assert_contains(row_of(s, "wiz ", line, sizeof(line)), "stopped");
	free(s);
	truth("wiz", st, sizeof(st), why, sizeof(why), NULL);
	assert_string_equal(st, "stopped");
	assert_string_equal(why, "killed with vmdeck kill");
}

static void test_quit_leaves_vms_running_and_a_new_tui_finds_them(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "keep", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL));
	open_tui(f, 100, 24, "");
	free(wait_screen(f, "keep", 5000));
	keys(f, "F2");
	free(wait_screen(f, "keep is running", 8000));
	int pid1 = 0, pid2 = 0;
	char st[64];
	truth("keep", st, sizeof(st), NULL, 0, &pid1);
	keys(f, "q");
	free(wait_screen(f, "TUI-EXITED 0", 3000));
	/* The VM did not notice. */
	truth("keep", st, sizeof(st), NULL, 0, &pid2);
	assert_string_equal(st, "running");
	assert_int_equal(pid1, pid2);
	assert_int_equal(kill(pid1, 0), 0);
	sh("tmux -L %s kill-server", f->sock);
	usleep(200000);
	open_tui(f, 100, 24, "");
	char *s = wait_screen(f, "keep is running", 5000), want[64];
	snprintf(want, sizeof(want), "VMM pid %d", pid1);
	tl_assert_contains(s, want);
	free(s);
}

static void test_killed_vmm_shows_crashed_and_the_tui_stays(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "doomed", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL));
	ok(vd("start", "doomed", NULL));
	open_tui(f, 100, 24, "");
	free(wait_screen(f, "doomed is running", 5000));
	/* Attached to its console when it dies. */
	keys(f, "e");
	free(wait_screen(f, "irq: ready", 5000));
	int pid = 0;
	char st[64];
	truth("doomed", st, sizeof(st), NULL, 0, &pid);
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	free(wait_screen(f, "the serial console closed", 5000));
	keys(f, "C-]");
	char *s = wait_screen(f, "doomed crashed: the VMM was killed by signal 9 (SIGKILL)", 5000), line[256];
	tl_assert_contains(row_of(s, "doomed ", line, sizeof(line)), "crashed");
	tl_assert_contains(s, "1 crashed");
	tl_assert_not_contains(s, "TUI-EXITED");
	free(s);
}

static void test_crash_reason_and_log_in_detail(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "tf", "--mem", "64M", "--kernel", guest_path("g_hello.elf"), "--cmdline", "action=triple", NULL));
	open_tui(f, 120, 32, "");
	free(wait_screen(f, "tf is stopped", 5000));
	keys(f, "s");
	/* It crashes at once: start says so in an error pane, the row says why. */
	char *s = wait_screen(f, "tf crashed: the guest triple-faulted on vCPU 0", 10000);
	free(s);
	if (strstr((s = capture(f)), "crashed right after it started"))
		keys(f, "Escape");
	free(s);
	keys(f, "Enter");
	s = wait_screen(f, "VMM log (the end)", 3000);
	tl_assert_contains(s, "tf crashed");
	tl_assert_contains(s, "vmdeck: error: the guest triple-faulted");
	free(s);
	keys(f, "Escape");
	free(wait_screen(f, "F1Help F2Start", 2000));
}

static void test_resize_and_small_terminals(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "r1", NULL));
	open_tui(f, 120, 30, "");
	free(wait_screen(f, "r1", 5000));
	sh("tmux -L %s resize-window -t t -x 50 -y 10", f->sock);
	char *s = wait_screen(f, "vmdeck needs 60x12,", 3000);
	tl_assert_contains(s, "this terminal is 50x10.");
	free(s);
	sh("tmux -L %s resize-window -t t -x 70 -y 20", f->sock);
	s = wait_screen(f, "NAME", 3000);
	/* 70 columns: the least important columns gave way, the essentials stayed. */
	tl_assert_contains(s, "STATE");
	tl_assert_contains(s, "CPU%");
	tl_assert_not_contains(s, "DISK-WR");
	free(s);
	sh("tmux -L %s resize-window -t t -x 160 -y 40", f->sock);
	s = wait_screen(f, "DISK-WR", 3000);
	free(s);
	keys(f, "?");
	s = wait_screen(f, "Help: main screen", 2000);
	tl_assert_contains(s, "filter by name or state");
	free(s);
	keys(f, "Escape");
	keys(f, "/ r 1");
	s = wait_screen(f, "1 of 1", 2000);
	free(s);
}

/* Text written by a vmdeck console from a script (the guest reads it on COM1). */
static void serial_send(const char *vm, const char *text, const char *wait_for)
{
	char cmd[512], *out = NULL;
	snprintf(cmd, sizeof(cmd), "printf '%s' | timeout 10 %s console %s | grep -m1 '%s'", text, vmdeck_bin(), vm,
		 wait_for);
	int st = tl_run(cmd, &out);
	if (st != 0)
		printf("`%s` failed: %s\n", cmd, out);
	assert_int_equal(st, 0);
	free(out);
}

static void test_console_shows_the_display_and_types_into_it(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "screen", "--mem", "64M", "--kernel", guest_path("g_vga.elf"), NULL));
	ok(vd("start", "screen", NULL));
	open_tui(f, 120, 32, "tui --select screen");
	free(wait_screen(f, "screen is running", 5000));
	keys(f, "F4");
	/* VGA text mode: the guest's own words, as characters. */
	char *s = wait_screen(f, "vmdeck VGA text: Hello, world! 0123456789", 5000);
	tl_assert_contains(s, "<>[]{}|~ ABCxyz @#$%");
	tl_assert_contains(s, "text 80x25");
	free(s);
	/* Graphics (1024x768 VBE): pixels as half blocks. */
	serial_send("screen", "g", "lfb ready");
	s = wait_screen(f, "1024x768", 5000);
	assert_true(tl_count(s, "▀") > 500);
	tl_assert_not_contains(s, "Hello, world");
	free(s);
	/* Keys typed here reach the guest's keyboard: 'a' is scancode 1e, then
	 * its release 9e; the guest reports them on COM1 (the serial tab). */
	serial_send("screen", "k", "kbd: ready");
	keys(f, "a");
	keys(f, "F12");
	s = wait_screen(f, "kbd: 0x9e", 5000);
	tl_assert_contains(s, "kbd: 0x1e");
	free(s);
	/* Full screen: no tab bar, no status line. */
	keys(f, "F12");
	keys(f, "F11");
	s = wait_screen(f, "▀", 3000);
	tl_assert_not_contains(s, "Ctrl-] back");
	free(s);
	keys(f, "F11");
	free(wait_screen(f, "Ctrl-] back", 3000));
	keys(f, "C-]");
	free(wait_screen(f, "F1Help F2Start", 3000));
}

static void test_snapshots_panel(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "snappy", "--disk-size", "32M", "--kernel", guest_path("g_irq.elf"), NULL));
	open_tui(f, 120, 30, "");
	free(wait_screen(f, "snappy is stopped", 5000));
	keys(f, "t");
	free(wait_screen(f, "No snapshots yet.", 3000));
	keys(f, "n");
	free(wait_screen(f, "Take a snapshot", 2000));
	keys(f, "C-u first Enter");
	char *s = wait_screen(f, "first", 3000), line[256];
	tl_assert_contains(row_of(s, "first", line, sizeof(line)), "disk only");
	tl_assert_contains(line, "disk0.qcow2");
	tl_assert_contains(line, "32M");
	free(s);
	/* The truth, from QEMU's own tool. */
	char *img = NULL, *cmd = NULL, *out = NULL;
	assert_true(asprintf(&img, "%s/vmdeck/vms/snappy/disk0.qcow2", getenv("XDG_DATA_HOME")) > 0);
	assert_true(asprintf(&cmd, "qemu-img snapshot -l %s", img) > 0);
	assert_int_equal(tl_run(cmd, &out), 0);
	tl_assert_contains(out, "first");
	free(out);
	/* Revert asks first. */
	keys(f, "Enter");
	free(wait_screen(f, "Revert VM 'snappy' to snapshot 'first'?", 2000));
	keys(f, "y");
	free(wait_screen(f, "first", 2000));
	keys(f, "d");
	free(wait_screen(f, "Delete snapshot 'first' of VM 'snappy'?", 2000));
	keys(f, "y");
	free(wait_screen(f, "No snapshots yet.", 3000));
	assert_int_equal(tl_run(cmd, &out), 0);
	tl_assert_not_contains(out, "first");
	free(out);
	free(cmd);
	free(img);
	/* A running VM: taking one is refused in an error pane, the TUI stays. */
	keys(f, "Escape");
	keys(f, "s");
	free(wait_screen(f, "snappy is running", 8000));
	keys(f, "t n Enter");
	s = wait_screen(f, "stop it before you take a snapshot", 3000);
	free(s);
}

/* The table row of VM NAME (a line that starts with it). */
static char *vm_row(const char *screen, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	buf[0] = '\0';
	for (const char *l = screen; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ' ') {
			const char *end = strchr(l, '\n');
			snprintf(buf, len, "%.*s", (int)(end ? end - l : (long)strlen(l)), l);
			break;
		}
	return buf;
}

/* Field N (from 0, split at blanks) of the table row of VM NAME. */
static void row_field(const char *screen, const char *name, int n, char *out, size_t len)
{
	char line[1024];
	vm_row(screen, name, line, sizeof(line));
	char *save, *t = strtok_r(line, " ", &save);
	for (int i = 0; t && i < n; i++)
		t = strtok_r(NULL, " ", &save);
	snprintf(out, len, "%s", t ? t : "");
}

/* Waits until VM NAME's CPU% column holds a number that PRED accepts;
 * returns it (or fails showing the screen). */
static double wait_cpu(struct fixture *f, const char *name, bool (*pred)(double), const char *what, int ms)
{
	char *s = NULL, v[32] = "";
	for (int waited = 0; waited <= ms; waited += 200) {
		free(s);
		s = capture(f);
		row_field(s, name, 3, v, sizeof(v));
		char *end;
		double x = strtod(v, &end);
		if (*v && !*end && pred(x)) {
			free(s);
			return x;
		}
		usleep(200000);
	}
	printf("the CPU%% column of %s never became %s (last \"%s\"); the screen:\n%s\n", name, what, v, s);
	free(s);
	fail();
	return -1;
}

static bool busy_cpu(double x)
{
	return x > 20;          /* one vCPU at ring 3 flat out; less on a loaded host */
}

static bool idle_cpu(double x)
{
	return x < 5;
}

/* The tiny guest g_stats keeps vCPU 0 busy at ring 3 and halts vCPU 1: the
 * TUI's numbers come from the VMM's statistics, checked against the VMM
 * itself (`vmdeck ctl stats`), and they move when the VM is paused. */
static void test_real_statistics_in_the_row_and_the_detail(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "busy", "--cpus", "2", "--mem", "64M", "--kernel", guest_path("g_stats.elf"), NULL));
	ok(vd("start", "busy", NULL));
	open_tui(f, 160, 40, "tui --refresh 0.5");
	free(wait_screen(f, "busy is running", 5000));
	double running = wait_cpu(f, "busy", busy_cpu, "busy", 15000);
	char *s = capture(f), v[32];
	row_field(s, "busy", 2, v, sizeof(v));
	assert_string_equal(v, "2");                           /* vCPUs */
	char line[1024];
	/* Memory: configured, and the balloon (vm.conf asks for one) leaves all of it. */
	tl_assert_contains(vm_row(s, "busy", line, sizeof(line)), " 64M   64M ");
	free(s);
	/* The VMM says the same. */
	char *sock = NULL;
	assert_true(asprintf(&sock, "%s/vmdeck/busy.sock", getenv("XDG_RUNTIME_DIR")) > 0);
	struct spawn_result r = vd("ctl", sock, "stats", NULL);
	assert_int_equal(r.status, 0);
	json_object *st = json_tokener_parse(r.out), *cpus = json_object_object_get(st, "cpus");
	assert_int_equal(json_object_array_length(cpus), 2);
	double c0 = json_object_get_double(json_object_object_get(json_object_array_get_idx(cpus, 0), "cpu_pct"));
	double c1 = json_object_get_double(json_object_object_get(json_object_array_get_idx(cpus, 1), "cpu_pct"));
	assert_true(c0 > 20 && c1 < 5);
	assert_int_equal(json_object_get_int64(json_object_object_get(json_object_object_get(st, "memory"),
									"configured")), 64 << 20);
	json_object_put(st);
	spawn_free(&r);
	/* Paused, its CPU drops to nothing; resumed, it is back. */
	keys(f, "p");
	free(wait_screen(f, "busy is paused", 5000));
	wait_cpu(f, "busy", idle_cpu, "idle", 10000);
	keys(f, "p");
	free(wait_screen(f, "busy is running", 5000));
	assert_true(running > 20);
	wait_cpu(f, "busy", busy_cpu, "busy again", 10000);
	/* The detail screen: a graph per vCPU, vCPU 0's full of bars. */
	keys(f, "Enter");
	s = wait_screen(f, "vCPU1", 5000);
	const char *g = strstr(s, "\nCPU "), *v1 = strstr(s, "vCPU1");
	assert_non_null(g);
	char graph[4096];
	snprintf(graph, sizeof(graph), "%.*s", (int)(v1 - g), g);
	if (tl_count(graph, "█") < 3)
		printf("no bars in the CPU graph:\n%s\n", s);
	assert_true(tl_count(graph, "█") >= 3);
	tl_assert_contains(s, "64M assigned");
	tl_assert_contains(s, "(no guest driver yet)");
	free(s);
	free(sock);
}

/* A number at PATH (keys separated by '.') in the reply to `vmdeck ctl VM CMD`. */
static double ctl_number(const char *vm, const char *cmd, const char *path)
{
	char *sock = NULL;
	assert_true(asprintf(&sock, "%s/vmdeck/%s.sock", getenv("XDG_RUNTIME_DIR"), vm) > 0);
	struct spawn_result r = vd("ctl", sock, cmd, NULL);
	free(sock);
	json_object *o = json_tokener_parse(r.out), *at = o;
	spawn_free(&r);
	char keys_[128], *save;
	snprintf(keys_, sizeof(keys_), "%s", path);
	for (char *k = strtok_r(keys_, ".", &save); k && at; k = strtok_r(NULL, ".", &save))
		at = json_object_object_get(at, k);
	double v = at ? json_object_get_double(at) : -1;
	json_object_put(o);
	return v;
}

/* Whether VM's `status` lists a forward from host port PORT. */
static bool forward_listed(const char *vm, int port)
{
	char *sock = NULL;
	assert_true(asprintf(&sock, "%s/vmdeck/%s.sock", getenv("XDG_RUNTIME_DIR"), vm) > 0);
	struct spawn_result r = vd("ctl", sock, "status", NULL);
	free(sock);
	json_object *o = json_tokener_parse(r.out), *devs = NULL;
	spawn_free(&r);
	bool found = false;
	if (o && json_object_object_get_ex(o, "devices", &devs))
		for (size_t i = 0; i < json_object_array_length(devs); i++) {
			json_object *fw = json_object_object_get(json_object_array_get_idx(devs, i), "forwards");
			for (size_t j = 0; fw && j < json_object_array_length(fw); j++)
				found |= json_object_get_int(json_object_object_get(json_object_array_get_idx(fw, j),
										    "host_port")) == port;
		}
	json_object_put(o);
	return found;
}

/* The detail screen's actions reach the VMM's control socket: the balloon
 * target (g_balloon's driver follows it), pause and resume, the power
 * button (g_ctl powers off), and a port forward added and removed while the
 * VM runs (hostfwd-add, hostfwd-remove). */
static void test_detail_actions_go_through_the_control_socket(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "bal", "--mem", "128M", "--kernel", guest_path("g_balloon.elf"), "--cmdline", "touch=32", NULL));
	ok(vd("new", "pw", "--mem", "64M", "--kernel", guest_path("g_ctl.elf"), "--cmdline", "action=power", NULL));
	ok(vd("start", "bal", NULL));
	ok(vd("start", "pw", NULL));
	open_tui(f, 160, 40, "tui --refresh 0.5 --select bal");
	free(wait_screen(f, "bal is running", 5000));
	keys(f, "Enter");
	/* The driver is up and reports the guest's own numbers. */
	free(wait_screen(f, "target 128M, guest has 128M of 128M\n", 10000));
	char *s = wait_screen(f, "Guest memory statistics", 10000);
	tl_assert_contains(s, "total_memory");
	free(s);
	keys(f, "b");
	free(wait_screen(f, "Guest keeps:", 2000));
	keys(f, "C-u 96M Enter");
	free(wait_screen(f, "target 96M, guest has 96M of 128M", 10000));
	assert_true(ctl_number("bal", "stats", "memory.balloon.actual") == 96 << 20);
	/* Pause and resume from here, as the VMM sees it. */
	keys(f, "p");
	free(wait_screen(f, "bal paused", 5000));
	char st[64];
	truth("bal", st, sizeof(st), NULL, 0, NULL);
	assert_string_equal(st, "paused");
	keys(f, "p");
	free(wait_screen(f, "bal running", 5000));
	/* A forward on the running VM: the VMM listens at once (on 127.0.0.1),
	 * the definition keeps it, and removing it closes the port. */
	uint16_t port = tl_free_tcp_port();
	char rule[64], key_line[96];
	snprintf(rule, sizeof(rule), "tcp::%d-:80", port);
	keys(f, "a");
	free(wait_screen(f, "Forward:", 2000));
	snprintf(key_line, sizeof(key_line), "C-u %s Enter", rule);
	keys(f, key_line);
	free(wait_screen(f, rule, 5000));
	assert_true(forward_listed("bal", port));
	assert_true(tl_tcp_port_open(port));
	keys(f, "x");
	free(wait_screen(f, "Remove the forward", 2000));
	keys(f, "y");
	free(wait_screen_gone(f, rule, 5000));
	assert_false(forward_listed("bal", port));
	assert_false(tl_tcp_port_open(port));
	keys(f, "Escape");
	/* The power button of the other VM: its guest powers off. */
	free(wait_screen(f, "F1Help F2Start", 3000));
	keys(f, "/ p w Enter Enter");
	free(wait_screen(f, "pw running", 5000));
	keys(f, "F3");
	free(wait_screen(f, "pw stopped", 10000));
	truth("pw", st, sizeof(st), NULL, 0, NULL);
	assert_string_equal(st, "stopped");
}

/* A guest kernel looping at CPL 0: on kvm_pvm (this project's usual host)
 * KVM emulates every instruction of it, and the TUI says at once that a
 * stock kernel cannot boot here instead of showing a silent console; on a
 * host with hardware virtualization the same guest is just busy. */
static void test_a_kernel_in_kvms_emulator_is_diagnosed(void **state)
{
	struct fixture *f = *state;
	ok(vd("new", "spin", "--mem", "64M", "--kernel", guest_path("g_hello.elf"), "--cmdline", "action=spin", NULL));
	ok(vd("start", "spin", NULL));
	open_tui(f, 200, 30, "tui --refresh 0.5");
	free(wait_screen(f, "spin is running", 5000));
	const char *why = "kvm_pvm emulates vCPU 0's kernel code";
	if (kvm_host_is_pvm()) {
		char *s = wait_screen(f, why, 10000);
		tl_assert_contains(s, "instructions/s): a stock Linux kernel cannot boot on this host");
		free(s);
		char st[64], reason[512];
		truth("spin", st, sizeof(st), reason, sizeof(reason), NULL);
		assert_string_equal(st, "running");
		tl_assert_contains(reason, why);
		keys(f, "Enter");
		free(wait_screen(f, "of a host CPU", 3000));
		s = capture(f);
		tl_assert_contains(s, why);             /* on the detail screen's first line too */
		free(s);
	} else {
		wait_cpu(f, "spin", busy_cpu, "busy", 15000);
		char *s = capture(f);
		tl_assert_not_contains(s, why);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wizard_start_console_and_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quit_leaves_vms_running_and_a_new_tui_finds_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_vmm_shows_crashed_and_the_tui_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_reason_and_log_in_detail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_and_small_terminals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_panel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_shows_the_display_and_types_into_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_statistics_in_the_row_and_the_detail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_actions_go_through_the_control_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_kernel_in_kvms_emulator_is_diagnosed, setup, teardown),
	};
	return cmocka_run_group_tests_name("console (TUI) in tmux", tests, NULL, NULL);
}
