/* Where control sockets live: NAME.sock in the per-user runtime directory
 * (src/rundir.h: $XDG_RUNTIME_DIR/vmdeck, or /tmp/vmdeck-UID when
 * XDG_RUNTIME_DIR is unset), private to the user. */
#ifndef VMDECK_CTL_PATH_H
#define VMDECK_CTL_PATH_H

#include <stddef.h>

#include "src/error.h"

/* RUNDIR/NAME.sock into BUF; NAME as the VM library allows (vmlib_name_valid). */
int ctl_path_for_name(const char *name, char *buf, size_t len, struct error *err);
/* What a client typed: a path (it contains '/') or a VM name. */
int ctl_path_resolve(const char *name_or_path, char *buf, size_t len, struct error *err);

#endif
