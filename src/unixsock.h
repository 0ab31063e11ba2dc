/* UNIX stream sockets by path, the one place that binds and connects them
 * for every socket a VMM serves (control, serial console, VNC) and every
 * client (the consoles, the control client). */
#ifndef VMDECK_UNIXSOCK_H
#define VMDECK_UNIXSOCK_H

#include <stdbool.h>

#include "src/error.h"

/* A connected, close-on-exec socket, or -1 with a sentence naming PATH
 * (WHAT says whose socket it is: "the serial console of VM 'x'"). */
int unixsock_connect(const char *path, const char *what, struct error *err);

/* A listening socket at PATH (non-blocking, close-on-exec, mode 0600 from
 * its first moment).  A socket file nobody answers on was left by a
 * process that died and is replaced; one that answers belongs to a live
 * server and is refused ("another VMM already serves WHAT at PATH");
 * another kind of file is never touched. */
int unixsock_listen(const char *path, int backlog, const char *what, struct error *err);
/* Whether a server accepts connections at PATH now. */
bool unixsock_answers(const char *path);

#endif
