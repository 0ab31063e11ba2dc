#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/vmsock.h"

static int check_private(const char *dir, struct error *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return error_errno(err, errno, "cannot use the socket directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, "the socket directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return error_set(err, "the socket directory %s belongs to another user", dir);
	if (st.st_mode & 077)
		return error_set(err, "the socket directory %s can be reached by other users (mode %04o); "
				 "make it 0700", dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int vmsock_dir(char *buf, size_t len, bool create, struct error *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n = xdg && *xdg ? snprintf(buf, len, "%s/vmdeck", xdg)
			    : snprintf(buf, len, "/tmp/vmdeck-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return error_set(err, "the socket directory name is too long");
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return error_errno(err, errno, "cannot create the socket directory %s", buf);
	if (!create && access(buf, F_OK) < 0)
		return 0;    /* nothing there yet: connecting will say so */
	return check_private(buf, err);
}

int vmsock_path(const char *name, enum vmsock_kind kind, char *buf, size_t len, bool create,
		struct error *err)
{
	static const char *const ext[] = { [VMSOCK_CONTROL] = "sock", [VMSOCK_SERIAL] = "serial",
					   [VMSOCK_VNC] = "vnc" };
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (vmsock_dir(dir, sizeof(dir), create, err) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%s.%s", dir, name, ext[kind]);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(dir))
		return error_set(err, "the socket path for VM '%s' is too long for a UNIX socket", name);
	return 0;
}
