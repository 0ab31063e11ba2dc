/* virtio-blk with a real guest driver (tests/guest/g_blk.c) on /dev/kvm; the
 * image is checked afterwards with QEMU's own tools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/spawn.h"

#define TIMEOUT_MS 60000

static char dir[] = "/tmp/vmdeck-vblk-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *path_in_dir(const char *name)
{
	static char p[2][256];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	if (r != 0)
		printf("command failed (%d): %s\n", r, cmd);
	assert_int_equal(r, 0);
}

/* The guest's pattern generator (g_blk.c: fill). */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void run_guest(struct spawn_result *r, const char *disk_spec, const char *cmdline)
{
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_blk.elf"), "--mem", "64M",
			 "--disk", (char *)disk_spec, "--cmdline", (char *)cmdline, NULL };
	assert_int_equal(spawn_run(argv, NULL, NULL, TIMEOUT_MS, r), 0);
	if (r->status != 0)
		printf("--- guest ---\n%s--- vmdeck ---\n%s\n", r->out, r->err);
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		printf("expected \"%s\" in:\n%s\n", needle, hay);
		fail();
	}
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *buf = malloc(*len);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static void test_qcow2_round_trip_checked_by_qemu_img(void **state)
{
	if (!kvm_usable())
		skip();
	const char *img = path_in_dir("disk.qcow2"), *raw = path_in_dir("disk.raw");
	sh("%s img create -q -f qcow2 %s 64M", vmdeck_bin(), img);
	struct spawn_result r;
	run_guest(&r, img, "seed=42");
	assert_int_equal(r.status, 0);
	assert_has(r.out, "blk: capacity sectors 131072\n");
	assert_has(r.out, "blk: read only 0\n");
	assert_has(r.out, "blk: write status 0\nblk: flush status 0\nblk: read status 0\nblk: read matches 1\n");
	assert_has(r.out, "blk: read last status 0\n");
	assert_has(r.out, "blk: read beyond status 1\n");      /* VIRTIO_BLK_S_IOERR */
	assert_has(r.out, "blk: id vmdeck-disk0\n");
	assert_has(r.out, "blk: discard status 0\nblk: write_zeroes status 0\n");
	assert_has(r.out, "blk: unknown type status 2\n");     /* VIRTIO_BLK_S_UNSUPP */
	assert_has(r.out, "blk: interrupts 1\n");
	spawn_free(&r);

	sh("qemu-img check -q %s", img);
	sh("qemu-img convert -O raw %s %s", img, raw);
	size_t len;
	uint8_t *bytes = read_file(raw, &len);
	assert_int_equal(len, 64 << 20);
	uint8_t want[65536];
	fill(want, sizeof(want), 42);
	memset(want, 0, 4096);                               /* the guest zeroed its first 4 KiB */
	assert_memory_equal(bytes, want, sizeof(want));
	fill(want, 4096, 42);
	assert_memory_equal(bytes + len - 4096, want, 4096);
	free(bytes);
}

static void test_read_only_raw_disk(void **state)
{
	if (!kvm_usable())
		skip();
	const char *img = path_in_dir("ro.raw");
	sh("dd if=/dev/zero of=%s bs=1M count=8 status=none", img);
	char spec[300];
	snprintf(spec, sizeof(spec), "%s,format=raw,readonly=on", img);
	struct spawn_result r;
	run_guest(&r, spec, "seed=5");
	assert_int_equal(r.status, 0);
	assert_has(r.out, "blk: read only 1\n");
	assert_has(r.out, "blk: capacity sectors 16384\n");
	assert_has(r.out, "blk: write status 1\n");            /* refused */
	assert_has(r.out, "blk: read status 0\n");
	spawn_free(&r);
	size_t len;
	uint8_t *bytes = read_file(img, &len);
	for (size_t i = 0; i < len; i++)
		if (bytes[i]) {
			printf("byte %zu of a read-only image changed\n", i);
			fail();
		}
	free(bytes);
}

static void test_hostile_chain_needs_reset_and_vmm_survives(void **state)
{
	if (!kvm_usable())
		skip();
	const char *img = path_in_dir("hostile.qcow2");
	sh("%s img create -q -f qcow2 %s 16M", vmdeck_bin(), img);
	struct spawn_result r;
	run_guest(&r, img, "seed=1 hostile=1");
	assert_int_equal(r.status, 0);
	assert_has(r.out, "blk: needs reset 1\n");
	assert_has(r.out, "blk: after reset read status 0\n");
	assert_has(r.err, "a buffer outside guest RAM on queue 0; the device waits for a reset");
	spawn_free(&r);
	sh("qemu-img check -q %s", img);
}

/* A second VMM (or any writer) cannot open an image a VM is using. */
static void test_image_in_use_is_refused(void **state)
{
	if (!kvm_usable())
		skip();
	const char *img = path_in_dir("shared.qcow2");
	sh("%s img create -q -f qcow2 %s 16M", vmdeck_bin(), img);
	/* g_irq waits for serial input that never comes, holding the disk.  Its
	 * serial log says when it runs: the disk is open by then.  (Probing
	 * with `img info` would race: the probe's own lock can refuse the
	 * holder.) */
	const char *log = path_in_dir("holder.log");
	char serial[300];
	snprintf(serial, sizeof(serial), "file:%s", log);
	char *holder[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_irq.elf"), "--mem", "64M",
			   "--disk", (char *)img, "--serial", serial, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		execv(holder[0], holder);
		_exit(127);
	}
	bool ready = false;
	for (int i = 0; i < 400 && !ready; i++) {
		char text[256] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			text[n] = '\0';
			fclose(f);
		}
		ready = strstr(text, "irq: ready") != NULL;
		if (!ready)
			usleep(50 * 1000);
	}
	assert_true(ready);
	struct spawn_result r;
	run_guest(&r, img, "seed=1");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(r.status, 2);
	assert_has(r.err, img);
	assert_has(r.err, "in use");
	spawn_free(&r);
}

/* A full host disk is the guest's I/O error, not the VMM's death, and the
 * image stays consistent.  The image lives on a 256 KiB tmpfs in a private
 * mount namespace: creating it fits, the guest's first allocating write
 * does not. */
static void test_full_host_disk_is_a_guest_io_error(void **state)
{
	if (!kvm_usable())
		skip();
	const char *mnt = path_in_dir("small");
	char script[2048];
	snprintf(script, sizeof(script),
		 "set -e; mkdir -p %s; mount -t tmpfs -o size=256k tmpfs %s; "
		 "%s img create -q -f qcow2 %s/full.qcow2 64M; "
		 "set +e; %s run --kernel %s --mem 64M --disk %s/full.qcow2 --cmdline seed=3; echo \"vmm exit $?\"; "
		 "qemu-img check %s/full.qcow2 >/dev/null 2>&1; echo \"check exit $?\"",
		 mnt, mnt, vmdeck_bin(), mnt, vmdeck_bin(), guest_path("g_blk.elf"), mnt, mnt);
	/* Root needs only a mount namespace; others try a user namespace. */
	const char *how = geteuid() == 0 ? "-m" : "-Urm";
	char probe[64];
	snprintf(probe, sizeof(probe), "unshare %s true 2>/dev/null", how);
	if (system(probe) != 0) {
		printf("[  SKIP    ] cannot make a private mount namespace here (unshare %s)\n", how);
		skip();
	}
	char *argv[] = { "unshare", (char *)how, "sh", "-c", script, NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, NULL, NULL, TIMEOUT_MS, &r), 0);
	if (r.status != 0)
		printf("--- out ---\n%s--- err ---\n%s\n", r.out, r.err);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "blk: write status 1\n");          /* VIRTIO_BLK_S_IOERR */
	assert_has(r.out, "blk: get_id status 0\n");         /* the device carries on */
	assert_has(r.out, "vmm exit 0\n");                    /* and so does the VMM */
	/* qemu-img check: 0 clean, 3 leaked clusters only; 2 would be corruption. */
	if (!strstr(r.out, "check exit 0\n"))
		assert_has(r.out, "check exit 3\n");
	spawn_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qcow2_round_trip_checked_by_qemu_img),
		cmocka_unit_test(test_read_only_raw_disk),
		cmocka_unit_test(test_hostile_chain_needs_reset_and_vmm_survives),
		cmocka_unit_test(test_image_in_use_is_refused),
		cmocka_unit_test(test_full_host_disk_is_a_guest_io_error),
	};
	return cmocka_run_group_tests_name("host KVM: virtio-blk", tests, setup, teardown);
}
