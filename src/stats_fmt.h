/* `vmdeck stats` output: a stats reply (see share/vmdeck-control.md) as
 * CSV (virt-top style: a header once, one row per sample) or as text.
 * Rates and CPU shares between two samples the client took are computed
 * here from the totals, so a row covers the interval between rows; the
 * first row uses the VMM's own rates over its last sampling interval. */
#ifndef VMDECK_STATS_FMT_H
#define VMDECK_STATS_FMT_H

#include <json-c/json.h>
#include <stdio.h>

#define STATS_COLS_MAX 512

enum stats_col_kind {
	COL_VALUE,      /* the value at PATH */
	COL_PCT,        /* 100 * d(PATH, ns) / d(time_ns), else SERVER */
	COL_RATE,       /* d(PATH) / d(time_ns) per second, else SERVER */
};

struct stats_col {
	char name[64];
	char path[96];
	char server[96];
	enum stats_col_kind kind;
};

struct stats_cols {
	unsigned n;
	struct stats_col col[STATS_COLS_MAX];
};

/* The value at a dotted PATH ("cpus.0.cpu_ns"; digits index arrays), or NULL. */
json_object *stats_path(json_object *o, const char *path);
/* Chooses the columns from the first sample. */
void stats_cols_build(struct stats_cols *c, json_object *sample);
void stats_csv_header(const struct stats_cols *c, FILE *out);
/* One row for CUR; PREV (may be NULL) is the sample of the previous row. */
void stats_csv_row(const struct stats_cols *c, json_object *prev, json_object *cur, FILE *out);
/* A human summary of CUR. */
void stats_text(json_object *prev, json_object *cur, FILE *out);
/* A column's number for CUR, or NAN when there is none. */
double stats_col_value(const struct stats_col *col, json_object *prev, json_object *cur);

#endif
