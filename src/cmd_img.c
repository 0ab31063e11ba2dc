/* vmdeck img: disk image tool, qemu-img compatible where a user would expect. */
#include <string.h>

#include "src/cli.h"
#include "src/cmd_img.h"

static const char img_help[] =
	"subcommands (options follow qemu-img):\n"
	"  create [-f qcow2|raw] [-b BACKING [-F FMT]] [-u] [-o OPTS] [-q] FILE [SIZE]\n"
	"        OPTS: cluster_size=SIZE, refcount_bits=1..64, lazy_refcounts=on|off,\n"
	"        compat=0.10|1.1, extended_l2=on|off, backing_file=F, backing_fmt=FMT\n"
	"  info [-f FMT] [--output=human|json] [--json] [-U] FILE\n"
	"  check [-f FMT] [-r leaks|all] [--output=human|json] [--json] [-U] [-q] FILE\n"
	"        exit status: 0 clean, 2 corruption, 3 leaked clusters only, 1 not checked\n"
	"  resize [-f FMT] [--shrink] [-q] FILE [+|-]SIZE\n"
	"  convert [-f FMT] [-O FMT] [-o OPTS] [-c] [-p] [-q] [-U] [-t CACHE] [-T CACHE] SRC DST\n"
	"        -c writes qcow2 compressed clusters; -p forces the progress bar (shown\n"
	"        on a terminal anyway); CACHE is writeback, none or unsafe (default)\n"
	"  snapshot -l | -c NAME | -a NAME | -d NAME [-f FMT] [-U] [-q] FILE\n"
	"  commit [-f FMT] [-d] [-p] [-q] FILE\n"
	"        write FILE's data into its backing file, then empty FILE (-d keeps it)\n"
	"  rebase [-f FMT] [-u] [-p] [-q] -b BACKING [-F FMT] FILE\n"
	"        -u only rewrites the name; otherwise changed data is copied first;\n"
	"        -b \"\" removes the backing file\n"
	"  bench [-c COUNT] [-d DEPTH] [-f FMT] [--flush-interval=N] [-o OFFSET]\n"
	"        [--pattern=BYTE] [-q] [-s SIZE] [-S STEP] [-t none|writeback] [-w] [-U] FILE\n"
	"        the request pattern of qemu-img bench: COUNT requests (75000) of SIZE\n"
	"        (4K) at OFFSET + k*STEP (STEP defaults to SIZE), DEPTH (64) in flight\n"
	"\n"
	"Images in use by a VM or by qemu are locked the way QEMU locks them; -U\n"
	"(--force-share) reads an image in use anyway.\n";

static const struct {
	const char *name;
	int (*exec)(int argc, char **argv);
} subs[] = {
	{ "create", img_cmd_create }, { "info", img_cmd_info }, { "check", img_cmd_check },
	{ "resize", img_cmd_resize }, { "convert", img_cmd_convert }, { "snapshot", img_cmd_snapshot },
	{ "commit", img_cmd_commit }, { "rebase", img_cmd_rebase }, { "bench", img_cmd_bench },
};

static int exec_img(int argc, char **argv);

const struct cli_cmd cmd_img_entry = {
	.name = "img",
	.args = "create|info|check|resize|convert|snapshot|commit|rebase|bench [OPTIONS] FILE...",
	.summary = "create, inspect, check, convert and snapshot disk images (raw, qcow2)",
	.help = img_help,
	.exec = exec_img,
};

static int exec_img(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cmd_img_entry, "needs a subcommand; `vmdeck help img` lists them");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].exec(argc - 1, argv + 1);
	return cli_usage_error(&cmd_img_entry, "there is no subcommand '%s'; `vmdeck help img` lists them",
			       argv[1]);
}
