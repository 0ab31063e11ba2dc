/* qcow2 format paths, each checked against a model in memory and against
 * the real qemu-img (check, and convert -O raw for the contents). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <unistd.h>

#include "disk/be.h"
#include "disk/blk_int.h"
#include "tests/lib/disk_util.h"

static int setup(void **state)
{
	*state = dt_fx_new("t.qcow2");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dt_fx_free(*state);
	return 0;
}

static void create(const char *path, uint64_t size, uint32_t cluster, unsigned rbits, bool lazy)
{
	struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = size, .cluster_size = cluster,
					.refcount_bits = rbits, .lazy_refcounts = lazy };
	struct error err;
	int ret = blk_create(path, &o, &err);
	if (ret)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(ret, 0);
}

/* Random writes of random sizes, mirrored in MODEL. */
static void random_writes(struct blk *b, uint8_t *model, uint64_t size, int count, uint64_t seed)
{
	uint8_t *buf = malloc(256 << 10);
	srand((unsigned)seed);
	for (int i = 0; i < count; i++) {
		size_t len = 1 + (size_t)rand() % (256 << 10);
		uint64_t off = (uint64_t)rand() * 4096 % size;
		if (rand() % 2)
			off &= ~511ull, len = (len + 511) & ~511ul;
		if (off + len > size)
			len = (size_t)(size - off);
		dt_pattern(buf, len, seed * 1000 + (uint64_t)i);
		assert_int_equal(blk_pwrite(b, buf, len, off), 0);
		memcpy(model + off, buf, len);
	}
	free(buf);
}

static void assert_model(struct blk *b, const uint8_t *model, uint64_t size)
{
	uint8_t *buf = malloc(size);
	assert_int_equal(blk_pread(b, buf, size, 0), 0);
	for (uint64_t i = 0; i < size; i++)
		if (buf[i] != model[i]) {
			fprintf(stderr, "mismatch at %llu: 0x%02x != 0x%02x\n", (unsigned long long)i, buf[i], model[i]);
			fail();
		}
	free(buf);
}

static void assert_qemu_agrees(const char *path)
{
	assert_int_equal(dt_qemu_check(path), 0);
	struct blk *b = dt_open(path, true);
	assert_non_null(b);
	assert_int_equal(dt_same_as_qemu(b, path), 0);
	blk_close(b);
}

static void test_alloc_on_write(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 32 << 20;
	create(f->img, size, 0, 0, false);
	uint8_t *model = calloc(1, size);
	struct blk *b = dt_open(f->img, false);
	assert_non_null(b);
	random_writes(b, model, size, 200, 1);
	assert_model(b, model, size);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	b = dt_open(f->img, true);
	assert_model(b, model, size);
	blk_close(b);
	free(model);
}

static void test_small_clusters_and_refcount_growth(void **state)
{
	struct dt_fx *f = *state;
	/* 512-byte clusters: one refcount block covers 128 KiB and a
	 * one-cluster table 8 MiB, so 12 MiB of data grows the table. */
	uint64_t size = 16 << 20;
	create(f->img, size, 512, 0, false);
	uint8_t *model = calloc(1, size);
	struct blk *b = dt_open(f->img, false);
	uint8_t *buf = malloc(1 << 20);
	for (uint64_t off = 0; off < (12u << 20); off += 1 << 20) {
		dt_pattern(buf, 1 << 20, off);
		assert_int_equal(blk_pwrite(b, buf, 1 << 20, off), 0);
		memcpy(model + off, buf, 1 << 20);
	}
	random_writes(b, model, size, 50, 2);
	assert_int_equal(blk_close(b), 0);
	uint8_t h[60];
	FILE *fp = fopen(f->img, "rb");
	assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
	fclose(fp);
	assert_true(be32_get(h + 56) > 1);   /* refcount_table_clusters grew */
	assert_qemu_agrees(f->img);
	b = dt_open(f->img, true);
	assert_model(b, model, size);
	blk_close(b);
	free(buf);
	free(model);
}

static void test_refcount_bits(void **state)
{
	struct dt_fx *f = *state;
	static const unsigned bits[] = { 1, 2, 4, 8, 32, 64 };
	for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
		uint64_t size = 8 << 20;
		create(f->img, size, 4096, bits[k], false);
		uint8_t *model = calloc(1, size);
		struct blk *b = dt_open(f->img, false);
		random_writes(b, model, size, 40, 10 + k);
		assert_int_equal(blk_write_zeroes(b, 1 << 20, 1 << 20, true), 0);
		memset(model + (1 << 20), 0, 1 << 20);
		assert_int_equal(blk_close(b), 0);
		assert_qemu_agrees(f->img);
		b = dt_open(f->img, true);
		assert_model(b, model, size);
		blk_close(b);
		free(model);
	}
}

static void test_write_zeroes(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 8 << 20;
	create(f->img, size, 0, 0, false);
	uint8_t *model = calloc(1, size);
	struct blk *b = dt_open(f->img, false);
	random_writes(b, model, size, 60, 3);
	/* Unaligned, aligned keep-allocation, aligned unmap. */
	assert_int_equal(blk_write_zeroes(b, 1000, 200000, false), 0);
	memset(model + 1000, 0, 200000);
	uint8_t *fill = malloc(1 << 20);
	dt_pattern(fill, 1 << 20, 31);
	assert_int_equal(blk_pwrite(b, fill, 1 << 20, 1 << 20), 0);
	free(fill);
	assert_int_equal(blk_write_zeroes(b, 1 << 20, 1 << 20, false), 0);
	memset(model + (1 << 20), 0, 1 << 20);
	assert_int_equal(blk_write_zeroes(b, 3 << 20, (2 << 20) + 12345, true), 0);
	memset(model + (3 << 20), 0, (2 << 20) + 12345);
	uint64_t pnum;
	unsigned st;
	assert_int_equal(blk_block_status(b, 1 << 20, 1 << 20, &pnum, &st), 0);
	assert_true(st & BLK_STATUS_ZERO);
	assert_model(b, model, size);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	/* qemu-img map reports the kept allocation as zero with an offset. */
	char *map = dt_sh_out(NULL, "qemu-img map --output=json '%s'", f->img);
	char *line = strstr(map, "\"start\": 1048576,");
	assert_non_null(line);
	*strchr(line, '}') = 0;
	assert_non_null(strstr(line, "\"present\": true, \"zero\": true, \"data\": false, \"offset\""));
	free(map);
	free(model);
}

static void test_discard(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 16 << 20;
	create(f->img, size, 0, 0, false);
	struct blk *b = dt_open(f->img, false);
	uint8_t *buf = malloc(size);
	dt_pattern(buf, size, 4);
	assert_int_equal(blk_pwrite(b, buf, size, 0), 0);
	assert_int_equal(blk_flush(b), 0);
	struct stat before, after;
	stat(f->img, &before);
	assert_int_equal(blk_discard(b, 2 << 20, 8 << 20), 0);
	/* Partial clusters are left alone. */
	assert_int_equal(blk_discard(b, 100, 1000), 0);
	assert_int_equal(blk_flush(b), 0);
	stat(f->img, &after);
	assert_true(after.st_blocks < before.st_blocks);
	memset(buf + (2 << 20), 0, 8 << 20);
	assert_model(b, buf, size);
	/* Freed clusters are reused by later writes. */
	dt_pattern(buf + (4 << 20), 1 << 20, 5);
	assert_int_equal(blk_pwrite(b, buf + (4 << 20), 1 << 20, 4 << 20), 0);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	struct stat end;
	stat(f->img, &end);
	assert_true(end.st_size <= before.st_size);
	free(buf);
}

static void test_resize(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 4 << 20;
	/* 4 KiB clusters: one L2 table maps 2 MiB, so growing moves the L1. */
	create(f->img, size, 4096, 0, false);
	struct blk *b = dt_open(f->img, false);
	uint8_t *buf = malloc(64 << 20);
	dt_pattern(buf, size, 6);
	assert_int_equal(blk_pwrite(b, buf, size, 0), 0);
	struct error err;
	assert_int_equal(blk_truncate(b, 64 << 20, false, &err), 0);
	assert_int_equal(blk_size(b), 64 << 20);
	dt_pattern(buf + (60 << 20), 1 << 20, 7);
	assert_int_equal(blk_pwrite(b, buf + (60 << 20), 1 << 20, 60 << 20), 0);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	b = dt_open(f->img, false);
	assert_int_equal(blk_truncate(b, 3 << 20, false, &err), -1);
	assert_non_null(strstr(err.msg, "--shrink"));
	assert_int_equal(blk_truncate(b, (3 << 20) + 512, true, &err), 0);
	assert_int_equal(blk_truncate(b, 5 << 20, false, &err), 0);
	memset(buf + (3 << 20) + 512, 0, (2 << 20) - 512);
	assert_model(b, buf, 5 << 20);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	free(buf);
}

static uint64_t incompat_on_disk(const char *path)
{
	uint8_t h[80];
	FILE *fp = fopen(path, "rb");
	assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
	fclose(fp);
	return be64_get(h + 72);
}

static void test_lazy_refcounts(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 8 << 20;
	create(f->img, size, 0, 0, true);
	struct blk *b = dt_open(f->img, false);
	assert_int_equal(incompat_on_disk(f->img) & 1, 0);
	uint8_t *model = calloc(1, size);
	random_writes(b, model, size, 30, 8);
	assert_int_equal(incompat_on_disk(f->img) & 1, 1);    /* dirty while open */
	assert_int_equal(blk_flush(b), 0);
	assert_int_equal(blk_close(b), 0);
	assert_int_equal(incompat_on_disk(f->img) & 1, 0);    /* clean after close */
	assert_qemu_agrees(f->img);

	/* A writer that dies without closing leaves the dirty bit; the next
	 * writable open rebuilds the refcounts. */
	pid_t pid = fork();
	if (pid == 0) {
		struct blk *c = dt_open(f->img, false);
		uint8_t *m2 = calloc(1, size);
		random_writes(c, m2, size, 30, 9);
		blk_flush(c);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	assert_int_equal(incompat_on_disk(f->img) & 1, 1);
	b = dt_open(f->img, false);
	assert_non_null(b);
	assert_int_equal(incompat_on_disk(f->img) & 1, 0);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	free(model);
}

static void test_version2(void **state)
{
	struct dt_fx *f = *state;
	assert_int_equal(dt_sh("qemu-img create -q -f qcow2 -o compat=0.10 '%s' 8M", f->img), 0);
	assert_int_equal(dt_sh("qemu-io -c 'write -P 0x5a 1M 1M' '%s' >/dev/null", f->img), 0);
	uint64_t size = 8 << 20;
	uint8_t *model = calloc(1, size);
	memset(model + (1 << 20), 0x5a, 1 << 20);
	struct blk *b = dt_open(f->img, false);
	struct blk_info info;
	blk_get_info(b, &info);
	assert_int_equal(info.qcow2_version, 2);
	assert_model(b, model, size);
	random_writes(b, model, size, 30, 11);
	assert_int_equal(blk_write_zeroes(b, 1 << 20, 1 << 20, true), 0);
	memset(model + (1 << 20), 0, 1 << 20);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	b = dt_open(f->img, true);
	assert_model(b, model, size);
	blk_close(b);
	free(model);
}

static void test_compressed_write_read(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 4 << 20;
	create(f->img, size, 0, 0, false);
	struct blk *b = dt_open(f->img, false);
	uint8_t *model = calloc(1, size);
	/* Compressible (text-like) and incompressible clusters. */
	for (uint64_t c = 0; c < 48; c++) {
		uint8_t *p = model + c * 65536;
		if (c % 3)
			for (int i = 0; i < 65536; i++)
				p[i] = (uint8_t)("vmdeck qcow2 "[i % 13] + (c & 7));
		else
			dt_pattern(p, 65536, c);
		assert_int_equal(blk_write_compressed(b, c * 65536, p, 65536), 0);
	}
	assert_int_equal(blk_write_compressed(b, 0, model, 65536), -EEXIST);
	assert_model(b, model, size);
	/* Overwriting part of a compressed cluster copies it out first. */
	memset(model + 65536 + 100, 0xee, 300);
	assert_int_equal(blk_pwrite(b, model + 65536 + 100, 300, 65536 + 100), 0);
	assert_model(b, model, size);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	char *info = dt_sh_out(NULL, "qemu-img check '%s' 2>&1", f->img);
	assert_null(strstr(info, " 0.00% compressed"));
	free(info);
	free(model);
}

static void test_cache_none(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 16 << 20;
	/* Small clusters and lazy refcounts: L1 entries, headers and refcount
	 * blocks are all written through the O_DIRECT bounce path. */
	create(f->img, size, 4096, 0, true);
	uint8_t *model = calloc(1, size);
	struct blk_options o = { .cache = BLK_CACHE_NONE };
	struct error err;
	struct blk *b = blk_open(f->img, &o, &err);
	assert_non_null(b);
	random_writes(b, model, size, 80, 21);
	assert_int_equal(blk_snapshot_create(b, "s", 0, &err), 0);
	random_writes(b, model, size, 20, 22);
	assert_model(b, model, size);
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
	free(model);
}

struct worker {
	struct blk *b;
	uint64_t base, len;
	int id;
	int failures;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[16384], back[16384];
	for (int i = 0; i < 300; i++) {
		uint64_t off = w->base + (uint64_t)(i * 7919 % (int)(w->len / 4096)) * 4096;
		size_t n = 4096 * (size_t)(1 + i % 4);
		if (off + n > w->base + w->len)
			n = (size_t)(w->base + w->len - off);
		dt_pattern(buf, n, (uint64_t)w->id * 100000 + (uint64_t)i);
		if (blk_pwrite(w->b, buf, n, off) || blk_pread(w->b, back, n, off) || memcmp(buf, back, n))
			w->failures++;
		if (i % 50 == 0 && blk_flush(w->b))
			w->failures++;
	}
	return NULL;
}

static void test_parallel_io(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 64 << 20;
	create(f->img, size, 0, 0, false);
	struct blk *b = dt_open(f->img, false);
	enum { N = 8 };
	pthread_t th[N];
	struct worker w[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .b = b, .base = (uint64_t)i * (size / N) + 512, .len = size / N - 4096, .id = i };
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(blk_close(b), 0);
	assert_qemu_agrees(f->img);
}

static void test_enospc_and_eio(void **state)
{
	struct dt_fx *f = *state;
	uint64_t size = 8 << 20;
	create(f->img, size, 0, 0, false);
	struct blk *b = dt_open(f->img, false);
	uint8_t *model = calloc(1, size);
	random_writes(b, model, size, 20, 12);
	dt_pattern(model, 4096, 15);
	assert_int_equal(blk_pwrite(b, model, 4096, 0), 0);
	assert_int_equal(blk_flush(b), 0);
	uint8_t buf[70000];
	dt_pattern(buf, sizeof(buf), 13);
	/* An allocating write that hits ENOSPC fails cleanly... */
	struct bfile_fault fault = { .mask = BFILE_FAULT_WRITE, .errnum = ENOSPC };
	bfile_set_fault(b->file, &fault);
	assert_int_equal(blk_pwrite(b, buf, sizeof(buf), 7 << 20), -ENOSPC);
	assert_int_equal(blk_flush(b) == 0 || blk_flush(b) == -ENOSPC, 1);
	/* ...so does a sync that reports EIO... */
	fault = (struct bfile_fault){ .mask = BFILE_FAULT_SYNC, .errnum = EIO };
	bfile_set_fault(b->file, &fault);
	assert_int_equal(blk_flush(b), -EIO);
	fault = (struct bfile_fault){ .mask = BFILE_FAULT_READ, .errnum = EIO };
	bfile_set_fault(b->file, &fault);
	assert_int_equal(blk_pread(b, buf, 4096, 0), -EIO);
	/* ...and once the host recovers, everything before is still there. */
	bfile_set_fault(b->file, NULL);
	assert_model(b, model, size);
	random_writes(b, model, size, 10, 14);
	assert_int_equal(blk_close(b), 0);
	int rc = dt_qemu_check(f->img);
	assert_true(rc == 0 || rc == 3);   /* leaks are allowed, corruption is not */
	b = dt_open(f->img, true);
	assert_model(b, model, size);
	blk_close(b);
	free(model);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_on_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_clusters_and_refcount_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_refcounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compressed_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc_and_eio, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_qcow2", tests, NULL, NULL);
}
