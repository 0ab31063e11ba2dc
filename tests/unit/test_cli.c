/* src/cli.c and the option parsing of src/cmd_run.c: help, version, usage
 * errors in one sentence with exit status 2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "tests/lib/testlib.h"

struct result {
	int code;
	char *out, *err;
};

/* Runs cli_main on the NULL-terminated ARGS with stdout and stderr captured. */
static struct result run_cli(const char *const *args)
{
	char *argv[32];
	int argc = 0;
	for (; args[argc]; argc++) {
		assert_true(argc < 31);
		argv[argc] = strdup(args[argc]);
	}
	argv[argc] = NULL;
	struct tl_capture co, ce;
	tl_capture_begin(&co, STDOUT_FILENO);
	tl_capture_begin(&ce, STDERR_FILENO);
	struct result r;
	r.code = cli_main(argc, argv);
	r.err = tl_capture_end(&ce);
	r.out = tl_capture_end(&co);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* A usage error is exactly one line on stderr, nothing on stdout, status 2. */
static void assert_usage_error(const struct result *r, const char *key)
{
	assert_int_equal(r->code, EXIT_USAGE);
	assert_string_equal(r->out, "");
	tl_assert_contains(r->err, key);
	assert_int_equal(tl_count(r->err, "\n"), 1);
	assert_int_equal(r->err[strlen(r->err) - 1], '\n');
}

static void find_knows_run_and_nothing_else(void **state)
{
	const struct cli_cmd *run = cli_find("run");
	assert_non_null(run);
	assert_string_equal(run->name, "run");
	assert_non_null(run->exec);
	tl_assert_contains(run->args, "--kernel FILE");
	assert_null(cli_find("nope"));
	assert_null(cli_find(""));
	assert_null(cli_find("RUN"));
	/* The table is NULL-terminated and names are unique. */
	unsigned n = 0;
	for (const struct cli_cmd *const *c = cli_cmds; *c; c++, n++)
		assert_ptr_equal(cli_find((*c)->name), *c);
	assert_true(n >= 1);
}

static void version_prints_one_line(void **state)
{
	for (int i = 0; i < 2; i++) {
		struct result r = run_cli((const char *[]){ "vmdeck", i ? "-V" : "--version", NULL });
		assert_int_equal(r.code, EXIT_OK);
		assert_string_equal(r.out, "vmdeck " VMDECK_VERSION "\n");
		assert_string_equal(r.err, "");
		result_free(&r);
	}
}

static void help_lists_every_command(void **state)
{
	static const char *const forms[][3] = {
		{ "vmdeck", "--help", NULL }, { "vmdeck", "-h", NULL }, { "vmdeck", "help", NULL },
	};
	for (size_t i = 0; i < 3; i++) {
		struct result r = run_cli(forms[i]);
		assert_int_equal(r.code, EXIT_OK);
		tl_assert_contains(r.out, "vmdeck " VMDECK_VERSION);
		tl_assert_contains(r.out, "usage: vmdeck");
		for (const struct cli_cmd *const *c = cli_cmds; *c; c++) {
			tl_assert_contains(r.out, (*c)->name);
			tl_assert_contains(r.out, (*c)->summary);
		}
		tl_assert_contains(r.out, "vmdeck help COMMAND");
		assert_string_equal(r.err, "");
		result_free(&r);
	}
}

static void help_run_shows_usage_and_every_option(void **state)
{
	static const char *const forms[][4] = {
		{ "vmdeck", "help", "run", NULL }, { "vmdeck", "run", "--help", NULL }, { "vmdeck", "run", "-h", NULL },
	};
	for (size_t i = 0; i < 3; i++) {
		struct result r = run_cli(forms[i]);
		assert_int_equal(r.code, EXIT_OK);
		tl_assert_contains(r.out, "usage: vmdeck run --kernel FILE");
		static const char *const opts[] = { "--kernel", "--initrd", "--cmdline", "--mem", "--cpus",
						    "--serial", "--no-reboot", "Ctrl-A x", "exit status" };
		for (size_t j = 0; j < sizeof(opts) / sizeof(opts[0]); j++)
			tl_assert_contains(r.out, opts[j]);
		assert_string_equal(r.err, "");
		result_free(&r);
	}
}

static void unknown_command_is_a_usage_error(void **state)
{
	struct result r = run_cli((const char *[]){ "vmdeck", "frobnicate", NULL });
	assert_usage_error(&r, "there is no command 'frobnicate'");
	tl_assert_contains(r.err, "vmdeck --help");
	result_free(&r);
	r = run_cli((const char *[]){ "vmdeck", "help", "frobnicate", NULL });
	assert_usage_error(&r, "there is no command 'frobnicate'");
	result_free(&r);
}

static void run_needs_a_kernel(void **state)
{
	struct result r = run_cli((const char *[]){ "vmdeck", "run", NULL });
	assert_usage_error(&r, "vmdeck run: --kernel FILE is required");
	result_free(&r);
}

static void run_refuses_bad_mem(void **state)
{
	static const char *const bad[] = { "abc", "", "-1", "1X", "12.", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct result r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", "k", "--mem", bad[i], NULL });
		char want[128];
		snprintf(want, sizeof(want), "--mem takes a size such as 512M or 2G, not '%s'", bad[i]);
		assert_usage_error(&r, want);
		result_free(&r);
	}
}

static void run_refuses_bad_cpus(void **state)
{
	static const char *const bad[] = { "x", "", "-1", "1.5", "2x", "100001", "99999999999999999999", " 1", "+1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct result r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", "k", "--cpus", bad[i], NULL });
		char want[128];
		snprintf(want, sizeof(want), "--cpus takes a whole number, not '%s'", bad[i]);
		assert_usage_error(&r, want);
		result_free(&r);
	}
}

static void run_refuses_bad_serial(void **state)
{
	static const char *const bad[] = { "tty", "file:", "socket:", "FILE:/x", "", "stdio2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct result r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", "k", "--serial", bad[i], NULL });
		char want[128];
		snprintf(want, sizeof(want), "--serial takes stdio, file:PATH, socket:PATH or none, not '%s'", bad[i]);
		assert_usage_error(&r, want);
		result_free(&r);
	}
}

static void run_refuses_unknown_option_and_stray_argument(void **state)
{
	struct result r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", "k", "--bogus", NULL });
	assert_usage_error(&r, "unknown option '--bogus'");
	tl_assert_contains(r.err, "vmdeck help run");
	result_free(&r);
	r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", "k", "extra", NULL });
	assert_usage_error(&r, "unexpected argument 'extra'");
	result_free(&r);
}

/* An option given without its value must say so, not call the option
 * unknown. */
static void run_option_without_value_says_so(void **state)
{
	static const char *const opts[] = { "--kernel", "--mem", "--cpus", "--serial", "--initrd", "--cmdline" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct result r = run_cli((const char *[]){ "vmdeck", "run", opts[i], NULL });
		char want[64];
		snprintf(want, sizeof(want), "%s needs a value", opts[i]);
		assert_usage_error(&r, want);
		tl_assert_not_contains(r.err, "unknown option");
		result_free(&r);
	}
}

/* Bad values found after parsing still get one sentence and status 2, and
 * never reach /dev/kvm: a missing kernel, a file that is not a kernel,
 * too little memory, zero vCPUs. */
static void run_bad_input_after_parsing(void **state)
{
	char *dir = tl_mkdtemp();
	char junk[600], missing[600];
	snprintf(junk, sizeof(junk), "%s/junk.bin", dir);
	snprintf(missing, sizeof(missing), "%s/no-such-kernel", dir);
	tl_write_file(junk, "this is not a kernel, just text\n", 32);
	setenv("VMDECK_KVM_DEVICE", "/nonexistent/kvm", 1);

	struct result r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", missing, "--serial", "none", NULL });
	assert_usage_error(&r, "cannot read the kernel");
	tl_assert_contains(r.err, missing);
	result_free(&r);

	r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", junk, "--serial", "none", NULL });
	assert_usage_error(&r, "is neither a Linux bzImage nor an ELF kernel with a PVH entry point");
	result_free(&r);

	r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", junk, "--mem", "1M", "--serial", "none", NULL });
	assert_usage_error(&r, "--mem 1M is below the minimum of 8M");
	result_free(&r);

	r = run_cli((const char *[]){ "vmdeck", "run", "--kernel", junk, "--cpus", "0", "--serial", "none", NULL });
	assert_usage_error(&r, "--cpus must be at least 1");
	result_free(&r);

	unsetenv("VMDECK_KVM_DEVICE");
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_knows_run_and_nothing_else),
		cmocka_unit_test(version_prints_one_line),
		cmocka_unit_test(help_lists_every_command),
		cmocka_unit_test(help_run_shows_usage_and_every_option),
		cmocka_unit_test(unknown_command_is_a_usage_error),
		cmocka_unit_test(run_needs_a_kernel),
		cmocka_unit_test(run_refuses_bad_mem),
		cmocka_unit_test(run_refuses_bad_cpus),
		cmocka_unit_test(run_refuses_bad_serial),
		cmocka_unit_test(run_refuses_unknown_option_and_stray_argument),
		cmocka_unit_test(run_option_without_value_says_so),
		cmocka_unit_test(run_bad_input_after_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
