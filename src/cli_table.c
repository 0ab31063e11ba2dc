/* Every subcommand, in the order `vmdeck --help` lists them.  Each lives in
 * its own cmd_*.c file as one struct cli_cmd. */
#include "src/cli.h"

extern const struct cli_cmd cmd_run_entry;
extern const struct cli_cmd cmd_img_entry;
extern const struct cli_cmd cmd_ctl_entry;
extern const struct cli_cmd cmd_stats_entry;

const struct cli_cmd *const cli_cmds[] = {
	&cmd_run_entry,
	&cmd_img_entry,
	&cmd_ctl_entry,
	&cmd_stats_entry,
	NULL,
};
