#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/vmexit.h"
#include "src/vmspawn.h"
#include "src/vmstate.h"

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = {
		[VM_STATE_STOPPED] = "stopped", [VM_STATE_STARTING] = "starting", [VM_STATE_RUNNING] = "running",
		[VM_STATE_PAUSED] = "paused", [VM_STATE_CRASHED] = "crashed",
	};
	return s < VM_STATE_NR ? names[s] : "unknown";
}

bool vm_state_live(enum vm_state s)
{
	return s == VM_STATE_STARTING || s == VM_STATE_RUNNING || s == VM_STATE_PAUSED;
}

void vmstate_get(const struct vmlib *lib, const char *name, struct vm_status *out)
{
	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (vmlib_running(lib, name, &out->pid)) {
		out->state = VM_STATE_RUNNING;
		return;
	}
	char *dir = vmlib_path(lib, name, NULL), *exitp = vmlib_path(lib, name, VMLIB_EXIT),
	     *monp = vmlib_path(lib, name, VMSPAWN_MONITOR_LOCK);
	struct vmexit r;
	if (!dir || !exitp || !monp) {
		out->state = VM_STATE_STOPPED;
	} else if (vmexit_read(exitp, &r) == 0) {
		out->state = vmexit_is_crash(&r) ? VM_STATE_CRASHED : VM_STATE_STOPPED;
		out->since = r.time;
		out->exit_code = r.signal ? -1 : r.code;
		vmexit_describe(&r, out->reason, sizeof(out->reason));
	} else if (vmspawn_monitor_alive(dir)) {
		out->state = VM_STATE_STARTING;
	} else if (access(monp, F_OK) == 0) {
		/* A start made the lock and the monitor always writes a record
		 * before it lets go: both were killed. */
		out->state = VM_STATE_CRASHED;
		snprintf(out->reason, sizeof(out->reason),
			 "the VMM ended without an exit record (its monitor was killed too)");
	} else {
		out->state = VM_STATE_STOPPED;
	}
	free(dir);
	free(exitp);
	free(monp);
}

char *vmstate_log_tail(const struct vmlib *lib, const char *name, unsigned lines)
{
	char *path = vmlib_path(lib, name, VMLIB_LOG);
	FILE *f = path ? fopen(path, "re") : NULL;
	free(path);
	if (!f)
		return strdup("");
	char buf[8192];
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long from = size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	char *start = buf + n;
	for (unsigned seen = 0; start > buf; start--)
		if (start[-1] == '\n' && ++seen == lines)
			break;
	return strdup(start);
}
