/* Replays the seed corpus (and any crash reproducer added to it) of the
 * libFuzzer target fuzz_virtio_net_frag, so that `make check` checks the
 * fragmentation invariants without clang's fuzzer runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_virtio_net_frag.c"

#define CORPUS "tests/fuzz/corpus/virtio_net_frag"

static void test_replay_corpus(void **state)
{
	DIR *d = opendir(CORPUS);
	assert_non_null(d);
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), CORPUS "/%s", e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static uint8_t buf[1 << 17];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
	/* Some seeds are split, the others are left whole for a reason. */
	assert_true(fuzz_frag_splits >= 3);
	assert_true(fuzz_frag_splits < n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_corpus),
	};
	return cmocka_run_group_tests_name("fuzz_virtio_net_frag corpus", tests, NULL, NULL);
}
