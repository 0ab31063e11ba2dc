/* The main screen: host meters, one row per VM with its live statistics,
 * sorting, filtering and the actions on the selected VM. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/fmt.h"
#include "ui/ui.h"
#include "ui/ui_actions.h"
#include "ui/ui_spark.h"

struct main_view {
	struct ui_view v;
	struct ui_list list;
	enum ui_col sort;
	bool desc;
	bool filtering;             /* typing the filter */
	struct ui_field filter;
	char sel[BE_NAME_MAX + 1];  /* the selection survives refreshes by name */
	size_t *order;              /* indexes into app->vms, filtered and sorted */
	size_t norder;
	struct ui_main_layout lay;
};

static const struct ui_hint hints[] = {
	{ "F1", "Help" }, { "F2", "Start" }, { "F3", "Stop" }, { "F4", "Console" }, { "F5", "Detail" },
	{ "F6", "SortBy" }, { "F7", "New" }, { "F8", "Delete" }, { "F9", "Kill" }, { "F10", "Quit" },
	{ NULL, NULL },
};

static const char *const help_text[] = {
	"Main screen: every VM, its state and live statistics (refreshed every second).",
	"",
	"  Up/Down j/k PgUp/PgDn Home/End   select a VM (or click it; wheel scrolls)",
	"  Enter, F5                        detail screen: graphs, devices, forwards, balloon",
	"  F2, s                            start the VM (in its own VMM, it outlives vmdeck)",
	"  F3, S                            stop: press its ACPI power button",
	"  F9, K                            kill its VMM at once (asks first)",
	"  p                                pause or resume",
	"  F4, c                            console: the display (VNC) and the serial tab",
	"  e                                console opened on the serial tab",
	"  t                                snapshots of its disks",
	"  F7, n                            new VM (a wizard)",
	"  F8, d, Delete                    delete the VM (asks first)",
	"  C, R                             clone, rename (asks for the name)",
	"  /                                filter by name or state; Esc clears it",
	"  F6, >, <                         sort by the next or previous column; I reverses",
	"  (click a column title)           sort by it; again to reverse",
	"  r                                refresh now     Ctrl-L  repaint",
	"  F10, q                           quit (the VMs keep running)",
	"",
	"Columns:",
	NULL,
};

/* ---- ordering ------------------------------------------------------------------------- */

static double metric(const struct be_vm *v, enum ui_col c)
{
	const struct be_stats *s = &v->st;
	struct be_val x = { false, 0 };
	switch (c) {
	case UI_COL_VCPUS: return v->cpus;
	case UI_COL_MEM: return (double)v->mem;
	case UI_COL_CPU: case UI_COL_SPARK: x = s->cpu_pct; break;
	case UI_COL_BALLOON: x = s->balloon_actual; break;
	case UI_COL_USED: x = s->guest_used; break;
	case UI_COL_RX: x = s->net_rx_bps; break;
	case UI_COL_TX: x = s->net_tx_bps; break;
	case UI_COL_RD: x = s->disk_rd_bps; break;
	case UI_COL_WR: x = s->disk_wr_bps; break;
	case UI_COL_UPTIME: return s->valid ? s->uptime_s : -1;
	default: return 0;
	}
	return s->valid && x.known ? x.v : -1;
}

struct sort_ctx {
	const struct be_vm *vms;
	enum ui_col col;
	bool desc;
};

static int compare(const void *a, const void *b, void *p)
{
	const struct sort_ctx *c = p;
	const struct be_vm *x = &c->vms[*(const size_t *)a], *y = &c->vms[*(const size_t *)b];
	int r = 0;
	if (c->col == UI_COL_NAME)
		r = strcmp(x->name, y->name);
	else if (c->col == UI_COL_STATE)
		r = strcmp(vm_state_name(x->state), vm_state_name(y->state));
	else {
		double mx = metric(x, c->col), my = metric(y, c->col);
		r = mx < my ? -1 : mx > my;
	}
	if (c->desc)
		r = -r;
	return r ? r : strcmp(x->name, y->name);
}

static bool matches(const struct be_vm *v, const char *filter)
{
	return !*filter || strcasestr(v->name, filter) || strcasestr(vm_state_name(v->state), filter);
}

static void rebuild(struct main_view *m, struct ui_app *app)
{
	free(m->order);
	m->order = calloc(app->nvms ? app->nvms : 1, sizeof(*m->order));
	m->norder = 0;
	for (size_t i = 0; m->order && i < app->nvms; i++)
		if (matches(&app->vms[i], m->filter.buf))
			m->order[m->norder++] = i;
	struct sort_ctx c = { app->vms, m->sort, m->desc };
	if (m->norder)
		qsort_r(m->order, m->norder, sizeof(*m->order), compare, &c);
	m->list.n = (int)m->norder;
	/* Keep the same VM selected when rows move. */
	for (size_t i = 0; i < m->norder; i++)
		if (!strcmp(app->vms[m->order[i]].name, m->sel))
			m->list.sel = (int)i;
	ui_list_fix(&m->list, m->lay.table.h - 1);
	if (m->norder)
		snprintf(m->sel, sizeof(m->sel), "%s", app->vms[m->order[m->list.sel]].name);
}

static const struct be_vm *selected(const struct main_view *m, const struct ui_app *app)
{
	if (!m->norder || m->list.sel < 0 || (size_t)m->list.sel >= m->norder)
		return NULL;
	return &app->vms[m->order[m->list.sel]];
}

/* ---- drawing ------------------------------------------------------------------------- */

static void draw_header(struct main_view *m, struct ui_app *app)
{
	struct ui_rect r = m->lay.header;
	char t[64], a[16], b[16];
	int third = r.w / 3;
	const struct ui_host *h = &app->host;
	snprintf(t, sizeof(t), "%.1f%% of %u", isnan(h->cpu_pct) ? 0.0 : h->cpu_pct, h->ncpu);
	ui_meter(app, r.y, r.x, third - 1, "CPU", isnan(h->cpu_pct) ? 0 : h->cpu_pct / 100, t);
	uint64_t used = h->mem_total > h->mem_avail ? h->mem_total - h->mem_avail : 0;
	snprintf(t, sizeof(t), "%s/%s", fmt_size5(used, a, sizeof(a)), fmt_size5(h->mem_total, b, sizeof(b)));
	ui_meter(app, r.y, r.x + third, third - 1, "Mem",
		 h->mem_total ? (double)used / (double)h->mem_total : 0, t);
	unsigned running = 0, crashed = 0;
	for (size_t i = 0; i < app->nvms; i++) {
		running += vm_state_live(app->vms[i].state);
		crashed += app->vms[i].state == VM_STATE_CRASHED;
	}
	snprintf(t, sizeof(t), "%u running / %zu", running, app->nvms);
	ui_meter(app, r.y, r.x + 2 * third, r.w - 2 * third, "VMs", app->nvms ? (double)running / app->nvms : 0, t);
	char line[256];
	snprintf(line, sizeof(line), "vmdeck %s · %s VMs · sorted by %s %s%s%s%s", VMDECK_VERSION,
		 app->be->ops->kind, ui_cols[m->sort].title, m->desc ? "▼" : "▲",
		 crashed ? " · " : "", crashed ? "crashed: " : "", "");
	ui_text(r.y + 1, r.x, r.w, ui_attr(app, UI_R_DIM), line);
	if (crashed) {
		/* The crash count stands out. */
		char c[32];
		snprintf(c, sizeof(c), "%u crashed", crashed);
		int x = ui_width(line) - ui_width("crashed: ");
		if (x < r.w - 12)
			ui_text(r.y + 1, r.x + x, ui_width(c), ui_attr(app, UI_R_CRASHED), c);
	}
}

static void draw_titles(struct main_view *m, struct ui_app *app, int y)
{
	ui_text(y, 0, app->cols, ui_attr(app, UI_R_HEADER), "");
	for (int c = 0; c < UI_COL_NR; c++) {
		int w = m->lay.col_w[c];
		if (!w)
			continue;
		char t[48];
		snprintf(t, sizeof(t), "%s%s", ui_cols[c].title, (int)m->sort == c ? (m->desc ? "▼" : "▲") : "");
		attr_t a = ui_attr(app, (int)m->sort == c ? UI_R_SORTED : UI_R_HEADER);
		if (ui_cols[c].right)
			ui_text_right(y, m->lay.col_x[c], w, a, t);
		else
			ui_text(y, m->lay.col_x[c], w, a, t);
	}
}

static void cell(struct main_view *m, int y, enum ui_col c, attr_t a, const char *s)
{
	int w = m->lay.col_w[c];
	if (!w)
		return;
	if (ui_cols[c].right)
		ui_text_right(y, m->lay.col_x[c], w, a, s);
	else
		ui_text(y, m->lay.col_x[c], w, a, s);
}

static const char *val_size(struct be_val v, bool live, char *buf, size_t len)
{
	if (!live || !v.known)
		return "-";
	return fmt_size5(v.v > 0 ? (uint64_t)v.v : 0, buf, len);
}

static const char *val_rate(struct be_val v, bool live, char *buf, size_t len)
{
	if (!live || !v.known)
		return "-";
	return fmt_rate7(v.v, buf, len);
}

static void draw_row(struct main_view *m, struct ui_app *app, int y, const struct be_vm *v, bool sel)
{
	attr_t base = sel ? ui_attr(app, UI_R_SELECTED) : ui_attr(app, UI_R_NORMAL);
	ui_text(y, 0, app->cols, base, "");
	bool live = v->st.valid && vm_state_live(v->state);
	char b[64];
	/* A name cut short says so. */
	char name[BE_NAME_MAX + 8];
	int nw = m->lay.col_w[UI_COL_NAME];
	if (ui_width(v->name) > nw && nw > 1)
		snprintf(name, sizeof(name), "%.*s…", nw - 1, v->name);
	else
		snprintf(name, sizeof(name), "%s", v->name);
	cell(m, y, UI_COL_NAME, base | A_BOLD, name);
	cell(m, y, UI_COL_STATE, sel ? base : ui_state_attr(app, v->state), vm_state_name(v->state));
	snprintf(b, sizeof(b), "%u", live && v->st.nr_vcpus ? v->st.nr_vcpus : v->cpus);
	cell(m, y, UI_COL_VCPUS, base, b);
	cell(m, y, UI_COL_CPU, base, live && v->st.cpu_pct.known ? fmt_pct5(v->st.cpu_pct.v, b, sizeof(b)) : "-");
	const struct ui_vmhist *h = ui_hist_find(&app->hist, v->name);
	if (m->lay.col_w[UI_COL_SPARK] && h && h->nvcpu && h->samples) {
		char spark[512];
		ui_vcpu_sparks((const double *const *)h->vcpu, h->nvcpu, UI_HIST_LEN, 100.0,
			       (size_t)m->lay.col_w[UI_COL_SPARK], app->utf8, spark, sizeof(spark));
		cell(m, y, UI_COL_SPARK, sel ? base : ui_attr(app, UI_R_SPARK), spark);
	}
	cell(m, y, UI_COL_MEM, base, fmt_size5(v->mem, b, sizeof(b)));
	cell(m, y, UI_COL_BALLOON, base, val_size(v->st.balloon_actual, live, b, sizeof(b)));
	cell(m, y, UI_COL_USED, base, val_size(v->st.guest_used, live, b, sizeof(b)));
	cell(m, y, UI_COL_RX, base, val_rate(v->st.net_rx_bps, live, b, sizeof(b)));
	cell(m, y, UI_COL_TX, base, val_rate(v->st.net_tx_bps, live, b, sizeof(b)));
	cell(m, y, UI_COL_RD, base, val_rate(v->st.disk_rd_bps, live, b, sizeof(b)));
	cell(m, y, UI_COL_WR, base, val_rate(v->st.disk_wr_bps, live, b, sizeof(b)));
	cell(m, y, UI_COL_UPTIME, base, live ? fmt_duration6(v->st.uptime_s, b, sizeof(b)) : "-");
}

static void draw_status(struct main_view *m, struct ui_app *app)
{
	struct ui_rect r = m->lay.status;
	const struct be_vm *v = selected(m, app);
	char line[1024] = "";
	attr_t a = ui_attr(app, UI_R_DIM);
	if (app->list_error[0]) {
		snprintf(line, sizeof(line), "cannot list the VMs: %s", app->list_error);
		a = ui_attr(app, UI_R_CRASHED);
	} else if (m->filtering) {
		ui_text(r.y, r.x, 8, ui_attr(app, UI_R_BOLD), "filter: ");
		snprintf(line, sizeof(line), " %zu of %zu  Enter: keep  Esc: clear", m->norder, app->nvms);
		int lw = ui_width(line);
		ui_field_draw(app, &m->filter, r.y, r.x + 8, r.w - 8 - lw, ui_attr(app, UI_R_FIELD), true);
		ui_text(r.y, r.x + r.w - lw, lw, ui_attr(app, UI_R_DIM), line);
		return;
	} else if (!v && app->nvms) {
		snprintf(line, sizeof(line), "no VM matches '%.100s'; Esc clears the filter", m->filter.buf);
	} else if (!v) {
		snprintf(line, sizeof(line), "No VMs yet: press F7 (or n) to create one.");
		a = ui_attr(app, UI_R_BOLD);
	} else if (v->state == VM_STATE_CRASHED) {
		snprintf(line, sizeof(line), "%s crashed: %s", v->name, v->reason[0] ? v->reason : "no reason recorded");
		a = ui_attr(app, UI_R_CRASHED);
	} else if (v->state == VM_STATE_STOPPED) {
		snprintf(line, sizeof(line), "%s is stopped%s%s.  F2 starts it.", v->name, v->reason[0] ? ": " : "",
			 v->reason);
	} else {
		snprintf(line, sizeof(line), "%s is %s, VMM pid %d%s%s.  F4 console, Enter details.", v->name,
			 vm_state_name(v->state), v->pid, v->reason[0] ? "; " : "", v->reason);
		if (v->reason[0])
			a = ui_attr(app, UI_R_CRASHED);      /* a live VM with a problem */
	}
	if (m->filter.len && !m->filtering) {
		char f[160];
		snprintf(f, sizeof(f), "  [filter: %.100s]", m->filter.buf);
		strncat(line, f, sizeof(line) - strlen(line) - 1);
	}
	ui_text(r.y, r.x, r.w, a, line);
}

static void draw(struct ui_view *v, struct ui_app *app)
{
	struct main_view *m = (struct main_view *)v;
	ui_layout_main(app->rows, app->cols, &m->lay);
	if (m->lay.too_small) {
		ui_too_small(app, UI_MIN_ROWS, UI_MIN_COLS);
		return;
	}
	draw_header(m, app);
	draw_titles(m, app, m->lay.table.y);
	int h = m->lay.table.h - 1;
	ui_list_fix(&m->list, h);
	for (int i = 0; i < h && m->list.top + i < (int)m->norder; i++) {
		int idx = m->list.top + i;
		draw_row(m, app, m->lay.table.y + 1 + i, &app->vms[m->order[idx]], idx == m->list.sel);
	}
	if (!app->nvms && h > 4) {
		int y = m->lay.table.y + h / 2;
		const char *a = "No VMs yet.", *b = "F7 (or n) creates one with a wizard;",
			   *c = "`make run` in the source tree makes a small Linux named demo.";
		ui_text(y - 1, (app->cols - ui_width(a)) / 2, ui_width(a), ui_attr(app, UI_R_BOLD), a);
		ui_text(y, (app->cols - ui_width(b)) / 2, ui_width(b), ui_attr(app, UI_R_NORMAL), b);
		ui_text(y + 1, (app->cols - ui_width(c)) / 2, ui_width(c), ui_attr(app, UI_R_DIM), c);
	}
	draw_status(m, app);
	ui_hints(app, m->lay.hints, hints);
}

/* ---- input -------------------------------------------------------------------------- */

static void remember(struct main_view *m, struct ui_app *app)
{
	const struct be_vm *v = selected(m, app);
	if (v)
		snprintf(m->sel, sizeof(m->sel), "%s", v->name);
}

static void sort_by(struct main_view *m, struct ui_app *app, int col, bool toggle)
{
	if (toggle && (int)m->sort == col) {
		m->desc = !m->desc;
	} else {
		m->sort = (enum ui_col)col;
		/* Names read best A to Z; numbers biggest first. */
		m->desc = col != UI_COL_NAME && col != UI_COL_STATE;
	}
	rebuild(m, app);
}

static void sort_step(struct main_view *m, struct ui_app *app, int dir)
{
	int c = (int)m->sort;
	for (int i = 0; i < UI_COL_NR; i++) {
		c = (c + dir + UI_COL_NR) % UI_COL_NR;
		if (m->lay.col_w[c])
			break;
	}
	sort_by(m, app, c, false);
}

static void show_help(struct ui_app *app)
{
	/* The column list follows the layout table (the help view copies it). */
	const char *lines[64];
	char cols[UI_COL_NR][128];
	size_t n = 0;
	for (; help_text[n]; n++)
		lines[n] = help_text[n];
	for (int c = 0; c < UI_COL_NR && n < 62; c++) {
		snprintf(cols[c], sizeof(cols[c]), "  %-14s %s", ui_cols[c].title, ui_cols[c].help);
		lines[n++] = cols[c];
	}
	lines[n] = NULL;
	ui_push(app, ui_help_new(app, "Help: main screen", lines));
}

static int filter_key(struct main_view *m, struct ui_app *app, struct ui_key k)
{
	if (!k.is_code && (k.code == 27 || k.code == 0x07)) {
		ui_field_set(&m->filter, "");
		m->filtering = false;
	} else if ((!k.is_code && (k.code == '\r' || k.code == '\n')) || (k.is_code && k.code == KEY_ENTER)) {
		m->filtering = false;
	} else if (k.is_code && (k.code == KEY_UP || k.code == KEY_DOWN)) {
		ui_list_key(&m->list, k, m->lay.table.h - 1);
		remember(m, app);
		return UI_REDRAW;
	} else {
		ui_field_key(&m->filter, k);
	}
	rebuild(m, app);
	return UI_REDRAW;
}

static int key(struct ui_view *v, struct ui_app *app, struct ui_key k)
{
	struct main_view *m = (struct main_view *)v;
	if (m->filtering)
		return filter_key(m, app, k);
	if (ui_list_key(&m->list, k, m->lay.table.h - 1)) {
		remember(m, app);
		return UI_REDRAW;
	}
	const struct be_vm *sel = selected(m, app);
	char name[BE_NAME_MAX + 1] = "";
	if (sel)
		snprintf(name, sizeof(name), "%s", sel->name);
	int c = k.code;
	if (k.is_code) {
		switch (c) {
		case KEY_F(1): show_help(app); return UI_REDRAW;
		case KEY_F(2): c = 's'; break;
		case KEY_F(3): c = 'S'; break;
		case KEY_F(4): c = 'c'; break;
		case KEY_F(5): case KEY_ENTER: c = '\r'; break;
		case KEY_F(6): c = '>'; break;
		case KEY_F(7): c = 'n'; break;
		case KEY_F(8): case KEY_DC: c = 'd'; break;
		case KEY_F(9): c = 'K'; break;
		case KEY_F(10): return UI_QUIT;
		default: return UI_IGNORED;
		}
	}
	switch (c) {
	case 'q': return UI_QUIT;
	case '?': case 'h': show_help(app); return UI_REDRAW;
	case '/': m->filtering = true; return UI_REDRAW;
	case 27:
		if (m->filter.len) {
			ui_field_set(&m->filter, "");
			rebuild(m, app);
		}
		return UI_REDRAW;
	case '>': sort_step(m, app, 1); return UI_REDRAW;
	case '<': sort_step(m, app, -1); return UI_REDRAW;
	case 'I': m->desc = !m->desc; rebuild(m, app); return UI_REDRAW;
	case 'r': return UI_REFRESH;
	case 'n': ui_push(app, ui_wizard_new(app)); return UI_REDRAW;
	}
	if (!sel)
		return c == '\r' || strchr("sSKpcetdCR", c) ? UI_REDRAW : UI_IGNORED;
	switch (c) {
	case '\r': case '\n': ui_push(app, ui_detail_new(app, name)); break;
	case 's': ui_act_start(app, name); break;
	case 'S': ui_act_stop(app, name); break;
	case 'K': ui_act_kill(app, name); break;
	case 'p': ui_act_pause_toggle(app, name); break;
	case 'c': ui_act_console(app, name, false); break;
	case 'e': ui_act_console(app, name, true); break;
	case 't': ui_push(app, ui_snap_new(app, name)); break;
	case 'd': ui_act_delete(app, name); break;
	case 'C': ui_act_clone(app, name); break;
	case 'R': ui_act_rename(app, name); break;
	default: return UI_IGNORED;
	}
	return UI_REDRAW;
}

static int mouse(struct ui_view *v, struct ui_app *app, const MEVENT *ev)
{
	struct main_view *m = (struct main_view *)v;
	int h = m->lay.table.h - 1;
	if (ev->bstate & BUTTON4_PRESSED) {
		ui_list_key(&m->list, (struct ui_key){ KEY_UP, true }, h);
	} else if (ev->bstate & BUTTON5_PRESSED) {
		ui_list_key(&m->list, (struct ui_key){ KEY_DOWN, true }, h);
	} else if (ev->y == m->lay.table.y && ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) {
		for (int c = 0; c < UI_COL_NR; c++)
			if (m->lay.col_w[c] && ev->x >= m->lay.col_x[c] && ev->x < m->lay.col_x[c] + m->lay.col_w[c])
				sort_by(m, app, c, true);
	} else if (ev->y > m->lay.table.y && ev->y < m->lay.table.y + m->lay.table.h) {
		int row = m->list.top + ev->y - m->lay.table.y - 1;
		if (row >= (int)m->norder)
			return UI_IGNORED;
		m->list.sel = row;
		remember(m, app);
		if (ev->bstate & BUTTON1_DOUBLE_CLICKED)
			ui_push(app, ui_detail_new(app, m->sel));
	} else if (ev->y == m->lay.hints.y && ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) {
		/* A click on a function key is that key. */
		int x = 0;
		for (const struct ui_hint *hi = hints; hi->key; hi++) {
			int w = ui_width(hi->key) + ui_width(hi->label) + 1;
			if (ev->x >= x && ev->x < x + w)
				return key(v, app, (struct ui_key){ KEY_F(atoi(hi->key + 1)), true });
			x += w;
		}
		return UI_IGNORED;
	} else {
		return UI_IGNORED;
	}
	ui_list_fix(&m->list, h);
	remember(m, app);
	return UI_REDRAW;
}

static int data(struct ui_view *v, struct ui_app *app)
{
	struct main_view *m = (struct main_view *)v;
	rebuild(m, app);
	return UI_REDRAW;
}

static void destroy(struct ui_view *v)
{
	struct main_view *m = (struct main_view *)v;
	free(m->order);
	free(m);
}

static const struct ui_view_ops main_ops = {
	.name = "main",
	.draw = draw,
	.key = key,
	.mouse = mouse,
	.data = data,
	.destroy = destroy,
};

struct ui_view *ui_main_new(struct ui_app *app)
{
	struct main_view *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->v.ops = &main_ops;
	m->sort = UI_COL_NAME;
	ui_layout_main(app->rows, app->cols, &m->lay);
	if (app->opts.select)
		snprintf(m->sel, sizeof(m->sel), "%s", app->opts.select);
	rebuild(m, app);
	return &m->v;
}
