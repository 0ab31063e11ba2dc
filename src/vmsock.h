/* Where a library VM's sockets live while its VMM runs:
 * $XDG_RUNTIME_DIR/vmdeck/NAME.sock (control), NAME.serial (serial
 * console), NAME.vnc (display), or /tmp/vmdeck-UID/ when XDG_RUNTIME_DIR
 * is unset.  The directory is made 0700 and must be ours and private.
 * `vmdeck start` passes these paths to the VMM explicitly, so the VMM and
 * every client agree without guessing. */
#ifndef VMDECK_VMSOCK_H
#define VMDECK_VMSOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "src/error.h"

enum vmsock_kind { VMSOCK_CONTROL, VMSOCK_SERIAL, VMSOCK_VNC };

/* The directory into BUF; creates it when CREATE. */
int vmsock_dir(char *buf, size_t len, bool create, struct error *err);
/* The socket of KIND for VM NAME into BUF (at most a sun_path long). */
int vmsock_path(const char *name, enum vmsock_kind kind, char *buf, size_t len, bool create,
		struct error *err);

#endif
