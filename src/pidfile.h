/* The VMM's pidfile, NAME.pid beside its control socket (vmm/vmm_ctl.h):
 * created 0600, locked with flock(LOCK_EX) for as long as the process
 * lives, holding its pid.  The lock, not the file's existence, says that a
 * VMM runs the VM of that name: a VMM that dies for any reason (SIGKILL
 * included) releases it, and a stale file never blocks a new start. */
#ifndef VMDECK_PIDFILE_H
#define VMDECK_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "src/error.h"

/* Creates and locks PATH and writes our pid into it.  Returns the open
 * descriptor (close-on-exec; keep it open: closing it drops the lock).
 * When another process holds the lock, fails with "VM 'WHO' is already
 * running (pid N)" and sets *HELD. */
int pidfile_acquire(const char *path, const char *who, bool *held, struct error *err);

/* flock(FD, LOCK_EX | LOCK_NB), retried for 200 ms because the probes of
 * pidfile_held hold LOCK_SH for an instant: 0, EWOULDBLOCK when another
 * process really holds it, or another errno. */
int pidfile_lock_ex(int fd);

/* True when a live process holds PATH's lock; its pid in *PID if asked. */
bool pidfile_held(const char *path, pid_t *pid);

#endif
