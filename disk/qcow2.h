/* qcow2 internals shared by the qcow2_*.c files.  The format is QEMU's
 * docs/interop/qcow2.rst; this file only names its pieces.
 *
 * Locking: s->lock guards every metadata structure (header fields, L1,
 * refcount table, both caches, snapshot list, pending frees).  Data I/O to
 * clusters that are already allocated runs without it, under the read side
 * of s->free_lock; clusters only become reusable (refcount 0) under the
 * write side, so an in-flight data access never lands in a cluster that was
 * freed and handed out again.  Lock order: s->lock, then s->free_lock.
 *
 * Crash ordering (refcounts are not lazy):
 *  - a refcount increase reaches the disk before any L2/L1 entry that
 *    references the cluster (the L2 cache's before-write hook syncs the
 *    refcount cache);
 *  - a new L2 table, refcount block or table is written and synced before the
 *    L1 entry, refcount table entry or header that points at it;
 *  - a refcount decrease is applied only after the entries that referenced
 *    the cluster are gone on disk (frees wait in s->pending until a flush).
 * So a crash can only leak clusters, never double-use one. */
#ifndef VMDECK_DISK_QCOW2_H
#define VMDECK_DISK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "disk/blk_int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)        /* QEMU's limits, so images */
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)   /* stay portable */
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOT_TABLE (64u << 20)
#define QCOW2_MAX_BACKING_NAME 1023

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURES 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L1_RESERVED 0x7f000000000001ffull
#define QCOW2_L2_RESERVED 0x3f000000000001feull
#define QCOW2_REFT_RESERVED 0x1ffull

/* What a guest range maps to. */
enum qcow2_type {
	QCOW2_UNALLOC,       /* backing file, or zeros without one */
	QCOW2_ZERO,          /* reads as zeros */
	QCOW2_NORMAL,        /* data at host offset */
	QCOW2_COMPRESSED,    /* one whole compressed cluster */
};

struct qcow2_extent {
	enum qcow2_type type;
	uint64_t host;       /* NORMAL: host offset of the first byte */
	uint64_t len;        /* bytes from the guest offset asked for */
	bool copied;         /* NORMAL: refcount is 1, writable in place */
	uint64_t l2e;        /* COMPRESSED: the raw L2 entry */
};

/* A header extension kept verbatim across header rewrites. */
struct qcow2_ext {
	uint32_t type;
	uint32_t len;
	uint8_t *data;
};

struct qcow2_snap {
	uint64_t l1_offset;
	uint32_t l1_size;
	char *id;
	char *name;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_ns;
	uint64_t vm_state_size;
	uint64_t disk_size;
	uint64_t icount;
	uint32_t extra_size;  /* as read; at least 24 when we write */
	uint8_t *extra;       /* bytes beyond the 24 we understand */
	uint32_t extra_unknown;
};

struct qcow2_cache;

struct qcow2 {
	struct blk *blk;
	struct bfile *file;
	bool rw;

	/* header */
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint32_t header_length;
	uint64_t incompat, compat, autoclear;
	uint32_t refcount_order;
	uint8_t *header_extra;          /* header bytes 104.. header_length, kept */
	char *backing_file;
	char *backing_fmt;
	uint64_t backing_offset;        /* where the name sits in cluster 0 */
	uint32_t backing_len;
	struct qcow2_ext *exts;         /* extensions we keep verbatim */
	size_t nexts;
	bool has_bitmaps;

	/* geometry */
	unsigned l2_bits;               /* log2 of entries per L2 table */
	unsigned l2e_shift;             /* log2 of an L2 entry's bytes: 3, or 4 with extended L2 */
	bool extl2;
	unsigned sc_bits;               /* log2 of the subcluster size */
	unsigned rb_bits;               /* log2 of refcounts per refcount block */
	uint64_t refcount_max;

	uint64_t *l1;                   /* host order, l1_size entries */
	uint32_t l1_size;
	uint64_t l1_offset;

	uint64_t *reft;                 /* host order */
	uint64_t reft_size;             /* entries */
	uint64_t reft_offset;
	uint32_t reft_clusters;

	struct qcow2_snap *snaps;
	uint32_t nb_snaps;
	uint64_t snap_offset;
	uint64_t snap_bytes;

	struct qcow2_cache *l2c, *rbc;

	uint64_t free_hint;             /* cluster index to start looking for free ones */
	uint64_t *pending;              /* host offsets to decrement after the next sync */
	size_t npending, cap_pending;
	uint64_t pending_done;          /* entries ever applied: pending[0] is number pending_done */
	uint64_t comp_next;             /* next free byte in a partly used compressed cluster */

	bool rb_unsynced;               /* refcount writes not yet synced */
	uint64_t rb_changes;            /* counts refcount changes, to tell if a sync covered them */
	bool lazy;                      /* lazy refcounts in effect */
	bool dirty_marked;              /* we set the dirty bit and must clear it */

	/* During check -r all: the true reference counts; allocation trusts them. */
	uint32_t *repair_refs;
	uint64_t repair_nrefs;

	pthread_mutex_t lock;
	pthread_rwlock_t free_lock;
};

static inline uint64_t qcow2_cmask(const struct qcow2 *s) { return s->cluster_size - 1; }
static inline uint64_t qcow2_align_up(const struct qcow2 *s, uint64_t x)
{
	return (x + s->cluster_size - 1) & ~qcow2_cmask(s);
}
static inline uint64_t qcow2_l2_entries(const struct qcow2 *s) { return 1ull << s->l2_bits; }
/* Guest bytes one L2 table maps. */
static inline uint64_t qcow2_l2_span(const struct qcow2 *s) { return 1ull << (s->cluster_bits + s->l2_bits); }
static inline uint64_t qcow2_l1_needed(const struct qcow2 *s, uint64_t size)
{
	return (size + qcow2_l2_span(s) - 1) >> (s->cluster_bits + s->l2_bits);
}
static inline uint64_t qcow2_bytes_to_clusters(const struct qcow2 *s, uint64_t bytes)
{
	return (bytes + s->cluster_size - 1) >> s->cluster_bits;
}

/* qcow2_header.c */
int qcow2_header_read(struct qcow2 *s, struct error *err);
/* Rewrites the fixed header fields only (one sector: atomic in practice). */
int qcow2_header_write_fields(struct qcow2 *s);
/* Rewrites the whole first cluster: header, extensions, backing name. */
int qcow2_header_write_all(struct qcow2 *s);
void qcow2_header_free(struct qcow2 *s);
/* Sets or clears incompatible feature bits in the header, then syncs. */
int qcow2_header_set_incompat(struct qcow2 *s, uint64_t bits, bool on);
int qcow2_set_backing_name(struct qcow2 *s, const char *file, const char *fmt);

/* qcow2_open.c: load and validate the in-memory tables. */
int qcow2_load_l1(struct qcow2 *s, uint64_t flen, struct error *err);
int qcow2_load_reftable(struct qcow2 *s, uint64_t flen, struct error *err);
int qcow2_validate_tables(struct qcow2 *s, uint64_t flen, struct error *err);

/* qcow2_cache.c: write-back caches of L2 tables and refcount blocks. */
struct qcow2_cache *qcow2_cache_new(struct qcow2 *s, unsigned slots, int (*before_write)(struct qcow2 *));
void qcow2_cache_free(struct qcow2_cache *c);
/* Pins the table at OFFSET, reading it if needed. */
int qcow2_cache_get(struct qcow2_cache *c, uint64_t offset, void **table);
/* Pins a slot for a new table at OFFSET without reading (contents zeroed). */
int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t offset, void **table);
void qcow2_cache_put(struct qcow2_cache *c, void *table);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, void *table);
/* Writes every dirty table (no sync). */
int qcow2_cache_write(struct qcow2_cache *c);
/* Writes one table now if dirty (no sync). */
int qcow2_cache_write_one(struct qcow2_cache *c, void *table);
bool qcow2_cache_dirty(const struct qcow2_cache *c);
/* Forgets a table whose cluster was freed (its contents are dropped). */
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t offset);
bool qcow2_cache_holds(const struct qcow2_cache *c, uint64_t offset);
unsigned qcow2_cache_slots(const struct qcow2_cache *c);

/* qcow2_refcount.c */
int qcow2_rc_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
/* Adds DELTA to the refcounts of the clusters covering [OFFSET, OFFSET+LEN);
 * -ERANGE on overflow or underflow, with nothing changed for that cluster. */
int qcow2_rc_add(struct qcow2 *s, uint64_t offset, uint64_t len, int64_t delta);
int qcow2_rc_set(struct qcow2 *s, uint64_t cluster, uint64_t value);
/* N contiguous free clusters, refcount 1 each. */
int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *offset);
/* LEN bytes (< one cluster) inside one cluster, for compressed data. */
int qcow2_alloc_bytes(struct qcow2 *s, uint64_t len, uint64_t *offset);
/* Queues a refcount decrement of the cluster at OFFSET for after the next
 * sync; PUNCH also releases the host space once it is free. */
int qcow2_free_later(struct qcow2 *s, uint64_t offset, bool punch);
/* Writes dirty refcount blocks and syncs if any refcount change is unsynced;
 * the L2 cache's before-write hook. */
int qcow2_rc_sync(struct qcow2 *s);
/* Applies queued decrements (caller holds free_lock for writing). */
int qcow2_apply_pending(struct qcow2 *s, size_t count);
uint64_t qcow2_rb_get(const struct qcow2 *s, const void *block, uint64_t index);
void qcow2_rb_put(const struct qcow2 *s, void *block, uint64_t index, uint64_t value);

/* qcow2_map.c */
int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t max, struct qcow2_extent *ext);
/* The same, taking s->lock for it: for a look that nothing follows up under
 * the lock (the answer may be stale once it returns). */
int qcow2_map_locking(struct qcow2 *s, uint64_t off, uint64_t max, struct qcow2_extent *ext);
/* Classifies a standard-format L2 entry; -EIO when it is malformed. */
int qcow2_l2e_classify(const struct qcow2 *s, uint64_t e, enum qcow2_type *type, uint64_t *host);
uint64_t qcow2_l2e_get(const struct qcow2 *s, const void *table, uint64_t idx);
uint64_t qcow2_l2e_bitmap(const struct qcow2 *s, const void *table, uint64_t idx);
void qcow2_l2e_set(const struct qcow2 *s, void *table, uint64_t idx, uint64_t e, uint64_t bitmap);
/* Compressed entry: host offset and stored byte count. */
void qcow2_compressed_span(const struct qcow2 *s, uint64_t e, uint64_t *host, uint64_t *len);
/* Pins the L2 table for L1 index IDX for writing: allocated and exclusive
 * (COPIED), allocating or copying it as needed. */
int qcow2_l2_for_write(struct qcow2 *s, uint64_t l1_idx, void **table);
/* Writes L1 entry IDX to disk. */
int qcow2_l1_write_entry(struct qcow2 *s, uint64_t idx);
/* True when [OFF, OFF+LEN) overlaps the header, L1, refcount table,
 * snapshot table or a cached table: a data write there would corrupt it. */
bool qcow2_overlaps_metadata(const struct qcow2 *s, uint64_t off, uint64_t len);
/* Releases what an old L2 entry pointed at, after the next sync. */
int qcow2_free_entry_later(struct qcow2 *s, uint64_t e, bool punch);

/* qcow2_io.c */
int qcow2_preadv(struct blk *b, const struct iovec *iov, int cnt, uint64_t off);
int qcow2_pwritev(struct blk *b, const struct iovec *iov, int cnt, uint64_t off);
/* Reads guest bytes through the mapping described by EXT (caller holds
 * s->lock or otherwise keeps the clusters alive). */
int qcow2_read_extent(struct qcow2 *s, const struct qcow2_extent *ext, uint64_t guest_off,
		      const struct iovec *iov, int cnt);
int qcow2_mark_dirty_if_lazy(struct qcow2 *s);

/* qcow2_zero.c */
int qcow2_discard(struct blk *b, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
/* Sets whole clusters [OFF, OFF+LEN) to unallocated (FULL) or to zero/
 * backing as discard does; caller holds s->lock. */
int qcow2_clear_clusters(struct qcow2 *s, uint64_t off, uint64_t len, bool full, bool punch);

/* qcow2_compress.c */
int qcow2_decompress_cluster(struct qcow2 *s, uint64_t l2e, uint8_t *out);
int qcow2_write_compressed(struct blk *b, uint64_t off, const void *buf, size_t len);

/* qcow2_flush.c */
/* Everything in one go with s->lock held throughout (metadata operations). */
int qcow2_flush_locked(struct qcow2 *s);
int qcow2_flush(struct blk *b);

/* qcow2_snapshot.c */
int qcow2_snapshots_read(struct qcow2 *s, struct error *err);
void qcow2_snapshots_free(struct qcow2 *s);
int qcow2_snapshot_list(struct blk *b, struct blk_snapshot **list, size_t *n, struct error *err);
int qcow2_snapshot_create(struct blk *b, const char *name, uint64_t vm_clock_ns, struct error *err);
int qcow2_snapshot_apply(struct blk *b, const char *name, struct error *err);
int qcow2_snapshot_delete(struct blk *b, const char *name, struct error *err);

/* qcow2_tree.c: walks over whole L1 trees. */
/* Adds DELTA to the refcount of every L2 table and data cluster reachable
 * from the L1 table L1 (host order, N entries). */
int qcow2_tree_refcount(struct qcow2 *s, const uint64_t *l1, uint32_t n, int delta);
/* Recomputes the COPIED flags of the active L1 and its L2 tables. */
int qcow2_tree_fix_copied(struct qcow2 *s);
/* Reads an on-disk L1 table into host order. */
int qcow2_l1_load(struct qcow2 *s, uint64_t offset, uint32_t n, uint64_t **out);

/* qcow2_check.c */
int qcow2_check(struct blk *b, enum blk_repair repair, struct blk_check_result *res,
		struct error *err);

/* qcow2_create.c */
int qcow2_create(const char *path, const struct blk_create_options *opt, struct error *err);

/* qcow2_resize.c */
int qcow2_truncate(struct blk *b, uint64_t size, bool allow_shrink, struct error *err);
/* Makes the active L1 at least N entries, moving it if needed. */
int qcow2_grow_l1(struct qcow2 *s, uint64_t n);

#endif
