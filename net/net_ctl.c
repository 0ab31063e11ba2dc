/* The network's control commands: port forwards and packet capture while
 * the VM runs.  Error codes: a rule that does not parse or names no
 * forward is the client's mistake (bad-args); a port the host will not
 * give or a file that cannot be written is a failure of the attempt
 * (failed); no network card, or a capture already running or not running,
 * is something the VM cannot do now (unavailable). */
#include <string.h>

#include "net/net_ctl.h"
#include "net/net_report.h"

static enum ctl_status no_net(struct ctl_call *call)
{
	return ctl_call_fail(call, CTL_ERR_UNAVAILABLE, "this VM has no network card; start it with --net user");
}

/* The forwards now in ALL (NET_MAX_FORWARDS long), their number in NR, and
 * the index of the one on F's host port, NR if none is. */
static unsigned forward_on_port(struct net *n, const struct net_hostfwd *f, struct net_forward_info *all,
				unsigned *nr)
{
	unsigned i = 0;
	*nr = net_forwards(n, all, NET_MAX_FORWARDS);
	while (i < *nr && !net_hostfwd_same_host(&all[i].fwd, f))
		i++;
	return i;
}

/* The forward on F's host port as the list shows it, and how many there are. */
static void add_forward_json(struct net *n, const struct net_hostfwd *f, json_object *out)
{
	struct net_forward_info all[NET_MAX_FORWARDS];
	unsigned nr, i = forward_on_port(n, f, all, &nr);
	if (i < nr)
		json_object_object_add(out, "forward", net_forward_json(&all[i]));
	json_object_object_add(out, "forwards", json_object_new_int((int)nr));
}

static enum ctl_status cmd_hostfwd_add(struct ctl_call *call)
{
	struct net *n = call->ctx;
	const char *rule;
	ctl_arg_string(call->req, "rule", &rule);
	if (!n)
		return no_net(call);
	struct error err = { "" };
	struct net_hostfwd f;
	/* Parsed here first to tell a bad rule from a port the host refuses. */
	if (net_hostfwd_parse(rule, &n->opt.addrs, &f, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_ARGS, "%s", err.msg);
	if (net_hostfwd_add(n, rule, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_FAILED, "%s", err.msg);
	add_forward_json(n, &f, call->result);
	return CTL_OK;
}

static enum ctl_status cmd_hostfwd_remove(struct ctl_call *call)
{
	struct net *n = call->ctx;
	const char *rule;
	ctl_arg_string(call->req, "rule", &rule);
	if (!n)
		return no_net(call);
	struct error err = { "" };
	struct net_hostfwd f;
	if (net_hostfwd_parse_host(rule, &f, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_ARGS, "%s", err.msg);
	struct net_forward_info all[NET_MAX_FORWARDS];
	unsigned nr, i = forward_on_port(n, &f, all, &nr);
	if (i == nr)
		return ctl_call_fail(call, CTL_ERR_ARGS, "no forward listens on %s", rule);
	if (net_hostfwd_remove(n, rule, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_FAILED, "%s", err.msg);
	json_object_object_add(call->result, "removed", json_object_new_string(all[i].spec));
	json_object_object_add(call->result, "forwards", json_object_new_int((int)nr - 1));
	return CTL_OK;
}

static enum ctl_status cmd_capture_start(struct ctl_call *call)
{
	struct net *n = call->ctx;
	const char *path;
	ctl_arg_string(call->req, "file", &path);
	if (!n)
		return no_net(call);
	if (net_capture_path(n))
		return ctl_call_fail(call, CTL_ERR_UNAVAILABLE, "a capture to '%s' is already running; stop it first",
				     net_capture_path(n));
	struct error err = { "" };
	if (net_capture_start(n, path, &err) < 0)
		return ctl_call_fail(call, CTL_ERR_FAILED, "%s", err.msg);
	json_object_object_add(call->result, "file", json_object_new_string(path));
	return CTL_OK;
}

static enum ctl_status cmd_capture_stop(struct ctl_call *call)
{
	struct net *n = call->ctx;
	if (!n)
		return no_net(call);
	if (!net_capture_path(n))
		return ctl_call_fail(call, CTL_ERR_UNAVAILABLE, "no capture is running");
	/* The writer forgets its path when it closes. */
	json_object *file = json_object_new_string(net_capture_path(n));
	struct error err = { "" };
	if (net_capture_stop(n, &err) < 0) {
		json_object_put(file);
		return ctl_call_fail(call, CTL_ERR_FAILED, "%s", err.msg);
	}
	json_object_object_add(call->result, "file", file);
	json_object_object_add(call->result, "packets", json_object_new_uint64(n->capture.packets));
	json_object_object_add(call->result, "bytes", json_object_new_uint64(n->capture.bytes));
	return CTL_OK;
}

static const struct ctl_arg hostfwd_add_args[] = {
	{ "rule", CTL_ARG_STRING, true,
	  "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT as in --net user,hostfwd= (host side on 127.0.0.1 "
	  "unless HOSTADDR is given)" },
	{ NULL, 0, false, NULL },
};

static const struct ctl_arg hostfwd_remove_args[] = {
	{ "rule", CTL_ARG_STRING, true, "[tcp|udp]:[HOSTADDR]:HOSTPORT of the forward (or its whole rule)" },
	{ NULL, 0, false, NULL },
};

static const struct ctl_arg capture_start_args[] = {
	{ "file", CTL_ARG_PATH, true, "the pcap file to write (created with mode 0600, replaced if it exists)" },
	{ NULL, 0, false, NULL },
};

const struct ctl_command net_ctl_commands[] = {
	{ "hostfwd-add", hostfwd_add_args, cmd_hostfwd_add, "forwards a host port to the guest while it runs" },
	{ "hostfwd-remove", hostfwd_remove_args, cmd_hostfwd_remove, "stops a port forward and closes its host socket" },
	{ "capture-start", capture_start_args, cmd_capture_start,
	  "writes every frame the guest sends and receives to a pcap file" },
	{ "capture-stop", NULL, cmd_capture_stop, "stops the capture and closes its file" },
	{ NULL, NULL, NULL, NULL },
};
