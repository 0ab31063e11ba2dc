/* vmdeck img resize [-f fmt] [--shrink] FILE [+|-]SIZE */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "src/cmd_img.h"
#include "src/size.h"

static int new_size(const char *arg, uint64_t cur, uint64_t *out)
{
	int sign = arg[0] == '+' ? 1 : arg[0] == '-' ? -1 : 0;
	uint64_t v;
	if (size_parse(arg + (sign != 0), 0, &v) < 0)
		return img_usage("resize", "'%s' is not a size such as 10G, +1G or -512M", arg);
	if (sign > 0 && v > UINT64_MAX - cur)
		return img_usage("resize", "'%s' makes the image too large", arg);
	if (sign < 0 && v > cur)
		return img_usage("resize", "'%s' would make the size negative", arg);
	*out = sign > 0 ? cur + v : sign < 0 ? cur - v : v;
	return 0;
}

int img_cmd_resize(int argc, char **argv)
{
	enum { OPT_SHRINK = 256 };
	static const struct option opts[] = {
		{ "shrink", no_argument, NULL, OPT_SHRINK }, { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	/* "-1G" would look like an option: take SIZE off the end first. */
	if (argc < 3)
		return img_usage("resize", "needs FILE and [+|-]SIZE");
	const char *size_arg = argv[--argc];
	struct blk_options bo = { 0 };
	bool shrink = false, quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:q", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("resize", optarg, &bo.format))
				return EXIT_USAGE;
			break;
		case 'q': quiet = true; break;
		case OPT_SHRINK: shrink = true; break;
		default: return img_bad_option("resize", c, argv);
		}
	}
	if (optind != argc - 1)
		return img_usage("resize", "needs exactly one FILE and a SIZE");
	struct error err;
	struct blk *b = blk_open(argv[optind], &bo, &err);
	if (!b)
		return img_fail("resize", err.msg);
	uint64_t size = 0;
	int ret = new_size(size_arg, blk_size(b), &size);
	if (!ret && blk_truncate(b, size, shrink, &err) < 0)
		ret = img_fail("resize", err.msg);
	int cr = blk_close(b);
	if (!ret && cr)
		ret = img_fail("resize", "the final flush failed");
	if (!ret && !quiet)
		printf("Image resized.\n");
	return ret;
}
