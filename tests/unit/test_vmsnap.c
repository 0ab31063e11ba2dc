/* A library VM's data disk and its snapshots through the local backend,
 * checked with QEMU's own tools: qemu-img reads the image and its
 * snapshot table, qemu-io writes data and reads it back after a revert. */
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

#include "src/backend.h"
#include "src/rundir.h"
#include "tests/lib/testlib.h"

struct fixture {
	char *home;
	struct backend *be;
	char disk[512];
};

static int setup(void **state)
{
	if (!tl_have_program("qemu-img") || !tl_have_program("qemu-io")) {
		printf("qemu-img and qemu-io (qemu-utils, make deps installs it) check the images here\n");
		skip();
	}
	struct fixture *f = calloc(1, sizeof(*f));
	f->home = tl_mkdtemp();
	tl_private_xdg(f->home);
	struct error err;
	f->be = backend_local_new("/bin/true", &err);
	assert_non_null(f->be);
	struct be_spec s;
	be_spec_defaults(&s);
	strcpy(s.name, "s");
	s.disk_size = 64ull << 20;
	assert_int_equal(f->be->ops->create(f->be, &s, &err), 0);
	snprintf(f->disk, sizeof(f->disk), "%s/vmdeck/vms/s/disk0.qcow2", f->home);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	backend_free(f->be);
	tl_rmtree(f->home);
	free(f->home);
	free(f);
	return 0;
}

/* Runs "TOOL FILE" and returns its output. */
static char *run(const char *tool, const char *file, int *status)
{
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof(cmd), "%s %s", tool, file);
	*status = tl_run(cmd, &out);
	return out;
}

static void test_new_vm_gets_a_growable_qcow2_disk(void **state)
{
	struct fixture *f = *state;
	int st;
	char *out = run("qemu-img info --output=json", f->disk, &st);
	assert_int_equal(st, 0);
	tl_assert_contains(out, "\"format\": \"qcow2\"");
	tl_assert_contains(out, "\"virtual-size\": 67108864");
	free(out);
	/* Growable: it takes far less than its size on the host. */
	struct stat sb;
	assert_int_equal(stat(f->disk, &sb), 0);
	assert_true(sb.st_blocks * 512 < (4 << 20));
	char conf[600];
	snprintf(conf, sizeof(conf), "%s/vmdeck/vms/s/vm.conf", f->home);
	char *text = tl_read_file(conf, NULL);
	tl_assert_contains(text, "[disk0]\nfile=disk0.qcow2\nformat=qcow2\n");
	free(text);
	struct be_device *devs;
	size_t n;
	struct error err;
	assert_int_equal(f->be->ops->devices(f->be, "s", &devs, &n, &err), 0);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(devs[i].kind, "disk")) {
			tl_assert_contains(devs[i].detail, "disk0.qcow2");
			tl_assert_contains(devs[i].detail, "64M");
			seen = true;
		}
	assert_true(seen);
	free(devs);
}

static void test_take_list_revert_delete(void **state)
{
	struct fixture *f = *state;
	struct error err;
	int st;
	/* Data before the snapshot, then other data after it. */
	free(run("qemu-io -c 'write -P 0x11 0 64k'", f->disk, &st));
	assert_int_equal(st, 0);
	assert_int_equal(f->be->ops->snapshot_take(f->be, "s", "before", &err), 0);
	char *out = run("qemu-img snapshot -l", f->disk, &st);
	assert_int_equal(st, 0);
	tl_assert_contains(out, "before");
	free(out);
	struct be_snapshot *list;
	size_t n;
	assert_int_equal(f->be->ops->snapshots(f->be, "s", &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "before");
	assert_string_equal(list[0].disk, "disk0.qcow2");
	assert_int_equal(list[0].disk_size, 64 << 20);
	assert_false(list[0].full_state);
	assert_true(list[0].date > time(NULL) - 600);
	char id[32];
	snprintf(id, sizeof(id), "%s", list[0].id);
	free(list);
	assert_int_equal(f->be->ops->snapshot_take(f->be, "s", "before", &err), BE_EUSER);
	assert_string_equal(err.msg, "VM 's' has a snapshot named 'before' already");
	free(run("qemu-io -c 'write -P 0x22 0 64k'", f->disk, &st));
	/* Revert (by id): the old data is back. */
	assert_int_equal(f->be->ops->snapshot_revert(f->be, "s", id, &err), 0);
	free(run("qemu-io -c 'read -P 0x11 0 64k'", f->disk, &st));
	assert_int_equal(st, 0);
	/* Delete (by name); the image stays consistent. */
	assert_int_equal(f->be->ops->snapshot_delete(f->be, "s", "before", &err), 0);
	out = run("qemu-img snapshot -l", f->disk, &st);
	tl_assert_not_contains(out, "before");
	free(out);
	free(run("qemu-img check", f->disk, &st));
	assert_int_equal(st, 0);
	assert_int_equal(f->be->ops->snapshot_delete(f->be, "s", "before", &err), BE_EUSER);
	assert_string_equal(err.msg, "VM 's' has no snapshot 'before'");
	/* A snapshot QEMU made is listed too. */
	free(run("qemu-img snapshot -c fromqemu", f->disk, &st));
	assert_int_equal(f->be->ops->snapshots(f->be, "s", &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "fromqemu");
	free(list);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct error err;
	/* A running VM (its pidfile locked as a VMM does). */
	char pid[600];
	assert_int_equal(rundir_vm_path("s", "pid", pid, sizeof(pid), &err), 0);
	int fd = open(pid, O_RDWR | O_CREAT, 0600);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(write(fd, "4242\n", 5), 5);
	assert_int_equal(f->be->ops->snapshot_take(f->be, "s", "x", &err), BE_EUSER);
	tl_assert_contains(err.msg, "VM 's' is running: stop it before you take a snapshot");
	struct be_snapshot *list;
	size_t n;
	assert_int_equal(f->be->ops->snapshots(f->be, "s", &list, &n, &err), 0);   /* listing is fine */
	free(list);
	close(fd);
	/* No disk, no VM. */
	struct be_spec s;
	be_spec_defaults(&s);
	strcpy(s.name, "bare");
	assert_int_equal(f->be->ops->create(f->be, &s, &err), 0);
	assert_int_equal(f->be->ops->snapshot_take(f->be, "bare", "x", &err), BE_EUSER);
	assert_string_equal(err.msg, "VM 'bare' has no qcow2 disk to take a snapshot of");
	assert_int_equal(f->be->ops->snapshots(f->be, "nosuch", &list, &n, &err), BE_EUSER);
	/* A data disk too small to be one. */
	strcpy(s.name, "tiny");
	s.disk_size = 1000;
	assert_int_equal(f->be->ops->create(f->be, &s, &err), BE_EUSER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_vm_gets_a_growable_qcow2_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_list_revert_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests_name("disks and snapshots of library VMs", tests, NULL, NULL);
}
