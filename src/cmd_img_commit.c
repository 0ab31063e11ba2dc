/* vmdeck img commit [-f fmt] [-d] [-p] FILE */
#include <getopt.h>
#include <stdio.h>

#include "disk/img.h"
#include "src/cli.h"
#include "src/cmd_img.h"

int img_cmd_commit(int argc, char **argv)
{
	static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 } };
	enum blk_format fmt = BLK_FORMAT_AUTO;
	bool keep = false, progress = false, quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:dpqt:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("commit", optarg, &fmt))
				return EXIT_USAGE;
			break;
		case 'd': keep = true; break;
		case 'p': progress = true; break;
		case 'q': quiet = true; break;
		case 't': break;   /* cache mode: commit always flushes at the end */
		default: return img_bad_option("commit", c, argv);
		}
	}
	if (optind != argc - 1)
		return img_usage("commit", "needs exactly one FILE");
	struct img_progress p;
	img_progress_init(&p, progress, quiet);
	struct error err;
	int ret = img_commit(argv[optind], fmt, keep, img_progress_cb, &p, &err);
	img_progress_end(&p);
	if (ret < 0)
		return img_fail("commit", err.msg);
	if (!quiet)
		printf("Image committed.\n");
	return EXIT_OK;
}
