/* vmdeck clone NAME NEW / vmdeck rename NAME NEW. */
#include <stdio.h>

#include "src/cmd_vm.h"

static int two_names(const struct cli_cmd *cmd, int argc, char **argv,
		     int (*op)(struct backend *b, const char *from, const char *to, struct error *err),
		     const char *done)
{
	const char *names[2];
	struct backend *b;
	int r = cmd_vm_open(cmd, argc, argv, 1, 2, names, &b);
	if (r)
		return r;
	struct error err;
	r = op(b, names[0], names[1], &err);
	backend_free(b);
	if (r == 0)
		printf("VM '%s' %s '%s'\n", names[0], done, names[1]);
	return cmd_vm_status(cmd, r, &err);
}

static int op_clone(struct backend *b, const char *from, const char *to, struct error *err)
{
	return b->ops->clone(b, from, to, err);
}

static int op_rename(struct backend *b, const char *from, const char *to, struct error *err)
{
	return b->ops->rename(b, from, to, err);
}

static int exec_clone(int argc, char **argv);
static int exec_rename(int argc, char **argv);

const struct cli_cmd cmd_clone_entry = {
	.name = "clone",
	.args = "NAME NEW",
	.summary = "copy a stopped VM, its definition and disk images, as NEW",
	.help = "Disk images are reflinked where the file system can, else copied.\n",
	.exec = exec_clone,
};

const struct cli_cmd cmd_rename_entry = {
	.name = "rename",
	.args = "NAME NEW",
	.summary = "rename a stopped VM",
	.help = "",
	.exec = exec_rename,
};

static int exec_clone(int argc, char **argv)
{
	return two_names(&cmd_clone_entry, argc, argv, op_clone, "cloned as");
}

static int exec_rename(int argc, char **argv)
{
	return two_names(&cmd_rename_entry, argc, argv, op_rename, "renamed to");
}
