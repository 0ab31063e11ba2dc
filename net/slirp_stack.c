#include <errno.h>
#include <glib.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>

#include "net/slirp_source.h"
#include "net/slirp_stack.h"
#include "src/log.h"

struct slirp_stack {
	Slirp *slirp;
	SlirpCb cb;                    /* libslirp keeps a pointer to it */
	struct slirp_source *source;
	struct slirp_stack_ops ops;
	uint64_t guest_errors;
};

struct slirp_timer {
	struct slirp_stack *s;
	SlirpTimerId id;
	SlirpTimerCb cb;               /* the old interface; NULL with timer_new_opaque */
	void *cb_opaque;
	guint source;
};

/* ---- callbacks ---------------------------------------------------------------- */

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_stack *s = opaque;
	s->ops.to_guest(s->ops.opaque, buf, len);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct slirp_stack *s = opaque;
	__atomic_fetch_add(&s->guest_errors, 1, __ATOMIC_RELAXED);
	log_debug("net: slirp: %s", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	return g_get_monotonic_time() * 1000;
}

static gboolean timer_fire(gpointer data)
{
	struct slirp_timer *t = data;
	t->source = 0;
	if (t->cb)
		t->cb(t->cb_opaque);
	else
		slirp_handle_timer(t->s->slirp, t->id, t->cb_opaque);
	return G_SOURCE_REMOVE;
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = g_new0(struct slirp_timer, 1);
	t->s = opaque;
	t->id = id;
	t->cb_opaque = cb_opaque;
	return t;
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_new_opaque(SLIRP_TIMER_NUM, cb_opaque, opaque);
	t->cb = cb;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	struct slirp_timer *t = timer;
	if (t->source)
		g_source_remove(t->source);
	g_free(t);
}

/* EXPIRE is in milliseconds of clock_get_ns's clock. */
static void timer_mod(void *timer, int64_t expire, void *opaque)
{
	struct slirp_timer *t = timer;
	if (t->source)
		g_source_remove(t->source);
	int64_t delay = expire - g_get_monotonic_time() / 1000;
	t->source = g_timeout_add(delay < 0 ? 0 : delay > G_MAXINT ? G_MAXINT : (guint)delay, timer_fire, t);
}

/* Only Windows builds of libslirp use these. */
static void register_poll_fd(int fd, void *opaque) {}
static void unregister_poll_fd(int fd, void *opaque) {}

/* libslirp calls this whenever socket buffer space frees up, for
 * applications that poll from another thread or feed guestfwd sockets
 * (slirp_socket_can_recv).  Here slirp only runs on the main loop, which
 * asks slirp_pollfds_fill again before it sleeps, and there are no
 * guestfwds: waking the loop would only make it spin. */
static void notify(void *opaque) {}

static void init_completed(Slirp *slirp, void *opaque)
{
	struct slirp_stack *s = opaque;
	s->slirp = slirp;           /* timers made during slirp_new need it */
}

static bool guest_busy(void *opaque)
{
	struct slirp_stack *s = opaque;
	return s->ops.guest_busy && s->ops.guest_busy(s->ops.opaque);
}

/* ---- instance ----------------------------------------------------------------- */

/* QEMU's IPv6 defaults: fec0::/64, gateway ::2, DNS ::3. */
static void v6_addr(struct in6_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[0] = 0xfe;
	a->s6_addr[1] = 0xc0;
	a->s6_addr[15] = last;
}

struct slirp_stack *slirp_stack_new(const struct net_options *opt, struct slirp_stack_ops ops,
				    struct error *err)
{
	struct slirp_stack *s = g_new0(struct slirp_stack, 1);
	s->ops = ops;
	s->cb = (SlirpCb){
		.send_packet = send_packet, .guest_error = guest_error, .clock_get_ns = clock_get_ns,
		.timer_new = timer_new, .timer_free = timer_free, .timer_mod = timer_mod,
		.register_poll_fd = register_poll_fd, .unregister_poll_fd = unregister_poll_fd,
		.notify = notify, .init_completed = init_completed, .timer_new_opaque = timer_new_opaque,
	};
	SlirpConfig cfg = {
		.version = 4,
		.restricted = opt->restricted,
		.in_enabled = true,
		.vnetwork = opt->addrs.network,
		.vnetmask = opt->addrs.netmask,
		.vhost = opt->addrs.gateway,
		.in6_enabled = true,
		.vprefix_len = 64,
		.vdhcp_start = opt->addrs.dhcp_start,
		.vnameserver = opt->addrs.dns,
		.if_mtu = opt->mtu,
		.if_mru = opt->mtu,
	};
	v6_addr(&cfg.vprefix_addr6, 0);
	v6_addr(&cfg.vhost6, 2);
	v6_addr(&cfg.vnameserver6, 3);
	Slirp *slirp = slirp_new(&cfg, &s->cb, s);
	if (!slirp) {
		g_free(s);
		error_set(err, "libslirp could not start the user-mode network");
		return NULL;
	}
	s->slirp = slirp;
	s->source = slirp_source_new(slirp, guest_busy, s);
	return s;
}

void slirp_stack_free(struct slirp_stack *s)
{
	if (!s)
		return;
	slirp_source_free(s->source);
	slirp_cleanup(s->slirp);        /* frees its timers through timer_free */
	g_free(s);
}

void slirp_stack_input(struct slirp_stack *s, const uint8_t *frame, size_t len)
{
	slirp_input(s->slirp, frame, (int)len);
}

int slirp_stack_add_fwd(struct slirp_stack *s, const struct net_hostfwd *f, struct error *err)
{
	char spec[96];
	net_hostfwd_format(f, spec, sizeof(spec));
	errno = 0;
	if (slirp_add_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr, f->guest_port) < 0)
		return error_errno(err, errno ? errno : EINVAL, "cannot forward %s", spec);
	return 0;
}

int slirp_stack_remove_fwd(struct slirp_stack *s, const struct net_hostfwd *f)
{
	return slirp_remove_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port);
}

uint64_t slirp_stack_guest_errors(const struct slirp_stack *s)
{
	return __atomic_load_n(&s->guest_errors, __ATOMIC_RELAXED);
}
