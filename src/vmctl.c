#include <stdio.h>
#include <string.h>

#include "src/backend.h"
#include "src/vmctl.h"

bool vmctl_supported(void)
{
	return false;
}

int vmctl_call(const char *name, const char *cmd, json_object *args, int timeout_ms, json_object **result,
	       struct error *err)
{
	*result = NULL;
	error_set(err, "'%s' needs the VMM's control socket, which this build of vmdeck does not have yet", cmd);
	return BE_EUSER;
}
