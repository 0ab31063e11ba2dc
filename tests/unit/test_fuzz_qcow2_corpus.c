/* Replays the committed seed corpus of tests/fuzz/fuzz_qcow2.c, so that
 * `make check` exercises the fuzz target without fuzzing time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_qcow2.c"

static char *corpus_dir(void)
{
	/* __FILE__ is tests/unit/...: the corpus sits next to the target. */
	const char *env = getenv("VMDECK_FUZZ_CORPUS");
	char *d = NULL;
	if (env)
		return strdup(env);
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 0;
	if (asprintf(&d, "%.*s%s../fuzz/corpus/qcow2", n, __FILE__, n ? "/" : "") < 0)
		return NULL;
	return d;
}

static size_t replay(const char *dir, const char *name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return 0;
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return 0;
	uint8_t *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	bool opened = fuzz_qcow2_one(buf, n);
	/* Truncations of each seed walk the "file too short" paths too. */
	for (size_t cut = 1; cut < n; cut = cut * 3 + 7)
		LLVMFuzzerTestOneInput(buf, cut);
	free(buf);
	if (!opened)
		fprintf(stderr, "seed %s did not open\n", name);
	return opened;
}

static void test_corpus(void **state)
{
	char *dir = corpus_dir();
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t seeds = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			seeds += replay(dir, e->d_name);
	closedir(d);
	free(dir);
	assert_true(seeds >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_corpus) };
	return cmocka_run_group_tests_name("fuzz_qcow2_corpus", tests, NULL, NULL);
}
