/* commit: fold an overlay into its backing file. */
#include <errno.h>
#include <stdlib.h>

#include "disk/img.h"

#define COMMIT_CHUNK (1u << 20)

static int copy_allocated(struct blk *top, struct blk *base, img_progress_fn *progress, void *ctx)
{
	uint8_t *buf = malloc(COMMIT_CHUNK);
	if (!buf)
		return -ENOMEM;
	int ret = 0;
	uint64_t size = blk_size(top);
	for (uint64_t off = 0; off < size && !ret;) {
		uint64_t len = size - off < COMMIT_CHUNK ? size - off : COMMIT_CHUNK, pnum;
		unsigned st;
		ret = blk_block_status(top, off, len, &pnum, &st);
		if (!ret && (st & BLK_STATUS_ZERO))
			ret = blk_write_zeroes(base, off, pnum, false);
		else if (!ret && (st & BLK_STATUS_DATA)) {
			ret = blk_pread(top, buf, pnum, off);
			if (!ret)
				ret = blk_pwrite(base, buf, pnum, off);
		}
		off += pnum;
		if (progress)
			progress(ctx, off, size);
	}
	free(buf);
	return ret;
}

int img_commit(const char *path, enum blk_format fmt, bool keep, img_progress_fn *progress, void *ctx,
	       struct error *err)
{
	struct blk_options o = { .format = fmt, .backing_rw = true };
	struct blk *top = blk_open(path, &o, err);
	if (!top)
		return -1;
	struct blk *base = blk_backing(top);
	int ret = 0;
	if (!base)
		ret = error_set(err, "'%s' has no backing file to commit into", path);
	if (!ret && blk_size(base) < blk_size(top))
		ret = blk_truncate(base, blk_size(top), false, err);
	if (!ret) {
		int r = copy_allocated(top, base, progress, ctx);
		if (!r)
			r = blk_flush(base);
		if (r)
			ret = error_errno(err, -r, "cannot commit '%s' into '%s'", path, blk_path(base));
	}
	if (!ret && !keep)
		ret = blk_make_empty(top, err);
	int cr = blk_close(top);
	if (!ret && cr)
		ret = error_errno(err, -cr, "cannot finish committing '%s'", path);
	return ret;
}
