/* vmdeck ctl: one command to a running VM through its control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "src/cli.h"
#include "src/ctl_client.h"
#include "src/ctl_path.h"

#define DEFAULT_TIMEOUT_MS 10000

static const char ctl_help[] =
	"NAME is a VM's name (its socket is $XDG_RUNTIME_DIR/vmdeck/NAME.sock, or\n"
	"/tmp/vmdeck-UID/NAME.sock) or the path of a control socket (anything with a '/').\n"
	"\n"
	"commands (`vmdeck ctl NAME help` asks the VM for its list):\n"
	"  status               name, state, uptime, vCPUs, memory, last error\n"
	"  stats                every statistic, as JSON (see also `vmdeck stats`)\n"
	"  pause, resume        stop and restart the vCPUs\n"
	"  powerdown            press the ACPI power button\n"
	"  reset                reset the machine\n"
	"  quit                 stop the VM at once\n"
	"  balloon SIZE         let the guest keep SIZE of memory (as --mem: 256M, 1G; a\n"
	"                       bare number means MiB); needs `vmdeck run --balloon`\n"
	"  screendump FILE      write the display's picture to FILE as a PNG\n"
	"  hostfwd-add RULE     forward a host port to the guest: RULE as in --net user,\n"
	"                       hostfwd=, e.g. tcp::8080-:80 (127.0.0.1 unless an address\n"
	"                       is given); needs `vmdeck run --net user`\n"
	"  hostfwd-remove RULE  stop the forward on RULE's host side, e.g. tcp::8080\n"
	"  capture-start FILE   write the guest's traffic to FILE as pcap (for tshark)\n"
	"  capture-stop         stop the capture\n"
	"  subscribe [EVENT,...]  print events (state, reset, balloon, guest-panicked,\n"
	"                       crashed; all by default) as JSON lines until the VM stops\n"
	"\n"
	"ARGS are KEY=VALUE, or one bare VALUE for the command's first argument.\n"
	"\n"
	"options:\n"
	"  --timeout SECS       how long to wait for the reply (default 10)\n"
	"\n"
	"The reply's result is printed as JSON.  exit status: 0 on success; 1 when the VM\n"
	"could not do it; 2 on bad input (no such VM, unknown command, bad argument).\n";

static int exec_ctl(int argc, char **argv);

const struct cli_cmd cmd_ctl_entry = {
	.name = "ctl",
	.args = "[--timeout SECS] NAME|SOCKET COMMAND [ARGS]",
	.summary = "send one command to a running VM (status, pause, balloon, ...)",
	.help = ctl_help,
	.exec = exec_ctl,
};

static json_object *typed_value(const char *type, const char *value)
{
	if (!strcmp(type, "integer")) {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 0);
		if (*value && !*end && !errno)
			return json_object_new_int64(v);
	} else if (!strcmp(type, "boolean")) {
		if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
			return json_object_new_boolean(1);
		if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
			return json_object_new_boolean(0);
	} else if (!strcmp(type, "path") && value[0] != '/') {
		/* The VMM runs elsewhere: a name relative to where the user is. */
		char *cwd = getcwd(NULL, 0);
		if (cwd) {
			char *abs = g_build_filename(cwd, value, NULL);
			json_object *v = json_object_new_string(abs);
			g_free(abs);
			free(cwd);
			return v;
		}
	} else if (!strcmp(type, "strings")) {
		json_object *a = json_object_new_array();
		char *copy = strdup(value), *save;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_object_array_add(a, json_object_new_string(t));
		free(copy);
		return a;
	}
	/* Strings, sizes (the VM parses "256M"), and anything the VM will refuse. */
	return json_object_new_string(value);
}

static int add_args(const struct cli_cmd *cmd, json_object *req, json_object *args, char **av, int n)
{
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(av[i], '=');
		char key[64];
		const char *value;
		json_object *spec = NULL;
		if (eq && (size_t)(eq - av[i]) < sizeof(key)) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - av[i]), av[i]);
			value = eq + 1;
		} else if (i == 0 && json_object_array_length(args) > 0) {
			snprintf(key, sizeof(key), "%s",
				 json_object_get_string(json_object_object_get(json_object_array_get_idx(args, 0), "name")));
			value = av[i];
		} else {
			return cli_usage_error(cmd, "'%s' is not KEY=VALUE", av[i]);
		}
		for (size_t k = 0; k < json_object_array_length(args); k++) {
			json_object *a = json_object_array_get_idx(args, k);
			if (!strcmp(json_object_get_string(json_object_object_get(a, "name")), key))
				spec = a;
		}
		if (!spec)
			return cli_usage_error(cmd, "%s takes no argument '%s'",
					       json_object_get_string(json_object_object_get(req, "cmd")), key);
		json_object_object_add(req, key,
				       typed_value(json_object_get_string(json_object_object_get(spec, "type")), value));
	}
	return EXIT_OK;
}

static int print_reply(const struct cli_cmd *cmd, json_object *reply)
{
	json_object *okv, *result, *error;
	if (json_object_object_get_ex(reply, "ok", &okv) && json_object_get_boolean(okv)) {
		json_object_object_get_ex(reply, "result", &result);
		printf("%s\n", json_object_to_json_string_ext(result, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
		return EXIT_OK;
	}
	json_object_object_get_ex(reply, "error", &error);
	const char *code = json_object_get_string(json_object_object_get(error, "code"));
	fprintf(stderr, "vmdeck %s: %s\n", cmd->name,
		json_object_get_string(json_object_object_get(error, "message")));
	return code && (!strcmp(code, "bad-args") || !strcmp(code, "unknown-command")) ? EXIT_USAGE : EXIT_FAIL;
}

static void print_event(json_object *ev, void *ctx)
{
	printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
}

/* After `subscribe`: events until the VM goes away. */
static int stream_events(struct ctl_conn *c)
{
	struct error err;
	for (;;) {
		json_object *ev = ctl_conn_read(c, -1, &err);
		if (!ev)
			return EXIT_OK;
		print_event(ev, NULL);
		json_object_put(ev);
	}
}

static int exec_ctl(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_ctl_entry;
	int timeout = DEFAULT_TIMEOUT_MS, i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			double s = strtod(argv[++i], &end);
			if (*end || !(s > 0) || s > 86400)
				return cli_usage_error(cmd, "--timeout takes seconds, not '%s'", argv[i]);
			timeout = (int)(s * 1000);
		} else {
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help ctl` lists them", argv[i]);
		}
	}
	if (argc - i < 2)
		return cli_usage_error(cmd, "needs a VM and a command, as in `vmdeck ctl vm status`");
	const char *target = argv[i], *command = argv[i + 1];
	char path[4096];
	struct error err;
	struct ctl_conn c;
	if (ctl_path_resolve(target, path, sizeof(path), &err) < 0 || ctl_conn_open(&c, path, &err) < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(command));
	int code = EXIT_OK;
	if (argc - i > 2) {
		json_object *args = ctl_conn_command_args(&c, command, timeout, &err);
		if (!args)
			code = cli_usage_error(cmd, "%s", err.msg);
		else
			code = add_args(cmd, req, args, argv + i + 2, argc - i - 2);
		json_object_put(args);
	}
	if (code == EXIT_OK) {
		json_object *reply = ctl_conn_call(&c, req, timeout, NULL, NULL, &err);
		if (!reply) {
			fprintf(stderr, "vmdeck %s: %s\n", cmd->name, err.msg);
			code = EXIT_FAIL;
		} else {
			code = print_reply(cmd, reply);
			fflush(stdout);
			json_object_put(reply);
			if (code == EXIT_OK && !strcmp(command, "subscribe"))
				code = stream_events(&c);
		}
	}
	json_object_put(req);
	ctl_conn_close(&c);
	return code;
}
