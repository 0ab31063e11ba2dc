/* vmdeck img bench: qemu-img bench's options and output, so that both can
 * run the same request pattern on the same image. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "disk/img.h"
#include "src/cli.h"
#include "src/cmd_img.h"
#include "src/size.h"

static int parse_count(const char *arg, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 0);
	if (!*arg || *end || errno || v > max || *arg == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_opt(int c, struct img_bench_opts *o, bool *quiet)
{
	uint64_t v;
	switch (c) {
	case 'c':
		if (parse_count(optarg, INT32_MAX, &o->count))
			return img_usage("bench", "-c takes a request count, not '%s'", optarg);
		return 0;
	case 'd':
		if (parse_count(optarg, 4096, &v) || !v)
			return img_usage("bench", "-d takes a queue depth from 1 to 4096, not '%s'", optarg);
		o->depth = (unsigned)v;
		return 0;
	case 'f': return img_parse_format("bench", optarg, &o->format);
	case 'n': case 'i': case 'D': return 0;   /* aio engine, drain: no meaning here */
	case 'o':
		if (size_parse(optarg, 0, &o->offset) < 0)
			return img_usage("bench", "-o takes an offset, not '%s'", optarg);
		return 0;
	case 'q': *quiet = true; return 0;
	case 's':
		if (size_parse(optarg, 0, &o->size) < 0 || !o->size || o->size > INT32_MAX)
			return img_usage("bench", "-s takes a request size, not '%s'", optarg);
		return 0;
	case 'S':
		if (size_parse(optarg, 0, &o->step) < 0 || o->step > INT32_MAX)
			return img_usage("bench", "-S takes a step size, not '%s'", optarg);
		return 0;
	case 't': return img_parse_cache("bench", optarg, &o->cache);
	case 'w': o->write = true; return 0;
	case 'U': o->force_share = true; return 0;
	case 'P':
		if (parse_count(optarg, 255, &v))
			return img_usage("bench", "--pattern takes a byte value, not '%s'", optarg);
		o->pattern = (uint8_t)v;
		return 0;
	case 'F':
		if (parse_count(optarg, INT32_MAX, &o->flush_interval))
			return img_usage("bench", "--flush-interval takes a request count, not '%s'", optarg);
		return 0;
	default:
		return -1;
	}
}

int img_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pattern", required_argument, NULL, 'P' }, { "flush-interval", required_argument, NULL, 'F' },
		{ "no-drain", no_argument, NULL, 'D' }, { "force-share", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct img_bench_opts o = { .depth = 64, .count = 75000, .size = 4096 };
	bool quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:d:f:ni:o:qs:S:t:wU", opts, NULL)) != -1) {
		int ret = parse_opt(c, &o, &quiet);
		if (ret < 0)
			return img_bad_option("bench", c, argv);
		if (ret)
			return ret;
	}
	if (optind != argc - 1)
		return img_usage("bench", "needs exactly one FILE");
	if (o.flush_interval && !o.write)
		return img_usage("bench", "--flush-interval is only available in write tests");
	o.path = argv[optind];
	if (!quiet)
		printf("Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %u in parallel "
		       "(starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
		       o.count, o.write ? "write" : "read", o.size, o.depth, o.offset, o.step ? o.step : o.size);
	struct img_bench_result r;
	struct error err;
	if (img_bench(&o, &r, &err) < 0)
		return img_fail("bench", err.msg);
	if (!quiet)
		printf("Run completed in %.3f seconds.\n", r.seconds);
	if (r.errors) {
		fprintf(stderr, "vmdeck img bench: %" PRIu64 " requests failed\n", r.errors);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
