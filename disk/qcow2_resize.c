/* Growing and shrinking the virtual disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

int qcow2_grow_l1(struct qcow2 *s, uint64_t n)
{
	if (n <= s->l1_size)
		return 0;
	if (n * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	uint64_t bytes = qcow2_align_up(s, n * 8);
	uint64_t *l1 = calloc(bytes / 8, sizeof(*l1));
	uint8_t *buf = calloc(1, bytes);
	int ret = l1 && buf ? 0 : -ENOMEM;
	uint64_t off = 0;
	if (!ret) {
		memcpy(l1, s->l1, (size_t)s->l1_size * 8);
		for (uint64_t i = 0; i < n; i++)
			be64_put(buf + i * 8, l1[i]);
		ret = qcow2_alloc_clusters(s, bytes >> s->cluster_bits, &off);
	}
	if (!ret)
		ret = bfile_pwrite(s->file, buf, bytes, off);
	if (!ret)
		ret = qcow2_rc_sync(s);
	if (!ret)
		ret = bfile_sync(s->file);
	free(buf);
	uint64_t old_off = s->l1_offset;
	uint32_t old_n = s->l1_size;
	if (!ret) {
		s->l1_offset = off;
		s->l1_size = (uint32_t)n;
		ret = qcow2_header_write_fields(s);
		if (!ret)
			ret = bfile_sync(s->file);
		if (ret) {
			s->l1_offset = old_off;
			s->l1_size = old_n;
		}
	}
	if (ret) {
		free(l1);
		return ret;
	}
	free(s->l1);
	s->l1 = l1;
	return old_n ? qcow2_rc_add(s, old_off, (uint64_t)old_n * 8, -1) : 0;
}

static int set_size(struct qcow2 *s, uint64_t size)
{
	uint64_t old = s->blk->size;
	s->blk->size = size;
	int ret = qcow2_header_write_fields(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		s->blk->size = old;
	return ret;
}

static int resize_locked(struct qcow2 *s, uint64_t size)
{
	uint64_t old = s->blk->size;
	int ret = qcow2_flush_locked(s);
	if (ret)
		return ret;
	if (size < old) {
		ret = qcow2_clear_clusters(s, qcow2_align_up(s, size), qcow2_align_up(s, old) - qcow2_align_up(s, size),
					   true, true);
		if (!ret)
			ret = qcow2_flush_locked(s);
		return ret ? ret : set_size(s, size);
	}
	ret = qcow2_grow_l1(s, qcow2_l1_needed(s, size));
	if (!ret)
		ret = set_size(s, size);
	return ret;
}

/* Bytes between an unaligned old end and the new size could hold stale
 * data from before a shrink: they must read as zeros after growing. */
static int zero_old_tail(struct blk *b, uint64_t old, uint64_t size)
{
	struct qcow2 *s = b->state;
	uint64_t end = qcow2_align_up(s, old);
	if (end > size)
		end = size;
	if (end <= old)
		return 0;
	return qcow2_write_zeroes(b, old, end - old, false);
}

int qcow2_truncate(struct blk *b, uint64_t size, bool allow_shrink, struct error *err)
{
	struct qcow2 *s = b->state;
	if (size % 512)
		return error_set(err, "cannot resize '%s': qcow2 sizes must be multiples of 512 bytes", b->path);
	if (size > (1ull << 62))
		return error_set(err, "cannot resize '%s': the size is too large", b->path);
	pthread_mutex_lock(&s->lock);
	int ret = 0;
	uint64_t old = b->size;
	if (size < b->size && s->nb_snaps)
		ret = error_set(err, "cannot shrink '%s': it has internal snapshots", b->path);
	else if ((ret = resize_locked(s, size)) == -EFBIG)
		ret = error_set(err, "cannot resize '%s': the L1 table would exceed 32 MiB; use larger clusters",
				b->path);
	else if (ret)
		ret = error_errno(err, -ret, "cannot resize '%s'", b->path);
	pthread_mutex_unlock(&s->lock);
	if (!ret && size > old && (ret = zero_old_tail(b, old, size)))
		return error_errno(err, -ret, "cannot resize '%s'", b->path);
	return ret;
}
