/* convert: copy a chain's contents into a new image, leaving out zeros
 * (the new image reads them as zeros already), optionally compressed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/img.h"
#include "disk/iov.h"

#define CONVERT_CHUNK (2u << 20)
#define SPARSE_UNIT 4096u

struct conv {
	const struct img_convert_opts *o;
	struct blk *src, *dst;
	uint8_t *buf;
	uint64_t size;
	uint32_t unit;       /* zero detection granularity: a cluster for qcow2 */
};

/* Writes the non-zero runs of BUF (LEN bytes for guest offset OFF). */
static int write_sparse(struct conv *c, uint64_t off, const uint8_t *buf, uint64_t len)
{
	uint64_t pos = 0;
	while (pos < len) {
		uint64_t u = c->unit - (off + pos) % c->unit;
		if (u > len - pos)
			u = len - pos;
		if (buf_is_zero(buf + pos, u)) {
			pos += u;
			continue;
		}
		uint64_t start = pos;
		while (pos < len) {
			u = c->unit - (off + pos) % c->unit;
			if (u > len - pos)
				u = len - pos;
			if (buf_is_zero(buf + pos, u))
				break;
			pos += u;
		}
		int ret = blk_pwrite(c->dst, buf + start, pos - start, off + start);
		if (ret)
			return ret;
	}
	return 0;
}

static int write_compressed(struct conv *c, uint64_t off, const uint8_t *buf, uint64_t len)
{
	uint32_t cs = blk_cluster_size(c->dst);
	for (uint64_t pos = 0; pos < len; pos += cs) {
		uint64_t n = len - pos < cs ? len - pos : cs;
		if (buf_is_zero(buf + pos, n))
			continue;
		int ret = blk_write_compressed(c->dst, off + pos, buf + pos, n);
		if (ret)
			return ret;
	}
	return 0;
}

static int copy_range(struct conv *c, uint64_t off, uint64_t len)
{
	int ret = blk_pread(c->src, c->buf, len, off);
	if (ret)
		return ret;
	return c->o->compress ? write_compressed(c, off, c->buf, len) : write_sparse(c, off, c->buf, len);
}

static int copy_all(struct conv *c, struct error *err)
{
	/* Compressed clusters are written whole: keep chunks cluster aligned. */
	uint64_t off = 0;
	while (off < c->size) {
		uint64_t len = c->size - off < CONVERT_CHUNK ? c->size - off : CONVERT_CHUNK, pnum;
		bool zero;
		int ret = img_chain_status(c->src, off, len, &pnum, &zero);
		if (!ret && !zero) {
			if (c->o->compress && pnum < len && (off + pnum) % blk_cluster_size(c->dst))
				pnum = len;   /* finish the cluster; reading through zeros is harmless */
			ret = copy_range(c, off, pnum);
		}
		if (ret)
			return error_errno(err, -ret, "cannot convert '%s' to '%s' at offset %llu", c->o->src,
					   c->o->dst, (unsigned long long)off);
		off += pnum;
		if (c->o->progress)
			c->o->progress(c->o->progress_ctx, off, c->size);
	}
	return 0;
}

static int open_both(struct conv *c, struct error *err)
{
	const struct img_convert_opts *o = c->o;
	struct blk_options so = { .format = o->src_format, .read_only = true, .force_share = o->force_share,
				  .cache = o->src_cache };
	c->src = blk_open(o->src, &so, err);
	if (!c->src)
		return -1;
	c->size = blk_size(c->src);
	struct blk_create_options co = o->create;
	co.size = c->size;
	if (co.format == BLK_FORMAT_AUTO)
		co.format = BLK_FORMAT_RAW;
	if (o->compress && co.format != BLK_FORMAT_QCOW2)
		return error_set(err, "cannot write '%s' compressed: only qcow2 has compressed clusters", o->dst);
	if (co.format == BLK_FORMAT_QCOW2 && co.size % 512)
		co.size = (co.size + 511) & ~511ull;
	if (blk_create(o->dst, &co, err) < 0)
		return -1;
	struct blk_options dopt = { .format = co.format, .cache = o->dst_cache, .no_backing = true };
	c->dst = blk_open(o->dst, &dopt, err);
	if (!c->dst)
		return -1;
	c->unit = co.format == BLK_FORMAT_QCOW2 ? blk_cluster_size(c->dst) : SPARSE_UNIT;
	return 0;
}

int img_convert(const struct img_convert_opts *o, struct error *err)
{
	struct conv c = { .o = o };
	int ret = open_both(&c, err);
	if (!ret) {
		c.buf = malloc(CONVERT_CHUNK);
		ret = c.buf ? copy_all(&c, err) : error_set(err, "out of memory converting '%s'", o->src);
	}
	if (c.dst) {
		int cr = blk_close(c.dst);
		if (!ret && cr)
			ret = error_errno(err, -cr, "cannot finish writing '%s'", o->dst);
	}
	blk_close(c.src);
	free(c.buf);
	return ret;
}
