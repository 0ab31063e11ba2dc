/* The display's rows in the control command table.  Registered with the
 * VM's struct vga as context, or NULL when the VM has none (the command
 * then answers "unavailable" rather than "unknown-command", so a client
 * learns why). */
#ifndef VMDECK_DISPLAY_CTL_H
#define VMDECK_DISPLAY_CTL_H

#include "src/ctl_proto.h"

extern const struct ctl_command display_ctl_commands[];

#endif
