/* Hand-made corruptions: each one is refused at open with one sentence that
 * names the file and the cause, or (for tables read lazily) turns into an
 * I/O error; none may crash (run under ASan/UBSan too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/be.h"
#include "tests/lib/disk_util.h"

/* Layout of the base image (64 KiB clusters, 8 MiB, written at 0, one
 * snapshot): header 0, refcount table 64K, block 128K, L1 192K, then
 * L2 256K, data 320K... as blk_create and the first write lay it out. */
#define CL 65536ull

static int setup(void **state)
{
	*state = dt_fx_new("h.qcow2");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

static void make_base(const char *img, bool snapshot)
{
	struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = 8 << 20 };
	struct error err;
	assert_int_equal(blk_create(img, &o, &err), 0);
	struct blk *b = dt_open(img, false);
	uint8_t buf[4096];
	dt_pattern(buf, sizeof(buf), 1);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 0), 0);
	if (snapshot)
		assert_int_equal(blk_snapshot_create(b, "snap", 0, &err), 0);
	assert_int_equal(blk_close(b), 0);
}

static void put_be(const char *img, uint64_t off, unsigned bytes, uint64_t v)
{
	uint8_t b[8];
	be64_put(b, v);
	int fd = open(img, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b + 8 - bytes, bytes, (off_t)off), (ssize_t)bytes);
	close(fd);
}

static uint64_t get_be(const char *img, uint64_t off)
{
	uint8_t b[8];
	int fd = open(img, O_RDONLY);
	assert_int_equal(pread(fd, b, 8, (off_t)off), 8);
	close(fd);
	return be64_get(b);
}

struct corruption {
	const char *what;
	uint64_t off;          /* where to patch; ~0 means "truncate to VALUE" */
	unsigned bytes;
	uint64_t value;
	bool snapshot;         /* base image with a snapshot */
	const char *expect;    /* in the open error */
};

#define TRUNC ~0ull

static const struct corruption table[] = {
	{ "truncated header", TRUNC, 0, 50, false, "is truncated" },
	{ "truncated tables", TRUNC, 0, 100000, false, "past the end of the file" },
	{ "bad magic", 0, 4, 0x12345678, false, "not a qcow2 image" },
	{ "version 4", 4, 4, 4, false, "version 4" },
	{ "cluster_bits 30", 20, 4, 30, false, "cluster_bits 30" },
	{ "cluster_bits 0", 20, 4, 0, false, "cluster_bits 0" },
	{ "header_length 50", 100, 4, 50, false, "header_length 50" },
	{ "header_length huge", 100, 4, 1u << 30, false, "header_length" },
	{ "encrypted", 32, 4, 1, false, "encrypted" },
	{ "unknown incompatible bit", 72, 8, 1ull << 40, false, "does not support" },
	{ "external data file", 72, 8, 4, false, "external file" },
	{ "zstd", 72, 8, 8, false, "zstd" },
	{ "refcount_order 7", 96, 4, 7, false, "refcount_order 7" },
	{ "absurd size", 24, 8, 1ull << 63, false, "absurd" },
	{ "L1 too small for size", 24, 8, 1ull << 40, false, "too small" },
	{ "absurd L1 size", 36, 4, 0x10000000, false, "absurdly large" },
	{ "L1 past the end", 40, 8, 1ull << 40, false, "past the end of the file" },
	{ "L1 at the header", 40, 8, 0, false, "overlaps the header" },
	{ "L1 unaligned", 40, 8, 3 * CL + 8, false, "not cluster aligned" },
	{ "refcount table past the end", 48, 8, 1ull << 40, false, "past the end of the file" },
	{ "refcount table at the header", 48, 8, 0, false, "overlaps the header" },
	{ "refcount table of 0 clusters", 56, 4, 0, false, "0 clusters" },
	{ "refcount table of 1G clusters", 56, 4, 1u << 30, false, "clusters" },
	{ "refcount table over L1", 48, 8, 3 * CL, false, "overlaps the L1 table" },
	{ "L1 entry at the header", 3 * CL, 8, (1ull << 63) | 512, false, "L1 entry 0" },
	{ "L1 entry past the end", 3 * CL, 8, (1ull << 63) | (1ull << 40), false, "points past the end" },
	{ "L1 entry reserved bits", 3 * CL, 8, (1ull << 63) | (1ull << 58) | 4 * CL, false, "reserved bits" },
	{ "L1 entry into refcount table", 3 * CL, 8, (1ull << 63) | CL, false, "into the refcount table" },
	{ "L1 entry into itself", 3 * CL, 8, (1ull << 63) | 3 * CL, false, "into the L1 table" },
	{ "refcount entry past the end", CL, 8, 1ull << 40, false, "refcount table entry 0 points past" },
	{ "refcount entry reserved bits", CL, 8, 2 * CL + 1, false, "reserved bits" },
	{ "refcount entry missing", CL, 8, 0, false, "no refcount block covers the header" },
	{ "absurd snapshot count", 60, 4, 100000, true, "claims 100000 snapshots" },
	{ "snapshot table past the end", 64, 8, 1ull << 40, true, "snapshot table is outside the file" },
	{ "snapshot table at the header", 64, 8, 0, true, "snapshot table is outside the file" },
	{ "snapshot count too high", 60, 4, 50, true, "has no id" },
	{ "backing name too long", 16, 4, 5000, false, "backing file name is out of range" },
	{ "backing name past the cluster", 8, 8, CL - 4, false, "backing file name" },
};

static void apply(const char *img, const struct corruption *c)
{
	if (c->off == TRUNC) {
		assert_int_equal(truncate(img, (off_t)c->value), 0);
		return;
	}
	put_be(img, c->off, c->bytes, c->value);
}

static void test_refused_at_open(void **state)
{
	struct dt_fx *f = *state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct corruption *c = &table[i];
		make_base(f->img, c->snapshot);
		if (!strncmp(c->what, "backing", 7)) {
			put_be(f->img, 8, 8, 0x1000);   /* give it a backing name first */
			put_be(f->img, 16, 4, 4);
		}
		apply(f->img, c);
		for (int ro = 0; ro < 2; ro++) {
			struct blk_options o = { .format = BLK_FORMAT_QCOW2, .read_only = ro };
			struct error err = { "" };
			struct blk *b = blk_open(f->img, &o, &err);
			if (b || !strstr(err.msg, c->expect) || !strstr(err.msg, f->img)) {
				fprintf(stderr, "%s: got '%s'\n", c->what, b ? "(opened)" : err.msg);
				blk_close(b);
				fail();
			}
		}
	}
}

/* The snapshot's L1 entries are checked when it is used. */
static void test_bad_snapshot_l1(void **state)
{
	struct dt_fx *f = *state;
	make_base(f->img, true);
	uint64_t st = get_be(f->img, 64);
	put_be(f->img, st, 8, 1ull << 40);   /* the snapshot's L1 offset */
	struct blk_options o = { .read_only = true };
	struct error err;
	assert_null(blk_open(f->img, &o, &err));
	assert_non_null(strstr(err.msg, "invalid L1 table"));
}

static uint64_t l2_entry0(const char *img)
{
	return get_be(img, 3 * CL) & 0x00fffffffffffe00ull;
}

static void expect_io_error(const char *img, uint64_t value, bool write_fails, bool read_fails)
{
	put_be(img, l2_entry0(img), 8, value);
	struct blk *b = dt_open(img, false);
	assert_non_null(b);
	uint8_t buf[4096];
	int r = blk_pread(b, buf, sizeof(buf), 0);
	if (read_fails)
		assert_int_equal(r, -EIO);
	memset(buf, 0xa5, sizeof(buf));
	int w = blk_pwrite(b, buf, sizeof(buf), 0);
	if (write_fails)
		assert_int_equal(w, -EIO);
	blk_close(b);
	struct stat st;
	stat(img, &st);
	assert_true(st.st_size < (64 << 20));   /* a hostile entry never grows the file */
	/* Whatever happened, the header is intact and the image still opens. */
	b = dt_open(img, true);
	assert_non_null(b);
	struct blk_check_result res = { 0 };
	struct error err;
	assert_int_equal(blk_check(b, BLK_REPAIR_NONE, &res, &err), 0);
	assert_true(res.corruptions + res.leaks > 0);
	blk_close(b);
}

static void test_lazy_tables_give_io_errors(void **state)
{
	struct dt_fx *f = *state;
	const uint64_t copied = 1ull << 63;
	struct {
		uint64_t e;
		bool wfail, rfail;
	} cases[] = {
		{ copied | (1ull << 57) | 5 * CL, true, true },       /* reserved bits */
		{ copied | (5 * CL + 512), true, true },                 /* unaligned */
		{ copied | 0, true, true },                            /* COPIED without offset */
		{ copied | 3 * CL, true, false },                      /* data over the L1 table */
		{ copied | CL, true, false },                          /* data over the refcount table */
		{ (1ull << 62) | (1ull << 63) | 5 * CL, true, true },  /* compressed with COPIED */
		{ (1ull << 62) | (0x3full << 54) | (1ull << 40), false, true },  /* compressed past the end */
		{ copied | (1ull << 45), true, false },                /* data far past the end */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_base(f->img, false);
		expect_io_error(f->img, cases[i].e, cases[i].wfail, cases[i].rfail);
	}
}

static void test_l2_pointing_at_itself(void **state)
{
	struct dt_fx *f = *state;
	make_base(f->img, false);
	uint64_t l2 = l2_entry0(f->img);
	expect_io_error(f->img, (1ull << 63) | l2, true, false);
}

static void test_refcount_block_saturated(void **state)
{
	struct dt_fx *f = *state;
	make_base(f->img, false);
	/* Every cluster claims the maximum refcount: allocation must move on,
	 * increments must fail cleanly. */
	uint8_t ff[CL];
	memset(ff, 0xff, sizeof(ff));
	int fd = open(f->img, O_WRONLY);
	assert_int_equal(pwrite(fd, ff, sizeof(ff), 2 * CL), (ssize_t)sizeof(ff));
	close(fd);
	struct blk *b = dt_open(f->img, false);
	assert_non_null(b);
	uint8_t buf[8192];
	dt_pattern(buf, sizeof(buf), 3);
	int w = blk_pwrite(b, buf, sizeof(buf), 4 << 20);
	assert_true(w == 0 || w == -EIO || w == -ENOSPC || w == -ERANGE);
	struct error err;
	int s = blk_snapshot_create(b, "s", 0, &err);
	assert_int_equal(s, -1);
	blk_close(b);
}

static void test_dirty_and_corrupt(void **state)
{
	struct dt_fx *f = *state;
	make_base(f->img, false);
	put_be(f->img, 72, 8, 1);                          /* dirty */
	put_be(f->img, l2_entry0(f->img), 8, (1ull << 63) | (1ull << 57) | 5 * CL);
	struct blk_options o = { 0 };
	struct error err;
	assert_null(blk_open(f->img, &o, &err));
	assert_non_null(strstr(err.msg, "not closed cleanly"));
	o.read_only = true;
	struct blk *b = blk_open(f->img, &o, &err);
	assert_non_null(b);
	blk_close(b);
	put_be(f->img, 72, 8, 2);                          /* corrupt bit */
	o.read_only = false;
	assert_null(blk_open(f->img, &o, &err));
	assert_non_null(strstr(err.msg, "marked corrupt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refused_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_snapshot_l1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_tables_give_io_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_l2_pointing_at_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_block_saturated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_and_corrupt, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_hostile", tests, NULL, NULL);
}
