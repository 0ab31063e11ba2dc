#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "src/ctl_client.h"

int ctl_conn_open(struct ctl_conn *c, const char *path, struct error *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return error_set(err, "the socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return error_errno(err, errno, "cannot create a socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		if (e == ENOENT || e == ECONNREFUSED)
			return error_set(err, "no VM is running at %s", path);
		return error_errno(err, e, "cannot connect to %s", path);
	}
	return 0;
}

void ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int ctl_conn_send_raw(struct ctl_conn *c, const void *data, size_t len, struct error *err)
{
	const char *p = data;
	while (len) {
		ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return error_errno(err, errno, "cannot send to the VM");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ctl_conn_send(struct ctl_conn *c, json_object *req, struct error *err)
{
	size_t n;
	const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &n);
	if (ctl_conn_send_raw(c, s, n, err) < 0)
		return -1;
	return ctl_conn_send_raw(c, "\n", 1, err);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_object *ctl_conn_read(struct ctl_conn *c, int timeout_ms, struct error *err)
{
	long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			json_tokener *tok = json_tokener_new();
			json_object *o = json_tokener_parse_ex(tok, c->buf, (int)n);
			bool ok = o && json_tokener_get_error(tok) == json_tokener_success;
			json_tokener_free(tok);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			if (!ok) {
				json_object_put(o);
				error_set(err, "the VM sent a line that is not JSON");
				return NULL;
			}
			return o;
		}
		int wait = -1;
		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				error_set(err, "the VM did not answer within %d ms", timeout_ms);
				return NULL;
			}
			wait = (int)left;
		}
		struct pollfd p = { c->fd, POLLIN, 0 };
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue;
		if (c->len + 65536 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			while (cap < c->len + 65536)
				cap *= 2;
			char *b = realloc(c->buf, cap);
			if (!b) {
				error_set(err, "out of memory");
				return NULL;
			}
			c->buf = b;
			c->cap = cap;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error_set(err, "the VM closed the connection");
			return NULL;
		}
		c->len += (size_t)n;
	}
}

json_object *ctl_conn_call(struct ctl_conn *c, json_object *req, int timeout_ms,
			   void (*on_event)(json_object *event, void *ctx), void *ctx, struct error *err)
{
	if (ctl_conn_send(c, req, err) < 0)
		return NULL;
	for (;;) {
		json_object *o = ctl_conn_read(c, timeout_ms, err);
		if (!o)
			return NULL;
		if (json_object_object_get_ex(o, "event", NULL)) {
			if (on_event)
				on_event(o, ctx);
			json_object_put(o);
			continue;
		}
		return o;
	}
}
