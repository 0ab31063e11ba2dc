/* The block layer: disk images (raw, qcow2) behind one synchronous API.
 *
 * Contract for the VMM:
 *  - blk_preadv/blk_pwritev/blk_flush/blk_discard/blk_write_zeroes may be
 *    called from several threads at once on the same struct blk.  Data I/O
 *    to allocated qcow2 clusters runs in parallel; allocation and other
 *    metadata updates are serialised inside the driver.
 *  - They return 0 or -errno (host ENOSPC/EIO come back as -ENOSPC/-EIO, a
 *    corrupt qcow2 table as -EIO); nothing aborts and the image stays
 *    consistent.  Data written before a blk_flush that returned 0 survives a
 *    crash or power cut.
 *  - Offsets and lengths are in bytes and need no alignment; a request past
 *    blk_size() fails with -EINVAL, a write to a read-only image with -EROFS.
 *  - Snapshot, truncate, check, commit and rebase calls must not run while
 *    data I/O is in flight on the same image (the caller quiesces).
 *  - Open errors are one sentence naming the file, in struct error.
 */
#ifndef VMDECK_DISK_BLK_H
#define VMDECK_DISK_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "src/error.h"

enum blk_format { BLK_FORMAT_AUTO, BLK_FORMAT_RAW, BLK_FORMAT_QCOW2 };
/* writeback: page cache, flush syncs; none: O_DIRECT; unsafe: page cache and
 * flushes never reach the disk (qemu-img convert's default; crash safety is
 * given up for speed). */
enum blk_cache_mode { BLK_CACHE_WRITEBACK, BLK_CACHE_NONE, BLK_CACHE_UNSAFE };

/* Parses "writeback"/"none"/"unsafe"; -1 when unknown. */
int blk_cache_parse(const char *name, enum blk_cache_mode *out);

struct blk_options {
	enum blk_format format;      /* BLK_FORMAT_AUTO probes the file */
	bool read_only;
	enum blk_cache_mode cache;
	bool force_share;            /* read-only: skip the lock (qemu-img -U) */
	bool no_backing;             /* leave the backing chain closed */
	bool backing_rw;             /* open the first backing file writable (commit) */
	uint64_t l2_cache_bytes;     /* qcow2 L2 cache; 0: enough for the whole disk, up to 32 MiB */
};

struct blk;

/* Parses a --disk argument "FILE[,format=raw|qcow2][,readonly=on|off]
 * [,cache=writeback|none|unsafe]" into a malloc'ed *PATH and O (fields not
 * named keep their values). */
int blk_spec_parse(const char *spec, char **path, struct blk_options *o, struct error *err);

/* Parses "raw"/"qcow2" (NULL or "" is AUTO); -1 when unknown. */
int blk_format_parse(const char *name, enum blk_format *out);
const char *blk_format_str(enum blk_format f);

struct blk *blk_open(const char *path, const struct blk_options *opt, struct error *err);
/* Flushes and closes, backing chain included; returns 0 or the -errno of a
 * final flush that failed (the image is consistent either way). */
int blk_close(struct blk *b);

int blk_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset);
int blk_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset);
int blk_pread(struct blk *b, void *buf, size_t len, uint64_t offset);
int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t offset);
int blk_flush(struct blk *b);
/* Advisory: the range may read as zeros or as the backing file afterwards. */
int blk_discard(struct blk *b, uint64_t offset, uint64_t len);
/* The range reads as zeros afterwards; MAY_UNMAP lets the image free space. */
int blk_write_zeroes(struct blk *b, uint64_t offset, uint64_t len, bool may_unmap);
uint64_t blk_size(const struct blk *b);

const char *blk_path(const struct blk *b);
enum blk_format blk_format(const struct blk *b);
bool blk_is_read_only(const struct blk *b);
struct blk *blk_backing(const struct blk *b);

/* What this layer says about [offset, offset+len): BLK_STATUS_ALLOCATED when
 * this image (not its backing file) defines the bytes, with DATA or ZERO.
 * *PNUM is how many bytes share the answer (at least 1 unless len is 0). */
enum { BLK_STATUS_DATA = 1, BLK_STATUS_ZERO = 2, BLK_STATUS_ALLOCATED = 4 };
int blk_block_status(struct blk *b, uint64_t offset, uint64_t len, uint64_t *pnum, unsigned *status);

/* Writes one whole cluster compressed (qcow2 only; the cluster must not be
 * allocated yet).  Used by convert -c. */
int blk_write_compressed(struct blk *b, uint64_t offset, const void *buf, size_t len);
/* The unit of allocation: the cluster size, 512 for raw. */
uint32_t blk_cluster_size(const struct blk *b);

int blk_truncate(struct blk *b, uint64_t size, bool allow_shrink, struct error *err);

struct blk_info {
	enum blk_format format;
	uint64_t virtual_size;
	uint64_t disk_size;          /* bytes the host file occupies */
	uint32_t cluster_size;       /* 0 for raw */
	int qcow2_version;
	unsigned refcount_bits;
	bool lazy_refcounts;
	bool extended_l2;
	bool dirty;
	bool corrupt;
	const char *backing_file;    /* as stored in the image; NULL if none */
	const char *backing_format;
	size_t snapshot_count;
};
int blk_get_info(struct blk *b, struct blk_info *info);

/* ---- creation ---------------------------------------------------------- */
struct blk_create_options {
	enum blk_format format;
	uint64_t size;               /* 0 with a backing file: the backing file's size */
	const char *backing_file;
	enum blk_format backing_format;
	uint32_t cluster_size;       /* 0: 64 KiB */
	unsigned refcount_bits;      /* 0: 16 */
	int compat;                  /* 2 (qemu "0.10") or 3 (default "1.1") */
	bool lazy_refcounts;
	bool extended_l2;
};
int blk_create(const char *path, const struct blk_create_options *opt, struct error *err);

/* ---- snapshots (qcow2 internal snapshots) ------------------------------ */
struct blk_snapshot {
	char *id;
	char *name;
	int64_t date_sec;
	uint32_t date_nsec;
	uint64_t vm_clock_ns;        /* guest run time when taken */
	uint64_t vm_state_size;      /* saved VM state bytes; 0 for disk-only */
	uint64_t disk_size;          /* virtual disk size when taken */
};
int blk_snapshot_list(struct blk *b, struct blk_snapshot **list, size_t *count, struct error *err);
void blk_snapshot_list_free(struct blk_snapshot *list, size_t count);
int blk_snapshot_create(struct blk *b, const char *name, uint64_t vm_clock_ns, struct error *err);
/* NAME_OR_ID matches a snapshot's id first, then its name. */
int blk_snapshot_apply(struct blk *b, const char *name_or_id, struct error *err);
int blk_snapshot_delete(struct blk *b, const char *name_or_id, struct error *err);

/* ---- consistency check ------------------------------------------------- */
enum blk_repair { BLK_REPAIR_NONE, BLK_REPAIR_LEAKS, BLK_REPAIR_ALL };
struct blk_check_result {
	uint64_t corruptions, leaks, check_errors;
	uint64_t corruptions_fixed, leaks_fixed;
	uint64_t allocated_clusters, total_clusters;
	uint64_t compressed_clusters, fragmented_clusters;
	uint64_t image_end_offset;
	bool supported;              /* false for formats without metadata (raw) */
	/* Called with one line per problem found, without a newline. */
	void (*report)(void *ctx, const char *line);
	void *report_ctx;
};
int blk_check(struct blk *b, enum blk_repair repair, struct blk_check_result *res, struct error *err);

/* ---- chain operations ---------------------------------------------------- */
/* Rewrites the backing file reference only (rebase -u). */
int blk_set_backing(struct blk *b, const char *backing_file, enum blk_format backing_format,
		    struct error *err);
/* Makes every cluster of B unallocated so reads fall through to the backing
 * file (the last step of commit). */
int blk_make_empty(struct blk *b, struct error *err);

#endif
