/* convert: copy a chain's contents into a new image, leaving out zeros
 * (the new image reads them as zeros already), optionally compressed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "disk/img.h"
#include "disk/img_pipe.h"
#include "disk/iov.h"

#define CONVERT_CHUNK (2u << 20)
#define SPARSE_UNIT 4096u

struct conv {
	const struct img_convert_opts *o;
	struct blk *src, *dst;
	struct img_pipe pipe;
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

static int write_chunk(struct conv *c, const struct img_chunk *k)
{
	if (k->zero)
		return 0;
	return c->o->compress ? write_compressed(c, k->off, k->buf, k->len) : write_sparse(c, k->off, k->buf, k->len);
}

/* Fills one chunk: the chain's answer for [OFF, ...), read unless zero. */
static int read_chunk(struct conv *c, uint64_t off, struct img_chunk *k)
{
	uint64_t len = c->size - off < CONVERT_CHUNK ? c->size - off : CONVERT_CHUNK, pnum;
	bool zero;
	int ret = img_chain_status(c->src, off, len, &pnum, &zero);
	if (ret)
		return ret;
	/* Compressed clusters are written whole: keep chunks cluster aligned. */
	if (!zero && c->o->compress && pnum < len && (off + pnum) % blk_cluster_size(c->dst))
		pnum = len;
	k->off = off;
	k->len = pnum;
	k->zero = zero;
	return zero ? 0 : blk_pread(c->src, k->buf, pnum, off);
}

/* The reader thread: reads ahead while the main thread writes. */
static void *reader(void *arg)
{
	struct conv *c = arg;
	for (uint64_t off = 0;;) {
		struct img_chunk *k = img_pipe_claim(&c->pipe);
		if (!k)
			return NULL;
		k->err = off < c->size ? read_chunk(c, off, k) : 0;
		k->last = k->err || off >= c->size;
		off += k->err ? 0 : k->len;
		img_pipe_publish(&c->pipe);
		if (k->last)
			return NULL;
	}
}

static int copy_all(struct conv *c, struct error *err)
{
	pthread_t th;
	if (pthread_create(&th, NULL, reader, c))
		return error_set(err, "cannot start the reader thread converting '%s'", c->o->src);
	int ret = 0;
	uint64_t at = 0;
	for (;;) {
		struct img_chunk *k = img_pipe_next(&c->pipe);
		bool last = k->last;
		at = k->off;
		ret = k->err ? k->err : last ? 0 : write_chunk(c, k);
		if (!ret && !last && c->o->progress)
			c->o->progress(c->o->progress_ctx, k->off + k->len, c->size);
		img_pipe_release(&c->pipe);
		if (ret || last)
			break;
	}
	img_pipe_cancel(&c->pipe);
	pthread_join(th, NULL);
	if (ret)
		return error_errno(err, -ret, "cannot convert '%s' to '%s' near offset %llu", c->o->src,
				   c->o->dst, (unsigned long long)at);
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
		if (img_pipe_init(&c.pipe, CONVERT_CHUNK) < 0)
			ret = error_set(err, "out of memory converting '%s'", o->src);
		else {
			ret = copy_all(&c, err);
			img_pipe_destroy(&c.pipe);
		}
	}
	if (c.dst) {
		int cr = blk_close(c.dst);
		if (!ret && cr)
			ret = error_errno(err, -cr, "cannot finish writing '%s'", o->dst);
	}
	blk_close(c.src);
	return ret;
}
