#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/file.h"
#include "src/log.h"
#include "vmm/console.h"

int serial_parse(const char *s, struct serial_config *out, struct error *err)
{
	if (!strcmp(s, "stdio")) {
		*out = (struct serial_config){ .kind = SERIAL_STDIO };
	} else if (!strcmp(s, "none")) {
		*out = (struct serial_config){ .kind = SERIAL_NONE };
	} else if (!strncmp(s, "file:", 5) && s[5]) {
		*out = (struct serial_config){ .kind = SERIAL_FILE, .path = s + 5 };
	} else if (!strncmp(s, "socket:", 7) && s[7]) {
		*out = (struct serial_config){ .kind = SERIAL_SOCKET, .path = s + 7 };
	} else {
		return error_set(err, "--serial takes stdio, file:PATH, socket:PATH or none, not '%s'", s);
	}
	return 0;
}

int console_open(struct console *c, const struct serial_config *cfg, struct error *err)
{
	memset(c, 0, sizeof(*c));
	c->kind = cfg->kind;
	c->out_fd = c->in_fd = -1;
	switch (cfg->kind) {
	case SERIAL_STDIO:
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
		c->is_tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
		break;
	case SERIAL_FILE:
		/* 0600: a guest console may print secrets. */
		c->out_fd = open(cfg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (c->out_fd < 0)
			return error_errno(err, errno, "cannot open the serial log '%s'", cfg->path);
		break;
	case SERIAL_SOCKET:
		return serial_socket_open(&c->sock, cfg->path, err);
	case SERIAL_NONE:
		break;
	}
	return 0;
}

static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;
	/* A closed reader must not stop the guest: output is then dropped. */
	if (c->out_fd >= 0 && file_write_all(c->out_fd, buf, len) < 0 && errno == EPIPE)
		c->out_fd = -1;
}

struct uart_backend console_backend(struct console *c)
{
	if (c->kind == SERIAL_SOCKET)
		return (struct uart_backend){ .write = serial_socket_write, .opaque = &c->sock };
	return (struct uart_backend){ .write = console_write, .opaque = c };
}

/* If the VMM itself dies of a bug, the terminal must not stay raw: the
 * handler restores it and passes the signal on to whatever handled it
 * before (a sanitizer's report, or the default action).  Signal handlers
 * can only reach state like this through a static. */
#define FATAL_SIGNALS 5
static const int fatal_signals[FATAL_SIGNALS] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
static struct {
	int fd;
	struct termios saved;
	struct sigaction previous[FATAL_SIGNALS];
} raw_tty = { .fd = -1 };

static void restore_on_fatal(int sig, siginfo_t *info, void *ctx)
{
	if (raw_tty.fd >= 0)
		tcsetattr(raw_tty.fd, TCSANOW, &raw_tty.saved);
	for (int i = 0; i < FATAL_SIGNALS; i++) {
		if (fatal_signals[i] != sig)
			continue;
		struct sigaction *prev = &raw_tty.previous[i];
		if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
			prev->sa_sigaction(sig, info, ctx);
			return;
		}
		if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN && prev->sa_handler) {
			prev->sa_handler(sig);
			return;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_terminal(int fd, const struct termios *saved)
{
	raw_tty.saved = *saved;
	raw_tty.fd = fd;
	struct sigaction sa = { .sa_sigaction = restore_on_fatal, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < FATAL_SIGNALS; i++)
		sigaction(fatal_signals[i], &sa, &raw_tty.previous[i]);
}

void console_start(struct console *c, struct uart *uart)
{
	c->uart = uart;
	if (c->kind == SERIAL_SOCKET)
		serial_socket_start(&c->sock, uart);
	if (c->in_fd < 0)
		return;
	if (c->is_tty && tcgetattr(c->in_fd, &c->saved) == 0) {
		struct termios raw = c->saved;
		cfmakeraw(&raw);
		if (tcsetattr(c->in_fd, TCSANOW, &raw) == 0) {
			c->raw = true;
			log_set_raw_tty(true);
			guard_terminal(c->in_fd, &c->saved);
		}
	}
	fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
}

static void send(struct console *c, const uint8_t *buf, size_t n)
{
	if (c->npending) {
		/* Keep order: new input waits behind what is already waiting. */
		size_t room = sizeof(c->pending) - c->npending;
		size_t k = n < room ? n : room;
		memcpy(c->pending + c->npending, buf, k);
		c->npending += k;
		return;
	}
	size_t took = uart_input(c->uart, buf, n);
	size_t rest = n - took;
	if (rest > sizeof(c->pending))
		rest = sizeof(c->pending);
	memcpy(c->pending, buf + took, rest);
	c->npending = rest;
}

static void escape_help(struct console *c)
{
	console_message(c, "Ctrl-A h    this help");
	console_message(c, "Ctrl-A x    stop the VM and exit");
	console_message(c, "Ctrl-A a    send Ctrl-A to the guest (Ctrl-A Ctrl-A too)");
}

void console_feed(struct console *c, const uint8_t *buf, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (!c->is_tty)
			continue;
		if (c->escape) {
			c->escape = false;
			uint8_t k = buf[i];
			if (k == 'x' || k == 'X') {
				c->quit_requested = true;
			} else if (k == 'h' || k == 'H' || k == '?') {
				escape_help(c);
			} else if (k == CONSOLE_ESCAPE || k == 'a') {
				send(c, (const uint8_t[]){ CONSOLE_ESCAPE }, 1);
			}
			start = i + 1;
		} else if (buf[i] == CONSOLE_ESCAPE) {
			send(c, buf + start, i - start);
			c->escape = true;
			start = i + 1;
		}
	}
	if (start < n)
		send(c, buf + start, n - start);
}

bool console_read(struct console *c)
{
	uint8_t buf[1024];
	/* Input that found no room stays in the terminal until the guest reads:
	 * one read at a time so that `pending` always has space for it. */
	while (c->npending == 0) {
		ssize_t n = read(c->in_fd, buf, sizeof(buf));
		if (n > 0) {
			console_feed(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;   /* end of input or a read error */
	}
	return true;
}

bool console_flush_pending(struct console *c)
{
	if (c->npending) {
		size_t took = uart_input(c->uart, c->pending, c->npending);
		memmove(c->pending, c->pending + took, c->npending - took);
		c->npending -= took;
	}
	return c->npending > 0;
}

void console_message(struct console *c, const char *msg)
{
	fprintf(stderr, "%s%s", msg, c->raw ? "\r\n" : "\n");
}

void console_close(struct console *c)
{
	if (c->raw) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->raw = false;
		raw_tty.fd = -1;
		log_set_raw_tty(false);
	}
	if (c->in_fd >= 0)
		fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) & ~O_NONBLOCK);
	if (c->kind == SERIAL_FILE && c->out_fd >= 0)
		close(c->out_fd);
	if (c->kind == SERIAL_SOCKET && c->sock.path)
		serial_socket_close(&c->sock);
	c->out_fd = c->in_fd = -1;
}
