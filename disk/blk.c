/* The generic half of the block layer: open with probing, locking and
 * backing-chain checks, then argument checks before the driver. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "disk/blk_int.h"
#include "disk/blk_lock.h"
#include "disk/iov.h"

static const struct blk_driver *const drivers[] = { &blk_qcow2_driver, &blk_raw_driver };

int blk_format_parse(const char *name, enum blk_format *out)
{
	if (!name || !*name)
		*out = BLK_FORMAT_AUTO;
	else if (!strcmp(name, "raw"))
		*out = BLK_FORMAT_RAW;
	else if (!strcmp(name, "qcow2"))
		*out = BLK_FORMAT_QCOW2;
	else
		return -1;
	return 0;
}

int blk_cache_parse(const char *name, enum blk_cache_mode *out)
{
	if (!strcmp(name, "writeback"))
		*out = BLK_CACHE_WRITEBACK;
	else if (!strcmp(name, "none"))
		*out = BLK_CACHE_NONE;
	else if (!strcmp(name, "unsafe"))
		*out = BLK_CACHE_UNSAFE;
	else
		return -1;
	return 0;
}

const char *blk_format_str(enum blk_format f)
{
	switch (f) {
	case BLK_FORMAT_RAW: return "raw";
	case BLK_FORMAT_QCOW2: return "qcow2";
	default: return "auto";
	}
}

static const struct blk_driver *driver_for(enum blk_format f)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->format == f)
			return drivers[i];
	return NULL;
}

static const struct blk_driver *probe(struct bfile *f)
{
	uint8_t buf[512];
	if (bfile_pread(f, buf, sizeof(buf), 0) < 0)
		memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i]->probe && drivers[i]->probe(buf, sizeof(buf)))
			return drivers[i];
	return &blk_raw_driver;
}

static int check_chain(const struct blk_chain *up, const struct stat *st, const char *path,
		       struct error *err)
{
	for (const struct blk_chain *c = up; c; c = c->up)
		if (c->dev == st->st_dev && c->ino == st->st_ino)
			return error_set(err, "backing file loop: '%s' is already in its own backing chain",
					 path);
	if (up && up->depth + 1 >= BLK_MAX_CHAIN)
		return error_set(err, "backing chain of '%s' is deeper than %d images", path,
				 BLK_MAX_CHAIN);
	return 0;
}

/* QEMU's defaults: a writer holds read+write+resize and lets others only
 * read; a reader lets others read but not write or resize. */
static int take_lock(struct bfile *f, const struct blk_options *opt, struct error *err)
{
	if (opt->force_share && opt->read_only)
		return 0;
	unsigned perm = BLK_PERM_CONSISTENT_READ;
	if (!opt->read_only)
		perm |= BLK_PERM_WRITE | BLK_PERM_RESIZE;
	unsigned shared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED;
	return blk_lock_acquire(f->fd, f->path, perm, shared, err);
}

static struct blk *open_chain(const char *path, const struct blk_options *opt,
			      const struct blk_chain *up, struct error *err)
{
	if (opt->force_share && !opt->read_only) {
		error_set(err, "cannot open '%s' for writing with force-share", path);
		return NULL;
	}
	unsigned flags = (opt->read_only ? 0 : BFILE_RW) | (opt->cache == BLK_CACHE_NONE ? BFILE_DIRECT : 0) |
			 (opt->cache == BLK_CACHE_UNSAFE ? BFILE_NOSYNC : 0);
	struct bfile *f;
	if (bfile_open(path, flags, &f, err) < 0)
		return NULL;
	struct stat st;
	if (fstat(f->fd, &st) < 0 || check_chain(up, &st, path, err) < 0 || take_lock(f, opt, err) < 0) {
		bfile_close(f);
		return NULL;
	}
	const struct blk_driver *drv = opt->format == BLK_FORMAT_AUTO ? probe(f) : driver_for(opt->format);
	struct blk *b = calloc(1, sizeof(*b));
	if (b)
		b->path = strdup(path);
	if (!b || !b->path || !drv) {
		error_set(err, "out of memory opening '%s'", path);
		bfile_close(f);
		if (b)
			free(b->path);
		free(b);
		return NULL;
	}
	b->drv = drv;
	b->file = f;
	b->opt = *opt;
	b->opt.format = drv->format;
	b->self = (struct blk_chain){ .dev = st.st_dev, .ino = st.st_ino, .up = up,
				      .depth = up ? up->depth + 1 : 0 };
	b->chain = &b->self;
	if (drv->open(b, err) < 0) {
		bfile_close(f);
		free(b->path);
		free(b);
		return NULL;
	}
	b->chain = NULL;
	return b;
}

struct blk *blk_open(const char *path, const struct blk_options *opt, struct error *err)
{
	struct blk_options def = { 0 };
	return open_chain(path, opt ? opt : &def, NULL, err);
}

char *blk_backing_path(const char *image_path, const char *name)
{
	const char *slash = strrchr(image_path, '/');
	if (name[0] == '/' || !slash)
		return strdup(name);
	size_t dir = (size_t)(slash - image_path) + 1;
	size_t n = strlen(name);
	char *p = malloc(dir + n + 1);
	if (!p)
		return NULL;
	memcpy(p, image_path, dir);
	memcpy(p + dir, name, n + 1);
	return p;
}

int blk_open_backing(struct blk *b, const char *name, enum blk_format fmt, struct error *err)
{
	char *path = blk_backing_path(b->path, name);
	if (!path)
		return error_set(err, "out of memory opening the backing file of '%s'", b->path);
	struct blk_options o = {
		.format = fmt,
		.read_only = !b->opt.backing_rw,
		.cache = b->opt.cache,
		.force_share = b->opt.force_share,
		.l2_cache_bytes = b->opt.l2_cache_bytes,
	};
	struct error inner;
	b->backing = open_chain(path, &o, b->chain, &inner);
	free(path);
	if (!b->backing) {
		/* The innermost sentence names the file at fault; keep it. */
		*err = inner;
		return -1;
	}
	return 0;
}

int blk_close(struct blk *b)
{
	if (!b)
		return 0;
	int ret = b->drv->close(b);
	int bret = blk_close(b->backing);
	bfile_close(b->file);
	free(b->path);
	free(b);
	return ret ? ret : bret;
}

static int check_range(const struct blk *b, uint64_t off, uint64_t len)
{
	if (off > b->size || len > b->size - off)
		return -EINVAL;
	return 0;
}

static int check_write(const struct blk *b, uint64_t off, uint64_t len)
{
	if (b->opt.read_only)
		return -EROFS;
	return check_range(b, off, len);
}

int blk_preadv(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	size_t len = iov_size(iov, iovcnt);
	int ret = check_range(b, offset, len);
	if (ret || !len)
		return ret;
	return b->drv->preadv(b, iov, iovcnt, offset);
}

int blk_pwritev(struct blk *b, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	size_t len = iov_size(iov, iovcnt);
	int ret = check_write(b, offset, len);
	if (ret || !len)
		return ret;
	return b->drv->pwritev(b, iov, iovcnt, offset);
}

int blk_pread(struct blk *b, void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { buf, len };
	return blk_preadv(b, &v, 1, offset);
}

int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t offset)
{
	struct iovec v = { (void *)buf, len };
	return blk_pwritev(b, &v, 1, offset);
}

int blk_flush(struct blk *b)
{
	if (b->opt.read_only)
		return 0;
	return b->drv->flush(b);
}

int blk_discard(struct blk *b, uint64_t offset, uint64_t len)
{
	int ret = check_write(b, offset, len);
	if (ret || !len)
		return ret;
	return b->drv->discard(b, offset, len);
}

int blk_write_zeroes(struct blk *b, uint64_t offset, uint64_t len, bool may_unmap)
{
	int ret = check_write(b, offset, len);
	if (ret || !len)
		return ret;
	return b->drv->write_zeroes(b, offset, len, may_unmap);
}

uint64_t blk_size(const struct blk *b)
{
	return b->size;
}

const char *blk_path(const struct blk *b)
{
	return b->path;
}

enum blk_format blk_format(const struct blk *b)
{
	return b->drv->format;
}

bool blk_is_read_only(const struct blk *b)
{
	return b->opt.read_only;
}

struct blk *blk_backing(const struct blk *b)
{
	return b->backing;
}

int blk_block_status(struct blk *b, uint64_t offset, uint64_t len, uint64_t *pnum, unsigned *status)
{
	int ret = check_range(b, offset, len);
	if (ret)
		return ret;
	if (!len) {
		*pnum = 0;
		*status = 0;
		return 0;
	}
	return b->drv->block_status(b, offset, len, pnum, status);
}

int blk_write_compressed(struct blk *b, uint64_t offset, const void *buf, size_t len)
{
	int ret = check_write(b, offset, len);
	if (ret)
		return ret;
	if (!b->drv->write_compressed)
		return -ENOTSUP;
	return b->drv->write_compressed(b, offset, buf, len);
}

uint32_t blk_cluster_size(const struct blk *b)
{
	struct blk_info info = { 0 };
	if (b->drv->get_info((struct blk *)b, &info) < 0 || !info.cluster_size)
		return 512;
	return info.cluster_size;
}

int blk_truncate(struct blk *b, uint64_t size, bool allow_shrink, struct error *err)
{
	if (b->opt.read_only)
		return error_set(err, "cannot resize '%s': it is open read-only", b->path);
	if (size < b->size && !allow_shrink)
		return error_set(err, "shrinking '%s' would lose data; use --shrink to allow it", b->path);
	return b->drv->truncate(b, size, allow_shrink, err);
}

int blk_get_info(struct blk *b, struct blk_info *info)
{
	memset(info, 0, sizeof(*info));
	info->format = b->drv->format;
	info->virtual_size = b->size;
	struct stat st;
	if (fstat(b->file->fd, &st) == 0)
		info->disk_size = (uint64_t)st.st_blocks * 512;
	return b->drv->get_info(b, info);
}

int blk_create_file(const char *path, struct bfile **out, struct error *err)
{
	struct bfile *f;
	if (bfile_open(path, BFILE_RW | BFILE_CREATE, &f, err) < 0)
		return -1;
	struct blk_options rw = { 0 };
	if (take_lock(f, &rw, err) < 0) {
		bfile_close(f);
		return -1;
	}
	int ret = bfile_truncate(f, 0);
	if (ret) {
		bfile_close(f);
		return error_errno(err, -ret, "cannot create '%s'", path);
	}
	*out = f;
	return 0;
}

/* An overlay created without a size takes its backing file's. */
static int backing_size(const char *path, const struct blk_create_options *opt, uint64_t *size,
			struct error *err)
{
	char *bpath = blk_backing_path(path, opt->backing_file);
	if (!bpath)
		return error_set(err, "out of memory creating '%s'", path);
	struct blk_options o = { .format = opt->backing_format, .read_only = true, .force_share = true };
	struct error inner;
	struct blk *b = blk_open(bpath, &o, &inner);
	free(bpath);
	if (!b)
		return error_set(err, "cannot create '%s': %s", path, inner.msg);
	*size = blk_size(b);
	blk_close(b);
	return 0;
}

int blk_create(const char *path, const struct blk_create_options *opt, struct error *err)
{
	const struct blk_driver *drv = driver_for(opt->format == BLK_FORMAT_AUTO ? BLK_FORMAT_RAW : opt->format);
	if (!drv || !drv->create)
		return error_set(err, "cannot create '%s': unknown format", path);
	struct blk_create_options o = *opt;
	if (o.backing_file && !o.size && backing_size(path, &o, &o.size, err) < 0)
		return -1;
	return drv->create(path, &o, err);
}

static int no_snapshots(const struct blk *b, struct error *err)
{
	return error_set(err, "'%s' is a %s image, which has no internal snapshots", b->path,
			 b->drv->name);
}

int blk_snapshot_list(struct blk *b, struct blk_snapshot **list, size_t *count, struct error *err)
{
	*list = NULL;
	*count = 0;
	if (!b->drv->snapshot_list)
		return no_snapshots(b, err);
	return b->drv->snapshot_list(b, list, count, err);
}

void blk_snapshot_list_free(struct blk_snapshot *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(list[i].id);
		free(list[i].name);
	}
	free(list);
}

static int snapshot_writable(struct blk *b, struct error *err)
{
	if (!b->drv->snapshot_create)
		return no_snapshots(b, err);
	if (b->opt.read_only)
		return error_set(err, "cannot change the snapshots of '%s': it is open read-only", b->path);
	return 0;
}

int blk_snapshot_create(struct blk *b, const char *name, uint64_t vm_clock_ns, struct error *err)
{
	if (snapshot_writable(b, err) < 0)
		return -1;
	return b->drv->snapshot_create(b, name, vm_clock_ns, err);
}

int blk_snapshot_apply(struct blk *b, const char *name_or_id, struct error *err)
{
	if (snapshot_writable(b, err) < 0)
		return -1;
	return b->drv->snapshot_apply(b, name_or_id, err);
}

int blk_snapshot_delete(struct blk *b, const char *name_or_id, struct error *err)
{
	if (snapshot_writable(b, err) < 0)
		return -1;
	return b->drv->snapshot_delete(b, name_or_id, err);
}

int blk_check(struct blk *b, enum blk_repair repair, struct blk_check_result *res, struct error *err)
{
	void (*report)(void *, const char *) = res->report;
	void *ctx = res->report_ctx;
	memset(res, 0, sizeof(*res));
	res->report = report;
	res->report_ctx = ctx;
	if (!b->drv->check)
		return 0;
	if (repair != BLK_REPAIR_NONE && b->opt.read_only)
		return error_set(err, "cannot repair '%s': it is open read-only", b->path);
	res->supported = true;
	return b->drv->check(b, repair, res, err);
}

int blk_set_backing(struct blk *b, const char *backing_file, enum blk_format backing_format,
		    struct error *err)
{
	if (!b->drv->set_backing)
		return error_set(err, "'%s' is a %s image, which cannot have a backing file", b->path,
				 b->drv->name);
	if (b->opt.read_only)
		return error_set(err, "cannot change the backing file of '%s': it is open read-only", b->path);
	return b->drv->set_backing(b, backing_file, backing_format, err);
}

int blk_make_empty(struct blk *b, struct error *err)
{
	if (!b->drv->make_empty)
		return error_set(err, "'%s' is a %s image, which cannot be emptied", b->path, b->drv->name);
	if (b->opt.read_only)
		return error_set(err, "cannot empty '%s': it is open read-only", b->path);
	return b->drv->make_empty(b, err);
}
