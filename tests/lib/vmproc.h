/* A program (usually `vmdeck run`) running in the background while a test
 * talks to it: its stdout and stderr are collected, its stdin is ours. */
#ifndef TESTS_VMPROC_H
#define TESTS_VMPROC_H

#include <stdbool.h>
#include <sys/types.h>

struct vmproc {
	pid_t pid;
	int in, out, err;
	char *obuf, *ebuf;
	size_t olen, elen;
	int status;          /* after vmproc_wait: exit code or 128 + signal; -1 while running */
};

/* Starts ARGV with extra environment ENV ("K=V", NULL-terminated or NULL). */
int vmproc_start(struct vmproc *p, char *const argv[], char *const env[]);
/* Collects output for up to TIMEOUT_MS until NEEDLE appears in stdout. */
bool vmproc_wait_for(struct vmproc *p, const char *needle, int timeout_ms);
/* Collects whatever output is there now. */
void vmproc_poll(struct vmproc *p, int timeout_ms);
void vmproc_type(struct vmproc *p, const char *s);
/* Waits for the exit (killing it after TIMEOUT_MS); returns the status. */
int vmproc_wait(struct vmproc *p, int timeout_ms);
void vmproc_free(struct vmproc *p);

#endif
