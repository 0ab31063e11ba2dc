/* The snapshots panel of one VM: its disks' internal snapshots with name,
 * time and size; take, revert (asks first) and delete.  The KIND column
 * tells disk-only snapshots from full-state ones (RAM and devices too),
 * which backends may offer later through the same list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/fmt.h"
#include "ui/ui.h"

struct snap {
	struct ui_view v;
	char name[BE_NAME_MAX + 1];
	struct be_snapshot *list;
	size_t n;
	struct ui_list sel;
	char error[512];            /* why the list could not be read */
	int h;
};

static const struct ui_hint hints[] = {
	{ "n", "Take" }, { "Enter", "Revert" }, { "d", "Delete" }, { "r", "Reload" }, { "Esc", "Back" },
	{ NULL, NULL },
};

static void load(struct snap *s, struct ui_app *app)
{
	struct error err;
	free(s->list);
	s->list = NULL;
	s->n = 0;
	s->error[0] = '\0';
	if (app->be->ops->snapshots(app->be, s->name, &s->list, &s->n, &err) != 0)
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
	s->sel.n = (int)s->n;
	ui_list_fix(&s->sel, s->h > 0 ? s->h : 1);
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct snap *s = (struct snap *)v;
	struct ui_rect r = ui_layout_center(app->rows, app->cols, app->rows - 4, app->cols - 6 < 100 ? app->cols - 6 : 100);
	char title[128];
	snprintf(title, sizeof(title), "Snapshots of %s", s->name);
	attr_t body = ui_attr(app, UI_R_DIALOG);
	ui_box(app, r, body, ui_attr(app, UI_R_DIALOG_TITLE), title);
	int x = r.x + 1, w = r.w - 2;
	char line[512];
	snprintf(line, sizeof(line), " %-4s %-24s %-19s %-12s %7s %7s  %s", "ID", "NAME", "TAKEN", "KIND", "STATE",
		 "DISK", "ON");
	ui_text(r.y + 1, x, w, ui_attr(app, UI_R_HEADER), line);
	s->h = r.h - 5;
	ui_list_fix(&s->sel, s->h);
	if (s->error[0]) {
		ui_text(r.y + 2, x + 1, w - 2, ui_attr(app, UI_R_ERROR), s->error);
	} else if (!s->n) {
		ui_text(r.y + 2, x + 1, w - 2, body, "No snapshots yet.  n takes one of the VM's disks.");
	}
	for (int i = 0; i < s->h && s->sel.top + i < (int)s->n; i++) {
		const struct be_snapshot *p = &s->list[s->sel.top + i];
		char when[32] = "-", st[16] = "-", ds[16];
		struct tm tm;
		if (p->date && localtime_r(&p->date, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (p->vm_state_size)
			fmt_size5(p->vm_state_size, st, sizeof(st));
		snprintf(line, sizeof(line), " %-4.4s %-24.24s %-19s %-12s %7s %7s  %s", p->id, p->name, when,
			 p->full_state ? "full state" : "disk only", st, fmt_size5(p->disk_size, ds, sizeof(ds)), p->disk);
		ui_text(r.y + 2 + i, x, w, s->sel.top + i == s->sel.sel ? ui_attr(app, UI_R_SELECTED) : body, line);
	}
	ui_hints(app, (struct ui_rect){ r.y + r.h - 2, x, 1, w }, hints);
}

static void after(struct ui_app *app, const char *what, int r, struct error *err)
{
	ui_refresh_now(app);            /* the panel reloads with the rest */
	ui_report(app, what, r, err);
}

static void take_accept(struct ui_app *app, const char *value, void *ctx)
{
	struct error err;
	after(app, "Take a snapshot", app->be->ops->snapshot_take(app->be, ctx, value, &err), &err);
}

static bool check_snap_name(struct ui_app *app, const char *value, char *why, size_t len, void *ctx)
{
	if (!*value || strlen(value) > 100 || strpbrk(value, "\n\t")) {
		snprintf(why, len, "1 to 100 characters on one line");
		return false;
	}
	return true;
}

/* ctx: "VM\0SNAPSHOT-ID" */
static char *pair(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);
	if (p) {
		memcpy(p, a, la + 1);
		memcpy(p + la + 1, b, lb + 1);
	}
	return p;
}

static void revert_yes(struct ui_app *app, void *ctx)
{
	const char *vm = ctx, *id = vm + strlen(vm) + 1;
	struct error err;
	after(app, "Revert", app->be->ops->snapshot_revert(app->be, vm, id, &err), &err);
}

static void delete_yes(struct ui_app *app, void *ctx)
{
	const char *vm = ctx, *id = vm + strlen(vm) + 1;
	struct error err;
	after(app, "Delete a snapshot", app->be->ops->snapshot_delete(app->be, vm, id, &err), &err);
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct snap *s = (struct snap *)v;
	if (ui_list_key(&s->sel, k, s->h))
		return UI_REDRAW;
	bool enter = (!k.is_code && (k.code == '\r' || k.code == '\n')) || (k.is_code && k.code == KEY_ENTER);
	const struct be_snapshot *p = s->n && s->sel.sel < (int)s->n ? &s->list[s->sel.sel] : NULL;
	char q[512];
	if ((!k.is_code && (k.code == 27 || k.code == 'q')) || (k.is_code && (k.code == KEY_LEFT || k.code == KEY_F(10))))
		return UI_CLOSE;
	if (!k.is_code && k.code == 'n') {
		char def[64];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(def, sizeof(def), "snap-%Y%m%d-%H%M%S", &tm);
		ui_prompt(app, "Take a snapshot", "Name:", def, check_snap_name, take_accept, strdup(s->name));
	} else if (!k.is_code && k.code == 'r') {
		load(s, app);
	} else if (p && (enter || (!k.is_code && k.code == 'R'))) {
		snprintf(q, sizeof(q), "Revert VM '%s' to snapshot '%s'? Everything written to its disks since "
			 "then is lost.", s->name, p->name);
		ui_confirm(app, "Revert", q, revert_yes, pair(s->name, p->id[0] ? p->id : p->name));
	} else if (p && ((!k.is_code && k.code == 'd') || (k.is_code && k.code == KEY_DC))) {
		snprintf(q, sizeof(q), "Delete snapshot '%s' of VM '%s'?", p->name, s->name);
		ui_confirm(app, "Delete a snapshot", q, delete_yes, pair(s->name, p->id[0] ? p->id : p->name));
	} else {
		return UI_IGNORED;
	}
	return UI_REDRAW;
}

static void activate(struct ui_view *v, struct ui_app *app)
{
	load((struct snap *)v, app);
}

static int data(struct ui_view *v, struct ui_app *app)
{
	load((struct snap *)v, app);
	return UI_REDRAW;
}

static void destroy(struct ui_view *v)
{
	struct snap *s = (struct snap *)v;
	free(s->list);
	free(s);
}

static const struct ui_view_ops snap_ops = {
	.name = "snapshots",
	.modal = true,
	.draw = draw,
	.key = key,
	.activate = activate,
	.data = data,
	.destroy = destroy,
};

struct ui_view *ui_snap_new(struct ui_app *app, const char *vm)
{
	struct snap *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->v.ops = &snap_ops;
	snprintf(s->name, sizeof(s->name), "%s", vm);
	return &s->v;
}
