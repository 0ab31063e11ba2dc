/* The man page, the README and the built-in help must describe the same
 * commands and options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	s[fread(s, 1, (size_t)n, f)] = '\0';
	fclose(f);
	return s;
}

/* troff writes "--" as "\-\-"; undo that so plain searches work. */
static char *unescape_troff(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == '-') {
			*w++ = '-';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

/* Calls CHECK for every "--option" named in TEXT. */
static void for_each_option(const char *text, void (*check)(const char *opt, void *ctx), void *ctx)
{
	for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		char opt[64];
		size_t n = 2;
		memcpy(opt, "--", 2);
		while (n < sizeof(opt) - 1 && (islower((unsigned char)p[n]) || p[n] == '-'))
			opt[n] = p[n], n++;
		opt[n] = '\0';
		if (n > 3)
			check(opt, ctx);
	}
}

static void must_contain(const char *opt, void *doc)
{
	if (!strstr(doc, opt)) {
		printf("the document does not mention %s\n", opt);
		fail();
	}
}

static void test_man_page_covers_every_command_and_option(void **state)
{
	char *man = slurp("share/vmdeck.1");
	assert_non_null(man);
	unescape_troff(man);
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++) {
		char title[64];
		snprintf(title, sizeof(title), "vmdeck %s", (*c)->name);
		must_contain(title, man);
		for_each_option((*c)->help ? (*c)->help : "", must_contain, man);
		for_each_option((*c)->args, must_contain, man);
	}
	free(man);
}

static void test_readme_gives_the_two_setup_commands(void **state)
{
	char *readme = slurp("README.md");
	assert_non_null(readme);
	must_contain("make run", readme);
	must_contain("make check", readme);
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++) {
		char title[64];
		snprintf(title, sizeof(title), "vmdeck %s", (*c)->name);
		must_contain(title, readme);
	}
	free(readme);
}

static void test_every_command_has_usage_and_summary(void **state)
{
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++) {
		assert_non_null((*c)->args);
		assert_true(strlen((*c)->summary) > 10);
		assert_non_null((*c)->exec);
		assert_ptr_equal(cli_find((*c)->name), *c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_page_covers_every_command_and_option),
		cmocka_unit_test(test_readme_gives_the_two_setup_commands),
		cmocka_unit_test(test_every_command_has_usage_and_summary),
	};
	return cmocka_run_group_tests_name("documentation", tests, NULL, NULL);
}
