/* Host KVM tier for the control socket, the statistics and the balloon:
 * the real `vmdeck run` with tiny guests, driven by the real `vmdeck ctl`
 * and `vmdeck stats`, measured from the outside (/proc/PID/status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "tests/lib/ctltest.h"
#include "tests/lib/testlib.h"

#define SKIP_WITHOUT_KVM() do { if (!kvm_usable()) skip(); } while (0)
#define MiB (1ull << 20)

struct vmtest {
	char dir[64], sock[128];
	struct vmproc p;
};

/* Starts GUEST with a control socket in a fresh directory; extra vmdeck
 * arguments follow (NULL-terminated). */
static void start_vm(struct vmtest *t, const char *guest, ...)
{
	test_tmpdir(t->dir, sizeof(t->dir));
	snprintf(t->sock, sizeof(t->sock), "%s/vm.sock", t->dir);
	char *argv[40] = { (char *)vmdeck_bin(), "run", "--kernel", strdup(guest_path(guest)),
			   "--control", t->sock };
	int n = 6;
	va_list ap;
	va_start(ap, guest);
	for (char *a; n < 39 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(vmproc_start(&t->p, argv, NULL), 0);
	free(argv[3]);
}

static void wait_for(struct vmtest *t, const char *text, int ms)
{
	if (!vmproc_wait_for(&t->p, text, ms)) {
		printf("waited %d ms for \"%s\"; guest output:\n%s\nvmdeck stderr:\n%s\n", ms, text, t->p.obuf, t->p.ebuf);
		fail();
	}
}

static void stop_vm(struct vmtest *t)
{
	vmproc_free(&t->p);
	unlink(t->sock);
	rmdir(t->dir);
}

static json_object *ctl_json(struct vmtest *t, const char *cmd, const char *arg)
{
	char *out = NULL;
	int st = vmdeck_ctl(t->sock, &out, cmd, arg, NULL);
	assert_int_equal(st, 0);
	json_object *o = json_tokener_parse(out);
	if (!o)
		printf("not JSON: %s\n", out);
	assert_non_null(o);
	free(out);
	return o;
}

static json_object *stats_json(struct vmtest *t)
{
	char *argv[] = { (char *)vmdeck_bin(), "stats", t->sock, "--json", NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, &r), 0);
	assert_int_equal(r.status, 0);
	json_object *o = json_tokener_parse(r.out);
	assert_non_null(o);
	spawn_free(&r);
	return o;
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

static double num(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	if (!v || json_object_is_type(v, json_type_null)) {
		printf("no number at %s in %s\n", path, json_object_to_json_string(o));
		fail();
	}
	return json_object_get_double(v);
}

static const char *str(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v ? json_object_get_string(v) : "";
}

/* A vCPU wanted a CPU for SHARE% of the time: it ran or waited for one.
 * The machine may be shared, so the run part alone is not a fair test. */
static double busy(json_object *s, int cpu)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "cpus.%d.cpu_pct", cpu);
	snprintf(b, sizeof(b), "cpus.%d.steal_pct", cpu);
	return num(s, a) + num(s, b);
}

static void test_stats_show_busy_and_idle_vcpus(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_stats.elf", "--cpus", "2", "--mem", "64M", "--stats-interval", "1", NULL);
	wait_for(&t, "vcpu 0 loops at cpl 3", 20000);
	usleep(2200000);
	json_object *s = stats_json(&t);
	printf("vcpu0 cpu %.1f%% steal %.1f%%, vcpu1 cpu %.1f%% steal %.1f%%, interval %.3f s\n",
	       num(s, "cpus.0.cpu_pct"), num(s, "cpus.0.steal_pct"), num(s, "cpus.1.cpu_pct"),
	       num(s, "cpus.1.steal_pct"), num(s, "interval_s"));
	/* On a busy host the loop waits for a CPU part of the time (steal);
	 * it runs or waits all of the time (the kernel accounts a wait when it
	 * ends, so a sample may miss the current one), the halted vCPU neither. */
	assert_true(busy(s, 0) >= 80.0);
	assert_true(num(s, "cpus.0.cpu_pct") >= 0.5);
	assert_true(busy(s, 1) <= 5.0);
	double cpu_ns = num(s, "cpus.0.cpu_ns");
	assert_true(cpu_ns > 0);
	assert_true(num(s, "interval_s") > 0.9);        /* a loaded host may fire the timer late */
	if (!strcmp(str(s, "cpus.0.exits_source"), "kvm")) {
		/* The idle vCPU halted once, with interrupts off, and stayed halted. */
		assert_true(num(s, "cpus.1.halts") >= 1);
		assert_true(num(s, "cpus.1.halts_per_s") < 5);
	}
	assert_string_equal(str(s, "state"), "running");
	json_object_put(s);

	/* Paused, the busy vCPU uses nothing; resumed, it is busy again. */
	json_object_put(ctl_json(&t, "pause", NULL));
	usleep(2200000);
	s = stats_json(&t);
	assert_string_equal(str(s, "state"), "paused");
	assert_true(busy(s, 0) <= 5.0);
	json_object_put(s);
	json_object_put(ctl_json(&t, "resume", NULL));
	usleep(2200000);
	s = stats_json(&t);
	assert_string_equal(str(s, "state"), "running");
	assert_true(busy(s, 0) >= 80.0);
	assert_true(num(s, "cpus.0.cpu_ns") > cpu_ns);   /* totals only grow */
	json_object_put(s);

	/* CSV: a header and one row per sample, all with as many fields. */
	char *argv[] = { (char *)vmdeck_bin(), "stats", t.sock, "--csv", "--watch", "0.6", "--count", "3", NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, &r), 0);
	assert_int_equal(r.status, 0);
	int lines = 0, fields = -1;
	for (char *save, *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int f = 1;
		for (char *c = l; *c; c++)
			f += *c == ',';
		if (fields < 0)
			fields = f;
		assert_int_equal(f, fields);
		if (lines == 0)
			assert_non_null(strstr(l, "vcpu1_cpu_pct"));
		lines++;
	}
	assert_int_equal(lines, 4);
	spawn_free(&r);

	json_object_put(ctl_json(&t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t.p, 10000), 0);
	struct stat st;
	assert_int_equal(stat(t.sock, &st), -1);        /* the socket is gone with the VMM */
	stop_vm(&t);
}

static void test_balloon_returns_memory_and_reports_guest_stats(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_balloon.elf", "--mem", "128M", "--balloon=stats=0.2", "--stats-interval", "0.2",
		 "--cmdline", "touch=32", NULL);
	wait_for(&t, "touched 32 MiB, ready", 20000);
	/* A subscriber for the "balloon reached its target" event. */
	struct vmproc sub;
	char *sargv[] = { (char *)vmdeck_bin(), "ctl", t.sock, "subscribe", "balloon,state", NULL };
	assert_int_equal(vmproc_start(&sub, sargv, NULL), 0);
	assert_true(vmproc_wait_for(&sub, "\"events\"", 10000));
	uint64_t before = proc_rss(t.p.pid);
	json_object *r = ctl_json(&t, "balloon", "96M");
	assert_int_equal((uint64_t)num(r, "size"), 32 * MiB);
	assert_true(json_object_get_boolean(at(r, "driver")));
	json_object_put(r);
	wait_for(&t, "inflated to 8192 pages", 20000);
	/* The VMM's RSS drops by at least 90% of the ballooned 32 MiB. */
	uint64_t after = proc_rss(t.p.pid);
	for (int i = 0; i < 100 && before - after < 29 * MiB; i++) {
		usleep(100000);
		after = proc_rss(t.p.pid);
	}
	printf("VmRSS %.1f MiB -> %.1f MiB\n", before / 1048576.0, after / 1048576.0);
	assert_true(after < before && before - after >= (uint64_t)(0.9 * 32 * MiB));
	assert_true(vmproc_wait_for(&sub, "\"event\":\"balloon\"", 10000));
	assert_non_null(strstr(sub.obuf, "\"reached\":true"));

	/* The guest's numbers, exactly as it sent them, and the balloon as the
	 * guest driver reports it (after a sample newer than the inflation). */
	usleep(500000);
	json_object *s = stats_json(&t);
	printf("stats: RSS %.1f MiB, guest RAM %.1f MiB, VMM %.1f MiB\n", num(s, "memory.rss") / 1048576,
	       num(s, "memory.rss_guest") / 1048576, num(s, "memory.rss_vmm") / 1048576);
	static const char *const tags[] = {
		"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
		"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures", "oom_kills",
		"alloc_stalls", "async_scans", "direct_scans", "async_reclaims", "direct_reclaims",
	};
	for (unsigned i = 0; i < 16; i++) {
		char path[64];
		snprintf(path, sizeof(path), "memory.guest.%s", tags[i]);
		assert_int_equal((uint64_t)num(s, path), 1000003ull * (i + 1));
	}
	assert_true(num(s, "memory.guest.age_ms") < 2000);
	assert_true(num(s, "memory.guest.updates") >= 2);        /* asked again and answered */
	assert_int_equal((uint64_t)num(s, "memory.balloon.actual"), 96 * MiB);
	assert_int_equal((uint64_t)num(s, "memory.balloon.size_actual"), 32 * MiB);
	assert_int_equal((uint64_t)num(s, "memory.balloon.bad_pfns"), 2);   /* counted, skipped */
	assert_int_equal((uint64_t)num(s, "memory.balloon.reported"), 2 * MiB);
	assert_int_equal((uint64_t)num(s, "memory.balloon.discarded"), 34 * MiB);
	assert_true(json_object_get_boolean(at(s, "memory.balloon.free_page_reporting")));
	assert_true(json_object_get_boolean(at(s, "memory.balloon.deflate_on_oom")));
	assert_true(num(s, "memory.rss_guest") < 8 * MiB);
	assert_true(num(s, "memory.rss") >= num(s, "memory.rss_guest"));
	json_object_put(s);

	/* Deflating gives the pages back; they come back as zeros. */
	json_object_put(ctl_json(&t, "balloon", "128M"));
	wait_for(&t, "deflated to 0 pages, a returned page reads 0x0", 20000);
	s = stats_json(&t);
	assert_int_equal((uint64_t)num(s, "memory.balloon.actual"), 128 * MiB);
	json_object_put(s);
	json_object_put(ctl_json(&t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t.p, 10000), 0);
	vmproc_wait(&sub, 5000);
	assert_non_null(strstr(sub.obuf, "\"shutting-down\""));
	vmproc_free(&sub);
	stop_vm(&t);
}

static void test_balloon_without_device_is_unavailable(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_ctl.elf", "--mem", "64M", NULL);
	wait_for(&t, "ctl: ready", 20000);
	char *out = NULL;
	assert_int_equal(vmdeck_ctl(t.sock, &out, "balloon", "32M", NULL), 1);
	free(out);
	assert_int_equal(vmdeck_ctl(t.sock, &out, "balloon", "target=lots", NULL), 2);
	free(out);
	assert_int_equal(vmdeck_ctl(t.sock, &out, "fly", NULL), 2);
	free(out);
	json_object *s = ctl_json(&t, "stats", NULL);
	assert_true(json_object_is_type(at(s, "memory.balloon"), json_type_null));
	json_object_put(s);
	json_object_put(ctl_json(&t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t.p, 10000), 0);
	stop_vm(&t);
}

/* The guest RAM mapping of a running VMM, from /proc/PID/smaps: its start
 * address and whether the kernel may back it with huge pages. */
static bool guest_ram_mapping(pid_t pid, uint64_t size_kib, unsigned long *start, int *thp_eligible)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	unsigned long lo = 0, hi = 0;
	bool found = false;
	*thp_eligible = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		int v;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (found)
				break;
			lo = a;
			hi = b;
		} else if (!found && (hi - lo) / 1024 == size_kib && sscanf(line, "THPeligible: %d", &v) == 1) {
			*start = lo;
			*thp_eligible = v;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static bool thp_mode_is(const char *mode)
{
	char want[32];
	char *modes = tl_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	snprintf(want, sizeof(want), "[%s]", mode);
	bool is = modes && strstr(modes, want);
	free(modes);
	return is;
}

/* Guest RAM starts on a 2 MiB boundary, so that guest-physical huge pages
 * can be host huge pages; it asks for them (MADV_HUGEPAGE) unless a
 * balloon returns 4 KiB pages that khugepaged would fill back in, and then
 * it refuses them (MADV_NOHUGEPAGE). */
static void test_guest_ram_is_huge_page_aligned(void **state)
{
	SKIP_WITHOUT_KVM();
	const char *balloon[] = { NULL, "--balloon" };
	for (int i = 0; i < 2; i++) {
		struct vmtest t;
		start_vm(&t, "g_ctl.elf", "--mem", "96M", balloon[i], NULL);
		wait_for(&t, "ctl: ready", 20000);
		unsigned long start = 1;
		int eligible;
		assert_true(guest_ram_mapping(t.p.pid, 96 * 1024, &start, &eligible));
		assert_int_equal(start % (2 * MiB), 0);
		if (balloon[i])
			assert_int_equal(eligible, 0);
		else if (!thp_mode_is("never"))
			assert_int_equal(eligible, 1);
		json_object_put(ctl_json(&t, "quit", NULL));
		assert_int_equal(vmproc_wait(&t.p, 10000), 0);
		stop_vm(&t);
	}
}

static void test_powerdown_lets_the_guest_power_off(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_ctl.elf", "--mem", "64M", "--cmdline", "action=power", NULL);
	wait_for(&t, "waiting for the power button", 20000);
	struct vmproc sub;
	char *sargv[] = { (char *)vmdeck_bin(), "ctl", t.sock, "subscribe", NULL };
	assert_int_equal(vmproc_start(&sub, sargv, NULL), 0);
	assert_true(vmproc_wait_for(&sub, "\"events\"", 10000));
	json_object *r = ctl_json(&t, "powerdown", NULL);
	assert_true(json_object_get_boolean(at(r, "pressed")));
	json_object_put(r);
	assert_int_equal(vmproc_wait(&t.p, 15000), 0);
	assert_non_null(strstr(t.p.obuf, "ctl: power button pressed, powering off"));
	assert_string_equal(t.p.ebuf, "");
	vmproc_wait(&sub, 5000);
	assert_non_null(strstr(sub.obuf, "\"reason\":\"the guest powered off\""));
	vmproc_free(&sub);
	stop_vm(&t);
}

static void test_guest_panic_is_an_event_and_a_state(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_ctl.elf", "--mem", "64M", "--cmdline", "action=panic", NULL);
	wait_for(&t, "press a key to panic", 20000);
	assert_non_null(strstr(t.p.obuf, "pvpanic capabilities 0x3"));
	struct vmproc sub;
	char *sargv[] = { (char *)vmdeck_bin(), "ctl", t.sock, "subscribe", NULL };
	assert_int_equal(vmproc_start(&sub, sargv, NULL), 0);
	assert_true(vmproc_wait_for(&sub, "\"events\"", 10000));
	vmproc_type(&t.p, "p");
	wait_for(&t, "ctl: panic reported", 20000);
	assert_true(vmproc_wait_for(&sub, "\"event\":\"guest-panicked\"", 10000));
	assert_true(vmproc_wait_for(&sub, "\"state\":\"crashed\"", 10000));
	json_object *s = ctl_json(&t, "status", NULL);
	assert_string_equal(str(s, "state"), "crashed");
	assert_non_null(strstr(str(s, "last_error"), "panicked"));
	assert_int_equal((int)num(s, "panics"), 1);
	json_object_put(s);
	/* The VM itself is still there. */
	json_object_put(ctl_json(&t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t.p, 10000), 0);
	vmproc_free(&sub);
	stop_vm(&t);
}

static void test_triple_fault_reaches_subscribers_before_exit(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_ctl.elf", "--mem", "64M", "--cmdline", "action=triple", NULL);
	wait_for(&t, "press a key for a triple fault", 20000);
	struct vmproc sub;
	char *sargv[] = { (char *)vmdeck_bin(), "ctl", t.sock, "subscribe", NULL };
	assert_int_equal(vmproc_start(&sub, sargv, NULL), 0);
	assert_true(vmproc_wait_for(&sub, "\"events\"", 10000));
	vmproc_type(&t.p, "t");
	assert_int_equal(vmproc_wait(&t.p, 20000), 3);
	assert_int_equal(vmproc_wait(&sub, 10000), 0);
	assert_non_null(strstr(sub.obuf, "\"event\":\"crashed\""));
	assert_non_null(strstr(sub.obuf, "triple-faulted on vCPU 0"));
	assert_non_null(strstr(sub.obuf, "\"state\":\"crashed\""));
	vmproc_free(&sub);
	stop_vm(&t);
}

static void test_reset_from_the_socket_boots_again(void **state)
{
	SKIP_WITHOUT_KVM();
	struct vmtest t;
	start_vm(&t, "g_ctl.elf", "--mem", "64M", "--stats-interval", "0", NULL);
	wait_for(&t, "ctl: ready", 20000);
	json_object *s = stats_json(&t);            /* interval 0: a fresh sample */
	double first_boot = num(s, "cpus.0.vmm_exits");
	assert_true(first_boot >= 11);               /* "ctl: ready\n": 11 port writes */
	json_object_put(s);
	json_object_put(ctl_json(&t, "reset", NULL));
	for (int i = 0; i < 200 && vmproc_count(&t.p, "ctl: ready") < 2; i++)
		vmproc_poll(&t.p, 50);
	assert_int_equal(vmproc_count(&t.p, "ctl: ready"), 2);
	s = ctl_json(&t, "status", NULL);
	assert_int_equal((int)num(s, "boots"), 2);
	assert_string_equal(str(s, "state"), "running");
	json_object_put(s);
	/* Totals survive the reset: new vCPU threads and KVM counters that
	 * start from zero, and the totals go on from where they were. */
	s = stats_json(&t);
	printf("exits: %.0f after the first boot, %.0f after the second\n", first_boot, num(s, "cpus.0.vmm_exits"));
	assert_true(num(s, "cpus.0.vmm_exits") >= first_boot + 11);
	json_object_put(s);
	json_object_put(ctl_json(&t, "quit", NULL));
	assert_int_equal(vmproc_wait(&t.p, 10000), 0);
	stop_vm(&t);
}

static void test_default_names_and_private_directory(void **state)
{
	SKIP_WITHOUT_KVM();
	char xdg[64];
	test_tmpdir(xdg, sizeof(xdg));
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	char *a1[] = { (char *)vmdeck_bin(), "run", "--kernel", strdup(guest_path("g_ctl.elf")), "--mem", "64M", NULL };
	struct vmproc v1, v2;
	assert_int_equal(vmproc_start(&v1, a1, NULL), 0);
	assert_true(vmproc_wait_for(&v1, "ctl: ready", 20000));
	assert_int_equal(vmproc_start(&v2, a1, NULL), 0);
	assert_true(vmproc_wait_for(&v2, "ctl: ready", 20000));
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/vmdeck", xdg);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/vmdeck/vm.sock", xdg);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The second VM's sockets share its name. */
	snprintf(path, sizeof(path), "%s/vmdeck/vm-2.sock", xdg);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/vmdeck/vm-2.vnc", xdg);
	assert_int_equal(stat(path, &st), 0);
	/* By name, as a user would type it. */
	char *out = NULL;
	assert_int_equal(vmdeck_ctl("vm-2", &out, "status", NULL), 0);
	assert_non_null(strstr(out, "\"name\":\"vm-2\""));
	free(out);
	assert_int_equal(vmdeck_ctl("vm", &out, "status", NULL), 0);
	assert_non_null(strstr(out, "\"name\":\"vm\""));
	free(out);
	/* A name in use is refused in one sentence, by the pidfile's lock. */
	char *a3[] = { (char *)vmdeck_bin(), "run", "--kernel", a1[3], "--mem", "64M", "--name", "vm", NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(a3, NULL, NULL, 20000, &r), 0);
	assert_int_equal(r.status, 2);
	char want[80];
	snprintf(want, sizeof(want), "vmdeck run: VM 'vm' is already running (pid %d)\n", (int)v1.pid);
	assert_string_equal(r.err, want);
	spawn_free(&r);
	assert_int_equal(vmdeck_ctl("vm", NULL, "quit", NULL), 0);
	assert_int_equal(vmdeck_ctl("vm-2", NULL, "quit", NULL), 0);
	assert_int_equal(vmproc_wait(&v1, 10000), 0);
	assert_int_equal(vmproc_wait(&v2, 10000), 0);
	assert_int_equal(vmdeck_ctl("vm", NULL, "status", NULL), 2);   /* nobody there */
	vmproc_free(&v1);
	vmproc_free(&v2);
	free(a1[3]);
	snprintf(path, sizeof(path), "%s/vmdeck", xdg);
	rmdir(path);
	rmdir(xdg);
	unsetenv("XDG_RUNTIME_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_show_busy_and_idle_vcpus),
		cmocka_unit_test(test_balloon_returns_memory_and_reports_guest_stats),
		cmocka_unit_test(test_balloon_without_device_is_unavailable),
		cmocka_unit_test(test_guest_ram_is_huge_page_aligned),
		cmocka_unit_test(test_powerdown_lets_the_guest_power_off),
		cmocka_unit_test(test_guest_panic_is_an_event_and_a_state),
		cmocka_unit_test(test_triple_fault_reaches_subscribers_before_exit),
		cmocka_unit_test(test_reset_from_the_socket_boots_again),
		cmocka_unit_test(test_default_names_and_private_directory),
	};
	return cmocka_run_group_tests_name("host KVM: control socket, statistics, balloon", tests, NULL, NULL);
}
