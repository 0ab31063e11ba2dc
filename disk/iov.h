/* Helpers over struct iovec arrays: the block layer's scatter-gather unit. */
#ifndef VMDECK_DISK_IOV_H
#define VMDECK_DISK_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

size_t iov_size(const struct iovec *iov, int cnt);

/* Copies LEN bytes starting OFF bytes into IOV to/from BUF; returns the
 * number copied (less than LEN only when IOV is shorter). */
size_t iov_to_buf(const struct iovec *iov, int cnt, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, int cnt, size_t off, const void *buf, size_t len);
size_t iov_memset(const struct iovec *iov, int cnt, size_t off, int c, size_t len);

/* Describes bytes [OFF, OFF+LEN) of IOV in OUT, which must have room for
 * CNT entries (a slice never needs more); returns the entry count. */
int iov_slice(const struct iovec *iov, int cnt, size_t off, size_t len, struct iovec *out);

/* True when every byte of BUF is zero. */
bool buf_is_zero(const void *buf, size_t len);

#endif
