/* raw: the file is the disk, byte for byte. */
#include <errno.h>
#include <unistd.h>

#include "disk/blk_int.h"

static int raw_open(struct blk *b, struct error *err)
{
	int64_t len = bfile_length(b->file);
	if (len < 0)
		return error_errno(err, (int)-len, "cannot read the size of '%s'", b->path);
	b->size = (uint64_t)len;
	return 0;
}

static int raw_close(struct blk *b)
{
	return b->opt.read_only ? 0 : bfile_sync(b->file);
}

static int raw_preadv(struct blk *b, const struct iovec *iov, int cnt, uint64_t off)
{
	return bfile_preadv(b->file, iov, cnt, off);
}

static int raw_pwritev(struct blk *b, const struct iovec *iov, int cnt, uint64_t off)
{
	return bfile_pwritev(b->file, iov, cnt, off);
}

static int raw_flush(struct blk *b)
{
	return bfile_sync(b->file);
}

static int raw_discard(struct blk *b, uint64_t off, uint64_t len)
{
	int ret = bfile_punch(b->file, off, len);
	return ret == -ENOTSUP ? 0 : ret;
}

static int raw_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	return bfile_write_zeroes(b->file, off, len, may_unmap);
}

/* Holes read as zeros; SEEK_DATA/SEEK_HOLE finds them without reading. */
static int raw_block_status(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *st)
{
	off_t data = lseek(b->file->fd, (off_t)off, SEEK_DATA);
	if (data < 0 && errno == ENXIO) {
		*st = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED;
		*pnum = len;
		return 0;
	}
	if (data < 0) {
		*st = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED;
		*pnum = len;
		return 0;
	}
	if ((uint64_t)data > off) {
		*st = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED;
		*pnum = (uint64_t)data - off < len ? (uint64_t)data - off : len;
		return 0;
	}
	off_t hole = lseek(b->file->fd, (off_t)off, SEEK_HOLE);
	uint64_t n = hole < 0 || (uint64_t)hole <= off ? len : (uint64_t)hole - off;
	*st = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED;
	*pnum = n < len ? n : len;
	return 0;
}

static int raw_truncate(struct blk *b, uint64_t size, bool allow_shrink, struct error *err)
{
	int ret = bfile_truncate(b->file, size);
	if (ret)
		return error_errno(err, -ret, "cannot resize '%s'", b->path);
	b->size = size;
	return 0;
}

static int raw_get_info(struct blk *b, struct blk_info *info)
{
	return 0;
}

static int raw_create(const char *path, const struct blk_create_options *opt, struct error *err)
{
	if (opt->backing_file)
		return error_set(err, "cannot create '%s': raw images cannot have a backing file", path);
	struct bfile *f;
	if (blk_create_file(path, &f, err) < 0)
		return -1;
	int ret = bfile_truncate(f, opt->size);
	if (!ret)
		ret = bfile_sync(f);
	bfile_close(f);
	if (ret)
		return error_errno(err, -ret, "cannot create '%s'", path);
	return 0;
}

const struct blk_driver blk_raw_driver = {
	.name = "raw",
	.format = BLK_FORMAT_RAW,
	.open = raw_open,
	.close = raw_close,
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.block_status = raw_block_status,
	.truncate = raw_truncate,
	.get_info = raw_get_info,
	.create = raw_create,
};
