/* Dialogs over the screens: messages and error panes, yes/no
 * confirmations, and one-line prompts with inline validation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui.h"

enum kind { MESSAGE, CONFIRM, PROMPT };

struct dialog {
	struct ui_view v;
	enum kind kind;
	bool error;
	char title[128];
	char text[2048];
	char label[128];
	struct ui_field field;
	char why[256];              /* what is wrong with the field's value */
	bool valid;
	ui_yes_fn yes;
	ui_check_fn check;
	ui_accept_fn accept;
	void *ctx;
	bool yes_selected;
};

/* Word-wraps TEXT into lines of at most W columns; returns the count and
 * writes the line starts and lengths. */
static int wrap(const char *text, int w, const char **starts, int *lens, int max)
{
	int n = 0;
	const char *p = text;
	while (*p && n < max) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		if (len > w) {
			int cut = w;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			len = cut > 0 ? cut : w;
		}
		starts[n] = p;
		lens[n++] = len;
		p += len;
		while (*p == ' ')
			p++;
		if (*p == '\n')
			p++;
	}
	return n;
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct dialog *d = (struct dialog *)v;
	int w = app->cols - 8 < 70 ? app->cols - 8 : 70;
	if (w < 20)
		w = app->cols - 2;
	const char *starts[40];
	int lens[40];
	int n = wrap(d->text, w - 4, starts, lens, 40);
	int extra = d->kind == PROMPT ? 4 : 2;      /* field and its verdict, or the buttons */
	struct ui_rect r = ui_layout_center(app->rows, app->cols, n + extra + 3, w);
	attr_t body = ui_attr(app, d->error ? UI_R_ERROR : UI_R_DIALOG);
	attr_t title = ui_attr(app, d->error ? UI_R_ERROR_TITLE : UI_R_DIALOG_TITLE);
	ui_box(app, r, body, title, d->title);
	int y = r.y + 1;
	for (int i = 0; i < n && y < r.y + r.h - 1 - extra; i++, y++) {
		char line[512];
		snprintf(line, sizeof(line), "%.*s", lens[i], starts[i]);
		ui_text(y, r.x + 2, r.w - 4, body, line);
	}
	y++;
	if (d->kind == PROMPT) {
		int lw = ui_width(d->label) + 1;
		ui_text(y, r.x + 2, lw, body, d->label);
		ui_field_draw(app, &d->field, y, r.x + 2 + lw, r.w - 4 - lw,
			      ui_attr(app, d->valid ? UI_R_FIELD : UI_R_FIELD_BAD), true);
		ui_text(y + 1, r.x + 2, r.w - 4, body, d->valid ? "Enter accepts, Esc cancels" : d->why);
	} else if (d->kind == CONFIRM) {
		const char *yes = "[ Yes ]", *no = "[ No ]";
		int x = r.x + r.w / 2 - 9;
		ui_text(y, x, 7, d->yes_selected ? ui_attr(app, UI_R_SELECTED) : body, yes);
		ui_text(y, x + 10, 6, d->yes_selected ? body : ui_attr(app, UI_R_SELECTED), no);
		ui_text(y + 1, r.x + 2, r.w - 4, body, "y: yes   n or Esc: no   Tab: switch");
	} else {
		ui_text(y, r.x + 2, r.w - 4, body, "Press any key");
	}
}

static void check(struct dialog *d, struct ui_app *app)
{
	d->why[0] = '\0';
	d->valid = !d->check || d->check(app, d->field.buf, d->why, sizeof(d->why), d->ctx);
}

/* Takes the callback out, closes the dialog, then calls it: the
 * callback may open another dialog. */
static int finish(struct dialog *d, struct ui_app *app, bool accepted)
{
	ui_yes_fn yes = d->yes;
	ui_accept_fn accept = d->accept;
	void *ctx = d->ctx;
	char value[sizeof(d->field.buf)];
	snprintf(value, sizeof(value), "%s", d->field.buf);
	d->ctx = NULL;
	ui_pop(app);
	if (accepted && yes)
		yes(app, ctx);
	if (accepted && accept)
		accept(app, value, ctx);
	free(ctx);
	return UI_REDRAW;
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct dialog *d = (struct dialog *)v;
	bool esc = !k.is_code && (k.code == 27 || k.code == 0x07);
	bool enter = (!k.is_code && (k.code == '\r' || k.code == '\n')) || (k.is_code && k.code == KEY_ENTER);
	switch (d->kind) {
	case MESSAGE:
		return finish(d, app, false);
	case CONFIRM:
		if (!k.is_code && (k.code == 'y' || k.code == 'Y'))
			return finish(d, app, true);
		if (esc || (!k.is_code && (k.code == 'n' || k.code == 'N' || k.code == 'q')))
			return finish(d, app, false);
		if (enter)
			return finish(d, app, d->yes_selected);
		if ((!k.is_code && k.code == '\t') || (k.is_code && (k.code == KEY_LEFT || k.code == KEY_RIGHT)))
			d->yes_selected = !d->yes_selected;
		return UI_REDRAW;
	case PROMPT:
		if (esc)
			return finish(d, app, false);
		if (enter) {
			check(d, app);
			return d->valid ? finish(d, app, true) : UI_REDRAW;
		}
		if (ui_field_key(&d->field, k))
			check(d, app);
		return UI_REDRAW;
	}
	return UI_IGNORED;
}

static int mouse(struct ui_view *v, struct ui_app *app, const MEVENT *ev)
{
	struct dialog *d = (struct dialog *)v;
	if (d->kind == MESSAGE && ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))
		return finish(d, app, false);
	return UI_IGNORED;
}

static void destroy(struct ui_view *v)
{
	struct dialog *d = (struct dialog *)v;
	free(d->ctx);
	free(d);
}

static const struct ui_view_ops dialog_ops = {
	.name = "dialog",
	.modal = true,
	.draw = draw,
	.key = key,
	.mouse = mouse,
	.destroy = destroy,
};

static struct dialog *new_dialog(enum kind kind, const char *title)
{
	struct dialog *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->v.ops = &dialog_ops;
	d->kind = kind;
	d->valid = true;
	snprintf(d->title, sizeof(d->title), "%s", title);
	return d;
}

void ui_message(struct ui_app *app, bool error, const char *title, const char *fmt, ...)
{
	struct dialog *d = new_dialog(MESSAGE, title);
	if (!d)
		return;
	d->error = error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	ui_push(app, &d->v);
}

void ui_confirm(struct ui_app *app, const char *title, const char *question, ui_yes_fn yes, void *ctx)
{
	struct dialog *d = new_dialog(CONFIRM, title);
	if (!d) {
		free(ctx);
		return;
	}
	snprintf(d->text, sizeof(d->text), "%s", question);
	d->yes = yes;
	d->ctx = ctx;
	ui_push(app, &d->v);
}

void ui_prompt(struct ui_app *app, const char *title, const char *label, const char *initial, ui_check_fn chk,
	       ui_accept_fn accept, void *ctx)
{
	struct dialog *d = new_dialog(PROMPT, title);
	if (!d) {
		free(ctx);
		return;
	}
	snprintf(d->text, sizeof(d->text), "%s", "");
	snprintf(d->label, sizeof(d->label), "%s", label);
	ui_field_set(&d->field, initial);
	d->check = chk;
	d->accept = accept;
	d->ctx = ctx;
	check(d, app);
	ui_push(app, &d->v);
}

void ui_report(struct ui_app *app, const char *what, int r, const struct error *err)
{
	if (r == 0)
		return;
	ui_message(app, true, what, "%s", err->msg);
}
