/* rebase: change an overlay's backing file, keeping what the guest sees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/blk_int.h"
#include "disk/img.h"

#define REBASE_CHUNK (64u << 10)

/* Reads [OFF, OFF+LEN) of backing B (NULL: none) as the overlay sees it. */
static int read_backing(struct blk *b, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t have = b && off < blk_size(b) ? blk_size(b) - off : 0;
	if (have > len)
		have = len;
	int ret = have ? blk_pread(b, buf, have, off) : 0;
	memset(buf + have, 0, len - have);
	return ret;
}

/* Where the overlay does not define the bytes, the old backing file did:
 * copy them in wherever the new backing file differs. */
static int copy_differences(struct blk *top, struct blk *oldb, struct blk *newb, img_progress_fn *progress,
			    void *ctx)
{
	uint8_t *a = malloc(REBASE_CHUNK), *n = malloc(REBASE_CHUNK);
	int ret = a && n ? 0 : -ENOMEM;
	uint64_t size = blk_size(top);
	for (uint64_t off = 0; off < size && !ret;) {
		uint64_t len = size - off < REBASE_CHUNK ? size - off : REBASE_CHUNK, pnum;
		unsigned st;
		ret = blk_block_status(top, off, len, &pnum, &st);
		if (!ret && !(st & BLK_STATUS_ALLOCATED)) {
			ret = read_backing(oldb, a, pnum, off);
			if (!ret)
				ret = read_backing(newb, n, pnum, off);
			if (!ret && memcmp(a, n, pnum))
				ret = blk_pwrite(top, a, pnum, off);
		}
		off += pnum;
		if (progress)
			progress(ctx, off, size);
	}
	free(a);
	free(n);
	return ret;
}

static int safe_rebase(struct blk *top, const char *backing, enum blk_format *bfmt, img_progress_fn *progress,
		       void *ctx, struct error *err)
{
	struct blk *newb = NULL;
	if (backing && *backing) {
		char *p = blk_backing_path(blk_path(top), backing);
		struct blk_options o = { .format = *bfmt, .read_only = true };
		newb = p ? blk_open(p, &o, err) : NULL;
		free(p);
		if (!newb)
			return -1;
		*bfmt = blk_format(newb);   /* record what was probed */
	}
	int ret = copy_differences(top, blk_backing(top), newb, progress, ctx);
	blk_close(newb);
	if (ret)
		return error_errno(err, -ret, "cannot rebase '%s'", blk_path(top));
	return 0;
}

int img_rebase(const char *path, enum blk_format fmt, const char *backing, enum blk_format bfmt, bool unsafe,
	       img_progress_fn *progress, void *ctx, struct error *err)
{
	struct blk_options o = { .format = fmt, .no_backing = unsafe };
	struct blk *top = blk_open(path, &o, err);
	if (!top)
		return -1;
	int ret = 0;
	if (!unsafe)
		ret = safe_rebase(top, backing, &bfmt, progress, ctx, err);
	if (!ret)
		ret = blk_set_backing(top, backing, bfmt, err);
	int cr = blk_close(top);
	if (!ret && cr)
		ret = error_errno(err, -cr, "cannot finish rebasing '%s'", path);
	return ret;
}
