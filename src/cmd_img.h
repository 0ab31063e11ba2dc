/* `vmdeck img` subcommands, one file each; argv[0] is the subcommand. */
#ifndef VMDECK_CMD_IMG_H
#define VMDECK_CMD_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/blk.h"

int img_cmd_create(int argc, char **argv);
int img_cmd_info(int argc, char **argv);
int img_cmd_check(int argc, char **argv);
int img_cmd_resize(int argc, char **argv);
int img_cmd_convert(int argc, char **argv);
int img_cmd_snapshot(int argc, char **argv);
int img_cmd_commit(int argc, char **argv);
int img_cmd_rebase(int argc, char **argv);
int img_cmd_bench(int argc, char **argv);

/* ---- helpers shared by the subcommands (cmd_img_util.c) ---------------- */
/* "vmdeck img SUB: <sentence>" on stderr; returns EXIT_USAGE / EXIT_FAIL. */
int img_usage(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int img_fail(const char *sub, const char *msg);
/* The standard complaint for a getopt result that is not an option. */
int img_bad_option(const char *sub, int c, char **argv);
int img_parse_format(const char *sub, const char *arg, enum blk_format *out);
int img_parse_cache(const char *sub, const char *arg, enum blk_cache_mode *out);
/* Applies "-o key=value,..." to O (create options; backing_file and
 * backing_fmt are accepted too).  A backing_file value is copied into
 * *OWNED, which the caller frees. */
int img_parse_create_opts(const char *sub, const char *arg, struct blk_create_options *o, char **owned);

/* The snapshot table of `info` and `snapshot -l`. */
void img_print_snapshots(const struct blk_snapshot *l, size_t n);

/* A progress bar on stderr: shown when forced (-p) or on a terminal. */
struct img_progress {
	bool on;
	int last;
};
void img_progress_init(struct img_progress *p, bool force, bool quiet);
void img_progress_cb(void *ctx, uint64_t done, uint64_t total);
void img_progress_end(struct img_progress *p);

#endif
