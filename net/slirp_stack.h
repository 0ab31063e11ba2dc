/* One libslirp instance (a user-mode NAT: DHCP, DNS forwarding, TCP/UDP/ICMP
 * to the host's sockets) on the VMM's main loop.  Each VM has its own; they
 * share nothing. */
#ifndef VMDECK_SLIRP_STACK_H
#define VMDECK_SLIRP_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_options.h"
#include "src/error.h"

struct slirp_stack_ops {
	void *opaque;
	/* A frame slirp sends to the guest. */
	void (*to_guest)(void *opaque, const uint8_t *frame, size_t len);
	/* True while the guest cannot take more: slirp stops reading. */
	bool (*guest_busy)(void *opaque);
};

struct slirp_stack;

struct slirp_stack *slirp_stack_new(const struct net_options *opt, struct slirp_stack_ops ops,
				    struct error *err);
void slirp_stack_free(struct slirp_stack *s);
/* A frame from the guest. */
void slirp_stack_input(struct slirp_stack *s, const uint8_t *frame, size_t len);
/* Binds the host socket of a forward; errors name it and the cause. */
int slirp_stack_add_fwd(struct slirp_stack *s, const struct net_hostfwd *f, struct error *err);
int slirp_stack_remove_fwd(struct slirp_stack *s, const struct net_hostfwd *f);
/* Messages libslirp reported about the guest's packets. */
uint64_t slirp_stack_guest_errors(const struct slirp_stack *s);

#endif
