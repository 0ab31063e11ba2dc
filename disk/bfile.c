#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/bfile.h"
#include "disk/iov.h"

#define BOUNCE_ALIGN 4096

static int fault_hit(struct bfile *f, unsigned kind)
{
	if (!f->fault.mask)
		return 0;
	int ret = 0;
	pthread_mutex_lock(&f->fault_lock);
	if (f->fault.mask & kind) {
		if (f->fault.countdown > 0)
			f->fault.countdown--;
		else
			ret = -f->fault.errnum;
	}
	pthread_mutex_unlock(&f->fault_lock);
	return ret;
}

void bfile_set_fault(struct bfile *f, const struct bfile_fault *fault)
{
	pthread_mutex_lock(&f->fault_lock);
	f->fault = fault ? *fault : (struct bfile_fault){ 0 };
	pthread_mutex_unlock(&f->fault_lock);
}

void *bfile_alloc(struct bfile *f, size_t len)
{
	void *p = NULL;
	if (posix_memalign(&p, BOUNCE_ALIGN, len ? len : 1))
		return NULL;
	return p;
}

/* O_DIRECT wants the logical block size; 512 works on most file systems,
 * 4096 on all, and the only portable test is to try. */
static size_t probe_direct_align(int fd)
{
	void *buf = NULL;
	if (posix_memalign(&buf, BOUNCE_ALIGN, BOUNCE_ALIGN))
		return BOUNCE_ALIGN;
	ssize_t n = pread(fd, buf, 512, 0);
	free(buf);
	return n == 512 ? 512 : BOUNCE_ALIGN;
}

int bfile_open(const char *path, unsigned flags, struct bfile **out, struct error *err)
{
	int oflags = O_CLOEXEC | ((flags & BFILE_RW) ? O_RDWR : O_RDONLY);
	if (flags & BFILE_CREATE)
		oflags |= O_CREAT;
	if (flags & BFILE_DIRECT)
		oflags |= O_DIRECT;
	int fd = open(path, oflags, 0644);
	if (fd < 0 && errno == EINVAL && (flags & BFILE_DIRECT))
		return error_set(err, "'%s' is on a file system without O_DIRECT; use cache=writeback", path);
	if (fd < 0)
		return error_errno(err, errno, "cannot open '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return error_set(err, "'%s' is a directory, not a disk image", path);
	}
	struct bfile *f = calloc(1, sizeof(*f));
	char *p = strdup(path);
	if (!f || !p) {
		free(f);
		free(p);
		close(fd);
		return error_set(err, "out of memory opening '%s'", path);
	}
	f->fd = fd;
	f->flags = flags;
	f->path = p;
	f->align = (flags & BFILE_DIRECT) ? probe_direct_align(fd) : 1;
	pthread_mutex_init(&f->rmw_lock, NULL);
	pthread_mutex_init(&f->fault_lock, NULL);
	*out = f;
	return 0;
}

void bfile_close(struct bfile *f)
{
	if (!f)
		return;
	close(f->fd);
	pthread_mutex_destroy(&f->rmw_lock);
	pthread_mutex_destroy(&f->fault_lock);
	free(f->path);
	free(f);
}

static bool iov_aligned(const struct bfile *f, const struct iovec *iov, int cnt, uint64_t off)
{
	if (f->align == 1)
		return true;
	if (off % f->align)
		return false;
	for (int i = 0; i < cnt; i++)
		if ((uintptr_t)iov[i].iov_base % f->align || iov[i].iov_len % f->align)
			return false;
	return true;
}

/* One full-length transfer with retries on EINTR and short counts; reads
 * past the end of the file are zero-filled. */
static int rw_full(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off, bool write)
{
	struct iovec local[64];
	struct iovec *v = cnt <= 64 ? local : malloc(sizeof(*v) * (size_t)cnt);
	if (!v)
		return -ENOMEM;
	memcpy(v, iov, sizeof(*v) * (size_t)cnt);
	int ret = 0;
	int i = 0;
	while (i < cnt) {
		if (v[i].iov_len == 0) {
			i++;
			continue;
		}
		int n = cnt - i > IOV_MAX ? IOV_MAX : cnt - i;
		ssize_t r = write ? pwritev(f->fd, v + i, n, (off_t)off) : preadv(f->fd, v + i, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0) {
			if (write) {
				ret = -EIO;
				break;
			}
			for (; i < cnt; i++)
				memset(v[i].iov_base, 0, v[i].iov_len);
			break;
		}
		off += (uint64_t)r;
		while (r > 0 && i < cnt) {
			size_t take = (size_t)r < v[i].iov_len ? (size_t)r : v[i].iov_len;
			v[i].iov_base = (uint8_t *)v[i].iov_base + take;
			v[i].iov_len -= take;
			r -= (ssize_t)take;
			if (v[i].iov_len == 0)
				i++;
		}
	}
	if (v != local)
		free(v);
	return ret;
}

/* Unaligned O_DIRECT access goes through an aligned bounce buffer covering
 * the request rounded out to the alignment. */
static int bounce_read(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off)
{
	size_t len = iov_size(iov, cnt);
	uint64_t start = off / f->align * f->align;
	size_t span = (size_t)((off + len + f->align - 1) / f->align * f->align - start);
	uint8_t *buf = bfile_alloc(f, span);
	if (!buf)
		return -ENOMEM;
	struct iovec b = { buf, span };
	int ret = rw_full(f, &b, 1, start, false);
	if (!ret)
		iov_from_buf(iov, cnt, 0, buf + (off - start), len);
	free(buf);
	return ret;
}

static int bounce_write(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off)
{
	size_t len = iov_size(iov, cnt);
	uint64_t start = off / f->align * f->align;
	size_t span = (size_t)((off + len + f->align - 1) / f->align * f->align - start);
	bool rmw = start != off || span != len;
	uint8_t *buf = bfile_alloc(f, span);
	if (!buf)
		return -ENOMEM;
	struct iovec b = { buf, span };
	int ret = 0;
	if (rmw) {
		pthread_mutex_lock(&f->rmw_lock);
		ret = rw_full(f, &b, 1, start, false);
	}
	if (!ret) {
		iov_to_buf(iov, cnt, 0, buf + (off - start), len);
		ret = rw_full(f, &b, 1, start, true);
	}
	if (rmw)
		pthread_mutex_unlock(&f->rmw_lock);
	free(buf);
	return ret;
}

int bfile_preadv(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off)
{
	int ret = fault_hit(f, BFILE_FAULT_READ);
	if (ret)
		return ret;
	if (!iov_aligned(f, iov, cnt, off))
		return bounce_read(f, iov, cnt, off);
	return rw_full(f, iov, cnt, off, false);
}

int bfile_pwritev(struct bfile *f, const struct iovec *iov, int cnt, uint64_t off)
{
	if (!(f->flags & BFILE_RW))
		return -EBADF;
	int ret = fault_hit(f, BFILE_FAULT_WRITE);
	if (ret)
		return ret;
	if (!iov_aligned(f, iov, cnt, off))
		return bounce_write(f, iov, cnt, off);
	return rw_full(f, iov, cnt, off, true);
}

int bfile_pread(struct bfile *f, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { buf, len };
	return bfile_preadv(f, &v, 1, off);
}

int bfile_pwrite(struct bfile *f, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };
	return bfile_pwritev(f, &v, 1, off);
}

int bfile_sync(struct bfile *f)
{
	int ret = fault_hit(f, BFILE_FAULT_SYNC);
	if (ret)
		return ret;
	if (!(f->flags & BFILE_RW) || (f->flags & BFILE_NOSYNC))
		return 0;
	while (fdatasync(f->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int bfile_punch(struct bfile *f, uint64_t off, uint64_t len)
{
	if (!(f->flags & BFILE_RW))
		return -EBADF;
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
		return errno == EOPNOTSUPP ? -ENOTSUP : -errno;
	return 0;
}

static int write_zero_loop(struct bfile *f, uint64_t off, uint64_t len)
{
	size_t chunk = 1 << 20;
	uint8_t *z = bfile_alloc(f, chunk);
	if (!z)
		return -ENOMEM;
	memset(z, 0, chunk);
	int ret = 0;
	while (len && !ret) {
		size_t n = len < chunk ? (size_t)len : chunk;
		ret = bfile_pwrite(f, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

int bfile_write_zeroes(struct bfile *f, uint64_t off, uint64_t len, bool unmap)
{
	int ret = fault_hit(f, BFILE_FAULT_WRITE);
	if (ret)
		return ret;
	if (!(f->flags & BFILE_RW))
		return -EBADF;
	if (unmap && bfile_punch(f, off, len) == 0)
		return 0;
	if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return write_zero_loop(f, off, len);
}

int64_t bfile_length(struct bfile *f)
{
	struct stat st;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	return st.st_size;
}

int bfile_truncate(struct bfile *f, uint64_t len)
{
	if (!(f->flags & BFILE_RW))
		return -EBADF;
	int ret = fault_hit(f, BFILE_FAULT_WRITE);
	if (ret)
		return ret;
	if (ftruncate(f->fd, (off_t)len) < 0)
		return -errno;
	return 0;
}
