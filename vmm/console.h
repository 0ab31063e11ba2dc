/* Where the guest's COM1 goes: the terminal (raw mode, Ctrl-A escapes like
 * QEMU), a file, a UNIX socket consoles attach to, or nowhere. */
#ifndef VMDECK_CONSOLE_H
#define VMDECK_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "src/error.h"
#include "vmm/dev_uart.h"
#include "vmm/serial_socket.h"

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_SOCKET, SERIAL_NONE };

struct serial_config {
	enum serial_kind kind;
	const char *path;          /* SERIAL_FILE, SERIAL_SOCKET */
};

#define CONSOLE_ESCAPE 0x01    /* Ctrl-A */

struct console {
	enum serial_kind kind;
	int out_fd;                /* -1: output discarded */
	int in_fd;                 /* -1: no input */
	bool is_tty, raw;
	bool escape;               /* the previous key was Ctrl-A */
	struct termios saved;
	struct uart *uart;
	uint8_t pending[4096];     /* input the UART had no room for yet */
	size_t npending;
	bool quit_requested;
	struct serial_socket sock;  /* SERIAL_SOCKET */
};

/* Parses "stdio", "file:PATH", "socket:PATH" or "none"; -1 with a
 * sentence on error. */
int serial_parse(const char *s, struct serial_config *out, struct error *err);

int console_open(struct console *c, const struct serial_config *cfg, struct error *err);
/* The UART backend that writes guest output to this console. */
struct uart_backend console_backend(struct console *c);
/* Puts the terminal in raw mode (if it is one) and starts taking input. */
void console_start(struct console *c, struct uart *uart);
/* Reads what is available on in_fd and feeds the UART.  Returns false at
 * end of input. */
bool console_read(struct console *c);
/* Retries input that did not fit; true while some is still waiting. */
bool console_flush_pending(struct console *c);
/* Processes input bytes (escape handling included); exposed for tests. */
void console_feed(struct console *c, const uint8_t *buf, size_t n);
void console_close(struct console *c);
/* Prints one line to the user in a way that works in raw mode. */
void console_message(struct console *c, const char *msg);

#endif
