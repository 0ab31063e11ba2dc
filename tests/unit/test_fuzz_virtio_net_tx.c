/* Replays the seed corpus (and any crash reproducer added to it) of the
 * libFuzzer target fuzz_virtio_net_tx, so that `make check` runs the
 * target's code and its invariants without clang's fuzzer runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/testlib.h"
#include "tests/fuzz/fuzz_virtio_net_tx.c"

#define CORPUS "tests/fuzz/corpus/virtio_net_tx"

static void test_replay_corpus(void **state)
{
	unsigned n = tl_replay_corpus(CORPUS, LLVMFuzzerTestOneInput);
	assert_true(n >= 20);
	/* The seeds reach the paths they are named for. */
	struct fuzz_state *s = setup();
	struct virtio_net_stats st;
	virtio_net_get_stats(s->n, &st);
	assert_true(st.tx_packets >= 5);
	assert_true(st.tx_errors >= 3);
	assert_true(st.tx_oversized >= 1);
	assert_true(st.rx_packets >= 1);
	assert_true(st.ctrl_commands >= 3);
	assert_true(s->n->vp.bad_chains >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_corpus),
	};
	return cmocka_run_group_tests_name("fuzz_virtio_net_tx corpus", tests, NULL, NULL);
}
