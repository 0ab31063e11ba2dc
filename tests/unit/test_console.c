/* vmm/console.c: --serial parsing, the Ctrl-A escapes of console_feed with
 * a real 16550A as the sink, and serial output to a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/testlib.h"
#include "vmm/console.h"
#include "vmm/dev_uart.h"

struct fixture {
	struct uart u;
	struct console c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uart_init(&f->u, (struct irq_line){ 0 }, (struct uart_backend){ 0 });
	uint8_t fcr = UART_FCR_ENABLE;
	uart_bus_ops.write(&f->u, UART_FCR, &fcr, 1);
	f->c.kind = SERIAL_STDIO;
	f->c.in_fd = f->c.out_fd = -1;
	f->c.is_tty = true;
	f->c.uart = &f->u;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	uart_destroy(&f->u);
	free(f);
	return 0;
}

static void feed(struct fixture *f, const char *s, size_t n)
{
	console_feed(&f->c, (const uint8_t *)s, n);
}

/* Everything the guest can read from the UART right now. */
static size_t guest_reads(struct fixture *f, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	uint8_t lsr, c;
	for (;;) {
		uart_bus_ops.read(&f->u, UART_LSR, &lsr, 1);
		if (!(lsr & UART_LSR_DR))
			break;
		uart_bus_ops.read(&f->u, UART_RBR, &c, 1);
		assert_true(n < cap);
		buf[n++] = c;
	}
	return n;
}

#define assert_guest_got(f, str)                                                      \
	do {                                                                          \
		uint8_t got_[256];                                                    \
		size_t n_ = guest_reads((f), got_, sizeof(got_));                     \
		assert_int_equal(n_, sizeof(str) - 1);                                \
		assert_memory_equal(got_, (str), sizeof(str) - 1);                    \
	} while (0)

static void serial_option(void **state)
{
	struct serial_config s;
	struct error err = { .msg = "" };
	assert_int_equal(serial_parse("stdio", &s, &err), 0);
	assert_int_equal(s.kind, SERIAL_STDIO);
	assert_int_equal(serial_parse("none", &s, &err), 0);
	assert_int_equal(s.kind, SERIAL_NONE);
	assert_int_equal(serial_parse("file:/tmp/com1.log", &s, &err), 0);
	assert_int_equal(s.kind, SERIAL_FILE);
	assert_string_equal(s.path, "/tmp/com1.log");
	assert_int_equal(serial_parse("socket:/run/vm/com1", &s, &err), 0);
	assert_int_equal(s.kind, SERIAL_SOCKET);
	assert_string_equal(s.path, "/run/vm/com1");
	static const char *const bad[] = { "file:", "file", "socket:", "tty", "", "STDIO", "none " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err.msg, 0, sizeof(err.msg));
		assert_int_equal(serial_parse(bad[i], &s, &err), -1);
		char want[64];
		snprintf(want, sizeof(want), "not '%s'", bad[i]);
		tl_assert_contains(err.msg, "--serial takes stdio, file:PATH, socket:PATH or none");
		tl_assert_contains(err.msg, want);
	}
}

static void plain_input_reaches_the_guest(void **state)
{
	struct fixture *f = *state;
	feed(f, "ls -l\r", 6);
	assert_guest_got(f, "ls -l\r");
	assert_false(f->c.quit_requested);
}

static void ctrl_a_x_quits(void **state)
{
	struct fixture *f = *state;
	feed(f, "ab\x01xcd", 6);
	assert_true(f->c.quit_requested);
	assert_guest_got(f, "abcd");            /* neither Ctrl-A nor x reach the guest */
	/* Upper case too, and split across two reads of the terminal. */
	f->c.quit_requested = false;
	feed(f, "q\x01", 2);
	assert_false(f->c.quit_requested);
	feed(f, "X", 1);
	assert_true(f->c.quit_requested);
	assert_guest_got(f, "q");
}

static void ctrl_a_twice_sends_one_ctrl_a(void **state)
{
	struct fixture *f = *state;
	feed(f, "\x01\x01", 2);
	assert_guest_got(f, "\x01");
	feed(f, "1\x01", 2);
	feed(f, "\x01" "2", 2);                 /* the pair split across reads */
	assert_guest_got(f, "1\x01" "2");
	feed(f, "\x01" "a", 2);                 /* Ctrl-A a does the same */
	assert_guest_got(f, "\x01");
	feed(f, "\x01\x01\x01\x01", 4);         /* two pairs: two Ctrl-A */
	assert_guest_got(f, "\x01\x01");
	assert_false(f->c.quit_requested);
}

static void ctrl_a_h_prints_help_and_other_keys_vanish(void **state)
{
	struct fixture *f = *state;
	struct tl_capture cap;
	tl_capture_begin(&cap, STDERR_FILENO);
	feed(f, "\x01h", 2);
	char *help = tl_capture_end(&cap);
	tl_assert_contains(help, "Ctrl-A x");
	tl_assert_contains(help, "Ctrl-A h");
	assert_int_equal(tl_count(help, "\n"), 3);
	free(help);
	assert_guest_got(f, "");
	feed(f, "<\x01z>", 4);                  /* an unknown escape key is swallowed */
	assert_guest_got(f, "<>");
	assert_false(f->c.quit_requested);
}

static void non_tty_passes_everything(void **state)
{
	struct fixture *f = *state;
	f->c.is_tty = false;                    /* e.g. input from a pipe */
	feed(f, "a\x01x\x01\x01" "b", 6);
	assert_false(f->c.quit_requested);
	assert_guest_got(f, "a\x01x\x01\x01" "b");
}

/* Input the UART cannot take waits in order, and is retried as the guest
 * reads. */
static void pending_input_keeps_order(void **state)
{
	struct fixture *f = *state;
	size_t fill = UART_BACKLOG + UART_FIFO_SIZE;
	char *junk = malloc(fill);
	memset(junk, '.', fill);
	for (size_t off = 0; off < fill; off += 1024)
		feed(f, junk + off, fill - off < 1024 ? fill - off : 1024);
	assert_int_equal(f->c.npending, 0);
	feed(f, "XY", 2);
	assert_int_equal(f->c.npending, 2);
	feed(f, "\x01" "\x01" "Z", 3);          /* escapes still work while waiting */
	assert_int_equal(f->c.npending, 4);
	assert_true(console_flush_pending(&f->c));   /* still no room */
	uint8_t c;
	uart_bus_ops.read(&f->u, UART_RBR, &c, 1);
	uart_bus_ops.read(&f->u, UART_RBR, &c, 1);
	assert_true(console_flush_pending(&f->c));   /* two of four went */
	assert_int_equal(f->c.npending, 2);
	for (size_t i = 2; i < fill; i++) {
		uart_bus_ops.read(&f->u, UART_RBR, &c, 1);
		assert_int_equal(c, '.');
	}
	assert_false(console_flush_pending(&f->c));
	assert_guest_got(f, "XY\x01Z");
	free(junk);
}

/* --serial file:PATH: guest output lands in a 0600 file through a real
 * UART's transmit path. */
static void serial_file_output(void **state)
{
	char *dir = tl_mkdtemp(), path[600];
	snprintf(path, sizeof(path), "%s/com1.log", dir);
	struct serial_config cfg = { .kind = SERIAL_FILE, .path = path };
	struct console c;
	struct error err = { .msg = "" };
	assert_int_equal(console_open(&c, &cfg, &err), 0);
	struct uart u;
	uart_init(&u, (struct irq_line){ 0 }, console_backend(&c));
	console_start(&c, &u);                  /* no input for a file */
	const char *msg = "Linux version 6.1\r\n";
	for (const char *p = msg; *p; p++)
		uart_bus_ops.write(&u, UART_THR, p, 1);
	console_close(&c);
	uart_destroy(&u);
	size_t len;
	char *got = tl_read_file(path, &len);
	assert_non_null(got);
	assert_string_equal(got, msg);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(got);

	/* A log that cannot be opened is one sentence naming it. */
	snprintf(path, sizeof(path), "%s/no/such/dir/com1.log", dir);
	assert_int_equal(console_open(&c, &cfg, &err), -1);
	tl_assert_contains(err.msg, "cannot open the serial log");
	tl_assert_contains(err.msg, path);

	/* none: output is dropped without error. */
	cfg.kind = SERIAL_NONE;
	assert_int_equal(console_open(&c, &cfg, &err), 0);
	assert_int_equal(c.out_fd, -1);
	assert_int_equal(c.in_fd, -1);
	struct uart_backend be = console_backend(&c);
	be.write(be.opaque, (const uint8_t *)"x", 1);
	console_close(&c);
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serial_option),
		T(plain_input_reaches_the_guest),
		T(ctrl_a_x_quits),
		T(ctrl_a_twice_sends_one_ctrl_a),
		T(ctrl_a_h_prints_help_and_other_keys_vanish),
		T(non_tty_passes_everything),
		T(pending_input_keeps_order),
		cmocka_unit_test(serial_file_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
