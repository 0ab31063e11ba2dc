/* Whole-image operations behind `vmdeck img` (and later the TUI): convert,
 * commit, rebase, bench.  Each reports failures as one sentence. */
#ifndef VMDECK_DISK_IMG_H
#define VMDECK_DISK_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/blk.h"

/* Called with bytes done and total, from the thread running the operation. */
typedef void img_progress_fn(void *ctx, uint64_t done, uint64_t total);

/* Whether [OFF, OFF+LEN) of B reads as zeros, looking down the backing
 * chain; *PNUM bytes share the answer. */
int img_chain_status(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum, bool *zero);

struct img_convert_opts {
	const char *src;
	enum blk_format src_format;
	const char *dst;
	struct blk_create_options create;   /* format, cluster size...; size is the source's */
	bool compress;                      /* qcow2 compressed clusters (-c) */
	bool force_share;                   /* read a source in use (-U) */
	enum blk_cache_mode src_cache, dst_cache;
	img_progress_fn *progress;
	void *progress_ctx;
};
int img_convert(const struct img_convert_opts *o, struct error *err);

/* Writes what FILE holds into its backing file, then empties FILE. */
int img_commit(const char *path, enum blk_format fmt, bool keep, img_progress_fn *progress, void *ctx,
	       struct error *err);

/* Points FILE at BACKING (NULL or "" for none).  Unless UNSAFE, first copies
 * into FILE every cluster whose contents would change. */
int img_rebase(const char *path, enum blk_format fmt, const char *backing, enum blk_format bfmt,
	       bool unsafe, img_progress_fn *progress, void *ctx, struct error *err);

struct img_bench_opts {
	const char *path;
	enum blk_format format;
	enum blk_cache_mode cache;
	bool write;
	bool force_share;
	unsigned depth;          /* requests in flight (threads) */
	uint64_t count;          /* total requests */
	uint64_t size;           /* bytes per request */
	uint64_t step;           /* offset increment; 0 means SIZE */
	uint64_t offset;         /* first offset */
	uint8_t pattern;         /* byte written by write requests */
	uint64_t flush_interval; /* flush every N writes; 0 never */
};
struct img_bench_result {
	double seconds;
	uint64_t errors;
	uint64_t image_size;
};
int img_bench(const struct img_bench_opts *o, struct img_bench_result *r, struct error *err);

#endif
