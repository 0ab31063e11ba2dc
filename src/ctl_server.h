/* The control socket server of one VMM process, on the GLib default main
 * context.  Many clients at once; requests are answered in order per
 * client; events go to the clients that subscribed.
 *
 * Nothing a client sends can hurt the VM or the other clients: a line that
 * is not a valid request gets an error reply, a line over the limit gets
 * one and a disconnect, a client whose unread output passes the limit is
 * disconnected, and clients beyond the maximum are told so and closed. */
#ifndef VMDECK_CTL_SERVER_H
#define VMDECK_CTL_SERVER_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "src/ctl_proto.h"
#include "src/error.h"

struct ctl_limits {
	size_t line_max;          /* bytes per request line */
	size_t out_max;           /* unread reply and event bytes per client */
	unsigned max_clients;
};

#define CTL_DEFAULT_OUT_MAX     (4u << 20)
#define CTL_DEFAULT_MAX_CLIENTS 256

struct ctl_server_counters {
	uint64_t accepted, refused, dropped;      /* dropped: too slow or line too long */
	uint64_t requests, errors, events;
};

/* LIMITS may be NULL for the defaults. */
struct ctl_server *ctl_server_new(const struct ctl_limits *limits);
/* Frees the server: pending output gets one last non-blocking write, then
 * every connection closes and the socket file is removed. */
void ctl_server_free(struct ctl_server *s);

/* Listens on the UNIX socket PATH (mode 0600).  A socket file nobody
 * answers on is stale and replaced; a live one is an error. */
int ctl_server_listen(struct ctl_server *s, const char *path, struct error *err);
/* Serves an already connected socket (tests use socketpairs). */
int ctl_server_adopt(struct ctl_server *s, int fd);

/* Adds ROWS (ended by a row with a NULL name) served with context CTX.
 * The server's own rows (help, subscribe, unsubscribe) come first. */
void ctl_server_register(struct ctl_server *s, const struct ctl_command *rows, void *ctx);
const struct ctl_command *ctl_server_find(struct ctl_server *s, const char *name, void **ctx);

/* Sends EVENT with DATA (ownership taken; NULL: {}) to its subscribers. */
void ctl_server_emit(struct ctl_server *s, const char *event, json_object *data);

unsigned ctl_server_clients(const struct ctl_server *s);
struct ctl_server_counters ctl_server_counters(const struct ctl_server *s);
const char *ctl_server_path(const struct ctl_server *s);

#endif
