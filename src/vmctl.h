/* The local backend's line to a running VMM: one request on its control
 * socket (JSON lines, share/vmdeck-control.md once the control socket is
 * in), answered within a timeout.  This is the one place the control
 * client joins the backend. */
#ifndef VMDECK_VMCTL_H
#define VMDECK_VMCTL_H

#include <json-c/json.h>
#include <stdbool.h>

#include "src/error.h"

#define VMCTL_TIMEOUT_MS 500

/* Whether this build has a control socket at all. */
bool vmctl_supported(void);
/* Sends {"cmd": CMD, ...ARGS} to VM NAME (ARGS: an object or NULL, not
 * consumed) and returns 0 with the reply's "result" in *RESULT (the
 * caller puts it), or BE_EUSER when the VMM refused (its sentence in
 * ERR), or BE_EFAIL when it could not be reached or did not answer. */
int vmctl_call(const char *name, const char *cmd, json_object *args, int timeout_ms, json_object **result,
	       struct error *err);

/* The statistics JSON of `stats` into a struct be_stats. */
struct be_stats;
void vmctl_parse_stats(json_object *stats, struct be_stats *out);

#endif
