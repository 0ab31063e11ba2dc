/* Backing files: overlays over raw and qcow2, deep chains, loops, missing
 * files, zero and discard over a backing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/disk_util.h"

static int setup(void **state)
{
	*state = dt_fx_new(NULL);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

static char *path(struct dt_fx *f, const char *name)
{
	return dt_join(f->dir, name);
}

static void overlay(const char *img, const char *backing, enum blk_format bfmt, uint64_t size)
{
	struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = size, .backing_file = backing,
					.backing_format = bfmt };
	struct error err;
	int ret = blk_create(img, &o, &err);
	if (ret)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(ret, 0);
}

static void check_model(struct blk *b, const uint8_t *model, uint64_t size)
{
	uint8_t *buf = malloc(size);
	assert_int_equal(blk_pread(b, buf, size, 0), 0);
	assert_memory_equal(buf, model, size);
	free(buf);
}

static void test_overlay_on_raw(void **state)
{
	struct dt_fx *f = *state;
	char *base = path(f, "base.raw"), *top = path(f, "top.qcow2");
	uint64_t size = 8 << 20;
	uint8_t *model = malloc(size);
	dt_pattern(model, size, 1);
	FILE *fp = fopen(base, "wb");
	fwrite(model, 1, size, fp);
	fclose(fp);
	overlay(top, "base.raw", BLK_FORMAT_RAW, 0);   /* size from the backing file, name relative */
	struct blk *b = dt_open(top, false);
	assert_non_null(b);
	assert_int_equal(blk_size(b), size);
	uint8_t buf[5000];
	dt_pattern(buf, sizeof(buf), 2);
	/* A partial cluster copies the rest of the cluster from the backing file. */
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 70000), 0);
	memcpy(model + 70000, buf, sizeof(buf));
	assert_int_equal(blk_write_zeroes(b, 1 << 20, 1 << 20, true), 0);
	memset(model + (1 << 20), 0, 1 << 20);
	assert_int_equal(blk_discard(b, 4 << 20, 1 << 20), 0);
	uint8_t *chk = malloc(1 << 20);
	assert_int_equal(blk_pread(b, chk, 1 << 20, 4 << 20), 0);  /* discarded: zeros or backing */
	assert_true(!memcmp(chk, model + (4 << 20), 1 << 20) || chk[0] == 0);
	memcpy(model + (4 << 20), chk, 1 << 20);
	check_model(b, model, size);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(top), 0);
	b = dt_open(top, true);
	assert_int_equal(dt_same_as_qemu(b, top), 0);
	struct blk_info info;
	blk_get_info(b, &info);
	assert_string_equal(info.backing_file, "base.raw");
	assert_string_equal(info.backing_format, "raw");
	blk_close(b);
	char *qi = dt_sh_out(NULL, "qemu-img info '%s'", top);
	assert_non_null(strstr(qi, "backing file format: raw"));
	free(qi);
	free(chk);
	free(model);
	free(base);
	free(top);
}

static void test_backing_smaller(void **state)
{
	struct dt_fx *f = *state;
	char *base = path(f, "b.qcow2"), *top = path(f, "t.qcow2");
	assert_int_equal(dt_sh("qemu-img create -q -f qcow2 '%s' 2M && qemu-io -c 'write -P 0x11 0 2M' '%s' >/dev/null",
			       base, base), 0);
	overlay(top, base, BLK_FORMAT_QCOW2, 6 << 20);
	struct blk *b = dt_open(top, false);
	uint8_t *model = calloc(1, 6 << 20);
	memset(model, 0x11, 2 << 20);
	check_model(b, model, 6 << 20);
	/* A write straddling the end of the backing file. */
	uint8_t buf[200000];
	dt_pattern(buf, sizeof(buf), 3);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), (2 << 20) - 100000), 0);
	memcpy(model + (2 << 20) - 100000, buf, sizeof(buf));
	check_model(b, model, 6 << 20);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(top), 0);
	b = dt_open(top, true);
	assert_int_equal(dt_same_as_qemu(b, top), 0);
	blk_close(b);
	free(model);
	free(base);
	free(top);
}

static void test_deep_chain(void **state)
{
	struct dt_fx *f = *state;
	enum { DEPTH = 40 };
	uint64_t size = 4 << 20;
	uint8_t *model = calloc(1, size);
	char name[32], prev[32] = "";
	for (int i = 0; i < DEPTH; i++) {
		snprintf(name, sizeof(name), "l%02d.qcow2", i);
		char *p = path(f, name);
		if (i == 0) {
			struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = size };
			struct error err;
			assert_int_equal(blk_create(p, &o, &err), 0);
		} else {
			overlay(p, prev, BLK_FORMAT_QCOW2, 0);
		}
		struct blk *b = dt_open(p, false);
		assert_non_null(b);
		uint8_t buf[3000];
		dt_pattern(buf, sizeof(buf), (uint64_t)i);
		uint64_t off = (uint64_t)i * 98765 % (size - sizeof(buf));
		assert_int_equal(blk_pwrite(b, buf, sizeof(buf), off), 0);
		memcpy(model + off, buf, sizeof(buf));
		assert_int_equal(blk_close(b), 0);
		free(p);
		strcpy(prev, name);
	}
	char *top = path(f, prev);
	struct blk *b = dt_open(top, true);
	check_model(b, model, size);
	assert_int_equal(dt_same_as_qemu(b, top), 0);
	blk_close(b);
	free(top);
	free(model);
}

static void expect_open_error(const char *img, const char *needle)
{
	struct blk_options o = { .read_only = true };
	struct error err;
	struct blk *b = blk_open(img, &o, &err);
	assert_null(b);
	if (!strstr(err.msg, needle))
		fprintf(stderr, "unexpected error: %s\n", err.msg);
	assert_non_null(strstr(err.msg, needle));
}

static void test_loops_and_missing(void **state)
{
	struct dt_fx *f = *state;
	char *a = path(f, "a.qcow2"), *b = path(f, "b.qcow2"), *c = path(f, "c.qcow2");
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f qcow2 -u -b b.qcow2 -F qcow2 a.qcow2 1M && "
			       "qemu-img create -q -f qcow2 -u -b a.qcow2 -F qcow2 b.qcow2 1M && "
			       "qemu-img create -q -f qcow2 c.qcow2 1M", f->dir), 0);
	/* qemu-img refuses a self-reference; our own API writes one. */
	struct blk_options nb = { .no_backing = true };
	struct error e;
	struct blk *cb = blk_open(c, &nb, &e);
	assert_non_null(cb);
	assert_int_equal(blk_set_backing(cb, "c.qcow2", BLK_FORMAT_QCOW2, &e), 0);
	assert_int_equal(blk_close(cb), 0);
	expect_open_error(a, "backing file loop");
	expect_open_error(c, "backing file loop");
	char *m = path(f, "m.qcow2");
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f qcow2 -u -b gone.raw -F raw m.qcow2 1M", f->dir), 0);
	expect_open_error(m, "gone.raw");
	/* Without the chain, the image itself still opens. */
	struct blk_options o = { .read_only = true, .no_backing = true };
	struct error err;
	struct blk *img = blk_open(m, &o, &err);
	assert_non_null(img);
	blk_close(img);
	free(a);
	free(b);
	free(c);
	free(m);
}

static void test_qemu_overlay_readable(void **state)
{
	struct dt_fx *f = *state;
	char *base = path(f, "qb.qcow2"), *mid = path(f, "qm.qcow2"), *top = path(f, "qt.qcow2");
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f qcow2 qb.qcow2 16M && "
			       "qemu-io -c 'write -P 1 0 8M' qb.qcow2 >/dev/null && "
			       "qemu-img create -q -f qcow2 -b qb.qcow2 -F qcow2 qm.qcow2 && "
			       "qemu-io -c 'write -P 2 1M 1M' -c 'write -z 3M 1M' -c 'discard 5M 1M' qm.qcow2 >/dev/null && "
			       "qemu-img create -q -f qcow2 -b qm.qcow2 -F qcow2 qt.qcow2 && "
			       "qemu-io -c 'write -P 3 1536K 4K' -c 'write -P 4 12M 100K' qt.qcow2 >/dev/null",
			       f->dir), 0);
	struct blk *b = dt_open(top, true);
	assert_non_null(b);
	assert_int_equal(dt_same_as_qemu(b, top), 0);
	blk_close(b);
	free(base);
	free(mid);
	free(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlay_on_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backing_smaller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_overlay_readable, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_backing", tests, NULL, NULL);
}
