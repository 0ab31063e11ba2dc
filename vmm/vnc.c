#include <errno.h>
#include <pthread.h>
#include <glib-unix.h>
#include <glib.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/dev_i8042.h"
#include "vmm/keymap.h"
#include "vmm/ps2_scancode.h"
#include "vmm/vga.h"
#include "vmm/virtio_input.h"
#include "vmm/vnc.h"

#define REFRESH_BASE_MS 30      /* while the screen changes */
#define REFRESH_STEP_MS 30      /* added per idle refresh */
#define REFRESH_MAX_MS  500     /* while it is idle */
#define MAX_CLIENTS     8
#define MAX_RECTS       64

/* Everything here runs on the server's own thread and GLib context, so
 * that a slow client (libvncserver writes block) never stalls the VMM's
 * main loop; only vnc_start, vnc_stop and vnc_get_stats are called from
 * outside. */
struct vnc_server {
	struct vnc_config cfg;
	struct vnc_devices dev;
	rfbScreenInfoPtr screen;
	char *passwords[2];
	int listen_fd;
	GMainContext *ctx;
	GMainLoop *loop;
	pthread_t thread;
	bool thread_started;
	GSource *listen_watch, *timer;
	unsigned interval_ms;
	unsigned clients;
	struct keymap_state keys;
	int last_x, last_y, last_buttons;
	uint64_t frames, rects, refreshes, nkeys, npointer;
};

struct vnc_client {
	struct vnc_server *s;
	GSource *watch;
};

static GSource *add_fd(struct vnc_server *s, int fd, GIOCondition cond, GUnixFDSourceFunc fn)
{
	GSource *src = g_unix_fd_source_new(fd, cond);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))fn, s, NULL);
	g_source_attach(src, s->ctx);
	return src;
}

static void drop_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_source_unref(*src);
		*src = NULL;
	}
}

/* libvncserver logs through global function pointers: route them to ours. */
static void rfb_log(const char *fmt, ...)
{
	if (log_get_level() < LOG_DEBUG)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("vnc: %s", buf);
}

/* The surface is 0x00RRGGBB; libvncserver resets the shifts to its own
 * order whenever the framebuffer changes, so they are set after it. */
static void set_format(rfbScreenInfoPtr screen)
{
	screen->serverFormat.redShift = 16;
	screen->serverFormat.greenShift = 8;
	screen->serverFormat.blueShift = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(screen);
	for (rfbClientPtr cl; (cl = rfbClientIteratorNext(it));)
		screen->setTranslateFunction(cl);
	rfbReleaseClientIterator(it);
}

static void schedule(struct vnc_server *s, unsigned ms);

/* A screen dump may have rendered a new mode meanwhile: libvncserver
 * learns the size before it reads the surface again.  Under render_lock. */
static void sync_size(struct vnc_server *s)
{
	struct vga *vga = s->dev.vga;
	if (s->screen->width != (int)vga->surface.width || s->screen->height != (int)vga->surface.height ||
	    s->screen->frameBuffer != (char *)vga->surface.pixels) {
		rfbNewFramebuffer(s->screen, (char *)vga->surface.pixels, (int)vga->surface.width,
				  (int)vga->surface.height, 8, 3, 4);
		set_format(s->screen);
	}
}

/* One frame: render, tell libvncserver what changed, let it send. */
static gboolean on_refresh(gpointer data)
{
	struct vnc_server *s = data;
	struct vga *vga = s->dev.vga;
	drop_source(&s->timer);
	uint64_t start = vga_now_ms();
	pthread_mutex_lock(&vga->render_lock);
	vga_refresh(vga, start);
	s->refreshes++;
	sync_size(s);
	struct display_rect r[MAX_RECTS];
	unsigned n = dirty_take(&vga->dirty, r, MAX_RECTS);
	for (unsigned i = 0; i < n; i++)
		rfbMarkRectAsModified(s->screen, (int)r[i].x, (int)r[i].y, (int)(r[i].x + r[i].w),
				      (int)(r[i].y + r[i].h));
	if (n) {
		s->frames++;
		s->rects += n;
	}
	rfbProcessEvents(s->screen, 0);
	pthread_mutex_unlock(&vga->render_lock);
	unsigned next = n ? REFRESH_BASE_MS : s->interval_ms + REFRESH_STEP_MS;
	if (next > REFRESH_MAX_MS)
		next = REFRESH_MAX_MS;
	/* The period runs from this frame's start: the work does not add to it. */
	uint64_t spent = vga_now_ms() - start;
	if (s->clients)
		schedule(s, spent < next ? next - (unsigned)spent : 1);
	s->interval_ms = next;
	return G_SOURCE_REMOVE;
}

static void schedule(struct vnc_server *s, unsigned ms)
{
	if (!s->clients)
		return;            /* nobody looks: nothing to render */
	if (s->timer && ms >= s->interval_ms)
		return;
	drop_source(&s->timer);
	s->interval_ms = ms;
	s->timer = g_timeout_source_new(ms);
	g_source_set_callback(s->timer, on_refresh, s, NULL);
	g_source_attach(s->timer, s->ctx);
}

/* ---- input ----------------------------------------------------------------- */

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct key_action act[KEYMAP_MAX_ACTIONS];
	unsigned n = keymap_event(&s->keys, keysym, down, act);
	for (unsigned i = 0; i < n; i++) {
		uint8_t sc[PS2_SCANCODE_MAX];
		unsigned len = ps2_scancode(act[i].keycode, act[i].down, sc);
		if (len)
			i8042_kbd_bytes(s->dev.kbd, sc, len);
	}
	s->nkeys++;
	schedule(s, REFRESH_BASE_MS);      /* the guest will echo: look soon */
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_server *s = cl->screen->screenData;
	struct vga *vga = s->dev.vga;
	/* RFB buttons: 1 left, 2 middle, 4 right, 8/16 wheel up/down. */
	int wheel = ((mask & 8) && !(s->last_buttons & 8)) - ((mask & 16) && !(s->last_buttons & 16));
	uint8_t buttons = (uint8_t)(mask & 7);
	if (s->dev.tablet && vinput_active(s->dev.tablet)) {
		vinput_pointer(s->dev.tablet, (unsigned)x, (unsigned)y, vga->surface.width, vga->surface.height,
			       buttons, wheel);
	} else if (i8042_mouse_active(s->dev.kbd)) {
		uint8_t ps2 = (uint8_t)((mask & 1 ? PS2_MOUSE_LEFT : 0) | (mask & 2 ? PS2_MOUSE_MIDDLE : 0) |
					(mask & 4 ? PS2_MOUSE_RIGHT : 0));
		int dx = s->last_x >= 0 ? x - s->last_x : 0, dy = s->last_y >= 0 ? y - s->last_y : 0;
		i8042_mouse_event(s->dev.kbd, dx, dy, wheel, ps2);
	}
	s->last_x = x;
	s->last_y = y;
	s->last_buttons = mask;
	s->npointer++;
	schedule(s, REFRESH_BASE_MS);
}

/* ---- clients ---------------------------------------------------------------- */

static gboolean on_client_data(gint fd, GIOCondition cond, gpointer data)
{
	struct vnc_server *s = data;
	/* Reads every readable client, sends pending updates and reaps the
	 * clients that went away (client_gone removes their watches). */
	pthread_mutex_lock(&s->dev.vga->render_lock);
	sync_size(s);
	rfbProcessEvents(s->screen, 0);
	pthread_mutex_unlock(&s->dev.vga->render_lock);
	return G_SOURCE_CONTINUE;
}

static void client_gone(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	struct vnc_server *s = c->s;
	drop_source(&c->watch);
	g_free(c);
	cl->clientData = NULL;
	if (--s->clients == 0) {
		/* Nobody types any more: let go of every key it held. */
		struct key_action act[KEYMAP_MAX_HELD];
		unsigned n = keymap_release_all(&s->keys, act, KEYMAP_MAX_HELD);
		for (unsigned i = 0; i < n; i++) {
			uint8_t sc[PS2_SCANCODE_MAX];
			unsigned len = ps2_scancode(act[i].keycode, false, sc);
			if (len)
				i8042_kbd_bytes(s->dev.kbd, sc, len);
		}
		drop_source(&s->timer);
	}
	log_debug("vnc: a client left (%u connected)", s->clients);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	struct vnc_server *s = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (s->clients >= MAX_CLIENTS) {
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	rfbClientPtr cl = rfbNewClient(s->screen, cfd);   /* closes CFD on failure */
	if (!cl)
		return G_SOURCE_CONTINUE;
	if (s->clients == 0) {
		/* Changes from before anyone looked: the new client asks for the
		 * whole picture anyway, so it gets the current one, once. */
		struct display_rect r[MAX_RECTS];
		pthread_mutex_lock(&s->dev.vga->render_lock);
		vga_refresh(s->dev.vga, vga_now_ms());
		sync_size(s);
		while (dirty_take(&s->dev.vga->dirty, r, MAX_RECTS))
			;
		pthread_mutex_unlock(&s->dev.vga->render_lock);
	}
	struct vnc_client *c = g_new0(struct vnc_client, 1);
	c->s = s;
	c->watch = add_fd(s, cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_data);
	cl->clientData = c;
	cl->clientGoneHook = client_gone;
	s->clients++;
	log_debug("vnc: a client connected (%u connected)", s->clients);
	schedule(s, REFRESH_BASE_MS);
	return G_SOURCE_CONTINUE;
}

/* ---- server ------------------------------------------------------------------- */

static rfbScreenInfoPtr make_screen(struct vnc_server *s)
{
	struct vga *vga = s->dev.vga;
	unsigned w, h;
	/* No picture yet: the first client's connection renders one. */
	pthread_mutex_lock(&vga->render_lock);
	const uint32_t *pixels = vga_surface_for_viewers(vga, &w, &h);
	pthread_mutex_unlock(&vga->render_lock);
	int argc = 0;
	rfbScreenInfoPtr screen = pixels ? rfbGetScreen(&argc, NULL, (int)w, (int)h, 8, 3, 4) : NULL;
	if (!screen)
		return NULL;
	screen->frameBuffer = (char *)pixels;
	screen->desktopName = s->dev.name;
	/* vmdeck accepts connections itself: libvncserver listens nowhere. */
	screen->autoPort = FALSE;
	screen->port = 0;
	screen->ipv6port = 0;
	screen->httpPort = 0;
	screen->httpDir = NULL;
	screen->alwaysShared = TRUE;
	screen->deferUpdateTime = 0;
	screen->ignoreSIGPIPE = FALSE;         /* the VMM already ignores it */
	screen->deferPtrUpdateTime = 0;      /* every pointer event, at once */
	screen->cursor = NULL;                 /* the guest draws its own pointer */
	screen->screenData = s;
	screen->kbdAddEvent = on_key;
	screen->ptrAddEvent = on_pointer;
	if (s->cfg.password[0]) {
		s->passwords[0] = s->cfg.password;
		screen->authPasswdData = s->passwords;
		screen->passwordCheck = rfbCheckPasswordByList;
	}
	rfbInitServer(screen);
	set_format(screen);
	return screen;
}

static void *vnc_thread(void *arg)
{
	struct vnc_server *s = arg;
	pthread_setname_np(pthread_self(), "vnc");
	g_main_context_push_thread_default(s->ctx);
	g_main_loop_run(s->loop);
	/* Clients go while this context still runs their watches' owner. */
	drop_source(&s->listen_watch);
	drop_source(&s->timer);
	pthread_mutex_lock(&s->dev.vga->render_lock);
	rfbShutdownServer(s->screen, TRUE);
	rfbProcessEvents(s->screen, 0);       /* reaps the closed clients */
	pthread_mutex_unlock(&s->dev.vga->render_lock);
	g_main_context_pop_thread_default(s->ctx);
	return NULL;
}

static gboolean quit_loop(gpointer data)
{
	struct vnc_server *s = data;
	g_main_loop_quit(s->loop);
	return G_SOURCE_REMOVE;
}

struct vnc_server *vnc_start(const struct vnc_config *cfg, const struct vnc_devices *dev, struct error *err)
{
	rfbLog = rfb_log;
	rfbErr = rfb_log;
	/* A client that stops reading holds the VNC thread at most this long. */
	rfbMaxClientWait = 5000;
	struct vnc_server *s = g_new0(struct vnc_server, 1);
	s->cfg = *cfg;
	s->dev = *dev;
	s->last_x = s->last_y = -1;
	s->interval_ms = REFRESH_BASE_MS;
	keymap_state_init(&s->keys, dev->keymap);
	s->listen_fd = vnc_listen(cfg, err);
	if (s->listen_fd < 0) {
		g_free(s);
		return NULL;
	}
	s->screen = make_screen(s);
	if (!s->screen) {
		error_set(err, "cannot start the VNC server: out of memory");
		vnc_stop(s);
		return NULL;
	}
	s->ctx = g_main_context_new();
	s->loop = g_main_loop_new(s->ctx, FALSE);
	s->listen_watch = add_fd(s, s->listen_fd, G_IO_IN, on_accept);
	int r = pthread_create(&s->thread, NULL, vnc_thread, s);
	if (r != 0) {
		error_errno(err, r, "cannot start the VNC thread");
		vnc_stop(s);
		return NULL;
	}
	s->thread_started = true;
	return s;
}

void vnc_stop(struct vnc_server *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		g_main_context_invoke(s->ctx, quit_loop, s);
		pthread_join(s->thread, NULL);
	}
	drop_source(&s->listen_watch);
	if (s->screen) {
		s->screen->frameBuffer = NULL;
		rfbScreenCleanup(s->screen);
	}
	if (s->loop)
		g_main_loop_unref(s->loop);
	if (s->ctx)
		g_main_context_unref(s->ctx);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		vnc_unlink(&s->cfg);
	}
	g_free(s);
}

void vnc_get_stats(const struct vnc_server *s, struct vnc_stats *out)
{
	*out = (struct vnc_stats){ .clients = s->clients, .frames = s->frames, .rects = s->rects,
				   .refreshes = s->refreshes, .keys = s->nkeys, .pointer_events = s->npointer,
				   .interval_ms = s->interval_ms };
}
