/* libFuzzer target: the input is a qcow2 image file.  It is opened
 * writable (backing chain left closed), then read, written, zeroed,
 * discarded, flushed, listed and checked.  Nothing may crash or leak. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The body of the target; true when the image opened (for the replay test). */
bool fuzz_qcow2_one(const uint8_t *data, size_t size);

static uint64_t tail_u64(const uint8_t *data, size_t size, size_t back)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8 && back + i < size; i++)
		v = v << 8 | data[size - 1 - back - i];
	return v;
}

static void exercise(struct blk *b, const uint8_t *data, size_t size)
{
	uint64_t len = blk_size(b);
	if (!len)
		return;
	uint8_t buf[8192];
	for (size_t k = 0; k < 3; k++) {
		uint64_t off = tail_u64(data, size, k * 8) % len;
		size_t n = sizeof(buf) < len - off ? sizeof(buf) : (size_t)(len - off);
		blk_pread(b, buf, n, off);
		memset(buf, (int)k, n);
		blk_pwrite(b, buf, n, off);
	}
	uint64_t off = tail_u64(data, size, 24) % len;
	blk_write_zeroes(b, off, len - off < (1 << 20) ? len - off : (1 << 20), true);
	blk_discard(b, off / 2, len - off / 2 < (1 << 20) ? len - off / 2 : (1 << 20));
	blk_flush(b);
	blk_pread(b, buf, sizeof(buf) < len ? sizeof(buf) : (size_t)len, 0);
}

static void inspect(struct blk *b)
{
	struct blk_snapshot *l;
	size_t n;
	struct error err;
	if (blk_snapshot_list(b, &l, &n, &err) == 0)
		blk_snapshot_list_free(l, n);
	struct blk_check_result r = { 0 };
	blk_check(b, BLK_REPAIR_NONE, &r, &err);
	struct blk_info info;
	blk_get_info(b, &info);
}

bool fuzz_qcow2_one(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
	if (fd < 0)
		return false;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return false;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* Small caches keep memory bounded whatever the cluster size says. */
	struct blk_options o = { .format = BLK_FORMAT_QCOW2, .no_backing = true, .l2_cache_bytes = 1 };
	struct error err;
	struct blk *b = blk_open(path, &o, &err);
	bool opened = b != NULL;
	if (b) {
		inspect(b);
		exercise(b, data, size);
		inspect(b);
		blk_close(b);
	}
	close(fd);
	return opened;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_qcow2_one(data, size);
	return 0;
}
