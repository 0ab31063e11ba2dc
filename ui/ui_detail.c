/* The detail screen of one VM: history graphs of the last minutes (CPU
 * per vCPU, memory and balloon, network, disk), its devices, port
 * forwards (add, remove), the balloon target, the guest's own memory
 * statistics with their age, and the VMM log's tail when it stopped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/fmt.h"
#include "src/size.h"
#include "ui/ui.h"
#include "ui/ui_actions.h"
#include "ui/ui_spark.h"

#define LOG_LINES 12

struct detail {
	struct ui_view v;
	char name[BE_NAME_MAX + 1];
	struct be_device *devs;
	size_t ndevs;
	char (*fwd)[128];
	size_t nfwd;
	struct ui_list fsel;        /* the selected forward */
	char *log;
	struct ui_detail_layout lay;
};

static const struct ui_hint hints[] = {
	{ "F1", "Help" }, { "F2", "Start" }, { "F3", "Stop" }, { "F4", "Console" }, { "a", "AddFwd" },
	{ "x", "DelFwd" }, { "b", "Balloon" }, { "t", "Snaps" }, { "F9", "Kill" }, { "Esc", "Back" },
	{ NULL, NULL },
};

static const char *const help_text[] = {
	"Detail screen: one VM's recent history and its devices.",
	"",
	"  Esc, q, Left, F10      back to the list",
	"  F2 s / F3 S / F9 K     start / stop (power button) / kill",
	"  p                      pause or resume",
	"  F4 c / e               console on the display / on the serial tab",
	"  t                      snapshots of its disks",
	"  Up/Down                select a port forward",
	"  a / x                  add a port forward / remove the selected one",
	"  b                      set the balloon target (the memory the guest keeps)",
	"  + / -                  balloon target up / down by a tenth of the memory",
	"",
	"Graphs show the last minutes, newest on the right, one column per refresh.",
	"Guest memory statistics come from the guest's balloon driver; their age says",
	"how fresh they are.",
	NULL,
};

static void fetch(struct detail *d, struct ui_app *app)
{
	struct error err;
	free(d->devs);
	free(d->fwd);
	free(d->log);
	d->devs = NULL;
	d->fwd = NULL;
	d->ndevs = d->nfwd = 0;
	if (app->be->ops->devices(app->be, d->name, &d->devs, &d->ndevs, &err) != 0)
		d->ndevs = 0;
	if (app->be->ops->forwards(app->be, d->name, &d->fwd, &d->nfwd, &err) != 0)
		d->nfwd = 0;
	d->log = app->be->ops->log_tail(app->be, d->name, LOG_LINES);
	d->fsel.n = (int)d->nfwd;
	ui_list_fix(&d->fsel, (int)d->nfwd);
}

/* ---- graphs ----------------------------------------------------------------------------- */

static int samples_for(int width)
{
	return width < UI_HIST_LEN ? width : UI_HIST_LEN;
}

/* A graph of S (the last W samples) H rows tall at (Y, X), on 0..MAX. */
static void graph(struct ui_app *app, const double *s, double max, int y, int x, int w, int h, attr_t a)
{
	int n = samples_for(w);
	char row[4096];
	for (int r = 0; r < h; r++) {
		ui_graph_row(s + UI_HIST_LEN - n, (size_t)n, max, h, r, app->utf8, row, sizeof(row));
		ui_text(y + r, x + w - n, n, a, row);
	}
}

static double nz(double v)
{
	return isnan(v) ? 0 : v;
}

static double last(const double *s)
{
	return s[UI_HIST_LEN - 1];
}

static int draw_cpu(struct ui_app *app, const struct ui_vmhist *h, struct ui_rect r, int gh)
{
	char t[256], p[16];
	snprintf(t, sizeof(t), "CPU %s%% of a host CPU", h ? fmt_pct5(nz(last(h->series[UI_S_CPU])), p, sizeof(p)) : "-");
	ui_text(r.y, r.x, r.w, ui_attr(app, UI_R_TITLE), t);
	if (!h || !h->nvcpu) {
		ui_text(r.y + 1, r.x, r.w, ui_attr(app, UI_R_DIM), "  no statistics (the VM is not running, or its "
			"VMM has no control socket)");
		return 2;
	}
	/* One line per vCPU while they fit, else the total as a graph. */
	if ((int)h->nvcpu <= gh) {
		int lh = gh / (int)h->nvcpu;
		for (unsigned c = 0; c < h->nvcpu; c++) {
			char label[16];
			snprintf(label, sizeof(label), "vCPU%-2u%5s", c, fmt_pct5(nz(last(h->vcpu[c])), p, sizeof(p)));
			int y = r.y + 1 + (int)c * lh;
			ui_text(y + lh - 1, r.x, 12, ui_attr(app, UI_R_DIM), label);
			graph(app, h->vcpu[c], 100.0, y, r.x + 12, r.w - 12, lh, ui_attr(app, c % 2 ? UI_R_GRAPH2 : UI_R_GRAPH1));
		}
	} else {
		double max = 100.0 * h->nvcpu;
		graph(app, h->series[UI_S_CPU], max, r.y + 1, r.x, r.w, gh, ui_attr(app, UI_R_GRAPH1));
	}
	return gh + 1;
}

static void draw_mem(struct ui_app *app, const struct be_vm *vm, const struct ui_vmhist *h, struct ui_rect r, int gh)
{
	char a[16], b[16], c[16], d[16], t[256];
	const struct be_stats *s = &vm->st;
	snprintf(t, sizeof(t), "Memory %s assigned · balloon %s · guest used %s · VMM RSS %s",
		 fmt_size5(vm->mem, a, sizeof(a)),
		 s->balloon_actual.known ? fmt_size5((uint64_t)s->balloon_actual.v, b, sizeof(b)) : "-",
		 s->guest_used.known ? fmt_size5((uint64_t)s->guest_used.v, c, sizeof(c)) : "-",
		 s->mem_rss.known ? fmt_size5((uint64_t)s->mem_rss.v, d, sizeof(d)) : "-");
	ui_text(r.y, r.x, r.w, ui_attr(app, UI_R_TITLE), t);
	if (!h)
		return;
	/* Guest-used where the guest reports it, else what the VMM holds. */
	bool guest = !isnan(last(h->series[UI_S_MEM_USED]));
	int bh = gh > 2 ? gh - gh / 3 : gh;
	graph(app, h->series[guest ? UI_S_MEM_USED : UI_S_RSS], (double)vm->mem, r.y + 1, r.x + 12, r.w - 12, bh,
	      ui_attr(app, UI_R_GRAPH1));
	ui_text(r.y + bh, r.x, 12, ui_attr(app, UI_R_DIM), guest ? "guest used" : "VMM RSS");
	if (gh > 2) {
		graph(app, h->series[UI_S_BALLOON], (double)vm->mem, r.y + 1 + bh, r.x + 12, r.w - 12, gh - bh,
		      ui_attr(app, UI_R_GRAPH2));
		ui_text(r.y + gh, r.x, 12, ui_attr(app, UI_R_DIM), "balloon");
	}
}

static void draw_pair(struct ui_app *app, const struct ui_vmhist *h, struct ui_rect r, int gh, const char *title,
		      enum ui_series_id s1, const char *l1, enum ui_series_id s2, const char *l2)
{
	char a[16], b[16], t[256];
	snprintf(t, sizeof(t), "%s %s %s · %s %s", title, l1, h ? fmt_rate7(nz(last(h->series[s1])), a, sizeof(a)) : "-",
		 l2, h ? fmt_rate7(nz(last(h->series[s2])), b, sizeof(b)) : "-");
	ui_text(r.y, r.x, r.w, ui_attr(app, UI_R_TITLE), t);
	if (!h)
		return;
	int h1 = gh - gh / 2, h2 = gh / 2;
	int n = samples_for(r.w - 12);
	double m1 = ui_hist_max(h->series[s1], (size_t)n), m2 = ui_hist_max(h->series[s2], (size_t)n);
	graph(app, h->series[s1], m1 > 0 ? m1 : 1, r.y + 1, r.x + 12, r.w - 12, h1, ui_attr(app, UI_R_GRAPH1));
	ui_textf(r.y + h1, r.x, 12, ui_attr(app, UI_R_DIM), "%s ≤%s", l1, fmt_size5((uint64_t)m1, a, sizeof(a)));
	if (h2) {
		graph(app, h->series[s2], m2 > 0 ? m2 : 1, r.y + 1 + h1, r.x + 12, r.w - 12, h2, ui_attr(app, UI_R_GRAPH2));
		ui_textf(r.y + gh, r.x, 12, ui_attr(app, UI_R_DIM), "%s ≤%s", l2, fmt_size5((uint64_t)m2, b, sizeof(b)));
	}
}

/* ---- the side panel ---------------------------------------------------------------------- */

static int section(struct ui_app *app, int y, struct ui_rect r, const char *title)
{
	if (y >= r.y + r.h)
		return y;
	ui_text(y, r.x, r.w, ui_attr(app, UI_R_HEADER), title);
	return y + 1;
}

static int line(struct ui_app *app, int y, struct ui_rect r, attr_t a, const char *text)
{
	if (y < r.y + r.h)
		ui_text(y, r.x, r.w, a, text);
	return y + 1;
}

static void draw_side(struct detail *d, struct ui_app *app, const struct be_vm *vm)
{
	struct ui_rect r = d->lay.side;
	char t[512], a[16], b[16];
	int y = section(app, r.y, r, " Devices");
	for (size_t i = 0; i < d->ndevs; i++) {
		snprintf(t, sizeof(t), " %-8s %s", d->devs[i].kind, d->devs[i].detail);
		y = line(app, y, r, ui_attr(app, UI_R_NORMAL), t);
	}
	y = section(app, y + 1, r, " Port forwards (host 127.0.0.1 → guest)   a add, x remove");
	if (!d->nfwd)
		y = line(app, y, r, ui_attr(app, UI_R_DIM), " none");
	for (size_t i = 0; i < d->nfwd; i++)
		y = line(app, y, r, (int)i == d->fsel.sel ? ui_attr(app, UI_R_SELECTED) : ui_attr(app, UI_R_NORMAL),
			 d->fwd[i]);
	const struct be_stats *s = &vm->st;
	y = section(app, y + 1, r, " Balloon   b set target, +/- step");
	if (s->balloon_target.known) {
		char m[16];
		/* Without the guest's driver a target only waits: say so. */
		snprintf(t, sizeof(t), " target %s, guest has %s of %s%s",
			 fmt_size5((uint64_t)s->balloon_target.v, a, sizeof(a)),
			 s->balloon_actual.known ? fmt_size5((uint64_t)s->balloon_actual.v, b, sizeof(b)) : "-",
			 fmt_size5(vm->mem, m, sizeof(m)), s->balloon_driver ? "" : " (no guest driver yet)");
		y = line(app, y, r, ui_attr(app, UI_R_NORMAL), t);
	} else {
		y = line(app, y, r, ui_attr(app, UI_R_DIM), vm_state_live(vm->state) ? " no balloon reported by the VMM"
										    : " the VM is not running");
	}
	if (s->nr_guest) {
		snprintf(t, sizeof(t), " Guest memory statistics (%.1f s old)",
			 s->guest_age_ms.known ? s->guest_age_ms.v / 1000.0 : 0.0);
		y = section(app, y + 1, r, t);
		for (unsigned i = 0; i < s->nr_guest; i++) {
			bool bytes = strstr(s->guest[i].name, "memory") || strstr(s->guest[i].name, "caches") ||
				     strstr(s->guest[i].name, "swap");
			snprintf(t, sizeof(t), " %-20s %s", s->guest[i].name,
				 bytes ? fmt_size5(s->guest[i].value, a, sizeof(a)) : "");
			if (!bytes)
				snprintf(t + strlen(t), sizeof(t) - strlen(t), "%llu", (unsigned long long)s->guest[i].value);
			y = line(app, y, r, ui_attr(app, UI_R_NORMAL), t);
		}
	}
	if (!vm_state_live(vm->state) && d->log && *d->log) {
		y = section(app, y + 1, r, " VMM log (the end)");
		char *copy = strdup(d->log);
		for (char *save, *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
			y = line(app, y, r, ui_attr(app, vm->state == VM_STATE_CRASHED ? UI_R_CRASHED : UI_R_DIM), l);
		free(copy);
	}
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct detail *d = (struct detail *)v;
	ui_layout_detail(app->rows, app->cols, &d->lay);
	if (d->lay.too_small) {
		ui_too_small(app, UI_MIN_ROWS, UI_MIN_COLS);
		return;
	}
	const struct be_vm *vm = ui_find_vm(app, d->name);
	if (!vm) {
		ui_textf(0, 0, app->cols, ui_attr(app, UI_R_BOLD), "VM '%s' is gone (deleted or renamed). Esc goes back.",
			 d->name);
		return;
	}
	char t[700], up[16];
	ui_text(0, 0, app->cols, ui_attr(app, UI_R_TITLE), "");
	ui_textf(0, 0, ui_width(vm->name) + 1, ui_attr(app, UI_R_TITLE), "%s", vm->name);
	ui_text(0, ui_width(vm->name) + 1, 10, ui_state_attr(app, vm->state), vm_state_name(vm->state));
	if (vm_state_live(vm->state))
		snprintf(t, sizeof(t), "VMM pid %d · up %s · %u vCPU%s%s%s", vm->pid,
			 vm->st.valid ? fmt_duration6(vm->st.uptime_s, up, sizeof(up)) : "-", vm->cpus,
			 vm->cpus == 1 ? "" : "s", vm->reason[0] ? " · " : "", vm->reason);
	else
		snprintf(t, sizeof(t), "%s", vm->reason[0] ? vm->reason : "not running");
	ui_text(0, ui_width(vm->name) + 11, app->cols - ui_width(vm->name) - 11,
		ui_attr(app, vm->state == VM_STATE_CRASHED || (vm_state_live(vm->state) && vm->reason[0]) ? UI_R_CRASHED : UI_R_NORMAL), t);
	const struct ui_vmhist *h = ui_hist_find(&app->hist, d->name);
	if (h && !h->samples)
		h = NULL;               /* running, but no statistics yet */
	struct ui_rect g = d->lay.graphs;
	int gh = d->lay.graph_h, step = gh + 1;
	struct ui_rect part = { g.y, g.x, step, g.w };
	draw_cpu(app, h, part, gh);
	part.y += step;
	draw_mem(app, vm, h, part, gh);
	part.y += step;
	draw_pair(app, h, part, gh, "Network", UI_S_NET_RX, "rx", UI_S_NET_TX, "tx");
	part.y += step;
	draw_pair(app, h, part, gh, "Disk", UI_S_DISK_RD, "read", UI_S_DISK_WR, "write");
	draw_side(d, app, vm);
	ui_hints(app, d->lay.hints, hints);
}

/* ---- actions ------------------------------------------------------------------------------- */

static bool check_forward(struct ui_app *app, const char *value, char *why, size_t len, void *ctx)
{
	if (!be_forward_valid(value)) {
		snprintf(why, len, "write [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. tcp::8080-:80");
		return false;
	}
	return true;
}

static void add_forward(struct ui_app *app, const char *value, void *ctx)
{
	struct error err;
	int r = app->be->ops->forward_add(app->be, ctx, value, &err);
	ui_refresh_now(app);
	ui_report(app, "Port forward", r, &err);
}

static void remove_forward(struct ui_app *app, void *ctx)
{
	/* ctx: "NAME\0RULE" */
	const char *name = ctx, *rule = name + strlen(name) + 1;
	struct error err;
	int r = app->be->ops->forward_remove(app->be, name, rule, &err);
	ui_refresh_now(app);
	ui_report(app, "Port forward", r, &err);
}

static bool check_balloon(struct ui_app *app, const char *value, char *why, size_t len, void *ctx)
{
	uint64_t v;
	const struct be_vm *vm = ui_find_vm(app, ctx);
	if (size_parse(value, 20, &v) < 0 || v == 0) {
		snprintf(why, len, "a size such as 256M or 1G");
		return false;
	}
	if (vm && v > vm->mem) {
		char a[16];
		snprintf(why, len, "at most the VM's memory, %s", fmt_size5(vm->mem, a, sizeof(a)));
		return false;
	}
	return true;
}

static void set_balloon(struct ui_app *app, const char *name, uint64_t target)
{
	struct error err;
	int r = app->be->ops->balloon(app->be, name, target, &err);
	ui_refresh_now(app);
	ui_report(app, "Balloon", r, &err);
}

static void balloon_accept(struct ui_app *app, const char *value, void *ctx)
{
	uint64_t v;
	if (size_parse(value, 20, &v) == 0)
		set_balloon(app, ctx, v);
}

static void balloon_step(struct detail *d, struct ui_app *app, int dir)
{
	const struct be_vm *vm = ui_find_vm(app, d->name);
	if (!vm)
		return;
	double cur = vm->st.balloon_target.known ? vm->st.balloon_target.v : (double)vm->mem;
	double t = cur + dir * (double)vm->mem / 10;
	if (t > (double)vm->mem)
		t = (double)vm->mem;
	if (t < (double)vm->mem / 10)
		t = (double)vm->mem / 10;
	set_balloon(app, d->name, (uint64_t)t & ~0xfffffull);
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct detail *d = (struct detail *)v;
	int c = k.code;
	if (k.is_code) {
		switch (c) {
		case KEY_UP: case KEY_DOWN: ui_list_key(&d->fsel, k, (int)d->nfwd); return UI_REDRAW;
		case KEY_LEFT: case KEY_F(10): return UI_CLOSE;
		case KEY_F(1): c = '?'; break;
		case KEY_F(2): c = 's'; break;
		case KEY_F(3): c = 'S'; break;
		case KEY_F(4): c = 'c'; break;
		case KEY_F(9): c = 'K'; break;
		case KEY_DC: c = 'x'; break;
		default: return UI_IGNORED;
		}
	}
	switch (c) {
	case 27: case 'q': return UI_CLOSE;
	case '?': case 'h': ui_push(app, ui_help_new(app, "Help: detail screen", help_text)); break;
	case 's': ui_act_start(app, d->name); break;
	case 'S': ui_act_stop(app, d->name); break;
	case 'K': ui_act_kill(app, d->name); break;
	case 'p': ui_act_pause_toggle(app, d->name); break;
	case 'c': ui_act_console(app, d->name, false); break;
	case 'e': ui_act_console(app, d->name, true); break;
	case 't': ui_push(app, ui_snap_new(app, d->name)); break;
	case 'a':
		ui_prompt(app, "Add a port forward", "Forward:", "tcp::8080-:80", check_forward, add_forward,
			  strdup(d->name));
		break;
	case 'x':
		if (d->nfwd && d->fsel.sel >= 0 && (size_t)d->fsel.sel < d->nfwd) {
			size_t nl = strlen(d->name), fl = strlen(d->fwd[d->fsel.sel]);
			char *ctx = malloc(nl + fl + 2);
			if (ctx) {
				memcpy(ctx, d->name, nl + 1);
				memcpy(ctx + nl + 1, d->fwd[d->fsel.sel], fl + 1);
			}
			char q[256];
			snprintf(q, sizeof(q), "Remove the forward %s?", d->fwd[d->fsel.sel]);
			ui_confirm(app, "Port forward", q, remove_forward, ctx);
		}
		break;
	case 'b': {
		const struct be_vm *vm = ui_find_vm(app, d->name);
		char cur[32] = "";
		if (vm && vm->st.balloon_target.known)
			snprintf(cur, sizeof(cur), "%lluM", (unsigned long long)vm->st.balloon_target.v >> 20);
		ui_prompt(app, "Balloon target", "Guest keeps:", cur, check_balloon, balloon_accept, strdup(d->name));
		break;
	}
	case '+': balloon_step(d, app, 1); break;
	case '-': balloon_step(d, app, -1); break;
	case 'r': return UI_REFRESH;
	default: return UI_IGNORED;
	}
	return UI_REDRAW;
}

static int data(struct ui_view *v, struct ui_app *app)
{
	fetch((struct detail *)v, app);
	return UI_REDRAW;
}

static void destroy(struct ui_view *v)
{
	struct detail *d = (struct detail *)v;
	free(d->devs);
	free(d->fwd);
	free(d->log);
	free(d);
}

static const struct ui_view_ops detail_ops = {
	.name = "detail",
	.draw = draw,
	.key = key,
	.data = data,
	.destroy = destroy,
};

struct ui_view *ui_detail_new(struct ui_app *app, const char *vm)
{
	struct detail *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->v.ops = &detail_ops;
	snprintf(d->name, sizeof(d->name), "%s", vm);
	fetch(d, app);
	return &d->v;
}
