/* vmdeck start NAME: run a library VM in its own detached VMM. */
#include <stdio.h>

#include "src/cmd_vm.h"

static int exec_start(int argc, char **argv);

const struct cli_cmd cmd_start_entry = {
	.name = "start",
	.args = "NAME",
	.summary = "start a VM in the background; it keeps running after the terminal closes",
	.help = "The VM gets its own VMM process (`vmdeck run` with options from its vm.conf)\n"
		"beside a small monitor that records how it ends in NAME/last-exit; the VMM's\n"
		"output goes to NAME/vmm.log in the VM's directory.  A VM that is already\n"
		"running is refused (exit status 2).  `vmdeck console NAME` attaches to its\n"
		"serial console; `vmdeck list` shows its state.\n",
	.exec = exec_start,
};

static int exec_start(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_start_entry;
	const char *name;
	struct backend *b;
	int r = cmd_vm_open(cmd, argc, argv, 1, 1, &name, &b);
	if (r)
		return r;
	struct error err;
	r = b->ops->start(b, name, &err);
	struct be_vm vm;
	if (r == 0 && b->ops->get(b, name, &vm, &err) == 0)
		printf("VM '%s' %s (VMM pid %d); `vmdeck console %s` attaches to its serial console\n", name,
		       vm.state == VM_STATE_CRASHED ? "crashed at once" : "started", vm.pid, name);
	backend_free(b);
	return cmd_vm_status(cmd, r, &err);
}
