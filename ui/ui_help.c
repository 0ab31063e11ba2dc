/* A scrollable text overlay: the help of each screen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui.h"

struct help {
	struct ui_view v;
	char title[96];
	char **lines;
	int n;
	struct ui_list list;
	int h;
};

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct help *h = (struct help *)v;
	int w = app->cols - 4 < 92 ? app->cols - 4 : 92;
	struct ui_rect r = ui_layout_center(app->rows, app->cols, h->n + 4, w);
	h->h = r.h - 3;
	attr_t body = ui_attr(app, UI_R_DIALOG);
	ui_box(app, r, body, ui_attr(app, UI_R_DIALOG_TITLE), h->title);
	for (int i = 0; i < h->h && h->list.top + i < h->n; i++)
		ui_text(r.y + 1 + i, r.x + 2, r.w - 4, body, h->lines[h->list.top + i]);
	ui_text(r.y + r.h - 2, r.x + 2, r.w - 4, ui_attr(app, UI_R_DIALOG_TITLE),
		h->n > h->h ? "Up/Down/PgUp/PgDn scroll, any other key closes" : "Any key closes");
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct help *h = (struct help *)v;
	/* Scrolling moves the top line; the list's "selection" is the bottom. */
	if (k.is_code && (k.code == KEY_UP || k.code == KEY_DOWN || k.code == KEY_PPAGE || k.code == KEY_NPAGE)) {
		int step = k.code == KEY_UP ? -1 : k.code == KEY_DOWN ? 1 : k.code == KEY_PPAGE ? -h->h : h->h;
		h->list.top += step;
		if (h->list.top > h->n - h->h)
			h->list.top = h->n - h->h;
		if (h->list.top < 0)
			h->list.top = 0;
		return UI_REDRAW;
	}
	return UI_CLOSE;
}

static int mouse(struct ui_view *v, struct ui_app *app, const MEVENT *ev)
{
	if (ev->bstate & BUTTON4_PRESSED)
		return key(v, app, (struct ui_key){ KEY_UP, true });
	if (ev->bstate & BUTTON5_PRESSED)
		return key(v, app, (struct ui_key){ KEY_DOWN, true });
	return ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED) ? UI_CLOSE : UI_IGNORED;
}

static void destroy(struct ui_view *v)
{
	struct help *h = (struct help *)v;
	for (int i = 0; i < h->n; i++)
		free(h->lines[i]);
	free(h->lines);
	free(h);
}

static const struct ui_view_ops help_ops = {
	.name = "help",
	.modal = true,
	.draw = draw,
	.key = key,
	.mouse = mouse,
	.destroy = destroy,
};

struct ui_view *ui_help_new(struct ui_app *app, const char *title, const char *const *text)
{
	struct help *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->v.ops = &help_ops;
	snprintf(h->title, sizeof(h->title), "%s", title);
	int n = 0;
	while (text[n])
		n++;
	h->lines = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; h->lines && i < n; i++)
		if ((h->lines[i] = strdup(text[i])))
			h->n = i + 1;
	return &h->v;
}
