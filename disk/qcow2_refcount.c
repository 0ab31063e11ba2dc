/* Refcounts: reading and changing them, allocating clusters, and growing
 * the refcount structures (new self-describing blocks, a larger table). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

uint64_t qcow2_rb_get(const struct qcow2 *s, const void *block, uint64_t i)
{
	const uint8_t *b = block;
	switch (s->refcount_order) {
	case 3: return b[i];
	case 4: return be16_get(b + 2 * i);
	case 5: return be32_get(b + 4 * i);
	case 6: return be64_get(b + 8 * i);
	default: {
		/* Sub-byte widths: entry 0 is in the least significant bits. */
		unsigned w = 1u << s->refcount_order;
		uint64_t bit = i * w;
		return (b[bit / 8] >> (bit % 8)) & ((1u << w) - 1);
	}
	}
}

void qcow2_rb_put(const struct qcow2 *s, void *block, uint64_t i, uint64_t v)
{
	uint8_t *b = block;
	switch (s->refcount_order) {
	case 3: b[i] = (uint8_t)v; break;
	case 4: be16_put(b + 2 * i, (uint16_t)v); break;
	case 5: be32_put(b + 4 * i, (uint32_t)v); break;
	case 6: be64_put(b + 8 * i, v); break;
	default: {
		unsigned w = 1u << s->refcount_order;
		uint64_t bit = i * w;
		uint8_t mask = (uint8_t)(((1u << w) - 1) << (bit % 8));
		b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
		break;
	}
	}
}

static uint64_t rb_mask(const struct qcow2 *s)
{
	return (1ull << s->rb_bits) - 1;
}

/* Refcount block for table index I, or 0 when none exists. */
static uint64_t block_at(const struct qcow2 *s, uint64_t i)
{
	return i < s->reft_size ? s->reft[i] & ~QCOW2_REFT_RESERVED : 0;
}

int qcow2_rc_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
	uint64_t boff = block_at(s, cluster >> s->rb_bits);
	*rc = 0;
	if (!boff)
		return 0;
	void *blk;
	int ret = qcow2_cache_get(s->rbc, boff, &blk);
	if (ret)
		return ret;
	*rc = qcow2_rb_get(s, blk, cluster & rb_mask(s));
	qcow2_cache_put(s->rbc, blk);
	return 0;
}

static int repair_refs_grow(struct qcow2 *s, uint64_t n)
{
	if (!s->repair_refs || n <= s->repair_nrefs)
		return 0;
	uint32_t *r = realloc(s->repair_refs, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r + s->repair_nrefs, 0, (n - s->repair_nrefs) * sizeof(*r));
	s->repair_refs = r;
	s->repair_nrefs = n;
	return 0;
}

static int repair_mark(struct qcow2 *s, uint64_t first, uint64_t n)
{
	if (!s->repair_refs)
		return 0;
	int ret = repair_refs_grow(s, first + n);
	for (uint64_t i = 0; !ret && i < n; i++)
		s->repair_refs[first + i] = 1;
	return ret;
}

/* Whether CLUSTER may be handed out: refcount 0 (or no true reference
 * while repairing), never cluster 0, never under known metadata. */
static int cluster_free(struct qcow2 *s, uint64_t cluster, bool *is_free)
{
	*is_free = false;
	if (cluster == 0 || qcow2_overlaps_metadata(s, cluster << s->cluster_bits, s->cluster_size))
		return 0;
	if (s->repair_refs) {
		*is_free = cluster >= s->repair_nrefs || s->repair_refs[cluster] == 0;
		return 0;
	}
	uint64_t rc;
	int ret = qcow2_rc_get(s, cluster, &rc);
	*is_free = !ret && rc == 0;
	return ret;
}

static int write_table_entry(struct qcow2 *s, uint64_t i)
{
	uint8_t e[8];
	be64_put(e, s->reft[i]);
	return bfile_pwrite(s->file, e, 8, s->reft_offset + i * 8);
}

static int grow_table(struct qcow2 *s, uint64_t min_entries);

/* Creates the refcount block for table index I inside the range it
 * covers, so that it counts itself: written and synced before the table
 * entry points at it. */
static int create_block(struct qcow2 *s, uint64_t i)
{
	uint64_t first = i << s->rb_bits, c = first;
	for (;; c++) {
		if (c - first > rb_mask(s))
			return -ENOSPC;
		bool f;
		int ret = cluster_free(s, c, &f);
		if (ret)
			return ret;
		if (f)
			break;
	}
	uint64_t off = c << s->cluster_bits;
	void *blk;
	qcow2_cache_drop(s->l2c, off);
	int ret = qcow2_cache_get_empty(s->rbc, off, &blk);
	if (ret)
		return ret;
	qcow2_rb_put(s, blk, c & rb_mask(s), 1);
	qcow2_cache_mark_dirty(s->rbc, blk);
	ret = qcow2_cache_write_one(s->rbc, blk);
	qcow2_cache_put(s->rbc, blk);
	if (!ret)
		ret = repair_mark(s, c, 1);
	if (!ret && !s->lazy)
		ret = bfile_sync(s->file);
	if (ret) {
		qcow2_cache_drop(s->rbc, off);
		return ret;
	}
	s->reft[i] = off;
	ret = write_table_entry(s, i);
	if (!ret && !s->lazy)
		ret = bfile_sync(s->file);
	if (ret)
		s->reft[i] = 0;
	return ret;
}

static int ensure_block(struct qcow2 *s, uint64_t i)
{
	if (i >= s->reft_size) {
		int ret = grow_table(s, i + 1);
		if (ret)
			return ret;
	}
	return block_at(s, i) ? 0 : create_block(s, i);
}

static int rc_change(struct qcow2 *s, uint64_t cluster, bool absolute, int64_t v)
{
	uint64_t i = cluster >> s->rb_bits;
	if (!block_at(s, i)) {
		if (!absolute && v < 0)
			return -EIO;
		if (absolute && v == 0)
			return 0;
		int ret = ensure_block(s, i);
		if (ret)
			return ret;
	}
	void *blk;
	int ret = qcow2_cache_get(s->rbc, block_at(s, i), &blk);
	if (ret)
		return ret;
	uint64_t old = qcow2_rb_get(s, blk, cluster & rb_mask(s));
	uint64_t nv = absolute ? (uint64_t)v : old + (uint64_t)v;
	if ((!absolute && v < 0 && old < (uint64_t)-v) || nv > s->refcount_max) {
		qcow2_cache_put(s->rbc, blk);
		return -ERANGE;
	}
	if (nv != old) {
		qcow2_rb_put(s, blk, cluster & rb_mask(s), nv);
		qcow2_cache_mark_dirty(s->rbc, blk);
		s->rb_unsynced = true;
		s->rb_changes++;
	}
	qcow2_cache_put(s->rbc, blk);
	if (nv == 0) {
		qcow2_cache_drop(s->l2c, cluster << s->cluster_bits);
		if (cluster < s->free_hint)
			s->free_hint = cluster;
	}
	return 0;
}

int qcow2_rc_add(struct qcow2 *s, uint64_t offset, uint64_t len, int64_t delta)
{
	if (!len)
		return 0;
	uint64_t first = offset >> s->cluster_bits;
	uint64_t last = (offset + len - 1) >> s->cluster_bits;
	for (uint64_t c = first; c <= last; c++) {
		int ret = rc_change(s, c, false, delta);
		if (ret)
			return ret;
	}
	return 0;
}

int qcow2_rc_set(struct qcow2 *s, uint64_t cluster, uint64_t value)
{
	return rc_change(s, cluster, true, (int64_t)value);
}

/* Finds N free contiguous clusters from the hint on; a range without a
 * refcount block gets one first, which may take a cluster of the run. */
static int find_run(struct qcow2 *s, uint64_t n, uint64_t *start)
{
	uint64_t run = s->free_hint ? s->free_hint : 1, count = 0;
	while (count < n) {
		uint64_t c = run + count;
		if (c >= (1ull << (56 - s->cluster_bits)))
			return -ENOSPC;
		uint64_t i = c >> s->rb_bits;
		if (!block_at(s, i)) {
			int ret = ensure_block(s, i);
			if (ret)
				return ret;
			continue;  /* recheck c: the new block may sit there */
		}
		bool f;
		int ret = cluster_free(s, c, &f);
		if (ret)
			return ret;
		if (f) {
			count++;
		} else {
			run = c + 1;
			count = 0;
		}
	}
	*start = run;
	return 0;
}

int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *offset)
{
	uint64_t start;
	int ret = find_run(s, n, &start);
	if (ret)
		return ret;
	for (uint64_t k = 0; k < n; k++) {
		ret = qcow2_rc_set(s, start + k, 1);
		if (ret) {
			while (k--)
				qcow2_rc_set(s, start + k, 0);
			return ret;
		}
	}
	ret = repair_mark(s, start, n);
	if (ret)
		return ret;
	if (start <= s->free_hint + 1)
		s->free_hint = start + n;
	*offset = start << s->cluster_bits;
	return 0;
}

int qcow2_alloc_bytes(struct qcow2 *s, uint64_t len, uint64_t *offset)
{
	uint64_t cm = qcow2_cmask(s);
	if (!len || len > s->cluster_size)
		return -EINVAL;
	uint64_t off = s->comp_next;
	uint64_t rc = 0;
	if (off && (off & cm) + len <= s->cluster_size) {
		int ret = qcow2_rc_get(s, off >> s->cluster_bits, &rc);
		if (ret)
			return ret;
	}
	if (rc > 0 && rc < s->refcount_max) {
		int ret = qcow2_rc_add(s, off, 1, 1);
		if (ret)
			return ret;
	} else {
		int ret = qcow2_alloc_clusters(s, 1, &off);
		if (ret)
			return ret;
	}
	*offset = off;
	s->comp_next = (off + len) & cm ? off + len : 0;
	return 0;
}

int qcow2_free_later(struct qcow2 *s, uint64_t offset, bool punch)
{
	if (s->npending == s->cap_pending) {
		size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
		uint64_t *p = realloc(s->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap_pending = cap;
	}
	s->pending[s->npending++] = (offset & ~qcow2_cmask(s)) | (punch ? 1 : 0);
	return 0;
}

int qcow2_apply_pending(struct qcow2 *s, size_t count)
{
	int first_err = 0;
	for (size_t k = 0; k < count && k < s->npending; k++) {
		uint64_t off = s->pending[k] & ~1ull;
		int ret = qcow2_rc_add(s, off, 1, -1);
		uint64_t rc = 1;
		if (!ret && (s->pending[k] & 1))
			ret = qcow2_rc_get(s, off >> s->cluster_bits, &rc);
		if (!ret && rc == 0) {
			int pr = bfile_punch(s->file, off, s->cluster_size);
			(void)pr;  /* space release is best effort */
		}
		if (ret && !first_err)
			first_err = ret;
	}
	if (count > s->npending)
		count = s->npending;
	memmove(s->pending, s->pending + count, (s->npending - count) * sizeof(*s->pending));
	s->npending -= count;
	s->pending_done += count;
	/* A freed cluster may be handed out again: stop packing into it. */
	s->comp_next = 0;
	return first_err;
}

int qcow2_rc_sync(struct qcow2 *s)
{
	if (s->lazy)
		return 0;
	int ret = qcow2_cache_write(s->rbc);
	if (ret)
		return ret;
	if (s->rb_unsynced) {
		ret = bfile_sync(s->file);
		if (ret)
			return ret;
		s->rb_unsynced = false;
	}
	return 0;
}

/* ---- refcount table growth ---------------------------------------------- */

/* Blocks needed for the new structures placed at cluster P: they count
 * themselves and the table, so iterate until the layout is stable. */
static void plan_growth(const struct qcow2 *s, uint64_t p, uint64_t *entries, uint64_t *nb, uint64_t *nt)
{
	uint64_t per_cluster = s->cluster_size / 8;
	*nb = 0;
	for (;;) {
		*nt = (*entries + per_cluster - 1) / per_cluster;
		uint64_t end = p + *nb + *nt;
		uint64_t need = ((end - 1) >> s->rb_bits) - (p >> s->rb_bits) + 1;
		if (((end - 1) >> s->rb_bits) >= *entries) {
			*entries = ((end - 1) >> s->rb_bits) + 1;
			continue;
		}
		if (need == *nb)
			break;
		*nb = need;
	}
	*entries = *nt * per_cluster;
}

static int write_new_blocks(struct qcow2 *s, uint64_t p, uint64_t nb, uint64_t nt, uint64_t *table)
{
	uint8_t *blk = bfile_alloc(s->file, s->cluster_size);
	if (!blk)
		return -ENOMEM;
	int ret = 0;
	uint64_t end = p + nb + nt;
	for (uint64_t k = 0; k < nb && !ret; k++) {
		uint64_t range = (p >> s->rb_bits) + k;
		uint64_t lo = range << s->rb_bits, hi = lo + (1ull << s->rb_bits);
		memset(blk, 0, s->cluster_size);
		for (uint64_t c = lo > p ? lo : p; c < hi && c < end; c++)
			qcow2_rb_put(s, blk, c - lo, 1);
		uint64_t off = (p + k) << s->cluster_bits;
		qcow2_cache_drop(s->rbc, off);
		qcow2_cache_drop(s->l2c, off);
		table[range] = off;
		ret = bfile_pwrite(s->file, blk, s->cluster_size, off);
	}
	free(blk);
	return ret;
}

/* Writes the new table (old entries plus the new blocks) after the blocks. */
static int write_new_table(struct qcow2 *s, uint64_t p, uint64_t nb, uint64_t nt, uint64_t entries,
			   uint64_t *table)
{
	uint8_t *raw = calloc(nt, s->cluster_size);
	if (!raw)
		return -ENOMEM;
	memcpy(table, s->reft, s->reft_size * sizeof(*table));
	int ret = write_new_blocks(s, p, nb, nt, table);
	if (!ret) {
		for (uint64_t k = 0; k < entries; k++)
			be64_put(raw + k * 8, table[k]);
		ret = bfile_pwrite(s->file, raw, nt * s->cluster_size, (p + nb) << s->cluster_bits);
	}
	free(raw);
	return ret ? ret : bfile_sync(s->file);
}

/* Points the header at the new table (one sector write, then synced). */
static int switch_table(struct qcow2 *s, uint64_t off, uint64_t nt)
{
	uint64_t old_off = s->reft_offset;
	uint32_t old_clusters = s->reft_clusters;
	s->reft_offset = off;
	s->reft_clusters = (uint32_t)nt;
	int ret = qcow2_header_write_fields(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret) {
		s->reft_offset = old_off;
		s->reft_clusters = old_clusters;
	}
	return ret;
}

static int free_old_table(struct qcow2 *s, uint64_t old_off, uint32_t old_clusters)
{
	int ret = 0;
	for (uint64_t k = 0; !ret && k < old_clusters; k++) {
		uint64_t c = (old_off >> s->cluster_bits) + k;
		if (s->repair_refs && c < s->repair_nrefs)
			s->repair_refs[c] = 0;  /* the repair pass zeroes its refcount */
		else if (!s->repair_refs)
			ret = qcow2_free_later(s, c << s->cluster_bits, false);
	}
	return ret;
}

/* The new blocks and table go past everything the old table covers (all
 * free there), laid out so that the new blocks count themselves too. */
static int grow_table(struct qcow2 *s, uint64_t min_entries)
{
	uint64_t entries = s->reft_size + s->reft_size / 2 + 1;
	if (entries < min_entries)
		entries = min_entries;
	int64_t flen = bfile_length(s->file);
	if (flen < 0)
		return (int)flen;
	uint64_t p = s->reft_size << s->rb_bits;
	uint64_t fend = qcow2_bytes_to_clusters(s, (uint64_t)flen);
	if (p < fend)
		p = fend;
	if (s->repair_refs && p < s->repair_nrefs)
		p = s->repair_nrefs;
	uint64_t nb, nt;
	plan_growth(s, p, &entries, &nb, &nt);
	if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES)
		return -EFBIG;
	uint64_t *table = calloc(entries, sizeof(*table));
	if (!table)
		return -ENOMEM;
	uint64_t old_off = s->reft_offset;
	uint32_t old_clusters = s->reft_clusters;
	int ret = write_new_table(s, p, nb, nt, entries, table);
	if (!ret)
		ret = switch_table(s, (p + nb) << s->cluster_bits, nt);
	if (ret) {
		free(table);
		return ret;
	}
	free(s->reft);
	s->reft = table;
	s->reft_size = entries;
	ret = repair_mark(s, p, nb + nt);
	return ret ? ret : free_old_table(s, old_off, old_clusters);
}
