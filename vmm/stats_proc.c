#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/stats_proc.h"

int procstat_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return got ? 0 : -1;
}

/* Field numbers in proc(5) count from 1 and field 2 is "(comm)". */
int procstat_parse_stat(const char *text, uint64_t *utime, uint64_t *stime, uint64_t *guest)
{
	const char *p = strrchr(text, ')');
	if (!p)
		return -1;
	p++;
	uint64_t f[44] = { 0 };
	int field = 3;
	while (field <= 43) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p) {
			/* Field 3 (state) is a letter: skip the word. */
			while (*p && *p != ' ')
				p++;
		} else {
			f[field] = errno ? 0 : v;
			p = end;
		}
		field++;
	}
	if (field <= 15)
		return -1;
	*utime = f[14];
	*stime = f[15];
	*guest = field > 43 ? f[43] : 0;
	return 0;
}

int procstat_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns)
{
	unsigned long long run, wait;
	if (sscanf(text, "%llu %llu", &run, &wait) != 2)
		return -1;
	*run_ns = run;
	*wait_ns = wait;
	return 0;
}

int procstat_parse_statm(const char *text, uint64_t *resident_pages)
{
	unsigned long long size, res;
	if (sscanf(text, "%llu %llu", &size, &res) != 2)
		return -1;
	*resident_pages = res;
	return 0;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	return ticks * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
}

void procstat_task_times(int tid, struct proc_task_times *t)
{
	char path[64], buf[1024];
	memset(t, 0, sizeof(*t));
	if (tid <= 0)
		return;
	/* schedstat has nanosecond CPU time and the run-queue wait in one read. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	if (procstat_read(path, buf, sizeof(buf)) == 0 &&
	    procstat_parse_schedstat(buf, &t->cpu_ns, &t->wait_ns) == 0)
		t->have_cpu = t->have_wait = true;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	uint64_t ut, st, gt;
	if (procstat_read(path, buf, sizeof(buf)) == 0 && procstat_parse_stat(buf, &ut, &st, &gt) == 0) {
		t->guest_ns = ticks_to_ns(gt);
		t->have_guest = true;
		if (!t->have_cpu) {
			t->cpu_ns = ticks_to_ns(ut + st);
			t->have_cpu = true;
		}
	}
}

uint64_t procstat_rss(void)
{
	char buf[256];
	uint64_t pages;
	if (procstat_read("/proc/self/statm", buf, sizeof(buf)) < 0 || procstat_parse_statm(buf, &pages) < 0)
		return 0;
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t procstat_resident(const void *addr, size_t len)
{
	enum { CHUNK = 16384 };              /* pages per mincore call */
	unsigned char vec[CHUNK];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t pages = 0;
	for (size_t off = 0; off < len; off += (size_t)CHUNK * page) {
		size_t n = len - off < (size_t)CHUNK * page ? len - off : (size_t)CHUNK * page;
		if (mincore((char *)addr + off, n, vec) < 0)
			return 0;
		size_t np = (n + page - 1) / page;
		for (size_t i = 0; i < np; i++)
			pages += vec[i] & 1;
	}
	return pages * page;
}
