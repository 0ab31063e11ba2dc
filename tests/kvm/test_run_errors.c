/* `vmdeck run` refuses bad input with one sentence and exit code 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/spawn.h"

static char tmpdir[] = "/tmp/vmdeck-errors-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static const char *tmp_file(const char *name, const void *data, size_t len, int mode)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Runs ARGV with ENV; expects exit 2 and one line on stderr containing
 * WANT, and nothing on stdout. */
static void expect_refusal_argv(char *const env[], const char *want, char *const argv[])
{
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, env, NULL, 20000, &r), 0);
	if (r.status != 2 || !strstr(r.err, want))
		printf("exit %d, stderr: %s(wanted \"%s\")\n", r.status, r.err, want);
	assert_false(r.signaled);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, want));
	char *nl = strchr(r.err, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, "");     /* exactly one line */
	assert_string_equal(r.out, "");
	spawn_free(&r);
}

/* The same for vmdeck with ARGS (NULL-terminated). */
static void expect_refusal(char *const env[], const char *want, ...)
{
	char *argv[32] = { (char *)vmdeck_bin() };
	int n = 1;
	va_list ap;
	va_start(ap, want);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	expect_refusal_argv(env, want, argv);
}

static void test_missing_kernel_option(void **state)
{
	expect_refusal(NULL, "--kernel FILE is required", "run", NULL);
}

static void test_missing_kernel_file(void **state)
{
	expect_refusal(NULL, "cannot read the kernel '/nonexistent/vmlinuz': No such file",
		       "run", "--kernel", "/nonexistent/vmlinuz", NULL);
}

static void test_kernel_that_is_a_directory(void **state)
{
	expect_refusal(NULL, "is not a regular file", "run", "--kernel", "/tmp", NULL);
}

static void test_kernel_not_a_kernel(void **state)
{
	const char *p = tmp_file("notes.txt", "hello, world\n", 13, 0644);
	expect_refusal(NULL, "neither a Linux bzImage nor an ELF kernel", "run", "--kernel", p, NULL);
}

static void test_truncated_bzimage(void **state)
{
	/* The real tiny bzImage cut after its header. */
	FILE *f = fopen(guest_path("g_hello.bz"), "rb");
	assert_non_null(f);
	char head[0x300];
	assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	const char *p = tmp_file("cut.bz", head, sizeof(head), 0644);
	expect_refusal(NULL, "cannot be booted", "run", "--kernel", p, "--mem", "64M", NULL);
}

static void test_elf_without_pvh_note(void **state)
{
	expect_refusal(NULL, "without a PVH entry point", "run", "--kernel", vmdeck_bin(), "--mem", "64M", NULL);
}

static void test_kernel_larger_than_memory(void **state)
{
	/* The bzImage flavour loads at 16 MiB: 8 MiB of RAM cannot hold it. */
	expect_refusal(NULL, "raise --mem", "run", "--kernel", guest_path("g_hello.bz"), "--mem", "8M", NULL);
}

static void test_missing_initrd(void **state)
{
	expect_refusal(NULL, "cannot read the initrd '/nonexistent/initrd'", "run", "--kernel",
		       guest_path("g_hello.elf"), "--initrd", "/nonexistent/initrd", NULL);
}

static void test_mem_not_a_size(void **state)
{
	expect_refusal(NULL, "--mem takes a size such as 512M or 2G, not 'lots'", "run", "--kernel",
		       guest_path("g_hello.elf"), "--mem", "lots", NULL);
}

static void test_mem_more_than_host(void **state)
{
	expect_refusal(NULL, "more than this host's", "run", "--kernel", guest_path("g_hello.elf"),
		       "--mem", "64T", NULL);
}

static void test_mem_too_small(void **state)
{
	expect_refusal(NULL, "below the minimum", "run", "--kernel", guest_path("g_hello.elf"),
		       "--mem", "1M", NULL);
}

static void test_zero_cpus(void **state)
{
	expect_refusal(NULL, "--cpus must be at least 1", "run", "--kernel", guest_path("g_hello.elf"),
		       "--cpus", "0", NULL);
}

static void test_cpus_not_a_number(void **state)
{
	expect_refusal(NULL, "--cpus takes a whole number", "run", "--kernel", guest_path("g_hello.elf"),
		       "--cpus", "two", NULL);
}

static void test_cpus_above_kvm_limit(void **state)
{
	if (!kvm_usable())
		skip();
	expect_refusal(NULL, "is above the limit of", "run", "--kernel", guest_path("g_hello.elf"),
		       "--cpus", "5000", NULL);
}

static void test_no_kvm_device(void **state)
{
	char *env[] = { "VMDECK_KVM_DEVICE=/nonexistent/kvm", NULL };
	expect_refusal(env, "/nonexistent/kvm does not exist: this host has no KVM", "run", "--kernel",
		       guest_path("g_hello.elf"), "--mem", "64M", NULL);
}

static void test_kvm_device_without_permission(void **state)
{
	/* As root, permissions do not apply; an unprivileged user is needed. */
	if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0)
		skip();
	char *env[] = { "VMDECK_KVM_DEVICE=/dev/kvm", NULL };
	if (geteuid() != 0) {
		if (access("/dev/kvm", R_OK | W_OK) == 0)
			skip();
		expect_refusal(env, "no permission to open /dev/kvm", "run", "--kernel",
			       guest_path("g_hello.elf"), NULL);
		return;
	}
	/* The guest file must be readable by nobody: copy it somewhere public. */
	FILE *f = fopen(guest_path("g_hello.elf"), "rb");
	assert_non_null(f);
	static char image[1 << 20];
	size_t n = fread(image, 1, sizeof(image), f);
	fclose(f);
	const char *p = tmp_file("hello.elf", image, n, 0644);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	/* nobody's own runtime directory, as a login would give it. */
	static char run[600], run_env[640];
	snprintf(run, sizeof(run), "%s/run-nobody", tmpdir);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(chown(run, 65534, 65534), 0);
	snprintf(run_env, sizeof(run_env), "XDG_RUNTIME_DIR=%s", run);
	char *nobody_env[] = { "VMDECK_KVM_DEVICE=/dev/kvm", run_env, NULL };
	char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 (char *)vmdeck_bin(), "run", "--kernel", (char *)p, NULL };
	expect_refusal_argv(nobody_env, "no permission to open /dev/kvm", argv);
}

static void test_bad_serial_mode(void **state)
{
	expect_refusal(NULL, "--serial takes stdio, file:PATH, socket:PATH or none", "run", "--kernel",
		       guest_path("g_hello.elf"), "--serial", "tcp:1234", NULL);
}

static void test_serial_file_in_missing_directory(void **state)
{
	expect_refusal(NULL, "cannot open the serial log '/nonexistent/log'", "run", "--kernel",
		       guest_path("g_hello.elf"), "--serial", "file:/nonexistent/log", NULL);
}

static void test_unknown_option(void **state)
{
	expect_refusal(NULL, "unknown option '--frobnicate'", "run", "--frobnicate", NULL);
}

static void test_unknown_command(void **state)
{
	expect_refusal(NULL, "there is no command 'fly'", "fly", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_kernel_option),
		cmocka_unit_test(test_missing_kernel_file),
		cmocka_unit_test(test_kernel_that_is_a_directory),
		cmocka_unit_test(test_kernel_not_a_kernel),
		cmocka_unit_test(test_truncated_bzimage),
		cmocka_unit_test(test_elf_without_pvh_note),
		cmocka_unit_test(test_kernel_larger_than_memory),
		cmocka_unit_test(test_missing_initrd),
		cmocka_unit_test(test_mem_not_a_size),
		cmocka_unit_test(test_mem_more_than_host),
		cmocka_unit_test(test_mem_too_small),
		cmocka_unit_test(test_zero_cpus),
		cmocka_unit_test(test_cpus_not_a_number),
		cmocka_unit_test(test_cpus_above_kvm_limit),
		cmocka_unit_test(test_no_kvm_device),
		cmocka_unit_test(test_kvm_device_without_permission),
		cmocka_unit_test(test_bad_serial_mode),
		cmocka_unit_test(test_serial_file_in_missing_directory),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_unknown_command),
	};
	return cmocka_run_group_tests_name("vmdeck run: bad input", tests, setup, teardown);
}
