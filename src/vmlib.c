#include <dirent.h>
#include <glib.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/vmlib.h"

/* Makes every missing directory of PATH with MODE. */
static int mkdirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return r;
}

int vmlib_open(struct vmlib *lib, struct error *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *base = NULL;
	if (xdg && *xdg == '/')
		base = strdup(xdg);
	else if (!home || !*home)
		return error_set(err, "neither XDG_DATA_HOME nor HOME is set: nowhere to keep VMs");
	else if (asprintf(&base, "%s/.local/share", home) < 0)
		base = NULL;
	if (!base || asprintf(&lib->vms_dir, "%s/vmdeck/vms", base) < 0) {
		free(base);
		return error_set(err, "out of memory");
	}
	free(base);
	if (mkdirs(lib->vms_dir, 0700) < 0)
		return error_errno(err, errno, "cannot create the VM library '%s'", lib->vms_dir);
	return 0;
}

void vmlib_close(struct vmlib *lib)
{
	free(lib->vms_dir);
	lib->vms_dir = NULL;
}

bool vmlib_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > VMLIB_NAME_MAX || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

char *vmlib_path(const struct vmlib *lib, const char *name, const char *file)
{
	char *p;
	if (asprintf(&p, "%s/%s%s%s", lib->vms_dir, name, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

bool vmlib_exists(const struct vmlib *lib, const char *name)
{
	char *conf = vmlib_path(lib, name, VMLIB_CONF);
	bool ok = conf && access(conf, F_OK) == 0;
	free(conf);
	return ok;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vmlib_list(const struct vmlib *lib, char ***names, size_t *n, struct error *err)
{
	*names = NULL;
	*n = 0;
	DIR *d = opendir(lib->vms_dir);
	if (!d)
		return error_errno(err, errno, "cannot read the VM library '%s'", lib->vms_dir);
	size_t cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!vmlib_name_valid(e->d_name) || !vmlib_exists(lib, e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			char **grown = realloc(*names, cap * sizeof(char *));
			if (!grown)
				break;
			*names = grown;
		}
		(*names)[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(char *), compare_names);
	return 0;
}

void vmlib_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

bool vmlib_running(const struct vmlib *lib, const char *name, pid_t *pid)
{
	char *path = vmlib_path(lib, name, VMLIB_PIDFILE);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0)
		return false;
	/* The VMM holds an exclusive lock for as long as it lives. */
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (held && pid) {
		char buf[32] = "";
		ssize_t got = read(fd, buf, sizeof(buf) - 1);
		*pid = got > 0 ? (pid_t)atol(buf) : 0;
	}
	close(fd);
	return held;
}

int vmlib_load(const struct vmlib *lib, const char *name, struct vmdef *def, struct error *err)
{
	if (!vmlib_exists(lib, name))
		return error_set(err, "there is no VM named '%s'", name);
	char *conf = vmlib_path(lib, name, VMLIB_CONF);
	int r = vmdef_load(conf, def, err);
	free(conf);
	return r;
}

int vmlib_save(const struct vmlib *lib, const char *name, const struct vmdef *def, struct error *err)
{
	char *conf = vmlib_path(lib, name, VMLIB_CONF);
	int r = vmdef_save(conf, def, err);
	free(conf);
	return r;
}

int vmlib_create(const struct vmlib *lib, const char *name, const struct vmdef *def, struct error *err)
{
	if (!vmlib_name_valid(name))
		return error_set(err, "'%s' is not a valid VM name: use 1 to %d letters, digits, '.', '-' or '_'",
				 name, VMLIB_NAME_MAX);
	char *dir = vmlib_path(lib, name, NULL);
	if (!dir)
		return error_set(err, "out of memory");
	if (mkdir(dir, 0700) < 0) {
		int e = errno;
		free(dir);
		if (e == EEXIST)
			return error_set(err, "a VM named '%s' already exists", name);
		return error_errno(err, e, "cannot create the directory of VM '%s'", name);
	}
	free(dir);
	return vmlib_save(lib, name, def, err);
}

static int refuse_running(const struct vmlib *lib, const char *name, const char *what, struct error *err)
{
	pid_t pid = 0;
	if (!vmlib_exists(lib, name))
		return error_set(err, "there is no VM named '%s'", name);
	if (vmlib_running(lib, name, &pid))
		return error_set(err, "VM '%s' is running (VMM pid %d): stop it before you %s it", name, (int)pid, what);
	return 0;
}

/* Removes the files of DIR (one level: a VM directory has no subdirectories
 * vmdeck made) and DIR itself. */
static int remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int fd = dirfd(d), r = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0)
			r = -1;
	}
	closedir(d);
	return rmdir(dir) < 0 ? -1 : r;
}

int vmlib_delete(const struct vmlib *lib, const char *name, struct error *err)
{
	if (refuse_running(lib, name, "delete", err) < 0)
		return -1;
	char *dir = vmlib_path(lib, name, NULL);
	int r = remove_dir(dir);
	int e = errno;
	free(dir);
	return r < 0 ? error_errno(err, e, "cannot remove every file of VM '%s'", name) : 0;
}

int vmlib_rename(const struct vmlib *lib, const char *from, const char *to, struct error *err)
{
	if (refuse_running(lib, from, "rename", err) < 0)
		return -1;
	if (!vmlib_name_valid(to))
		return error_set(err, "'%s' is not a valid VM name: use 1 to %d letters, digits, '.', '-' or '_'",
				 to, VMLIB_NAME_MAX);
	char *a = vmlib_path(lib, from, NULL), *b = vmlib_path(lib, to, NULL);
	/* RENAME_NOREPLACE: never merge into or over another VM. */
	int r = renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE);
	int e = errno;
	free(a);
	free(b);
	if (r < 0 && e == EEXIST)
		return error_set(err, "a VM named '%s' already exists", to);
	return r < 0 ? error_errno(err, e, "cannot rename VM '%s'", from) : 0;
}

/* A reflink where the file system can, else an in-kernel copy; sparse
 * holes are not kept by copy_file_range, so images may grow on copy. */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	int r = 0;
	if (ioctl(out, FICLONE, in) < 0) {
		struct stat st;
		r = fstat(in, &st);
		for (off_t left = st.st_size; r == 0 && left > 0;) {
			ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
			if (n <= 0)
				r = -1;
			else
				left -= n;
		}
	}
	if (fsync(out) < 0)
		r = -1;
	close(in);
	close(out);
	return r;
}

static bool runtime_file(const char *f)
{
	return !strcmp(f, VMLIB_PIDFILE) || !strcmp(f, VMLIB_LOG) || !strcmp(f, VMLIB_EXIT) ||
	       !strcmp(f, ".") || !strcmp(f, "..");
}

int vmlib_clone(const struct vmlib *lib, const char *from, const char *to, struct error *err)
{
	if (refuse_running(lib, from, "clone", err) < 0)
		return -1;
	if (!vmlib_name_valid(to))
		return error_set(err, "'%s' is not a valid VM name: use 1 to %d letters, digits, '.', '-' or '_'",
				 to, VMLIB_NAME_MAX);
	char *src = vmlib_path(lib, from, NULL), *dst = vmlib_path(lib, to, NULL);
	int r = 0;
	if (mkdir(dst, 0700) < 0) {
		r = errno == EEXIST ? error_set(err, "a VM named '%s' already exists", to)
				    : error_errno(err, errno, "cannot create the directory of VM '%s'", to);
		goto out;
	}
	DIR *d = opendir(src);
	for (struct dirent *e; d && (e = readdir(d)) && r == 0;) {
		if (runtime_file(e->d_name))
			continue;
		char *a = g_strdup_printf("%s/%s", src, e->d_name), *b = g_strdup_printf("%s/%s", dst, e->d_name);
		if (!a || !b)
			r = error_set(err, "out of memory");
		else if (copy_file(a, b) < 0)
			r = error_errno(err, errno, "cannot copy '%s' while cloning VM '%s'", e->d_name, from);
		g_free(a);
		g_free(b);
	}
	if (d)
		closedir(d);
	if (r < 0)
		remove_dir(dst);   /* no half-made clone */
out:
	free(src);
	free(dst);
	return r;
}
