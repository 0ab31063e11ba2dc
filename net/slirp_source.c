#include "net/slirp_source.h"

struct slirp_source {
	GSource base;
	Slirp *slirp;
	GArray *fds;                  /* GPollFD, each registered with the source */
	GArray *next;                 /* what slirp asks for this turn */
	gint64 deadline;              /* when slirp's timers want a turn; -1: never */
	bool (*throttle)(void *opaque);
	void *opaque;
	bool throttled;
};

static gushort to_glib(int events)
{
	return (gushort)((events & SLIRP_POLL_IN ? G_IO_IN : 0) | (events & SLIRP_POLL_OUT ? G_IO_OUT : 0) |
			 (events & SLIRP_POLL_PRI ? G_IO_PRI : 0) | (events & SLIRP_POLL_ERR ? G_IO_ERR : 0) |
			 (events & SLIRP_POLL_HUP ? G_IO_HUP : 0));
}

static int from_glib(gushort revents)
{
	return (revents & G_IO_IN ? SLIRP_POLL_IN : 0) | (revents & G_IO_OUT ? SLIRP_POLL_OUT : 0) |
	       (revents & G_IO_PRI ? SLIRP_POLL_PRI : 0) | (revents & G_IO_ERR ? SLIRP_POLL_ERR : 0) |
	       (revents & G_IO_HUP ? SLIRP_POLL_HUP : 0);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_source *s = opaque;
	if (s->throttled)
		events &= ~SLIRP_POLL_IN;
	GPollFD p = { .fd = fd, .events = to_glib(events) };
	g_array_append_val(s->next, p);
	return (int)s->next->len - 1;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_source *s = opaque;
	if (idx < 0 || (guint)idx >= s->fds->len)
		return 0;
	return from_glib(g_array_index(s->fds, GPollFD, idx).revents);
}

static bool same_fds(const GArray *a, const GArray *b)
{
	if (a->len != b->len)
		return false;
	for (guint i = 0; i < a->len; i++)
		if (g_array_index(a, GPollFD, i).fd != g_array_index(b, GPollFD, i).fd)
			return false;
	return true;
}

/* Registers this turn's descriptors.  GLib wakes its own loop whenever a
 * poll is added or removed, so doing that every turn would keep the loop
 * spinning: when slirp asks for the same descriptors (the usual case),
 * only their events change, in place, before GLib reads them. */
static void update_fds(struct slirp_source *s)
{
	if (same_fds(s->fds, s->next)) {
		for (guint i = 0; i < s->fds->len; i++) {
			GPollFD *p = &g_array_index(s->fds, GPollFD, i);
			p->events = g_array_index(s->next, GPollFD, i).events;
			p->revents = 0;
		}
		return;
	}
	for (guint i = 0; i < s->fds->len; i++)
		g_source_remove_poll(&s->base, &g_array_index(s->fds, GPollFD, i));
	GArray *t = s->fds;
	s->fds = s->next;
	s->next = t;
	/* The array is complete: its elements no longer move. */
	for (guint i = 0; i < s->fds->len; i++)
		g_source_add_poll(&s->base, &g_array_index(s->fds, GPollFD, i));
}

static gboolean prepare(GSource *src, gint *timeout)
{
	struct slirp_source *s = (struct slirp_source *)src;
	g_array_set_size(s->next, 0);
	s->throttled = s->throttle && s->throttle(s->opaque);
	uint32_t ms = UINT32_MAX;
	slirp_pollfds_fill(s->slirp, &ms, add_poll, s);
	update_fds(s);
	if (ms == UINT32_MAX) {
		s->deadline = -1;
		*timeout = -1;
	} else {
		s->deadline = g_source_get_time(src) + (gint64)ms * 1000;
		*timeout = ms > G_MAXINT ? G_MAXINT : (gint)ms;
	}
	return FALSE;
}

static gboolean check(GSource *src)
{
	struct slirp_source *s = (struct slirp_source *)src;
	for (guint i = 0; i < s->fds->len; i++)
		if (g_array_index(s->fds, GPollFD, i).revents)
			return TRUE;
	return s->deadline >= 0 && g_source_get_time(src) >= s->deadline;
}

static gboolean dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	struct slirp_source *s = (struct slirp_source *)src;
	slirp_pollfds_poll(s->slirp, 0, get_revents, s);
	/* Results are consumed: a second dispatch must not see them again. */
	for (guint i = 0; i < s->fds->len; i++)
		g_array_index(s->fds, GPollFD, i).revents = 0;
	return G_SOURCE_CONTINUE;
}

static void finalize(GSource *src)
{
	struct slirp_source *s = (struct slirp_source *)src;
	g_array_free(s->fds, TRUE);
	g_array_free(s->next, TRUE);
}

static GSourceFuncs funcs = { .prepare = prepare, .check = check, .dispatch = dispatch, .finalize = finalize };

struct slirp_source *slirp_source_new(Slirp *slirp, bool (*throttle)(void *opaque), void *opaque)
{
	struct slirp_source *s = (struct slirp_source *)g_source_new(&funcs, sizeof(*s));
	s->slirp = slirp;
	s->fds = g_array_new(FALSE, FALSE, sizeof(GPollFD));
	s->next = g_array_new(FALSE, FALSE, sizeof(GPollFD));
	s->deadline = -1;
	s->throttle = throttle;
	s->opaque = opaque;
	g_source_set_name(&s->base, "slirp");
	/* Not blocked while it dispatches: blocking takes its descriptors out
	 * of GLib's poll set and back, which wakes the loop each time.  slirp
	 * never runs the loop from inside. */
	g_source_set_can_recurse(&s->base, TRUE);
	g_source_attach(&s->base, NULL);
	return s;
}

void slirp_source_free(struct slirp_source *s)
{
	if (!s)
		return;
	g_source_destroy(&s->base);
	g_source_unref(&s->base);
}
