/*
 * Tier 3: the VMM under test boots a stock Debian kernel inside an L1 Linux
 * that runs under QEMU's TCG with an emulated SVM CPU (this host's own KVM
 * cannot run stock Linux, see shared/GUIDE.md).  The group setup builds the
 * images (tests/system/build-images.sh, cached) and boots L1 once
 * (tests/system/run-l1.sh); L1 runs tests/system/l1-tests.sh, which reports
 * one RESULT line per scenario.  Each cmocka test below judges one of them,
 * so the tier costs one L1 boot however many scenarios it holds.
 *
 * Logs: build/nested/build-images.log and build/nested/l1-serial.log.
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

struct result {
	char name[64];
	bool pass;
	char detail[512];
};

static struct {
	char skip_reason[1024];
	char harness_error[PATH_MAX + 1024];
	char srcdir[PATH_MAX];
	char log_path[PATH_MAX + 32];
	struct result results[MAX_RESULTS];
	int n_results;
	bool l1_done;
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

static int boot_l1(void)
{
	char script[PATH_MAX + 64], vmdeck[PATH_MAX];
	path_in_src(script, sizeof(script), "tests/system/run-l1.sh");
	snprintf(vmdeck, sizeof(vmdeck), "%s", vmdeck_bin());
	double t0 = now_s();
	int rc = run_to_log((char *const[]){ script, vmdeck, NULL }, nested.log_path);
	printf("METRIC nested-l1-run-s %.1f s\n", now_s() - t0);
	if (rc != 0) {
		char why[400];
		last_line(nested.log_path, why, sizeof(why));
		snprintf(nested.harness_error, sizeof(nested.harness_error),
			 "run-l1.sh ended with status %d (124: L1 timed out): %.400s", rc, why);
	}
	return rc;
}

/* "RESULT name pass|fail detail..." anywhere in a line: a kernel message
 * may share the console line it starts on.  Lines echoed from a guest
 * ("[scenario] ...") never count. */
static void parse_result(const char *line)
{
	struct result *r = &nested.results[nested.n_results];
	char verdict[16];
	int consumed = 0;
	if (nested.n_results == MAX_RESULTS ||
	    sscanf(line, "RESULT %63s %15s %n", r->name, verdict, &consumed) < 2)
		return;
	r->pass = !strcmp(verdict, "pass");
	snprintf(r->detail, sizeof(r->detail), "%s", line + consumed);
	r->detail[strcspn(r->detail, "\r\n")] = '\0';
	nested.n_results++;
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

static void parse_line(const char *stamped)
{
	long ms = -1;
	const char *line = unstamp(stamped, &ms), *tag;
	if (line[0] == '[')
		return; /* guest output echoed by l1-tests.sh */
	if ((tag = strstr(line, "RESULT ")))
		parse_result(tag);
	else if (!strncmp(line, "METRIC ", 7))
		fputs(line, stdout);
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
	FILE *f = fopen(nested.log_path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0)
		parse_line(line);
	free(line);
	fclose(f);
}

/* The first line of L1's log (stamp removed) that MATCH accepts, copied to
 * WHY. */
static bool find_log_line(bool (*match)(const char *text), char *why, size_t len)
{
	FILE *f = fopen(nested.log_path, "r");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (f && !found && getline(&line, &cap, f) > 0) {
		const char *text = unstamp(line, NULL);
		if (match(text)) {
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
static bool l1_kernel_broke(const char *text)
{
	static const char *const signs[] = { "soft lockup", "rcu_preempt detected stalls", "Kernel panic" };
	if (!strncmp(text, "l1tool: silent for", 18))
		return true;
	if (text[0] != '[' || (text[1] != ' ' && (text[1] < '0' || text[1] > '9')))
		return false;
	for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
		if (strstr(text, signs[i]))
			return true;
	return false;
}

/* A failed scenario whose L2 died of a triple fault: L1's nested SVM loses
 * an L2 now and then, QEMU's as well as ours (l1-tests.sh: l2_lost).  The
 * scenarios that boot plain guests retry that inside L1; the others (the
 * display and network ones, which talk to the guest while it runs) get a
 * fresh L1 here. */
static bool l2_lost_in_failed_scenario(const char *text)
{
	if (text[0] != '[' || !strstr(text, "the guest triple-faulted"))
		return false;
	for (int i = 0; i < nested.n_results; i++) {
		const struct result *r = &nested.results[i];
		size_t n = strlen(r->name);
		if (!r->pass && !strncmp(text + 1, r->name, n) && text[n + 1] == ']')
			return true;
	}
	return false;
}

/* Once, loudly: a fresh L1 when the first one's kernel broke down or lost
 * an L2 that a scenario needed.  The broken run's log is kept beside the
 * new one. */
static void retry_if_l1_broke(void)
{
	char why[256], kept[sizeof(nested.log_path) + 16];
	if (!find_log_line(l1_kernel_broke, why, sizeof(why)) &&
	    !find_log_line(l2_lost_in_failed_scenario, why, sizeof(why)))
		return;
	snprintf(kept, sizeof(kept), "%s.broken", nested.log_path);
	rename(nested.log_path, kept);
	printf("!! L1 broke down (%s); the nested tier runs once more in a fresh L1 "
	       "(the broken run's log: %s)\n", why, kept);
	printf("METRIC nested-l1-retries 1\n");
	fflush(stdout);
	nested.n_results = 0;
	nested.harness_error[0] = '\0';
	nested.l1_done = false;
	boot_l1();
	parse_log();
}

static int group_setup(void **state)
{
	const char *src = getenv("VMDECK_SRCDIR");
	char dir[PATH_MAX + 32];
	snprintf(nested.srcdir, sizeof(nested.srcdir), "%s", src && *src ? src : ".");
	path_in_src(nested.log_path, sizeof(nested.log_path), "build/nested/l1-serial.log");
	if (getenv("VMDECK_SKIP_NESTED") && strcmp(getenv("VMDECK_SKIP_NESTED"), "0")) {
		snprintf(nested.skip_reason, sizeof(nested.skip_reason), "VMDECK_SKIP_NESTED is set");
		return 0;
	}
	path_in_src(dir, sizeof(dir), "build");
	mkdir(dir, 0755);
	path_in_src(dir, sizeof(dir), "build/nested");
	mkdir(dir, 0755);
	if (build_images() == 0) {
		boot_l1();
		parse_log();
		retry_if_l1_broke();
	}
	if (nested.skip_reason[0])
		printf("!! nested tier SKIPPED: %s\n", nested.skip_reason);
	fflush(stdout);
	return 0;
}

static const struct result *find_result(const char *name)
{
	for (int i = 0; i < nested.n_results; i++)
		if (!strcmp(nested.results[i].name, name))
			return &nested.results[i];
	return NULL;
}

/* The last lines L1 echoed for one scenario ("[name] ..."), to explain a failure. */
static void print_tail(const char *name)
{
	char prefix[80], *ring[TAIL_LINES] = { 0 }, *line = NULL;
	size_t cap = 0, n = 0;
	FILE *f = fopen(nested.log_path, "r");
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
	printf("---- last %d lines of %s in %s ----\n", TAIL_LINES, name, nested.log_path);
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
		fail_msg("%s: L1 reported no RESULT line (see %s)", name, nested.log_path);
	}
	if (!r->pass) {
		print_tail(name);
		fail_msg("%s: %s", name, r->detail);
	}
	printf("%s: %s\n", name, r->detail);
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
		fail_msg("L1 never printed L1-TESTS-DONE; see %s", nested.log_path);
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
	path_in_src(pcap, sizeof(pcap), "build/nested/vmdeck-net.pcap");
	snprintf(cmd, sizeof(cmd),
		 "sed -e 's/^[0-9]*| //' '%s' | awk '/^FILE-END/ { on = 0 } on { print } /^FILE-BEGIN vmdeck-net.pcap/ { on = 1 }'"
		 " | base64 -d >'%s' && test -s '%s'", nested.log_path, pcap, pcap);
	if (shell_output(cmd, out, sizeof(out)) != 0)
		fail_msg("no capture came back from the vmdeck-net scenario (see %s)", nested.log_path);
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
