/* The console window of one VM: its display (VNC, drawn with half blocks
 * straight to the terminal) and, on a tab beside it, its serial console.
 * Every key goes to the guest except the escape key Ctrl-] (back), F11
 * (full screen) and F12 (the other tab). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/file.h"
#include "src/unixsock.h"
#include "ui/ui.h"
#include "ui/ui_keys.h"
#include "ui/ui_render.h"
#include "ui/ui_term.h"
#include "ui/ui_textmode.h"
#include "ui/ui_vnc.h"
#include "vmm/vga_font.h"

#define FRAME_MS 33                 /* at most ~30 frames a second */
#define SCROLLBACK 2000

enum tab { TAB_DISPLAY, TAB_SERIAL };

struct console {
	struct ui_view v;
	char name[BE_NAME_MAX + 1];
	struct be_endpoints ep;
	enum tab tab;
	bool full;
	struct ui_console_layout lay;
	/* display */
	struct ui_vnc vnc;
	struct ui_render render;
	char display_msg[512];      /* why there is no picture */
	bool frame_due;             /* new pixels not yet drawn */
	double last_frame;
	struct ui_font_index *font; /* for reading text mode back as characters */
	struct ui_textscreen *text;
	bool text_mode;             /* the last frame was shown as characters */
	char *out;                  /* escape sequences for the terminal */
	size_t out_cap;
	double fps_t0;
	uint64_t fps_frames;
	double fps;
	/* serial */
	int serial_fd;
	struct ui_term term;
	char serial_msg[512];
	int back;                   /* lines scrolled back */
};

/* ---- connections ------------------------------------------------------------------------ */

static void connect_serial(struct console *c)
{
	struct error err;
	char what[128];
	if (c->serial_fd >= 0 || !c->ep.serial[0])
		return;
	snprintf(what, sizeof(what), "the serial console of VM '%s'", c->name);
	c->serial_fd = unixsock_connect(c->ep.serial, what, &err);
	if (c->serial_fd < 0) {
		snprintf(c->serial_msg, sizeof(c->serial_msg), "%s", err.msg);
		return;
	}
	fcntl(c->serial_fd, F_SETFL, fcntl(c->serial_fd, F_GETFL) | O_NONBLOCK);
	c->serial_msg[0] = '\0';
}

static void connect_display(struct console *c)
{
	struct error err;
	if (ui_vnc_connected(&c->vnc))
		return;
	if (!c->ep.vnc[0]) {
		snprintf(c->display_msg, sizeof(c->display_msg),
			 "VM '%s' has no display to show here; F12 shows its serial console.", c->name);
		return;
	}
	if (ui_vnc_open(&c->vnc, c->ep.vnc, &err) < 0) {
		snprintf(c->display_msg, sizeof(c->display_msg), "%s", err.msg);
		return;
	}
	c->display_msg[0] = '\0';
	c->frame_due = true;
	ui_render_invalidate(&c->render);
}

static void disconnect_serial(struct console *c, const char *why)
{
	if (c->serial_fd >= 0)
		close(c->serial_fd);
	c->serial_fd = -1;
	snprintf(c->serial_msg, sizeof(c->serial_msg), "%s", why);
}

/* ---- drawing ----------------------------------------------------------------------------- */

static void draw_tabs(struct console *c, struct ui_app *app)
{
	struct ui_rect r = c->lay.tabs;
	if (!r.h)
		return;
	ui_text(r.y, r.x, r.w, ui_attr(app, UI_R_TAB), "");
	ui_text(r.y, r.x, 10, ui_attr(app, c->tab == TAB_DISPLAY ? UI_R_TAB_ACTIVE : UI_R_TAB), " Display ");
	ui_text(r.y, r.x + 10, 9, ui_attr(app, c->tab == TAB_SERIAL ? UI_R_TAB_ACTIVE : UI_R_TAB), " Serial ");
	char t[128];
	snprintf(t, sizeof(t), " %s ", c->name);
	ui_text_right(r.y, r.x + 20, r.w - 20, ui_attr(app, UI_R_TAB), t);
}

static void draw_status(struct console *c, struct ui_app *app)
{
	struct ui_rect r = c->lay.status;
	if (!r.h)
		return;
	const struct be_vm *vm = ui_find_vm(app, c->name);
	char t[512], info[128] = "";
	if (c->tab == TAB_DISPLAY && ui_vnc_connected(&c->vnc)) {
		struct ui_fb fb;
		ui_vnc_fb(&c->vnc, &fb);
		static const char *const depth[] = { "16-colour", "256-colour", "24-bit" };
		if (c->text_mode)
			snprintf(info, sizeof(info), "text %dx%d", c->text->cols, c->text->rows);
		else
			snprintf(info, sizeof(info), "%dx%d %s %.0f fps", fb.w, fb.h, depth[c->render.colors], c->fps);
	} else if (c->tab == TAB_SERIAL && c->back) {
		snprintf(info, sizeof(info), "scrolled back %d lines", c->back);
	}
	snprintf(t, sizeof(t), " %s %s%s%s  │ Ctrl-] back  F11 full screen  F12 %s", c->name,
		 vm ? vm_state_name(vm->state) : "gone", info[0] ? " · " : "", info,
		 c->tab == TAB_DISPLAY ? "serial" : "display");
	ui_text(r.y, r.x, r.w, ui_state_attr(app, vm ? vm->state : VM_STATE_STOPPED) | A_REVERSE, t);
}

static attr_t term_attr(const struct ui_app *app, const struct ui_tcell *tc)
{
	attr_t a = 0;
	if (tc->attr & UI_TATTR_BOLD)
		a |= A_BOLD;
	if (tc->attr & UI_TATTR_REVERSE)
		a |= A_REVERSE;
	if (tc->attr & UI_TATTR_UNDERLINE)
		a |= A_UNDERLINE;
	/* Guest colours map onto the theme's few roles; text stays readable. */
	if (tc->fg == 1 || tc->fg == 9)
		a |= ui_attr(app, UI_R_CRASHED) & A_COLOR;
	else if (tc->fg == 2 || tc->fg == 10)
		a |= ui_attr(app, UI_R_RUNNING) & A_COLOR;
	else if (tc->fg == 3 || tc->fg == 11)
		a |= ui_attr(app, UI_R_STARTING) & A_COLOR;
	else if (tc->fg == 4 || tc->fg == 12 || tc->fg == 6 || tc->fg == 14)
		a |= ui_attr(app, UI_R_TITLE) & A_COLOR;
	return a;
}

static void draw_serial(struct console *c, struct ui_app *app)
{
	struct ui_rect p = c->lay.pane;
	ui_term_resize(&c->term, p.h, p.w);
	for (int y = 0; y < p.h; y++) {
		const struct ui_tcell *l = ui_term_view_line(&c->term, c->back, y);
		move(p.y + y, p.x);
		for (int x = 0; x < p.w; x++) {
			cchar_t cc;
			wchar_t wc[2] = { (wchar_t)(l[x].ch >= 0x20 ? l[x].ch : ' '), 0 };
			if (!app->utf8 && wc[0] > 0x7e)
				wc[0] = '?';
			setcchar(&cc, wc, term_attr(app, &l[x]), 0, NULL);
			add_wch(&cc);
		}
	}
	if (c->serial_fd < 0 && c->serial_msg[0])
		ui_text(p.y + p.h - 1, p.x, p.w, ui_attr(app, UI_R_ERROR), c->serial_msg);
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct console *c = (struct console *)v;
	ui_layout_console(app->rows, app->cols, c->full, &c->lay);
	if (c->lay.too_small) {
		ui_too_small(app, UI_MIN_ROWS, UI_MIN_COLS);
		return;
	}
	draw_tabs(c, app);
	draw_status(c, app);
	if (c->tab == TAB_SERIAL) {
		draw_serial(c, app);
	} else if (!ui_vnc_connected(&c->vnc)) {
		struct ui_rect p = c->lay.pane;
		ui_text(p.y + p.h / 2, p.x, p.w, ui_attr(app, UI_R_BOLD), c->display_msg);
		ui_text(p.y + p.h / 2 + 1, p.x, p.w, ui_attr(app, UI_R_DIM), "F12: serial console   Ctrl-]: back");
	}
	/* The display pane stays blank for ncurses: post_update paints it. */
}

static bool out_room(struct console *c, size_t need)
{
	if (need <= c->out_cap)
		return true;
	char *grown = realloc(c->out, need);
	if (!grown)
		return false;
	c->out = grown;
	c->out_cap = need;
	return true;
}

static void post_update(struct ui_view *v, struct ui_app *app)
{
	struct console *c = (struct console *)v;
	if (c->tab != TAB_DISPLAY || !ui_vnc_connected(&c->vnc) || c->lay.too_small)
		return;
	struct ui_rect p = c->lay.pane;
	if (p.w != c->render.cols || p.h != c->render.rows) {
		ui_render_resize(&c->render, p.w, p.h);
		c->frame_due = true;
	}
	if (c->frame_due || !c->render.prev_valid) {
		struct ui_fb fb;
		ui_vnc_fb(&c->vnc, &fb);
		/* A text screen is shown as its characters when the pane holds it
		 * whole; anything else as pixels. */
		c->text_mode = c->font && c->text && ui_textmode_read(&fb, c->font, c->text) &&
			       ui_render_text(&c->render, c->text);
		if (!c->text_mode)
			ui_render_frame(&c->render, &fb);
		c->frame_due = false;
	}
	size_t bound = ui_render_emit_bound(&c->render) + 8;
	if (!out_room(c, bound))
		return;
	/* Save and restore the cursor and attributes around our bytes: ncurses
	 * keeps believing the terminal is as it left it. */
	memcpy(c->out, "\0337", 2);
	size_t n = 2 + ui_render_emit(&c->render, p.y, p.x, c->out + 2, bound - 4);
	memcpy(c->out + n, "\0338", 2);
	n += 2;
	if (n > 4)
		file_write_all(1, c->out, n);
	c->last_frame = ui_now();
	c->fps_frames++;
	if (c->last_frame - c->fps_t0 >= 1.0) {
		c->fps = (double)c->fps_frames / (c->last_frame - c->fps_t0);
		c->fps_t0 = c->last_frame;
		c->fps_frames = 0;
	}
}

/* ---- input ------------------------------------------------------------------------------- */

static void send_serial(struct console *c, struct ui_key k)
{
	char buf[16];
	size_t n = ui_keys_to_vt(k.code, k.is_code, false, buf, sizeof(buf));
	if (n && c->serial_fd >= 0 && write(c->serial_fd, buf, n) < 0 && errno != EAGAIN)
		disconnect_serial(c, "the serial console closed (the VM stopped?)");
	c->back = 0;
}

static void send_display(struct console *c, struct ui_key k)
{
	struct ui_keyev ev[16];
	size_t n = ui_keys_to_x(k.code, k.is_code, false, ev, 16);
	for (size_t i = 0; i < n; i++)
		ui_vnc_key(&c->vnc, ev[i].keysym, ev[i].down);
}

static void switch_tab(struct console *c, struct ui_app *app)
{
	c->tab = c->tab == TAB_DISPLAY ? TAB_SERIAL : TAB_DISPLAY;
	if (c->tab == TAB_DISPLAY)
		connect_display(c);
	else
		connect_serial(c);
	ui_render_invalidate(&c->render);
	app->clear = true;              /* leave nothing of the other tab behind */
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct console *c = (struct console *)v;
	if (!k.is_code && k.code == UI_KEY_ESCAPE)
		return UI_CLOSE;
	if (k.is_code && k.code == KEY_F(11)) {
		c->full = !c->full;
		ui_render_invalidate(&c->render);
		app->clear = true;
		return UI_REDRAW;
	}
	if (k.is_code && k.code == KEY_F(12)) {
		switch_tab(c, app);
		return UI_REDRAW;
	}
	if (c->tab == TAB_SERIAL) {
		if (k.is_code && (k.code == KEY_SPREVIOUS || k.code == KEY_SNEXT)) {
			int page = c->lay.pane.h > 2 ? c->lay.pane.h - 1 : 1;
			c->back += k.code == KEY_SPREVIOUS ? page : -page;
			if (c->back > ui_term_scrollback(&c->term))
				c->back = ui_term_scrollback(&c->term);
			if (c->back < 0)
				c->back = 0;
			return UI_REDRAW;
		}
		send_serial(c, k);
	} else {
		send_display(c, k);
	}
	return UI_HANDLED;
}

static int mouse(struct ui_view *v, struct ui_app *app, const MEVENT *ev)
{
	struct console *c = (struct console *)v;
	struct ui_rect p = c->lay.pane;
	if (c->lay.tabs.h && ev->y == c->lay.tabs.y && ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) {
		enum tab want = ev->x < 10 ? TAB_DISPLAY : ev->x < 19 ? TAB_SERIAL : c->tab;
		if (want != c->tab)
			switch_tab(c, app);
		return UI_REDRAW;
	}
	if (c->tab == TAB_SERIAL) {
		if (ev->bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
			c->back += ev->bstate & BUTTON4_PRESSED ? 3 : -3;
			c->back = c->back < 0 ? 0 : c->back > ui_term_scrollback(&c->term) ? ui_term_scrollback(&c->term) : c->back;
			return UI_REDRAW;
		}
		return UI_IGNORED;
	}
	/* A click in the picture is a click in the guest. */
	struct ui_render *r = &c->render;
	if (!ui_vnc_connected(&c->vnc) || r->pw <= 0 || r->ph <= 0)
		return UI_IGNORED;
	int cx = ev->x - p.x - r->ox, cy = ev->y - p.y - r->oy;
	if (cx < 0 || cy < 0 || cx >= r->pw || cy >= r->ph)
		return UI_IGNORED;
	int px = (int)((2L * cx + 1) * r->fb_w / (2L * r->pw)), py = (int)((2L * cy + 1) * r->fb_h / (2L * r->ph));
	int buttons = ev->bstate & BUTTON4_PRESSED ? 8 : ev->bstate & BUTTON5_PRESSED ? 16 : 1;
	if (ev->bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED))
		ui_vnc_pointer(&c->vnc, px, py, buttons);
	if (ev->bstate & (BUTTON1_RELEASED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED))
		ui_vnc_pointer(&c->vnc, px, py, 0);
	return UI_HANDLED;
}

/* ---- I/O and pacing ---------------------------------------------------------------------- */

static int fds(struct ui_view *v, struct pollfd *pfd, int max)
{
	struct console *c = (struct console *)v;
	int n = 0;
	if (n < max && c->serial_fd >= 0)
		pfd[n++] = (struct pollfd){ c->serial_fd, POLLIN, 0 };
	if (n < max && ui_vnc_connected(&c->vnc))
		pfd[n++] = (struct pollfd){ ui_vnc_fd(&c->vnc), POLLIN, 0 };
	return n;
}

static int io(struct ui_view *v, struct ui_app *app, const struct pollfd *pfd, int n)
{
	struct console *c = (struct console *)v;
	int r = UI_IGNORED;
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == c->serial_fd) {
			char buf[8192];
			ssize_t got = read(c->serial_fd, buf, sizeof(buf));
			if (got > 0) {
				ui_term_feed(&c->term, buf, (size_t)got);
				if (c->tab == TAB_SERIAL)
					r |= UI_REDRAW;
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				disconnect_serial(c, "the serial console closed (the VM stopped?)");
				r |= UI_REDRAW;
			}
		} else if (pfd[i].fd == ui_vnc_fd(&c->vnc)) {
			struct error err;
			if (ui_vnc_pump(&c->vnc, &err) < 0) {
				snprintf(c->display_msg, sizeof(c->display_msg), "%s", err.msg);
				app->clear = true;
				r |= UI_REDRAW;
			} else if (ui_vnc_take_dirty(&c->vnc)) {
				c->frame_due = true;
			}
		}
	}
	return r;
}

static int timeout_ms(struct ui_view *v, struct ui_app *app)
{
	struct console *c = (struct console *)v;
	if (!c->frame_due || c->tab != TAB_DISPLAY)
		return -1;
	double wait = c->last_frame + FRAME_MS / 1000.0 - ui_now();
	return wait <= 0 ? 0 : (int)(wait * 1000) + 1;
}

static int tick(struct ui_view *v, struct ui_app *app)
{
	return UI_REDRAW;               /* the frame is drawn by post_update */
}

static int data(struct ui_view *v, struct ui_app *app)
{
	struct console *c = (struct console *)v;
	const struct be_vm *vm = ui_find_vm(app, c->name);
	/* A VM started again: attach again. */
	if (vm && vm->state == VM_STATE_RUNNING) {
		if (c->tab == TAB_SERIAL || c->serial_fd < 0)
			connect_serial(c);
		if (c->tab == TAB_DISPLAY && !ui_vnc_connected(&c->vnc) && c->ep.vnc[0])
			connect_display(c);
	}
	return UI_REDRAW;
}

static void activate(struct ui_view *v, struct ui_app *app)
{
	struct console *c = (struct console *)v;
	ui_render_invalidate(&c->render);
}

static void destroy(struct ui_view *v)
{
	struct console *c = (struct console *)v;
	ui_vnc_close(&c->vnc);
	if (c->serial_fd >= 0)
		close(c->serial_fd);
	ui_term_free(&c->term);
	ui_render_free(&c->render);
	ui_font_index_free(c->font);
	free(c->text);
	free(c->out);
	free(c);
}

static const struct ui_view_ops console_ops = {
	.name = "console",
	.draw = draw,
	.key = key,
	.mouse = mouse,
	.data = data,
	.activate = activate,
	.fds = fds,
	.io = io,
	.timeout_ms = timeout_ms,
	.tick = tick,
	.post_update = post_update,
	.destroy = destroy,
};

struct ui_view *ui_console_new(struct ui_app *app, const char *vm, bool serial_first)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->v.ops = &console_ops;
	c->serial_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", vm);
	ui_render_init(&c->render, app->truecolor ? UI_COLORS_TRUE : app->colors >= 256 ? UI_COLORS_256 : UI_COLORS_16);
	if (ui_term_init(&c->term, app->rows > 3 ? app->rows - 2 : 1, app->cols > 0 ? app->cols : 80, SCROLLBACK) < 0) {
		free(c);
		return NULL;
	}
	struct error err;
	if (app->be->ops->endpoints(app->be, vm, &c->ep, &err) != 0)
		snprintf(c->display_msg, sizeof(c->display_msg), "%s", err.msg);
	c->fps_t0 = ui_now();
	c->font = ui_font_index_new(vga_font_8x16);
	c->text = malloc(sizeof(*c->text));
	/* Without a display the serial console is the console. */
	c->tab = serial_first || !c->ep.vnc[0] ? TAB_SERIAL : TAB_DISPLAY;
	connect_serial(c);
	if (c->tab == TAB_DISPLAY)
		connect_display(c);
	else
		snprintf(c->display_msg, sizeof(c->display_msg),
			 c->ep.vnc[0] ? "F12 connects to the display." : "VM '%s' has no display to show here; "
			 "F12 shows its serial console.", c->name);
	return &c->v;
}
