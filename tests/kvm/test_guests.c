/* Host KVM tier: tiny guests booted by the real `vmdeck run` on /dev/kvm.
 * Each test checks what the guest printed and how vmdeck exited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "tests/lib/spawn.h"

#define TIMEOUT_MS 30000

static int need_kvm(void **state)
{
	(void)state;
	return 0;
}

/* Boots GUEST with the given extra vmdeck arguments (NULL-terminated),
 * playing STEPS (may be NULL) on the serial console. */
static void boot(struct spawn_result *r, const char *guest, const struct pty_step *steps, ...)
{
	char *argv[32] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path(guest),
			   "--mem", "64M" };
	int n = 6;
	va_list ap;
	va_start(ap, steps);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(spawn_run(argv, NULL, steps, TIMEOUT_MS, r), 0);
	if (r->status != 0)
		printf("--- guest output ---\n%s--- vmdeck stderr ---\n%s\n", r->out, r->err);
}

#define SKIP_WITHOUT_KVM() do { if (!kvm_usable()) skip(); } while (0)

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		printf("expected \"%s\" in:\n%s\n", needle, hay);
		fail();
	}
}

static void test_pvh_boot_reports_and_powers_off(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--cmdline", "console=ttyS0 marker=42", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: boot protocol pvh");
	assert_has(r.out, "hello: start_info magic ok");
	assert_has(r.out, "hello: cmdline console=ttyS0 marker=42");
	assert_has(r.out, "hello: hypervisor KVMKVMKVM");
	assert_has(r.out, "hello: powering off");
	assert_string_equal(r.err, "");   /* a clean power-off says nothing */
	spawn_free(&r);
}

static void test_bzimage_boot(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.bz", NULL, "--cmdline", "bz=yes", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: boot protocol bzimage");
	assert_has(r.out, "hello: e820 entries 5");
	assert_has(r.out, "hello: cmdline bz=yes");
	spawn_free(&r);
}

static void test_reset_through_reset_register_reboots(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--cmdline", "action=reset-cf9 boots=3", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: boot 2\n");
	assert_has(r.out, "hello: boot 3\nhello: last boot, powering off");
	spawn_free(&r);
}

static void test_reset_through_keyboard_controller_reboots(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--cmdline", "action=reset-kbd boots=2", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: boot 2\nhello: last boot, powering off");
	spawn_free(&r);
}

static void test_no_reboot_exits_on_reset(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--no-reboot", "--cmdline", "action=reset-cf9 boots=3", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: boot 1");
	assert_null(strstr(r.out, "hello: boot 2"));
	assert_has(r.err, "--no-reboot");
	spawn_free(&r);
}

static void test_triple_fault_exits_3_with_one_sentence(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--cmdline", "action=triple", NULL);
	assert_int_equal(r.status, 3);
	assert_false(r.signaled);
	assert_has(r.err, "triple-faulted on vCPU 0");
	assert_int_equal(strchr(r.err, '\n') - r.err, (long)strlen(r.err) - 1);   /* one line */
	spawn_free(&r);
}

static void test_unassigned_ports_and_mmio_read_all_ones(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--cmdline", "action=port-noise", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: unassigned port reads 0xffffff mmio 0xffffffff");
	spawn_free(&r);
}

/* 4.5 GiB: 3.5 GiB below the PCI hole and the rest above 4 GiB. */
static void test_memory_above_the_pci_hole_goes_above_4g(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_hello.elf"),
			 "--mem", "4608M", "--cmdline", "action=highmem", NULL };
	assert_int_equal(spawn_run(argv, NULL, NULL, TIMEOUT_MS, &r), 0);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "hello: memmap 0x100000 0xdff00000 type 1\n");
	assert_has(r.out, "hello: memmap 0xe0000000 0x1000000 type 2\n");
	assert_has(r.out, "hello: memmap 0x100000000 0x40000000 type 1\n");
	assert_has(r.out, "hello: top of ram 0x140000000 writable");
	spawn_free(&r);
}

static void test_serial_input_raises_interrupts(void **state)
{
	SKIP_WITHOUT_KVM();
	/* Typed once the driver is up: clearing the FIFO drops earlier bytes,
	 * as on a real 16550. */
	const struct pty_step steps[] = { { "irq: ready", "abq" }, { NULL, NULL } };
	struct spawn_result r;
	boot(&r, "g_irq.elf", steps, NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "irq: ready");
	assert_has(r.out, "irq: rx a\nirq: rx b\nirq: rx q\n");
	assert_has(r.out, "irq: timer ticks seen");
	spawn_free(&r);
}

static void test_smp_brings_up_every_cpu(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_smp.elf", NULL, "--cpus", "4", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "smp: madt cpus 4");
	assert_has(r.out, "smp: cpuid cpus 4");
	for (int i = 1; i < 4; i++) {
		char line[64];
		snprintf(line, sizeof(line), "smp: cpu %d up, cpuid apic id %d\n", i, i);
		assert_has(r.out, line);
	}
	assert_has(r.out, "smp: 4 of 4 cpus up");
	spawn_free(&r);
}

static void test_pci_config_space_through_ecam_and_ports(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_pci.elf", NULL, NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "pci: host bridge ecam 0x81b36 cf8 0x81b36");
	assert_has(r.out, "pci: class 0x60000");
	assert_has(r.out, "pci: empty slot 0xffffffff 0xffffffff");
	assert_has(r.out, "pci: mcfg base 0xe0000000 buses 0-15");
	spawn_free(&r);
}

static uint64_t xorshift(uint64_t loops)
{
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = 0; i < loops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static void test_ring3_loop_computes_right_result(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_user.elf", NULL, "--cmdline", "loops=5000000", NULL);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "user: loop ran at cpl 3");
	char want[64];
	snprintf(want, sizeof(want), "result 0x%llx", (unsigned long long)xorshift(5000000));
	assert_has(r.out, want);
	spawn_free(&r);
}

static void test_serial_to_file_is_private(void **state)
{
	SKIP_WITHOUT_KVM();
	char path[] = "/tmp/vmdeck-serial-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	char opt[128];
	snprintf(opt, sizeof(opt), "file:%s", path);
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--serial", opt, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *f = fopen(path, "r");
	char text[4096] = "";
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	assert_has(text, "hello: powering off");
	spawn_free(&r);
}

static void test_serial_none_prints_nothing(void **state)
{
	SKIP_WITHOUT_KVM();
	struct spawn_result r;
	boot(&r, "g_hello.elf", NULL, "--serial", "none", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	spawn_free(&r);
}

/* On a terminal: raw mode, Ctrl-A Ctrl-A reaches the guest as one Ctrl-A,
 * Ctrl-A x stops vmdeck, and the terminal is given back. */
static void test_terminal_escape_keys(void **state)
{
	SKIP_WITHOUT_KVM();
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_irq.elf"),
			 "--mem", "64M", NULL };
	const struct pty_step steps[] = {
		{ "irq: ready", "z" },
		{ "irq: rx z", "\x01\x01" },
		{ "irq: rx \x01", "\x01x" },
		{ NULL, NULL },
	};
	struct spawn_result r;
	assert_int_equal(spawn_pty(argv, steps, TIMEOUT_MS, &r), 0);
	assert_int_equal(r.status, 0);
	assert_has(r.out, "irq: rx z");
	assert_has(r.out, "irq: rx \x01");
	assert_has(r.out, "stopped by Ctrl-A x");
	spawn_free(&r);
}

/* A VMM that dies of a bug still gives the terminal back. */
static void test_terminal_restored_after_vmm_crash(void **state)
{
	SKIP_WITHOUT_KVM();
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(vmdeck_bin(), "vmdeck", "run", "--kernel", guest_path("g_irq.elf"), "--mem", "64M", NULL);
		_exit(127);
	}
	char buf[4096];
	size_t got = 0;
	for (int i = 0; i < 500 && got < sizeof(buf) - 1; i++) {
		buf[got] = '\0';
		if (strstr(buf, "irq: ready"))
			break;
		struct pollfd p = { master, POLLIN, 0 };
		if (poll(&p, 1, 20) > 0) {
			ssize_t n = read(master, buf + got, sizeof(buf) - 1 - got);
			if (n > 0)
				got += (size_t)n;
		}
	}
	struct termios raw, after;
	assert_int_equal(tcgetattr(master, &raw), 0);
	assert_int_equal(raw.c_lflag & ICANON, 0);         /* vmdeck made it raw */
	kill(pid, SIGSEGV);
	int st;
	waitpid(pid, &st, 0);
	/* Killed by the signal, or (under a sanitizer) reported and exited. */
	assert_true(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0));
	assert_int_equal(tcgetattr(master, &after), 0);
	assert_true(after.c_lflag & ICANON);               /* and gave it back */
	close(master);
}

struct background {
	char *argv[16];
	struct spawn_result r;
};

static void *run_in_background(void *arg)
{
	struct background *b = arg;
	spawn_run(b->argv, NULL, NULL, TIMEOUT_MS, &b->r);
	return NULL;
}

/* Reads from FD until WANT has arrived (into BUF) or 10 s passed. */
static bool read_until(int fd, char *buf, size_t size, const char *want)
{
	size_t got = 0;
	buf[0] = '\0';
	for (int i = 0; i < 1000 && !strstr(buf, want); i++) {
		ssize_t n = recv(fd, buf + got, size - 1 - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			buf[got] = '\0';
		} else {
			usleep(10000);
		}
	}
	return strstr(buf, want) != NULL;
}

/* A console that attaches late sees the boot output, and its keys reach
 * the guest's UART. */
static void test_serial_socket_console(void **state)
{
	SKIP_WITHOUT_KVM();
	char path[] = "/tmp/vmdeck-console-XXXXXX";
	assert_non_null(mkdtemp(path));
	char sock[128], opt[160];
	snprintf(sock, sizeof(sock), "%s/serial.sock", path);
	snprintf(opt, sizeof(opt), "socket:%s", sock);
	struct background b = { .argv = { (char *)vmdeck_bin(), "run", "--kernel",
					   (char *)guest_path("g_irq.elf"), "--mem", "64M", "--serial", opt, NULL } };
	pthread_t t;
	pthread_create(&t, NULL, run_in_background, &b);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, sock);
	bool connected = false;
	for (int i = 0; i < 500 && !connected; i++) {
		connected = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (!connected)
			usleep(10000);
	}
	assert_true(connected);
	char buf[4096];
	assert_true(read_until(fd, buf, sizeof(buf), "irq: ready\n"));
	assert_int_equal(send(fd, "kq", 2, 0), 2);
	assert_true(read_until(fd, buf, sizeof(buf), "irq: rx q\n"));
	assert_non_null(strstr(buf, "irq: rx k\n"));
	close(fd);
	pthread_join(t, NULL);
	assert_int_equal(b.r.status, 0);
	assert_string_equal(b.r.out, "");        /* nothing on stdout in socket mode */
	struct stat st;
	assert_int_equal(stat(sock, &st), -1);   /* removed on exit */
	rmdir(path);
	spawn_free(&b.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_boot_reports_and_powers_off),
		cmocka_unit_test(test_bzimage_boot),
		cmocka_unit_test(test_reset_through_reset_register_reboots),
		cmocka_unit_test(test_reset_through_keyboard_controller_reboots),
		cmocka_unit_test(test_no_reboot_exits_on_reset),
		cmocka_unit_test(test_triple_fault_exits_3_with_one_sentence),
		cmocka_unit_test(test_unassigned_ports_and_mmio_read_all_ones),
		cmocka_unit_test(test_memory_above_the_pci_hole_goes_above_4g),
		cmocka_unit_test(test_serial_input_raises_interrupts),
		cmocka_unit_test(test_smp_brings_up_every_cpu),
		cmocka_unit_test(test_pci_config_space_through_ecam_and_ports),
		cmocka_unit_test(test_ring3_loop_computes_right_result),
		cmocka_unit_test(test_serial_to_file_is_private),
		cmocka_unit_test(test_serial_none_prints_nothing),
		cmocka_unit_test(test_terminal_escape_keys),
		cmocka_unit_test(test_serial_socket_console),
		cmocka_unit_test(test_terminal_restored_after_vmm_crash),
	};
	return cmocka_run_group_tests_name("host KVM: tiny guests", tests, need_kvm, NULL);
}
