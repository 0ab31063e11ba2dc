/* Where control sockets live: $XDG_RUNTIME_DIR/vmdeck/NAME.sock, or
 * /tmp/vmdeck-UID/NAME.sock when XDG_RUNTIME_DIR is unset.  The directory
 * is created with mode 0700 and must belong to us and be private, so that
 * nobody else can reach or replace the sockets in it. */
#ifndef VMDECK_CTL_PATH_H
#define VMDECK_CTL_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "src/error.h"

#define CTL_NAME_MAX 64

/* Letters, digits, '.', '-', '_'; not starting with '.'; 1..64 bytes (as
 * the VM library's names). */
bool ctl_name_valid(const char *name);
/* The socket directory into BUF; creates it when CREATE. */
int ctl_path_dir(char *buf, size_t len, bool create, struct error *err);
/* DIR/NAME.sock into BUF. */
int ctl_path_for_name(const char *name, char *buf, size_t len, bool create, struct error *err);
/* What a client typed: a path (it contains '/') or a VM name. */
int ctl_path_resolve(const char *name_or_path, char *buf, size_t len, struct error *err);

#endif
