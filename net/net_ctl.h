/* The network's rows in the control command table: hostfwd-add,
 * hostfwd-remove, capture-start, capture-stop.  Registered with the VM's
 * struct net as context, or NULL when the VM has no network card (the
 * commands then answer "unavailable" rather than "unknown-command", so a
 * client learns why).  They run on the main loop, like the backend. */
#ifndef VMDECK_NET_CTL_H
#define VMDECK_NET_CTL_H

#include "src/ctl_proto.h"

extern const struct ctl_command net_ctl_commands[];

#endif
