#include "src/ctl_vm.h"

static enum ctl_status cmd_status(struct ctl_call *call)
{
	struct ctl_vm *v = call->ctx;
	v->ops->status(v->vmm, call->result);
	return CTL_OK;
}

static enum ctl_status cmd_stats(struct ctl_call *call)
{
	struct ctl_vm *v = call->ctx;
	v->ops->stats(v->vmm, call->result);
	return CTL_OK;
}

static enum ctl_status finish(struct ctl_call *call, enum ctl_status st, const struct error *err)
{
	if (st != CTL_OK)
		return ctl_call_fail(call, st, "%s", err->msg);
	return CTL_OK;
}

#define SIMPLE(fn)                                                           \
	static enum ctl_status cmd_##fn(struct ctl_call *call)               \
	{                                                                    \
		struct ctl_vm *v = call->ctx;                                \
		struct error err = { "" };                                   \
		return finish(call, v->ops->fn(v->vmm, call->result, &err), &err); \
	}

SIMPLE(pause)
SIMPLE(resume)
SIMPLE(powerdown)
SIMPLE(reset)
SIMPLE(quit)

static enum ctl_status cmd_balloon(struct ctl_call *call)
{
	struct ctl_vm *v = call->ctx;
	uint64_t target;
	if (ctl_arg_size(call->req, "target", &target) < 0)
		return ctl_call_fail(call, CTL_ERR_ARGS, "balloon: \"target\" must be a size in bytes such as "
				     "268435456 or \"256M\"");
	struct error err = { "" };
	return finish(call, v->ops->balloon(v->vmm, target, call->result, &err), &err);
}

static const struct ctl_arg balloon_args[] = {
	{ "target", CTL_ARG_SIZE, true, "memory the guest should keep: bytes, or a string such as \"256M\"" },
	{ NULL, 0, false, NULL },
};

const struct ctl_command ctl_vm_commands[] = {
	{ "status", NULL, cmd_status, "name, state, uptime, vCPUs, memory and the last error" },
	{ "stats", NULL, cmd_stats, "the statistics: vCPUs, memory, balloon, devices (see the protocol document)" },
	{ "pause", NULL, cmd_pause, "stops the vCPUs (devices and the clock keep running)" },
	{ "resume", NULL, cmd_resume, "lets paused vCPUs run again" },
	{ "powerdown", NULL, cmd_powerdown, "presses the ACPI power button; the guest decides what to do" },
	{ "reset", NULL, cmd_reset, "resets the machine as the reset button would (with --no-reboot: stops)" },
	{ "quit", NULL, cmd_quit, "stops the VM at once and ends the VMM (exit status 0)" },
	{ "balloon", balloon_args, cmd_balloon, "asks the guest to give back memory until it keeps TARGET" },
	{ NULL, NULL, NULL, NULL },
};
