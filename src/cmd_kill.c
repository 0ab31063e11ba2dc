/* vmdeck kill NAME: end a VM's VMM at once (SIGKILL). */
#include "src/cmd_vm.h"

static int op_kill(struct backend *b, const char *name, struct error *err)
{
	return b->ops->kill(b, name, err);
}

static int exec_kill(int argc, char **argv);

const struct cli_cmd cmd_kill_entry = {
	.name = "kill",
	.args = "NAME",
	.summary = "end a VM at once, like pulling its power cord",
	.help = "The VMM gets SIGKILL: the guest has no chance to save anything.  `vmdeck list`\n"
		"then shows the VM as stopped (killed with vmdeck kill), not crashed.\n",
	.exec = exec_kill,
};

static int exec_kill(int argc, char **argv)
{
	return cmd_vm_simple(&cmd_kill_entry, argc, argv, op_kill, "killed");
}
