/* A program (usually `vmdeck run`) running in the background of a test:
 * its output is collected while the test waits for text, talks to it
 * through its control socket or measures it from /proc. */
#ifndef TESTS_VMPROC_H
#define TESTS_VMPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vmproc {
	pid_t pid;
	int in_fd, out_fd, err_fd;
	char *out, *err;
	size_t out_len, err_len;
	bool exited;
	int status;          /* exit code, or 128 + signal */
};

/* Starts ARGV with stdin, stdout and stderr on pipes. */
int vmproc_start(struct vmproc *p, char *const argv[]);
/* Collects output for up to TIMEOUT_MS or until TEXT (NULL: nothing) has
 * appeared on stdout; true if it has. */
bool vmproc_wait_for(struct vmproc *p, const char *text, int timeout_ms);
/* How often TEXT appears on stdout so far. */
unsigned vmproc_count(const struct vmproc *p, const char *text);
void vmproc_type(struct vmproc *p, const char *keys);
/* Waits for the exit; kills it after TIMEOUT_MS and returns -1 then. */
int vmproc_wait_exit(struct vmproc *p, int timeout_ms);
/* Kills it if it still runs and frees everything. */
void vmproc_free(struct vmproc *p);
/* VmRSS of PID in bytes, from /proc/PID/status (0 if unknown). */
uint64_t vmproc_rss(pid_t pid);
/* utime + stime of one thread (TID) or, with TID 0, the whole process, in
 * nanoseconds (clock-tick resolution). */
uint64_t vmproc_cpu_ns(pid_t pid, pid_t tid);

/* A fresh private directory for sockets; the socket path is DIR/NAME. */
void vmproc_tmpdir(char *dir, size_t len);

/* Runs `vmdeck ctl SOCKET ARGS...` (NULL-terminated) and returns its exit
 * status; *OUT gets its stdout (free it). */
int vmdeck_ctl(const char *socket, char **out, ...);

#endif
