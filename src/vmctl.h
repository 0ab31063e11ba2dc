/* The local backend's line to a running VMM: one request on its control
 * socket (src/ctl_client.h; the protocol is share/vmdeck-control.md),
 * answered within a timeout.  This is the one place the control client
 * joins the backend. */
#ifndef VMDECK_VMCTL_H
#define VMDECK_VMCTL_H

#include <json-c/json.h>

#include "src/error.h"

/* Long enough for a VMM whose main loop is busy for a moment (a sanitized
 * build, a loaded host); short enough that a hung VMM costs the TUI one
 * beat, not a freeze. */
#define VMCTL_TIMEOUT_MS 1000

/* Sends {"cmd": CMD, ...ARGS} to VM NAME (ARGS: an object or NULL, not
 * consumed) and returns 0 with the reply's "result" in *RESULT (the
 * caller puts it), or BE_EUSER when the VMM refused (its sentence in
 * ERR), or BE_EFAIL when it could not be reached or did not answer. */
int vmctl_call(const char *name, const char *cmd, json_object *args, int timeout_ms, json_object **result,
	       struct error *err);
/* The same for a command that takes one string: VALUE goes in as the
 * command's first argument, whatever the VMM names it (asked with
 * `help`), so that a command the VMM gains later works as it defines it.
 * A VMM without CMD refuses with BE_EUSER. */
int vmctl_call_value(const char *name, const char *cmd, const char *value, int timeout_ms, struct error *err);

/* The `stats` reply (share/vmdeck-control.md, "stats") into a struct
 * be_stats; anything missing, null or mistyped stays unknown. */
struct be_stats;
void vmctl_parse_stats(json_object *stats, struct be_stats *out);

#endif
