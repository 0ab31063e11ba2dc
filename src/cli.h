/* The command-line interface: one table row per subcommand (tmux-style). */
#ifndef VMDECK_CLI_H
#define VMDECK_CLI_H

#include <stdio.h>

/* Exit codes shared by every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,     /* runtime failure */
	EXIT_USAGE = 2,    /* bad input from the user: one sentence on stderr */
	EXIT_GUEST = 3,    /* the guest crashed or KVM could not run it */
};

struct cli_cmd {
	const char *name;
	const char *args;      /* argument template shown in usage */
	const char *summary;   /* one line for `vmdeck --help` */
	const char *help;      /* option list for `vmdeck help NAME` */
	int (*exec)(int argc, char **argv);  /* argv[0] is the command name */
};

/* NULL-terminated table of every subcommand, in help order. */
extern const struct cli_cmd *const cli_cmds[];

const struct cli_cmd *cli_find(const char *name);
void cli_print_usage(const struct cli_cmd *cmd, FILE *out);
void cli_print_help(FILE *out);
int cli_main(int argc, char **argv);

/* Reports a usage error for CMD in one sentence and returns EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
