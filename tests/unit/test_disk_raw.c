/* raw images and the host-file layer: unaligned O_DIRECT through bounce
 * buffers, holes, zeroes, resize, probing, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/disk_util.h"

static int setup(void **state)
{
	struct dt_fx *f = dt_fx_new("r.raw");
	*state = f;
	struct blk_create_options o = { .format = BLK_FORMAT_RAW, .size = 8 << 20 };
	struct error err;
	return f && blk_create(f->img, &o, &err) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

static struct blk *open_mode(const char *p, enum blk_cache_mode cache)
{
	struct blk_options o = { .cache = cache };
	struct error err;
	struct blk *b = blk_open(p, &o, &err);
	if (!b)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(b);
	return b;
}

static void test_unaligned_direct_io(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 8 << 20;
	uint8_t *model = calloc(1, size), *buf = malloc(300000 + 1), *back = malloc(300000);
	struct blk *b = open_mode(f->img, BLK_CACHE_NONE);
	assert_int_equal(blk_format(b), BLK_FORMAT_RAW);
	for (int i = 0; i < 100; i++) {
		size_t len = 1 + (size_t)(i * 7919) % 300000;
		uint64_t off = (uint64_t)i * 104729 % (size - len);
		uint8_t *p = buf + (i & 1);   /* misaligned memory too */
		dt_pattern(p, len, (uint64_t)i);
		/* Scatter-gather with odd pieces. */
		struct iovec v[3] = { { p, len / 3 }, { p + len / 3, 1 }, { p + len / 3 + 1, len - len / 3 - 1 } };
		assert_int_equal(blk_pwritev(b, v, 3, off), 0);
		memcpy(model + off, p, len);
		assert_int_equal(blk_pread(b, back, len, off), 0);
		assert_memory_equal(back, p, len);
	}
	assert_int_equal(blk_flush(b), 0);
	assert_int_equal(blk_close(b), 0);
	b = open_mode(f->img, BLK_CACHE_WRITEBACK);
	assert_int_equal(dt_same_as_raw(b, f->img), 0);
	uint8_t *all = malloc(size);
	assert_int_equal(blk_pread(b, all, size, 0), 0);
	assert_memory_equal(all, model, size);
	blk_close(b);
	free(all);
	free(model);
	free(buf);
	free(back);
}

static void test_zeroes_holes_status(void **state)
{
	struct dt_fx *f = *state;
	struct blk *b = open_mode(f->img, BLK_CACHE_WRITEBACK);
	uint8_t buf[65536];
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 1 << 20), 0);
	uint64_t pnum;
	unsigned st;
	assert_int_equal(blk_block_status(b, 0, 1 << 20, &pnum, &st), 0);
	assert_true(st & BLK_STATUS_ZERO);      /* a hole */
	assert_int_equal(blk_block_status(b, 1 << 20, 65536, &pnum, &st), 0);
	assert_true(st & BLK_STATUS_DATA);
	assert_int_equal(blk_write_zeroes(b, (1 << 20) + 100, 1000, false), 0);
	assert_int_equal(blk_discard(b, (1 << 20) + 4096, 8192), 0);
	assert_int_equal(blk_pread(b, buf, sizeof(buf), 1 << 20), 0);
	for (int i = 0; i < 65536; i++) {
		bool zero = (i >= 100 && i < 1100) || (i >= 4096 && i < 12288);
		assert_int_equal(buf[i], zero ? 0 : 0xab);
	}
	blk_close(b);
}

static void test_bounds_resize_readonly(void **state)
{
	struct dt_fx *f = *state;
	struct blk *b = open_mode(f->img, BLK_CACHE_WRITEBACK);
	uint8_t buf[4096] = { 0 };
	assert_int_equal(blk_pread(b, buf, sizeof(buf), (8 << 20) - 100), -EINVAL);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), UINT64_MAX - 10), -EINVAL);
	struct error err;
	assert_int_equal(blk_truncate(b, 16 << 20, false, &err), 0);
	assert_int_equal(blk_size(b), 16 << 20);
	assert_int_equal(blk_truncate(b, 1 << 20, false, &err), -1);
	assert_non_null(strstr(err.msg, "--shrink"));
	blk_close(b);
	struct blk_options ro = { .read_only = true };
	b = blk_open(f->img, &ro, &err);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 0), -EROFS);
	struct blk_snapshot *l;
	size_t n;
	assert_int_equal(blk_snapshot_list(b, &l, &n, &err), -1);
	assert_non_null(strstr(err.msg, "no internal snapshots"));
	blk_close(b);
	struct stat st;
	stat(f->img, &st);
	assert_int_equal(st.st_size, 16 << 20);
}

static void test_probe_and_errors(void **state)
{
	struct dt_fx *f = *state;
	char *q = dt_join(f->dir, "q.img");
	assert_int_equal(dt_sh("qemu-img create -q -f qcow2 '%s' 1M", q), 0);
	struct blk_options o = { .read_only = true };
	struct error err;
	struct blk *b = blk_open(q, &o, &err);
	assert_int_equal(blk_format(b), BLK_FORMAT_QCOW2);
	blk_close(b);
	o.format = BLK_FORMAT_RAW;   /* explicit format wins over probing */
	b = blk_open(q, &o, &err);
	assert_int_equal(blk_format(b), BLK_FORMAT_RAW);
	blk_close(b);
	assert_null(blk_open(f->dir, &o, &err));
	assert_non_null(strstr(err.msg, "is a directory"));
	char *missing = dt_join(f->dir, "nope");
	assert_null(blk_open(missing, &o, &err));
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_non_null(strstr(err.msg, "nope"));
	free(missing);
	free(q);
}

static void test_spec_parse(void **state)
{
	struct blk_options o = { 0 };
	struct error err;
	char *path;
	assert_int_equal(blk_spec_parse("/vm/disk.qcow2,format=qcow2,readonly=on,cache=none", &path, &o, &err), 0);
	assert_string_equal(path, "/vm/disk.qcow2");
	assert_int_equal(o.format, BLK_FORMAT_QCOW2);
	assert_true(o.read_only);
	assert_int_equal(o.cache, BLK_CACHE_NONE);
	free(path);
	assert_int_equal(blk_spec_parse("d.img,cache=sometimes", &path, &o, &err), -1);
	assert_non_null(strstr(err.msg, "cache=sometimes"));
	assert_int_equal(blk_spec_parse("d.img,bogus=1", &path, &o, &err), -1);
	assert_non_null(strstr(err.msg, "unknown disk option 'bogus'"));
	assert_int_equal(blk_spec_parse(",format=raw", &path, &o, &err), -1);
	assert_int_equal(blk_spec_parse("d.img,readonly", &path, &o, &err), -1);
	assert_null(path);
	/* ",," is a comma in the file name, as QEMU reads it. */
	assert_int_equal(blk_spec_parse("/vm/a,,b.img,format=raw", &path, &o, &err), 0);
	assert_string_equal(path, "/vm/a,b.img");
	assert_int_equal(o.format, BLK_FORMAT_RAW);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unaligned_direct_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroes_holes_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_resize_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_and_errors, setup, teardown),
		cmocka_unit_test(test_spec_parse),
	};
	return cmocka_run_group_tests_name("disk_raw", tests, NULL, NULL);
}
