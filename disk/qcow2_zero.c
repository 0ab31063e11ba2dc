/* Discard and write-zeroes: whole clusters change their L2 entries (zero
 * flag, or unallocated); partial clusters are written with zeros. */
#include <errno.h>
#include <stdlib.h>

#include "disk/qcow2.h"

enum clear_mode {
	CLEAR_FULL,        /* unallocated: reads fall through to the backing file */
	CLEAR_DISCARD,     /* zeros, or unallocated when that reads the same */
	CLEAR_ZERO_KEEP,   /* zeros, keeping an exclusive allocation in place */
};

/* The entry (and extended-L2 bitmap) a cleared cluster gets. */
static void cleared_entry(const struct qcow2 *s, uint64_t old, enum clear_mode mode, uint64_t *e,
			  uint64_t *bm, bool *keeps_host)
{
	bool has_backing = s->blk->backing || s->backing_file;
	*keeps_host = false;
	*bm = 0;
	*e = 0;
	if (mode == CLEAR_FULL)
		return;
	if (mode == CLEAR_ZERO_KEEP && s->version >= 3 && !s->extl2 && (old & QCOW2_OFLAG_COPIED) &&
	    !(old & QCOW2_OFLAG_COMPRESSED) && (old & QCOW2_OFFSET_MASK)) {
		*e = (old & (QCOW2_OFFSET_MASK | QCOW2_OFLAG_COPIED)) | QCOW2_OFLAG_ZERO;
		*keeps_host = true;
		return;
	}
	/* Version 2 has no zero flag: discard there exposes the backing file. */
	if (!has_backing || s->version < 3)
		return;
	if (s->extl2)
		*bm = 0xffffffffull << 32;
	else
		*e = QCOW2_OFLAG_ZERO;
}

static int clear_in_table(struct qcow2 *s, uint64_t off, uint64_t n, enum clear_mode mode, bool punch)
{
	uint64_t l1i = off >> (s->cluster_bits + s->l2_bits);
	bool has_backing = s->blk->backing || s->backing_file;
	/* No table and nothing to fall through to: already reads as zeros. */
	if (l1i < s->l1_size && !(s->l1[l1i] & QCOW2_OFFSET_MASK) && (mode == CLEAR_FULL || !has_backing))
		return 0;
	void *t;
	int ret = qcow2_l2_for_write(s, l1i, &t);
	if (ret)
		return ret;
	uint64_t idx = (off >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
	bool changed = false;
	for (uint64_t k = 0; k < n && !ret; k++) {
		uint64_t old = qcow2_l2e_get(s, t, idx + k), obm = qcow2_l2e_bitmap(s, t, idx + k);
		uint64_t e, bm;
		bool keep;
		cleared_entry(s, old, mode, &e, &bm, &keep);
		if (e == old && bm == obm)
			continue;
		qcow2_l2e_set(s, t, idx + k, e, bm);
		changed = true;
		if (!keep)
			ret = qcow2_free_entry_later(s, old, punch);
	}
	if (changed)
		qcow2_cache_mark_dirty(s->l2c, t);
	qcow2_cache_put(s->l2c, t);
	return ret;
}

static int clear_range(struct qcow2 *s, uint64_t off, uint64_t len, enum clear_mode mode, bool punch)
{
	int ret = qcow2_mark_dirty_if_lazy(s);
	while (!ret && len) {
		uint64_t span = qcow2_l2_span(s);
		uint64_t chunk = span - (off & (span - 1));
		if (chunk > len)
			chunk = len;
		ret = clear_in_table(s, off, chunk >> s->cluster_bits, mode, punch);
		off += chunk;
		len -= chunk;
	}
	return ret;
}

int qcow2_clear_clusters(struct qcow2 *s, uint64_t off, uint64_t len, bool full, bool punch)
{
	return clear_range(s, off, len, full ? CLEAR_FULL : CLEAR_DISCARD, punch);
}

int qcow2_discard(struct blk *b, uint64_t off, uint64_t len)
{
	struct qcow2 *s = b->state;
	uint64_t start = qcow2_align_up(s, off);
	uint64_t end = (off + len) & ~qcow2_cmask(s);
	if (off + len == b->size)
		end = qcow2_align_up(s, b->size);
	if (end <= start)
		return 0;
	pthread_mutex_lock(&s->lock);
	int ret = clear_range(s, start, end - start, CLEAR_DISCARD, true);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Partial clusters: skip them when they already read as zeros. */
static int zero_partial(struct blk *b, uint64_t off, uint64_t len)
{
	struct qcow2 *s = b->state;
	struct qcow2_extent ext;
	int ret = qcow2_map_locking(s, off, len, &ext);
	if (ret)
		return ret;
	if (ext.len >= len && (ext.type == QCOW2_ZERO || (ext.type == QCOW2_UNALLOC && !b->backing)))
		return 0;
	uint8_t *z = calloc(1, (size_t)len);
	if (!z)
		return -ENOMEM;
	ret = qcow2_pwritev(b, &(struct iovec){ z, (size_t)len }, 1, off);
	free(z);
	return ret;
}

int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	struct qcow2 *s = b->state;
	uint64_t start = qcow2_align_up(s, off);
	uint64_t end = (off + len) & ~qcow2_cmask(s);
	if (off + len == b->size)
		end = qcow2_align_up(s, b->size);  /* the tail past the size is ours too */
	bool flag_ok = s->version >= 3 || !(b->backing || s->backing_file);
	if (end <= start || !flag_ok) {
		/* Nothing whole, or no way to say "zero" in an entry: write zeros. */
		for (uint64_t pos = off; pos < off + len;) {
			uint64_t n = off + len - pos < (1u << 20) ? off + len - pos : (1u << 20);
			int ret = zero_partial(b, pos, n);
			if (ret)
				return ret;
			pos += n;
		}
		return 0;
	}
	int ret = 0;
	if (start > off)
		ret = zero_partial(b, off, start - off);
	if (!ret && end < off + len)
		ret = zero_partial(b, end, off + len - end);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->lock);
	ret = clear_range(s, start, end - start, may_unmap ? CLEAR_DISCARD : CLEAR_ZERO_KEEP, false);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
