/* The VM library: definitions on disk and the operations on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/vmlib.h"

struct fixture {
	char home[64];
	struct vmlib lib;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->home, "/tmp/vmdeck-lib-XXXXXX");
	assert_non_null(mkdtemp(f->home));
	setenv("XDG_DATA_HOME", f->home, 1);
	struct error err;
	assert_int_equal(vmlib_open(&f->lib, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->home);
	assert_int_equal(system(cmd), 0);
	vmlib_close(&f->lib);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_library_directory_is_private(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	assert_int_equal(stat(f->lib.vms_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_non_null(strstr(f->lib.vms_dir, "/vmdeck/vms"));
}

static void test_definition_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vmdef d;
	vmdef_init(&d);
	d.cpus = 4;
	d.mem = 3ull << 30;
	d.balloon = false;
	d.kernel = strdup("/boot/vmlinuz");
	d.nr_disks = 1;
	d.disks[0] = (struct vmdef_disk){ strdup("disk0.qcow2"), strdup("qcow2"), strdup("none"), true };
	d.hostfwd[d.nr_hostfwd++] = strdup("tcp::8080-:80");
	d.hostfwd[d.nr_hostfwd++] = strdup("udp::5353-:53");
	struct error err;
	assert_int_equal(vmlib_create(&f->lib, "web", &d, &err), 0);
	vmdef_free(&d);

	struct vmdef back;
	assert_int_equal(vmlib_load(&f->lib, "web", &back, &err), 0);
	assert_int_equal(back.cpus, 4);
	assert_int_equal(back.mem, 3ull << 30);
	assert_false(back.balloon);
	assert_string_equal(back.kernel, "/boot/vmlinuz");
	assert_int_equal(back.nr_disks, 1);
	assert_string_equal(back.disks[0].file, "disk0.qcow2");
	assert_string_equal(back.disks[0].cache, "none");
	assert_true(back.disks[0].readonly);
	assert_int_equal(back.nr_hostfwd, 2);
	assert_string_equal(back.hostfwd[1], "udp::5353-:53");
	assert_string_equal(back.net_mode, "user");
	vmdef_free(&back);

	char *conf = vmlib_path(&f->lib, "web", VMLIB_CONF);
	struct stat st;
	assert_int_equal(stat(conf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(conf);
}

static void test_typos_and_bad_values_are_refused(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *text, *want; } cases[] = {
		{ "[vm]\ncpu=2\n", "[vm] has no key 'cpu'" },
		{ "[vm]\ncpus=0\n", "cpus must be a number from 1 to 255, not '0'" },
		{ "[vm]\nmemory=lots\n", "memory must be a size such as 1G, not 'lots'" },
		{ "[vm]\nballoon=maybe\n", "[vm] balloon must be true or false" },
		{ "[net]\nmode=bridge\n", "mode must be user or none, not 'bridge'" },
		{ "[disk0]\nformat=qcow2\n", "[disk0] needs a file" },
		{ "[vm\n", "cannot read the VM definition" },
		{ "[sound]\ncard=sb16\n", "[sound] has no key 'card'" },
	};
	struct vmdef d;
	vmdef_init(&d);
	struct error err;
	assert_int_equal(vmlib_create(&f->lib, "bad", &d, &err), 0);
	vmdef_free(&d);
	char *conf = vmlib_path(&f->lib, "bad", VMLIB_CONF);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(conf, cases[i].text);
		assert_int_equal(vmlib_load(&f->lib, "bad", &d, &err), -1);
		if (!strstr(err.msg, cases[i].want))
			printf("case %zu: '%s'\n", i, err.msg);
		assert_non_null(strstr(err.msg, cases[i].want));
		assert_non_null(strstr(err.msg, conf));   /* names the file */
		vmdef_free(&d);
	}
	free(conf);
}

static void test_names(void **state)
{
	assert_true(vmlib_name_valid("demo"));
	assert_true(vmlib_name_valid("web-1.test_a"));
	assert_false(vmlib_name_valid(""));
	assert_false(vmlib_name_valid(".hidden"));
	assert_false(vmlib_name_valid("a/b"));
	assert_false(vmlib_name_valid("two words"));
	assert_false(vmlib_name_valid("x\n"));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[79] = '\0';
	assert_false(vmlib_name_valid(long_name));
}

/* Holds VM NAME's pidfile lock like a VMM does. */
static int pretend_running(struct fixture *f, const char *name)
{
	char *pid = vmlib_path(&f->lib, name, VMLIB_PIDFILE);
	int fd = open(pid, O_RDWR | O_CREAT, 0600);
	free(pid);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(write(fd, "4242\n", 5), 5);
	return fd;
}

static void test_running_vm_is_protected(void **state)
{
	struct fixture *f = *state;
	struct vmdef d;
	vmdef_init(&d);
	struct error err;
	assert_int_equal(vmlib_create(&f->lib, "busy", &d, &err), 0);
	vmdef_free(&d);
	pid_t pid = 0;
	assert_false(vmlib_running(&f->lib, "busy", &pid));
	int fd = pretend_running(f, "busy");
	assert_true(vmlib_running(&f->lib, "busy", &pid));
	assert_int_equal(pid, 4242);
	assert_int_equal(vmlib_delete(&f->lib, "busy", &err), -1);
	assert_non_null(strstr(err.msg, "VM 'busy' is running (VMM pid 4242): stop it before you delete it"));
	assert_int_equal(vmlib_rename(&f->lib, "busy", "idle", &err), -1);
	assert_int_equal(vmlib_clone(&f->lib, "busy", "copy", &err), -1);
	close(fd);            /* the VMM is gone: the lock with it */
	assert_false(vmlib_running(&f->lib, "busy", NULL));
	assert_int_equal(vmlib_delete(&f->lib, "busy", &err), 0);
	assert_false(vmlib_exists(&f->lib, "busy"));
}

static void test_clone_copies_disks_but_not_runtime_files(void **state)
{
	struct fixture *f = *state;
	struct vmdef d;
	vmdef_init(&d);
	struct error err;
	assert_int_equal(vmlib_create(&f->lib, "base", &d, &err), 0);
	vmdef_free(&d);
	char *disk = vmlib_path(&f->lib, "base", "disk0.qcow2"), *log = vmlib_path(&f->lib, "base", VMLIB_LOG);
	write_file(disk, "pretend image bytes");
	write_file(log, "old log");
	assert_int_equal(vmlib_clone(&f->lib, "base", "copy", &err), 0);
	char *copy = vmlib_path(&f->lib, "copy", "disk0.qcow2"), *copy_log = vmlib_path(&f->lib, "copy", VMLIB_LOG);
	FILE *fp = fopen(copy, "r");
	char buf[64] = "";
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "pretend image bytes");
	assert_int_equal(access(copy_log, F_OK), -1);
	assert_true(vmlib_exists(&f->lib, "copy"));
	assert_int_equal(vmlib_clone(&f->lib, "base", "copy", &err), -1);
	assert_non_null(strstr(err.msg, "already exists"));
	free(disk);
	free(log);
	free(copy);
	free(copy_log);
}

static void test_list_and_rename(void **state)
{
	struct fixture *f = *state;
	struct vmdef d;
	vmdef_init(&d);
	struct error err;
	assert_int_equal(vmlib_create(&f->lib, "zeta", &d, &err), 0);
	assert_int_equal(vmlib_create(&f->lib, "alpha", &d, &err), 0);
	assert_int_equal(vmlib_create(&f->lib, "alpha", &d, &err), -1);
	assert_non_null(strstr(err.msg, "a VM named 'alpha' already exists"));
	vmdef_free(&d);
	assert_int_equal(vmlib_rename(&f->lib, "zeta", "alpha", &err), -1);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(vmlib_rename(&f->lib, "zeta", "beta", &err), 0);
	char **names;
	size_t n;
	assert_int_equal(vmlib_list(&f->lib, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "alpha");
	assert_string_equal(names[1], "beta");
	vmlib_free_names(names, n);
	assert_int_equal(vmlib_delete(&f->lib, "nosuch", &err), -1);
	assert_non_null(strstr(err.msg, "there is no VM named 'nosuch'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_library_directory_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_definition_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typos_and_bad_values_are_refused, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_running_vm_is_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_copies_disks_but_not_runtime_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_rename, setup, teardown),
	};
	return cmocka_run_group_tests_name("VM library", tests, NULL, NULL);
}
