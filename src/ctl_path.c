#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/ctl_path.h"

bool ctl_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CTL_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int check_private(const char *dir, struct error *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return error_errno(err, errno, "cannot use the control socket directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, "the control socket directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return error_set(err, "the control socket directory %s belongs to another user", dir);
	if (st.st_mode & 077)
		return error_set(err, "the control socket directory %s can be reached by other users "
				 "(mode %04o); make it 0700", dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int ctl_path_dir(char *buf, size_t len, bool create, struct error *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(buf, len, "%s/vmdeck", xdg)
			    : snprintf(buf, len, "/tmp/vmdeck-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return error_set(err, "the control socket directory name is too long");
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return error_errno(err, errno, "cannot create the control socket directory %s", buf);
	if (!create && access(buf, F_OK) < 0)
		return 0;    /* nothing there yet: connecting will say so */
	return check_private(buf, err);
}

int ctl_path_for_name(const char *name, char *buf, size_t len, bool create, struct error *err)
{
	if (!ctl_name_valid(name))
		return error_set(err, "'%s' is not a VM name: use 1 to %d letters, digits, '.', '-' or '_', "
				 "not starting with '.'", name, CTL_NAME_MAX);
	char dir[4096];
	if (ctl_path_dir(dir, sizeof(dir), create, err) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, "the control socket path for '%s' is too long", name);
	return 0;
}

int ctl_path_resolve(const char *name_or_path, char *buf, size_t len, struct error *err)
{
	if (strchr(name_or_path, '/')) {
		if (strlen(name_or_path) >= len)
			return error_set(err, "the socket path %s is too long", name_or_path);
		strcpy(buf, name_or_path);
		return 0;
	}
	return ctl_path_for_name(name_or_path, buf, len, false, err);
}
