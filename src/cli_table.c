/* Every subcommand, in the order `vmdeck --help` lists them.  Each lives in
 * its own cmd_*.c file as one struct cli_cmd. */
#include "src/cli.h"

extern const struct cli_cmd cmd_new_entry, cmd_list_entry, cmd_start_entry, cmd_stop_entry, cmd_kill_entry,
	cmd_pause_entry, cmd_resume_entry, cmd_console_entry, cmd_delete_entry, cmd_clone_entry,
	cmd_rename_entry;
extern const struct cli_cmd cmd_run_entry, cmd_tui_entry;
extern const struct cli_cmd cmd_img_entry;
extern const struct cli_cmd cmd_ctl_entry;
extern const struct cli_cmd cmd_stats_entry;

const struct cli_cmd *const cli_cmds[] = {
	/* the console */
	&cmd_tui_entry,
	/* the VM library and its processes */
	&cmd_new_entry,
	&cmd_list_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_kill_entry,
	&cmd_pause_entry,
	&cmd_resume_entry,
	&cmd_console_entry,
	&cmd_delete_entry,
	&cmd_clone_entry,
	&cmd_rename_entry,
	/* one VM in the foreground */
	&cmd_run_entry,
	/* disk images */
	&cmd_img_entry,
	&cmd_ctl_entry,
	&cmd_stats_entry,
	NULL,
};
