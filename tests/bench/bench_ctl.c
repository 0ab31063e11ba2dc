/* Control socket and statistics costs with a busy tiny guest (g_stats:
 * vCPU 0 in a ring-3 loop, vCPU 1 halted):
 *  - round trip of `stats` on the control socket, p50/p99 (goal p99 <= 1 ms);
 *  - the VMM's CPU for sampling statistics every second (goal <= 0.1% of a
 *    core): the CPU time of its non-vCPU threads with sampling on
 *    (--stats-interval 1) against off (--stats-interval 0), and the
 *    sampler's own account of its thread CPU time. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/ctl_client.h"
#include "tests/lib/spawn.h"
#include "tests/lib/ctltest.h"

#define REQUESTS 3000
#define CPU_WINDOW_S 20

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int start_vm_with(struct vmproc *p, const char *sock, const char *interval, const char *guest,
			 const char *ready);

/* The busy guest: vCPU 0 computes, vCPU 1 halts. */
static int start_vm(struct vmproc *p, const char *sock, const char *interval)
{
	return start_vm_with(p, sock, interval, "g_stats.elf", "vcpu 0 loops at cpl 3");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int start_vm_with(struct vmproc *p, const char *sock, const char *interval, const char *guest,
			 const char *ready)
{
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", strdup(guest_path(guest)), "--cpus", "2",
			 "--mem", "64M", "--serial", "stdio", "--control", (char *)sock, "--stats-interval",
			 (char *)interval, NULL };
	int r = vmproc_start(p, argv, NULL);
	free(argv[3]);
	if (r < 0 || !vmproc_wait_for(p, ready, 30000)) {
		fprintf(stderr, "bench_ctl: the guest did not start: %s\n", p->ebuf);
		return -1;
	}
	return 0;
}

/* CPU nanoseconds of every thread of PID that is not a vCPU. */
static uint64_t vmm_threads_cpu_ns(pid_t pid)
{
	char path[320], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	uint64_t total = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		bool vcpu = fgets(buf, sizeof(buf), f) && !strncmp(buf, "vcpu", 4);
		fclose(f);
		if (vcpu)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		f = fopen(path, "r");
		unsigned long long run = 0;
		if (f && fscanf(f, "%llu", &run) == 1)
			total += run;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return total;
}

/* The VMM main thread's CPU time and run-queue wait so far (ns): what it
 * spent, and how long the host kept it from running. */
static void main_thread_times(pid_t pid, uint64_t *run_ns, uint64_t *wait_ns)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long long run = 0, wait = 0;
	if (f && fscanf(f, "%llu %llu", &run, &wait) != 2)
		run = wait = 0;
	if (f)
		fclose(f);
	*run_ns = run;
	*wait_ns = wait;
}

static double loadavg(void)
{
	double l = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f && fscanf(f, "%lf", &l) != 1)
		l = 0;
	if (f)
		fclose(f);
	return l;
}

static int round_trips(const char *sock, pid_t pid, const char *what)
{
	struct ctl_conn c;
	struct error err;
	if (ctl_conn_open(&c, sock, &err) < 0) {
		fprintf(stderr, "bench_ctl: %s\n", err.msg);
		return -1;
	}
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("stats"));
	static double rtt[REQUESTS];
	size_t bytes = 0;
	uint64_t wait0 = 0, run0 = 0, run1, wait1;
	for (int i = -100; i < REQUESTS; i++) {
		double t0 = now_us();
		json_object *reply = ctl_conn_call(&c, req, 5000, NULL, NULL, &err);
		double t1 = now_us();
		if (!reply) {
			fprintf(stderr, "bench_ctl: %s\n", err.msg);
			return -1;
		}
		if (i == -1)
			main_thread_times(pid, &run0, &wait0);
		if (i >= 0) {
			rtt[i] = t1 - t0;
			bytes += strlen(json_object_to_json_string(reply));
		}
		json_object_put(reply);
	}
	json_object_put(req);
	ctl_conn_close(&c);
	main_thread_times(pid, &run1, &wait1);
	double waited_ms = (double)(wait1 - wait0) / 1e6, sum = 0;
	for (int i = 0; i < REQUESTS; i++)
		sum += rtt[i];
	printf("host load average %.1f on %ld CPUs; the VMM's main thread waited %.1f ms for a CPU during the "
	       "%.0f ms of requests and ran %.1f us per request\n", loadavg(), sysconf(_SC_NPROCESSORS_ONLN),
	       waited_ms, sum / 1000, (double)(run1 - run0) / 1e3 / REQUESTS);
	qsort(rtt, REQUESTS, sizeof(rtt[0]), cmp_double);
	double p50 = rtt[REQUESTS / 2], p99 = rtt[REQUESTS * 99 / 100], max = rtt[REQUESTS - 1];
	printf("stats round trip over %d requests (%zu-byte replies), %s guest: p50 %.0f us, p90 %.0f us, "
	       "p99 %.0f us, max %.0f us\n", REQUESTS, bytes / REQUESTS, what, p50, rtt[REQUESTS * 9 / 10], p99, max);
	printf("METRIC ctl-stats-rtt-p50-%s %.0f us\nMETRIC ctl-stats-rtt-p99-%s %.0f us\n", what, p50, what, p99);
	if (!strcmp(what, "busy"))
		printf("goal p99 <= 1000 us with the VM busy: %s\n", p99 <= 1000 ? "met" : "MISSED");
	return 0;
}

/* CPU of the VMM's own threads over CPU_WINDOW_S with the given interval. */
static double vmm_cpu_pct(const char *dir, const char *interval, double *sampler_ms, double *samples)
{
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/cpu-%s.sock", dir, interval);
	struct vmproc p;
	if (start_vm(&p, sock, interval) < 0)
		return -1;
	sleep(2);
	uint64_t c0 = vmm_threads_cpu_ns(p.pid);
	double t0 = now_us();
	sleep(CPU_WINDOW_S);
	uint64_t c1 = vmm_threads_cpu_ns(p.pid);
	double t1 = now_us();
	*sampler_ms = *samples = 0;
	char *out = NULL;
	if (vmdeck_ctl(sock, &out, "stats", NULL) == 0) {
		json_object *s = json_tokener_parse(out), *sm;
		if (s && json_object_object_get_ex(s, "sampler", &sm)) {
			*sampler_ms = json_object_get_double(json_object_object_get(sm, "total_cpu_ms"));
			*samples = json_object_get_double(json_object_object_get(sm, "samples"));
		}
		json_object_put(s);
	}
	free(out);
	vmdeck_ctl(sock, NULL, "quit", NULL);
	vmproc_wait(&p, 10000);
	vmproc_free(&p);
	return (double)(c1 - c0) / ((t1 - t0) * 1e3) * 100.0;
}

int main(void)
{
	if (!kvm_usable())
		return 0;
	char dir[64], sock[128];
	test_tmpdir(dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/rtt.sock", dir);
	struct vmproc p;
	if (start_vm(&p, sock, "1") < 0)
		return 1;
	int r = round_trips(sock, p.pid, "busy");
	vmdeck_ctl(sock, NULL, "quit", NULL);
	vmproc_wait(&p, 10000);
	vmproc_free(&p);
	if (r < 0)
		return 1;
	/* The same with both vCPUs halted: what the host's load alone does. */
	if (start_vm_with(&p, sock, "1", "g_ctl.elf", "ctl: ready") < 0)
		return 1;
	r = round_trips(sock, p.pid, "idle");
	vmdeck_ctl(sock, NULL, "quit", NULL);
	vmproc_wait(&p, 10000);
	vmproc_free(&p);
	if (r < 0)
		return 1;

	double ms_on, n_on, ms_off, n_off;
	double on = vmm_cpu_pct(dir, "1", &ms_on, &n_on);
	double off = vmm_cpu_pct(dir, "0", &ms_off, &n_off);
	if (on < 0 || off < 0)
		return 1;
	double per_sample_us = n_on > 1 ? ms_on * 1000 / n_on : 0;
	printf("VMM threads (not vCPUs) over %d s: %.3f%% of a core sampling every second, %.3f%% without; "
	       "difference %.3f%%\n", CPU_WINDOW_S, on, off, on - off);
	printf("the sampler's own thread CPU: %.1f us per sample over %.0f samples = %.4f%% of a core at 1 s\n",
	       per_sample_us, n_on, per_sample_us / 1e4);
	printf("METRIC stats-cpu-pct-1s %.4f %%\nMETRIC stats-sample-cpu %.1f us\n", on - off, per_sample_us);
	printf("goal <= 0.1%% of a core: %s\n", on - off <= 0.1 && per_sample_us / 1e4 <= 0.1 ? "met" : "MISSED");
	rmdir(dir);
	return 0;
}
