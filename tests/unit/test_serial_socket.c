/* The serial socket: history for late clients, input to the UART, and a
 * client that stops reading never blocks the writer (a vCPU). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/serial_socket.h"

struct fixture {
	char dir[64], path[128];
	struct serial_socket s;
	struct uart uart;
};

static void no_irq(void *ctx, unsigned gsi, int level) {}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/vmdeck-serial-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/console.sock", f->dir);
	struct error err;
	assert_int_equal(serial_socket_open(&f->s, f->path, &err), 0);
	uart_init(&f->uart, (struct irq_line){ .set = no_irq }, (struct uart_backend){ 0 });
	serial_socket_start(&f->s, &f->uart);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	serial_socket_close(&f->s);
	uart_destroy(&f->uart);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void spin(int ms)
{
	for (int i = 0; i < ms; i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		usleep(1000);
	}
}

static int connect_client(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	spin(20);   /* let the server accept */
	return fd;
}

static void test_socket_is_private(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_late_client_gets_history_then_live_output(void **state)
{
	struct fixture *f = *state;
	serial_socket_write(&f->s, (const uint8_t *)"boot log\n", 9);
	int fd = connect_client(f->path);
	serial_socket_write(&f->s, (const uint8_t *)"live\n", 5);
	char buf[64] = "";
	size_t got = 0;
	for (int i = 0; i < 100 && got < 14; i++) {
		spin(1);
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
	}
	buf[got] = '\0';
	assert_string_equal(buf, "boot log\nlive\n");
	close(fd);
}

static void test_client_input_reaches_the_uart(void **state)
{
	struct fixture *f = *state;
	int fd = connect_client(f->path);
	assert_int_equal(write(fd, "hi", 2), 2);
	spin(20);
	assert_int_equal(f->uart.bl_count + f->uart.rx_count, 2);
	assert_int_equal(f->uart.rx_fifo[f->uart.rx_head], 'h');
	close(fd);
}

static void test_stuck_client_never_blocks_the_writer(void **state)
{
	struct fixture *f = *state;
	int stuck = connect_client(f->path);
	int good = connect_client(f->path);
	static uint8_t chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t good_got = 0;
	char sink[65536];
	/* 1 MiB, far more than the socket buffers and the client queue. */
	for (int i = 0; i < 256; i++) {
		serial_socket_write(&f->s, chunk, sizeof(chunk));
		spin(0);
		ssize_t n;
		while ((n = recv(good, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			good_got += (size_t)n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 5.0);
	spin(50);
	ssize_t n;
	while ((n = recv(good, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		good_got += (size_t)n;
	assert_int_equal(f->s.dropped_clients, 1);        /* the stuck one */
	assert_true(good_got >= 256 * sizeof(chunk));       /* the reader got everything */
	close(stuck);
	close(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_client_gets_history_then_live_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_input_reaches_the_uart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_client_never_blocks_the_writer, setup, teardown),
	};
	return cmocka_run_group_tests_name("serial socket", tests, NULL, NULL);
}
