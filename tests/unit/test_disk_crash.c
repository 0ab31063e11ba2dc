/* Crash consistency: a writer process is killed with SIGKILL at random
 * points, many times over the same image.  After each kill qemu-img check
 * must find no corruption (leaks are allowed) and every write that a
 * completed flush covered must read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/disk_util.h"

#define SLOT 2048u
#define NSLOTS 16384u                /* a 32 MiB image */
#define SIZE ((uint64_t)SLOT * NSLOTS)
#define ROUNDS 40
#define MAX_OPS 100000

enum kind { K_DATA, K_ZERO };

/* One journal record, written before the operation it names. */
struct rec {
	char type;            /* 'W' intent, 'F' flush completed */
	uint8_t kind;
	uint16_t pad;
	uint32_t first, n;    /* slots */
	uint32_t gen;         /* 'F': number of intents it covers */
};

static void slot_data(uint8_t *buf, uint32_t slot, uint32_t gen)
{
	dt_pattern(buf, SLOT, ((uint64_t)gen << 20) ^ slot);
}

static void child_write(struct blk *b, int jfd, uint32_t *seq, uint8_t *buf)
{
	struct rec r = { .type = 'W', .gen = ++*seq };
	int op = rand() % 10;
	if (op < 7) {
		r.kind = K_DATA;
		r.n = 1 + (uint32_t)rand() % 24;
	} else if (op < 9) {
		r.kind = K_ZERO;
		r.n = 1 + (uint32_t)rand() % 48;
	} else {
		r.kind = K_ZERO;   /* discard of whole clusters reads as zeros */
		r.n = 4;
	}
	r.first = (uint32_t)rand() % (NSLOTS - r.n);
	if (op == 9)
		r.first &= ~3u;
	if (write(jfd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	uint64_t off = (uint64_t)r.first * SLOT, len = (uint64_t)r.n * SLOT;
	int ret;
	if (r.kind == K_DATA) {
		for (uint32_t i = 0; i < r.n; i++)
			slot_data(buf + (size_t)i * SLOT, r.first + i, r.gen);
		ret = blk_pwrite(b, buf, len, off);
	} else if (op < 9) {
		ret = blk_write_zeroes(b, off, len, rand() % 2);
	} else {
		ret = blk_discard(b, off, len);
	}
	if (ret)
		_exit(3);
}

static void child(const char *img, const char *journal, unsigned seed, uint32_t seq0)
{
	srand(seed);
	int jfd = open(journal, O_WRONLY | O_APPEND);
	/* A tiny L2 cache makes tables leave the cache between flushes, so
	 * eviction ordering is exercised too. */
	struct blk_options o = { .l2_cache_bytes = 4 * 4096 };
	struct error err;
	struct blk *b = blk_open(img, &o, &err);
	if (jfd < 0 || !b)
		_exit(1);
	uint8_t *buf = malloc(48 * SLOT);
	uint32_t seq = seq0, since = 0;
	for (;;) {
		child_write(b, jfd, &seq, buf);
		if (++since >= 1 + (uint32_t)rand() % 8) {
			if (blk_flush(b))
				_exit(4);
			struct rec f = { .type = 'F', .gen = seq };
			if (write(jfd, &f, sizeof(f)) != sizeof(f))
				_exit(2);
			since = 0;
		}
	}
}

struct model {
	uint8_t *base;        /* verified contents before the round */
	struct rec *ops;
	size_t nops;
	uint32_t flushed;     /* intents up to this gen are durable */
};

static size_t load_journal(const char *journal, size_t from, struct model *m)
{
	int fd = open(journal, O_RDONLY);
	struct rec r;
	size_t k = 0;
	m->nops = 0;
	m->flushed = 0;
	while (read(fd, &r, sizeof(r)) == sizeof(r)) {
		if (k++ < from)
			continue;
		if (r.type == 'F')
			m->flushed = r.gen;
		else if (m->nops < MAX_OPS)
			m->ops[m->nops++] = r;
	}
	close(fd);
	return k;
}

static void candidate(const struct model *m, const struct rec *op, uint32_t slot, uint8_t *out)
{
	if (!op)
		memcpy(out, m->base + (size_t)slot * SLOT, SLOT);
	else if (op->kind == K_ZERO)
		memset(out, 0, SLOT);
	else
		slot_data(out, slot, op->gen);
}

/* The slot must hold what the last durable op left, or what a later
 * (unflushed, possibly torn at page granularity: a SLOT never spans two pages) op wrote. */
static bool slot_ok(const struct model *m, uint32_t slot, const uint8_t *got, uint8_t *tmp)
{
	const struct rec *durable = NULL;
	bool any_later_match = false;
	for (size_t i = 0; i < m->nops; i++) {
		const struct rec *op = &m->ops[i];
		if (slot < op->first || slot >= op->first + op->n)
			continue;
		if (op->gen <= m->flushed) {
			durable = op;
		} else if (!any_later_match) {
			candidate(m, op, slot, tmp);
			any_later_match = !memcmp(tmp, got, SLOT);
		}
	}
	if (any_later_match)
		return true;
	candidate(m, durable, slot, tmp);
	return !memcmp(tmp, got, SLOT);
}

static void verify_round(const char *img, struct model *m, int round)
{
	int rc = dt_qemu_check(img);
	if (rc != 0 && rc != 3) {
		dt_sh("qemu-img check '%s' | head -20", img);
		fail_msg("round %d: qemu-img check says %d", round, rc);
	}
	struct blk *b = dt_open(img, true);
	assert_non_null(b);
	uint8_t *now = malloc(SIZE), tmp[SLOT];
	assert_int_equal(blk_pread(b, now, SIZE, 0), 0);
	blk_close(b);
	for (uint32_t s = 0; s < NSLOTS; s++)
		if (!slot_ok(m, s, now + (size_t)s * SLOT, tmp))
			fail_msg("round %d: slot %u lost data that a flush covered", round, s);
	memcpy(m->base, now, SIZE);
	free(now);
}

static void run(bool lazy, int rounds)
{
	char *dir = dt_mkdtemp(), *img = dt_join(dir, "c.qcow2"), *journal = dt_join(dir, "journal");
	struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = SIZE, .lazy_refcounts = lazy,
					.cluster_size = 4096 };
	struct error err;
	assert_int_equal(blk_create(img, &o, &err), 0);
	close(open(journal, O_CREAT | O_WRONLY | O_TRUNC, 0644));
	struct model m = { .base = calloc(1, SIZE), .ops = calloc(MAX_OPS, sizeof(struct rec)) };
	size_t seen = 0;
	uint32_t seq = 0;
	srand(12345);
	for (int round = 0; round < rounds; round++) {
		pid_t pid = fork();
		if (pid == 0)
			child(img, journal, (unsigned)round * 7919u + 1, seq);
		struct timespec ts = { 0, (long)(5 + rand() % 120) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		assert_true(WIFSIGNALED(st));
		seen = load_journal(journal, seen, &m);
		for (size_t i = 0; i < m.nops; i++)
			if (m.ops[i].gen > seq)
				seq = m.ops[i].gen;
		if (lazy) {
			/* A dirty lazy image is repaired by the next writable open. */
			struct blk *b = dt_open(img, false);
			assert_non_null(b);
			assert_int_equal(blk_close(b), 0);
		}
		verify_round(img, &m, round);
	}
	free(m.base);
	free(m.ops);
	dt_rmtree(dir);
	free(dir);
	free(img);
	free(journal);
}

static void test_kill9_writer(void **state)
{
	run(false, ROUNDS);
}

static void test_kill9_lazy_writer(void **state)
{
	run(true, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_writer),
		cmocka_unit_test(test_kill9_lazy_writer),
	};
	return cmocka_run_group_tests_name("disk_crash", tests, NULL, NULL);
}
