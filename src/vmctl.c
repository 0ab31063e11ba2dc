#include <stdio.h>
#include <string.h>

#include "src/backend.h"
#include "src/ctl_client.h"
#include "src/ctl_path.h"
#include "src/vmctl.h"

static int open_vm(const char *name, struct ctl_conn *c, struct error *err)
{
	char path[256];
	struct error why;
	if (ctl_path_for_name(name, path, sizeof(path), err) < 0)
		return BE_EUSER;
	if (ctl_conn_open(c, path, &why) < 0)
		return be_error(err, BE_EFAIL, "cannot reach the VMM of VM '%s': %s", name, why.msg);
	return 0;
}

/* A reply into the backend's statuses: what the VMM refused as asked is
 * the user's; what it tried and failed, or could not answer, is not. */
static int take_reply(const char *name, const char *cmd, json_object *reply, json_object **result,
		      struct error *err)
{
	json_object *ok = NULL, *res = NULL, *e = NULL;
	if (json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok)) {
		if (result && json_object_object_get_ex(reply, "result", &res))
			*result = json_object_get(res);
		return 0;
	}
	json_object_object_get_ex(reply, "error", &e);
	const char *code = json_object_get_string(json_object_object_get(e, "code"));
	const char *msg = json_object_get_string(json_object_object_get(e, "message"));
	bool user = code && (!strcmp(code, "bad-args") || !strcmp(code, "unknown-command") ||
			     !strcmp(code, "unavailable"));
	return be_error(err, user ? BE_EUSER : BE_EFAIL, "VM '%s' refused %s: %s", name, cmd,
			msg ? msg : "no reason given");
}

static int call_on(struct ctl_conn *c, const char *name, json_object *req, int timeout_ms, json_object **result,
		   struct error *err)
{
	struct error why;
	const char *cmd = json_object_get_string(json_object_object_get(req, "cmd"));
	json_object *reply = ctl_conn_call(c, req, timeout_ms, NULL, NULL, &why);
	if (!reply)
		return be_error(err, BE_EFAIL, "VM '%s' did not answer %s: %s", name, cmd, why.msg);
	int r = take_reply(name, cmd, reply, result, err);
	json_object_put(reply);
	return r;
}

int vmctl_call(const char *name, const char *cmd, json_object *args, int timeout_ms, json_object **result,
	       struct error *err)
{
	struct ctl_conn c;
	*result = NULL;
	int r = open_vm(name, &c, err);
	if (r)
		return r;
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args && json_object_is_type(args, json_type_object)) {
		json_object_object_foreach(args, key, val)
			json_object_object_add(req, key, json_object_get(val));
	}
	r = call_on(&c, name, req, timeout_ms, result, err);
	json_object_put(req);
	ctl_conn_close(&c);
	return r;
}

int vmctl_call_value(const char *name, const char *cmd, const char *value, int timeout_ms, struct error *err)
{
	struct ctl_conn c;
	int r = open_vm(name, &c, err);
	if (r)
		return r;
	struct error why;
	json_object *args = ctl_conn_command_args(&c, cmd, timeout_ms, &why);
	json_object *first = args && json_object_array_length(args) ? json_object_array_get_idx(args, 0) : NULL;
	const char *arg = json_object_get_string(json_object_object_get(first, "name"));
	if (!arg) {
		r = be_error(err, BE_EUSER, "the VMM of VM '%s' cannot do %s while it runs: %s", name, cmd,
			     args ? "the command takes no argument" : why.msg);
	} else {
		json_object *req = json_object_new_object(), *res = NULL;
		json_object_object_add(req, "cmd", json_object_new_string(cmd));
		json_object_object_add(req, arg, json_object_new_string(value));
		r = call_on(&c, name, req, timeout_ms, &res, err);
		json_object_put(res);
		json_object_put(req);
	}
	json_object_put(args);
	ctl_conn_close(&c);
	return r;
}
