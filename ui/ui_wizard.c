/* The new-VM wizard: one form, every field checked as it is typed, the
 * VM created only when everything is right. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/size.h"
#include "ui/ui.h"
#include "ui/ui_actions.h"

enum field { F_NAME, F_CPUS, F_MEM, F_DISK, F_KERNEL, F_INITRD, F_CMDLINE, F_NET, F_FORWARDS, F_NR };

static const struct {
	const char *label, *hint;
} fields[F_NR] = {
	[F_NAME] = { "Name", "letters, digits, '.', '-', '_'" },
	[F_CPUS] = { "vCPUs", "1 to 255" },
	[F_MEM] = { "Memory", "a size: 512M, 2G" },
	[F_DISK] = { "Data disk", "a growable qcow2 disk: 8G; empty for none" },
	[F_KERNEL] = { "Kernel", "a bzImage or PVH ELF file" },
	[F_INITRD] = { "Initrd", "optional" },
	[F_CMDLINE] = { "Command line", "the kernel's" },
	[F_NET] = { "Network", "Space toggles: NAT (user) or none" },
	[F_FORWARDS] = { "Port forwards", "tcp::8080-:80, space-separated" },
};

struct wizard {
	struct ui_view v;
	struct ui_field f[F_NR];
	bool net;
	int focus;                  /* F_NR: the Create button */
	char why[F_NR][160];        /* "" when the field is fine */
	bool tried;                 /* show every problem after a failed Create */
};

static bool check_name(struct wizard *w, struct ui_app *app)
{
	return ui_check_new_name(app, w->f[F_NAME].buf, w->why[F_NAME], sizeof(w->why[0]), NULL);
}

static bool check_file(struct wizard *w, enum field f, bool optional)
{
	const char *p = w->f[f].buf;
	if (!*p) {
		if (!optional)
			snprintf(w->why[f], sizeof(w->why[f]), "a kernel is needed to boot");
		return optional;
	}
	if (access(p, R_OK) < 0) {
		snprintf(w->why[f], sizeof(w->why[f]), "cannot read it: %s", strerror(errno));
		return false;
	}
	return true;
}

static bool check_forwards(struct wizard *w)
{
	char copy[sizeof(w->f[F_FORWARDS].buf)];
	snprintf(copy, sizeof(copy), "%s", w->f[F_FORWARDS].buf);
	unsigned n = 0;
	for (char *save, *t = strtok_r(copy, " ,", &save); t; t = strtok_r(NULL, " ,", &save), n++) {
		if (!be_forward_valid(t)) {
			snprintf(w->why[F_FORWARDS], sizeof(w->why[0]), "'%.60s' is not [tcp|udp]:[ADDR]:PORT-[ADDR]:PORT",
				 t);
			return false;
		}
	}
	if (n && !w->net) {
		snprintf(w->why[F_FORWARDS], sizeof(w->why[0]), "forwards need the network (NAT)");
		return false;
	}
	if (n > BE_MAX_FORWARDS) {
		snprintf(w->why[F_FORWARDS], sizeof(w->why[0]), "at most %d forwards", BE_MAX_FORWARDS);
		return false;
	}
	return true;
}

/* Checks every field; true when all are fine. */
static bool validate(struct wizard *w, struct ui_app *app)
{
	memset(w->why, 0, sizeof(w->why));
	bool ok = check_name(w, app);
	char *end;
	unsigned long cpus = strtoul(w->f[F_CPUS].buf, &end, 10);
	if (!w->f[F_CPUS].buf[0] || *end || cpus < 1 || cpus > 255) {
		snprintf(w->why[F_CPUS], sizeof(w->why[0]), "a whole number from 1 to 255");
		ok = false;
	}
	uint64_t mem;
	if (size_parse(w->f[F_MEM].buf, 20, &mem) < 0 || mem < (16ull << 20)) {
		snprintf(w->why[F_MEM], sizeof(w->why[0]), "a size of at least 16M, such as 512M or 2G");
		ok = false;
	}
	uint64_t disk;
	if (w->f[F_DISK].buf[0] && (size_parse(w->f[F_DISK].buf, 20, &disk) < 0 || disk < (1ull << 20))) {
		snprintf(w->why[F_DISK], sizeof(w->why[0]), "a size of at least 1M, such as 8G, or nothing");
		ok = false;
	}
	ok &= check_file(w, F_KERNEL, false);
	ok &= check_file(w, F_INITRD, true);
	ok &= check_forwards(w);
	return ok;
}

static void create(struct wizard *w, struct ui_app *app)
{
	struct be_spec s;
	be_spec_defaults(&s);
	snprintf(s.name, sizeof(s.name), "%.*s", BE_NAME_MAX, w->f[F_NAME].buf);
	s.cpus = (unsigned)strtoul(w->f[F_CPUS].buf, NULL, 10);
	size_parse(w->f[F_MEM].buf, 20, &s.mem);
	if (w->f[F_DISK].buf[0])
		size_parse(w->f[F_DISK].buf, 20, &s.disk_size);
	char *k = realpath(w->f[F_KERNEL].buf, NULL), *i = w->f[F_INITRD].buf[0] ? realpath(w->f[F_INITRD].buf, NULL) : NULL;
	snprintf(s.kernel, sizeof(s.kernel), "%s", k ? k : w->f[F_KERNEL].buf);
	snprintf(s.initrd, sizeof(s.initrd), "%s", i ? i : w->f[F_INITRD].buf);
	free(k);
	free(i);
	snprintf(s.cmdline, sizeof(s.cmdline), "%s", w->f[F_CMDLINE].buf);
	s.net = w->net;
	char copy[sizeof(w->f[F_FORWARDS].buf)];
	snprintf(copy, sizeof(copy), "%s", w->f[F_FORWARDS].buf);
	for (char *save, *t = strtok_r(copy, " ,", &save); t && s.nr_forwards < BE_MAX_FORWARDS;
	     t = strtok_r(NULL, " ,", &save))
		snprintf(s.forwards[s.nr_forwards++], sizeof(s.forwards[0]), "%s", t);
	struct error err;
	int r = app->be->ops->create(app->be, &s, &err);
	char name[BE_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", s.name);
	if (r != 0) {
		ui_report(app, "New VM", r, &err);     /* the form stays for a fix */
		return;
	}
	ui_pop(app);
	ui_refresh_now(app);
	ui_message(app, false, "New VM", "VM '%s' is ready. Select it and press F2 to start it.", name);
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct wizard *w = (struct wizard *)v;
	struct ui_rect r = ui_layout_center(app->rows, app->cols, 2 * F_NR + 6, 78);
	attr_t body = ui_attr(app, UI_R_DIALOG);
	ui_box(app, r, body, ui_attr(app, UI_R_DIALOG_TITLE), "New VM");
	int lx = r.x + 2, fx = r.x + 18, fw = r.w - 20;
	for (int i = 0; i < F_NR; i++) {
		int y = r.y + 1 + 2 * i;
		if (y + 1 >= r.y + r.h - 3)
			break;
		bool bad = w->why[i][0] && (w->tried || w->f[i].len || i == w->focus);
		ui_text(y, lx, 16, i == w->focus ? ui_attr(app, UI_R_DIALOG_TITLE) : body, fields[i].label);
		attr_t fa = ui_attr(app, bad ? UI_R_FIELD_BAD : UI_R_FIELD);
		if (i == F_NET)
			ui_text(y, fx, fw, fa, w->net ? "user (NAT, guest at 10.0.2.15)" : "none");
		else
			ui_field_draw(app, &w->f[i], y, fx, fw, fa, i == w->focus);
		ui_text(y + 1, fx, fw, bad ? ui_attr(app, UI_R_DIALOG_TITLE) : body, bad ? w->why[i] : fields[i].hint);
	}
	int by = r.y + r.h - 3;
	ui_text(by, r.x + r.w / 2 - 5, 10, w->focus == F_NR ? ui_attr(app, UI_R_SELECTED) : body, "[ Create ]");
	ui_text(by + 1, lx, r.w - 4, body, "Tab/Down next  Shift-Tab/Up back  Enter on Create makes it  Esc cancels");
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct wizard *w = (struct wizard *)v;
	bool enter = (!k.is_code && (k.code == '\r' || k.code == '\n')) || (k.is_code && k.code == KEY_ENTER);
	if (!k.is_code && (k.code == 27 || k.code == 0x07))
		return UI_CLOSE;
	if ((!k.is_code && k.code == '\t') || (k.is_code && k.code == KEY_DOWN) || (enter && w->focus < F_NR)) {
		w->focus = (w->focus + 1) % (F_NR + 1);
	} else if (k.is_code && (k.code == KEY_BTAB || k.code == KEY_UP)) {
		w->focus = (w->focus + F_NR) % (F_NR + 1);
	} else if (enter) {
		w->tried = true;
		if (validate(w, app))
			create(w, app);
		return UI_REDRAW;
	} else if (w->focus == F_NET) {
		if (!k.is_code && (k.code == ' ' || k.code == 'u' || k.code == 'n'))
			w->net = k.code == ' ' ? !w->net : k.code == 'u';
	} else if (w->focus < F_NR) {
		ui_field_key(&w->f[w->focus], k);
	}
	validate(w, app);
	return UI_REDRAW;
}

static void destroy(struct ui_view *v)
{
	free(v);
}

static const struct ui_view_ops wizard_ops = {
	.name = "wizard",
	.modal = true,
	.draw = draw,
	.key = key,
	.destroy = destroy,
};

struct ui_view *ui_wizard_new(struct ui_app *app)
{
	struct wizard *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->v.ops = &wizard_ops;
	w->net = true;
	/* A free name to start from. */
	char name[32] = "vm";
	for (int i = 2; ui_find_vm(app, name) && i < 1000; i++)
		snprintf(name, sizeof(name), "vm-%d", i);
	ui_field_set(&w->f[F_NAME], name);
	ui_field_set(&w->f[F_CPUS], "1");
	ui_field_set(&w->f[F_MEM], "512M");
	ui_field_set(&w->f[F_DISK], "8G");
	ui_field_set(&w->f[F_CMDLINE], "console=ttyS0");
	validate(w, app);
	return &w->v;
}
