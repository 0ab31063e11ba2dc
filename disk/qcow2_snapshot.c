/* Internal snapshots: the snapshot table, and create/apply/delete, each
 * ordered so that a crash leaves leaked clusters at worst. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/be.h"
#include "disk/qcow2.h"

#define SNAP_FIXED 40
#define SNAP_EXTRA_KNOWN 24   /* vm_state_size (64-bit), disk_size, icount */
#define SNAP_MAX_EXTRA 1024
#define SNAP_MAX_STRING 65535

static void snap_free(struct qcow2_snap *sn)
{
	free(sn->id);
	free(sn->name);
	free(sn->extra);
}

void qcow2_snapshots_free(struct qcow2 *s)
{
	for (uint32_t i = 0; s->snaps && i < s->nb_snaps; i++)
		snap_free(&s->snaps[i]);
	free(s->snaps);
	s->snaps = NULL;
}

static void parse_extra(struct qcow2 *s, struct qcow2_snap *sn, const uint8_t *x, uint32_t n)
{
	sn->disk_size = s->blk->size;
	sn->icount = UINT64_MAX;
	if (n >= 8)
		sn->vm_state_size = be64_get(x);
	if (n >= 16)
		sn->disk_size = be64_get(x + 8);
	if (n >= 24)
		sn->icount = be64_get(x + 16);
}

/* Reads LEN bytes at *POS of the table, bounded by the file and the size limit. */
static int table_read(struct qcow2 *s, uint64_t *pos, void *buf, uint64_t len, uint64_t flen)
{
	if (*pos + len > flen || *pos + len - s->snap_offset > QCOW2_MAX_SNAPSHOT_TABLE)
		return -EIO;
	int ret = bfile_pread(s->file, buf, len, *pos);
	*pos += len;
	return ret;
}

static int read_one(struct qcow2 *s, struct qcow2_snap *sn, uint64_t *pos, uint64_t flen)
{
	uint8_t h[SNAP_FIXED];
	int ret = table_read(s, pos, h, SNAP_FIXED, flen);
	if (ret)
		return ret;
	sn->l1_offset = be64_get(h);
	sn->l1_size = be32_get(h + 8);
	uint16_t id_len = be16_get(h + 12), name_len = be16_get(h + 14);
	sn->date_sec = be32_get(h + 16);
	sn->date_nsec = be32_get(h + 20);
	sn->vm_clock_ns = be64_get(h + 24);
	sn->vm_state_size = be32_get(h + 32);
	sn->extra_size = be32_get(h + 36);
	if (sn->extra_size > SNAP_MAX_EXTRA)
		return -EIO;
	uint8_t x[SNAP_MAX_EXTRA];
	sn->id = calloc(1, id_len + 1u);
	sn->name = calloc(1, name_len + 1u);
	if (!sn->id || !sn->name)
		return -ENOMEM;
	ret = table_read(s, pos, x, sn->extra_size, flen);
	if (!ret)
		ret = table_read(s, pos, sn->id, id_len, flen);
	if (!ret)
		ret = table_read(s, pos, sn->name, name_len, flen);
	if (ret)
		return ret;
	parse_extra(s, sn, x, sn->extra_size);
	if (sn->extra_size > SNAP_EXTRA_KNOWN) {
		sn->extra_unknown = sn->extra_size - SNAP_EXTRA_KNOWN;
		sn->extra = malloc(sn->extra_unknown);
		if (!sn->extra)
			return -ENOMEM;
		memcpy(sn->extra, x + SNAP_EXTRA_KNOWN, sn->extra_unknown);
	}
	*pos = (*pos + 7) & ~7ull;
	return 0;
}

static int check_snap(const struct qcow2 *s, const struct qcow2_snap *sn, uint64_t flen)
{
	uint64_t bytes = (uint64_t)sn->l1_size * 8;
	if (bytes > QCOW2_MAX_L1_BYTES || (sn->l1_offset & qcow2_cmask(s)))
		return -1;
	if (bytes && (sn->l1_offset < s->cluster_size || sn->l1_offset + bytes > flen))
		return -1;
	if (sn->disk_size > (1ull << 62))
		return -1;
	return 0;
}

int qcow2_snapshots_read(struct qcow2 *s, struct error *err)
{
	const char *p = s->blk->path;
	if (!s->nb_snaps)
		return 0;
	int64_t flen = bfile_length(s->file);
	if (flen < 0)
		return error_errno(err, (int)-flen, "cannot read the size of '%s'", p);
	if (s->nb_snaps > QCOW2_MAX_SNAPSHOTS)
		return error_set(err, "'%s' is corrupt: it claims %" PRIu32 " snapshots", p, s->nb_snaps);
	if ((s->snap_offset & qcow2_cmask(s)) || s->snap_offset < s->cluster_size ||
	    s->snap_offset >= (uint64_t)flen)
		return error_set(err, "'%s' is corrupt: the snapshot table is outside the file", p);
	s->snaps = calloc(s->nb_snaps, sizeof(*s->snaps));
	if (!s->snaps)
		return error_set(err, "out of memory opening '%s'", p);
	uint64_t pos = s->snap_offset;
	for (uint32_t i = 0; i < s->nb_snaps; i++) {
		int ret = read_one(s, &s->snaps[i], &pos, (uint64_t)flen);
		if (ret == -ENOMEM)
			return error_set(err, "out of memory opening '%s'", p);
		if (ret)
			return error_set(err, "'%s' is corrupt or truncated: snapshot %" PRIu32 " of its table "
					 "cannot be read", p, i);
		if (!s->snaps[i].id[0])
			return error_set(err, "'%s' is corrupt: snapshot %" PRIu32 " of its table has no id", p, i);
		if (check_snap(s, &s->snaps[i], (uint64_t)flen) < 0)
			return error_set(err, "'%s' is corrupt: snapshot '%s' has an invalid L1 table", p,
					 s->snaps[i].name);
	}
	s->snap_bytes = pos - s->snap_offset;
	if (s->snap_offset < s->l1_offset + (uint64_t)s->l1_size * 8 &&
	    s->l1_offset < s->snap_offset + s->snap_bytes && s->l1_size)
		return error_set(err, "'%s' is corrupt: the snapshot table overlaps the L1 table", p);
	if (s->snap_offset < s->reft_offset + ((uint64_t)s->reft_clusters << s->cluster_bits) &&
	    s->reft_offset < s->snap_offset + s->snap_bytes)
		return error_set(err, "'%s' is corrupt: the snapshot table overlaps the refcount table", p);
	return 0;
}

static uint64_t entry_size(const struct qcow2_snap *sn)
{
	uint64_t n = SNAP_FIXED + SNAP_EXTRA_KNOWN + sn->extra_unknown + strlen(sn->id) + strlen(sn->name);
	return (n + 7) & ~7ull;
}

static uint64_t encode(const struct qcow2_snap *sn, uint8_t *p)
{
	size_t il = strlen(sn->id), nl = strlen(sn->name);
	uint32_t extra = SNAP_EXTRA_KNOWN + sn->extra_unknown;
	memset(p, 0, entry_size(sn));
	be64_put(p, sn->l1_offset);
	be32_put(p + 8, sn->l1_size);
	be16_put(p + 12, (uint16_t)il);
	be16_put(p + 14, (uint16_t)nl);
	be32_put(p + 16, sn->date_sec);
	be32_put(p + 20, sn->date_nsec);
	be64_put(p + 24, sn->vm_clock_ns);
	be32_put(p + 32, sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
	be32_put(p + 36, extra);
	be64_put(p + 40, sn->vm_state_size);
	be64_put(p + 48, sn->disk_size);
	be64_put(p + 56, sn->icount);
	uint8_t *q = p + SNAP_FIXED + SNAP_EXTRA_KNOWN;
	if (sn->extra_unknown)
		memcpy(q, sn->extra, sn->extra_unknown);
	q += sn->extra_unknown;
	memcpy(q, sn->id, il);
	memcpy(q + il, sn->name, nl);
	return entry_size(sn);
}

/* Writes SNAPS as a new table in new clusters, switches the header to it
 * (synced), and frees the old one. */
static int write_table(struct qcow2 *s, struct qcow2_snap *snaps, uint32_t n)
{
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < n; i++)
		bytes += entry_size(&snaps[i]);
	uint64_t off = 0;
	int ret = 0;
	if (bytes) {
		uint8_t *buf = calloc(1, qcow2_align_up(s, bytes));
		if (!buf)
			return -ENOMEM;
		uint64_t pos = 0;
		for (uint32_t i = 0; i < n; i++)
			pos += encode(&snaps[i], buf + pos);
		ret = qcow2_alloc_clusters(s, qcow2_bytes_to_clusters(s, bytes), &off);
		if (!ret)
			ret = bfile_pwrite(s->file, buf, qcow2_align_up(s, bytes), off);
		if (!ret)
			ret = qcow2_rc_sync(s);
		if (!ret)
			ret = bfile_sync(s->file);
		free(buf);
		if (ret)
			return ret;
	}
	uint64_t old_off = s->snap_offset, old_bytes = s->nb_snaps ? s->snap_bytes : 0;
	uint32_t old_n = s->nb_snaps;
	s->snap_offset = off;
	s->nb_snaps = n;
	ret = qcow2_header_write_fields(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret) {
		s->snap_offset = old_off;
		s->nb_snaps = old_n;
		return ret;
	}
	s->snap_bytes = bytes;
	return old_bytes ? qcow2_rc_add(s, old_off, old_bytes, -1) : 0;
}

static struct qcow2_snap *find(struct qcow2 *s, const char *key)
{
	for (uint32_t i = 0; i < s->nb_snaps; i++)
		if (!strcmp(s->snaps[i].id, key))
			return &s->snaps[i];
	for (uint32_t i = 0; i < s->nb_snaps; i++)
		if (!strcmp(s->snaps[i].name, key))
			return &s->snaps[i];
	return NULL;
}

int qcow2_snapshot_list(struct blk *b, struct blk_snapshot **list, size_t *n, struct error *err)
{
	struct qcow2 *s = b->state;
	pthread_mutex_lock(&s->lock);
	struct blk_snapshot *l = calloc(s->nb_snaps ? s->nb_snaps : 1, sizeof(*l));
	int ret = l ? 0 : -1;
	for (uint32_t i = 0; l && i < s->nb_snaps; i++) {
		const struct qcow2_snap *sn = &s->snaps[i];
		l[i] = (struct blk_snapshot){ .id = strdup(sn->id), .name = strdup(sn->name),
			.date_sec = sn->date_sec, .date_nsec = sn->date_nsec, .vm_clock_ns = sn->vm_clock_ns,
			.vm_state_size = sn->vm_state_size, .disk_size = sn->disk_size };
		if (!l[i].id || !l[i].name)
			ret = -1;
	}
	size_t count = s->nb_snaps;
	pthread_mutex_unlock(&s->lock);
	if (ret) {
		if (l)
			blk_snapshot_list_free(l, count);
		return error_set(err, "out of memory listing the snapshots of '%s'", b->path);
	}
	*list = l;
	*n = count;
	return 0;
}

static char *next_id(const struct qcow2 *s)
{
	unsigned long max = 0;
	for (uint32_t i = 0; i < s->nb_snaps; i++) {
		char *end;
		unsigned long v = strtoul(s->snaps[i].id, &end, 10);
		if (!*end && v > max)
			max = v;
	}
	char buf[24];
	snprintf(buf, sizeof(buf), "%lu", max + 1);
	return strdup(buf);
}

/* Copies the active L1 to new clusters for a snapshot to own. */
static int copy_active_l1(struct qcow2 *s, uint64_t *off)
{
	*off = 0;
	uint64_t bytes = (uint64_t)s->l1_size * 8;
	if (!bytes)
		return 0;
	uint8_t *buf = calloc(1, qcow2_align_up(s, bytes));
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->l1_size; i++)
		be64_put(buf + i * 8, s->l1[i]);
	int ret = qcow2_alloc_clusters(s, qcow2_bytes_to_clusters(s, bytes), off);
	if (!ret)
		ret = bfile_pwrite(s->file, buf, qcow2_align_up(s, bytes), *off);
	free(buf);
	return ret;
}

static int add_snapshot(struct qcow2 *s, const char *name, uint64_t vm_clock_ns, uint64_t l1_off)
{
	struct qcow2_snap *n = calloc(s->nb_snaps + 1u, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (s->nb_snaps)
		memcpy(n, s->snaps, s->nb_snaps * sizeof(*n));
	struct qcow2_snap *sn = &n[s->nb_snaps];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sn = (struct qcow2_snap){ .l1_offset = l1_off, .l1_size = s->l1_size, .id = next_id(s),
		.name = strdup(name), .date_sec = (uint32_t)ts.tv_sec, .date_nsec = (uint32_t)ts.tv_nsec,
		.vm_clock_ns = vm_clock_ns, .disk_size = s->blk->size, .icount = UINT64_MAX };
	int ret = sn->id && sn->name ? write_table(s, n, s->nb_snaps + 1) : -ENOMEM;
	if (ret) {
		snap_free(sn);
		free(n);
		return ret;
	}
	free(s->snaps);
	s->snaps = n;
	return 0;
}

/* The end of a change to the snapshot trees: the COPIED flags right again
 * and everything on disk. */
static int finish_change(struct qcow2 *s)
{
	int ret = qcow2_tree_fix_copied(s);
	return ret ? ret : qcow2_flush_locked(s);
}

/* A refcount walk that stopped half way (overflow) raised some counts:
 * those are leaks, but the active COPIED flags must follow them, or the
 * image would look corrupt. */
static int settle_after_failure(struct qcow2 *s, int err)
{
	finish_change(s);
	return err;
}

static int create_locked(struct qcow2 *s, const char *name, uint64_t vm_clock_ns)
{
	uint64_t l1_off;
	int ret = qcow2_flush_locked(s);
	if (!ret)
		ret = copy_active_l1(s, &l1_off);
	/* References first (durable), then the flags that depend on them. */
	if (!ret && (ret = qcow2_tree_refcount(s, s->l1, s->l1_size, 1)))
		return settle_after_failure(s, ret);
	if (!ret)
		ret = qcow2_rc_sync(s);
	if (!ret)
		ret = finish_change(s);
	if (!ret)
		ret = add_snapshot(s, name, vm_clock_ns, l1_off);
	if (!ret)
		ret = qcow2_flush_locked(s);
	return ret;
}

static int snap_error(struct blk *b, int ret, const char *what, const char *name, struct error *err)
{
	if (ret == -ERANGE)
		return error_set(err, "cannot %s snapshot '%s' of '%s': a refcount would overflow "
				 "(refcount_bits too small)", what, name, b->path);
	return error_errno(err, -ret, "cannot %s snapshot '%s' of '%s'", what, name, b->path);
}

int qcow2_snapshot_create(struct blk *b, const char *name, uint64_t vm_clock_ns, struct error *err)
{
	struct qcow2 *s = b->state;
	if (!*name || strlen(name) > SNAP_MAX_STRING)
		return error_set(err, "a snapshot name must have 1 to %d bytes", SNAP_MAX_STRING);
	pthread_mutex_lock(&s->lock);
	int ret = 0;
	if (find(s, name))
		ret = error_set(err, "'%s' already has a snapshot named '%s'", b->path, name);
	else if (s->nb_snaps >= QCOW2_MAX_SNAPSHOTS)
		ret = error_set(err, "'%s' already has the maximum of %d snapshots", b->path, QCOW2_MAX_SNAPSHOTS);
	else if ((ret = create_locked(s, name, vm_clock_ns)))
		ret = snap_error(b, ret, "create", name, err);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Installs L1 (N entries, host order) as the active table in new clusters;
 * the header switches to it in one sector write. */
static int install_l1(struct qcow2 *s, uint64_t *l1, uint32_t n, uint64_t size)
{
	uint64_t bytes = (uint64_t)n * 8, off = 0;
	uint8_t *buf = calloc(1, qcow2_align_up(s, bytes ? bytes : 1));
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		be64_put(buf + i * 8, l1[i]);
	int ret = bytes ? qcow2_alloc_clusters(s, qcow2_bytes_to_clusters(s, bytes), &off) : 0;
	if (!ret && bytes)
		ret = bfile_pwrite(s->file, buf, qcow2_align_up(s, bytes), off);
	free(buf);
	if (!ret)
		ret = qcow2_rc_sync(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		return ret;
	uint64_t old_off = s->l1_offset, old_size = s->blk->size;
	uint32_t old_n = s->l1_size;
	s->l1_offset = off;
	s->l1_size = n;
	s->blk->size = size;
	ret = qcow2_header_write_fields(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret) {
		s->l1_offset = old_off;
		s->l1_size = old_n;
		s->blk->size = old_size;
		return ret;
	}
	uint64_t *old = s->l1;
	s->l1 = l1;
	ret = qcow2_tree_refcount(s, old, old_n, -1);
	if (!ret && old_n)
		ret = qcow2_rc_add(s, old_off, (uint64_t)old_n * 8, -1);
	free(old);
	return ret;
}

static int apply_locked(struct qcow2 *s, const struct qcow2_snap *sn)
{
	uint64_t *l1;
	uint32_t n = sn->l1_size;
	uint64_t need = qcow2_l1_needed(s, sn->disk_size);
	int ret = qcow2_flush_locked(s);
	if (!ret)
		ret = qcow2_l1_load(s, sn->l1_offset, sn->l1_size, &l1);
	if (ret)
		return ret;
	if (need > n) {
		uint64_t *g = realloc(l1, need * sizeof(*l1));
		if (!g) {
			free(l1);
			return -ENOMEM;
		}
		memset(g + n, 0, (need - n) * sizeof(*g));
		l1 = g;
		n = (uint32_t)need;
	}
	ret = qcow2_tree_refcount(s, l1, n, 1);
	if (ret) {
		free(l1);
		return settle_after_failure(s, ret);
	}
	ret = install_l1(s, l1, n, sn->disk_size);
	return ret ? ret : finish_change(s);
}

static int delete_locked(struct qcow2 *s, const struct qcow2_snap *sn)
{
	uint32_t idx = (uint32_t)(sn - s->snaps);
	struct qcow2_snap gone = *sn;
	int ret = qcow2_flush_locked(s);
	if (ret)
		return ret;
	struct qcow2_snap *n = calloc(s->nb_snaps, sizeof(*n));
	if (!n)
		return -ENOMEM;
	memcpy(n, s->snaps, idx * sizeof(*n));
	memcpy(n + idx, s->snaps + idx + 1, (s->nb_snaps - idx - 1) * sizeof(*n));
	ret = write_table(s, n, s->nb_snaps - 1);
	if (ret) {
		free(n);
		return ret;
	}
	free(s->snaps);
	s->snaps = n;
	/* The table no longer names it: its references can go. */
	uint64_t *l1;
	ret = qcow2_l1_load(s, gone.l1_offset, gone.l1_size, &l1);
	if (!ret) {
		ret = qcow2_tree_refcount(s, l1, gone.l1_size, -1);
		free(l1);
	}
	if (!ret && gone.l1_size)
		ret = qcow2_rc_add(s, gone.l1_offset, (uint64_t)gone.l1_size * 8, -1);
	snap_free(&gone);
	return ret ? ret : finish_change(s);
}

/* Runs OP on the snapshot NAME (a name or an id) with the lock held; WHAT
 * names the operation in the error. */
static int on_snapshot(struct blk *b, const char *name, const char *what,
		       int (*op)(struct qcow2 *s, const struct qcow2_snap *sn), struct error *err)
{
	struct qcow2 *s = b->state;
	pthread_mutex_lock(&s->lock);
	const struct qcow2_snap *sn = find(s, name);
	int ret = 0;
	if (!sn)
		ret = error_set(err, "'%s' has no snapshot '%s'", b->path, name);
	else if ((ret = op(s, sn)))
		ret = snap_error(b, ret, what, name, err);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int qcow2_snapshot_apply(struct blk *b, const char *name, struct error *err)
{
	return on_snapshot(b, name, "apply", apply_locked, err);
}

int qcow2_snapshot_delete(struct blk *b, const char *name, struct error *err)
{
	return on_snapshot(b, name, "delete", delete_locked, err);
}
