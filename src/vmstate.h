/* The state of a VM as every screen and command shows it, and how the
 * local library works it out from the files a VMM and its monitor leave:
 *
 *   RUNDIR/NAME.pid locked                  running (the control socket may
 *                                           refine it to starting or paused)
 *   monitor alive, VMM lock not yet taken   starting
 *   NAME/last-exit                          stopped (clean exit, vmdeck kill)
 *                                           or crashed (exit status != 0,
 *                                           killed by a signal), with why
 *   NAME/monitor.lock there, not held,      crashed: the VMM and its monitor
 *   no record                               both vanished
 *   nothing                                 stopped (never started) */
#ifndef VMDECK_VMSTATE_H
#define VMDECK_VMSTATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "src/vmlib.h"

enum vm_state {
	VM_STATE_STOPPED,
	VM_STATE_STARTING,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_CRASHED,
	VM_STATE_NR,
};

const char *vm_state_name(enum vm_state s);
/* Running, starting or paused: a VMM process exists. */
bool vm_state_live(enum vm_state s);

struct vm_status {
	enum vm_state state;
	pid_t pid;               /* the VMM while live, else 0 */
	time_t since;            /* when it stopped or crashed (0: unknown) */
	int exit_code;           /* of the last run: -1 if signalled or unknown */
	char reason[512];        /* why it stopped or crashed ("" when running) */
};

/* The state of library VM NAME from its files. */
void vmstate_get(const struct vmlib *lib, const char *name, struct vm_status *out);
/* The last NLINES lines of the VM's VMM log (malloc'ed; "" when none). */
char *vmstate_log_tail(const struct vmlib *lib, const char *name, unsigned nlines);

#endif
