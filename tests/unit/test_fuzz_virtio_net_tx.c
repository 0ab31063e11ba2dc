/* Replays the seed corpus (and any crash reproducer added to it) of the
 * libFuzzer target fuzz_virtio_net_tx, so that `make check` runs the
 * target's code and its invariants without clang's fuzzer runtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_virtio_net_tx.c"

#define CORPUS "tests/fuzz/corpus/virtio_net_tx"

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
		static uint8_t buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
		n++;
	}
	closedir(d);
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
