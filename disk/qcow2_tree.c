/* Walks over whole L1 trees: snapshot refcounting and COPIED flags. */
#include <errno.h>
#include <stdlib.h>

#include "disk/be.h"
#include "disk/qcow2.h"

int qcow2_l1_load(struct qcow2 *s, uint64_t offset, uint32_t n, uint64_t **out)
{
	*out = NULL;
	if ((uint64_t)n * 8 > QCOW2_MAX_L1_BYTES || (offset & qcow2_cmask(s)) || (n && offset < s->cluster_size))
		return -EIO;
	int64_t flen = bfile_length(s->file);
	if (flen < 0)
		return (int)flen;
	if (n && offset + (uint64_t)n * 8 > (uint64_t)flen)
		return -EIO;
	uint64_t *l1 = calloc(n ? n : 1, sizeof(*l1));
	if (!l1)
		return -ENOMEM;
	int ret = n ? bfile_pread(s->file, l1, (size_t)n * 8, offset) : 0;
	if (ret) {
		free(l1);
		return ret;
	}
	for (uint32_t i = 0; i < n; i++)
		l1[i] = be64_get(&l1[i]);
	*out = l1;
	return 0;
}

/* The host clusters an L2 entry owns, as one byte range (0 length if none). */
static void entry_span(const struct qcow2 *s, uint64_t e, uint64_t *host, uint64_t *len)
{
	enum qcow2_type type;
	*len = 0;
	if (qcow2_l2e_classify(s, e, &type, host) < 0)
		return;
	if (type == QCOW2_COMPRESSED)
		qcow2_compressed_span(s, e, host, len);
	else if (*host)
		*len = s->cluster_size;
}

static int l2_refcount(struct qcow2 *s, uint64_t l2off, int delta)
{
	void *t;
	int ret = qcow2_cache_get(s->l2c, l2off, &t);
	if (ret)
		return ret;
	for (uint64_t j = 0; j < qcow2_l2_entries(s) && !ret; j++) {
		uint64_t host, len;
		entry_span(s, qcow2_l2e_get(s, t, j), &host, &len);
		ret = qcow2_rc_add(s, host, len, delta);
	}
	qcow2_cache_put(s->l2c, t);
	return ret;
}

int qcow2_tree_refcount(struct qcow2 *s, const uint64_t *l1, uint32_t n, int delta)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = l1[i] & QCOW2_OFFSET_MASK;
		if (!off)
			continue;
		/* Contents first: a table whose count drops to 0 leaves the cache. */
		int ret = l2_refcount(s, off, delta);
		if (!ret)
			ret = qcow2_rc_add(s, off, 1, delta);
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t with_copied(uint64_t e, bool copied)
{
	return copied ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED;
}

static int fix_l2_copied(struct qcow2 *s, uint64_t l2off)
{
	void *t;
	int ret = qcow2_cache_get(s->l2c, l2off, &t);
	if (ret)
		return ret;
	bool changed = false;
	for (uint64_t j = 0; j < qcow2_l2_entries(s) && !ret; j++) {
		uint64_t e = qcow2_l2e_get(s, t, j), host, rc;
		enum qcow2_type type;
		if (qcow2_l2e_classify(s, e, &type, &host) < 0 || !host || type == QCOW2_COMPRESSED)
			continue;
		ret = qcow2_rc_get(s, host >> s->cluster_bits, &rc);
		uint64_t ne = with_copied(e, rc == 1);
		if (!ret && ne != e) {
			qcow2_l2e_set(s, t, j, ne, qcow2_l2e_bitmap(s, t, j));
			changed = true;
		}
	}
	if (changed)
		qcow2_cache_mark_dirty(s->l2c, t);
	qcow2_cache_put(s->l2c, t);
	return ret;
}

int qcow2_tree_fix_copied(struct qcow2 *s)
{
	for (uint32_t i = 0; i < s->l1_size; i++) {
		uint64_t off = s->l1[i] & QCOW2_OFFSET_MASK, rc;
		if (!off)
			continue;
		int ret = qcow2_rc_get(s, off >> s->cluster_bits, &rc);
		if (!ret)
			ret = fix_l2_copied(s, off);
		if (ret)
			return ret;
		uint64_t ne = with_copied(s->l1[i], rc == 1);
		if (ne != s->l1[i]) {
			s->l1[i] = ne;
			ret = qcow2_l1_write_entry(s, i);
			if (ret)
				return ret;
		}
	}
	return 0;
}
