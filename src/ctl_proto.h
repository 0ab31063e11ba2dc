/* The control protocol (share/vmdeck-control.md): one JSON object per
 * line in each direction.
 *
 *   request   {"cmd": "balloon", "target": "256M", "id": 7}
 *   reply     {"id": 7, "ok": true, "result": {...}}
 *             {"id": 7, "ok": false, "error": {"code": "bad-args", "message": "..."}}
 *   event     {"event": "state", "time": 1712345678.123456, "data": {...}}
 *
 * A command is one table row: its name, its arguments (name, type,
 * required), the handler and a line of help.  This file checks requests
 * against the rows and builds replies; it does no I/O. */
#ifndef VMDECK_CTL_PROTO_H
#define VMDECK_CTL_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX (1u << 20)       /* bytes in one request line */

enum ctl_status {
	CTL_OK,
	CTL_ERR_PARSE,          /* "parse-error": not JSON */
	CTL_ERR_INVALID,        /* "invalid-request": not an object, no "cmd" */
	CTL_ERR_UNKNOWN,        /* "unknown-command" */
	CTL_ERR_ARGS,           /* "bad-args": unknown, missing or mistyped argument, bad value */
	CTL_ERR_UNAVAILABLE,    /* "unavailable": the VM has no such device or cannot do it now */
	CTL_ERR_FAILED,         /* "failed": the operation was tried and failed */
	CTL_ERR_TOO_LONG,       /* "line-too-long": then the connection closes */
	CTL_ERR_BUSY,           /* "too-many-clients": then the connection closes */
};

const char *ctl_status_code(enum ctl_status s);

enum ctl_arg_type {
	CTL_ARG_STRING,
	CTL_ARG_INT,            /* a JSON integer */
	CTL_ARG_BOOL,
	CTL_ARG_SIZE,           /* bytes: an integer, or a string such as "512M" (bare number: MiB) */
	CTL_ARG_STRINGS,        /* an array of strings */
	CTL_ARG_PATH,           /* an absolute file name: the VMM's working directory is not the client's */
};

struct ctl_arg {
	const char *name;
	enum ctl_arg_type type;
	bool required;
	const char *help;
};

struct ctl_server;
struct ctl_client;
struct ctl_command;

/* One request on its way through a handler. */
struct ctl_call {
	const struct ctl_command *cmd;
	json_object *req;                /* the request object: arguments by name */
	json_object *result;             /* the handler fills it (an object) */
	void *ctx;                       /* the context the command's rows were registered with */
	struct ctl_server *server;
	struct ctl_client *client;
	enum ctl_status status;
	char message[512];
};

struct ctl_command {
	const char *name;
	const struct ctl_arg *args;      /* ends with a NULL name; NULL: no arguments */
	/* Returns CTL_OK, or an error set with ctl_call_fail. */
	enum ctl_status (*run)(struct ctl_call *call);
	const char *help;
};

/* Sets the call's error (one sentence) and returns STATUS. */
enum ctl_status ctl_call_fail(struct ctl_call *call, enum ctl_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parses one line (without its newline).  On success *REQ owns the object
 * and *CMD points into it; otherwise the status and MSG say why. */
enum ctl_status ctl_parse_request(const char *line, size_t len, json_object **req, const char **cmd,
				  char *msg, size_t msglen);
/* Checks REQ against the command's argument list. */
enum ctl_status ctl_check_args(const struct ctl_command *cmd, json_object *req, char *msg, size_t msglen);

/* Typed argument access after ctl_check_args; false when absent. */
bool ctl_arg_string(json_object *req, const char *name, const char **out);
bool ctl_arg_int(json_object *req, const char *name, int64_t *out);
bool ctl_arg_bool(json_object *req, const char *name, bool *out);
/* Sizes are checked when read: -1 for "12 parsecs" or a negative number. */
int ctl_arg_size(json_object *req, const char *name, uint64_t *out);

/* Reply and event lines, newline-terminated, malloc'ed (caller frees). */
char *ctl_reply_ok(json_object *id, json_object *result, size_t *len);
char *ctl_reply_error(json_object *id, enum ctl_status status, const char *message, size_t *len);
char *ctl_event_line(const char *event, json_object *data, size_t *len);

/* A JSON number with at most DECIMALS digits after the point (json-c would
 * print 17 significant digits). */
json_object *ctl_json_double(double v, int decimals);

/* A command's arguments in words, for `help` and usage lines. */
void ctl_describe_args(const struct ctl_command *cmd, char *buf, size_t len);
const char *ctl_arg_type_name(enum ctl_arg_type t);
/* "string", "integer", "boolean", "size", "strings", "path" (what `help` says). */
const char *ctl_arg_type_key(enum ctl_arg_type t);

#endif
