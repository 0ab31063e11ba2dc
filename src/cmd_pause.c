/* vmdeck pause NAME / vmdeck resume NAME: freeze and thaw a VM's vCPUs. */
#include "src/cmd_vm.h"

static int op_pause(struct backend *b, const char *name, struct error *err)
{
	return b->ops->pause(b, name, err);
}

static int op_resume(struct backend *b, const char *name, struct error *err)
{
	return b->ops->resume(b, name, err);
}

static int exec_pause(int argc, char **argv);
static int exec_resume(int argc, char **argv);

const struct cli_cmd cmd_pause_entry = {
	.name = "pause",
	.args = "NAME",
	.summary = "freeze a running VM's vCPUs (through its control socket)",
	.help = "The VM keeps its memory and devices; `vmdeck resume NAME` lets it run on.\n",
	.exec = exec_pause,
};

const struct cli_cmd cmd_resume_entry = {
	.name = "resume",
	.args = "NAME",
	.summary = "let a paused VM run again",
	.help = "",
	.exec = exec_resume,
};

static int exec_pause(int argc, char **argv)
{
	return cmd_vm_simple(&cmd_pause_entry, argc, argv, op_pause, "paused");
}

static int exec_resume(int argc, char **argv)
{
	return cmd_vm_simple(&cmd_resume_entry, argc, argv, op_resume, "resumed");
}
