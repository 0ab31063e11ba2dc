#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/size.h"
#include "src/stats_fmt.h"

json_object *stats_path(json_object *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(k, &end, 10);
			o = *end || i < 0 ? NULL : json_object_array_get_idx(o, (size_t)i);
		} else if (!json_object_object_get_ex(o, k, &o)) {
			o = NULL;
		}
	}
	return o;
}

static double num(json_object *o, const char *path)
{
	json_object *v = stats_path(o, path);
	if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return NAN;
	return json_object_get_double(v);
}

static void add(struct stats_cols *c, enum stats_col_kind kind, const char *name, const char *path,
		const char *server)
{
	if (c->n >= STATS_COLS_MAX)
		return;
	struct stats_col *col = &c->col[c->n++];
	snprintf(col->name, sizeof(col->name), "%s", name);
	snprintf(col->path, sizeof(col->path), "%s", path);
	snprintf(col->server, sizeof(col->server), "%s", server ? server : "");
	col->kind = kind;
}

void stats_cols_build(struct stats_cols *c, json_object *s)
{
	char name[64], path[96], server[96];
	c->n = 0;
	add(c, COL_VALUE, "time", "", NULL);
	add(c, COL_VALUE, "name", "name", NULL);
	add(c, COL_VALUE, "state", "state", NULL);
	add(c, COL_VALUE, "uptime_s", "uptime_s", NULL);
	add(c, COL_VALUE, "cpu_pct", "", "cpu_pct");           /* the sum of the vCPUs' */
	add(c, COL_VALUE, "mem_configured", "memory.configured", NULL);
	add(c, COL_VALUE, "rss", "memory.rss", NULL);
	add(c, COL_VALUE, "rss_guest", "memory.rss_guest", NULL);
	add(c, COL_VALUE, "rss_vmm", "memory.rss_vmm", NULL);
	if (stats_path(s, "memory.balloon") && !json_object_is_type(stats_path(s, "memory.balloon"), json_type_null)) {
		add(c, COL_VALUE, "balloon_target", "memory.balloon.target", NULL);
		add(c, COL_VALUE, "balloon_actual", "memory.balloon.actual", NULL);
		add(c, COL_VALUE, "guest_total", "memory.guest.total_memory", NULL);
		add(c, COL_VALUE, "guest_free", "memory.guest.free_memory", NULL);
		add(c, COL_VALUE, "guest_available", "memory.guest.available_memory", NULL);
		add(c, COL_VALUE, "guest_caches", "memory.guest.disk_caches", NULL);
		add(c, COL_VALUE, "guest_stats_age_ms", "memory.guest.age_ms", NULL);
	}
	json_object *cpus = stats_path(s, "cpus");
	size_t ncpu = cpus && json_object_is_type(cpus, json_type_array) ? json_object_array_length(cpus) : 0;
	for (size_t i = 0; i < ncpu; i++) {
		static const struct { const char *col, *total, *rate; enum stats_col_kind kind; } per[] = {
			{ "cpu_pct", "cpu_ns", "cpu_pct", COL_PCT },
			{ "steal_pct", "steal_ns", "steal_pct", COL_PCT },
			{ "exits_per_s", "exits.total", "exits_per_s.total", COL_RATE },
			{ "halts_per_s", "halts", "halts_per_s", COL_RATE },
		};
		for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
			snprintf(name, sizeof(name), "vcpu%zu_%s", i, per[k].col);
			snprintf(path, sizeof(path), "cpus.%zu.%s", i, per[k].total);
			snprintf(server, sizeof(server), "cpus.%zu.%s", i, per[k].rate);
			add(c, per[k].kind, name, path, server);
		}
	}
	json_object *devs = stats_path(s, "devices");
	size_t ndev = devs && json_object_is_type(devs, json_type_array) ? json_object_array_length(devs) : 0;
	for (size_t d = 0; d < ndev; d++) {
		json_object *dev = json_object_array_get_idx(devs, d), *counters, *rates;
		const char *kind = json_object_get_string(stats_path(dev, "kind"));
		int index = json_object_get_int(stats_path(dev, "index"));
		if (!kind || !json_object_object_get_ex(dev, "counters", &counters))
			continue;
		json_object_object_get_ex(dev, "rates", &rates);
		json_object_object_foreach(counters, key, val) {
			(void)val;
			snprintf(name, sizeof(name), "%s%d_%s", kind, index, key);
			snprintf(path, sizeof(path), "devices.%zu.counters.%s", d, key);
			add(c, COL_VALUE, name, path, NULL);
			if (rates && json_object_object_get_ex(rates, key, NULL)) {
				snprintf(name, sizeof(name), "%s%d_%s_per_s", kind, index, key);
				snprintf(server, sizeof(server), "devices.%zu.rates.%s", d, key);
				add(c, COL_RATE, name, path, server);
			}
		}
	}
}

void stats_csv_header(const struct stats_cols *c, FILE *out)
{
	for (unsigned i = 0; i < c->n; i++)
		fprintf(out, "%s%s", i ? "," : "", c->col[i].name);
	fputc('\n', out);
}

double stats_col_value(const struct stats_col *col, json_object *prev, json_object *cur)
{
	if (col->kind == COL_VALUE)
		return num(cur, col->path[0] ? col->path : col->server);
	double dt = prev ? num(cur, "time_ns") - num(prev, "time_ns") : NAN;
	double dv = prev ? num(cur, col->path) - num(prev, col->path) : NAN;
	/* Two different samples of the VMM: our own interval.  Otherwise
	 * (the first row, or the VMM has not sampled again) its rate. */
	if (dt > 0 && dv >= 0)
		return col->kind == COL_PCT ? fmin(100.0, 100.0 * dv / dt) : dv * 1e9 / dt;
	return num(cur, col->server);
}

static double total_cpu_pct(const struct stats_cols *c, json_object *prev, json_object *cur)
{
	double sum = 0;
	bool any = false;
	for (unsigned i = 0; i < c->n; i++) {
		const char *n = c->col[i].name;
		if (c->col[i].kind == COL_PCT && !strncmp(n, "vcpu", 4) && strstr(n, "_cpu_pct")) {
			double v = stats_col_value(&c->col[i], prev, cur);
			if (!isnan(v)) {
				sum += v;
				any = true;
			}
		}
	}
	return any ? sum : NAN;
}

static void csv_string(const char *s, FILE *out)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void stats_csv_row(const struct stats_cols *c, json_object *prev, json_object *cur, FILE *out)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct stats_col *col = &c->col[i];
		if (i)
			fputc(',', out);
		if (!strcmp(col->name, "time")) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			fprintf(out, "%.3f", (double)ts.tv_sec + ts.tv_nsec / 1e9);
			continue;
		}
		json_object *v = col->kind == COL_VALUE && col->path[0] ? stats_path(cur, col->path) : NULL;
		if (v && json_object_is_type(v, json_type_string)) {
			csv_string(json_object_get_string(v), out);
			continue;
		}
		double d = !strcmp(col->name, "cpu_pct") ? total_cpu_pct(c, prev, cur) : stats_col_value(col, prev, cur);
		if (isnan(d))
			continue;                          /* unknown: an empty field */
		if (d == floor(d) && fabs(d) < 1e15)
			fprintf(out, "%.0f", d);
		else
			fprintf(out, "%.2f", d);
	}
	fputc('\n', out);
}

static const char *sz(double bytes, char *buf, size_t len)
{
	if (isnan(bytes))
		return "-";
	return size_format((uint64_t)bytes, buf, len);
}

static void pct(FILE *out, double v)
{
	if (isnan(v))
		fprintf(out, " %7s", "-");
	else
		fprintf(out, " %7.1f", v);
}

void stats_text(json_object *prev, json_object *cur, FILE *out)
{
	struct stats_cols *c = malloc(sizeof(*c));
	if (!c)
		return;
	stats_cols_build(c, cur);
	char a[32], b[32], d[32], e[32];
	fprintf(out, "%s  %s  up %.1f s  boot %d", json_object_get_string(stats_path(cur, "name")),
		json_object_get_string(stats_path(cur, "state")), num(cur, "uptime_s"),
		json_object_get_int(stats_path(cur, "boots")));
	const char *err = json_object_get_string(stats_path(cur, "last_error"));
	if (err && *err)
		fprintf(out, "  last error: %s", err);
	fputc('\n', out);
	fprintf(out, "vCPU    cpu%%  steal%%  exits/s  halts/s\n");
	json_object *cpus = stats_path(cur, "cpus");
	size_t n = cpus ? json_object_array_length(cpus) : 0;
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%4zu", i);
		const char *want[] = { "_cpu_pct", "_steal_pct", "_exits_per_s", "_halts_per_s" };
		for (size_t k = 0; k < 4; k++) {
			char name[64];
			snprintf(name, sizeof(name), "vcpu%zu%s", i, want[k]);
			double v = NAN;
			for (unsigned j = 0; j < c->n; j++)
				if (!strcmp(c->col[j].name, name))
					v = stats_col_value(&c->col[j], prev, cur);
			pct(out, v);
			if (k >= 2)
				fputc(' ', out);
		}
		fputc('\n', out);
	}
	fprintf(out, "memory  %s configured, RSS %s (guest RAM %s, VMM %s)\n",
		sz(num(cur, "memory.configured"), a, sizeof(a)), sz(num(cur, "memory.rss"), b, sizeof(b)),
		sz(num(cur, "memory.rss_guest"), d, sizeof(d)), sz(num(cur, "memory.rss_vmm"), e, sizeof(e)));
	if (stats_path(cur, "memory.balloon") && json_object_get_type(stats_path(cur, "memory.balloon")) == json_type_object) {
		fprintf(out, "balloon target %s, guest has %s (driver %s)\n",
			sz(num(cur, "memory.balloon.target"), a, sizeof(a)), sz(num(cur, "memory.balloon.actual"), b, sizeof(b)),
			json_object_get_boolean(stats_path(cur, "memory.balloon.driver")) ? "ready" : "absent");
		if (json_object_get_type(stats_path(cur, "memory.guest")) == json_type_object)
			fprintf(out, "guest   total %s, free %s, available %s (reported %.1f s ago)\n",
				sz(num(cur, "memory.guest.total_memory"), a, sizeof(a)),
				sz(num(cur, "memory.guest.free_memory"), b, sizeof(b)),
				sz(num(cur, "memory.guest.available_memory"), d, sizeof(d)),
				num(cur, "memory.guest.age_ms") / 1000);
	}
	for (unsigned j = 0; j < c->n; j++) {
		const struct stats_col *col = &c->col[j];
		if (strncmp(col->path, "devices.", 8) || col->kind != COL_VALUE)
			continue;
		double v = stats_col_value(col, prev, cur);
		if (!isnan(v) && v != 0)
			fprintf(out, "device  %s %.0f\n", col->name, v);
	}
	free(c);
}
