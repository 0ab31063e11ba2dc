/* Host-side VMM costs with a tiny guest:
 *  - time from exec of `vmdeck run` to the guest's first serial byte
 *    (goal <= 20 ms), against `vmdeck --version` as the process baseline;
 *  - the VMM's resident memory outside guest RAM (goal <= 8 MiB). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"

#define RUNS 30
#define GUEST_MEM_MIB 64

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Starts ARGV with stdout on a pipe; returns the pid and the pipe. */
static pid_t start(char *const argv[], int *out)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Milliseconds until the first byte on stdout. */
static double first_byte_ms(char *const argv[])
{
	int fd;
	double t0 = now_ms();
	pid_t pid = start(argv, &fd);
	char c;
	struct pollfd p = { fd, POLLIN, 0 };
	double t = -1;
	if (poll(&p, 1, 10000) > 0 && read(fd, &c, 1) == 1)
		t = now_ms() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-44s median %6.2f ms  min %6.2f  p90 %6.2f  (n=%d)\n", what, v[n / 2], v[0], v[n * 9 / 10], n);
}

/* Resident KiB of the process outside mappings of exactly the guest RAM size. */
static long rss_outside_guest_kib(pid_t pid, long *guest_kib)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long total = 0, guest = 0, size = 0;
	while (fgets(line, sizeof(line), f)) {
		long v;
		if (sscanf(line, "Size: %ld kB", &v) == 1)
			size = v;
		else if (sscanf(line, "Rss: %ld kB", &v) == 1) {
			total += v;
			if (size == GUEST_MEM_MIB * 1024)
				guest += v;
		}
	}
	fclose(f);
	*guest_kib = guest;
	return total - guest;
}

int main(void)
{
	char *version[] = { (char *)vmdeck_bin(), "--version", NULL };
	char *boot[] = { (char *)vmdeck_bin(), "run", "--kernel", strdup(guest_path("g_hello.elf")),
			 "--mem", "64M", NULL };
	if (!kvm_usable())
		return 0;
	double a[RUNS], b[RUNS];
	for (int i = 0; i < RUNS; i++) {
		a[i] = first_byte_ms(version);
		b[i] = first_byte_ms(boot);
	}
	report("vmdeck --version to first output", a, RUNS);
	report("vmdeck run to the guest's first serial byte", b, RUNS);

	/* A long ring-3 loop keeps the guest alive while we look at the VMM. */
	char *busy[] = { (char *)vmdeck_bin(), "run", "--kernel", strdup(guest_path("g_user.elf")),
			 "--mem", "64M", "--cmdline", "loops=20000000000", NULL };
	int fd;
	pid_t pid = start(busy, &fd);
	usleep(500 * 1000);
	long guest = 0, outside = rss_outside_guest_kib(pid, &guest);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	printf("%-44s %6.2f MiB (guest RAM resident: %.2f MiB)\n", "VMM resident memory outside guest RAM",
	       outside / 1024.0, guest / 1024.0);
	printf("goals: first guest output <= 20 ms, overhead <= 8 MiB\n");
	return 0;
}
