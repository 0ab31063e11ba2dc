#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"

const struct cli_cmd *cli_find(const char *name)
{
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

void cli_print_usage(const struct cli_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: vmdeck %s %s\n", cmd->name, cmd->args);
}

void cli_print_help(FILE *out)
{
	fprintf(out,
		"vmdeck %s: a terminal workstation hypervisor console\n\n"
		"usage: vmdeck                  open the console (TUI)\n"
		"       vmdeck COMMAND [ARGS]   run one command\n\n"
		"commands:\n", VMDECK_VERSION);
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++)
		fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\n`vmdeck help COMMAND` describes a command's options; "
		     "man vmdeck(1) has the whole manual.\n");
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vmdeck %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static int cmd_help(const char *name)
{
	const struct cli_cmd *cmd = cli_find(name);
	if (!cmd) {
		fprintf(stderr, "vmdeck: there is no command '%s'; `vmdeck --help` lists them.\n", name);
		return EXIT_USAGE;
	}
	cli_print_usage(cmd, stdout);
	printf("\n%s\n", cmd->summary);
	if (cmd->help && *cmd->help)
		printf("\n%s", cmd->help);
	return EXIT_OK;
}

int cli_main(int argc, char **argv)
{
	if (argc < 2) {
		const struct cli_cmd *tui = cli_find("tui");
		if (tui)
			return tui->exec(argc, argv);
		cli_print_help(stdout);
		return EXIT_OK;
	}
	const char *first = argv[1];
	if (!strcmp(first, "--help") || !strcmp(first, "-h")) {
		cli_print_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(first, "--version") || !strcmp(first, "-V")) {
		printf("vmdeck %s\n", VMDECK_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(first, "help")) {
		if (argc < 3) {
			cli_print_help(stdout);
			return EXIT_OK;
		}
		return cmd_help(argv[2]);
	}
	const struct cli_cmd *cmd = cli_find(first);
	if (!cmd) {
		fprintf(stderr, "vmdeck: there is no command '%s'; `vmdeck --help` lists them.\n", first);
		return EXIT_USAGE;
	}
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
		return cmd_help(first);
	return cmd->exec(argc - 1, argv + 1);
}
