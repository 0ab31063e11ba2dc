/* The VMM's side of the control socket: it serves the VM's commands
 * (src/ctl_vm.h) on the main loop, keeps the statistics model sampled,
 * tracks the VM's state (running, paused, shutting down, crashed) and
 * the last error, and sends the events: state changes, resets, the
 * balloon reaching its target, guest panics and crashes. */
#ifndef VMDECK_VMM_CTL_H
#define VMDECK_VMM_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "src/ctl_server.h"
#include "src/ctl_vm.h"
#include "vmm/stats.h"
#include "vmm/vm.h"

#define VMM_DEFAULT_STATS_MS 1000

struct virtio_balloon;

struct vmm_ctl {
	struct vm *vm;
	struct ctl_server *srv;
	struct ctl_vm ctlvm;
	struct stats stats;
	bool stats_ready;
	unsigned stats_timer;
	char name[80];
	uint64_t start_ns, boot_ns;
	const char *state;               /* as last announced */
	bool stopping, crashed, panicked, powerdown_pressed;
	uint64_t panics;
	char last_error[512];
	struct virtio_balloon *balloon;
	int balloon_pending;             /* atomic: the driver changed `actual` */
	bool balloon_waiting;            /* announce when actual reaches the target */
};

/* Opens the control socket (--control, --name or the first free default
 * name "vm", "vm-2", ...) and starts sampling.  Errors are the user's
 * (a name in use, a bad path). */
int vmm_ctl_start(struct vmm_ctl *c, struct vm *vm, struct error *err);
void vmm_ctl_stop(struct vmm_ctl *c);
/* Hooks for the VMM's main loop. */
void vmm_ctl_guest_events(struct vmm_ctl *c, unsigned events);    /* VM_EVENT_* */
/* Around a reset: the last sample of the old vCPUs, then the news. */
void vmm_ctl_rebooting(struct vmm_ctl *c);
void vmm_ctl_rebooted(struct vmm_ctl *c);
/* The VMM is about to stop: CODE is its exit status, WHY the reason. */
void vmm_ctl_stopping(struct vmm_ctl *c, int code, const char *why);

#endif
