/* The local backend: VMs in the library on disk, each run by its own
 * detached VMM process (src/vmspawn.h), reached through its control
 * socket (src/vmctl.h). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/blk.h"
#include "src/backend.h"
#include "src/size.h"
#include "src/vmargs.h"
#include "src/vmctl.h"
#include "src/vmdef.h"
#include "src/vmlib.h"
#include "src/rundir.h"
#include "src/vmsnap.h"
#include "src/vmspawn.h"
#include "src/vmstate.h"
#include "vmm/kvm.h"

/* How long a VMM may hold its lock without answering on its control socket
 * before it counts as running-but-silent rather than starting. */
#define STARTING_GRACE_S 10
/* How long `start` watches a new VMM before calling it started. */
#define START_SETTLE_MS 300

struct local {
	struct backend b;
	struct vmlib lib;
	char *exe;
};

static struct local *L(struct backend *b)
{
	return (struct local *)b;
}

/* error_errno that returns the backend's status. */
__attribute__((format(printf, 4, 5)))
static int be_errno(int status, struct error *err, int errnum, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_errno(err, errnum, "%s", msg);
	return status;
}
#define be_user(err, ...) be_error(err, BE_EUSER, __VA_ARGS__)
#define be_fail(err, ...) be_error(err, BE_EFAIL, __VA_ARGS__)
#define be_user_errno(err, errnum, ...) be_errno(BE_EUSER, err, errnum, __VA_ARGS__)
#define be_fail_errno(err, errnum, ...) be_errno(BE_EFAIL, err, errnum, __VA_ARGS__)

static void destroy(struct backend *b)
{
	struct local *l = L(b);
	vmlib_close(&l->lib);
	free(l->exe);
	free(l);
}

/* ---- preconditions, each one sentence ------------------------------------------ */

static int need_vm(struct local *l, const char *name, struct error *err)
{
	if (!vmlib_name_valid(name))
		return be_user(err, "'%s' is not a valid VM name: use 1 to %d letters, digits, '.', '-' or '_'",
				 name, VMLIB_NAME_MAX);
	if (!vmlib_exists(&l->lib, name))
		return be_user(err, "there is no VM named '%s'; `vmdeck list` shows them", name);
	return 0;
}

static int need_live(struct local *l, const char *name, struct vm_status *st, struct error *err)
{
	int r = need_vm(l, name, err);
	if (r)
		return r;
	vmstate_get(&l->lib, name, st);
	if (!vm_state_live(st->state))
		return be_user(err, "VM '%s' is not running (%s)", name, vm_state_name(st->state));
	return 0;
}

static int need_not_live(struct local *l, const char *name, const char *what, struct error *err)
{
	int r = need_vm(l, name, err);
	if (r)
		return r;
	struct vm_status st;
	vmstate_get(&l->lib, name, &st);
	if (st.state == VM_STATE_STARTING)
		return be_user(err, "VM '%s' is starting: stop it before you %s it", name, what);
	if (vm_state_live(st.state))
		return be_user(err, "VM '%s' is running (pid %d): stop it before you %s it", name, (int)st.pid,
				 what);
	return 0;
}

static int need_new_name(struct local *l, const char *name, struct error *err)
{
	if (!vmlib_name_valid(name))
		return be_user(err, "'%s' is not a valid VM name: use 1 to %d letters, digits, '.', '-' or '_', "
				 "not starting with '.' or '-'", name, VMLIB_NAME_MAX);
	if (vmlib_exists(&l->lib, name))
		return be_user(err, "a VM named '%s' already exists", name);
	return 0;
}

/* ---- listing ------------------------------------------------------------------- */

/* Seconds since the VMM of NAME took its pidfile, i.e. since it started. */
static time_t vmm_age(const char *name)
{
	char path[256];
	struct error err;
	struct stat st;
	if (rundir_vm_path(name, "pid", path, sizeof(path), &err) < 0 || stat(path, &st) < 0)
		return 0;
	return time(NULL) - st.st_mtime;
}

/* On kvm_pvm every instruction of guest kernel code is emulated (GUIDE:
 * ~575 ns each): a guest kernel that keeps KVM's emulator this busy is a
 * stock kernel that will not get far, and the user should hear it now
 * rather than watch a silent console.  Tiny guests that work in ring 3
 * emulate a few thousand instructions in all. */
static bool emulation_bound(const struct be_stats *s)
{
	return s->emulated_per_s.known && s->emulated_per_s.v > 100000 && kvm_host_is_pvm();
}

/* Asks a live VMM for its state and statistics. */
static void live_sample(struct be_vm *vm)
{
	json_object *res = NULL;
	struct error err;
	if (vmctl_call(vm->name, "stats", NULL, VMCTL_TIMEOUT_MS, &res, &err) != 0) {
		/* No answer: a VMM that just started has no socket yet. */
		if (vmm_age(vm->name) < STARTING_GRACE_S)
			vm->state = VM_STATE_STARTING;
		else
			snprintf(vm->reason, sizeof(vm->reason), "the VMM does not answer: %.400s", err.msg);
		return;
	}
	vmctl_parse_stats(res, &vm->st);
	json_object_put(res);
	if (!strcmp(vm->st.state, "paused"))
		vm->state = VM_STATE_PAUSED;
	else if (!strcmp(vm->st.state, "crashed"))
		vm->state = VM_STATE_CRASHED;
	/* A guest that panicked keeps its VMM (it may reboot itself): crashed
	 * with the VMM's sentence until it does. */
	if (vm->state == VM_STATE_CRASHED && vm->st.last_error[0])
		snprintf(vm->reason, sizeof(vm->reason), "%s", vm->st.last_error);
	else if (emulation_bound(&vm->st))
		snprintf(vm->reason, sizeof(vm->reason),
			 "kvm_pvm emulates vCPU %u's kernel code (%.1fM instructions/s): a stock Linux kernel "
			 "cannot boot on this host", vm->st.emulated_vcpu, vm->st.emulated_per_s.v / 1e6);
}

static void fill_vm(struct local *l, const char *name, struct be_vm *vm, bool sample)
{
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	struct vmdef def;
	struct error err;
	if (vmlib_load(&l->lib, name, &def, &err) == 0) {
		vm->cpus = def.cpus;
		vm->mem = def.mem;
		vmdef_free(&def);
	}
	struct vm_status st;
	vmstate_get(&l->lib, name, &st);
	vm->state = st.state;
	vm->pid = (int)st.pid;
	snprintf(vm->reason, sizeof(vm->reason), "%s", st.reason);
	if (vm->cpus == 0 && !vm->reason[0])
		snprintf(vm->reason, sizeof(vm->reason), "%s", err.msg);   /* a broken vm.conf */
	if (sample && vm->state == VM_STATE_RUNNING)
		live_sample(vm);
}

static int list(struct backend *b, struct be_vm **vms, size_t *n, struct error *err)
{
	struct local *l = L(b);
	char **names;
	size_t count;
	*vms = NULL;
	*n = 0;
	if (vmlib_list(&l->lib, &names, &count, err) < 0)
		return BE_EFAIL;
	struct be_vm *out = count ? calloc(count, sizeof(*out)) : NULL;
	if (count && !out) {
		vmlib_free_names(names, count);
		return be_fail(err, "out of memory");
	}
	for (size_t i = 0; i < count; i++)
		fill_vm(l, names[i], &out[i], true);
	vmlib_free_names(names, count);
	*vms = out;
	*n = count;
	return 0;
}

static int get(struct backend *b, const char *name, struct be_vm *out, struct error *err)
{
	struct local *l = L(b);
	int r = need_vm(l, name, err);
	if (r)
		return r;
	fill_vm(l, name, out, false);
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Until a new VMM answers on its control socket (it opens it once the
 * kernel is loaded), so that after `start` the VM can be driven and `list`
 * shows it running, not starting.  A VMM that ends meanwhile ends the wait. */
static void wait_answering(struct local *l, const char *name, struct vm_status *st)
{
	for (int i = 0; i < STARTING_GRACE_S * 100 && st->state == VM_STATE_RUNNING; i++) {
		json_object *res = NULL;
		struct error e;
		if (vmctl_call(name, "status", NULL, VMCTL_TIMEOUT_MS, &res, &e) == 0) {
			json_object_put(res);
			return;
		}
		sleep_ms(10);
		vmstate_get(&l->lib, name, st);
	}
}

static int start(struct backend *b, const char *name, struct error *err)
{
	struct local *l = L(b);
	int r = need_vm(l, name, err);
	if (r)
		return r;
	struct vm_status st;
	vmstate_get(&l->lib, name, &st);
	if (st.state == VM_STATE_STARTING)
		return be_user(err, "VM '%s' is already starting", name);
	if (vm_state_live(st.state))
		return be_user(err, "VM '%s' is already running (pid %d)", name, (int)st.pid);
	struct vmdef def;
	if (vmlib_load(&l->lib, name, &def, err) < 0)
		return BE_EUSER;
	struct vmargs args;
	r = vmargs_build(&l->lib, name, &def, l->exe, &args, err);
	vmdef_free(&def);
	if (r < 0)
		return BE_EUSER;
	char *dir = vmlib_path(&l->lib, name, NULL);
	struct vmspawn s = { .dir = dir, .exe = l->exe, .argv = args.argv };
	bool busy;
	r = vmspawn_start(&s, &busy, err);
	free(dir);
	vmargs_free(&args);
	if (r < 0) {
		if (busy)
			error_set(err, "VM '%s' is already starting", name);
		return busy ? BE_EUSER : BE_EFAIL;
	}
	/* Wait (briefly) until the VMM holds its lock or has already ended,
	 * then a moment more: a VMM that refuses its kernel does so right
	 * after taking the lock, and the user should hear it from `start`. */
	for (int i = 0; i < 300; i++) {
		vmstate_get(&l->lib, name, &st);
		if (st.state != VM_STATE_STARTING)
			break;
		sleep_ms(10);
	}
	wait_answering(l, name, &st);
	for (int i = 0; i < START_SETTLE_MS / 10 && st.state == VM_STATE_RUNNING; i++) {
		sleep_ms(10);
		vmstate_get(&l->lib, name, &st);
	}
	for (int i = 0; i < 100 && st.state == VM_STATE_STARTING; i++) {
		sleep_ms(10);             /* the monitor is writing its record */
		vmstate_get(&l->lib, name, &st);
	}
	if (st.state == VM_STATE_CRASHED || st.state == VM_STATE_STOPPED) {
		/* Status 2: the VMM refused the definition; else the guest ran and ended. */
		if (st.exit_code == 2)
			return be_user(err, "VM '%s' did not start: %s", name, st.reason);
		return be_fail(err, "VM '%s' %s right after it started: %s", name,
			       st.state == VM_STATE_CRASHED ? "crashed" : "stopped", st.reason);
	}
	return 0;
}

static int ctl_simple(struct local *l, const char *name, const char *cmd, struct error *err)
{
	struct vm_status st;
	int r = need_live(l, name, &st, err);
	if (r)
		return r;
	json_object *res = NULL;
	r = vmctl_call(name, cmd, NULL, VMCTL_TIMEOUT_MS, &res, err);
	json_object_put(res);
	return r;
}

static int stop(struct backend *b, const char *name, struct error *err)
{
	return ctl_simple(L(b), name, "powerdown", err);
}

static int kill_vm(struct backend *b, const char *name, struct error *err)
{
	struct local *l = L(b);
	struct vm_status st;
	int r = need_live(l, name, &st, err);
	if (r)
		return r;
	if (st.pid <= 0)
		return be_fail(err, "VM '%s' is starting and has no VMM pid yet; try again", name);
	/* Tell the monitor the signal was ours: the VM stopped, not crashed. */
	char *mark = vmlib_path(&l->lib, name, VMSPAWN_KILL_MARK);
	FILE *f = mark ? fopen(mark, "we") : NULL;
	if (f)
		fclose(f);
	free(mark);
	/* Checked again just before: never signal a recycled pid. */
	if (!vmlib_running(&l->lib, name, NULL))
		return 0;
	if (kill(st.pid, SIGKILL) < 0 && errno != ESRCH)
		return be_fail_errno(err, errno, "cannot kill the VMM of '%s' (pid %d)", name, (int)st.pid);
	for (int i = 0; i < 200; i++) {
		vmstate_get(&l->lib, name, &st);
		if (!vm_state_live(st.state))
			break;
		sleep_ms(10);
	}
	return 0;
}

static int pause_vm(struct backend *b, const char *name, struct error *err)
{
	return ctl_simple(L(b), name, "pause", err);
}

static int resume_vm(struct backend *b, const char *name, struct error *err)
{
	return ctl_simple(L(b), name, "resume", err);
}

/* ---- definitions ------------------------------------------------------------------ */

static int spec_check(const struct be_spec *s, struct error *err)
{
	char a[32];
	if (s->cpus < 1 || s->cpus > 255)
		return be_user(err, "a VM has 1 to 255 vCPUs, not %u", s->cpus);
	if (s->mem < (16ull << 20))
		return be_user(err, "a VM needs at least 16M of memory, not %s", size_format(s->mem, a, sizeof(a)));
	if (s->kernel[0] && access(s->kernel, R_OK) < 0)
		return be_user_errno(err, errno, "the kernel '%s' cannot be read", s->kernel);
	if (s->initrd[0] && access(s->initrd, R_OK) < 0)
		return be_user_errno(err, errno, "the initrd '%s' cannot be read", s->initrd);
	if (s->disk_size && s->disk_size < (1ull << 20))
		return be_user(err, "a data disk needs at least 1M, not %llu bytes", (unsigned long long)s->disk_size);
	for (unsigned i = 0; i < s->nr_forwards; i++)
		if (!be_forward_valid(s->forwards[i]))
			return be_user(err, "'%s' is not a port forward: write [tcp|udp]:[HOSTADDR]:HOSTPORT-"
				       "[GUESTADDR]:GUESTPORT, e.g. tcp::8080-:80", s->forwards[i]);
	if (!s->net && s->nr_forwards)
		return be_user(err, "port forwards need the network (NAT)");
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static int create(struct backend *b, const struct be_spec *s, struct error *err)
{
	struct local *l = L(b);
	int r = need_new_name(l, s->name, err);
	if (!r)
		r = spec_check(s, err);
	if (r)
		return r;
	struct vmdef d;
	vmdef_init(&d);
	d.cpus = s->cpus;
	d.mem = s->mem;
	d.kernel = dup_or_null(s->kernel);
	d.initrd = dup_or_null(s->initrd);
	free(d.cmdline);
	d.cmdline = strdup(s->cmdline);
	free(d.net_mode);
	d.net_mode = strdup(s->net ? "user" : "none");
	for (unsigned i = 0; i < s->nr_forwards && i < VMDEF_MAX_FORWARDS; i++)
		d.hostfwd[d.nr_hostfwd++] = strdup(s->forwards[i]);
	r = vmlib_create(&l->lib, s->name, &d, err) < 0 ? BE_EFAIL : 0;
	if (!r && s->disk_size) {
		/* The data disk: a growable qcow2 image beside vm.conf. */
		d.disks[0] = (struct vmdef_disk){ strdup("disk0.qcow2"), strdup("qcow2"), strdup("writeback"), false };
		d.nr_disks = 1;
		struct error ignore;
		r = vmsnap_create_disk(&l->lib, s->name, "disk0.qcow2", s->disk_size, err);
		if (!r && vmlib_save(&l->lib, s->name, &d, err) < 0)
			r = BE_EFAIL;
		if (r)
			vmlib_delete(&l->lib, s->name, &ignore);     /* no half-made VM */
	}
	vmdef_free(&d);
	return r;
}

static int remove_vm(struct backend *b, const char *name, struct error *err)
{
	struct local *l = L(b);
	int r = need_not_live(l, name, "delete", err);
	if (r)
		return r;
	return vmlib_delete(&l->lib, name, err) < 0 ? BE_EFAIL : 0;
}

/* Clone and rename: FROM exists and is not running, TO is a free name,
 * then OP makes TO from FROM. */
static int make_from(struct backend *b, const char *from, const char *to, const char *what,
		     int (*op)(const struct vmlib *, const char *, const char *, struct error *), struct error *err)
{
	struct local *l = L(b);
	int r = need_not_live(l, from, what, err);
	if (!r)
		r = need_new_name(l, to, err);
	if (r)
		return r;
	return op(&l->lib, from, to, err) < 0 ? BE_EFAIL : 0;
}

static int clone_vm(struct backend *b, const char *from, const char *to, struct error *err)
{
	return make_from(b, from, to, "clone", vmlib_clone, err);
}

static int rename_vm(struct backend *b, const char *from, const char *to, struct error *err)
{
	return make_from(b, from, to, "rename", vmlib_rename, err);
}

/* NAME's definition, for reading. */
static int load_def(struct local *l, const char *name, struct vmdef *d, struct error *err)
{
	int r = need_vm(l, name, err);
	if (r)
		return r;
	return vmlib_load(&l->lib, name, d, err) < 0 ? BE_EUSER : 0;
}

static int spec(struct backend *b, const char *name, struct be_spec *out, struct error *err)
{
	struct local *l = L(b);
	struct vmdef d;
	int r = load_def(l, name, &d, err);
	if (r)
		return r;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->cpus = d.cpus;
	out->mem = d.mem;
	snprintf(out->kernel, sizeof(out->kernel), "%s", d.kernel ? d.kernel : "");
	snprintf(out->initrd, sizeof(out->initrd), "%s", d.initrd ? d.initrd : "");
	snprintf(out->cmdline, sizeof(out->cmdline), "%s", d.cmdline ? d.cmdline : "");
	out->net = d.net_mode && !strcmp(d.net_mode, "user");
	for (unsigned i = 0; i < d.nr_hostfwd && i < BE_MAX_FORWARDS; i++)
		snprintf(out->forwards[out->nr_forwards++], sizeof(out->forwards[0]), "%s", d.hostfwd[i]);
	vmdef_free(&d);
	return 0;
}

/* ---- snapshots (qcow2 internal snapshots of the VM's disks: src/vmsnap.h) ---- */

static int snapshots(struct backend *b, const char *name, struct be_snapshot **list, size_t *n,
		     struct error *err)
{
	*list = NULL;
	*n = 0;
	int r = need_vm(L(b), name, err);
	return r ? r : vmsnap_list(&L(b)->lib, name, list, n, err);
}

static int snapshot_take(struct backend *b, const char *name, const char *snap, struct error *err)
{
	int r = need_vm(L(b), name, err);
	return r ? r : vmsnap_take(&L(b)->lib, name, snap, err);
}

static int snapshot_revert(struct backend *b, const char *name, const char *snap, struct error *err)
{
	int r = need_vm(L(b), name, err);
	return r ? r : vmsnap_revert(&L(b)->lib, name, snap, err);
}

static int snapshot_delete(struct backend *b, const char *name, const char *snap, struct error *err)
{
	int r = need_vm(L(b), name, err);
	return r ? r : vmsnap_delete(&L(b)->lib, name, snap, err);
}

/* ---- consoles, devices, forwards, balloon ------------------------------------------ */

static int endpoints(struct backend *b, const char *name, struct be_endpoints *out, struct error *err)
{
	memset(out, 0, sizeof(*out));
	int r = need_vm(L(b), name, err);
	if (r)
		return r;
	if (rundir_vm_path(name, "serial", out->serial, sizeof(out->serial), err) < 0)
		return BE_EFAIL;
	struct vmdef d;
	memset(&d, 0, sizeof(d));
	bool display = vmlib_load(&L(b)->lib, name, &d, err) == 0 && (!d.display || strcmp(d.display, "none"));
	vmdef_free(&d);
	if (display && rundir_vm_path(name, "vnc", out->vnc, sizeof(out->vnc), err) < 0)
		return BE_EFAIL;
	return 0;
}

static int add_device(struct be_device **list, size_t *n, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_device(struct be_device **list, size_t *n, const char *kind, const char *fmt, ...)
{
	struct be_device *grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return -1;
	*list = grown;
	struct be_device *d = &grown[(*n)++];
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
	va_end(ap);
	return 0;
}

/* A disk's virtual size and the host space it takes, for people. */
static void disk_sizes(struct local *l, const char *name, const char *file, char *vs, char *used, size_t len)
{
	char *path = vmargs_resolve(&l->lib, name, file);
	struct blk_options o = { .read_only = true, .force_share = true, .no_backing = true };
	struct error err;
	struct blk *b = path ? blk_open(path, &o, &err) : NULL;
	struct blk_info info;
	if (b && blk_get_info(b, &info) == 0) {
		size_format(info.virtual_size, vs, len);
		size_format(info.disk_size, used, len);
	}
	if (b)
		blk_close(b);
	free(path);
}

static int devices(struct backend *b, const char *name, struct be_device **list, size_t *n, struct error *err)
{
	struct local *l = L(b);
	*list = NULL;
	*n = 0;
	struct vmdef d;
	int r = load_def(l, name, &d, err);
	if (r)
		return r;
	char mem[32];
	add_device(list, n, "cpu", "%u vCPU%s", d.cpus, d.cpus == 1 ? "" : "s");
	add_device(list, n, "memory", "%s%s", size_format(d.mem, mem, sizeof(mem)),
		   d.balloon ? ", balloon" : "");
	add_device(list, n, "serial", "16550A UART on COM1, a console socket");
	for (unsigned i = 0; i < d.nr_disks; i++) {
		char vs[16] = "?", used[16] = "?";
		disk_sizes(l, name, d.disks[i].file, vs, used, sizeof(vs));
		add_device(list, n, "disk", "%s, %s %s (%s used)%s", d.disks[i].file, vs, d.disks[i].format, used,
			   d.disks[i].readonly ? ", read-only" : "");
	}
	if (d.net_mode && !strcmp(d.net_mode, "user"))
		add_device(list, n, "network", "virtio-net, NAT 10.0.2.0/24, %u forward%s", d.nr_hostfwd,
			   d.nr_hostfwd == 1 ? "" : "s");
	if (d.display && strcmp(d.display, "none"))
		add_device(list, n, "display", "%s, keymap %s", d.display, d.keymap ? d.keymap : "us");
	vmdef_free(&d);
	return 0;
}

static int forwards(struct backend *b, const char *name, char (**list)[128], size_t *n, struct error *err)
{
	struct be_spec s;
	*list = NULL;
	*n = 0;
	int r = spec(b, name, &s, err);
	if (r)
		return r;
	if (s.nr_forwards && !(*list = calloc(s.nr_forwards, sizeof(**list))))
		return be_fail(err, "out of memory");
	for (unsigned i = 0; i < s.nr_forwards; i++)
		memcpy((*list)[i], s.forwards[i], sizeof(s.forwards[i]));
	*n = s.nr_forwards;
	return 0;
}

static int edit_forwards(struct local *l, const char *name, const char *fwd, bool add, struct error *err)
{
	struct vmdef d;
	if (vmlib_load(&l->lib, name, &d, err) < 0)
		return BE_EUSER;
	int r = 0;
	unsigned at = d.nr_hostfwd;
	for (unsigned i = 0; i < d.nr_hostfwd; i++)
		if (!strcmp(d.hostfwd[i], fwd))
			at = i;
	if (add && at < d.nr_hostfwd)
		r = be_user(err, "VM '%s' already forwards %s", name, fwd);
	else if (add && d.nr_hostfwd >= VMDEF_MAX_FORWARDS)
		r = be_user(err, "VM '%s' has %d forwards already, the most it can have", name, VMDEF_MAX_FORWARDS);
	else if (add && strcmp(d.net_mode, "user"))
		r = be_user(err, "VM '%s' has no network (NAT): port forwards need one", name);
	else if (!add && at == d.nr_hostfwd)
		r = be_user(err, "VM '%s' has no forward %s", name, fwd);
	if (!r && add) {
		d.hostfwd[d.nr_hostfwd++] = strdup(fwd);
	} else if (!r) {
		free(d.hostfwd[at]);
		memmove(&d.hostfwd[at], &d.hostfwd[at + 1], (d.nr_hostfwd - at - 1) * sizeof(char *));
		d.nr_hostfwd--;
	}
	if (!r && vmlib_save(&l->lib, name, &d, err) < 0)
		r = BE_EFAIL;
	vmdef_free(&d);
	return r;
}

static int forward_change(struct backend *b, const char *name, const char *fwd, bool add, struct error *err)
{
	struct local *l = L(b);
	int r = need_vm(l, name, err);
	if (r)
		return r;
	if (add && !be_forward_valid(fwd))
		return be_user(err, "'%s' is not a port forward: write [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:"
				 "GUESTPORT, e.g. tcp::8080-:80", fwd);
	struct vm_status st;
	vmstate_get(&l->lib, name, &st);
	/* A running VM changes at once (the network's hostfwd-add and
	 * hostfwd-remove take the rule as their one argument), and keeps the
	 * change in its definition for the next start. */
	if (vm_state_live(st.state)) {
		r = vmctl_call_value(name, add ? "hostfwd-add" : "hostfwd-remove", fwd, VMCTL_TIMEOUT_MS, err);
		if (r)
			return r;
	}
	return edit_forwards(l, name, fwd, add, err);
}

static int forward_add(struct backend *b, const char *name, const char *fwd, struct error *err)
{
	return forward_change(b, name, fwd, true, err);
}

static int forward_remove(struct backend *b, const char *name, const char *fwd, struct error *err)
{
	return forward_change(b, name, fwd, false, err);
}

static int balloon(struct backend *b, const char *name, uint64_t target, struct error *err)
{
	struct local *l = L(b);
	struct vm_status st;
	int r = need_live(l, name, &st, err);
	if (r)
		return r;
	json_object *args = json_object_new_object(), *res = NULL;
	json_object_object_add(args, "target", json_object_new_uint64(target));
	r = vmctl_call(name, "balloon", args, VMCTL_TIMEOUT_MS, &res, err);
	json_object_put(args);
	json_object_put(res);
	return r;
}

static char *log_tail(struct backend *b, const char *name, unsigned lines)
{
	return vmstate_log_tail(&L(b)->lib, name, lines);
}

static const struct backend_ops local_ops = {
	.kind = "local",
	.destroy = destroy,
	.list = list,
	.get = get,
	.start = start,
	.stop = stop,
	.kill = kill_vm,
	.pause = pause_vm,
	.resume = resume_vm,
	.create = create,
	.remove = remove_vm,
	.clone = clone_vm,
	.rename = rename_vm,
	.spec = spec,
	.snapshots = snapshots,
	.snapshot_take = snapshot_take,
	.snapshot_revert = snapshot_revert,
	.snapshot_delete = snapshot_delete,
	.endpoints = endpoints,
	.devices = devices,
	.forwards = forwards,
	.forward_add = forward_add,
	.forward_remove = forward_remove,
	.balloon = balloon,
	.log_tail = log_tail,
};

struct backend *backend_local_new(const char *exe, struct error *err)
{
	struct local *l = calloc(1, sizeof(*l));
	if (!l) {
		error_set(err, "out of memory");
		return NULL;
	}
	l->b.ops = &local_ops;
	l->exe = exe ? strdup(exe) : vmspawn_self_exe();
	if (!l->exe) {
		free(l);
		error_set(err, "cannot find the vmdeck binary to run VMMs with");
		return NULL;
	}
	if (vmlib_open(&l->lib, err) < 0) {
		free(l->exe);
		free(l);
		return NULL;
	}
	return &l->b;
}
