/* The qcow2 driver: open, close and the small entry points; the rest lives
 * in the qcow2_*.c files named in qcow2.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

static bool qcow2_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && be32_get(buf) == QCOW2_MAGIC;
}

static void set_geometry(struct qcow2 *s)
{
	s->cluster_size = 1ull << s->cluster_bits;
	s->l2e_shift = s->extl2 ? 4 : 3;
	s->l2_bits = s->cluster_bits - s->l2e_shift;
	s->sc_bits = s->cluster_bits - 5;
	s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
	s->refcount_max = s->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << s->refcount_order)) - 1;
}

static int make_caches(struct qcow2 *s, struct error *err)
{
	uint64_t max_slots = (32ull << 20) >> s->cluster_bits;
	uint64_t want = qcow2_l1_needed(s, s->blk->size) + 4;
	if (want > max_slots)
		want = max_slots;
	if (want < 16)
		want = 16;
	if (s->blk->opt.l2_cache_bytes) {
		/* An explicit size (like QEMU's l2-cache-size), at least 4 tables. */
		want = s->blk->opt.l2_cache_bytes >> s->cluster_bits;
		if (want < 4)
			want = 4;
		if (want > max_slots)
			want = max_slots;
	}
	uint64_t rb = want / 4 < 16 ? 16 : want / 4;
	s->l2c = qcow2_cache_new(s, (unsigned)want, qcow2_rc_sync);
	s->rbc = qcow2_cache_new(s, (unsigned)rb, NULL);
	if (!s->l2c || !s->rbc)
		return error_set(err, "out of memory for the caches of '%s'", s->blk->path);
	return 0;
}

static void free_state(struct qcow2 *s)
{
	qcow2_cache_free(s->l2c);
	qcow2_cache_free(s->rbc);
	qcow2_snapshots_free(s);
	qcow2_header_free(s);
	free(s->l1);
	free(s->reft);
	free(s->pending);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->free_lock);
	free(s);
}

/* A dirty image (lazy refcounts, not closed cleanly) gets its refcounts
 * rebuilt before anything is allocated in it. */
static int repair_dirty(struct qcow2 *s, struct error *err)
{
	struct blk_check_result res = { 0 };
	struct error e;
	if (qcow2_check(s->blk, BLK_REPAIR_ALL, &res, &e) < 0)
		return error_set(err, "'%s' was not closed cleanly and its refcounts could not be repaired: %s",
				 s->blk->path, e.msg);
	if (res.corruptions)
		return error_set(err, "'%s' was not closed cleanly and has corruption that repair cannot fix; "
				 "try `vmdeck img check -r all`", s->blk->path);
	int ret = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, false);
	if (ret)
		return error_errno(err, -ret, "cannot clear the dirty bit of '%s'", s->blk->path);
	return 0;
}

static int open_writable(struct qcow2 *s, struct error *err)
{
	const char *p = s->blk->path;
	if (s->incompat & QCOW2_INCOMPAT_CORRUPT)
		return error_set(err, "'%s' is marked corrupt; repair it with `vmdeck img check -r all` "
				 "or open it read-only", p);
	if (s->has_bitmaps)
		return error_set(err, "'%s' has persistent dirty bitmaps, which vmdeck cannot keep up to date; "
				 "remove them (qemu-img bitmap --remove) or open it read-only", p);
	if (s->autoclear) {
		/* Bits we do not maintain must be cleared before we write. */
		s->autoclear = 0;
		int ret = qcow2_header_write_fields(s);
		if (!ret)
			ret = bfile_sync(s->file);
		if (ret)
			return error_errno(err, -ret, "cannot update the header of '%s'", p);
	}
	if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && repair_dirty(s, err) < 0)
		return -1;
	s->lazy = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
	return 0;
}

static int open_backing(struct qcow2 *s, struct error *err)
{
	struct blk *b = s->blk;
	if (!s->backing_file || b->opt.no_backing)
		return 0;
	enum blk_format fmt = BLK_FORMAT_AUTO;
	if (s->backing_fmt && blk_format_parse(s->backing_fmt, &fmt) < 0)
		return error_set(err, "'%s' names a backing file of format '%s', which vmdeck does not support",
				 b->path, s->backing_fmt);
	return blk_open_backing(b, s->backing_file, fmt, err);
}

static int qcow2_open(struct blk *b, struct error *err)
{
	struct qcow2 *s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, "out of memory opening '%s'", b->path);
	pthread_mutex_init(&s->lock, NULL);
	pthread_rwlock_init(&s->free_lock, NULL);
	s->blk = b;
	s->file = b->file;
	s->rw = !b->opt.read_only;
	b->state = s;
	int64_t flen = bfile_length(b->file);
	int ret = flen < 0 ? error_errno(err, (int)-flen, "cannot read the size of '%s'", b->path) : 0;
	if (!ret)
		ret = qcow2_header_read(s, err);
	if (!ret) {
		set_geometry(s);
		ret = qcow2_load_l1(s, (uint64_t)flen, err);
	}
	if (!ret)
		ret = qcow2_load_reftable(s, (uint64_t)flen, err);
	if (!ret)
		ret = qcow2_validate_tables(s, (uint64_t)flen, err);
	if (!ret)
		ret = qcow2_snapshots_read(s, err);
	if (!ret)
		ret = make_caches(s, err);
	if (!ret && s->rw)
		ret = open_writable(s, err);
	if (!ret)
		ret = open_backing(s, err);
	if (ret) {
		free_state(s);
		b->state = NULL;
		return -1;
	}
	return 0;
}

static int qcow2_close(struct blk *b)
{
	struct qcow2 *s = b->state;
	int ret = 0;
	if (s->rw) {
		pthread_mutex_lock(&s->lock);
		ret = qcow2_flush_locked(s);
		if (!ret && s->dirty_marked)
			ret = qcow2_header_set_incompat(s, QCOW2_INCOMPAT_DIRTY, false);
		pthread_mutex_unlock(&s->lock);
	}
	free_state(s);
	return ret;
}

static int qcow2_block_status(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *st)
{
	struct qcow2 *s = b->state;
	struct qcow2_extent ext;
	int ret = qcow2_map_locking(s, off, len, &ext);
	if (ret)
		return ret;
	*pnum = ext.len;
	switch (ext.type) {
	case QCOW2_NORMAL:
	case QCOW2_COMPRESSED: *st = BLK_STATUS_DATA | BLK_STATUS_ALLOCATED; break;
	case QCOW2_ZERO: *st = BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED; break;
	default: *st = 0; break;
	}
	return 0;
}

static int qcow2_get_info(struct blk *b, struct blk_info *info)
{
	struct qcow2 *s = b->state;
	info->cluster_size = (uint32_t)s->cluster_size;
	info->qcow2_version = (int)s->version;
	info->refcount_bits = 1u << s->refcount_order;
	info->lazy_refcounts = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
	info->extended_l2 = s->extl2;
	info->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;
	info->corrupt = s->incompat & QCOW2_INCOMPAT_CORRUPT;
	info->backing_file = s->backing_file;
	info->backing_format = s->backing_fmt;
	info->snapshot_count = s->nb_snaps;
	return 0;
}

static int qcow2_set_backing(struct blk *b, const char *file, enum blk_format fmt, struct error *err)
{
	struct qcow2 *s = b->state;
	const char *f = file && *file ? file : NULL;
	pthread_mutex_lock(&s->lock);
	int ret = qcow2_set_backing_name(s, f, fmt == BLK_FORMAT_AUTO ? NULL : blk_format_str(fmt));
	pthread_mutex_unlock(&s->lock);
	if (ret == -ENOSPC)
		return error_set(err, "the backing file name does not fit in the header of '%s'", b->path);
	if (ret)
		return error_errno(err, -ret, "cannot update the header of '%s'", b->path);
	return 0;
}

static int qcow2_make_empty(struct blk *b, struct error *err)
{
	struct qcow2 *s = b->state;
	pthread_mutex_lock(&s->lock);
	int ret = qcow2_clear_clusters(s, 0, qcow2_align_up(s, b->size), true, true);
	if (!ret)
		ret = qcow2_flush_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (ret)
		return error_errno(err, -ret, "cannot empty '%s'", b->path);
	return 0;
}

const struct blk_driver blk_qcow2_driver = {
	.name = "qcow2",
	.format = BLK_FORMAT_QCOW2,
	.probe = qcow2_probe,
	.open = qcow2_open,
	.close = qcow2_close,
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.block_status = qcow2_block_status,
	.write_compressed = qcow2_write_compressed,
	.truncate = qcow2_truncate,
	.get_info = qcow2_get_info,
	.create = qcow2_create,
	.snapshot_list = qcow2_snapshot_list,
	.snapshot_create = qcow2_snapshot_create,
	.snapshot_apply = qcow2_snapshot_apply,
	.snapshot_delete = qcow2_snapshot_delete,
	.check = qcow2_check,
	.set_backing = qcow2_set_backing,
	.make_empty = qcow2_make_empty,
};
