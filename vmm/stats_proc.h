/* What the host kernel says about this process: per-thread CPU, guest and
 * run-queue wait time (/proc/self/task/TID/{stat,schedstat}), the resident
 * set (/proc/self/statm) and which pages of a mapping are resident
 * (mincore).  The parsers take text so that tests can feed them. */
#ifndef VMDECK_STATS_PROC_H
#define VMDECK_STATS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_task_times {
	uint64_t cpu_ns;       /* time on a CPU (user + system + guest) */
	uint64_t wait_ns;      /* runnable but waiting for a CPU: steal as the guest would see it */
	uint64_t guest_ns;     /* time spent running guest code */
	bool have_cpu, have_wait, have_guest;
};

/* /proc/.../stat: utime, stime and guest_time in clock ticks (fields 14,
 * 15 and 43; the command name in parentheses may hold spaces). */
int procstat_parse_stat(const char *text, uint64_t *utime, uint64_t *stime, uint64_t *guest);
/* /proc/.../schedstat: "RUN_NS WAIT_NS TIMESLICES". */
int procstat_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns);
/* /proc/self/statm: the resident field, in pages. */
int procstat_parse_statm(const char *text, uint64_t *resident_pages);

/* Reads a small /proc file into BUF (NUL-terminated); -1 on error. */
int procstat_read(const char *path, char *buf, size_t len);
/* Times of thread TID of this process; fields the kernel lacks stay unset. */
void procstat_task_times(int tid, struct proc_task_times *t);
/* Resident set size of this process in bytes (0 if unknown). */
uint64_t procstat_rss(void);
/* Resident bytes of the page-aligned range [ADDR, ADDR+LEN).  Pages that
 * map the shared zero page count too, although the kernel's RSS does not
 * count them; KVM faults guest RAM in writable, so they are rare. */
uint64_t procstat_resident(const void *addr, size_t len);

#endif
