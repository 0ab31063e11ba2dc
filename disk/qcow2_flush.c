/* Flush: refcounts, then L2 tables, then one sync that makes data and
 * metadata durable together; only then are queued frees applied. */
#include "disk/qcow2.h"

int qcow2_flush_locked(struct qcow2 *s)
{
	int ret = qcow2_cache_write(s->rbc);
	if (!ret)
		ret = qcow2_cache_write(s->l2c);   /* syncs refcounts first */
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		return ret;
	s->rb_unsynced = false;
	if (s->npending) {
		/* Every entry that referenced these clusters is on disk now. */
		pthread_rwlock_wrlock(&s->free_lock);
		ret = qcow2_apply_pending(s, s->npending);
		pthread_rwlock_unlock(&s->free_lock);
		if (!ret)
			ret = qcow2_cache_write(s->rbc);
	}
	return ret;
}

int qcow2_flush(struct blk *b)
{
	struct qcow2 *s = b->state;
	pthread_mutex_lock(&s->lock);
	int ret = qcow2_flush_locked(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
