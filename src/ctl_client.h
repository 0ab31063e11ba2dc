/* A blocking client of the control socket, for `vmdeck ctl`, `vmdeck
 * stats`, tests and benchmarks. */
#ifndef VMDECK_CTL_CLIENT_H
#define VMDECK_CTL_CLIENT_H

#include <json-c/json.h>
#include <stddef.h>

#include "src/error.h"

struct ctl_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Connects to PATH; the error says whether no VM is there. */
int ctl_conn_open(struct ctl_conn *c, const char *path, struct error *err);
void ctl_conn_close(struct ctl_conn *c);
/* Sends one request line (a newline is added). */
int ctl_conn_send(struct ctl_conn *c, json_object *req, struct error *err);
int ctl_conn_send_raw(struct ctl_conn *c, const void *data, size_t len, struct error *err);
/* The next line from the server as JSON, waiting up to TIMEOUT_MS (< 0:
 * forever); NULL with ERR on timeout, end of stream or bad JSON. */
json_object *ctl_conn_read(struct ctl_conn *c, int timeout_ms, struct error *err);
/* Sends REQ and returns the reply (events before it go to ON_EVENT, or
 * are dropped when it is NULL). */
json_object *ctl_conn_call(struct ctl_conn *c, json_object *req, int timeout_ms,
			   void (*on_event)(json_object *event, void *ctx), void *ctx, struct error *err);

#endif
