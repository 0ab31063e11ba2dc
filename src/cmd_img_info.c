/* vmdeck img info [-f fmt] [--output=human|json] [-U] FILE */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "src/cli.h"
#include "src/cmd_img.h"
#include "src/size.h"

static void print_snapshots_human(const struct blk_snapshot *l, size_t n)
{
	printf("%-10s%-18s%7s%20s%13s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK");
	for (size_t i = 0; i < n; i++) {
		char date[32], vms[16];
		time_t t = (time_t)l[i].date_sec;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
		uint64_t ms = l[i].vm_clock_ns / 1000000;
		printf("%-10s%-18s%7s%20s %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64 "\n", l[i].id, l[i].name,
		       size_format(l[i].vm_state_size, vms, sizeof(vms)), date, ms / 3600000, ms / 60000 % 60,
		       ms / 1000 % 60, ms % 1000);
	}
}

void img_print_snapshots(const struct blk_snapshot *l, size_t n)
{
	print_snapshots_human(l, n);
}

static void print_human(struct blk *b, const struct blk_info *in, const struct blk_snapshot *l, size_t n)
{
	char vs[16], ds[16];
	printf("image: %s\nfile format: %s\n", blk_path(b), blk_format_str(in->format));
	printf("virtual size: %s (%" PRIu64 " bytes)\n", size_format(in->virtual_size, vs, sizeof(vs)),
	       in->virtual_size);
	printf("disk size: %s\n", size_format(in->disk_size, ds, sizeof(ds)));
	if (in->format != BLK_FORMAT_QCOW2)
		return;
	printf("cluster_size: %" PRIu32 "\n", in->cluster_size);
	if (in->backing_file)
		printf("backing file: %s\n", in->backing_file);
	if (in->backing_format)
		printf("backing file format: %s\n", in->backing_format);
	if (n) {
		printf("Snapshot list:\n");
		print_snapshots_human(l, n);
	}
	printf("Format specific information:\n    compat: %s\n    lazy refcounts: %s\n"
	       "    refcount bits: %u\n    corrupt: %s\n    extended l2: %s\n",
	       in->qcow2_version >= 3 ? "1.1" : "0.10", in->lazy_refcounts ? "true" : "false",
	       in->refcount_bits, in->corrupt ? "true" : "false", in->extended_l2 ? "true" : "false");
}

static json_object *snapshots_json(const struct blk_snapshot *l, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "id", json_object_new_string(l[i].id));
		json_object_object_add(s, "name", json_object_new_string(l[i].name));
		json_object_object_add(s, "vm-state-size", json_object_new_int64((int64_t)l[i].vm_state_size));
		json_object_object_add(s, "date-sec", json_object_new_int64(l[i].date_sec));
		json_object_object_add(s, "date-nsec", json_object_new_int64(l[i].date_nsec));
		json_object_object_add(s, "vm-clock-sec", json_object_new_int64((int64_t)(l[i].vm_clock_ns / 1000000000)));
		json_object_object_add(s, "vm-clock-nsec", json_object_new_int64((int64_t)(l[i].vm_clock_ns % 1000000000)));
		json_object_object_add(s, "disk-size", json_object_new_int64((int64_t)l[i].disk_size));
		json_object_array_add(a, s);
	}
	return a;
}

static void print_json(struct blk *b, const struct blk_info *in, const struct blk_snapshot *l, size_t n)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "virtual-size", json_object_new_int64((int64_t)in->virtual_size));
	json_object_object_add(o, "filename", json_object_new_string(blk_path(b)));
	json_object_object_add(o, "format", json_object_new_string(blk_format_str(in->format)));
	json_object_object_add(o, "actual-size", json_object_new_int64((int64_t)in->disk_size));
	if (in->format == BLK_FORMAT_QCOW2) {
		json_object_object_add(o, "cluster-size", json_object_new_int64(in->cluster_size));
		json_object_object_add(o, "dirty-flag", json_object_new_boolean(in->dirty));
		if (in->backing_file)
			json_object_object_add(o, "backing-filename", json_object_new_string(in->backing_file));
		if (in->backing_format)
			json_object_object_add(o, "backing-filename-format", json_object_new_string(in->backing_format));
		if (n)
			json_object_object_add(o, "snapshots", snapshots_json(l, n));
		json_object *d = json_object_new_object();
		json_object_object_add(d, "compat", json_object_new_string(in->qcow2_version >= 3 ? "1.1" : "0.10"));
		json_object_object_add(d, "lazy-refcounts", json_object_new_boolean(in->lazy_refcounts));
		json_object_object_add(d, "refcount-bits", json_object_new_int((int)in->refcount_bits));
		json_object_object_add(d, "corrupt", json_object_new_boolean(in->corrupt));
		json_object_object_add(d, "extended-l2", json_object_new_boolean(in->extended_l2));
		json_object *fs = json_object_new_object();
		json_object_object_add(fs, "type", json_object_new_string("qcow2"));
		json_object_object_add(fs, "data", d);
		json_object_object_add(o, "format-specific", fs);
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	json_object_put(o);
}

int img_cmd_info(int argc, char **argv)
{
	enum { OPT_OUTPUT = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, OPT_OUTPUT }, { "json", no_argument, NULL, OPT_JSON },
		{ "force-share", no_argument, NULL, 'U' }, { NULL, 0, NULL, 0 },
	};
	struct blk_options bo = { .read_only = true, .no_backing = true };
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:U", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (img_parse_format("info", optarg, &bo.format))
				return EXIT_USAGE;
			break;
		case 'U': bo.force_share = true; break;
		case OPT_JSON: json = true; break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") && strcmp(optarg, "human"))
				return img_usage("info", "--output takes human or json, not '%s'", optarg);
			json = !strcmp(optarg, "json");
			break;
		default: return img_bad_option("info", c, argv);
		}
	}
	if (optind != argc - 1)
		return img_usage("info", "needs exactly one FILE");
	struct error err;
	struct blk *b = blk_open(argv[optind], &bo, &err);
	if (!b)
		return img_fail("info", err.msg);
	struct blk_info in;
	blk_get_info(b, &in);
	struct blk_snapshot *l = NULL;
	size_t n = 0;
	if (in.format == BLK_FORMAT_QCOW2 && blk_snapshot_list(b, &l, &n, &err) < 0) {
		blk_close(b);
		return img_fail("info", err.msg);
	}
	if (json)
		print_json(b, &in, l, n);
	else
		print_human(b, &in, l, n);
	blk_snapshot_list_free(l, n);
	blk_close(b);
	return EXIT_OK;
}
