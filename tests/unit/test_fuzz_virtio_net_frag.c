/* Replays the seed corpus (and any crash reproducer added to it) of the
 * libFuzzer target fuzz_virtio_net_frag, so that `make check` checks the
 * fragmentation invariants without clang's fuzzer runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/testlib.h"
#include "tests/fuzz/fuzz_virtio_net_frag.c"

#define CORPUS "tests/fuzz/corpus/virtio_net_frag"

static void test_replay_corpus(void **state)
{
	unsigned n = tl_replay_corpus(CORPUS, LLVMFuzzerTestOneInput);
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
