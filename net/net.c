#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"
#include "net/net_restrict.h"
#include "net/slirp_stack.h"
#include "src/log.h"
#include "vmm/vm.h"

#define CAPTURE_FLUSH_MS 500

/* ---- the link between the device and the NAT -------------------------------- */

static void capture(struct net *n, const uint8_t *frame, size_t len)
{
	if (!pcap_writer_is_open(&n->capture))
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (pcap_writer_write(&n->capture, frame, len, &ts) == 0)
		return;
	/* A full disk must not cost the guest its network: stop capturing. */
	log_warn("net: cannot write the capture file '%s'; the capture stops", n->capture.path);
	__atomic_fetch_add(&n->capture_failures, 1, __ATOMIC_RELAXED);
	net_capture_stop(n, NULL);
}

static void from_guest(void *opaque, const uint8_t *frame, size_t len)
{
	struct net *n = opaque;
	capture(n, frame, len);
	if (n->opt.restricted && !net_restrict_allows(&n->opt.addrs, frame, len)) {
		__atomic_fetch_add(&n->tx_restricted, 1, __ATOMIC_RELAXED);
		return;
	}
	slirp_stack_input(n->stack, frame, len);
}

static void to_guest(void *opaque, const uint8_t *frame, size_t len)
{
	struct net *n = opaque;
	capture(n, frame, len);
	virtio_net_receive(n->dev, frame, len);
}

static bool guest_busy(void *opaque)
{
	struct net *n = opaque;
	return virtio_net_backlog(n->dev) > 0;
}

/* ---- lifecycle ---------------------------------------------------------------- */

struct net *net_create(const struct net_options *opt, const struct guest_mem *mem,
		       struct irq_router *router, struct error *err)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n) {
		error_set(err, "out of memory");
		return NULL;
	}
	n->opt = *opt;
	n->opt.capture = NULL;            /* the options keep theirs */
	struct virtio_net_peer peer = { .opaque = n, .tx = from_guest };
	struct slirp_stack_ops ops = { .opaque = n, .to_guest = to_guest, .guest_busy = guest_busy };
	n->dev = virtio_net_create(opt->mac, opt->mtu, peer, mem, router, err);
	if (!n->dev || !(n->stack = slirp_stack_new(opt, ops, err)))
		goto fail;
	for (unsigned i = 0; i < opt->nr_fwd; i++) {
		if (slirp_stack_add_fwd(n->stack, &opt->fwd[i], err) < 0)
			goto fail;
		n->fwd[n->nr_fwd++] = opt->fwd[i];
	}
	if (opt->capture && net_capture_start(n, opt->capture, err) < 0)
		goto fail;
	return n;
fail:
	net_destroy(n);
	return NULL;
}

void net_destroy(struct net *n)
{
	if (!n)
		return;
	struct error err;
	if (pcap_writer_is_open(&n->capture) && net_capture_stop(n, &err) < 0)
		log_warn("net: %s", err.msg);
	slirp_stack_free(n->stack);       /* closes the forwards' sockets */
	virtio_net_destroy(n->dev);
	free(n);
}

struct virtio_pci *net_pci(struct net *n)
{
	return &n->dev->vp;
}

struct net *net_find(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (!strcmp(vm->devices[i].kind, "net"))
			return vm->devices[i].dev;
	return NULL;
}

/* ---- port forwards ---------------------------------------------------------------- */

static int find_forward(const struct net *n, const struct net_hostfwd *f)
{
	for (unsigned i = 0; i < n->nr_fwd; i++)
		if (net_hostfwd_same_host(&n->fwd[i], f))
			return (int)i;
	return -1;
}

int net_hostfwd_add(struct net *n, const char *spec, struct error *err)
{
	struct net_hostfwd f;
	if (net_hostfwd_parse(spec, &n->opt.addrs, &f, err) < 0)
		return -1;
	if (find_forward(n, &f) >= 0)
		return error_set(err, "hostfwd '%s' uses a host port another forward already takes", spec);
	if (n->nr_fwd >= NET_MAX_FORWARDS)
		return error_set(err, "a VM takes at most %d forwards", NET_MAX_FORWARDS);
	if (slirp_stack_add_fwd(n->stack, &f, err) < 0)
		return -1;
	n->fwd[n->nr_fwd++] = f;
	return 0;
}

int net_hostfwd_remove(struct net *n, const char *spec, struct error *err)
{
	struct net_hostfwd f;
	if (net_hostfwd_parse_host(spec, &f, err) < 0)
		return -1;
	int i = find_forward(n, &f);
	if (i < 0)
		return error_set(err, "no forward listens on %s", spec);
	if (slirp_stack_remove_fwd(n->stack, &n->fwd[i]) < 0)
		return error_set(err, "libslirp did not find the forward %s", spec);
	memmove(&n->fwd[i], &n->fwd[i + 1], (n->nr_fwd - (unsigned)i - 1) * sizeof(n->fwd[0]));
	n->nr_fwd--;
	return 0;
}

unsigned net_forwards(struct net *n, struct net_forward_info *out, unsigned max)
{
	unsigned i = 0;
	for (; i < n->nr_fwd && i < max; i++) {
		out[i].fwd = n->fwd[i];
		net_hostfwd_format(&n->fwd[i], out[i].spec, sizeof(out[i].spec));
		out[i].state = n->fwd[i].udp ? "bound" : "listening";
	}
	return i;
}

/* ---- capture -------------------------------------------------------------------- */

static gboolean flush_capture(gpointer data)
{
	struct net *n = data;
	pcap_writer_flush(&n->capture);
	return G_SOURCE_CONTINUE;
}

int net_capture_start(struct net *n, const char *path, struct error *err)
{
	if (pcap_writer_is_open(&n->capture))
		return error_set(err, "a capture to '%s' is already running", n->capture.path);
	if (pcap_writer_open(&n->capture, path, err) < 0)
		return -1;
	n->flush_timer = g_timeout_add(CAPTURE_FLUSH_MS, flush_capture, n);
	return 0;
}

int net_capture_stop(struct net *n, struct error *err)
{
	if (!pcap_writer_is_open(&n->capture))
		return err ? error_set(err, "no capture is running") : 0;
	if (n->flush_timer)
		g_source_remove(n->flush_timer);
	n->flush_timer = 0;
	return pcap_writer_close(&n->capture, err);   /* the counts stay for the statistics */
}

const char *net_capture_path(const struct net *n)
{
	return pcap_writer_is_open(&n->capture) ? n->capture.path : NULL;
}

/* ---- link and counters ---------------------------------------------------------- */

void net_set_link(struct net *n, bool up)
{
	virtio_net_set_link(n->dev, up);
}

void net_get_stats(struct net *n, struct net_stats *out)
{
	memset(out, 0, sizeof(*out));
	virtio_net_get_stats(n->dev, &out->dev);
	out->tx_restricted = __atomic_load_n(&n->tx_restricted, __ATOMIC_RELAXED);
	out->slirp_errors = slirp_stack_guest_errors(n->stack);
	out->capture_packets = n->capture.packets;
	out->capture_errors = n->capture.errors + __atomic_load_n(&n->capture_failures, __ATOMIC_RELAXED);
	out->capturing = pcap_writer_is_open(&n->capture);
	out->link_up = virtio_net_link(n->dev);
	out->restricted = n->opt.restricted;
	out->forwards = n->nr_fwd;
}
