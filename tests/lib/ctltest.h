/* Helpers for tests that drive a VM through its control socket and watch
 * the VMM from outside (/proc). */
#ifndef TESTS_CTLTEST_H
#define TESTS_CTLTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/vmproc.h"

/* How often TEXT appears on P's stdout so far. */
unsigned vmproc_count(const struct vmproc *p, const char *text);
/* VmRSS of PID in bytes, from /proc/PID/status (0 if unknown). */
uint64_t proc_rss(pid_t pid);
/* A fresh private directory under /tmp for sockets. */
void test_tmpdir(char *dir, size_t len);
/* Runs `vmdeck ctl SOCKET ARGS...` (NULL-terminated) and returns its exit
 * status; *OUT (if OUT is not NULL) gets its stdout, to free. */
int vmdeck_ctl(const char *socket, char **out, ...);

#endif
