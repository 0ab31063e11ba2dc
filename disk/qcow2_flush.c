/* Flush: refcounts, then L2 tables, then one sync that makes data and
 * metadata durable together; only then are queued frees applied. */
#include "disk/qcow2.h"

/* Writes both caches (refcounts first: the L2 cache's hook syncs them). */
static int write_caches(struct qcow2 *s)
{
	int ret = qcow2_cache_write(s->rbc);
	return ret ? ret : qcow2_cache_write(s->l2c);
}

/* Applies the frees queued before entry number UPTO, which the sync that
 * just completed made safe; later ones wait for the next flush. */
static int release_frees(struct qcow2 *s, uint64_t upto)
{
	if (upto <= s->pending_done)
		return 0;
	pthread_rwlock_wrlock(&s->free_lock);
	int ret = qcow2_apply_pending(s, (size_t)(upto - s->pending_done));
	pthread_rwlock_unlock(&s->free_lock);
	return ret ? ret : qcow2_cache_write(s->rbc);
}

int qcow2_flush_locked(struct qcow2 *s)
{
	int ret = write_caches(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		return ret;
	s->rb_unsynced = false;
	return release_frees(s, s->pending_done + s->npending);
}

/* The sync itself runs without s->lock, so that guest I/O continues while
 * the host file system commits. */
int qcow2_flush(struct blk *b)
{
	struct qcow2 *s = b->state;
	pthread_mutex_lock(&s->lock);
	int ret = write_caches(s);
	uint64_t upto = s->pending_done + s->npending, changes = s->rb_changes;
	pthread_mutex_unlock(&s->lock);
	if (!ret)
		ret = bfile_sync(s->file);
	pthread_mutex_lock(&s->lock);
	if (!ret && s->rb_changes == changes)
		s->rb_unsynced = false;
	if (!ret)
		ret = release_frees(s, upto);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
