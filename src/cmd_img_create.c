/* vmdeck img create [-f fmt] [-b backing [-F fmt]] [-u] [-o opts] FILE [SIZE] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/cli.h"
#include "src/cmd_img.h"
#include "src/size.h"

static int finish(const char *file, const struct blk_create_options *o, bool quiet)
{
	struct error err;
	if (blk_create(file, o, &err) < 0)
		return img_fail("create", err.msg);
	if (!quiet)
		printf("Formatting '%s', fmt=%s size=%llu%s%s\n", file, blk_format_str(o->format),
		       (unsigned long long)o->size, o->backing_file ? " backing_file=" : "",
		       o->backing_file ? o->backing_file : "");
	return EXIT_OK;
}

static int parse_and_create(int argc, char **argv, char **owned)
{
	static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 } };
	struct blk_create_options o = { .format = BLK_FORMAT_RAW };
	bool quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:b:F:o:uq", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("create", optarg, &o.format) || o.format == BLK_FORMAT_AUTO)
				return img_usage("create", "-f takes raw or qcow2");
			break;
		case 'b': o.backing_file = optarg; break;
		case 'F':
			if (img_parse_format("create", optarg, &o.backing_format))
				return EXIT_USAGE;
			break;
		case 'o':
			if (img_parse_create_opts("create", optarg, &o, owned))
				return EXIT_USAGE;
			break;
		case 'u': break;   /* the backing file is only opened when SIZE is missing */
		case 'q': quiet = true; break;
		default: return img_bad_option("create", c, argv);
		}
	}
	if (optind >= argc)
		return img_usage("create", "needs FILE [SIZE]");
	const char *file = argv[optind++];
	if (optind < argc && size_parse(argv[optind++], 0, &o.size) < 0)
		return img_usage("create", "'%s' is not a size such as 10G", argv[optind - 1]);
	if (optind < argc)
		return img_usage("create", "unexpected argument '%s'", argv[optind]);
	if (!o.size && !o.backing_file)
		return img_usage("create", "needs a SIZE (or a backing file to take it from)");
	return finish(file, &o, quiet);
}

int img_cmd_create(int argc, char **argv)
{
	char *owned = NULL;
	int ret = parse_and_create(argc, argv, &owned);
	free(owned);
	return ret;
}
