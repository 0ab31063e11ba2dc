/* vmdeck img snapshot -l | -c NAME | -a NAME | -d NAME FILE */
#include <getopt.h>
#include <stdio.h>

#include "src/cli.h"
#include "src/cmd_img.h"

static int act(struct blk *b, int action, const char *name)
{
	struct error err;
	int ret = 0;
	if (action == 'l') {
		struct blk_snapshot *l;
		size_t n;
		ret = blk_snapshot_list(b, &l, &n, &err);
		if (!ret) {
			if (n) {
				printf("Snapshot list:\n");
				img_print_snapshots(l, n);
			}
			blk_snapshot_list_free(l, n);
		}
	} else if (action == 'c') {
		ret = blk_snapshot_create(b, name, 0, &err);
	} else if (action == 'a') {
		ret = blk_snapshot_apply(b, name, &err);
	} else {
		ret = blk_snapshot_delete(b, name, &err);
	}
	return ret < 0 ? img_fail("snapshot", err.msg) : EXIT_OK;
}

int img_cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force-share", no_argument, NULL, 'U' }, { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	struct blk_options bo = { .no_backing = true };
	int action = 0, c;
	const char *name = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lc:a:d:f:Uq", opts, NULL)) != -1) {
		switch (c) {
		case 'l': case 'c': case 'a': case 'd':
			if (action)
				return img_usage("snapshot", "takes one of -l, -c, -a and -d");
			action = c;
			name = optarg;
			break;
		case 'f':
			if (img_parse_format("snapshot", optarg, &bo.format))
				return EXIT_USAGE;
			break;
		case 'U': bo.force_share = true; break;
		case 'q': break;
		default: return img_bad_option("snapshot", c, argv);
		}
	}
	if (!action)
		return img_usage("snapshot", "needs -l, -c NAME, -a NAME or -d NAME");
	if (optind != argc - 1)
		return img_usage("snapshot", "needs exactly one FILE");
	bo.read_only = action == 'l';
	if (bo.force_share && !bo.read_only)
		return img_usage("snapshot", "-U only works with -l");
	struct error err;
	struct blk *b = blk_open(argv[optind], &bo, &err);
	if (!b)
		return img_fail("snapshot", err.msg);
	int ret = act(b, action, name);
	int cr = blk_close(b);
	if (!ret && cr)
		ret = img_fail("snapshot", "the final flush failed");
	return ret;
}
