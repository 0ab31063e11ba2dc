#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/vmargs.h"
#include "src/rundir.h"

static int add(struct vmargs *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **grown = realloc(a->argv, cap * sizeof(char *));
		if (!grown)
			return -1;
		a->argv = grown;
		a->cap = cap;
	}
	if (!(a->argv[a->n] = strdup(s)))
		return -1;
	a->argv[++a->n] = NULL;
	return 0;
}

static int add2(struct vmargs *a, const char *opt, const char *value)
{
	return add(a, opt) < 0 || add(a, value) < 0 ? -1 : 0;
}

void vmargs_free(struct vmargs *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

char *vmargs_resolve(const struct vmlib *lib, const char *name, const char *file)
{
	if (file[0] == '/')
		return strdup(file);
	return vmlib_path(lib, name, file);
}

/* A file the VM needs must exist now, not fail later inside the VMM log. */
static int need_file(const struct vmlib *lib, const char *name, const char *file, const char *what,
		     struct vmargs *a, const char *opt, struct error *err)
{
	char *path = vmargs_resolve(lib, name, file);
	if (!path)
		return error_set(err, "out of memory");
	if (access(path, R_OK) < 0) {
		int e = errno;
		error_errno(err, e, "the %s '%s' of VM '%s' cannot be read", what, path, name);
		free(path);
		return -1;
	}
	int r = add2(a, opt, path);
	free(path);
	return r < 0 ? error_set(err, "out of memory") : 0;
}

/* The VM's socket NAME.EXT in the runtime directory, where the consoles
 * look for it (src/rundir.h). */
static int add_socket(struct vmargs *a, const char *name, const char *ext, const char *opt,
		      const char *prefix, struct error *err)
{
	char path[256], value[300];
	if (rundir_vm_path(name, ext, path, sizeof(path), err) < 0)
		return -1;
	snprintf(value, sizeof(value), "%s%s", prefix, path);
	return add2(a, opt, value) < 0 ? error_set(err, "out of memory") : 0;
}

/* The machine itself: kernel, memory, vCPUs, its name (which gives it its
 * control socket and pidfile, vmm/vmm_ctl.h), serial console. */
static int base_args(const struct vmlib *lib, const char *name, const struct vmdef *d, struct vmargs *a,
		     struct error *err)
{
	char num[32];
	if (!d->kernel || !*d->kernel)
		return error_set(err, "VM '%s' has no kernel: set [boot] kernel in its vm.conf "
				 "(`vmdeck new --kernel FILE` does it)", name);
	if (need_file(lib, name, d->kernel, "kernel", a, "--kernel", err) < 0)
		return -1;
	if (d->initrd && *d->initrd && need_file(lib, name, d->initrd, "initrd", a, "--initrd", err) < 0)
		return -1;
	if (d->cmdline && add2(a, "--cmdline", d->cmdline) < 0)
		return error_set(err, "out of memory");
	snprintf(num, sizeof(num), "%lluM", (unsigned long long)(d->mem >> 20));
	if (add2(a, "--mem", num) < 0)
		return error_set(err, "out of memory");
	snprintf(num, sizeof(num), "%u", d->cpus);
	if (add2(a, "--cpus", num) < 0)
		return error_set(err, "out of memory");
	if (add2(a, "--name", name) < 0)
		return error_set(err, "out of memory");
	return add_socket(a, name, "serial", "--serial", "socket:", err);
}

/* ---- one block per VMM feature ------------------------------------------------ */

/* The control socket comes with --name (NAME.sock beside NAME.serial);
 * the balloon is asked for here. */
static int control_args(const char *name, const struct vmdef *d, struct vmargs *a, struct error *err)
{
	if (d->balloon && add(a, "--balloon") < 0)
		return error_set(err, "out of memory");
	return 0;
}

/* The display and its VNC server (--display, --vnc, --keymap). */
static int display_args(const char *name, const struct vmdef *d, struct vmargs *a, struct error *err)
{
	if (d->display && !strcmp(d->display, "none"))
		return add2(a, "--display", "none") < 0 ? error_set(err, "out of memory") : 0;
	if (add2(a, "--display", d->display && *d->display ? d->display : "vga") < 0 ||
	    add2(a, "--keymap", d->keymap && *d->keymap ? d->keymap : "us") < 0)
		return error_set(err, "out of memory");
	return add_socket(a, name, "vnc", "--vnc", "unix:", err);
}

/* The network card and its NAT (--net user,hostfwd=RULE,...,mac=MAC). */
static int net_args(const char *name, const struct vmdef *d, struct vmargs *a, struct error *err)
{
	if (!d->net_mode || strcmp(d->net_mode, "user"))
		return 0;
	char spec[4096] = "user";
	for (unsigned i = 0; i < d->nr_hostfwd; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), ",hostfwd=%s", d->hostfwd[i]);
	if (d->mac && *d->mac)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), ",mac=%s", d->mac);
	return add2(a, "--net", spec) < 0 ? error_set(err, "out of memory") : 0;
}

/* Appends S to BUF doubling commas: --disk reads ",," as a literal comma. */
static void append_escaped(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	for (; *s && n + 2 < len; s++) {
		buf[n++] = *s;
		if (*s == ',')
			buf[n++] = ',';
	}
	buf[n] = '\0';
}

/* Disk images (--disk FILE,format=...,cache=...,readonly=on), in order:
 * the guest sees [disk0] as /dev/vda. */
static int disk_args(const struct vmlib *lib, const char *name, const struct vmdef *d, struct vmargs *a,
		     struct error *err)
{
	for (unsigned i = 0; i < d->nr_disks; i++) {
		const struct vmdef_disk *k = &d->disks[i];
		char *path = vmargs_resolve(lib, name, k->file);
		if (!path)
			return error_set(err, "out of memory");
		if (access(path, R_OK) < 0) {
			int e = errno;
			error_errno(err, e, "the disk '%s' of VM '%s' cannot be read", path, name);
			free(path);
			return -1;
		}
		char spec[4400] = "";
		append_escaped(spec, sizeof(spec), path);
		free(path);
		size_t n = strlen(spec);
		snprintf(spec + n, sizeof(spec) - n, ",format=%s,cache=%s%s", k->format ? k->format : "qcow2",
			 k->cache ? k->cache : "writeback", k->readonly ? ",readonly=on" : "");
		if (add2(a, "--disk", spec) < 0)
			return error_set(err, "out of memory");
	}
	return 0;
}

int vmargs_build(const struct vmlib *lib, const char *name, const struct vmdef *def, const char *exe,
		 struct vmargs *a, struct error *err)
{
	memset(a, 0, sizeof(*a));
	int r = add(a, exe) < 0 || add(a, "run") < 0 ? error_set(err, "out of memory") : 0;
	if (r == 0)
		r = base_args(lib, name, def, a, err);
	if (r == 0)
		r = control_args(name, def, a, err);
	if (r == 0)
		r = display_args(name, def, a, err);
	if (r == 0)
		r = net_args(name, def, a, err);
	if (r == 0)
		r = disk_args(lib, name, def, a, err);
	if (r < 0)
		vmargs_free(a);
	return r;
}
