/* Replays the virtqueue fuzz target (tests/fuzz/fuzz_virtqueue.c) under
 * `make check`: every file of its corpus, with the outcome its name
 * promises for the hand-made seeds, then deterministic mutants of them.
 * The target's FUZZ_CHECKs become cmocka asserts here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond) assert_true(cond)
#include "tests/fuzz/fuzz_virtqueue.c"

struct input {
	char name[256];
	uint8_t *data;
	size_t len;
};

static struct input *inputs;
static unsigned nr_inputs;

static const char *corpus_dir(void)
{
	const char *e = getenv("VMDECK_VQ_CORPUS");
	return e ? e : "tests/fuzz/corpus/virtqueue";
}

static int load_corpus(void **state)
{
	DIR *d = opendir(corpus_dir());
	if (!d) {
		fprintf(stderr, "cannot open the corpus %s (run from the repository root)\n", corpus_dir());
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			return -1;
		inputs = realloc(inputs, (nr_inputs + 1) * sizeof(*inputs));
		struct input *in = &inputs[nr_inputs++];
		snprintf(in->name, sizeof(in->name), "%s", e->d_name);
		fseek(f, 0, SEEK_END);
		in->len = (size_t)ftell(f);
		rewind(f);
		in->data = malloc(in->len ? in->len : 1);
		if (fread(in->data, 1, in->len, f) != in->len)
			return -1;
		fclose(f);
	}
	closedir(d);
	return 0;
}

static int free_corpus(void **state)
{
	for (unsigned i = 0; i < nr_inputs; i++)
		free(inputs[i].data);
	free(inputs);
	return 0;
}

static const struct { const char *name; enum vq_error err; } errors[] = {
	{ "head", VQ_BAD_HEAD }, { "next", VQ_BAD_NEXT }, { "loop", VQ_LOOP }, { "ram", VQ_OUT_OF_RAM },
	{ "order", VQ_ORDER }, { "nested", VQ_NESTED_INDIRECT }, { "indirect", VQ_BAD_INDIRECT },
	{ "many", VQ_TOO_MANY }, { "ring", VQ_BAD_RING },
};

static enum vq_error expected_error(const char *name)
{
	for (unsigned i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		size_t n = strlen(errors[i].name);
		if (!strncmp(name + 4, errors[i].name, n) && (name[4 + n] == '-' || name[4 + n] == 0))
			return errors[i].err;
	}
	fail_msg("seed %s names no known error", name);
	return VQ_OK;
}

static const struct { const char *name; unsigned popped; } exact_pops[] = {
	{ "ok-direct", 1 }, { "ok-mixed-event-idx", 3 }, { "ok-full-ring-reenable", 8 },
	{ "ok-256-long-chain", 1 }, { "bad-ring-after-good", 1 }, { "bad-loop-ab", 0 },
};

static void test_corpus(void **state)
{
	unsigned ok = 0, bad = 0, off = 0;
	for (unsigned i = 0; i < nr_inputs; i++) {
		const struct input *in = &inputs[i];
		struct vqf_result r;
		vqf_run(in->data, in->len, &r);
		assert_int_equal(LLVMFuzzerTestOneInput(in->data, in->len), 0);
		bool want_ok = !strncmp(in->name, "ok-", 3), want_bad = !strncmp(in->name, "bad-", 4);
		bool want_off = !strncmp(in->name, "off-", 4);
		if (want_ok && (!r.enabled || r.broken || r.popped == 0))
			printf("%s: enabled %d, popped %u, broken %d (%s)\n", in->name, r.enabled, r.popped, r.broken,
			       vq_error_text(r.last_error));
		if (want_ok) {
			assert_true(r.enabled);
			assert_false(r.broken);
			assert_true(r.popped >= 1);
			ok++;
		} else if (want_bad) {
			enum vq_error e = expected_error(in->name);
			if (!r.broken || r.last_error != e)
				printf("%s: broken %d with %s, wanted %s\n", in->name, r.broken,
				       vq_error_text(r.last_error), vq_error_text(e));
			assert_true(r.enabled);
			assert_true(r.broken);
			assert_int_equal(r.last_error, e);
			bad++;
		} else if (want_off) {
			assert_false(r.enabled);
			off++;
		}
		for (unsigned k = 0; k < sizeof(exact_pops) / sizeof(exact_pops[0]); k++)
			if (!strcmp(in->name, exact_pops[k].name))
				assert_int_equal(r.popped, exact_pops[k].popped);
	}
	/* The hand-made seeds are all there. */
	assert_true(ok >= 7);
	assert_true(bad >= 16);
	assert_true(off >= 2);
}

/* xorshift64*: the same mutants on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void test_mutants(void **state)
{
	static const uint8_t interesting[] = { 0, 1, 2, 4, 6, 7, 15, 16, 0x10, 0x7f, 0x80, 0xff };
	unsigned runs = 0, broken = 0, popped = 0;
	for (unsigned i = 0; i < nr_inputs; i++) {
		const struct input *in = &inputs[i];
		uint8_t *buf = malloc(in->len + 1);
		assert_non_null(buf);
		for (unsigned m = 0; m < 300; m++) {
			memcpy(buf, in->data, in->len);
			size_t len = in->len;
			unsigned flips = 1 + (unsigned)(rng() % 4);
			for (unsigned k = 0; k < flips && len > VQF_HEADER; k++) {
				/* Mostly where the rings and tables are. */
				size_t span = len < 1024 || rng() % 4 ? (len < 1024 ? len : 1024) : len;
				size_t at = (size_t)(rng() % span);
				buf[at] = rng() % 2 ? (uint8_t)rng() : interesting[rng() % sizeof(interesting)];
			}
			if (rng() % 16 == 0)
				len = (size_t)(rng() % (len + 1));
			struct vqf_result r;
			vqf_run(buf, len, &r);
			runs++;
			broken += r.broken;
			popped += r.popped;
		}
		free(buf);
	}
	/* The mutants reach both outcomes. */
	assert_true(runs >= 300 * 20);
	assert_true(broken > runs / 20);
	assert_true(popped > runs / 4);
}

/* Headers alone: every size code and flag combination over zeroed RAM. */
static void test_headers(void **state)
{
	struct vqf_result r;
	vqf_run((const uint8_t *)"", 0, &r);
	assert_false(r.enabled);
	vqf_run((const uint8_t *)"\x04\x00\x00", 3, &r);
	assert_false(r.enabled);
	for (unsigned code = 0; code < 16; code++)
		for (unsigned flags = 0; flags < 8; flags++) {
			uint8_t h[VQF_HEADER] = { (uint8_t)code, (uint8_t)flags, 0, 1, 0, 2, 0, 3 };
			vqf_run(h, sizeof(h), &r);
			/* Packed, or at 0x100/0x200/0x300 (overlapping, but aligned
			 * and in RAM): only the size decides. */
			assert_int_equal(r.enabled, code <= 10);
			assert_int_equal(r.popped, 0);
			assert_false(r.broken);
		}
}

int main(void)
{
	alarm(300);          /* a chain walk that never ends must fail, not hang `make check` */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_mutants),
		cmocka_unit_test(test_headers),
	};
	return cmocka_run_group_tests_name("fuzz_virtqueue replay", tests, load_corpus, free_corpus);
}
