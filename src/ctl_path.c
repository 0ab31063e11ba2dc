#include <stdio.h>
#include <string.h>

#include "src/ctl_path.h"
#include "src/rundir.h"
#include "src/vmlib.h"

int ctl_path_for_name(const char *name, char *buf, size_t len, struct error *err)
{
	if (!vmlib_name_valid(name))
		return error_set(err, "'%s' is not a VM name: use 1 to %d letters, digits, '.', '-' or '_', "
				 "not starting with '.'", name, VMLIB_NAME_MAX);
	char file[VMLIB_NAME_MAX + 8];
	snprintf(file, sizeof(file), "%s.sock", name);
	return rundir_path(file, buf, len, err);
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
