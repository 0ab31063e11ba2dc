/* The display's control command: screendump. */
#include "vmm/display.h"
#include "vmm/display_ctl.h"

static enum ctl_status cmd_screendump(struct ctl_call *call)
{
	struct vga *vga = call->ctx;
	const char *path;
	ctl_arg_string(call->req, "file", &path);
	if (!vga)
		return ctl_call_fail(call, CTL_ERR_UNAVAILABLE, "this VM has no display; start it with --display vga");
	struct error err = { "" };
	if (display_screendump(vga, path, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_FAILED, "%s", err.msg);
	json_object_object_add(call->result, "file", json_object_new_string(path));
	return CTL_OK;
}

static const struct ctl_arg screendump_args[] = {
	{ "file", CTL_ARG_PATH, true, "where the PNG goes (replaced if it exists)" },
	{ NULL, 0, false, NULL },
};

const struct ctl_command display_ctl_commands[] = {
	{ "screendump", screendump_args, cmd_screendump, "writes the display's current picture as a PNG" },
	{ NULL, NULL, NULL, NULL },
};
