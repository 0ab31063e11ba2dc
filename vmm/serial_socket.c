#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/serial_socket.h"

static int bind_socket(const char *path, struct error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return error_set(err, "the socket path '%s' is too long for a UNIX socket", path);
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return error_set(err, "'%s' exists and is not a socket; not replacing it", path);
		unlink(path);                 /* a stale socket from an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_errno(err, errno, "cannot create a socket for '%s'", path);
	mode_t old = umask(0177);            /* the socket is born 0600 */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return error_errno(err, e, "cannot listen on '%s'", path);
	}
	return fd;
}

int serial_socket_open(struct serial_socket *s, const char *path, struct error *err)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->wake_fd = -1;
	s->listen_fd = bind_socket(path, err);
	if (s->listen_fd < 0)
		return -1;
	s->path = strdup(path);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->path || s->wake_fd < 0)
		return error_set(err, "out of resources for the serial socket");
	return 0;
}

static void history_add(struct serial_socket *s, const uint8_t *buf, size_t len)
{
	if (len >= SERIAL_HISTORY) {
		buf += len - SERIAL_HISTORY;
		len = SERIAL_HISTORY;
	}
	for (size_t i = 0; i < len; i++) {
		s->history[(s->hist_start + s->hist_len) % SERIAL_HISTORY] = buf[i];
		if (s->hist_len < SERIAL_HISTORY)
			s->hist_len++;
		else
			s->hist_start = (s->hist_start + 1) % SERIAL_HISTORY;
	}
}

/* Sends or queues BUF for C; with the lock held. */
static void client_send(struct serial_socket *s, struct serial_client *c, const uint8_t *buf, size_t len)
{
	if (c->fd < 0 || c->dead)
		return;
	if (!c->queued) {
		ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			c->dead = 1;
			return;
		}
	}
	if (!len)
		return;
	if (c->queued + len > SERIAL_CLIENT_QUEUE) {
		c->dead = 1;                     /* it stopped reading: let it go */
		return;
	}
	if (!c->queue)
		c->queue = malloc(SERIAL_CLIENT_QUEUE);
	if (!c->queue) {
		c->dead = 1;
		return;
	}
	memcpy(c->queue + c->queued, buf, len);
	c->queued += len;
}

void serial_socket_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial_socket *s = opaque;
	bool wake = false;
	pthread_mutex_lock(&s->lock);
	history_add(s, buf, len);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++) {
		struct serial_client *c = &s->clients[i];
		size_t before = c->queued;
		client_send(s, c, buf, len);
		wake |= c->dead || (c->queued && !before);
	}
	pthread_mutex_unlock(&s->lock);
	uint64_t one = 1;
	if (wake && write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("serial socket wake: %s", strerror(errno));
}

static void client_close(struct serial_client *c)
{
	if (c->in_watch)
		g_source_remove(c->in_watch);
	if (c->out_watch)
		g_source_remove(c->out_watch);
	if (c->fd >= 0)
		close(c->fd);
	free(c->queue);
	*c = (struct serial_client){ .fd = -1 };
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data);

/* Main loop: closes dead clients and watches the backed-up ones. */
static void service(struct serial_socket *s)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++) {
		struct serial_client *c = &s->clients[i];
		if (c->fd >= 0 && c->dead) {
			s->dropped_clients++;
			client_close(c);
		} else if (c->fd >= 0 && c->queued && !c->out_watch) {
			c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_writable, s);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
	struct serial_socket *s = data;
	gboolean keep = G_SOURCE_CONTINUE;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++) {
		struct serial_client *c = &s->clients[i];
		if (c->fd != fd)
			continue;
		ssize_t n = send(fd, c->queue, c->queued, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			memmove(c->queue, c->queue + n, c->queued - (size_t)n);
			c->queued -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			c->dead = 1;
		}
		if (!c->queued || c->dead) {
			c->out_watch = 0;
			keep = G_SOURCE_REMOVE;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (keep == G_SOURCE_REMOVE)
		service(s);
	return keep;
}

static gboolean on_wake(gint fd, GIOCondition cond, gpointer data)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("serial socket: %s", strerror(errno));
	service(data);
	return G_SOURCE_CONTINUE;
}

static gboolean retry_input(gpointer data);

/* The UART is full: stop reading clients until the guest drains it. */
static gboolean pause_input(struct serial_socket *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++)
		if (s->clients[i].fd == fd)
			s->clients[i].in_watch = 0;
	if (!s->retry_timer)
		s->retry_timer = g_timeout_add(10, retry_input, s);
	pthread_mutex_unlock(&s->lock);
	return G_SOURCE_REMOVE;
}

static gboolean on_input(gint fd, GIOCondition cond, gpointer data)
{
	struct serial_socket *s = data;
	size_t room = uart_input_room(s->uart);
	if (room == 0)
		return pause_input(s, fd);
	uint8_t buf[1024];
	ssize_t n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0) {
		uart_input(s->uart, buf, (size_t)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++)
		if (s->clients[i].fd == fd) {
			s->clients[i].in_watch = 0;      /* returning REMOVE drops it */
			client_close(&s->clients[i]);
		}
	pthread_mutex_unlock(&s->lock);
	return G_SOURCE_REMOVE;
}

static gboolean retry_input(gpointer data)
{
	struct serial_socket *s = data;
	if (uart_input_room(s->uart) == 0)
		return G_SOURCE_CONTINUE;
	pthread_mutex_lock(&s->lock);
	s->retry_timer = 0;
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++) {
		struct serial_client *c = &s->clients[i];
		if (c->fd >= 0 && !c->in_watch)
			c->in_watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, s);
	}
	pthread_mutex_unlock(&s->lock);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct serial_socket *s = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	pthread_mutex_lock(&s->lock);
	struct serial_client *c = NULL;
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS && !c; i++)
		if (s->clients[i].fd < 0)
			c = &s->clients[i];
	if (!c) {
		pthread_mutex_unlock(&s->lock);
		close(cfd);                      /* full: the newcomer is refused */
		return G_SOURCE_CONTINUE;
	}
	*c = (struct serial_client){ .fd = cfd };
	/* The recent past first, in order. */
	size_t first = s->hist_len < SERIAL_HISTORY - s->hist_start ? s->hist_len : SERIAL_HISTORY - s->hist_start;
	client_send(s, c, s->history + s->hist_start, first);
	client_send(s, c, s->history, s->hist_len - first);
	c->in_watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, s);
	pthread_mutex_unlock(&s->lock);
	service(s);
	return G_SOURCE_CONTINUE;
}

void serial_socket_start(struct serial_socket *s, struct uart *uart)
{
	s->uart = uart;
	s->listen_watch = g_unix_fd_add(s->listen_fd, G_IO_IN, on_accept, s);
	s->wake_watch = g_unix_fd_add(s->wake_fd, G_IO_IN, on_wake, s);
}

void serial_socket_close(struct serial_socket *s)
{
	for (unsigned i = 0; i < SERIAL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_close(&s->clients[i]);
	if (s->listen_watch)
		g_source_remove(s->listen_watch);
	if (s->wake_watch)
		g_source_remove(s->wake_watch);
	if (s->retry_timer)
		g_source_remove(s->retry_timer);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->path)
			unlink(s->path);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	s->listen_fd = s->wake_fd = -1;
	s->path = NULL;
}
