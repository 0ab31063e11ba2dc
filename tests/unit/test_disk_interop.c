/* Images made by qemu-img/qemu-io in every layout we claim to read, read
 * back identically; images we make in every layout pass qemu-img check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "tests/lib/disk_util.h"

static int setup(void **state)
{
	*state = dt_fx_new("q.qcow2");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

/* Writes a mix of data, zeroes and discards with qemu-io. */
static const char qemu_io_mix[] =
	"-c 'write -P 0x41 0 200K' -c 'write -P 0x42 1M 1500' -c 'write -P 0x43 3000K 64K' "
	"-c 'write -z 100K 50K' -c 'write -P 0x44 5M 1M' -c 'discard 5M 512K' -c 'write -P 0x45 7M 4K'";

static void assert_reads_like_qemu(const char *img)
{
	struct blk *b = dt_open(img, true);
	assert_non_null(b);
	assert_int_equal(dt_same_as_qemu(b, img), 0);
	blk_close(b);
}

static void test_qemu_layouts(void **state)
{
	struct dt_fx *f = *state;
	static const char *const opts[] = {
		"cluster_size=512", "cluster_size=4k", "cluster_size=2M", "refcount_bits=1",
		"refcount_bits=2", "refcount_bits=4", "refcount_bits=8", "refcount_bits=32",
		"refcount_bits=64", "lazy_refcounts=on", "compat=0.10", "extended_l2=on",
		"extended_l2=on,cluster_size=16k", "preallocation=metadata", "preallocation=full",
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		assert_int_equal(dt_sh("qemu-img create -q -f qcow2 -o %s '%s' 8M && qemu-io %s '%s' >/dev/null",
				       opts[i], f->img, qemu_io_mix, f->img), 0);
		assert_reads_like_qemu(f->img);
	}
}

static void test_qemu_compressed(void **state)
{
	struct dt_fx *f = *state;
	char *raw = dt_join(f->dir, "src.raw");
	/* Compressible text, random data and holes. */
	assert_int_equal(dt_sh("qemu-img create -q -f raw '%s' 12M && "
			       "yes 'vmdeck compressed cluster test line' | head -c 3M | dd of='%s' conv=notrunc status=none && "
			       "head -c 2M /dev/urandom | dd of='%s' bs=1M seek=5 conv=notrunc status=none && "
			       "qemu-img convert -c -O qcow2 '%s' '%s'", raw, raw, raw, raw, f->img), 0);
	assert_reads_like_qemu(f->img);
	/* Also with small clusters, where compressed data crosses clusters. */
	assert_int_equal(dt_sh("qemu-img convert -c -O qcow2 -o cluster_size=4k '%s' '%s'", raw, f->img), 0);
	assert_reads_like_qemu(f->img);
	/* And we can write over compressed clusters. */
	struct blk *b = dt_open(f->img, false);
	uint8_t buf[10000];
	dt_pattern(buf, sizeof(buf), 1);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 12345), 0);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	assert_reads_like_qemu(f->img);
	free(raw);
}

static void test_qemu_extended_l2_overlay(void **state)
{
	struct dt_fx *f = *state;
	char *base = dt_join(f->dir, "base.qcow2");
	assert_int_equal(dt_sh("qemu-img create -q -f qcow2 '%s' 8M && qemu-io -c 'write -P 0x77 0 8M' '%s' >/dev/null && "
			       "qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=64k -b '%s' -F qcow2 '%s' && "
			       "qemu-io -c 'write -P 1 4K 4K' -c 'write -P 2 70K 10K' -c 'write -z 200K 8K' "
			       "-c 'write -P 3 1M 200K' -c 'discard 1M 64K' '%s' >/dev/null",
			       base, base, base, f->img, f->img), 0);
	assert_reads_like_qemu(f->img);
	/* Writing to a partly allocated extended-L2 cluster keeps the rest. */
	struct blk *b = dt_open(f->img, false);
	uint8_t buf[3000];
	dt_pattern(buf, sizeof(buf), 2);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 66000), 0);
	assert_int_equal(blk_write_zeroes(b, 2 << 20, 1 << 20, true), 0);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(dt_qemu_check(f->img), 0);
	assert_reads_like_qemu(f->img);
	free(base);
}

static void test_our_layouts_pass_qemu_check(void **state)
{
	struct dt_fx *f = *state;
	static const struct blk_create_options opts[] = {
		{ .cluster_size = 512 }, { .cluster_size = 2u << 20 }, { .refcount_bits = 1 },
		{ .refcount_bits = 64 }, { .lazy_refcounts = true }, { .compat = 2 },
		{ .extended_l2 = true }, { .cluster_size = 4096, .refcount_bits = 8 },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct blk_create_options o = opts[i];
		o.format = BLK_FORMAT_QCOW2;
		o.size = 8 << 20;
		struct error err;
		assert_int_equal(blk_create(f->img, &o, &err), 0);
		assert_int_equal(dt_qemu_check(f->img), 0);
		assert_int_equal(dt_sh("qemu-io %s '%s' >/dev/null", qemu_io_mix, f->img), 0);
		struct blk *b = dt_open(f->img, false);
		uint8_t buf[77777];
		dt_pattern(buf, sizeof(buf), i);
		assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 2 << 20), 0);
		assert_int_equal(blk_write_zeroes(b, 0, 128 << 10, false), 0);
		assert_int_equal(blk_close(b), 0);
		assert_int_equal(dt_qemu_check(f->img), 0);
		assert_reads_like_qemu(f->img);
		char *info = dt_sh_out(NULL, "qemu-img info '%s'", f->img);
		if (o.lazy_refcounts)
			assert_non_null(strstr(info, "lazy refcounts: true"));
		if (o.compat == 2)
			assert_non_null(strstr(info, "compat: 0.10"));
		if (o.extended_l2)
			assert_non_null(strstr(info, "extended l2: true"));
		free(info);
	}
}

/* Finds header extension TYPE in the first cluster; returns its data offset. */
static long find_ext(const char *img, uint32_t type, uint32_t *len)
{
	uint8_t c0[65536];
	FILE *fp = fopen(img, "rb");
	size_t n = fread(c0, 1, sizeof(c0), fp);
	fclose(fp);
	uint32_t off = be32_get(c0 + 100);
	while (off + 8 <= n) {
		uint32_t t = be32_get(c0 + off), l = be32_get(c0 + off + 4);
		if (t == 0)
			return type == 0 ? (long)off : -1;   /* the end marker itself */
		if (t == type) {
			*len = l;
			return off + 8;
		}
		off += 8 + ((l + 7) & ~7u);
	}
	return -1;
}

static void test_header_extensions_preserved(void **state)
{
	struct dt_fx *f = *state;
	char *base = dt_join(f->dir, "base.raw");
	assert_int_equal(dt_sh("qemu-img create -q -f raw '%s' 1M && qemu-img create -q -f qcow2 '%s' 1M",
			       base, f->img), 0);
	/* Put an extension nobody knows in front of the end marker. */
	uint32_t len;
	long end = find_ext(f->img, 0, &len);
	assert_true(end > 0);
	uint8_t ext[24] = { 0 };
	be32_put(ext, 0x12345678);
	be32_put(ext + 4, 5);
	memcpy(ext + 8, "hello", 5);
	FILE *fp = fopen(f->img, "r+b");
	fseek(fp, end, SEEK_SET);
	fwrite(ext, 1, sizeof(ext), fp);   /* ext (16 bytes) + a new end marker */
	fclose(fp);
	assert_int_equal(dt_qemu_check(f->img), 0);
	/* Our header rewrite (adding a backing file) keeps every extension. */
	struct blk_options o = { .no_backing = true };
	struct error err;
	struct blk *b = blk_open(f->img, &o, &err);
	assert_non_null(b);
	assert_int_equal(blk_set_backing(b, "base.raw", BLK_FORMAT_RAW, &err), 0);
	assert_int_equal(blk_close(b), 0);
	long at = find_ext(f->img, 0x12345678, &len);
	assert_true(at > 0);
	assert_int_equal(len, 5);
	assert_true(find_ext(f->img, 0x6803f857, &len) > 0);   /* feature name table */
	assert_true(find_ext(f->img, 0xe2792aca, &len) > 0);   /* backing format */
	assert_int_equal(len, 3);
	assert_int_equal(dt_qemu_check(f->img), 0);
	char *info = dt_sh_out(NULL, "qemu-img info '%s'", f->img);
	assert_non_null(strstr(info, "backing file format: raw"));
	free(info);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_qemu_layouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_compressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_extended_l2_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_our_layouts_pass_qemu_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_extensions_preserved, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_interop", tests, NULL, NULL);
}
