/* The console's core: a stack of views (screens and the dialogs over
 * them) driven by one poll loop, in the manner of htop's panels: each
 * view is a struct with an ops table (draw, key, mouse, data, I/O), event
 * handlers return what should happen next (redraw, refresh, close), and
 * nothing is drawn unless something changed.
 *
 * All state lives in struct ui_app and the views; the only global state
 * is what ncurses keeps. */
#ifndef VMDECK_UI_H
#define VMDECK_UI_H

#include <curses.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "src/backend.h"
#include "ui/ui_hist.h"
#include "ui/ui_host.h"
#include "ui/ui_layout.h"

/* What an event handler asks for (bits). */
enum {
	UI_IGNORED = 0,
	UI_HANDLED = 1 << 0,
	UI_REDRAW = 1 << 1,       /* draw again */
	UI_REFRESH = 1 << 2,      /* fetch the VM list now */
	UI_CLOSE = 1 << 3,        /* pop this view */
	UI_QUIT = 1 << 4,
};

struct ui_app;
struct ui_view;

/* One entry of a function-key bar: "F2" "Start". */
struct ui_hint {
	const char *key, *label;
};

/* A key as wget_wch gave it. */
struct ui_key {
	int code;
	bool is_code;             /* an ncurses KEY_* code, not a character */
};

struct ui_view_ops {
	const char *name;
	bool modal;               /* a dialog: the views below show through */
	void (*draw)(struct ui_view *v, struct ui_app *app);
	int (*key)(struct ui_view *v, struct ui_app *app, struct ui_key k);
	int (*mouse)(struct ui_view *v, struct ui_app *app, const MEVENT *ev);
	/* A new VM list arrived (app->vms). */
	int (*data)(struct ui_view *v, struct ui_app *app);
	/* Became the top view again (after a dialog closed...). */
	void (*activate)(struct ui_view *v, struct ui_app *app);
	/* Extra descriptors to wait on, and what to do when they are ready. */
	int (*fds)(struct ui_view *v, struct pollfd *pfd, int max);
	int (*io)(struct ui_view *v, struct ui_app *app, const struct pollfd *pfd, int n);
	/* Milliseconds until it wants tick() (-1: never). */
	int (*timeout_ms)(struct ui_view *v, struct ui_app *app);
	int (*tick)(struct ui_view *v, struct ui_app *app);
	/* After ncurses updated the screen: output of its own (the console). */
	void (*post_update)(struct ui_view *v, struct ui_app *app);
	void (*destroy)(struct ui_view *v);
};

struct ui_view {
	const struct ui_view_ops *ops;
};

/* Colour roles; ui_attr() gives each its curses attributes. */
enum ui_role {
	UI_R_NORMAL, UI_R_DIM, UI_R_BOLD, UI_R_TITLE, UI_R_HEADER, UI_R_SELECTED, UI_R_SORTED,
	UI_R_RUNNING, UI_R_STOPPED, UI_R_STARTING, UI_R_PAUSED, UI_R_CRASHED,
	UI_R_METER_LABEL, UI_R_METER_BAR, UI_R_METER_HIGH, UI_R_METER_TEXT,
	UI_R_HINT_KEY, UI_R_HINT_LABEL, UI_R_DIALOG, UI_R_DIALOG_TITLE, UI_R_ERROR, UI_R_ERROR_TITLE,
	UI_R_FIELD, UI_R_FIELD_BAD, UI_R_SPARK, UI_R_GRAPH1, UI_R_GRAPH2, UI_R_TAB, UI_R_TAB_ACTIVE,
	UI_R_NR,
};

#define UI_STACK_MAX 8

struct ui_opts {
	double refresh_s;         /* VM list and statistics (default 1) */
	const char *select;       /* a VM to select first */
	bool no_mouse;
	bool force_16;            /* pretend the terminal has 16 colours */
};

struct ui_app {
	struct backend *be;
	struct ui_opts opts;
	struct ui_view *stack[UI_STACK_MAX];
	int depth;
	struct be_vm *vms;        /* the latest list */
	size_t nvms;
	char list_error[512];     /* why the last list failed ("" if it worked) */
	struct ui_hist hist;
	struct ui_host host;
	double next_refresh;      /* CLOCK_MONOTONIC seconds */
	bool redraw, clear, quit;
	bool utf8, truecolor;
	int colors;               /* 0 (none), 8/16 or 256 */
	attr_t attr[UI_R_NR];
	int rows, cols;
	bool mouse;
	uint64_t refreshes, draws;
	SCREEN *screen;
};

/* The TUI on BE until the user quits; returns the exit status. */
int ui_run(struct backend *be, const struct ui_opts *opts);

/* ---- for views ---------------------------------------------------------------- */

void ui_push(struct ui_app *app, struct ui_view *v);
/* Pops and destroys the top view. */
void ui_pop(struct ui_app *app);
struct ui_view *ui_top(const struct ui_app *app);
/* A VM of the latest list by name (NULL when gone). */
const struct be_vm *ui_find_vm(const struct ui_app *app, const char *name);
/* Fetches the VM list now (after an operation). */
void ui_refresh_now(struct ui_app *app);
double ui_now(void);
/* Shows MSG at once, before an operation that may take a moment. */
void ui_busy(struct ui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
attr_t ui_attr(const struct ui_app *app, enum ui_role r);
attr_t ui_state_attr(const struct ui_app *app, enum vm_state s);

/* ---- drawing helpers (ui_widget.c) ------------------------------------------------ */

/* Text at (Y, X) in ATTR, cut or padded with spaces to W columns
 * (counting UTF-8 characters as one column each). */
void ui_text(int y, int x, int w, attr_t attr, const char *s);
void ui_textf(int y, int x, int w, attr_t attr, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Right-aligned in W columns. */
void ui_text_right(int y, int x, int w, attr_t attr, const char *s);
/* Display columns of a UTF-8 string. */
int ui_width(const char *s);
void ui_fill(struct ui_rect r, attr_t attr);
/* A framed box with a title, its inside filled with ATTR. */
void ui_box(const struct ui_app *app, struct ui_rect r, attr_t attr, attr_t title_attr, const char *title);
/* The function-key bar. */
void ui_hints(const struct ui_app *app, struct ui_rect r, const struct ui_hint *hints);
/* A meter: LABEL[|||||      TEXT] */
void ui_meter(const struct ui_app *app, int y, int x, int w, const char *label, double frac, const char *text);
/* The "terminal too small" message over the whole screen. */
void ui_too_small(const struct ui_app *app, int need_rows, int need_cols);

/* A selection in a list of N rows shown H at a time. */
struct ui_list {
	int sel, top, n;
};
/* Up/Down/PgUp/PgDn/Home/End/j/k; true when it moved. */
bool ui_list_key(struct ui_list *l, struct ui_key k, int h);
/* Keeps SEL inside 0..N-1 and visible in a window of H rows. */
void ui_list_fix(struct ui_list *l, int h);

/* An editable line of text. */
struct ui_field {
	char buf[1024];
	size_t len, cur;          /* bytes */
};
void ui_field_set(struct ui_field *f, const char *s);
/* Editing keys (printable, Backspace, Delete, Left, Right, Home, End,
 * Ctrl-U); true when handled. */
bool ui_field_key(struct ui_field *f, struct ui_key k);
/* Draws it in W columns; with FOCUS the cursor shows. */
void ui_field_draw(const struct ui_app *app, const struct ui_field *f, int y, int x, int w, attr_t attr,
		   bool focus);

/* ---- views ----------------------------------------------------------------------- */

struct ui_view *ui_main_new(struct ui_app *app);
struct ui_view *ui_detail_new(struct ui_app *app, const char *vm);
struct ui_view *ui_console_new(struct ui_app *app, const char *vm, bool serial_first);
struct ui_view *ui_snap_new(struct ui_app *app, const char *vm);
struct ui_view *ui_wizard_new(struct ui_app *app);
struct ui_view *ui_help_new(struct ui_app *app, const char *title, const char *const *text);

/* Dialogs (ui_dialog.c).  Callbacks run with the dialog already closed. */
typedef void (*ui_yes_fn)(struct ui_app *app, void *ctx);
typedef bool (*ui_check_fn)(struct ui_app *app, const char *value, char *why, size_t len, void *ctx);
typedef void (*ui_accept_fn)(struct ui_app *app, const char *value, void *ctx);

/* A message; ERROR makes it red.  Any key closes it. */
void ui_message(struct ui_app *app, bool error, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Yes/no; YES(ctx) on yes.  CTX is freed with free() when the dialog goes. */
void ui_confirm(struct ui_app *app, const char *title, const char *question, ui_yes_fn yes, void *ctx);
/* One line of input checked as typed by CHECK (may be NULL). */
void ui_prompt(struct ui_app *app, const char *title, const char *label, const char *initial, ui_check_fn check,
	       ui_accept_fn accept, void *ctx);

/* Reports a failed backend operation R (BE_*) as an error dialog. */
void ui_report(struct ui_app *app, const char *what, int r, const struct error *err);

#endif
