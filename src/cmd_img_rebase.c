/* vmdeck img rebase [-f fmt] [-u] [-p] -b BACKING [-F fmt] FILE */
#include <getopt.h>
#include <stdio.h>

#include "disk/img.h"
#include "src/cli.h"
#include "src/cmd_img.h"

int img_cmd_rebase(int argc, char **argv)
{
	static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 } };
	enum blk_format fmt = BLK_FORMAT_AUTO, bfmt = BLK_FORMAT_AUTO;
	const char *backing = NULL;
	bool unsafe = false, progress = false, quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:F:b:upqt:T:U", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("rebase", optarg, &fmt))
				return EXIT_USAGE;
			break;
		case 'F':
			if (img_parse_format("rebase", optarg, &bfmt))
				return EXIT_USAGE;
			break;
		case 'b': backing = optarg; break;
		case 'u': unsafe = true; break;
		case 'p': progress = true; break;
		case 'q': quiet = true; break;
		case 't': case 'T': case 'U': break;
		default: return img_bad_option("rebase", c, argv);
		}
	}
	if (!backing)
		return img_usage("rebase", "needs -b BACKING (-b \"\" removes the backing file)");
	if (optind != argc - 1)
		return img_usage("rebase", "needs exactly one FILE");
	struct img_progress p;
	img_progress_init(&p, progress, quiet);
	struct error err;
	int ret = img_rebase(argv[optind], fmt, backing, bfmt, unsafe, img_progress_cb, &p, &err);
	img_progress_end(&p);
	return ret < 0 ? img_fail("rebase", err.msg) : EXIT_OK;
}
