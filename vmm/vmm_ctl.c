#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/net_ctl.h"
#include "src/cli.h"
#include "src/ctl_path.h"
#include "src/log.h"
#include "src/pidfile.h"
#include "src/rundir.h"
#include "src/size.h"
#include "src/unixsock.h"
#include "vmm/display_ctl.h"
#include "vmm/virtio_balloon.h"
#include "vmm/vmm_ctl.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *current_state(struct vmm_ctl *c)
{
	if (c->stopping)
		return c->crashed ? "crashed" : "shutting-down";
	if (c->panicked)
		return "crashed";
	pthread_mutex_lock(&c->vm->lock);
	bool paused = c->vm->paused;
	pthread_mutex_unlock(&c->vm->lock);
	return paused ? "paused" : "running";
}

/* Announces the state if it changed; REASON may be NULL. */
static void update_state(struct vmm_ctl *c, const char *reason)
{
	const char *now = current_state(c);
	if (c->state && !strcmp(now, c->state))
		return;
	json_object *d = json_object_new_object();
	json_object_object_add(d, "state", json_object_new_string(now));
	json_object_object_add(d, "previous", c->state ? json_object_new_string(c->state) : NULL);
	if (reason)
		json_object_object_add(d, "reason", json_object_new_string(reason));
	c->state = now;
	if (c->srv)
		ctl_server_emit(c->srv, "state", d);
	else
		json_object_put(d);
}

static void set_error(struct vmm_ctl *c, const char *msg)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s", msg);
}

/* ---- the commands ----------------------------------------------------------- */

static void common_json(struct vmm_ctl *c, json_object *out)
{
	uint64_t now = now_ns();
	json_object_object_add(out, "name", json_object_new_string(c->name));
	json_object_object_add(out, "state", json_object_new_string(current_state(c)));
	json_object_object_add(out, "uptime_s", ctl_json_double((double)(now - c->start_ns) / 1e9, 3));
	json_object_object_add(out, "boot_uptime_s", ctl_json_double((double)(now - c->boot_ns) / 1e9, 3));
	json_object_object_add(out, "boots", json_object_new_int((int)c->vm->boots + 1));
	json_object_object_add(out, "last_error", c->last_error[0] ? json_object_new_string(c->last_error) : NULL);
}

/* Every device by kind and index, with the state it reports (the
 * network's forwards, for one); the statistics add the counters. */
static json_object *devices_json(struct vm *vm)
{
	json_object *list = json_object_new_array();
	for (unsigned d = 0; d < vm->nr_devices; d++) {
		struct vm_device *dev = &vm->devices[d];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(dev->kind));
		json_object_object_add(o, "index", json_object_new_int((int)vm_device_index(vm, d)));
		if (dev->info)
			dev->info(dev->dev, o);
		json_object_array_add(list, o);
	}
	return list;
}

static void op_status(void *vmm, json_object *out)
{
	struct vmm_ctl *c = vmm;
	common_json(c, out);
	json_object_object_add(out, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(out, "version", json_object_new_string(VMDECK_VERSION));
	json_object_object_add(out, "vcpus", json_object_new_int((int)c->vm->cfg.cpus));
	json_object_object_add(out, "memory", json_object_new_uint64(c->vm->cfg.mem));
	json_object_object_add(out, "kernel", json_object_new_string(c->vm->cfg.kernel ? c->vm->cfg.kernel : ""));
	json_object_object_add(out, "balloon", json_object_new_boolean(c->balloon != NULL));
	json_object_object_add(out, "control", json_object_new_string(ctl_server_path(c->srv)));
	json_object_object_add(out, "panics", json_object_new_uint64(c->panics));
	json_object_object_add(out, "powerdown_pressed", json_object_new_boolean(c->powerdown_pressed));
	json_object_object_add(out, "devices", devices_json(c->vm));
}

static void op_stats(void *vmm, json_object *out)
{
	struct vmm_ctl *c = vmm;
	/* Without periodic sampling, each request is a sample. */
	if (!c->stats_timer || !c->stats.samples)
		stats_sample(&c->stats);
	common_json(c, out);
	stats_json(&c->stats, out);
}

static enum ctl_status refuse_if_stopping(struct vmm_ctl *c, struct error *err)
{
	if (c->stopping) {
		error_set(err, "the VM is shutting down");
		return CTL_ERR_UNAVAILABLE;
	}
	return CTL_OK;
}

static enum ctl_status op_pause(void *vmm, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	enum ctl_status st = refuse_if_stopping(c, err);
	if (st != CTL_OK)
		return st;
	vm_pause(c->vm);
	update_state(c, "paused from the control socket");
	json_object_object_add(out, "state", json_object_new_string(current_state(c)));
	return CTL_OK;
}

static enum ctl_status op_resume(void *vmm, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	enum ctl_status st = refuse_if_stopping(c, err);
	if (st != CTL_OK)
		return st;
	vm_resume(c->vm);
	update_state(c, "resumed from the control socket");
	json_object_object_add(out, "state", json_object_new_string(current_state(c)));
	return CTL_OK;
}

static enum ctl_status op_powerdown(void *vmm, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	enum ctl_status st = refuse_if_stopping(c, err);
	if (st != CTL_OK)
		return st;
	pm_power_button(&c->vm->pm);
	c->powerdown_pressed = true;
	json_object_object_add(out, "pressed", json_object_new_boolean(1));
	return CTL_OK;
}

static enum ctl_status op_reset(void *vmm, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	enum ctl_status st = refuse_if_stopping(c, err);
	if (st != CTL_OK)
		return st;
	vm_request(c->vm, VM_REQ_RESET);
	json_object_object_add(out, "requested", json_object_new_boolean(1));
	return CTL_OK;
}

static enum ctl_status op_quit(void *vmm, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	vm_request(c->vm, VM_REQ_QUIT);
	json_object_object_add(out, "requested", json_object_new_boolean(1));
	return CTL_OK;
}

static void balloon_announce(struct vmm_ctl *c, const struct balloon_info *i)
{
	uint64_t mem = c->vm->cfg.mem, size = (uint64_t)i->actual * BALLOON_PAGE;
	json_object *d = json_object_new_object();
	json_object_object_add(d, "target", json_object_new_uint64(mem - (uint64_t)i->num_pages * BALLOON_PAGE));
	json_object_object_add(d, "actual", json_object_new_uint64(size < mem ? mem - size : 0));
	json_object_object_add(d, "reached", json_object_new_boolean(1));
	ctl_server_emit(c->srv, "balloon", d);
	c->balloon_waiting = false;
}

static enum ctl_status op_balloon(void *vmm, uint64_t target, json_object *out, struct error *err)
{
	struct vmm_ctl *c = vmm;
	char a[32], b[32];
	enum ctl_status st = refuse_if_stopping(c, err);
	if (st != CTL_OK)
		return st;
	if (!c->balloon) {
		error_set(err, "this VM has no balloon device; start it with --balloon");
		return CTL_ERR_UNAVAILABLE;
	}
	uint64_t mem = c->vm->cfg.mem;
	if (target > mem || target == 0) {
		error_set(err, "the balloon target %s must be more than 0 and at most the VM's memory, %s",
			  size_format(target, a, sizeof(a)), size_format(mem, b, sizeof(b)));
		return CTL_ERR_ARGS;
	}
	/* The guest keeps TARGET (rounded up to a page); the balloon takes the rest. */
	uint64_t pages = (mem - target) / BALLOON_PAGE;
	balloon_set_target(c->balloon, (uint32_t)pages);
	struct balloon_info i;
	balloon_get_info(c->balloon, &i);
	c->balloon_waiting = true;
	if (i.actual == i.num_pages)
		balloon_announce(c, &i);
	json_object_object_add(out, "target", json_object_new_uint64(mem - pages * BALLOON_PAGE));
	json_object_object_add(out, "size", json_object_new_uint64(pages * BALLOON_PAGE));
	json_object_object_add(out, "driver", json_object_new_boolean(i.driver_ok));
	return CTL_OK;
}

static const struct ctl_vm_ops vmm_ops = {
	op_status, op_stats, op_pause, op_resume, op_powerdown, op_reset, op_quit, op_balloon,
};

/* ---- balloon progress (from vCPU threads) --------------------------------- */

static gboolean on_balloon_idle(gpointer data)
{
	struct vmm_ctl *c = data;
	__atomic_store_n(&c->balloon_pending, 0, __ATOMIC_SEQ_CST);
	struct balloon_info i;
	balloon_get_info(c->balloon, &i);
	if (c->balloon_waiting && i.actual == i.num_pages)
		balloon_announce(c, &i);
	return G_SOURCE_REMOVE;
}

static void on_balloon_actual(void *opaque)
{
	struct vmm_ctl *c = opaque;
	/* Any thread: hand it to the main loop, once per burst. */
	if (__atomic_exchange_n(&c->balloon_pending, 1, __ATOMIC_SEQ_CST) == 0)
		g_idle_add(on_balloon_idle, c);       /* thread-safe */
}

/* ---- sampling ------------------------------------------------------------------ */

static gboolean on_stats_timer(gpointer data)
{
	struct vmm_ctl *c = data;
	stats_sample(&c->stats);
	return G_SOURCE_CONTINUE;
}

/* ---- lifecycle ----------------------------------------------------------------- */

/* Takes the pidfile beside the control socket (src/pidfile.h): its lock is
 * what makes the name this VMM's, for as long as the process lives. */
static int lock_name(struct vmm_ctl *c, bool *held, struct error *err)
{
	char pid[sizeof(c->sock)];
	if (ctl_path_pidfile(c->sock, pid, sizeof(pid), err) < 0)
		return -1;
	c->pid_fd = pidfile_acquire(pid, c->name, held, err);
	return c->pid_fd < 0 ? -1 : 0;
}

/* Whether a VMM that holds no pidfile serves NAME's sockets anyway (a
 * vmdeck from before the pidfile): an unnamed VM then takes the next name
 * rather than fail on the socket. */
static bool name_served(const char *name)
{
	char path[108];
	struct error err;
	return (rundir_vm_path(name, "sock", path, sizeof(path), &err) == 0 && unixsock_answers(path)) ||
	       (rundir_vm_path(name, "vnc", path, sizeof(path), &err) == 0 && unixsock_answers(path));
}

static int set_name(struct vmm_ctl *c, const char *name, struct error *err)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
	return ctl_path_for_name(name, c->sock, sizeof(c->sock), err);
}

int vmm_ctl_claim(struct vmm_ctl *c, const struct vm_config *cfg, struct error *err)
{
	memset(c, 0, sizeof(*c));
	c->pid_fd = -1;
	bool held;
	snprintf(c->name, sizeof(c->name), "%s", cfg->name ? cfg->name : "vm");
	if (cfg->control && !strcmp(cfg->control, "none"))
		return 0;
	if (cfg->control) {
		if (strlen(cfg->control) >= sizeof(c->sock))
			return error_set(err, "the control socket path %s is too long (at most %zu bytes)", cfg->control,
					 sizeof(c->sock) - 1);
		strcpy(c->sock, cfg->control);
		return lock_name(c, &held, err);
	}
	if (cfg->name_given)
		return set_name(c, cfg->name, err) < 0 ? -1 : lock_name(c, &held, err);
	/* No name: the first free of vm, vm-2, vm-3, ... */
	for (int i = 1; i <= 99; i++) {
		char name[16] = "vm";
		if (i > 1)
			snprintf(name, sizeof(name), "vm-%d", i);
		if (set_name(c, name, err) < 0)
			return -1;
		if (lock_name(c, &held, err) < 0) {
			if (!held)
				return -1;
			continue;
		}
		if (!name_served(name))
			return 0;
		close(c->pid_fd);
		c->pid_fd = -1;
	}
	return error_set(err, "vm, vm-2 ... vm-99 are all in use; give the VM a --name");
}

int vmm_ctl_start(struct vmm_ctl *c, struct vm *vm, struct error *err)
{
	c->vm = vm;
	c->start_ns = c->boot_ns = now_ns();
	if (stats_init(&c->stats, vm) < 0)
		return error_set(err, "out of memory");
	c->stats_ready = true;
	struct vm_device *b = vm_find_device(vm, "balloon");
	c->balloon = b ? b->dev : NULL;
	if (!c->sock[0])
		return 0;            /* --control none */
	c->srv = ctl_server_new(NULL);
	if (!c->srv)
		return error_set(err, "out of memory");
	if (ctl_server_listen(c->srv, c->sock, err) < 0) {
		ctl_server_free(c->srv);
		c->srv = NULL;
		return -1;
	}
	c->ctlvm = (struct ctl_vm){ &vmm_ops, c };
	ctl_server_register(c->srv, ctl_vm_commands, &c->ctlvm);
	ctl_server_register(c->srv, display_ctl_commands, vm->vga);
	ctl_server_register(c->srv, net_ctl_commands, net_find(vm));
	if (c->balloon)
		balloon_set_events(c->balloon, (struct balloon_events){ on_balloon_actual, c });
	if (vm->cfg.stats_interval_ms)
		c->stats_timer = g_timeout_add(vm->cfg.stats_interval_ms, on_stats_timer, c);
	c->state = current_state(c);
	return 0;
}

void vmm_ctl_stop(struct vmm_ctl *c)
{
	if (c->balloon)
		balloon_set_events(c->balloon, (struct balloon_events){ NULL, NULL });
	/* The vCPUs have stopped: no new idle can come. */
	if (__atomic_load_n(&c->balloon_pending, __ATOMIC_SEQ_CST))
		g_idle_remove_by_data(c);
	if (c->stats_timer)
		g_source_remove(c->stats_timer);
	c->stats_timer = 0;
	ctl_server_free(c->srv);
	c->srv = NULL;
	if (c->stats_ready)
		stats_destroy(&c->stats);
	c->stats_ready = false;
	if (c->pid_fd >= 0)
		close(c->pid_fd);       /* the name is free again */
	c->pid_fd = -1;
}

void vmm_ctl_guest_events(struct vmm_ctl *c, unsigned events)
{
	if (!(events & (VM_EVENT_PANIC | VM_EVENT_CRASH_LOADED)))
		return;
	if (events & VM_EVENT_PANIC) {
		c->panics++;
		c->panicked = true;
		set_error(c, "the guest kernel panicked (pvpanic)");
	}
	if (c->srv) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "panicked", json_object_new_boolean(events & VM_EVENT_PANIC));
		json_object_object_add(d, "crash_loaded", json_object_new_boolean(events & VM_EVENT_CRASH_LOADED));
		ctl_server_emit(c->srv, "guest-panicked", d);
	}
	update_state(c, "the guest kernel panicked");
}

void vmm_ctl_rebooting(struct vmm_ctl *c)
{
	/* The vCPUs' counters die with them: take what they counted so far. */
	if (c->stats_ready)
		stats_sample(&c->stats);
}

void vmm_ctl_rebooted(struct vmm_ctl *c)
{
	c->boot_ns = now_ns();
	c->panicked = false;
	c->powerdown_pressed = false;
	if (c->srv) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "boots", json_object_new_int((int)c->vm->boots + 1));
		ctl_server_emit(c->srv, "reset", d);
	}
	update_state(c, "the machine was reset");
}

void vmm_ctl_stopping(struct vmm_ctl *c, int code, const char *why)
{
	if (c->stopping)
		return;
	c->stopping = true;
	c->crashed = code == EXIT_GUEST || code == EXIT_FAIL;
	if (why && !strncmp(why, "error: ", 7))
		why += 7;
	if (c->crashed && why) {
		set_error(c, why);
		if (c->srv) {
			json_object *d = json_object_new_object();
			json_object_object_add(d, "message", json_object_new_string(why));
			ctl_server_emit(c->srv, "crashed", d);
		}
	}
	update_state(c, why ? why : "the VMM is stopping");
}
