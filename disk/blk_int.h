/* Inside the block layer: the driver vtable and struct blk. */
#ifndef VMDECK_DISK_BLK_INT_H
#define VMDECK_DISK_BLK_INT_H

#include <sys/types.h>

#include "disk/bfile.h"
#include "disk/blk.h"

/* The files already open below an image, for backing-loop detection. */
struct blk_chain {
	dev_t dev;
	ino_t ino;
	const struct blk_chain *up;
	unsigned depth;
};

#define BLK_MAX_CHAIN 1000

struct blk_driver {
	const char *name;
	enum blk_format format;
	bool (*probe)(const uint8_t *buf, size_t len);
	int (*open)(struct blk *b, struct error *err);
	/* Final flush and teardown; returns the flush result. */
	int (*close)(struct blk *b);
	int (*preadv)(struct blk *b, const struct iovec *iov, int cnt, uint64_t off);
	int (*pwritev)(struct blk *b, const struct iovec *iov, int cnt, uint64_t off);
	int (*flush)(struct blk *b);
	int (*discard)(struct blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
	int (*block_status)(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *st);
	int (*write_compressed)(struct blk *b, uint64_t off, const void *buf, size_t len);
	int (*truncate)(struct blk *b, uint64_t size, bool allow_shrink, struct error *err);
	int (*get_info)(struct blk *b, struct blk_info *info);
	int (*create)(const char *path, const struct blk_create_options *opt, struct error *err);
	int (*snapshot_list)(struct blk *b, struct blk_snapshot **list, size_t *n, struct error *err);
	int (*snapshot_create)(struct blk *b, const char *name, uint64_t vm_clock_ns, struct error *err);
	int (*snapshot_apply)(struct blk *b, const char *name, struct error *err);
	int (*snapshot_delete)(struct blk *b, const char *name, struct error *err);
	int (*check)(struct blk *b, enum blk_repair repair, struct blk_check_result *res,
		     struct error *err);
	int (*set_backing)(struct blk *b, const char *file, enum blk_format fmt, struct error *err);
	int (*make_empty)(struct blk *b, struct error *err);
};

struct blk {
	const struct blk_driver *drv;
	void *state;                 /* the driver's */
	struct bfile *file;
	char *path;
	struct blk_options opt;
	struct blk *backing;
	uint64_t size;               /* virtual size, kept by the driver */
	const struct blk_chain *chain;  /* valid during open only */
	struct blk_chain self;
};

extern const struct blk_driver blk_raw_driver;
extern const struct blk_driver blk_qcow2_driver;

/* Opens the backing file NAME of B (relative names are relative to B's
 * directory) read-only, with loop and depth checks. */
int blk_open_backing(struct blk *b, const char *name, enum blk_format fmt, struct error *err);

/* Creates or empties PATH for a new image, holding the writer's lock so
 * that an image in use elsewhere is never truncated. */
int blk_create_file(const char *path, struct bfile **out, struct error *err);

/* Joins a backing file name to the directory of the image that names it;
 * returns a malloc'ed path or NULL. */
char *blk_backing_path(const char *image_path, const char *name);

#endif
