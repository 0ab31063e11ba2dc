/* Shared helpers for the block-layer tests: scratch directories, shell
 * commands (qemu-img, qemu-io), data patterns and comparisons. */
#ifndef VMDECK_TESTS_DISK_UTIL_H
#define VMDECK_TESTS_DISK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/blk.h"

/* A fresh directory under $TMPDIR (or /tmp); dt_rmtree removes it. */
char *dt_mkdtemp(void);
void dt_rmtree(const char *dir);
/* DIR/NAME in a malloc'ed string. */
char *dt_join(const char *dir, const char *name);

/* The block tests' fixture: a scratch directory and the path of an image
 * named IMG in it (no path when IMG is NULL); NULL when the directory
 * cannot be made.  dt_fx_free removes the directory with all in it. */
struct dt_fx {
	char *dir, *img;
};
struct dt_fx *dt_fx_new(const char *img);
void dt_fx_free(struct dt_fx *f);

/* Runs a shell command; returns its exit status, or -1 if it died. */
int dt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, returning its standard output (malloc'ed, NUL-terminated). */
char *dt_sh_out(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Deterministic pseudo-random bytes. */
void dt_pattern(void *buf, size_t len, uint64_t seed);

/* qemu-img check's exit status: 0 clean, 2 corruption, 3 leaks only. */
int dt_qemu_check(const char *path);

/* Reads the whole image through B and compares it with `qemu-img convert
 * -O raw` of PATH; returns 0 when identical (prints the first difference). */
int dt_same_as_qemu(struct blk *b, const char *path);

/* Compares B's contents with the raw file RAW; 0 when identical. */
int dt_same_as_raw(struct blk *b, const char *raw);

struct blk *dt_open(const char *path, bool read_only);

#endif
