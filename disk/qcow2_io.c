/* qcow2 data path: reads, in-place writes to allocated clusters (parallel,
 * no metadata lock held during I/O) and allocating writes (serialised). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/iov.h"
#include "disk/qcow2.h"

int qcow2_mark_dirty_if_lazy(struct qcow2 *s)
{
	if (!s->lazy || s->dirty_marked)
		return 0;
	int ret = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, true);
	if (!ret)
		s->dirty_marked = true;
	return ret;
}

static int read_backing(struct qcow2 *s, uint64_t off, const struct iovec *iov, int cnt, size_t len)
{
	struct blk *bk = s->blk->backing;
	uint64_t have = 0;
	if (bk && off < blk_size(bk))
		have = blk_size(bk) - off < len ? blk_size(bk) - off : len;
	if (have) {
		struct iovec *part = malloc(sizeof(*part) * (size_t)cnt);
		if (!part)
			return -ENOMEM;
		int n = iov_slice(iov, cnt, 0, (size_t)have, part);
		int ret = blk_preadv(bk, part, n, off);
		free(part);
		if (ret)
			return ret;
	}
	if (have < len)
		iov_memset(iov, cnt, (size_t)have, 0, len - (size_t)have);
	return 0;
}

static int read_compressed(struct qcow2 *s, const struct qcow2_extent *ext, uint64_t off,
			   const struct iovec *iov, int cnt, size_t len)
{
	uint8_t *buf = malloc(s->cluster_size);
	if (!buf)
		return -ENOMEM;
	int ret = qcow2_decompress_cluster(s, ext->l2e, buf);
	if (!ret)
		iov_from_buf(iov, cnt, 0, buf + (off & qcow2_cmask(s)), len);
	free(buf);
	return ret;
}

int qcow2_read_extent(struct qcow2 *s, const struct qcow2_extent *ext, uint64_t off,
		      const struct iovec *iov, int cnt)
{
	size_t len = iov_size(iov, cnt);
	switch (ext->type) {
	case QCOW2_NORMAL:
		return bfile_preadv(s->file, iov, cnt, ext->host);
	case QCOW2_ZERO:
		iov_memset(iov, cnt, 0, 0, len);
		return 0;
	case QCOW2_COMPRESSED:
		return read_compressed(s, ext, off, iov, cnt, len);
	default:
		return read_backing(s, off, iov, cnt, len);
	}
}

/* Scratch iovec room: a slice never needs more entries than its source. */
struct iov_scratch {
	struct iovec small[16];
	struct iovec *v;
};

static struct iovec *scratch_get(struct iov_scratch *sc, int cnt, int extra)
{
	sc->v = cnt + extra <= 16 ? sc->small : malloc(sizeof(struct iovec) * (size_t)(cnt + extra));
	return sc->v;
}

static void scratch_put(struct iov_scratch *sc)
{
	if (sc->v != sc->small)
		free(sc->v);
}

static bool needs_free_lock(enum qcow2_type t)
{
	return t == QCOW2_NORMAL || t == QCOW2_COMPRESSED;
}

int qcow2_preadv(struct blk *b, const struct iovec *iov, int cnt, uint64_t off)
{
	struct qcow2 *s = b->state;
	size_t len = iov_size(iov, cnt), done = 0;
	struct iov_scratch sc;
	struct iovec *part = scratch_get(&sc, cnt, 0);
	if (!part)
		return -ENOMEM;
	int ret = 0;
	while (done < len && !ret) {
		struct qcow2_extent ext;
		pthread_mutex_lock(&s->lock);
		ret = qcow2_map(s, off + done, len - done, &ext);
		if (!ret && needs_free_lock(ext.type))
			pthread_rwlock_rdlock(&s->free_lock);
		pthread_mutex_unlock(&s->lock);
		if (ret)
			break;
		int n = iov_slice(iov, cnt, done, (size_t)ext.len, part);
		ret = qcow2_read_extent(s, &ext, off + done, part, n);
		if (needs_free_lock(ext.type))
			pthread_rwlock_unlock(&s->free_lock);
		done += (size_t)ext.len;
	}
	scratch_put(&sc);
	return ret;
}

/* Reads the current guest contents of [OFF, OFF+LEN) into BUF (for the
 * unwritten head and tail of a cluster being reallocated). */
static int read_current(struct qcow2 *s, uint64_t off, uint8_t *buf, uint64_t len)
{
	while (len) {
		struct qcow2_extent ext;
		int ret = qcow2_map(s, off, len, &ext);
		if (ret)
			return ret;
		struct iovec v = { buf, (size_t)ext.len };
		ret = qcow2_read_extent(s, &ext, off, &v, 1);
		if (ret)
			return ret;
		off += ext.len;
		buf += ext.len;
		len -= ext.len;
	}
	return 0;
}

/* Points the L2 entries of N clusters from guest offset CSTART at the new
 * host clusters, queueing what they used to own for freeing. */
static int link_clusters(struct qcow2 *s, void *t, uint64_t cstart, uint64_t n, uint64_t host)
{
	uint64_t idx = (cstart >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
	int ret = 0;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t old = qcow2_l2e_get(s, t, idx + k);
		qcow2_l2e_set(s, t, idx + k, (host + (k << s->cluster_bits)) | QCOW2_OFLAG_COPIED,
			      s->extl2 ? 0xffffffffull : 0);
		int r = qcow2_free_entry_later(s, old, false);
		if (r && !ret)
			ret = r;
	}
	qcow2_cache_mark_dirty(s->l2c, t);
	return ret;
}

struct cow {
	uint8_t *head, *tail;
	uint64_t head_len, tail_len;
};

static int cow_prepare(struct qcow2 *s, uint64_t cstart, uint64_t off, uint64_t len, uint64_t cend,
		       struct cow *c)
{
	c->head_len = off - cstart;
	c->tail_len = cend - (off + len);
	c->head = c->head_len ? malloc(c->head_len) : NULL;
	c->tail = c->tail_len ? malloc(c->tail_len) : NULL;
	if ((c->head_len && !c->head) || (c->tail_len && !c->tail))
		return -ENOMEM;
	int ret = c->head_len ? read_current(s, cstart, c->head, c->head_len) : 0;
	if (!ret && c->tail_len)
		ret = read_current(s, off + len, c->tail, c->tail_len);
	return ret;
}

static int write_alloc(struct qcow2 *s, uint64_t off, uint64_t len, const struct iovec *iov, int cnt,
		       size_t iov_off)
{
	uint64_t cstart = off & ~qcow2_cmask(s), cend = qcow2_align_up(s, off + len);
	uint64_t n = (cend - cstart) >> s->cluster_bits;
	struct cow c = { 0 };
	int ret = qcow2_mark_dirty_if_lazy(s);
	if (!ret)
		ret = cow_prepare(s, cstart, off, len, cend, &c);
	void *t = NULL;
	if (!ret)
		ret = qcow2_l2_for_write(s, off >> (s->cluster_bits + s->l2_bits), &t);
	uint64_t host = 0;
	if (!ret)
		ret = qcow2_alloc_clusters(s, n, &host);
	if (!ret) {
		struct iov_scratch sc;
		struct iovec *v = scratch_get(&sc, cnt, 2);
		if (!v) {
			ret = -ENOMEM;
		} else {
			int k = 0;
			if (c.head_len)
				v[k++] = (struct iovec){ c.head, (size_t)c.head_len };
			k += iov_slice(iov, cnt, iov_off, (size_t)len, v + k);
			if (c.tail_len)
				v[k++] = (struct iovec){ c.tail, (size_t)c.tail_len };
			ret = bfile_pwritev(s->file, v, k, host);
			scratch_put(&sc);
		}
		if (ret) {
			/* Nothing references the new clusters yet: give them back. */
			for (uint64_t k = 0; k < n; k++)
				qcow2_rc_set(s, (host >> s->cluster_bits) + k, 0);
		} else {
			ret = link_clusters(s, t, cstart, n, host);
		}
	}
	if (t)
		qcow2_cache_put(s->l2c, t);
	free(c.head);
	free(c.tail);
	return ret;
}

/* A cluster no refcount block covers has refcount 0: an entry claiming it
 * is corrupt, and writing there could grow the file without bound. */
static bool refcount_covered(const struct qcow2 *s, uint64_t host, uint64_t len)
{
	for (uint64_t i = host >> s->cluster_bits >> s->rb_bits;
	     i <= (host + len - 1) >> s->cluster_bits >> s->rb_bits; i++)
		if (i >= s->reft_size || !s->reft[i])
			return false;
	return true;
}

static int write_in_place(struct qcow2 *s, const struct qcow2_extent *ext, const struct iovec *iov,
			  int cnt, size_t done, struct iovec *part)
{
	/* Called with s->lock held; drops it for the data transfer. */
	if (qcow2_overlaps_metadata(s, ext->host, ext->len) || !refcount_covered(s, ext->host, ext->len)) {
		pthread_mutex_unlock(&s->lock);
		return -EIO;
	}
	pthread_rwlock_rdlock(&s->free_lock);
	pthread_mutex_unlock(&s->lock);
	int n = iov_slice(iov, cnt, done, (size_t)ext->len, part);
	int ret = bfile_pwritev(s->file, part, n, ext->host);
	pthread_rwlock_unlock(&s->free_lock);
	return ret;
}

int qcow2_pwritev(struct blk *b, const struct iovec *iov, int cnt, uint64_t off)
{
	struct qcow2 *s = b->state;
	size_t len = iov_size(iov, cnt), done = 0;
	struct iov_scratch sc;
	struct iovec *part = scratch_get(&sc, cnt, 0);
	if (!part)
		return -ENOMEM;
	int ret = 0;
	while (done < len && !ret) {
		struct qcow2_extent ext;
		pthread_mutex_lock(&s->lock);
		ret = qcow2_map(s, off + done, len - done, &ext);
		if (ret) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		if (ext.type == QCOW2_NORMAL && ext.copied) {
			ret = write_in_place(s, &ext, iov, cnt, done, part);
		} else {
			ret = write_alloc(s, off + done, ext.len, iov, cnt, done);
			pthread_mutex_unlock(&s->lock);
		}
		done += (size_t)ext.len;
	}
	scratch_put(&sc);
	return ret;
}
