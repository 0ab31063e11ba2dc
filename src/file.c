#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/file.h"

int file_read_all(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		  struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, errno, "cannot read the %s '%s'", what, path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return error_errno(err, e, "cannot read the %s '%s'", what, path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, "the %s '%s' is not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return error_set(err, "the %s '%s' is %lld MiB, more than the %zu MiB vmdeck accepts", what,
				 path, (long long)(st.st_size >> 20), max >> 20);
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return error_set(err, "out of memory reading the %s '%s'", what, path);
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			if (n == 0)
				return error_set(err, "the %s '%s' shrank while it was being read", what, path);
			return error_errno(err, e, "cannot read the %s '%s'", what, path);
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = size;
	return 0;
}

int file_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
