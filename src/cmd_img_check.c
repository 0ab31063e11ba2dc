/* vmdeck img check [-r leaks|all] [--output=human|json] [-U] FILE
 * Exit status as qemu-img check: 0 clean, 1 not checked, 2 corrupt, 3 leaks. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "src/cmd_img.h"

enum { CHECK_CLEAN = 0, CHECK_NOT_DONE = 1, CHECK_CORRUPT = 2, CHECK_LEAKS = 3 };

static void report_line(void *ctx, const char *line)
{
	if (!*(bool *)ctx)
		fprintf(stderr, "%s\n", line);
}

static int status_of(const struct blk_check_result *r)
{
	if (r->check_errors)
		return CHECK_NOT_DONE;
	if (r->corruptions)
		return CHECK_CORRUPT;
	return r->leaks ? CHECK_LEAKS : CHECK_CLEAN;
}

static void print_human(const struct blk_check_result *r)
{
	if (!r->corruptions && !r->leaks && !r->check_errors)
		printf("No errors were found on the image.\n");
	if (r->corruptions)
		printf("\n%" PRIu64 " errors were found on the image.\n"
		       "Data may be corrupted, or further writes to the image may corrupt it.\n", r->corruptions);
	if (r->leaks)
		printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n", r->leaks);
	if (r->check_errors)
		printf("\n%" PRIu64 " internal errors have occurred during the check.\n", r->check_errors);
	if (r->total_clusters)
		printf("%" PRIu64 "/%" PRIu64 " = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed clusters\n",
		       r->allocated_clusters, r->total_clusters,
		       100.0 * (double)r->allocated_clusters / (double)r->total_clusters,
		       r->allocated_clusters ? 100.0 * (double)r->fragmented_clusters / (double)r->allocated_clusters : 0.0,
		       r->allocated_clusters ? 100.0 * (double)r->compressed_clusters / (double)r->allocated_clusters : 0.0);
	printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static void print_json(const char *file, const char *fmt, const struct blk_check_result *r)
{
	json_object *o = json_object_new_object();
	add_u64(o, "image-end-offset", r->image_end_offset);
	add_u64(o, "total-clusters", r->total_clusters);
	add_u64(o, "check-errors", r->check_errors);
	add_u64(o, "leaks", r->leaks);
	add_u64(o, "corruptions", r->corruptions);
	add_u64(o, "leaks-fixed", r->leaks_fixed);
	add_u64(o, "corruptions-fixed", r->corruptions_fixed);
	json_object_object_add(o, "filename", json_object_new_string(file));
	json_object_object_add(o, "format", json_object_new_string(fmt));
	add_u64(o, "allocated-clusters", r->allocated_clusters);
	add_u64(o, "fragmented-clusters", r->fragmented_clusters);
	add_u64(o, "compressed-clusters", r->compressed_clusters);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(o);
}

static int run_check(struct blk *b, enum blk_repair repair, bool quiet, struct blk_check_result *r)
{
	struct error err;
	r->report = report_line;
	r->report_ctx = &quiet;
	if (blk_check(b, repair, r, &err) < 0) {
		img_fail("check", err.msg);
		return -1;
	}
	return 0;
}

static int check_image(struct blk *b, enum blk_repair repair, bool json, bool quiet)
{
	struct blk_check_result r = { 0 };
	if (run_check(b, repair, quiet || json, &r) < 0)
		return CHECK_NOT_DONE;
	if (!r.supported) {
		if (!quiet)
			fprintf(stderr, "vmdeck img check: '%s' is a %s image, which has no metadata to check\n",
				blk_path(b), blk_format_str(blk_format(b)));
		return json ? CHECK_CLEAN : CHECK_NOT_DONE;
	}
	if (repair && (r.leaks_fixed || r.corruptions_fixed)) {
		if (!quiet && !json)
			printf("The following inconsistencies were found and repaired:\n\n"
			       "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
			       "Double checking the fixed image now...\n", r.leaks_fixed, r.corruptions_fixed);
		struct blk_check_result again = { 0 };
		if (run_check(b, BLK_REPAIR_NONE, quiet || json, &again) < 0)
			return CHECK_NOT_DONE;
		again.leaks_fixed = r.leaks_fixed;
		again.corruptions_fixed = r.corruptions_fixed;
		r = again;
	}
	if (json)
		print_json(blk_path(b), blk_format_str(blk_format(b)), &r);
	else if (!quiet)
		print_human(&r);
	return status_of(&r);
}

int img_cmd_check(int argc, char **argv)
{
	enum { OPT_OUTPUT = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, OPT_OUTPUT }, { "json", no_argument, NULL, OPT_JSON },
		{ "force-share", no_argument, NULL, 'U' }, { "repair", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
	};
	struct blk_options bo = { .read_only = true, .no_backing = true };
	enum blk_repair repair = BLK_REPAIR_NONE;
	bool json = false, quiet = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:r:Uq", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("check", optarg, &bo.format))
				return EXIT_USAGE;
			break;
		case 'r':
			if (!strcmp(optarg, "leaks"))
				repair = BLK_REPAIR_LEAKS;
			else if (!strcmp(optarg, "all"))
				repair = BLK_REPAIR_ALL;
			else
				return img_usage("check", "-r takes leaks or all, not '%s'", optarg);
			break;
		case 'U': bo.force_share = true; break;
		case 'q': quiet = true; break;
		case OPT_JSON: json = true; break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") && strcmp(optarg, "human"))
				return img_usage("check", "--output takes human or json, not '%s'", optarg);
			json = !strcmp(optarg, "json");
			break;
		default: return img_bad_option("check", c, argv);
		}
	}
	if (optind != argc - 1)
		return img_usage("check", "needs exactly one FILE");
	if (repair && bo.force_share)
		return img_usage("check", "-r cannot be combined with -U");
	bo.read_only = repair == BLK_REPAIR_NONE;
	struct error err;
	struct blk *b = blk_open(argv[optind], &bo, &err);
	if (!b) {
		img_fail("check", err.msg);
		return CHECK_NOT_DONE;
	}
	int st = check_image(b, repair, json, quiet);
	blk_close(b);
	return st;
}
