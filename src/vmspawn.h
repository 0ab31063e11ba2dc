/* Starting a library VM's VMM detached from whoever asked (the CLI or the
 * TUI), so that it outlives the terminal:
 *
 *   caller ── fork ── child: setsid, fork, _exit      (reaped at once)
 *                       └── monitor: holds NAME/monitor.lock, stdio to
 *                           NAME/vmm.log, fork+exec the VMM, waitpid,
 *                           write NAME/last-exit, exit
 *
 * The monitor's lock also serialises starts: a second start while a
 * monitor lives is refused.  Everything the monitor needs is prepared
 * before the fork; after it only async-signal-safe calls run, since the
 * caller may have threads. */
#ifndef VMDECK_VMSPAWN_H
#define VMDECK_VMSPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "src/error.h"

#define VMSPAWN_MONITOR_LOCK "monitor.lock"
#define VMSPAWN_KILL_MARK    "kill-request"

struct vmspawn {
	const char *dir;            /* the VM's directory */
	const char *exe;            /* the vmdeck binary */
	char *const *argv;          /* the VMM's argv (argv[0] included) */
};

/* Spawns the monitor and the VMM.  Returns 0 once the monitor is on its
 * way (the VMM may still fail: see NAME/last-exit).  Fails when a monitor
 * already runs for this VM (*BUSY set). */
int vmspawn_start(const struct vmspawn *s, bool *busy, struct error *err);

/* True while a monitor holds DIR's monitor lock. */
bool vmspawn_monitor_alive(const char *dir);

/* The path of this very binary (for starting VMMs), malloc'ed. */
char *vmspawn_self_exe(void);

#endif
