/* vmdeck tui (and vmdeck with no arguments): the console. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd_vm.h"
#include "ui/ui.h"

static int exec_tui(int argc, char **argv);

const struct cli_cmd cmd_tui_entry = {
	.name = "tui",
	.args = "[--refresh SECS] [--select NAME] [--colors 16]",
	.summary = "the console: every VM with live statistics, consoles, snapshots (also `vmdeck` alone)",
	.help = "options:\n"
		"  --refresh SECS       how often the VM list and statistics refresh (default 1)\n"
		"  --select NAME        start with VM NAME selected\n"
		"  --colors 16          use 16 colours even where the terminal has more\n"
		"\n"
		"F1 or ? shows the keys of each screen.  Quitting leaves the VMs running; the next\n"
		"vmdeck finds them again.  In a console window Ctrl-] goes back.\n",
	.exec = exec_tui,
};

static int exec_tui(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_tui_entry;
	struct ui_opts o = { .refresh_s = 1.0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc && (!strcmp(a, "--refresh") || !strcmp(a, "--select") || !strcmp(a, "--colors")))
			return cli_usage_error(cmd, "%s needs a value", a);
		if (!strcmp(a, "--refresh")) {
			char *end;
			o.refresh_s = strtod(argv[++i], &end);
			if (*end || !(o.refresh_s >= 0.05) || o.refresh_s > 3600)
				return cli_usage_error(cmd, "--refresh takes seconds from 0.05 to 3600, not '%s'", argv[i]);
		} else if (!strcmp(a, "--select")) {
			o.select = argv[++i];
		} else if (!strcmp(a, "--colors")) {
			if (strcmp(argv[++i], "16"))
				return cli_usage_error(cmd, "--colors takes 16, not '%s'", argv[i]);
			o.force_16 = true;
		} else {
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help tui` lists them", a);
		}
	}
	if (!isatty(0) || !isatty(1))
		return cli_usage_error(cmd, "the console needs a terminal on stdin and stdout; "
				       "`vmdeck list` works anywhere");
	if (!getenv("TERM") || !*getenv("TERM"))
		return cli_usage_error(cmd, "TERM is not set, so the terminal's kind is unknown");
	struct backend *b = cmd_vm_backend(cmd);
	if (!b)
		return EXIT_FAIL;
	int r = ui_run(b, &o);
	backend_free(b);
	return r;
}
