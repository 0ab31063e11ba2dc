/* The backend's line to a VMM (src/vmctl.h) against a real control server
 * in-process: the server runs on the GLib loop in a thread of its own, the
 * backend calls it through the socket as it calls a VMM.  Replies become
 * the backend's statuses, and a one-argument command gets its value under
 * whatever name the server's `help` gives (the network's hostfwd-add). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/backend.h"
#include "src/ctl_path.h"
#include "src/ctl_server.h"
#include "src/vmctl.h"
#include "tests/lib/testlib.h"

struct fx {
	char *home;
	struct ctl_server *srv;
	GMainLoop *loop;
	pthread_t thread;
	char seen[256];               /* what the last row was given */
};

static enum ctl_status row_value(struct ctl_call *call, const char *arg)
{
	struct fx *x = call->ctx;
	const char *v = "";
	ctl_arg_string(call->req, arg, &v);
	snprintf(x->seen, sizeof(x->seen), "%s %s=%s", call->cmd->name, arg, v);
	json_object_object_add(call->result, "ok", json_object_new_boolean(1));
	return CTL_OK;
}

static enum ctl_status f_fwd_add(struct ctl_call *call) { return row_value(call, "spec"); }
static enum ctl_status f_fwd_remove(struct ctl_call *call) { return row_value(call, "rule"); }

static enum ctl_status f_refuse(struct ctl_call *call)
{
	return ctl_call_fail(call, CTL_ERR_UNAVAILABLE, "this VM has no such device");
}

static enum ctl_status f_break(struct ctl_call *call)
{
	return ctl_call_fail(call, CTL_ERR_FAILED, "the disk is full");
}

static enum ctl_status f_echo(struct ctl_call *call)
{
	int64_t n = 0;
	ctl_arg_int(call->req, "n", &n);
	json_object_object_add(call->result, "twice", json_object_new_int64(2 * n));
	return CTL_OK;
}

/* Two forwards rows that name their one argument differently. */
static const struct ctl_arg spec_arg[] = { { "spec", CTL_ARG_STRING, true, "a forward" }, { NULL } };
static const struct ctl_arg rule_arg[] = { { "rule", CTL_ARG_STRING, true, "a forward" }, { NULL } };
static const struct ctl_arg n_arg[] = { { "n", CTL_ARG_INT, true, "a number" }, { NULL } };
static const struct ctl_command rows[] = {
	{ "hostfwd-add", spec_arg, f_fwd_add, "adds a forward" },
	{ "hostfwd-remove", rule_arg, f_fwd_remove, "removes a forward" },
	{ "refuse", NULL, f_refuse, "is unavailable" },
	{ "break", NULL, f_break, "fails" },
	{ "echo", n_arg, f_echo, "doubles n" },
	{ NULL },
};

static void *serve(void *arg)
{
	struct fx *x = arg;
	g_main_loop_run(x->loop);
	return NULL;
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	x->home = tl_mkdtemp();
	tl_private_xdg(x->home);
	char path[256];
	struct error err;
	assert_int_equal(ctl_path_for_name("t", path, sizeof(path), &err), 0);
	x->srv = ctl_server_new(NULL);
	ctl_server_register(x->srv, rows, x);
	assert_int_equal(ctl_server_listen(x->srv, path, &err), 0);
	x->loop = g_main_loop_new(NULL, FALSE);
	assert_int_equal(pthread_create(&x->thread, NULL, serve, x), 0);
	*state = x;
	return 0;
}

static gboolean stop_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	g_idle_add(stop_loop, x->loop);
	pthread_join(x->thread, NULL);
	g_main_loop_unref(x->loop);
	ctl_server_free(x->srv);
	tl_rmtree(x->home);
	free(x->home);
	free(x);
	return 0;
}

static void test_a_value_goes_under_the_servers_argument_name(void **state)
{
	struct fx *x = *state;
	struct error err;
	assert_int_equal(vmctl_call_value("t", "hostfwd-add", "tcp::8080-:80", VMCTL_TIMEOUT_MS, &err), 0);
	assert_string_equal(x->seen, "hostfwd-add spec=tcp::8080-:80");
	assert_int_equal(vmctl_call_value("t", "hostfwd-remove", "tcp::8080-:80", VMCTL_TIMEOUT_MS, &err), 0);
	assert_string_equal(x->seen, "hostfwd-remove rule=tcp::8080-:80");
	/* A VMM without the command (no network card in it yet). */
	assert_int_equal(vmctl_call_value("t", "capture-start", "x.pcap", VMCTL_TIMEOUT_MS, &err), BE_EUSER);
	assert_string_equal(err.msg, "the VMM of VM 't' cannot do capture-start while it runs: the VM has no "
				     "command 'capture-start'; `vmdeck ctl NAME help` lists them");
	/* A command that takes nothing cannot be given a value. */
	assert_int_equal(vmctl_call_value("t", "refuse", "x", VMCTL_TIMEOUT_MS, &err), BE_EUSER);
	tl_assert_contains(err.msg, "the command takes no argument");
}

static void test_replies_become_backend_statuses(void **state)
{
	struct error err;
	json_object *args = json_object_new_object(), *res = NULL;
	json_object_object_add(args, "n", json_object_new_int(21));
	assert_int_equal(vmctl_call("t", "echo", args, VMCTL_TIMEOUT_MS, &res, &err), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(res, "twice")), 42);
	json_object_put(res);
	/* The server checks arguments: that is the user's mistake. */
	json_object_object_add(args, "n", json_object_new_string("many"));
	assert_int_equal(vmctl_call("t", "echo", args, VMCTL_TIMEOUT_MS, &res, &err), BE_EUSER);
	assert_null(res);
	tl_assert_contains(err.msg, "VM 't' refused echo: ");
	json_object_put(args);
	assert_int_equal(vmctl_call("t", "no-such", NULL, VMCTL_TIMEOUT_MS, &res, &err), BE_EUSER);
	assert_int_equal(vmctl_call("t", "refuse", NULL, VMCTL_TIMEOUT_MS, &res, &err), BE_EUSER);
	assert_string_equal(err.msg, "VM 't' refused refuse: this VM has no such device");
	/* Tried and failed: not the user's. */
	assert_int_equal(vmctl_call("t", "break", NULL, VMCTL_TIMEOUT_MS, &res, &err), BE_EFAIL);
	assert_string_equal(err.msg, "VM 't' refused break: the disk is full");
	/* Nobody there. */
	assert_int_equal(vmctl_call("gone", "status", NULL, VMCTL_TIMEOUT_MS, &res, &err), BE_EFAIL);
	tl_assert_contains(err.msg, "cannot reach the VMM of VM 'gone': the control socket is not there (");
	assert_int_equal(vmctl_call("../x", "status", NULL, VMCTL_TIMEOUT_MS, &res, &err), BE_EUSER);
	tl_assert_contains(err.msg, "'../x' is not a VM name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_value_goes_under_the_servers_argument_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replies_become_backend_statuses, setup, teardown),
	};
	return cmocka_run_group_tests_name("the backend's control client", tests, NULL, NULL);
}
