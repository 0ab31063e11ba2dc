/* Image locking against ourselves and against a real qemu-io/qemu-img. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/disk_util.h"

struct fx {
	char *dir, *img, *raw;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = dt_mkdtemp();
	f->img = dt_join(f->dir, "l.qcow2");
	f->raw = dt_join(f->dir, "l.raw");
	*state = f;
	return dt_sh("qemu-img create -q -f qcow2 '%s' 1M && qemu-img create -q -f raw '%s' 1M", f->img, f->raw);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dt_rmtree(f->dir);
	free(f->dir);
	free(f->img);
	free(f->raw);
	free(f);
	return 0;
}

static bool locked_by_someone(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return false;
	char needle[64];
	snprintf(needle, sizeof(needle), ":%lu ", (unsigned long)st.st_ino);
	char *locks = dt_sh_out(NULL, "cat /proc/locks");
	bool found = locks && strstr(locks, needle);
	free(locks);
	return found;
}

/* Starts qemu-io holding PATH open (ARGS: extra options) until stopped. */
static pid_t hold_with_qemu_io(const char *path, const char *args)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		char *cmd = NULL;
		if (asprintf(&cmd, "sleep 60 | exec qemu-io %s '%s' >/dev/null 2>&1", args, path) < 0)
			_exit(1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !locked_by_someone(path); i++)
		usleep(10000);
	assert_true(locked_by_someone(path));
	return pid;
}

static void stop(pid_t pid)
{
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static struct blk *try_open(const char *path, bool ro, bool share, struct error *err)
{
	struct blk_options o = { .read_only = ro, .force_share = share };
	return blk_open(path, &o, err);
}

static void expect_refused(const char *path, bool ro, const char *needle)
{
	struct error err;
	struct blk *b = try_open(path, ro, false, &err);
	assert_null(b);
	if (!strstr(err.msg, needle) || !strstr(err.msg, path))
		fprintf(stderr, "unexpected: %s\n", err.msg);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, needle));
}

static void test_qemu_writer_blocks_us(void **state)
{
	struct fx *f = *state;
	const char *imgs[] = { f->img, f->raw };
	for (int i = 0; i < 2; i++) {
		pid_t q = hold_with_qemu_io(imgs[i], i ? "-f raw" : "-f qcow2");
		/* qemu-io's raw writer shares write; its qcow2 writer does not. */
		if (i == 0) {
			expect_refused(imgs[i], false, "in use by another process");
			expect_refused(imgs[i], true, "in use by another process");
		} else {
			expect_refused(imgs[i], true, "write access");
		}
		struct error err;
		struct blk *b = try_open(imgs[i], true, true, &err);   /* like qemu-img -U */
		assert_non_null(b);
		blk_close(b);
		stop(q);
	}
}

static void test_we_block_qemu(void **state)
{
	struct fx *f = *state;
	const char *imgs[] = { f->img, f->raw };
	for (int i = 0; i < 2; i++) {
		struct error err;
		struct blk *b = try_open(imgs[i], false, false, &err);
		assert_non_null(b);
		char *out = dt_sh_out(NULL, "qemu-io -c 'read 0 512' '%s' 2>&1", imgs[i]);
		assert_non_null(strstr(out, "Failed to get \"write\" lock"));
		free(out);
		/* qemu-img info reads raw files without asking for a lock byte. */
		out = dt_sh_out(NULL, "qemu-img info '%s' 2>&1", imgs[i]);
		if (i == 0)
			assert_non_null(strstr(out, "Failed to get shared \"write\" lock"));
		free(out);
		assert_int_equal(dt_sh("qemu-img info -U '%s' >/dev/null 2>&1", imgs[i]), 0);
		blk_close(b);
		assert_int_equal(dt_sh("qemu-io -c 'read 0 512' '%s' >/dev/null 2>&1", imgs[i]), 0);
	}
}

static void test_qemu_reader_blocks_our_writer(void **state)
{
	struct fx *f = *state;
	pid_t q = hold_with_qemu_io(f->img, "-r -f qcow2");
	expect_refused(f->img, false, "does not allow write access");
	struct error err;
	struct blk *b = try_open(f->img, true, false, &err);   /* readers coexist */
	assert_non_null(b);
	blk_close(b);
	stop(q);
}

static void test_two_of_ours(void **state)
{
	struct fx *f = *state;
	struct error err;
	struct blk *w = try_open(f->img, false, false, &err);
	assert_non_null(w);
	expect_refused(f->img, false, "in use by another process");
	expect_refused(f->img, true, "in use by another process");
	blk_close(w);
	struct blk *r1 = try_open(f->img, true, false, &err), *r2 = try_open(f->img, true, false, &err);
	assert_non_null(r1);
	assert_non_null(r2);
	expect_refused(f->img, false, "does not allow write access");
	blk_close(r1);
	blk_close(r2);
	/* An overlay in use keeps its backing file from being written. */
	char *top = dt_join(f->dir, "top.qcow2");
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f qcow2 -b l.qcow2 -F qcow2 top.qcow2", f->dir), 0);
	w = try_open(top, false, false, &err);
	assert_non_null(w);
	expect_refused(f->img, false, "does not allow write access");
	blk_close(w);
	free(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_qemu_writer_blocks_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_we_block_qemu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_reader_blocks_our_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_of_ours, setup, teardown),
	};
	return cmocka_run_group_tests_name("disk_lock", tests, NULL, NULL);
}
