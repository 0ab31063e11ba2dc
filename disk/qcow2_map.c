/* Guest-to-host mapping: L1 and L2 entries, their validation, and making
 * an L2 table writable (allocate it, or copy it when a snapshot shares it). */
#include <errno.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

uint64_t qcow2_l2e_get(const struct qcow2 *s, const void *table, uint64_t idx)
{
	return be64_get((const uint8_t *)table + (idx << s->l2e_shift));
}

uint64_t qcow2_l2e_bitmap(const struct qcow2 *s, const void *table, uint64_t idx)
{
	return s->extl2 ? be64_get((const uint8_t *)table + (idx << s->l2e_shift) + 8) : 0;
}

void qcow2_l2e_set(const struct qcow2 *s, void *table, uint64_t idx, uint64_t e, uint64_t bitmap)
{
	uint8_t *p = (uint8_t *)table + (idx << s->l2e_shift);
	be64_put(p, e);
	if (s->extl2)
		be64_put(p + 8, bitmap);
}

int qcow2_l2e_classify(const struct qcow2 *s, uint64_t e, enum qcow2_type *type, uint64_t *host)
{
	*host = 0;
	if (e & QCOW2_OFLAG_COMPRESSED) {
		if (e & QCOW2_OFLAG_COPIED)
			return -EIO;
		*type = QCOW2_COMPRESSED;
		return 0;
	}
	if (e & QCOW2_L2_RESERVED)
		return -EIO;
	uint64_t h = e & QCOW2_OFFSET_MASK;
	if (h & qcow2_cmask(s))
		return -EIO;
	*host = h;
	if ((e & QCOW2_OFLAG_ZERO) && !s->extl2)
		*type = QCOW2_ZERO;
	else if (h)
		*type = QCOW2_NORMAL;
	else if (e & QCOW2_OFLAG_COPIED)
		return -EIO;
	else
		*type = QCOW2_UNALLOC;
	return 0;
}

void qcow2_compressed_span(const struct qcow2 *s, uint64_t e, uint64_t *host, uint64_t *len)
{
	unsigned shift = 62 - (s->cluster_bits - 8);
	uint64_t sectors = ((e >> shift) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
	*host = e & ((1ull << shift) - 1);
	*len = sectors * 512 - (*host & 511);
}

/* The state of one cluster (or subcluster, with extended L2 entries). */
struct piece {
	enum qcow2_type type;
	uint64_t host;       /* host offset of the piece's first byte */
	bool copied;
	uint64_t e;
};

static int classify_piece(const struct qcow2 *s, const void *t, uint64_t idx, unsigned sc,
			  struct piece *p)
{
	uint64_t e = qcow2_l2e_get(s, t, idx), host;
	int ret = qcow2_l2e_classify(s, e, &p->type, &host);
	if (ret)
		return ret;
	p->e = e;
	p->copied = e & QCOW2_OFLAG_COPIED;
	p->host = host;
	if (!s->extl2 || p->type == QCOW2_COMPRESSED)
		return 0;
	uint64_t bm = qcow2_l2e_bitmap(s, t, idx);
	bool alloc = bm >> sc & 1, zero = bm >> (32 + sc) & 1;
	if (alloc && zero)
		return -EIO;
	if (alloc) {
		if (!host)
			return -EIO;
		p->type = QCOW2_NORMAL;
		p->host = host + ((uint64_t)sc << s->sc_bits);
	} else {
		p->type = zero ? QCOW2_ZERO : QCOW2_UNALLOC;
	}
	return 0;
}

int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t max, struct qcow2_extent *ext)
{
	unsigned span_bits = s->cluster_bits + s->l2_bits;
	uint64_t l1i = off >> span_bits;
	uint64_t lim = ((l1i + 1) << span_bits) - off;
	if (max < lim)
		lim = max;
	memset(ext, 0, sizeof(*ext));
	ext->type = QCOW2_UNALLOC;
	ext->len = lim;
	if (l1i >= s->l1_size || !(s->l1[l1i] & QCOW2_OFFSET_MASK))
		return 0;
	void *t;
	int ret = qcow2_cache_get(s->l2c, s->l1[l1i] & QCOW2_OFFSET_MASK, &t);
	if (ret)
		return ret;
	unsigned unit_bits = s->extl2 ? s->sc_bits : s->cluster_bits;
	uint64_t unit = 1ull << unit_bits, done = 0, pos = off, next_host = 0;
	while (done < lim) {
		uint64_t idx = (pos >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
		unsigned sc = s->extl2 ? (unsigned)((pos >> unit_bits) & 31) : 0;
		struct piece p;
		ret = classify_piece(s, t, idx, sc, &p);
		if (ret)
			break;
		uint64_t in = pos & (unit - 1);
		uint64_t n = p.type == QCOW2_COMPRESSED ? s->cluster_size - (pos & qcow2_cmask(s)) : unit - in;
		if (done == 0) {
			ext->type = p.type;
			ext->host = p.type == QCOW2_NORMAL ? p.host + in : p.host;
			ext->copied = p.copied;
			ext->l2e = p.e;
		} else if (p.type != ext->type ||
			   (p.type == QCOW2_NORMAL && (p.host != next_host || p.copied != ext->copied))) {
			break;
		}
		next_host = p.host + unit;
		done += n;
		pos += n;
		if (p.type == QCOW2_COMPRESSED)
			break;
	}
	qcow2_cache_put(s->l2c, t);
	if (ret)
		return ret;
	ext->len = done < lim ? done : lim;
	return 0;
}

int qcow2_l1_write_entry(struct qcow2 *s, uint64_t idx)
{
	uint8_t e[8];
	be64_put(e, s->l1[idx]);
	return bfile_pwrite(s->file, e, 8, s->l1_offset + idx * 8);
}

static bool in_range(uint64_t off, uint64_t len, uint64_t start, uint64_t size)
{
	return size && off < start + size && start < off + len;
}

bool qcow2_overlaps_metadata(const struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (in_range(off, len, 0, s->cluster_size) ||
	    in_range(off, len, s->l1_offset, (uint64_t)s->l1_size * 8) ||
	    in_range(off, len, s->reft_offset, (uint64_t)s->reft_clusters << s->cluster_bits) ||
	    in_range(off, len, s->snap_offset, s->nb_snaps ? s->snap_bytes : 0))
		return true;
	for (uint32_t i = 0; i < s->nb_snaps; i++)
		if (in_range(off, len, s->snaps[i].l1_offset, (uint64_t)s->snaps[i].l1_size * 8))
			return true;
	uint64_t first = off & ~qcow2_cmask(s);
	for (uint64_t c = first; c < off + len; c += s->cluster_size)
		if ((s->l2c && qcow2_cache_holds(s->l2c, c)) || (s->rbc && qcow2_cache_holds(s->rbc, c)))
			return true;
	return false;
}

int qcow2_free_entry_later(struct qcow2 *s, uint64_t e, bool punch)
{
	enum qcow2_type type;
	uint64_t host;
	if (qcow2_l2e_classify(s, e, &type, &host) < 0)
		return 0;  /* a malformed entry owns nothing we trust */
	if (type == QCOW2_COMPRESSED) {
		uint64_t len;
		qcow2_compressed_span(s, e, &host, &len);
		uint64_t first = host & ~qcow2_cmask(s);
		for (uint64_t c = first; c < host + len; c += s->cluster_size) {
			int ret = qcow2_free_later(s, c, false);
			if (ret)
				return ret;
		}
		return 0;
	}
	return host ? qcow2_free_later(s, host, punch) : 0;
}

/* A new or copied L2 table must be on disk before the L1 entry names it,
 * lazy refcounts or not: a repair can rebuild refcounts, not a lost table. */
static int install_l2(struct qcow2 *s, uint64_t l1i, uint64_t old, uint64_t new_off, void *t)
{
	qcow2_cache_mark_dirty(s->l2c, t);
	int ret = qcow2_cache_write_one(s->l2c, t);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		return ret;
	uint64_t saved = s->l1[l1i];
	s->l1[l1i] = new_off | QCOW2_OFLAG_COPIED;
	ret = qcow2_l1_write_entry(s, l1i);
	if (ret) {
		s->l1[l1i] = saved;
		return ret;
	}
	return old ? qcow2_free_later(s, old, false) : 0;
}

int qcow2_l2_for_write(struct qcow2 *s, uint64_t l1i, void **table)
{
	if (l1i >= s->l1_size)
		return -EIO;
	uint64_t e = s->l1[l1i], old = e & QCOW2_OFFSET_MASK;
	if (old && (e & QCOW2_OFLAG_COPIED))
		return qcow2_cache_get(s->l2c, old, table);
	int ret = qcow2_mark_dirty_if_lazy(s);
	uint64_t new_off;
	if (!ret)
		ret = qcow2_alloc_clusters(s, 1, &new_off);
	if (ret)
		return ret;
	void *ot = NULL, *t;
	if (old)
		ret = qcow2_cache_get(s->l2c, old, &ot);
	if (!ret)
		ret = qcow2_cache_get_empty(s->l2c, new_off, &t);
	if (!ret && ot)
		memcpy(t, ot, s->cluster_size);
	if (ot)
		qcow2_cache_put(s->l2c, ot);
	if (!ret) {
		ret = install_l2(s, l1i, old, new_off, t);
		if (ret) {
			qcow2_cache_put(s->l2c, t);
			qcow2_cache_drop(s->l2c, new_off);
		}
	}
	if (ret) {
		qcow2_rc_set(s, new_off >> s->cluster_bits, 0);
		return ret;
	}
	*table = t;
	return 0;
}

int qcow2_map_locking(struct qcow2 *s, uint64_t off, uint64_t max, struct qcow2_extent *ext)
{
	pthread_mutex_lock(&s->lock);
	int ret = qcow2_map(s, off, max, ext);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
