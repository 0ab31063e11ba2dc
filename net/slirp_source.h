/* libslirp on a GLib main loop: a GSource whose prepare step asks slirp for
 * the sockets it wants watched (slirp_pollfds_fill) and for how long the
 * loop may sleep before slirp's TCP timers need a turn, and whose dispatch
 * hands the poll results back (slirp_pollfds_poll).  The loop sleeps in
 * poll() like every other source: no busy polling, no threads.
 *
 * A throttle callback lets the guest side push back: while it says the
 * guest is busy, slirp's sockets are not watched for input, so data waits
 * in the host's socket buffers (and TCP windows close) instead of piling up
 * in front of a guest that has no receive buffers. */
#ifndef VMDECK_SLIRP_SOURCE_H
#define VMDECK_SLIRP_SOURCE_H

#include <glib.h>
#include <slirp/libslirp.h>
#include <stdbool.h>

struct slirp_source;

/* Attached to the default main context. */
struct slirp_source *slirp_source_new(Slirp *slirp, bool (*throttle)(void *opaque), void *opaque);
void slirp_source_free(struct slirp_source *s);

#endif
