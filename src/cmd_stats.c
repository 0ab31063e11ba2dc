/* vmdeck stats: a running VM's statistics as text, JSON or CSV. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/cli.h"
#include "src/ctl_client.h"
#include "src/ctl_path.h"
#include "src/stats_fmt.h"

static const char stats_help[] =
	"NAME is a VM's name or the path of its control socket.\n"
	"\n"
	"options:\n"
	"  --json               the statistics as JSON (one line per sample with --watch)\n"
	"  --csv                CSV: a header, then one row per sample\n"
	"  --watch SECS         sample again every SECS seconds until the VM stops\n"
	"  --count N            stop after N samples\n"
	"\n"
	"Shares and rates in text and CSV rows cover the time since the previous row; the\n"
	"first row (and --json) shows the VMM's own, over its last sampling interval\n"
	"(`vmdeck run --stats-interval`).  vmdeck(1) lists the CSV columns.\n";

static int exec_stats(int argc, char **argv);

const struct cli_cmd cmd_stats_entry = {
	.name = "stats",
	.args = "NAME|SOCKET [--json|--csv] [--watch SECS] [--count N]",
	.summary = "show a running VM's statistics (CPU, memory, balloon, devices)",
	.help = stats_help,
	.exec = exec_stats,
};

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

struct opts {
	const char *target;
	enum fmt fmt;
	double watch;
	long count;
};

static int parse(int argc, char **argv, struct opts *o)
{
	const struct cli_cmd *cmd = &cmd_stats_entry;
	*o = (struct opts){ .fmt = FMT_TEXT, .count = -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "--json")) {
			o->fmt = FMT_JSON;
		} else if (!strcmp(a, "--csv")) {
			o->fmt = FMT_CSV;
		} else if (!strcmp(a, "--watch") || !strcmp(a, "--count")) {
			if (i + 1 >= argc)
				return cli_usage_error(cmd, "%s needs a value", a);
			const char *v = argv[++i];
			errno = 0;
			if (!strcmp(a, "--watch")) {
				o->watch = strtod(v, &end);
				if (*end || errno || !(o->watch >= 0.05) || o->watch > 86400)
					return cli_usage_error(cmd, "--watch takes seconds (at least 0.05), not '%s'", v);
			} else {
				o->count = strtol(v, &end, 10);
				if (*end || errno || o->count < 1)
					return cli_usage_error(cmd, "--count takes a whole number of at least 1, not '%s'", v);
			}
		} else if (a[0] == '-' && a[1] == '-') {
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help stats` lists them", a);
		} else if (!o->target) {
			o->target = a;
		} else {
			return cli_usage_error(cmd, "unexpected argument '%s'", a);
		}
	}
	if (!o->target)
		return cli_usage_error(cmd, "needs a VM name or socket, as in `vmdeck stats vm`");
	return EXIT_OK;
}

static json_object *fetch(struct ctl_conn *c, struct error *err)
{
	json_object *req = json_object_new_object(), *result = NULL;
	json_object_object_add(req, "cmd", json_object_new_string("stats"));
	json_object *reply = ctl_conn_call(c, req, 10000, NULL, NULL, err);
	json_object_put(req);
	if (reply && json_object_object_get_ex(reply, "result", &result))
		json_object_get(result);
	else if (reply)
		error_set(err, "the VM refused: %s",
			  json_object_get_string(json_object_object_get(json_object_object_get(reply, "error"), "message")));
	json_object_put(reply);
	return result;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void print(const struct opts *o, struct stats_cols *cols, json_object *prev, json_object *cur, long n)
{
	switch (o->fmt) {
	case FMT_JSON:
		printf("%s\n", json_object_to_json_string_ext(cur, (o->watch ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY) |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	case FMT_CSV:
		if (n == 0) {
			stats_cols_build(cols, cur);
			stats_csv_header(cols, stdout);
		}
		stats_csv_row(cols, prev, cur, stdout);
		break;
	case FMT_TEXT:
		if (n)
			putchar('\n');
		stats_text(prev, cur, stdout);
		break;
	}
	fflush(stdout);
}

static int exec_stats(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_stats_entry;
	struct opts o;
	int code = parse(argc, argv, &o);
	if (code != EXIT_OK)
		return code;
	char path[4096];
	struct error err;
	struct ctl_conn c;
	if (ctl_path_resolve(o.target, path, sizeof(path), &err) < 0 || ctl_conn_open(&c, path, &err) < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	struct stats_cols *cols = calloc(1, sizeof(*cols));
	json_object *prev = NULL;
	long n = 0;
	for (;;) {
		json_object *cur = fetch(&c, &err);
		if (!cur) {
			/* The VM went away while we watched: that ends the watch. */
			if (!n || !o.watch) {
				fprintf(stderr, "vmdeck stats: %s\n", err.msg);
				code = EXIT_FAIL;
			}
			break;
		}
		print(&o, cols, prev, cur, n);
		json_object_put(prev);
		prev = cur;
		n++;
		if (!o.watch || (o.count > 0 && n >= o.count))
			break;
		sleep_s(o.watch);
	}
	json_object_put(prev);
	free(cols);
	ctl_conn_close(&c);
	return code;
}
