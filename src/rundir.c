#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/rundir.h"

static int ensure_private_dir(const char *dir, struct error *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_errno(err, errno, "cannot create the runtime directory '%s'", dir);
	struct stat st;
	if (lstat(dir, &st) < 0)
		return error_errno(err, errno, "cannot use the runtime directory '%s'", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return error_set(err, "the runtime directory '%s' is not a directory of this user", dir);
	if (st.st_mode & 077)
		return error_set(err, "the runtime directory '%s' is open to other users (mode %04o); "
				 "it must be 0700", dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int rundir_path(const char *name, char *out, size_t len, struct error *err)
{
	char dir[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(dir, sizeof(dir), "%s/vmdeck", xdg)
			    : snprintf(dir, sizeof(dir), "/tmp/vmdeck-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= sizeof(dir))
		return error_set(err, "XDG_RUNTIME_DIR is too long");
	if (ensure_private_dir(dir, err) < 0)
		return -1;
	n = snprintf(out, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, "the socket path %s/%s is too long", dir, name);
	return 0;
}
