/* VNC benchmarks: the VMM's CPU with a client connected while the guest
 * is idle (goal: at most 1% of a core), and while the guest redraws the
 * whole 1024x768 screen continuously (goal: at least 30 frames per second
 * to a local client), with the bytes each frame costs.
 *
 * The VMM's CPU is that of all its threads but the vCPUs (the VNC server
 * and the renderer run on the "vnc" thread); the vCPU threads' time is the
 * guest's own drawing. */
#include <rfb/rfbclient.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "tests/lib/vmproc.h"
#include "tests/lib/vnctest.h"

#define SECONDS 5

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of one thread (or the whole process with TID 0), seconds. */
static double cpu_seconds(pid_t pid, pid_t tid)
{
	char path[64], buf[1024];
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	const char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	/* fields after the name: state(3) ... utime(14) stime(15) */
	sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of every thread of PID but the vCPUs ("vcpuN"). */
static double vmm_cpu_seconds(pid_t pid)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	DIR *d = opendir(dir);
	double total = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[128], comm[32] = "";
		pid_t tid = (pid_t)atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		if (strncmp(comm, "vcpu", 4))
			total += cpu_seconds(pid, tid);
	}
	if (d)
		closedir(d);
	return total;
}

/* Bytes this process has read (the VNC socket is nearly all of it). */
static unsigned long long bytes_read(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	unsigned long long v = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "rchar: %llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static bool never(struct vnctest *t, void *ctx)
{
	return false;
}

struct result {
	double fps, bytes_per_frame, vmm_cpu, process_cpu;
};

static int measure(const char *bench, const char *encodings, int seconds, struct result *r)
{
	char dir[] = "/tmp/vmdeck-bench-XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	char sock[128], opt[160], env_xdg[128];
	snprintf(sock, sizeof(sock), "%s/vm.vnc", dir);
	snprintf(opt, sizeof(opt), "unix:%s", sock);
	snprintf(env_xdg, sizeof(env_xdg), "XDG_RUNTIME_DIR=%s", dir);
	char cmdline[64];
	snprintf(cmdline, sizeof(cmdline), "bench=%s", bench);
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_vga.bz"), "--mem", "64M",
			 "--vnc", opt, "--cmdline", cmdline, NULL };
	char *env[] = { env_xdg, NULL };
	struct vmproc vm;
	struct vnctest t;
	int rc = -1;
	if (vmproc_start(&vm, argv, env) < 0)
		return -1;
	if (!vmproc_wait_for(&vm, "vga: animating", 30000) && !vmproc_wait_for(&vm, "vga: idle", 1000)) {
		fprintf(stderr, "the guest did not start:\n%s%s\n", vm.obuf, vm.ebuf);
		goto out;
	}
	if (vnctest_connect(&t, sock, encodings, NULL) < 0) {
		fprintf(stderr, "cannot connect to %s\n", sock);
		goto out;
	}
	vnctest_wait(&t, never, NULL, 1000);         /* the first full frame is not counted */
	unsigned frames0 = t.frames;
	unsigned long long bytes0 = bytes_read();
	double t0 = now_s(), cpu0 = vmm_cpu_seconds(vm.pid), all0 = cpu_seconds(vm.pid, 0);
	vnctest_wait(&t, never, NULL, seconds * 1000);
	double dt = now_s() - t0;
	unsigned frames = t.frames - frames0;
	r->fps = frames / dt;
	r->bytes_per_frame = frames ? (double)(bytes_read() - bytes0) / frames : 0;
	r->vmm_cpu = 100 * (vmm_cpu_seconds(vm.pid) - cpu0) / dt;
	r->process_cpu = 100 * (cpu_seconds(vm.pid, 0) - all0) / dt;
	vnctest_close(&t);
	rc = 0;
out:
	kill(-vm.pid, SIGTERM);
	vmproc_wait(&vm, 10000);
	vmproc_free(&vm);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

int main(void)
{
	if (!kvm_usable())
		return 0;
	struct result r;
	int status = 0;
	if (measure("idle", "raw", 3 * SECONDS, &r) == 0) {
		printf("vnc idle guest, client connected: VMM without vCPUs %.2f%% of a core (goal <= 1%%), "
		       "whole VMM %.2f%%, %.1f frames/s\n", r.vmm_cpu, r.process_cpu, r.fps);
		if (r.vmm_cpu > 1.0)
			status = 1;
	} else {
		status = 1;
	}
	const char *encs[] = { "raw", "zrle", "tight" };
	for (unsigned i = 0; i < 3; i++) {
		if (measure("animate", encs[i], SECONDS, &r) != 0) {
			status = 1;
			continue;
		}
		printf("vnc full-screen 1024x768 redraw, %s: %.1f frames/s delivered (goal >= 30), %.0f bytes/frame, "
		       "VMM without vCPUs %.1f%% of a core (with the vCPU drawing: %.1f%%)\n", encs[i], r.fps,
		       r.bytes_per_frame, r.vmm_cpu, r.process_cpu);
		if (i == 0 && r.fps < 30)
			status = 1;
	}
	return status;
}
