/*
 * Tier 3: the VMM under test boots a stock Debian kernel inside an L1 Linux
 * that runs under QEMU's TCG with an emulated SVM CPU (this host's own KVM
 * cannot run stock Linux, see shared/GUIDE.md).  The group setup builds the
 * images (tests/system/build-images.sh, cached) and boots L1 once
 * (tests/system/run-l1.sh); L1 runs tests/system/l1-tests.sh, which reports
 * one RESULT line per scenario.  Each cmocka test below judges one of them,
 * so the tier costs one L1 boot however many scenarios it holds.  When L1
 * itself breaks down, the scenarios it took with it run again in a fresh L1
 * (at most L1_BOOTS in all).
 *
 * Logs: build/nested/build-images.log, build/nested/l1-serial.log and, for
 * fresh L1s, l1-serial.2.log to l1-serial.4.log beside it.
 * VMDECK_SKIP_NESTED=1 skips the tier (loudly); VMDECK_SRCDIR points at the
 * source tree when the program does not run from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/spawn.h"

#define MAX_RESULTS 32
#define TAIL_LINES 25
/* Build-images exit status meaning "cannot be built here" (automake's skip). */
#define EXIT_SKIP 77
/* The first L1 and at most three fresh ones for what a broken L1 took with
 * it: on this host's emulated SVM one full tier in two or three loses an L1
 * or an L2 it needed (see tests/system/README.md); two in a row were seen
 * twice on 2026-11-22. */
#define L1_BOOTS 4

struct result {
	char name[64];
	bool pass;
	char detail[512];
	int boot; /* the L1 boot that reported it, an index into logs */
};

static struct {
	char skip_reason[1024];
	char harness_error[PATH_MAX + 1024];
	char srcdir[PATH_MAX];
	char logs[L1_BOOTS][PATH_MAX + 32];
	int boots;
	struct result results[MAX_RESULTS];
	int n_results;
	bool l1_done;
	/* The L2 boot times (VMM start to marker) of all boots, for the ratio. */
	double vmdeck_ms[MAX_RESULTS], qemu_ms[MAX_RESULTS];
	int n_vmdeck, n_qemu;
} nested;

/* The scenarios l1-tests.sh runs; keep both lists in step. */
static const char *const scenario_names[] = {
	"qemu-reference",
	"vmdeck-boot-smp",
	"vmdeck-reboot-noreboot",
	"vmdeck-disk",
	"vmdeck-display",
	"vmdeck-library",
	"vmdeck-balloon-ctl",
	"vmdeck-net",
	"vmdeck-net-restrict",
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv with stdout and stderr going to log; returns the exit status,
 * 128+signal, or -1 if it could not be started. */
static int run_to_log(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0)
			_exit(126);
		dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		dprintf(fd, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Last non-empty line of a file, for one-line explanations. */
static void last_line(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	snprintf(out, size, "(no output)");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n') {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(out, size, "%.300s", line);
		}
	fclose(f);
}

static void path_in_src(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%.3500s/%.200s", nested.srcdir, rel);
}

static int build_images(void)
{
	char script[PATH_MAX + 64], log[PATH_MAX + 64], why[400];
	path_in_src(script, sizeof(script), "tests/system/build-images.sh");
	path_in_src(log, sizeof(log), "build/nested/build-images.log");
	double t0 = now_s();
	int rc = run_to_log((char *const[]){ script, NULL }, log);
	last_line(log, why, sizeof(why));
	if (rc == EXIT_SKIP) {
		snprintf(nested.skip_reason, sizeof(nested.skip_reason), "images cannot be built here: %.400s", why);
		return -1;
	}
	if (rc != 0) {
		snprintf(nested.harness_error, sizeof(nested.harness_error),
			 "build-images.sh failed (status %d): %.400s; see %s", rc, why, log);
		return -1;
	}
	printf("METRIC nested-build-images-s %.1f s\n", now_s() - t0);
	return 0;
}

/* The log of the latest L1 boot, or of the one that reported R. */
static const char *latest_log(void)
{
	return nested.logs[nested.boots > 0 ? nested.boots - 1 : 0];
}

static const char *log_of(const struct result *r)
{
	return r ? nested.logs[r->boot] : latest_log();
}

/* Boots one more L1, running the scenarios in ONLY (comma-separated) or
 * all of them; its harness state replaces the previous boot's. */
static int boot_l1(const char *only)
{
	char script[PATH_MAX + 64], vmdeck[PATH_MAX], params[1100];
	path_in_src(script, sizeof(script), "tests/system/run-l1.sh");
	snprintf(vmdeck, sizeof(vmdeck), "%s", vmdeck_bin());
	snprintf(params, sizeof(params), "vmdeck.scenarios=%s", only);
	nested.boots++;
	nested.harness_error[0] = '\0';
	nested.l1_done = false;
	double t0 = now_s();
	int rc = run_to_log(only[0] ? (char *const[]){ script, "-a", params, vmdeck, NULL }
				    : (char *const[]){ script, vmdeck, NULL },
			    latest_log());
	printf("METRIC nested-l1-run-s %.1f s\n", now_s() - t0);
	if (rc != 0) {
		char why[400];
		last_line(latest_log(), why, sizeof(why));
		snprintf(nested.harness_error, sizeof(nested.harness_error),
			 "run-l1.sh ended with status %d (124: L1 timed out): %.400s", rc, why);
	}
	return rc;
}

/* "RESULT name pass|fail detail..." anywhere in a line: a kernel message
 * may share the console line it starts on.  Lines echoed from a guest
 * ("[scenario] ...") never count. */
static struct result *find_result(const char *name)
{
	for (int i = 0; i < nested.n_results; i++)
		if (!strcmp(nested.results[i].name, name))
			return &nested.results[i];
	return NULL;
}

/* A later L1's verdict on a scenario replaces the earlier one: only
 * scenarios a broken L1 failed or never reached run again. */
static void parse_result(const char *line)
{
	char name[64], verdict[16];
	int consumed = 0;
	if (sscanf(line, "RESULT %63s %15s %n", name, verdict, &consumed) < 2)
		return;
	struct result *r = find_result(name);
	if (!r) {
		if (nested.n_results == MAX_RESULTS)
			return;
		r = &nested.results[nested.n_results++];
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	r->pass = !strcmp(verdict, "pass");
	r->boot = nested.boots - 1;
	snprintf(r->detail, sizeof(r->detail), "%s", line + consumed);
	r->detail[strcspn(r->detail, "\r\n")] = '\0';
}

/* run-l1.sh stamps each L1 console line with the host's milliseconds since
 * QEMU started ("1234| text"); returns the text and stores the stamp. */
static const char *unstamp(const char *line, long *ms)
{
	char *end;
	long v = strtol(line, &end, 10);
	if (end == line || strncmp(end, "| ", 2))
		return line;
	if (ms)
		*ms = v;
	return end + 2;
}

/* Keeps the L2 marker times that the boot scenarios report. */
static void note_marker(const char *metric)
{
	double v;
	if (sscanf(metric, "METRIC vmdeck-l2-marker-ms %lf", &v) == 1 && nested.n_vmdeck < MAX_RESULTS)
		nested.vmdeck_ms[nested.n_vmdeck++] = v;
	else if (sscanf(metric, "METRIC qemu-l2-marker-ms %lf", &v) == 1 && nested.n_qemu < MAX_RESULTS)
		nested.qemu_ms[nested.n_qemu++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(n - 1) / 2];
}

/* vmdeck's L2 boot time over QEMU's, medians over every L1 boot (a fresh
 * L1 may have run only one of the two). */
static void report_boot_ratio(void)
{
	if (nested.n_vmdeck && nested.n_qemu)
		printf("METRIC vmdeck-qemu-boot-ratio %.2f x\n",
		       median(nested.vmdeck_ms, nested.n_vmdeck) / median(nested.qemu_ms, nested.n_qemu));
}

static void parse_line(const char *stamped)
{
	long ms = -1;
	const char *line = unstamp(stamped, &ms), *tag;
	if (line[0] == '[')
		return; /* guest output echoed by l1-tests.sh */
	if ((tag = strstr(line, "RESULT ")))
		parse_result(tag);
	else if (!strncmp(line, "METRIC ", 7)) {
		fputs(line, stdout);
		note_marker(line);
	}
	else if ((tag = strstr(line, "L1-INIT uptime-s "))) {
		if (ms >= 0)
			printf("METRIC nested-l1-boot-ms %ld ms\n", ms);
		printf("METRIC nested-l1-uptime-at-init-s %.*s s\n",
		       (int)strcspn(tag + 17, "\r\n"), tag + 17);
	} else if (strstr(line, "L1-TESTS-DONE"))
		nested.l1_done = true;
}

static void parse_log(void)
{
	FILE *f = fopen(latest_log(), "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0)
		parse_line(line);
	free(line);
	fclose(f);
}

/* The first line of the latest L1's log (stamp removed) that MATCH accepts
 * (given ARG), copied to WHY. */
static bool find_log_line(bool (*match)(const char *text, const void *arg), const void *arg, char *why,
			  size_t len)
{
	FILE *f = fopen(latest_log(), "r");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (f && !found && getline(&line, &cap, f) > 0) {
		const char *text = unstamp(line, NULL);
		if (match(text, arg)) {
			snprintf(why, len, "%.*s", (int)strcspn(text, "\r\n"), text);
			found = true;
		}
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

/* L1's own kernel (its lines are "[  12.34] ...", a guest's are echoed as
 * "[scenario] ...") reporting that its CPUs stopped, or L1 falling silent
 * until run-l1.sh's l1tool killed it: QEMU's software CPU emulating SVM
 * under a loaded host sometimes stops delivering L1's timer interrupts, for
 * QEMU's L2 as much as for ours.  That is the harness failing, not a VMM. */
static bool l1_kernel_broke(const char *text, const void *unused)
{
	(void)unused;
	/* run-l1.sh kills L1 on the first three (keep both lists in step). */
	static const char *const signs[] = { "soft lockup", "rcu_preempt detected stalls",
					     "rcu_preempt self-detected stall", "Kernel panic" };
	if (!strncmp(text, "l1tool: silent for", 18))
		return true;
	if (text[0] != '[' || (text[1] != ' ' && (text[1] < '0' || text[1] > '9')))
		return false;
	for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
		if (strstr(text, signs[i]))
			return true;
	return false;
}

/* Whether LIST (comma-separated; empty means every scenario) holds NAME. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	if (!list[0])
		return true;
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* A line of scenario NAME's guest ("[name] ...") that holds TEXT. */
struct guest_says {
	const char *name, *text;
};

static bool guest_said(const char *line, const void *arg)
{
	const struct guest_says *g = arg;
	size_t n = strlen(g->name);
	return line[0] == '[' && !strncmp(line + 1, g->name, n) && line[n + 1] == ']' && strstr(line, g->text);
}

/* The scenarios of RAN that the latest L1 took with it, comma-separated in
 * OUT, with the first sign of it in WHY; returns how many.  With L1's
 * kernel broken, that is every one it failed or never reached.  In a
 * healthy L1 it is a failed scenario whose L2 died of a triple fault: L1's
 * nested SVM loses an L2 now and then, QEMU's as well as ours (l1-tests.sh:
 * l2_lost); the scenarios that boot plain guests retry that inside L1, the
 * others (display, library, network, balloon: they talk to the guest while
 * it runs) get a fresh L1 here.  A scenario that fails in a healthy L1
 * otherwise is never run again. */
static int lost_scenarios(const char *ran, char *out, size_t size, char *why, size_t why_len)
{
	bool broke = find_log_line(l1_kernel_broke, NULL, why, why_len);
	int n = 0;
	out[0] = '\0';
	if (!broke && nested.harness_error[0])
		snprintf(why, why_len, "%s", nested.harness_error);
	for (size_t i = 0; i < sizeof(scenario_names) / sizeof(scenario_names[0]); i++) {
		const char *name = scenario_names[i];
		const struct result *r = find_result(name);
		bool this_boot = r && r->boot == nested.boots - 1;
		char sign[256];
		if (!in_list(ran, name) || (r && r->pass))
			continue;
		bool lost = this_boot ? broke : !nested.l1_done;
		const struct guest_says triple = { name, "the guest triple-faulted" };
		if (this_boot && !lost && find_log_line(guest_said, &triple, sign, sizeof(sign))) {
			lost = true;
			if (!n && !broke && !nested.harness_error[0])
				snprintf(why, why_len, "%s", sign);
		}
		if (lost) {
			size_t used = strlen(out);
			snprintf(out + used, size - used, "%s%s", n ? "," : "", name);
			n++;
		}
	}
	return n;
}

/* The tier, and a fresh L1 (said loudly) for what a broken one took with
 * it, up to L1_BOOTS; each boot's log stays for reading. */
static void run_tier(void)
{
	char only[1024] = "", next[sizeof(only)], why[PATH_MAX + 1024];
	for (;;) {
		boot_l1(only);
		parse_log();
		if (nested.boots == L1_BOOTS || !lost_scenarios(only, next, sizeof(next), why, sizeof(why)))
			break;
		printf("!! L1 broke down (%.300s); a fresh L1 runs %s again (the broken L1's log: %s)\n", why,
		       next, latest_log());
		fflush(stdout);
		snprintf(only, sizeof(only), "%s", next);
	}
	printf("METRIC nested-l1-retries %d\n", nested.boots - 1);
	report_boot_ratio();
}

static int group_setup(void **state)
{
	const char *src = getenv("VMDECK_SRCDIR");
	char dir[PATH_MAX + 32];
	snprintf(nested.srcdir, sizeof(nested.srcdir), "%s", src && *src ? src : ".");
	path_in_src(nested.logs[0], sizeof(nested.logs[0]), "build/nested/l1-serial.log");
	for (int i = 1; i < L1_BOOTS; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "build/nested/l1-serial.%d.log", i + 1);
		path_in_src(nested.logs[i], sizeof(nested.logs[i]), rel);
		unlink(nested.logs[i]); /* an earlier run's, which would mislead */
	}
	if (getenv("VMDECK_SKIP_NESTED") && strcmp(getenv("VMDECK_SKIP_NESTED"), "0")) {
		snprintf(nested.skip_reason, sizeof(nested.skip_reason), "VMDECK_SKIP_NESTED is set");
		return 0;
	}
	path_in_src(dir, sizeof(dir), "build");
	mkdir(dir, 0755);
	path_in_src(dir, sizeof(dir), "build/nested");
	mkdir(dir, 0755);
	if (build_images() == 0)
		run_tier();
	if (nested.skip_reason[0])
		printf("!! nested tier SKIPPED: %s\n", nested.skip_reason);
	fflush(stdout);
	return 0;
}

/* The last lines L1 echoed for one scenario ("[name] ..."), to explain a failure. */
static void print_tail(const char *name)
{
	char prefix[80], *ring[TAIL_LINES] = { 0 }, *line = NULL;
	size_t cap = 0, n = 0;
	const char *log = log_of(find_result(name));
	FILE *f = fopen(log, "r");
	snprintf(prefix, sizeof(prefix), "[%s] ", name);
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		const char *text = unstamp(line, NULL);
		if (!strncmp(text, prefix, strlen(prefix))) {
			free(ring[n % TAIL_LINES]);
			ring[n++ % TAIL_LINES] = strdup(text);
		}
	}
	printf("---- last %d lines of %s in %s ----\n", TAIL_LINES, name, log);
	for (size_t i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++)
		fputs(ring[i % TAIL_LINES], stdout);
	for (size_t i = 0; i < TAIL_LINES; i++)
		free(ring[i]);
	free(line);
	fclose(f);
}

static void skip_if_unbuildable(void)
{
	if (nested.skip_reason[0]) {
		printf("SKIP: %s\n", nested.skip_reason);
		skip();
	}
}

static void test_scenario(void **state)
{
	const char *name = *state;
	skip_if_unbuildable();
	if (nested.harness_error[0] && !find_result(name))
		fail_msg("%s: no result: %s", name, nested.harness_error);
	const struct result *r = find_result(name);
	if (!r) {
		print_tail(name);
		fail_msg("%s: L1 reported no RESULT line (see %s)", name, latest_log());
	}
	if (!r->pass) {
		print_tail(name);
		fail_msg("%s: %s", name, r->detail);
	}
	printf("%s: %s%s\n", name, r->detail, r->boot ? " (in a fresh L1)" : "");
}

/* The harness itself: L1 finished its script and every scenario it reported
 * is one this program judges (a scenario added to l1-tests.sh alone would
 * otherwise never be looked at). */
static void test_l1_harness(void **state)
{
	skip_if_unbuildable();
	if (nested.harness_error[0])
		fail_msg("%s", nested.harness_error);
	if (!nested.l1_done)
		fail_msg("L1 never printed L1-TESTS-DONE; see %s", latest_log());
	for (int i = 0; i < nested.n_results; i++) {
		bool known = false;
		for (size_t j = 0; j < sizeof(scenario_names) / sizeof(scenario_names[0]); j++)
			known |= !strcmp(nested.results[i].name, scenario_names[j]);
		if (!known)
			fail_msg("L1 reported scenario '%s' that test_nested.c does not list",
				 nested.results[i].name);
	}
}

/* Runs CMD through the shell; returns its exit status (-1 if it could not
 * run) with the first SIZE-1 bytes of its output in OUT. */
static int shell_output(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What a pcap of the vmdeck-net run must hold, as tshark display filters:
 * the whole DHCP exchange handing out 10.0.2.15, the guest's handshake with
 * L1's web server through 10.0.2.2 and L1's handshake with the guest's
 * httpd through the host forward (slirp presents it as coming from
 * 10.0.2.2). */
static const struct {
	const char *what, *filter;
} net_capture_wants[] = {
	{ "DHCP Discover", "dhcp.option.dhcp == 1 && ip.src == 0.0.0.0" },
	{ "DHCP Offer of 10.0.2.15", "dhcp.option.dhcp == 2 && dhcp.ip.your == 10.0.2.15 && ip.src == 10.0.2.2" },
	{ "DHCP Request", "dhcp.option.dhcp == 3" },
	{ "DHCP ACK of 10.0.2.15", "dhcp.option.dhcp == 5 && dhcp.ip.your == 10.0.2.15" },
	{ "SYN to 10.0.2.2:8000", "ip.src == 10.0.2.15 && tcp.dstport == 8000 && tcp.flags.syn == 1 && tcp.flags.ack == 0" },
	{ "SYN-ACK from 10.0.2.2:8000", "ip.src == 10.0.2.2 && tcp.srcport == 8000 && tcp.flags.syn == 1 && tcp.flags.ack == 1" },
	{ "forwarded SYN to the guest's port 80", "ip.dst == 10.0.2.15 && tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0" },
	{ "SYN-ACK from the guest's port 80", "ip.src == 10.0.2.15 && tcp.srcport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 1" },
	{ "DNS answer for vmdeck-l1", "ip.src == 10.0.2.3 && dns.a == 10.9.8.7" },
};

/* The pcap the vmdeck-net scenario captured travels back base64-encoded
 * between "FILE-BEGIN vmdeck-net.pcap" and "FILE-END" lines; tshark on
 * this host must read it without complaint and find each packet above. */
static void test_net_capture(void **state)
{
	char pcap[PATH_MAX + 64], cmd[4 * PATH_MAX + 512], out[8192];
	skip_if_unbuildable();
	const char *log = log_of(find_result("vmdeck-net"));
	path_in_src(pcap, sizeof(pcap), "build/nested/vmdeck-net.pcap");
	snprintf(cmd, sizeof(cmd),
		 "sed -e 's/^[0-9]*| //' '%s' | awk '/^FILE-END/ { on = 0 } on { print } /^FILE-BEGIN vmdeck-net.pcap/ { on = 1 }'"
		 " | base64 -d >'%s' && test -s '%s'", log, pcap, pcap);
	if (shell_output(cmd, out, sizeof(out)) != 0)
		fail_msg("no capture came back from the vmdeck-net scenario (see %s)", log);
	/* Reading the whole file: a torn or malformed record makes tshark
	 * fail or say so on stderr ("cut short", "damaged"). */
	snprintf(cmd, sizeof(cmd), "tshark -n -r '%s' 2>&1 >/dev/null | grep -v '^Running as user'", pcap);
	int status = shell_output(cmd, out, sizeof(out));
	if (status != 1)
		fail_msg("tshark -r %s complains: %.2000s", pcap, out);
	for (size_t i = 0; i < sizeof(net_capture_wants) / sizeof(net_capture_wants[0]); i++) {
		snprintf(cmd, sizeof(cmd), "tshark -n -r '%s' -Y '%s' 2>/dev/null", pcap, net_capture_wants[i].filter);
		status = shell_output(cmd, out, sizeof(out));
		if (status != 0 || !out[0])
			fail_msg("tshark finds no %s in %s (filter \"%s\", status %d)", net_capture_wants[i].what,
				 pcap, net_capture_wants[i].filter, status);
		printf("%s: %.*s\n", net_capture_wants[i].what, (int)strcspn(out, "\n"), out);
	}
}

#define N_SCENARIOS (sizeof(scenario_names) / sizeof(scenario_names[0]))

int main(void)
{
	/* The harness check, then one cmocka test per scenario, named after it. */
	struct CMUnitTest tests[2 + N_SCENARIOS] = { cmocka_unit_test(test_l1_harness) };
	for (size_t i = 0; i < N_SCENARIOS; i++)
		tests[1 + i] = (struct CMUnitTest){ .name = scenario_names[i], .test_func = test_scenario,
						    .initial_state = (void *)scenario_names[i] };
	tests[1 + N_SCENARIOS] = (struct CMUnitTest)cmocka_unit_test(test_net_capture);
	return cmocka_run_group_tests_name("nested", tests, group_setup, NULL);
}
