/* The VM library commands end to end on the real /dev/kvm with tiny
 * guests: new, list --json, start (detached, outliving its starter),
 * console, kill, crashes with their reasons, and every refusal with exit
 * status 2 and one sentence. */
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
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "tests/lib/testlib.h"

struct fixture {
	char *home;
};

static int setup(void **state)
{
	if (!kvm_usable())
		skip();
	struct fixture *f = calloc(1, sizeof(*f));
	f->home = tl_mkdtemp();
	tl_private_xdg(f->home);
	*state = f;
	return 0;
}

/* Runs vmdeck with ARGS (NULL-terminated) and returns the result. */
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

static void ok(struct spawn_result r, const char *want_out)
{
	if (r.status != 0 || !strstr(r.out, want_out))
		printf("exit %d\nstdout: %s\nstderr: %s\n(wanted \"%s\")\n", r.status, r.out, r.err, want_out);
	assert_int_equal(r.status, 0);
	tl_assert_contains(r.out, want_out);
	spawn_free(&r);
}

/* Exit status 2, one line on stderr containing WANT, nothing on stdout. */
static void refused(struct spawn_result r, const char *want)
{
	if (r.status != 2 || !strstr(r.err, want))
		printf("exit %d\nstdout: %s\nstderr: %s\n(wanted \"%s\")\n", r.status, r.out, r.err, want);
	assert_int_equal(r.status, 2);
	tl_assert_contains(r.err, want);
	assert_int_equal(tl_count(r.err, "\n"), 1);
	assert_string_equal(r.out, "");
	spawn_free(&r);
}

static void kill_all(void)
{
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
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	kill_all();
	tl_rmtree(f->home);
	free(f->home);
	free(f);
	return 0;
}

/* The VM NAME from `vmdeck list --json` (caller puts the array). */
static json_object *listed(const char *name, json_object **arr)
{
	struct spawn_result r = vd("list", "--json", NULL);
	assert_int_equal(r.status, 0);
	*arr = json_tokener_parse(r.out);
	spawn_free(&r);
	assert_non_null(*arr);
	for (size_t i = 0; i < json_object_array_length(*arr); i++) {
		json_object *o = json_object_array_get_idx(*arr, i);
		if (!strcmp(json_object_get_string(json_object_object_get(o, "name")), name))
			return o;
	}
	return NULL;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	return v ? json_object_get_string(v) : NULL;
}

/* Waits up to MS for VM NAME to be in STATE; returns its JSON text. */
static char *wait_state(const char *name, const char *state, int ms)
{
	char *text = NULL;
	for (int waited = 0; waited <= ms; waited += 100) {
		json_object *arr, *o = listed(name, &arr);
		bool match = o && !strcmp(field(o, "state"), state);
		free(text);
		text = strdup(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
				: "(absent)");
		json_object_put(arr);
		if (match)
			return text;
		usleep(100000);
	}
	printf("VM %s never became %s: %s\n", name, state, text);
	fail();
	return text;
}

static void test_new_and_list_json(void **state)
{
	ok(vd("new", "web", "--cpus", "2", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), "--cmdline", "quiet",
	      "--net", "user,hostfwd=tcp::8080-:80,hostfwd=udp::5353-:53", NULL), "VM 'web' created");
	json_object *arr, *o = listed("web", &arr);
	assert_non_null(o);
	assert_string_equal(field(o, "state"), "stopped");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "cpus")), 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "memory")), 64 << 20);
	assert_null(json_object_object_get(o, "pid"));
	assert_null(json_object_object_get(o, "stats"));
	json_object_put(arr);
	/* The definition on disk is the documented, readable vm.conf. */
	char *conf = NULL;
	assert_true(asprintf(&conf, "%s/vmdeck/vms/web/vm.conf", getenv("XDG_DATA_HOME")) > 0);
	char *text = tl_read_file(conf, NULL);
	tl_assert_contains(text, "cpus=2\n");
	tl_assert_contains(text, "memory=64M\n");
	tl_assert_contains(text, "cmdline=quiet\n");
	tl_assert_contains(text, "hostfwd=tcp::8080-:80;udp::5353-:53;\n");
	tl_assert_contains(text, guest_path("g_irq.elf"));
	free(text);
	free(conf);
	struct spawn_result r = vd("list", NULL);
	assert_int_equal(r.status, 0);
	tl_assert_contains(r.out, "NAME");
	tl_assert_contains(r.out, "web");
	tl_assert_contains(r.out, "stopped");
	spawn_free(&r);
}

static void test_refusals(void **state)
{
	refused(vd("start", "nosuch", NULL), "vmdeck start: there is no VM named 'nosuch'");
	refused(vd("delete", "nosuch", NULL), "there is no VM named 'nosuch'");
	refused(vd("console", "nosuch", NULL), "there is no VM named 'nosuch'");
	refused(vd("kill", "nosuch", NULL), "there is no VM named 'nosuch'");
	refused(vd("new", "-bad", NULL), "unknown option '-bad'");
	refused(vd("new", "a/b", NULL), "'a/b' is not a valid VM name");
	refused(vd("new", "x", "--cpus", "0", NULL), "--cpus takes a number from 1 to 255, not '0'");
	refused(vd("new", "x", "--mem", "lots", NULL), "--mem takes a size such as 512M or 2G, not 'lots'");
	refused(vd("new", "x", "--kernel", "/nonexistent", NULL), "the kernel '/nonexistent' cannot be used");
	refused(vd("new", "x", "--net", "user,hostfwd=8080:80", NULL), "--net hostfwd takes");
	refused(vd("new", "x", "--net", "none,hostfwd=tcp::1-:2", NULL), "--net none cannot forward ports");
	refused(vd("list", "extra", NULL), "unexpected argument 'extra'");
	refused(vd("start", NULL), "needs a VM name");
	refused(vd("clone", "a", NULL), "needs two VM names");
	ok(vd("new", "nokernel", NULL), "created");
	refused(vd("start", "nokernel", NULL), "VM 'nokernel' has no kernel: set [boot] kernel in its vm.conf");
	/* A VMM that refuses its kernel: start says why with status 2 when it
	 * sees it happen, and the VM's state says why in any case. */
	ok(vd("new", "junk", "--kernel", "/etc/hostname", NULL), "created");
	struct spawn_result r = vd("start", "junk", NULL);
	if (r.status == 2)
		refused(r, "VM 'junk' did not start: the kernel '/etc/hostname' is neither a Linux bzImage nor an ELF");
	else
		spawn_free(&r);
	char *text = wait_state("junk", "crashed", 10000);
	tl_assert_contains(text, "the kernel '/etc/hostname' is neither a Linux bzImage nor an ELF kernel");
	free(text);
	ok(vd("new", "dup", NULL), "created");
	refused(vd("new", "dup", NULL), "a VM named 'dup' already exists");
	refused(vd("rename", "dup", "nokernel", NULL), "a VM named 'nokernel' already exists");
	refused(vd("console", "dup", NULL), "VM 'dup' is not running (stopped)");
	refused(vd("pause", "dup", NULL), "VM 'dup' is not running (stopped)");
}

static void test_start_runs_detached_and_refuses_twice(void **state)
{
	ok(vd("new", "irq", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL), "created");
	ok(vd("start", "irq", NULL), "VM 'irq' started (VMM pid ");
	char *text = wait_state("irq", "running", 5000);
	free(text);
	json_object *arr, *o = listed("irq", &arr);
	int pid = json_object_get_int(json_object_object_get(o, "pid"));
	json_object_put(arr);
	assert_true(pid > 0);
	/* Detached: its own session, not a child of ours or of `vmdeck start`. */
	assert_true(getsid(pid) != getsid(0));
	char path[64], *stat_text;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat_text = tl_read_file(path, NULL);
	int ppid = 0;
	sscanf(strrchr(stat_text, ')') + 2, "%*c %d", &ppid);
	free(stat_text);
	assert_true(ppid != getpid());
	/* Refusals while it runs, with its pid. */
	char want[128];
	snprintf(want, sizeof(want), "VM 'irq' is already running (pid %d)", pid);
	refused(vd("start", "irq", NULL), want);
	snprintf(want, sizeof(want), "VM 'irq' is running (pid %d): stop it before you delete it", pid);
	refused(vd("delete", "irq", NULL), want);
	refused(vd("rename", "irq", "other", NULL), "stop it before you rename it");
	refused(vd("clone", "irq", "other", NULL), "stop it before you clone it");
	/* A VMM by hand under the same name is refused by the VMM's own lock
	 * (RUNDIR/irq.pid, the one the library reads). */
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_irq.elf"), "--mem", "64M",
			 "--serial", "none", "--name", "irq", NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, &r), 0);
	snprintf(want, sizeof(want), "vmdeck run: VM 'irq' is already running (pid %d)", pid);
	refused(r, want);
	char *pidfile = NULL;
	assert_true(asprintf(&pidfile, "%s/vmdeck/irq.pid", getenv("XDG_RUNTIME_DIR")) > 0);
	char *held = tl_read_file(pidfile, NULL);
	assert_int_equal(atoi(held), pid);
	free(held);
	free(pidfile);
	/* Kill: stopped, with the reason, and the pid gone. */
	ok(vd("kill", "irq", NULL), "VM 'irq' killed");
	text = wait_state("irq", "stopped", 3000);
	tl_assert_contains(text, "\"reason\":\"killed with vmdeck kill\"");
	free(text);
	assert_true(kill(pid, 0) < 0);
	ok(vd("delete", "irq", NULL), "VM 'irq' deleted");
	o = listed("irq", &arr);
	assert_null(o);
	json_object_put(arr);
}

static void test_console_attaches_and_detaches(void **state)
{
	ok(vd("new", "echo", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL), "created");
	ok(vd("start", "echo", NULL), "started");
	free(wait_state("echo", "running", 5000));
	char *argv[] = { (char *)vmdeck_bin(), "console", "echo", NULL };
	const struct pty_step steps[] = {
		{ "irq: ready", "k" },            /* the history shows the boot line first */
		{ "irq: rx k", "\x1d" },          /* then our key comes back; Ctrl-] detaches */
		{ NULL, NULL },
	};
	struct spawn_result r;
	assert_int_equal(spawn_pty(argv, steps, 20000, &r), 0);
	if (r.status != 0)
		printf("console output: %s\n", r.out);
	assert_int_equal(r.status, 0);
	tl_assert_contains(r.out, "[attached to VM 'echo'; Ctrl-] detaches]");
	tl_assert_contains(r.out, "[detached from VM 'echo']");
	spawn_free(&r);
	/* Detaching left the VM running. */
	free(wait_state("echo", "running", 1000));
}

static void test_crashes_say_why(void **state)
{
	/* A guest that triple-faults: the VMM exits 3 with its sentence. */
	ok(vd("new", "tf", "--mem", "64M", "--kernel", guest_path("g_hello.elf"), "--cmdline", "action=triple", NULL),
	   "created");
	struct spawn_result r = vd("start", "tf", NULL);
	spawn_free(&r);                  /* it may crash before or after `start` returns */
	char *text = wait_state("tf", "crashed", 10000);
	tl_assert_contains(text, "triple-faulted on vCPU 0");
	free(text);
	/* A VMM killed by someone else: crashed, by which signal. */
	ok(vd("new", "victim", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL), "created");
	ok(vd("start", "victim", NULL), "started");
	free(wait_state("victim", "running", 5000));
	json_object *arr, *o = listed("victim", &arr);
	int pid = json_object_get_int(json_object_object_get(o, "pid"));
	json_object_put(arr);
	kill(pid, SIGKILL);
	text = wait_state("victim", "crashed", 3000);
	tl_assert_contains(text, "the VMM was killed by signal 9 (SIGKILL)");
	free(text);
	/* A guest that powers off: stopped. */
	ok(vd("new", "short", "--mem", "64M", "--kernel", guest_path("g_user.elf"), "--cmdline", "loops=1000", NULL),
	   "created");
	r = vd("start", "short", NULL);
	spawn_free(&r);
	free(wait_state("short", "stopped", 10000));
	/* Crashed and stopped VMs start again. */
	ok(vd("start", "victim", NULL), "started");
	free(wait_state("victim", "running", 5000));
}

static void test_clone_and_rename(void **state)
{
	ok(vd("new", "base", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL), "created");
	ok(vd("clone", "base", "copy", NULL), "VM 'base' cloned as 'copy'");
	ok(vd("rename", "copy", "moved", NULL), "VM 'copy' renamed to 'moved'");
	json_object *arr, *o = listed("moved", &arr);
	assert_non_null(o);
	json_object_put(arr);
	o = listed("copy", &arr);
	assert_null(o);
	json_object_put(arr);
	ok(vd("start", "moved", NULL), "started");
	free(wait_state("moved", "running", 5000));
}

/* pause, resume and stop go through the VMM's control socket: the VMM's
 * own `status` agrees, g_ctl powers off on the button, and a guest that
 * ignores it (g_irq) is still running at the timeout, then --force ends it. */
static void test_pause_resume_and_stop_through_the_control_socket(void **state)
{
	ok(vd("new", "pw", "--mem", "64M", "--kernel", guest_path("g_ctl.elf"), "--cmdline", "action=power", NULL),
	   "created");
	ok(vd("new", "deaf", "--mem", "64M", "--kernel", guest_path("g_irq.elf"), NULL), "created");
	ok(vd("start", "pw", NULL), "started");
	ok(vd("start", "deaf", NULL), "started");
	char *sock = NULL;
	assert_true(asprintf(&sock, "%s/vmdeck/pw.sock", getenv("XDG_RUNTIME_DIR")) > 0);
	ok(vd("pause", "pw", NULL), "VM 'pw' paused");
	free(wait_state("pw", "paused", 3000));
	ok(vd("ctl", sock, "status", NULL), "\"state\":\"paused\"");
	ok(vd("resume", "pw", NULL), "VM 'pw' resumed");
	ok(vd("ctl", sock, "status", NULL), "\"state\":\"running\"");
	ok(vd("stop", "pw", NULL), "VM 'pw' stopped");
	char *text = wait_state("pw", "stopped", 3000);
	tl_assert_contains(text, "\"reason\":\"the VMM exited normally\"");
	free(text);
	free(sock);
	struct spawn_result r = vd("stop", "--timeout", "1", "deaf", NULL);
	assert_int_equal(r.status, 1);
	tl_assert_contains(r.err, "VM 'deaf' is still running 1 seconds after its power button was pressed");
	spawn_free(&r);
	ok(vd("stop", "--timeout", "0.5", "--force", "deaf", NULL), "VM 'deaf' killed");
	free(wait_state("deaf", "stopped", 3000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_and_list_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_runs_detached_and_refuses_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_attaches_and_detaches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crashes_say_why, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_and_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_and_stop_through_the_control_socket, setup, teardown),
	};
	return cmocka_run_group_tests_name("VM lifecycle commands", tests, NULL, NULL);
}
