/* Every subcommand, in the order `vmdeck --help` lists them.  Each lives in
 * its own cmd_*.c file as one struct cli_cmd. */
#include "src/cli.h"

extern const struct cli_cmd cmd_run_entry;
extern const struct cli_cmd cmd_img_entry;

const struct cli_cmd *const cli_cmds[] = {
	&cmd_run_entry,
	&cmd_img_entry,
	NULL,
};
