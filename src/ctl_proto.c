#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/ctl_proto.h"
#include "src/size.h"

const char *ctl_status_code(enum ctl_status s)
{
	switch (s) {
	case CTL_OK: return "ok";
	case CTL_ERR_PARSE: return "parse-error";
	case CTL_ERR_INVALID: return "invalid-request";
	case CTL_ERR_UNKNOWN: return "unknown-command";
	case CTL_ERR_ARGS: return "bad-args";
	case CTL_ERR_UNAVAILABLE: return "unavailable";
	case CTL_ERR_FAILED: return "failed";
	case CTL_ERR_TOO_LONG: return "line-too-long";
	case CTL_ERR_BUSY: return "too-many-clients";
	}
	return "failed";
}

enum ctl_status ctl_call_fail(struct ctl_call *call, enum ctl_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	call->status = status;
	return status;
}

enum ctl_status ctl_parse_request(const char *line, size_t len, json_object **req, const char **cmd,
				  char *msg, size_t msglen)
{
	*req = NULL;
	*cmd = NULL;
	if (len > CTL_LINE_MAX) {
		snprintf(msg, msglen, "the request is longer than %u bytes", CTL_LINE_MAX);
		return CTL_ERR_TOO_LONG;
	}
	/* The tokenizer's depth limit (32 by default) bounds recursion on
	 * hostile nesting. */
	json_tokener *tok = json_tokener_new();
	if (!tok) {
		snprintf(msg, msglen, "out of memory");
		return CTL_ERR_FAILED;
	}
	json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		snprintf(msg, msglen, "the request is not valid JSON (%s)",
			 jerr == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(jerr));
		return CTL_ERR_PARSE;
	}
	for (; used < len; used++)
		if (line[used] != ' ' && line[used] != '\t' && line[used] != '\r') {
			json_object_put(obj);
			snprintf(msg, msglen, "the request has text after its JSON object");
			return CTL_ERR_PARSE;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		snprintf(msg, msglen, "a request must be a JSON object such as {\"cmd\": \"status\"}");
		return CTL_ERR_INVALID;
	}
	json_object *c;
	if (!json_object_object_get_ex(obj, "cmd", &c) || !json_object_is_type(c, json_type_string)) {
		json_object_put(obj);
		snprintf(msg, msglen, "a request needs \"cmd\" with a command name as a string");
		return CTL_ERR_INVALID;
	}
	*req = obj;
	*cmd = json_object_get_string(c);
	return CTL_OK;
}

const char *ctl_arg_type_name(enum ctl_arg_type t)
{
	switch (t) {
	case CTL_ARG_STRING: return "a string";
	case CTL_ARG_INT: return "an integer";
	case CTL_ARG_BOOL: return "true or false";
	case CTL_ARG_SIZE: return "a size (bytes, or a string such as \"512M\")";
	case CTL_ARG_STRINGS: return "an array of strings";
	case CTL_ARG_PATH: return "an absolute file name";
	}
	return "a value";
}

const char *ctl_arg_type_key(enum ctl_arg_type t)
{
	switch (t) {
	case CTL_ARG_STRING: return "string";
	case CTL_ARG_INT: return "integer";
	case CTL_ARG_BOOL: return "boolean";
	case CTL_ARG_SIZE: return "size";
	case CTL_ARG_STRINGS: return "strings";
	case CTL_ARG_PATH: return "path";
	}
	return "value";
}

static bool type_ok(enum ctl_arg_type t, json_object *v)
{
	switch (t) {
	case CTL_ARG_STRING:
		return json_object_is_type(v, json_type_string);
	case CTL_ARG_INT:
		return json_object_is_type(v, json_type_int);
	case CTL_ARG_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case CTL_ARG_SIZE:
		return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string);
	case CTL_ARG_PATH:
		return json_object_is_type(v, json_type_string) && json_object_get_string(v)[0] == '/';
	case CTL_ARG_STRINGS:
		if (!json_object_is_type(v, json_type_array))
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				return false;
		return true;
	}
	return false;
}

static const struct ctl_arg *find_arg(const struct ctl_command *cmd, const char *name)
{
	for (const struct ctl_arg *a = cmd->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

enum ctl_status ctl_check_args(const struct ctl_command *cmd, json_object *req, char *msg, size_t msglen)
{
	json_object_object_foreach(req, key, val) {
		if (!strcmp(key, "cmd") || !strcmp(key, "id"))
			continue;
		const struct ctl_arg *a = find_arg(cmd, key);
		if (!a) {
			snprintf(msg, msglen, "%s takes no argument \"%.64s\"", cmd->name, key);
			return CTL_ERR_ARGS;
		}
		if (!type_ok(a->type, val)) {
			snprintf(msg, msglen, "%s: \"%s\" must be %s", cmd->name, a->name, ctl_arg_type_name(a->type));
			return CTL_ERR_ARGS;
		}
	}
	for (const struct ctl_arg *a = cmd->args; a && a->name; a++)
		if (a->required && !json_object_object_get_ex(req, a->name, NULL)) {
			snprintf(msg, msglen, "%s needs \"%s\" (%s)", cmd->name, a->name, ctl_arg_type_name(a->type));
			return CTL_ERR_ARGS;
		}
	return CTL_OK;
}

bool ctl_arg_string(json_object *req, const char *name, const char **out)
{
	json_object *v;
	if (!json_object_object_get_ex(req, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	*out = json_object_get_string(v);
	return true;
}

bool ctl_arg_int(json_object *req, const char *name, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(req, name, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

bool ctl_arg_bool(json_object *req, const char *name, bool *out)
{
	json_object *v;
	if (!json_object_object_get_ex(req, name, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
}

int ctl_arg_size(json_object *req, const char *name, uint64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(req, name, &v))
		return -1;
	if (json_object_is_type(v, json_type_int)) {
		/* json-c clamps out-of-range integers; above INT64_MAX the
		 * unsigned reading is exact. */
		if (json_object_get_int64(v) < 0)
			return -1;
		*out = json_object_get_uint64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string))
		return size_parse(json_object_get_string(v), 20, out);
	return -1;
}

static char *to_line(json_object *obj, size_t *len)
{
	size_t n;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *line = s ? malloc(n + 2) : NULL;
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
		*len = n + 1;
	}
	json_object_put(obj);
	return line;
}

char *ctl_reply_ok(json_object *id, json_object *result, size_t *len)
{
	json_object *o = json_object_new_object();
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return to_line(o, len);
}

char *ctl_reply_error(json_object *id, enum ctl_status status, const char *message, size_t *len)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(e, "code", json_object_new_string(ctl_status_code(status)));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "error", e);
	return to_line(o, len);
}

char *ctl_event_line(const char *event, json_object *data, size_t *len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "time", ctl_json_double((double)ts.tv_sec + (double)ts.tv_nsec / 1e9, 6));
	json_object_object_add(o, "data", data ? data : json_object_new_object());
	return to_line(o, len);
}

void ctl_describe_args(const struct ctl_command *cmd, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (const struct ctl_arg *a = cmd->args; a && a->name && n < len; a++) {
		int w = snprintf(buf + n, len - n, a->required ? "%s%s=VALUE" : "%s[%s=VALUE]",
				 n ? " " : "", a->name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

json_object *ctl_json_double(double v, int decimals)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	/* Trailing zeros say nothing: 12.500 -> 12.5, 3.000 -> 3.0 */
	char *dot = strchr(buf, '.');
	if (dot) {
		char *end = buf + strlen(buf) - 1;
		while (end > dot + 1 && *end == '0')
			*end-- = '\0';
	}
	return json_object_new_double_s(v, buf);
}
