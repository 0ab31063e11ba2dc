#include <stdint.h>
#include <string.h>

#include "disk/iov.h"

size_t iov_size(const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Walks IOV from byte OFF and calls FN on each piece, up to LEN bytes. */
typedef void iov_piece_fn(void *base, size_t len, size_t done, void *ctx);

static size_t iov_walk(const struct iovec *iov, int cnt, size_t off, size_t len,
		       iov_piece_fn *fn, void *ctx)
{
	size_t done = 0;
	for (int i = 0; i < cnt && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		fn((uint8_t *)iov[i].iov_base + off, n, done, ctx);
		done += n;
		off = 0;
	}
	return done;
}

static void piece_to_buf(void *base, size_t len, size_t done, void *ctx)
{
	memcpy((uint8_t *)ctx + done, base, len);
}

static void piece_from_buf(void *base, size_t len, size_t done, void *ctx)
{
	memcpy(base, (const uint8_t *)ctx + done, len);
}

static void piece_memset(void *base, size_t len, size_t done, void *ctx)
{
	memset(base, *(int *)ctx, len);
}

size_t iov_to_buf(const struct iovec *iov, int cnt, size_t off, void *buf, size_t len)
{
	return iov_walk(iov, cnt, off, len, piece_to_buf, buf);
}

size_t iov_from_buf(const struct iovec *iov, int cnt, size_t off, const void *buf, size_t len)
{
	return iov_walk(iov, cnt, off, len, piece_from_buf, (void *)buf);
}

size_t iov_memset(const struct iovec *iov, int cnt, size_t off, int c, size_t len)
{
	return iov_walk(iov, cnt, off, len, piece_memset, &c);
}

int iov_slice(const struct iovec *iov, int cnt, size_t off, size_t len, struct iovec *out)
{
	int n = 0;
	for (int i = 0; i < cnt && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[n].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[n].iov_len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}

bool buf_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	/* Byte loop up to word alignment, then words, then the tail. */
	while (len && ((uintptr_t)p & 7)) {
		if (*p++)
			return false;
		len--;
	}
	const uint64_t *w = (const uint64_t *)(const void *)p;
	while (len >= 32) {
		if (w[0] | w[1] | w[2] | w[3])
			return false;
		w += 4;
		len -= 32;
	}
	p = (const uint8_t *)w;
	while (len--)
		if (*p++)
			return false;
	return true;
}
