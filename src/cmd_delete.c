/* vmdeck delete NAME: remove a stopped VM and its files. */
#include "src/cmd_vm.h"

static int op_delete(struct backend *b, const char *name, struct error *err)
{
	return b->ops->remove(b, name, err);
}

static int exec_delete(int argc, char **argv);

const struct cli_cmd cmd_delete_entry = {
	.name = "delete",
	.args = "NAME",
	.summary = "delete a stopped VM: its definition, disks and logs",
	.help = "A running VM is refused (stop or kill it first).  There is no undo.\n",
	.exec = exec_delete,
};

static int exec_delete(int argc, char **argv)
{
	return cmd_vm_simple(&cmd_delete_entry, argc, argv, op_delete, "deleted");
}
