/* Internal snapshots: ours read by qemu-img, qemu-img's applied by us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/disk_util.h"

#define SIZE (8u << 20)

static int setup(void **state)
{
	*state = dt_fx_new("s.qcow2");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

static void scribble(struct blk *b, uint8_t *model, uint64_t seed)
{
	uint8_t buf[100000];
	for (int i = 0; i < 20; i++) {
		uint64_t off = (seed * 7777 + (uint64_t)i * 393241) % (SIZE - sizeof(buf));
		dt_pattern(buf, sizeof(buf), seed * 100 + (uint64_t)i);
		assert_int_equal(blk_pwrite(b, buf, sizeof(buf), off), 0);
		memcpy(model + off, buf, sizeof(buf));
	}
}

static void check_model(struct blk *b, const uint8_t *model)
{
	uint8_t *buf = malloc(blk_size(b));
	assert_int_equal(blk_pread(b, buf, blk_size(b), 0), 0);
	assert_memory_equal(buf, model, blk_size(b));
	free(buf);
}

static void assert_error(int ret, const struct error *err, const char *needle)
{
	assert_int_equal(ret, -1);
	if (!strstr(err->msg, needle))
		fprintf(stderr, "unexpected: %s\n", err->msg);
	assert_non_null(strstr(err->msg, needle));
}

static void test_create_apply_delete(void **state)
{
	struct dt_fx *f = *state;
	struct blk_create_options co = { .format = BLK_FORMAT_QCOW2, .size = SIZE };
	struct error err;
	assert_int_equal(blk_create(f->img, &co, &err), 0);
	uint8_t *a = calloc(1, SIZE), *b2 = malloc(SIZE), *c = malloc(SIZE);
	struct blk *b = dt_open(f->img, false);
	scribble(b, a, 1);
	assert_int_equal(blk_snapshot_create(b, "first", 123456789, &err), 0);
	assert_error(blk_snapshot_create(b, "first", 0, &err), &err, "already has a snapshot named 'first'");
	memcpy(b2, a, SIZE);
	scribble(b, b2, 2);
	assert_int_equal(blk_snapshot_create(b, "second", 0, &err), 0);
	memcpy(c, b2, SIZE);
	scribble(b, c, 3);
	check_model(b, c);
	assert_int_equal(blk_close(b), 0);

	assert_int_equal(dt_qemu_check(f->img), 0);
	char *list = dt_sh_out(NULL, "qemu-img snapshot -l '%s'", f->img);
	assert_non_null(strstr(list, "first"));
	assert_non_null(strstr(list, "second"));
	assert_non_null(strstr(list, "00:00:00.123"));   /* vm clock */
	free(list);
	/* qemu-img reads each snapshot's contents as we wrote them. */
	char *raw = dt_join(f->dir, "first.raw");
	assert_int_equal(dt_sh("qemu-img convert -l snapshot.name=first -O raw '%s' '%s'", f->img, raw), 0);
	b = dt_open(raw, true);
	check_model(b, a);
	blk_close(b);

	b = dt_open(f->img, false);
	struct blk_snapshot *l;
	size_t n;
	assert_int_equal(blk_snapshot_list(b, &l, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].id, "1");
	assert_string_equal(l[1].name, "second");
	assert_int_equal(l[0].vm_clock_ns, 123456789);
	assert_int_equal(l[0].disk_size, SIZE);
	blk_snapshot_list_free(l, n);
	assert_int_equal(blk_snapshot_apply(b, "first", &err), 0);
	check_model(b, a);
	scribble(b, a, 4);   /* writes after apply copy shared clusters */
	assert_int_equal(blk_snapshot_apply(b, "2", &err), 0);   /* by id */
	check_model(b, b2);
	assert_error(blk_snapshot_apply(b, "nope", &err), &err, "has no snapshot 'nope'");
	assert_int_equal(blk_snapshot_delete(b, "second", &err), 0);
	check_model(b, b2);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	b = dt_open(f->img, true);
	assert_int_equal(dt_same_as_qemu(b, f->img), 0);
	blk_close(b);
	/* Deleting the last snapshot leaves no leak behind. */
	b = dt_open(f->img, false);
	assert_int_equal(blk_snapshot_delete(b, "first", &err), 0);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	free(raw);
	free(a);
	free(b2);
	free(c);
}

static void test_qemu_snapshots(void **state)
{
	struct dt_fx *f = *state;
	assert_int_equal(dt_sh("qemu-img create -q -f qcow2 '%s' 8M && "
			       "qemu-io -c 'write -P 0xaa 0 3M' '%s' >/dev/null && "
			       "qemu-img snapshot -c snapA '%s' && "
			       "qemu-io -c 'write -P 0xbb 1M 3M' -c 'write -z 5M 64K' '%s' >/dev/null && "
			       "qemu-img snapshot -c snapB '%s' && "
			       "qemu-io -c 'write -P 0xcc 0 8M' '%s' >/dev/null",
			       f->img, f->img, f->img, f->img, f->img, f->img), 0);
	uint8_t *a = calloc(1, SIZE);
	memset(a, 0xaa, 3 << 20);
	struct error err;
	struct blk *b = dt_open(f->img, false);
	assert_int_equal(blk_snapshot_apply(b, "snapA", &err), 0);
	check_model(b, a);
	assert_int_equal(blk_snapshot_apply(b, "snapB", &err), 0);
	memset(a + (1 << 20), 0xbb, 3 << 20);
	check_model(b, a);
	assert_int_equal(blk_snapshot_delete(b, "snapA", &err), 0);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	assert_int_equal(dt_sh("qemu-img snapshot -a snapB '%s'", f->img), 0);
	b = dt_open(f->img, true);
	check_model(b, a);
	blk_close(b);
	free(a);
}

static void test_snapshot_and_resize(void **state)
{
	struct dt_fx *f = *state;
	struct blk_create_options co = { .format = BLK_FORMAT_QCOW2, .size = 4 << 20, .cluster_size = 4096 };
	struct error err;
	assert_int_equal(blk_create(f->img, &co, &err), 0);
	struct blk *b = dt_open(f->img, false);
	uint8_t *m = calloc(1, SIZE);
	uint8_t buf[4096];
	dt_pattern(buf, sizeof(buf), 9);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 3 << 20), 0);
	memcpy(m + (3 << 20), buf, sizeof(buf));
	assert_int_equal(blk_snapshot_create(b, "small", 0, &err), 0);
	assert_int_equal(blk_truncate(b, SIZE, false, &err), 0);
	assert_error(blk_truncate(b, 1 << 20, true, &err), &err, "snapshots");
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 7 << 20), 0);
	assert_int_equal(blk_snapshot_apply(b, "small", &err), 0);
	assert_int_equal(blk_size(b), 4 << 20);
	check_model(b, m);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	free(m);
}

static void test_refcount_overflow(void **state)
{
	struct dt_fx *f = *state;
	struct blk_create_options co = { .format = BLK_FORMAT_QCOW2, .size = SIZE, .refcount_bits = 1 };
	struct error err;
	assert_int_equal(blk_create(f->img, &co, &err), 0);
	struct blk *b = dt_open(f->img, false);
	uint8_t *m = calloc(1, SIZE);
	scribble(b, m, 5);
	assert_error(blk_snapshot_create(b, "x", 0, &err), &err, "overflow");
	check_model(b, m);
	assert_int_equal(blk_close(b), 0);
	/* The failed attempt may leak, never corrupt. */
	int rc = dt_qemu_check(f->img);
	assert_true(rc == 0 || rc == 3);
	free(m);
}

/* An overflow half way through the snapshot's refcount walk: the counts
 * already raised are leaks, and the COPIED flags must follow them. */
static void test_overflow_half_way(void **state)
{
	struct dt_fx *f = *state;
	struct blk_create_options co = { .format = BLK_FORMAT_QCOW2, .size = SIZE, .cluster_size = 4096 };
	struct error err;
	assert_int_equal(blk_create(f->img, &co, &err), 0);
	struct blk *b = dt_open(f->img, false);
	uint8_t *m = calloc(1, SIZE);
	scribble(b, m, 6);
	assert_int_equal(blk_close(b), 0);
	/* Layout: refcount block at cluster 2; saturate a late data cluster. */
	char *map = dt_sh_out(NULL, "qemu-img map --output=json '%s' | grep offset | tail -1", f->img);
	char *o = strstr(map, "\"offset\": ");
	assert_non_null(o);
	uint64_t host = strtoull(o + 10, NULL, 10);
	free(map);
	FILE *fp = fopen(f->img, "r+b");
	fseek(fp, 2 * 4096 + (long)(host / 4096) * 2, SEEK_SET);
	fputc(0xff, fp);
	fputc(0xff, fp);
	fclose(fp);
	b = dt_open(f->img, false);
	assert_error(blk_snapshot_create(b, "x", 0, &err), &err, "overflow");
	check_model(b, m);
	assert_int_equal(blk_close(b), 0);
	int rc = dt_qemu_check(f->img);
	assert_true(rc == 0 || rc == 3);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_apply_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_and_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_half_way, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_snapshot", tests, NULL, NULL);
}
