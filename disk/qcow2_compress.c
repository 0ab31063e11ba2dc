/* Compressed clusters: raw deflate (zlib without headers, window 2^12),
 * read anywhere, written whole-cluster by convert -c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "disk/qcow2.h"

int qcow2_decompress_cluster(struct qcow2 *s, uint64_t l2e, uint8_t *out)
{
	uint64_t host, clen;
	qcow2_compressed_span(s, l2e, &host, &clen);
	if (host < s->cluster_size || clen > 2 * s->cluster_size)
		return -EIO;
	uint8_t *in = malloc(clen);
	if (!in)
		return -ENOMEM;
	int ret = bfile_pread(s->file, in, clen, host);
	if (ret) {
		free(in);
		return ret;
	}
	z_stream z = { 0 };
	if (inflateInit2(&z, -12) != Z_OK) {
		free(in);
		return -ENOMEM;
	}
	z.next_in = in;
	z.avail_in = (uInt)clen;
	z.next_out = out;
	z.avail_out = (uInt)s->cluster_size;
	int zr = inflate(&z, Z_FINISH);
	/* The stored length is rounded up to sectors: stopping with input left
	 * over is fine once the cluster is complete. */
	bool ok = z.avail_out == 0 && (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK);
	inflateEnd(&z);
	free(in);
	return ok ? 0 : -EIO;
}

/* Returns the compressed length, or 0 when compression does not pay. */
static size_t compress_cluster(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	size_t n = cap - z.avail_out;
	deflateEnd(&z);
	return zr == Z_STREAM_END ? n : 0;
}

/* Compressed clusters are only written where nothing is allocated yet. */
static int check_unallocated_locked(struct qcow2 *s, uint64_t off)
{
	struct qcow2_extent ext;
	int ret = qcow2_map(s, off, s->cluster_size, &ext);
	if (ret)
		return ret;
	return ext.type == QCOW2_NORMAL || ext.type == QCOW2_COMPRESSED ? -EEXIST : 0;
}

static int check_unallocated(struct qcow2 *s, uint64_t off)
{
	pthread_mutex_lock(&s->lock);
	int ret = check_unallocated_locked(s, off);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int store_compressed(struct qcow2 *s, uint64_t off, const uint8_t *data, size_t clen)
{
	int ret = check_unallocated_locked(s, off);
	if (ret)
		return ret;
	ret = qcow2_mark_dirty_if_lazy(s);
	void *t = NULL;
	if (!ret)
		ret = qcow2_l2_for_write(s, off >> (s->cluster_bits + s->l2_bits), &t);
	uint64_t host = 0;
	unsigned shift = 62 - (s->cluster_bits - 8);
	if (!ret)
		ret = qcow2_alloc_bytes(s, clen, &host);
	/* The descriptor has SHIFT bits for the offset: big clusters must stay low. */
	if (!ret && ((host + clen) >> shift))
		ret = -EFBIG;
	if (!ret)
		ret = bfile_pwrite(s->file, data, clen, host);
	if (!ret) {
		uint64_t extra = ((host + clen - 1) >> 9) - (host >> 9);
		uint64_t e = QCOW2_OFLAG_COMPRESSED | (extra << shift) | host;
		uint64_t idx = (off >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
		uint64_t old = qcow2_l2e_get(s, t, idx);
		qcow2_l2e_set(s, t, idx, e, 0);
		qcow2_cache_mark_dirty(s->l2c, t);
		ret = qcow2_free_entry_later(s, old, false);
	} else if (host) {
		qcow2_rc_add(s, host, 1, -1);
	}
	if (t)
		qcow2_cache_put(s->l2c, t);
	return ret;
}

int qcow2_write_compressed(struct blk *b, uint64_t off, const void *buf, size_t len)
{
	struct qcow2 *s = b->state;
	if ((off & qcow2_cmask(s)) || (len != s->cluster_size && off + len != b->size) ||
	    len > s->cluster_size)
		return -EINVAL;
	int ret = check_unallocated(s, off);
	if (ret)
		return ret;
	uint8_t *in = (uint8_t *)buf;
	uint8_t *padded = NULL;
	if (len < s->cluster_size) {
		/* The last cluster of an image whose size is not cluster aligned. */
		padded = calloc(1, s->cluster_size);
		if (!padded)
			return -ENOMEM;
		memcpy(padded, buf, len);
		in = padded;
	}
	uint8_t *out = malloc(s->cluster_size);
	ret = out ? 0 : -ENOMEM;
	size_t clen = out ? compress_cluster(in, s->cluster_size, out, s->cluster_size - 1) : 0;
	if (!ret && clen) {
		pthread_mutex_lock(&s->lock);
		ret = store_compressed(s, off, out, clen);
		pthread_mutex_unlock(&s->lock);
	} else if (!ret) {
		ret = blk_pwrite(b, buf, len, off);
	}
	free(out);
	free(padded);
	return ret;
}
