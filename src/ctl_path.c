#include <stdio.h>
#include <string.h>

#include "src/ctl_path.h"
#include "src/rundir.h"

int ctl_path_for_name(const char *name, char *buf, size_t len, struct error *err)
{
	return rundir_vm_path(name, "sock", buf, len, err);
}

int ctl_path_resolve(const char *name_or_path, char *buf, size_t len, struct error *err)
{
	if (strchr(name_or_path, '/')) {
		if (strlen(name_or_path) >= len)
			return error_set(err, "the socket path %s is too long", name_or_path);
		strcpy(buf, name_or_path);
		return 0;
	}
	return ctl_path_for_name(name_or_path, buf, len, err);
}

int ctl_path_pidfile(const char *sock, char *buf, size_t len, struct error *err)
{
	size_t n = strlen(sock);
	if (n > 5 && !strcmp(sock + n - 5, ".sock"))
		n -= 5;
	if (n + 5 > len)
		return error_set(err, "the socket path %s is too long", sock);
	snprintf(buf, len, "%.*s.pid", (int)n, sock);
	return 0;
}
