/* vmdeck img convert [-f fmt] [-O fmt] [-o opts] [-c] [-p] [-U] SRC DST */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "disk/img.h"
#include "src/cli.h"
#include "src/cmd_img.h"

static int parse_and_convert(int argc, char **argv, char **owned)
{
	static const struct option opts[] = {
		{ "force-share", no_argument, NULL, 'U' }, { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	struct img_convert_opts o = { .create = { .format = BLK_FORMAT_RAW }, .dst_cache = BLK_CACHE_UNSAFE };
	bool progress = false, quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:O:o:cpqUt:T:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("convert", optarg, &o.src_format))
				return EXIT_USAGE;
			break;
		case 'O':
			if (img_parse_format("convert", optarg, &o.create.format) || o.create.format == BLK_FORMAT_AUTO)
				return img_usage("convert", "-O takes raw or qcow2");
			break;
		case 'o':
			if (img_parse_create_opts("convert", optarg, &o.create, owned))
				return EXIT_USAGE;
			break;
		case 'c': o.compress = true; break;
		case 'p': progress = true; break;
		case 'q': quiet = true; break;
		case 'U': o.force_share = true; break;
		case 't':
			if (img_parse_cache("convert", optarg, &o.dst_cache))
				return EXIT_USAGE;
			break;
		case 'T':
			if (img_parse_cache("convert", optarg, &o.src_cache))
				return EXIT_USAGE;
			break;
		default: return img_bad_option("convert", c, argv);
		}
	}
	if (optind != argc - 2)
		return img_usage("convert", "needs SRC and DST");
	if (o.compress && o.create.format != BLK_FORMAT_QCOW2)
		return img_usage("convert", "-c needs -O qcow2");
	o.src = argv[optind];
	o.dst = argv[optind + 1];
	struct img_progress p;
	img_progress_init(&p, progress, quiet);
	o.progress = img_progress_cb;
	o.progress_ctx = &p;
	struct error err;
	int ret = img_convert(&o, &err);
	img_progress_end(&p);
	return ret < 0 ? img_fail("convert", err.msg) : EXIT_OK;
}

int img_cmd_convert(int argc, char **argv)
{
	char *owned = NULL;
	int ret = parse_and_convert(argc, argv, &owned);
	free(owned);
	return ret;
}
