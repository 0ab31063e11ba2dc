/* The processes behind library VMs without KVM: a shell script stands in
 * for the VMM, so the monitor, the exit record, the states and their
 * reasons, the pidfile and the VMM's command line can be checked exactly.
 * Also the statistics replies of real VMMs and port-forward syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/backend.h"
#include "src/pidfile.h"
#include "src/vmargs.h"
#include "src/vmctl.h"
#include "src/vmexit.h"
#include "src/vmspawn.h"
#include "src/vmstate.h"
#include "tests/lib/testlib.h"

struct fixture {
	char *home;
	struct vmlib lib;
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->home = tl_mkdtemp();
	tl_private_xdg(f->home);
	struct error err;
	assert_int_equal(vmlib_open(&f->lib, &err), 0);
	struct vmdef d;
	vmdef_init(&d);
	assert_int_equal(vmlib_create(&f->lib, "t", &d, &err), 0);
	vmdef_free(&d);
	f->dir = vmlib_path(&f->lib, "t", NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	/* No stand-in may outlive the test. */
	pid_t pid;
	if (vmlib_running(&f->lib, "t", &pid) && pid > 0)
		kill(pid, SIGKILL);
	for (int i = 0; i < 200 && vmspawn_monitor_alive(f->dir); i++)
		usleep(10000);
	tl_rmtree(f->home);
	vmlib_close(&f->lib);
	free(f->dir);
	free(f->home);
	free(f);
	return 0;
}

/* Starts SCRIPT (sh -c) as the VM's "VMM" in its directory. */
static void spawn(struct fixture *f, const char *script)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	struct vmspawn s = { .dir = f->dir, .exe = "/bin/sh", .argv = argv };
	bool busy;
	struct error err;
	assert_int_equal(vmspawn_start(&s, &busy, &err), 0);
}

/* Waits until the state is not STATE any more (or 5 s). */
static void wait_not(struct fixture *f, enum vm_state st, struct vm_status *out)
{
	for (int i = 0; i < 500; i++) {
		vmstate_get(&f->lib, "t", out);
		if (out->state != st)
			return;
		usleep(10000);
	}
}

/* A stand-in that locks the VM's pidfile like the VMM (vmm/vmm_ctl.h),
 * then runs CMD. */
#define LOCKED(cmd) "mkdir -p -m 700 \"$XDG_RUNTIME_DIR/vmdeck\"; exec 9>\"$XDG_RUNTIME_DIR/vmdeck/t.pid\"; " \
		    "flock -n 9 || exit 2; echo $$ >&9; " cmd

static void test_never_started_is_stopped(void **state)
{
	struct fixture *f = *state;
	struct vm_status st;
	vmstate_get(&f->lib, "t", &st);
	assert_int_equal(st.state, VM_STATE_STOPPED);
	assert_string_equal(st.reason, "");
	assert_int_equal(st.pid, 0);
}

static void test_crash_records_the_vmm_sentence(void **state)
{
	struct fixture *f = *state;
	spawn(f, "echo 'vmdeck: warning: something minor'; sleep 0.1; "
		 "echo 'vmdeck: error: KVM cannot run this guest (kvm_pvm)' >&2; exit 3");
	struct vm_status st;
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_CRASHED);
	assert_string_equal(st.reason, "KVM cannot run this guest (kvm_pvm)");
	assert_int_equal(st.exit_code, 3);
	assert_true(st.since > time(NULL) - 60);
	char *tail = vmstate_log_tail(&f->lib, "t", 1);
	assert_string_equal(tail, "vmdeck: error: KVM cannot run this guest (kvm_pvm)");
	free(tail);
	tail = vmstate_log_tail(&f->lib, "t", 5);
	tl_assert_contains(tail, "something minor\n");
	free(tail);
	/* The record is the file's text. */
	char *path = vmlib_path(&f->lib, "t", VMLIB_EXIT);
	char *rec = tl_read_file(path, NULL);
	tl_assert_contains(rec, "code=3\n");
	tl_assert_contains(rec, "message=KVM cannot run this guest (kvm_pvm)\n");
	free(rec);
	free(path);
}

static void test_clean_exit_is_stopped(void **state)
{
	struct fixture *f = *state;
	spawn(f, "exit 0");
	struct vm_status st;
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_STOPPED);
	assert_string_equal(st.reason, "the VMM exited normally");
	assert_int_equal(st.exit_code, 0);
}

static void test_running_then_killed_by_someone_else(void **state)
{
	struct fixture *f = *state;
	spawn(f, LOCKED("exec sleep 30"));
	struct vm_status st;
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_RUNNING);
	assert_true(st.pid > 0);
	/* A second start while a monitor lives is refused. */
	char *const argv[] = { "sh", "-c", "exit 0", NULL };
	struct vmspawn s = { .dir = f->dir, .exe = "/bin/sh", .argv = argv };
	bool busy = false;
	struct error err;
	assert_int_equal(vmspawn_start(&s, &busy, &err), -1);
	assert_true(busy);
	kill(st.pid, SIGKILL);
	wait_not(f, VM_STATE_RUNNING, &st);
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_CRASHED);
	assert_string_equal(st.reason, "the VMM was killed by signal 9 (SIGKILL)");
}

static void test_killed_by_vmdeck_kill_is_stopped(void **state)
{
	struct fixture *f = *state;
	spawn(f, LOCKED("exec sleep 30"));
	struct vm_status st;
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_RUNNING);
	struct error err;
	struct backend *b = backend_local_new("/bin/true", &err);
	assert_non_null(b);
	assert_int_equal(b->ops->kill(b, "t", &err), 0);
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_STOPPED);
	assert_string_equal(st.reason, "killed with vmdeck kill");
	/* Now it is not running: a second kill is refused in one sentence. */
	assert_int_equal(b->ops->kill(b, "t", &err), BE_EUSER);
	assert_string_equal(err.msg, "VM 't' is not running (stopped)");
	backend_free(b);
}

static void test_starting_and_vanished(void **state)
{
	struct fixture *f = *state;
	/* The monitor lives but nothing holds the VMM lock yet: starting. */
	spawn(f, "sleep 0.5; exit 0");
	struct vm_status st;
	vmstate_get(&f->lib, "t", &st);
	assert_int_equal(st.state, VM_STATE_STARTING);
	wait_not(f, VM_STATE_STARTING, &st);
	assert_int_equal(st.state, VM_STATE_STOPPED);
	/* A start, then no monitor and no record: both vanished. */
	char *rec = vmlib_path(&f->lib, "t", VMLIB_EXIT);
	unlink(rec);
	free(rec);
	vmstate_get(&f->lib, "t", &st);
	assert_int_equal(st.state, VM_STATE_CRASHED);
	tl_assert_contains(st.reason, "without an exit record");
}

static void test_exit_records_and_log_sentences(void **state)
{
	struct vmexit r = { .code = -1, .signal = 11, .time = 1700000000 }, back;
	snprintf(r.message, sizeof(r.message), "%s", "vCPU 0 failed");
	char text[600];
	size_t n = vmexit_format(&r, text, sizeof(text));
	assert_int_equal(n, strlen(text));
	assert_string_equal(text, "signal=11\ntime=1700000000\nmessage=vCPU 0 failed\n");
	char *dir = tl_mkdtemp(), *path = NULL;
	assert_true(asprintf(&path, "%s/rec", dir) > 0);
	tl_write_file(path, text, n);
	assert_int_equal(vmexit_read(path, &back), 0);
	assert_int_equal(back.signal, 11);
	assert_int_equal(back.code, -1);
	assert_true(vmexit_is_crash(&back));
	char why[600];
	vmexit_describe(&back, why, sizeof(why));
	assert_string_equal(why, "the VMM was killed by signal 11 (SIGSEGV); its log ends: vCPU 0 failed");
	/* The last non-blank line, prefixes and controls gone. */
	const char *log = "booting\nvmdeck run: error: the kernel\tis not a bzImage\n\n\n";
	tl_write_file(path, log, strlen(log));
	int fd = open(path, O_RDONLY);
	vmexit_log_sentence(fd, why, sizeof(why));
	close(fd);
	assert_string_equal(why, "the kernel is not a bzImage");
	tl_write_file(path, "", 0);
	fd = open(path, O_RDONLY);
	vmexit_log_sentence(fd, why, sizeof(why));
	close(fd);
	assert_string_equal(why, "");
	assert_int_equal(vmexit_read("/nonexistent/rec", &back), -1);
	free(path);
	tl_rmtree(dir);
	free(dir);
}

static void test_pidfile_refuses_a_second_holder(void **state)
{
	char *dir = tl_mkdtemp(), *path = NULL;
	assert_true(asprintf(&path, "%s/web.pid", dir) > 0);
	const char *who = "web";
	bool held;
	struct error err;
	int fd = pidfile_acquire(path, who, &held, &err);
	assert_true(fd >= 0);
	assert_false(held);
	pid_t pid = 0;
	assert_true(pidfile_held(path, &pid));
	assert_int_equal(pid, getpid());
	/* Another open file description is another holder. */
	assert_int_equal(pidfile_acquire(path, who, &held, &err), -1);
	assert_true(held);
	char want[128];
	snprintf(want, sizeof(want), "VM 'web' is already running (pid %d)", (int)getpid());
	assert_string_equal(err.msg, want);
	close(fd);
	assert_false(pidfile_held(path, NULL));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	tl_rmtree(dir);
	free(dir);
}

static void test_vmm_command_line(void **state)
{
	struct fixture *f = *state;
	struct vmdef d;
	struct vmargs a;
	struct error err;
	vmdef_init(&d);
	d.cpus = 2;
	d.mem = 1ull << 30;
	/* No kernel: one sentence saying how to give one. */
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), -1);
	assert_string_equal(err.msg, "VM 't' has no kernel: set [boot] kernel in its vm.conf "
				     "(`vmdeck new --kernel FILE` does it)");
	d.kernel = strdup("bzImage");          /* relative to the VM's directory, and missing */
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), -1);
	tl_assert_contains(err.msg, "the kernel '");
	tl_assert_contains(err.msg, "/t/bzImage' of VM 't' cannot be read");
	char *k = vmlib_path(&f->lib, "t", "bzImage");
	tl_write_file(k, "x", 1);
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), 0);
	char line[2048] = "";
	for (size_t i = 0; i < a.n; i++) {
		strcat(line, a.argv[i]);
		strcat(line, " ");
	}
	char want[2048];
	const char *h = getenv("XDG_DATA_HOME");
	snprintf(want, sizeof(want), "/usr/bin/vmdeck run --kernel %s --cmdline console=ttyS0 --mem 1024M --cpus 2 "
		 "--name t --serial socket:%s/run/vmdeck/t.serial --balloon "
		 "--display vga --keymap us --vnc unix:%s/run/vmdeck/t.vnc --net user ", k, h, h);
	assert_string_equal(line, want);
	assert_null(a.argv[a.n]);
	vmargs_free(&a);
	/* Forwards and the MAC ride on the one --net. */
	d.hostfwd[d.nr_hostfwd++] = strdup("tcp::8080-:80");
	d.mac = strdup("52:54:00:ab:cd:ef");
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), 0);
	assert_string_equal(a.argv[a.n - 1], "user,hostfwd=tcp::8080-:80,mac=52:54:00:ab:cd:ef");
	assert_string_equal(a.argv[a.n - 2], "--net");
	vmargs_free(&a);
	/* Disks in order, their paths resolved, commas doubled for --disk. */
	char *dk = vmlib_path(&f->lib, "t", "da,ta.qcow2");
	tl_write_file(dk, "x", 1);
	d.disks[0] = (struct vmdef_disk){ strdup("da,ta.qcow2"), strdup("qcow2"), strdup("none"), false };
	d.disks[1] = (struct vmdef_disk){ strdup("/etc/hostname"), strdup("raw"), strdup("writeback"), true };
	d.nr_disks = 2;
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), 0);
	assert_string_equal(a.argv[a.n - 4], "--disk");
	char *want_disk = NULL;
	assert_true(asprintf(&want_disk, "%s/vmdeck/vms/t/da,,ta.qcow2,format=qcow2,cache=none", getenv("XDG_DATA_HOME")) > 0);
	assert_string_equal(a.argv[a.n - 3], want_disk);
	assert_string_equal(a.argv[a.n - 1], "/etc/hostname,format=raw,cache=writeback,readonly=on");
	free(want_disk);
	vmargs_free(&a);
	/* A disk that is gone is a sentence, not a VMM failing later. */
	unlink(dk);
	assert_int_equal(vmargs_build(&f->lib, "t", &d, "/usr/bin/vmdeck", &a, &err), -1);
	tl_assert_contains(err.msg, "da,ta.qcow2' of VM 't' cannot be read");
	free(dk);
	free(k);
	vmdef_free(&d);
}

static void test_forward_syntax(void **state)
{
	assert_true(be_forward_valid("tcp::8080-:80"));
	assert_true(be_forward_valid("udp:127.0.0.1:5353-10.0.2.15:53"));
	assert_true(be_forward_valid("::2222-:22"));
	assert_false(be_forward_valid("8080-:80"));
	assert_false(be_forward_valid("tcp::0-:80"));
	assert_false(be_forward_valid("tcp::65536-:80"));
	assert_false(be_forward_valid("tcp::8080-:"));
	assert_false(be_forward_valid("tcp::8080:80"));
	assert_false(be_forward_valid("tcp::80x-:80"));
	assert_false(be_forward_valid("tcp::8080-:80,hostfwd=tcp::1-:2"));
	assert_false(be_forward_valid("sctp::8080-:80"));
	assert_false(be_forward_valid(""));
}

static json_object *load_reply(const char *path)
{
	char *text = tl_read_file(path, NULL);
	assert_non_null(text);
	json_object *o = json_tokener_parse(text);
	free(text);
	assert_non_null(o);
	return o;
}

/* Real `stats` replies, captured from running VMMs on /dev/kvm with
 *   vmdeck run --kernel build/guest/g_stats.elf --cpus 2 --mem 64M --balloon \
 *              --disk d.qcow2 --name cap --display none      (then, 3 s later)
 *   vmdeck ctl cap stats > tests/unit/data/stats-g_stats.json
 * vCPU 0 loops at ring 3, vCPU 1 halts; no balloon driver, no guest report. */
static void test_statistics_of_a_busy_and_an_idle_vcpu(void **state)
{
	json_object *o = load_reply("tests/unit/data/stats-g_stats.json");
	struct be_stats s;
	vmctl_parse_stats(o, &s);
	json_object_put(o);
	assert_true(s.valid);
	assert_string_equal(s.state, "running");
	assert_string_equal(s.last_error, "");              /* null in the reply */
	assert_true(s.uptime_s == 3.51);
	assert_true(s.cpu_pct.known && s.cpu_pct.v == 99.4);
	assert_int_equal(s.nr_vcpus, 2);
	assert_true(s.vcpu_pct[0].known && s.vcpu_pct[0].v == 99.4);
	assert_true(s.vcpu_pct[1].known && s.vcpu_pct[1].v == 0);
	assert_int_equal(s.mem_assigned, 64 << 20);
	assert_true(s.mem_rss.known && s.mem_rss.v == 7917568);
	/* A balloon nobody inflated: the guest keeps everything. */
	assert_true(s.balloon_target.known && s.balloon_target.v == 64 << 20);
	assert_true(s.balloon_actual.known && s.balloon_actual.v == 64 << 20);
	assert_false(s.balloon_driver);
	assert_int_equal(s.nr_guest, 0);
	assert_false(s.guest_age_ms.known);
	assert_false(s.guest_used.known);
	/* One disk, idle: known zero rates; no network card: unknown. */
	assert_true(s.disk_rd_bps.known && s.disk_rd_bps.v == 0);
	assert_true(s.disk_wr_bps.known && s.disk_wr_bps.v == 0);
	assert_false(s.net_rx_bps.known);
	assert_false(s.net_tx_bps.known);
	/* 7379 instructions KVM emulated in 3.51 s: the ring-3 guest barely uses it. */
	assert_true(s.emulated_per_s.known && s.emulated_per_s.v > 2000 && s.emulated_per_s.v < 2200);
	assert_int_equal(s.emulated_vcpu, 0);
}

/*   vmdeck run --kernel build/guest/g_balloon.elf --mem 128M --balloon=stats=0.2 \
 *              --stats-interval 0.5 --cmdline touch=32 --name bal --display none
 *   vmdeck ctl bal balloon 96M; sleep 2; vmdeck ctl bal stats
 * The guest's driver reports every tag T as 1000003 * (T + 1). */
static void test_statistics_of_a_ballooned_guest(void **state)
{
	json_object *o = load_reply("tests/unit/data/stats-g_balloon.json");
	struct be_stats s;
	vmctl_parse_stats(o, &s);
	json_object_put(o);
	assert_int_equal(s.mem_assigned, 128 << 20);
	assert_true(s.balloon_target.known && s.balloon_target.v == 96 << 20);
	assert_true(s.balloon_actual.known && s.balloon_actual.v == 96 << 20);
	assert_true(s.balloon_driver);
	assert_true(s.guest_age_ms.known && s.guest_age_ms.v == 15);
	/* Every tag in the reply's order ("updates" and "age_ms" are not tags). */
	static const char *const tags[] = { "swap_in", "swap_out", "major_faults", "minor_faults", "free_memory",
					    "total_memory", "available_memory", "disk_caches", "hugetlb_allocations",
					    "hugetlb_failures", "oom_kills", "alloc_stalls", "async_scans",
					    "direct_scans", "async_reclaims", "direct_reclaims" };
	assert_int_equal(s.nr_guest, 16);
	for (unsigned i = 0; i < 16; i++) {
		assert_string_equal(s.guest[i].name, tags[i]);
		assert_int_equal(s.guest[i].value, 1000003ull * (i + 1));
	}
	/* The made-up numbers have more available than total: used is 0, not negative. */
	assert_true(s.guest_used.known && s.guest_used.v == 0);
	assert_true(s.nr_vcpus == 1 && s.vcpu_pct[0].known);
}

/* What the document says may be null or absent, and junk. */
static void test_statistics_unknowns_and_junk(void **state)
{
	const char *text =
		"{\"state\":\"crashed\",\"last_error\":\"the guest kernel panicked (pvpanic)\",\"uptime_s\":1,"
		"\"cpu_pct\":null,\"cpus\":[{\"index\":0,\"cpu_pct\":null}],"
		"\"memory\":{\"configured\":536870912,\"rss\":null,\"balloon\":null,"
		"\"guest\":{\"age_ms\":1500,\"updates\":3,\"total_memory\":500000000,\"free_memory\":100000000}},"
		"\"devices\":[{\"kind\":\"net\",\"index\":0,\"rates\":{\"rx_bytes\":1000.0,\"tx_bytes\":20.0}},"
		"{\"kind\":\"net\",\"index\":1,\"rates\":{\"rx_bytes\":24.0,\"tx_bytes\":null}},"
		"{\"kind\":\"balloon\",\"index\":0,\"rates\":{\"discarded_bytes\":4096.0}},"
		"{\"kind\":\"disk\",\"index\":0,\"rates\":null}]}";
	json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	struct be_stats s;
	vmctl_parse_stats(o, &s);
	json_object_put(o);
	assert_string_equal(s.state, "crashed");
	assert_string_equal(s.last_error, "the guest kernel panicked (pvpanic)");
	assert_false(s.cpu_pct.known);
	assert_int_equal(s.nr_vcpus, 1);
	assert_false(s.vcpu_pct[0].known);
	assert_false(s.mem_rss.known);
	assert_false(s.balloon_target.known);
	assert_true(s.guest_used.known && s.guest_used.v == 400000000);   /* total - free */
	assert_true(s.net_rx_bps.v == 1024 && s.net_tx_bps.v == 20);       /* all cards */
	assert_false(s.disk_rd_bps.known);                                 /* other kinds do not count */
	assert_false(s.emulated_per_s.known);
	/* A stock kernel booting on kvm_pvm, as the demo VM's reply had it. */
	o = json_tokener_parse("{\"uptime_s\":342,\"cpus\":[{\"emulated_insns\":56},{\"emulated_insns\":808940010}]}");
	vmctl_parse_stats(o, &s);
	json_object_put(o);
	assert_int_equal(s.emulated_vcpu, 1);
	assert_true(s.emulated_per_s.v > 2.36e6 && s.emulated_per_s.v < 2.37e6);
	const char *junk[] = { "[]", "{\"cpus\":7}", "{\"memory\":[1],\"devices\":{}}", "{\"cpus\":[1,\"x\",null]}",
			       "{\"devices\":[7,{\"kind\":3},{\"kind\":\"net\",\"rates\":[]}],\"state\":5}" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		o = json_tokener_parse(junk[i]);
		vmctl_parse_stats(o, &s);
		assert_false(s.cpu_pct.known);
		assert_false(s.net_rx_bps.known);
		assert_string_equal(s.state, "");
		json_object_put(o);
	}
	vmctl_parse_stats(NULL, &s);
	assert_false(s.valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_started_is_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_records_the_vmm_sentence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_exit_is_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_then_killed_by_someone_else, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_by_vmdeck_kill_is_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_starting_and_vanished, setup, teardown),
		cmocka_unit_test(test_exit_records_and_log_sentences),
		cmocka_unit_test(test_pidfile_refuses_a_second_holder),
		cmocka_unit_test_setup_teardown(test_vmm_command_line, setup, teardown),
		cmocka_unit_test(test_forward_syntax),
		cmocka_unit_test(test_statistics_of_a_busy_and_an_idle_vcpu),
		cmocka_unit_test(test_statistics_of_a_ballooned_guest),
		cmocka_unit_test(test_statistics_unknowns_and_junk),
	};
	return cmocka_run_group_tests_name("VM processes", tests, NULL, NULL);
}
