/* The guest's serial port on a UNIX socket (mode 0600) for consoles that
 * attach and detach: `vmdeck console`, the TUI's serial tab.
 *
 * Several clients may attach; each gets the recent output first (a 64 KiB
 * history), then everything new.  Output never blocks a vCPU: what a client
 * cannot take right away waits in its own bounded queue, and a client that
 * falls too far behind is disconnected.  Input from any client goes to the
 * UART. */
#ifndef VMDECK_SERIAL_SOCKET_H
#define VMDECK_SERIAL_SOCKET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/dev_uart.h"

#define SERIAL_HISTORY      65536
#define SERIAL_MAX_CLIENTS  8
#define SERIAL_CLIENT_QUEUE (256 * 1024)

struct serial_client {
	int fd;                   /* -1: free slot */
	unsigned in_watch, out_watch;
	uint8_t *queue;           /* output the socket did not take yet */
	size_t queued;
	int dead;                 /* overflowed: the main loop closes it */
};

struct serial_socket {
	pthread_mutex_t lock;
	char *path;
	int listen_fd, wake_fd;
	unsigned listen_watch, wake_watch, retry_timer;
	struct serial_client clients[SERIAL_MAX_CLIENTS];
	uint8_t history[SERIAL_HISTORY];
	size_t hist_start, hist_len;
	struct uart *uart;
	uint64_t dropped_clients;
};

/* Binds PATH (replacing a stale socket, never another kind of file). */
int serial_socket_open(struct serial_socket *s, const char *path, struct error *err);
/* Starts accepting clients on the GLib default main context. */
void serial_socket_start(struct serial_socket *s, struct uart *uart);
/* The UART backend's write: any thread. */
void serial_socket_write(void *opaque, const uint8_t *buf, size_t len);
void serial_socket_close(struct serial_socket *s);

#endif
