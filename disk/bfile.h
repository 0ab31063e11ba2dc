/* The host file under an image: full-length positioned I/O, O_DIRECT with
 * bounce buffers, flush, hole punching.  Every data call returns 0 or
 * -errno; reads past the end of the file return zeros. */
#ifndef VMDECK_DISK_BFILE_H
#define VMDECK_DISK_BFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "src/error.h"

enum {
	BFILE_RW = 1 << 0,
	BFILE_DIRECT = 1 << 1,     /* cache=none: O_DIRECT */
	BFILE_CREATE = 1 << 2,     /* create if missing */
	BFILE_NOSYNC = 1 << 3,     /* cache=unsafe: bfile_sync does nothing */
};

/* Test seam: fail calls of the kinds in MASK with ERRNUM once COUNTDOWN
 * matching calls have succeeded (stays failing until cleared). */
enum { BFILE_FAULT_READ = 1, BFILE_FAULT_WRITE = 2, BFILE_FAULT_SYNC = 4 };
struct bfile_fault {
	unsigned mask;
	int errnum;
	long countdown;
};

struct bfile {
	int fd;
	unsigned flags;
	size_t align;              /* offset/length/memory alignment O_DIRECT needs; 1 otherwise */
	pthread_mutex_t rmw_lock;  /* serialises unaligned O_DIRECT read-modify-writes */
	pthread_mutex_t fault_lock;
	struct bfile_fault fault;
	char *path;
};

int bfile_open(const char *path, unsigned flags, struct bfile **out, struct error *err);
void bfile_close(struct bfile *f);

int bfile_preadv(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off);
int bfile_pwritev(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off);
int bfile_pread(struct bfile *f, void *buf, size_t len, uint64_t off);
int bfile_pwrite(struct bfile *f, const void *buf, size_t len, uint64_t off);
int bfile_sync(struct bfile *f);
/* Deallocates the range (reads return zeros afterwards); -ENOTSUP when the
 * file system cannot. */
int bfile_punch(struct bfile *f, uint64_t off, uint64_t len);
/* Makes the range read as zeros: UNMAP lets it punch a hole, otherwise the
 * space stays allocated (zero-range, or writing zeros). */
int bfile_write_zeroes(struct bfile *f, uint64_t off, uint64_t len, bool unmap);
int64_t bfile_length(struct bfile *f);
int bfile_truncate(struct bfile *f, uint64_t len);

void bfile_set_fault(struct bfile *f, const struct bfile_fault *fault);

/* posix_memalign that never returns NULL for small sizes unless out of memory. */
void *bfile_alloc(struct bfile *f, size_t len);

#endif
