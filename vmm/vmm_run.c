#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "src/log.h"
#include "vmm/keymap.h"
#include "vmm/vmm_ctl.h"
#include "vmm/vmm_run.h"
#include "vmm/vnc.h"

struct runner {
	struct vm vm;
	struct vmm_ctl ctl;               /* control socket and statistics */
	struct console con;
	struct vnc_server *vnc;            /* NULL: no display or --vnc none */
	GMainLoop *loop;
	guint stdin_watch, retry_timer;
	int exit_code;
	char final_msg[600];
};

static void finish(struct runner *r, int code, const char *msg)
{
	vmm_ctl_stopping(&r->ctl, code, msg);
	r->exit_code = code;
	if (msg)
		snprintf(r->final_msg, sizeof(r->final_msg), "%s", msg);
	g_main_loop_quit(r->loop);
}

static void handle_request(struct runner *r, enum vm_request req)
{
	struct error err;
	switch (req) {
	case VM_REQ_NONE:
		break;
	case VM_REQ_RESET:
		if (r->vm.cfg.no_reboot) {
			finish(r, EXIT_OK, "the guest rebooted and --no-reboot is set: stopping");
		} else if (vmm_ctl_rebooting(&r->ctl), vm_reset(&r->vm, &err) < 0) {
			char msg[600];
			snprintf(msg, sizeof(msg), "error: the guest rebooted and the new boot failed: %s", err.msg);
			finish(r, EXIT_FAIL, msg);
		} else {
			vmm_ctl_rebooted(&r->ctl);
		}
		break;
	case VM_REQ_QUIT:
		vmm_ctl_stopping(&r->ctl, EXIT_OK, "stopped from the control socket");
		finish(r, EXIT_OK, NULL);
		break;
	case VM_REQ_POWEROFF:
		vmm_ctl_stopping(&r->ctl, EXIT_OK, "the guest powered off");
		finish(r, EXIT_OK, NULL);
		break;
	case VM_REQ_CRASH: {
		char msg[600];
		pthread_mutex_lock(&r->vm.lock);
		snprintf(msg, sizeof(msg), "error: %s", r->vm.crash_msg);
		pthread_mutex_unlock(&r->vm.lock);
		vmm_ctl_stopping(&r->ctl, EXIT_GUEST, msg + 7);
		finish(r, EXIT_GUEST, msg);
		break;
	}
	}
}

static gboolean on_wake(gint fd, GIOCondition cond, gpointer data)
{
	struct runner *r = data;
	enum vm_request req = vm_take_request(&r->vm);
	vmm_ctl_guest_events(&r->ctl, vm_take_events(&r->vm));
	handle_request(r, req);
	return G_SOURCE_CONTINUE;
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer data);

static gboolean on_retry(gpointer data)
{
	struct runner *r = data;
	if (console_flush_pending(&r->con))
		return G_SOURCE_CONTINUE;
	r->retry_timer = 0;
	r->stdin_watch = g_unix_fd_add(r->con.in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, r);
	return G_SOURCE_REMOVE;
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer data)
{
	struct runner *r = data;
	bool open = console_read(&r->con);
	if (r->con.quit_requested) {
		finish(r, EXIT_OK, "stopped by Ctrl-A x");
		r->stdin_watch = 0;
		return G_SOURCE_REMOVE;
	}
	if (!open) {
		r->stdin_watch = 0;   /* end of input: the guest keeps running */
		return G_SOURCE_REMOVE;
	}
	if (r->con.npending) {
		/* The guest is not reading: wait for it instead of for the terminal. */
		r->stdin_watch = 0;
		r->retry_timer = g_timeout_add(10, on_retry, r);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
	struct runner *r = data;
	finish(r, EXIT_OK, "stopped by a signal");
	return G_SOURCE_CONTINUE;
}

/* The display's VNC server, when the VM has a display. */
static int start_vnc(struct runner *r, struct error *err)
{
	const struct vm_config *cfg = &r->vm.cfg;
	struct vnc_config vc;
	/* Without --name, the VNC socket takes the name the control socket found free. */
	const char *name = cfg->name_given ? cfg->name : r->ctl.srv ? r->ctl.name : NULL;
	if (!r->vm.vga || vnc_parse(cfg->vnc ? cfg->vnc : "unix", name, &vc, err) < 0)
		return r->vm.vga ? -1 : 0;
	if (vc.kind == VNC_NONE)
		return 0;
	struct vnc_devices dev = { .vga = r->vm.vga, .kbd = &r->vm.i8042, .tablet = r->vm.tablet,
				   .keymap = keymap_find(cfg->keymap ? cfg->keymap : "us"), .name = name ? name : cfg->name };
	if (!dev.keymap)
		return error_set(err, "--keymap takes %s, not '%s'", keymap_names(), cfg->keymap);
	r->vnc = vnc_start(&vc, &dev, err);
	return r->vnc ? 0 : -1;
}

static int start(struct runner *r, const struct vm_config *cfg, const struct serial_config *serial)
{
	struct error err;
	if (console_open(&r->con, serial, &err) < 0 ||
	    vm_create(&r->vm, cfg, console_backend(&r->con), &err) < 0 ||
	    vmm_ctl_start(&r->ctl, &r->vm, &err) < 0 || start_vnc(r, &err) < 0) {
		fprintf(stderr, "vmdeck run: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (vm_boot(&r->vm, &err) < 0) {
		fprintf(stderr, "vmdeck run: %s\n", err.msg);
		return EXIT_FAIL;
	}
	console_start(&r->con, &r->vm.com1);
	if (vm_start_vcpus(&r->vm, &err) < 0) {
		console_close(&r->con);
		fprintf(stderr, "vmdeck run: %s\n", err.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int vmm_run(const struct vm_config *cfg, const struct serial_config *serial)
{
	struct runner *r = g_new0(struct runner, 1);
	signal(SIGPIPE, SIG_IGN);
	r->loop = g_main_loop_new(NULL, FALSE);
	int code = start(r, cfg, serial);
	if (code == EXIT_OK) {
		g_unix_fd_add(r->vm.wake_fd, G_IO_IN, on_wake, r);
		if (r->con.in_fd >= 0)
			r->stdin_watch = g_unix_fd_add(r->con.in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, r);
		guint sigs[] = { g_unix_signal_add(SIGINT, on_signal, r), g_unix_signal_add(SIGTERM, on_signal, r),
				 g_unix_signal_add(SIGHUP, on_signal, r) };
		g_main_loop_run(r->loop);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			g_source_remove(sigs[i]);
		vm_shutdown_kvm(&r->vm);
		console_close(&r->con);
		if (r->final_msg[0])
			fprintf(stderr, "vmdeck: %s\n", r->final_msg);
		code = r->exit_code;
	}
	console_close(&r->con);
	vmm_ctl_stop(&r->ctl);
	vnc_stop(r->vnc);
	vm_destroy(&r->vm);
	g_main_loop_unref(r->loop);
	g_free(r);
	return code;
}
