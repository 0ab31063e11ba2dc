/* A VM's network: the virtio-net device, its own libslirp NAT, port
 * forwards, packet capture and counters.
 *
 * Every function here runs on the VMM's main loop (the GLib default
 * context), where the control socket's commands run too; the statistics
 * may be read from any thread. */
#ifndef VMDECK_NET_H
#define VMDECK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_options.h"
#include "net/pcap_writer.h"
#include "src/error.h"
#include "vmm/virtio_net.h"

struct slirp_stack;
struct vm;

struct net {
	struct net_options opt;
	struct virtio_net *dev;
	struct slirp_stack *stack;
	struct pcap_writer capture;
	guint flush_timer;
	struct net_hostfwd fwd[NET_MAX_FORWARDS];   /* active forwards, in order added */
	unsigned nr_fwd;
	uint64_t tx_restricted, capture_failures;
};

struct net_stats {
	struct virtio_net_stats dev;    /* rx = toward the guest, tx = from it */
	uint64_t tx_restricted;         /* dropped by restrict=on */
	uint64_t slirp_errors;          /* packets libslirp complained about */
	uint64_t capture_packets, capture_errors;
	bool link_up, restricted, capturing;
	unsigned forwards;
};

struct net_forward_info {
	struct net_hostfwd fwd;
	char spec[96];                  /* "tcp:127.0.0.1:8080-10.0.2.15:80" */
	const char *state;              /* "listening" (tcp) or "bound" (udp) */
};

/* Builds the device and the NAT, binds the forwards and opens the capture
 * file that OPT asks for.  Errors are the user's: one sentence. */
struct net *net_create(const struct net_options *opt, const struct guest_mem *mem,
		       struct irq_router *router, struct error *err);
void net_destroy(struct net *n);
struct virtio_pci *net_pci(struct net *n);
/* The VM's network (the device vm_config.c added as "net"), or NULL. */
struct net *net_find(struct vm *vm);

/* SPEC as in hostfwd=: "tcp:[ADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT". */
int net_hostfwd_add(struct net *n, const char *spec, struct error *err);
/* SPEC: "tcp:[ADDR]:HOSTPORT" (or the forward's full specification). */
int net_hostfwd_remove(struct net *n, const char *spec, struct error *err);
unsigned net_forwards(struct net *n, struct net_forward_info *out, unsigned max);

/* Starts writing the guest's link traffic to PATH (a new pcap file). */
int net_capture_start(struct net *n, const char *path, struct error *err);
int net_capture_stop(struct net *n, struct error *err);

/* The running capture's file, or NULL. */
const char *net_capture_path(const struct net *n);

void net_set_link(struct net *n, bool up);
void net_get_stats(struct net *n, struct net_stats *out);

#endif
