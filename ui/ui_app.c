/* The TUI's loop: one poll over the terminal, the top view's descriptors
 * and the refresh timer; draws only after something changed. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <time.h>
#include <unistd.h>

#include "ui/ui.h"
#include "ui/ui_theme.h"

/* Synchronized output (DEC mode 2026): the terminal shows a frame whole.
 * Terminals without it ignore the unknown private mode. */
#define SYNC_BEGIN "\033[?2026h"
#define SYNC_END "\033[?2026l"

double ui_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

attr_t ui_attr(const struct ui_app *app, enum ui_role r)
{
	return r < UI_R_NR ? app->attr[r] : 0;
}

attr_t ui_state_attr(const struct ui_app *app, enum vm_state s)
{
	switch (s) {
	case VM_STATE_RUNNING: return ui_attr(app, UI_R_RUNNING);
	case VM_STATE_STARTING: return ui_attr(app, UI_R_STARTING);
	case VM_STATE_PAUSED: return ui_attr(app, UI_R_PAUSED);
	case VM_STATE_CRASHED: return ui_attr(app, UI_R_CRASHED);
	default: return ui_attr(app, UI_R_STOPPED);
	}
}

/* ---- the view stack ---------------------------------------------------------------- */

struct ui_view *ui_top(const struct ui_app *app)
{
	return app->depth ? app->stack[app->depth - 1] : NULL;
}

void ui_push(struct ui_app *app, struct ui_view *v)
{
	if (!v)
		return;
	if (app->depth == UI_STACK_MAX) {
		v->ops->destroy(v);       /* deeper than any path through the screens */
		return;
	}
	app->stack[app->depth++] = v;
	if (v->ops->activate)
		v->ops->activate(v, app);
	app->redraw = true;
}

void ui_pop(struct ui_app *app)
{
	if (!app->depth)
		return;
	struct ui_view *v = app->stack[--app->depth];
	v->ops->destroy(v);
	struct ui_view *top = ui_top(app);
	if (top && top->ops->activate)
		top->ops->activate(top, app);
	app->redraw = true;
}

const struct be_vm *ui_find_vm(const struct ui_app *app, const char *name)
{
	for (size_t i = 0; i < app->nvms; i++)
		if (!strcmp(app->vms[i].name, name))
			return &app->vms[i];
	return NULL;
}

/* ---- data --------------------------------------------------------------------------- */

static void fetch(struct ui_app *app)
{
	struct be_vm *vms = NULL;
	size_t n = 0;
	struct error err;
	ui_host_sample(&app->host);
	if (app->be->ops->list(app->be, &vms, &n, &err) != 0) {
		/* Keep showing the last list; say why it is old. */
		snprintf(app->list_error, sizeof(app->list_error), "%s", err.msg);
	} else {
		app->list_error[0] = '\0';
		free(app->vms);
		app->vms = vms;
		app->nvms = n;
		ui_hist_update(&app->hist, vms, n);
	}
	app->refreshes++;
	app->next_refresh = ui_now() + app->opts.refresh_s;
	for (int i = 0; i < app->depth; i++)
		if (app->stack[i]->ops->data)
			app->stack[i]->ops->data(app->stack[i], app);
	app->redraw = true;
}

void ui_refresh_now(struct ui_app *app)
{
	fetch(app);
}

/* ---- results ------------------------------------------------------------------------ */

static void apply(struct ui_app *app, struct ui_view *v, int r)
{
	if (r & UI_QUIT)
		app->quit = true;
	if (r & UI_CLOSE && ui_top(app) == v)
		ui_pop(app);
	if (r & UI_REFRESH)
		fetch(app);
	if (r & (UI_REDRAW | UI_HANDLED | UI_CLOSE))
		app->redraw = true;
}

/* ---- drawing -------------------------------------------------------------------------- */

static void draw(struct ui_app *app)
{
	getmaxyx(stdscr, app->rows, app->cols);
	if (app->clear) {
		clearok(curscr, TRUE);
		app->clear = false;
	}
	erase();
	/* From the last full-screen view up through the dialogs over it. */
	int from = app->depth - 1;
	while (from > 0 && app->stack[from]->ops->modal)
		from--;
	for (int i = from < 0 ? 0 : from; i < app->depth; i++)
		app->stack[i]->ops->draw(app->stack[i], app);
	struct ui_view *top = ui_top(app);
	bool direct = top && top->ops->post_update;
	if (direct)
		(void)!write(1, SYNC_BEGIN, sizeof(SYNC_BEGIN) - 1);
	wnoutrefresh(stdscr);
	doupdate();
	if (direct) {
		top->ops->post_update(top, app);
		(void)!write(1, SYNC_END, sizeof(SYNC_END) - 1);
	}
	app->redraw = false;
	app->draws++;
}

void ui_busy(struct ui_app *app, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Over whatever is on the screen, shown before the slow call starts. */
	int w = ui_width(msg) + 4;
	struct ui_rect r = ui_layout_center(app->rows, app->cols, 3, w);
	ui_box(app, r, ui_attr(app, UI_R_DIALOG), ui_attr(app, UI_R_DIALOG_TITLE), "");
	ui_text(r.y + 1, r.x + 2, r.w - 4, ui_attr(app, UI_R_DIALOG), msg);
	wnoutrefresh(stdscr);
	doupdate();
	app->redraw = true;
}

/* ---- input ----------------------------------------------------------------------------- */

static void on_key(struct ui_app *app, struct ui_key k)
{
	struct ui_view *top = ui_top(app);
	if (k.is_code && k.code == KEY_RESIZE) {
		app->clear = true;
		app->redraw = true;
		for (int i = 0; i < app->depth; i++)
			if (app->stack[i]->ops->activate && i == app->depth - 1)
				app->stack[i]->ops->activate(app->stack[i], app);
		return;
	}
	if (k.is_code && k.code == KEY_MOUSE) {
		MEVENT ev;
		if (getmouse(&ev) == OK && top && top->ops->mouse)
			apply(app, top, top->ops->mouse(top, app, &ev));
		return;
	}
	if (!top)
		return;
	/* Ctrl-L repaints everything, in every view but the consoles'. */
	if (!k.is_code && k.code == 0x0c && strcmp(top->ops->name, "console")) {
		app->clear = true;
		app->redraw = true;
		if (top->ops->activate)
			top->ops->activate(top, app);
		return;
	}
	apply(app, top, top->ops->key(top, app, k));
}

static void read_keys(struct ui_app *app)
{
	wint_t ch;
	int r;
	while ((r = get_wch(&ch)) != ERR) {
		on_key(app, (struct ui_key){ (int)ch, r == KEY_CODE_YES });
		if (app->quit)
			return;
	}
}

/* ---- setup ------------------------------------------------------------------------------- */

static bool terminal_truecolor(void)
{
	const char *ct = getenv("COLORTERM");
	if (ct && (!strcmp(ct, "truecolor") || !strcmp(ct, "24bit")))
		return true;
	int rgb = tigetflag("RGB");
	if (rgb > 0)
		return true;
	int colors = tigetnum("colors");
	return colors >= (1 << 24);
}

static bool start_curses(struct ui_app *app)
{
	setlocale(LC_ALL, "");
	app->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	/* Esc must answer at once; key sequences arrive far faster than this. */
	if (!getenv("ESCDELAY"))
		set_escdelay(25);
	/* newterm, unlike initscr, reports an unknown terminal instead of exiting. */
	app->screen = newterm(NULL, stdout, stdin);
	if (!app->screen)
		return false;
	set_term(app->screen);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui_theme_init(app, app->opts.force_16);
	app->truecolor = terminal_truecolor() && !app->opts.force_16;
	if (!app->opts.no_mouse) {
		mouseinterval(250);
		app->mouse = mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED |
					       BUTTON4_PRESSED | BUTTON5_PRESSED, NULL) != 0;
	}
	getmaxyx(stdscr, app->rows, app->cols);
	return true;
}

int ui_run(struct backend *be, const struct ui_opts *opts)
{
	struct ui_app *app = calloc(1, sizeof(*app));
	if (!app)
		return 1;
	app->be = be;
	app->opts = *opts;
	if (!(app->opts.refresh_s > 0))
		app->opts.refresh_s = 1.0;
	ui_hist_init(&app->hist);
	ui_host_init(&app->host, NULL);
	/* A VMM or console socket closing under us is an event, never a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (!start_curses(app)) {
		fprintf(stderr, "vmdeck: the terminal '%s' is unknown to curses\n", getenv("TERM"));
		free(app);
		return 2;
	}
	ui_host_sample(&app->host);
	fetch(app);
	ui_push(app, ui_main_new(app));
	while (!app->quit && app->depth) {
		if (app->redraw)
			draw(app);
		struct pollfd pfd[16] = { { 0, POLLIN, 0 } };
		struct ui_view *top = ui_top(app);
		int n = 1 + (top->ops->fds ? top->ops->fds(top, pfd + 1, 15) : 0);
		double wait = app->next_refresh - ui_now();
		int timeout = wait <= 0 ? 0 : (int)ceil(wait * 1000);
		int vt = top->ops->timeout_ms ? top->ops->timeout_ms(top, app) : -1;
		if (vt >= 0 && vt < timeout)
			timeout = vt;
		int ready = poll(pfd, (nfds_t)n, timeout);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready < 0 || pfd[0].revents)
			read_keys(app);                 /* EINTR: maybe SIGWINCH, a KEY_RESIZE waits */
		top = ui_top(app);
		if (!app->quit && top && ready > 0 && n > 1 && top->ops->io)
			apply(app, top, top->ops->io(top, app, pfd + 1, n - 1));
		top = ui_top(app);
		if (!app->quit && top && top->ops->tick && top->ops->timeout_ms && top->ops->timeout_ms(top, app) == 0)
			apply(app, top, top->ops->tick(top, app));
		if (!app->quit && ui_now() >= app->next_refresh)
			fetch(app);
	}
	while (app->depth)
		ui_pop(app);
	endwin();
	delscreen(app->screen);
	ui_hist_free(&app->hist);
	free(app->vms);
	free(app);
	return 0;
}
