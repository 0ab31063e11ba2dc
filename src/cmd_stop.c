/* vmdeck stop NAME: press the VM's power button and wait for it to end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/cmd_vm.h"

#define DEFAULT_TIMEOUT_S 30

static int exec_stop(int argc, char **argv);

const struct cli_cmd cmd_stop_entry = {
	.name = "stop",
	.args = "[--timeout SECS] [--force] NAME",
	.summary = "shut a VM down through its ACPI power button",
	.help = "options:\n"
		"  --timeout SECS       how long to wait for the guest to power off (default 30)\n"
		"  --force              when the guest has not powered off by then, end the VMM\n"
		"                       (SIGKILL, as `vmdeck kill`); --timeout 0 --force kills at once\n"
		"\n"
		"exit status: 0 when the VM stopped; 1 when it was still running after the timeout\n"
		"(the guest may ignore the button); 2 when it was not running or does not exist.\n",
	.exec = exec_stop,
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool wait_down(struct backend *b, const char *name, double timeout)
{
	double end = now_s() + timeout;
	struct error err;
	for (;;) {
		struct be_vm vm;
		if (b->ops->get(b, name, &vm, &err) != 0 || !vm_state_live(vm.state))
			return true;
		if (now_s() >= end)
			return false;
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int exec_stop(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_stop_entry;
	double timeout = DEFAULT_TIMEOUT_S;
	bool force = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "--timeout")) {
			char *end;
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "--timeout needs a value");
			errno = 0;
			timeout = strtod(argv[++i], &end);
			if (!*argv[i] || *end || errno || !(timeout >= 0) || timeout > 86400)
				return cli_usage_error(cmd, "--timeout takes seconds from 0 to 86400, not '%s'", argv[i]);
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help stop` lists them", argv[i]);
		}
	}
	const char *name;
	struct backend *b;
	int r = cmd_vm_open(cmd, argc, argv, i, 1, &name, &b);
	if (r)
		return r;
	struct error err;
	bool killed = false;
	if (force && timeout == 0) {
		r = b->ops->kill(b, name, &err);
		killed = true;
	} else {
		r = b->ops->stop(b, name, &err);
		if (r == 0 && !wait_down(b, name, timeout)) {
			if (force) {
				r = b->ops->kill(b, name, &err);
				killed = true;
			} else {
				r = BE_EFAIL;
				error_set(&err, "VM '%s' is still running %g seconds after its power button was pressed; "
					  "`vmdeck stop --force %s` or `vmdeck kill %s` ends it at once", name, timeout,
					  name, name);
			}
		}
	}
	if (r == 0)
		printf("VM '%s' %s\n", name, killed ? "killed" : "stopped");
	backend_free(b);
	return cmd_vm_status(cmd, r, &err);
}
