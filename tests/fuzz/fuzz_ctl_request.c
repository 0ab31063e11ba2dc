/* libFuzzer: one control-socket request line through the parser, the
 * argument checks of every VM and network command, the size reader and
 * the forward rules the network commands parse. */
#include <stddef.h>
#include <stdint.h>

#include "net/net_ctl.h"
#include "net/net_options.h"
#include "src/ctl_proto.h"
#include "src/ctl_vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *req;
	const char *name;
	char msg[512];
	if (ctl_parse_request((const char *)data, size, &req, &name, msg, sizeof(msg)) != CTL_OK)
		return 0;
	for (const struct ctl_command *c = ctl_vm_commands; c->name; c++) {
		if (ctl_check_args(c, req, msg, sizeof(msg)) != CTL_OK)
			continue;
		uint64_t v;
		for (const struct ctl_arg *a = c->args; a && a->name; a++)
			if (a->type == CTL_ARG_SIZE)
				(void)ctl_arg_size(req, a->name, &v);
	}
	for (const struct ctl_command *c = net_ctl_commands; c->name; c++) {
		const char *rule;
		if (ctl_check_args(c, req, msg, sizeof(msg)) != CTL_OK || !ctl_arg_string(req, "rule", &rule))
			continue;
		struct net_addrs addrs;
		struct net_hostfwd f;
		struct error err;
		net_addrs_default(&addrs);
		(void)net_hostfwd_parse(rule, &addrs, &f, &err);
		(void)net_hostfwd_parse_host(rule, &f, &err);
	}
	size_t len;
	char *line = ctl_reply_error(json_object_object_get(req, "id"), CTL_ERR_ARGS, msg, &len);
	free(line);
	json_object_put(req);
	return 0;
}
