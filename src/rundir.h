/* The per-user directory for vmdeck's sockets: $XDG_RUNTIME_DIR/vmdeck
 * (or /tmp/vmdeck-UID without it), created with mode 0700 and refused when
 * someone else owns it or others can enter it. */
#ifndef VMDECK_RUNDIR_H
#define VMDECK_RUNDIR_H

#include <stddef.h>

#include "src/error.h"

/* Writes "DIR/NAME" into OUT, creating DIR if needed. */
int rundir_path(const char *name, char *out, size_t len, struct error *err);

#endif
