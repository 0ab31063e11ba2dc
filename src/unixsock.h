/* Connecting to a UNIX stream socket by path, for the consoles. */
#ifndef VMDECK_UNIXSOCK_H
#define VMDECK_UNIXSOCK_H

#include "src/error.h"

/* A connected, close-on-exec socket, or -1 with a sentence naming PATH
 * (WHAT says whose socket it is: "the serial console of VM 'x'"). */
int unixsock_connect(const char *path, const char *what, struct error *err);

#endif
