#include <string.h>

#include "ui/ui_layout.h"

const struct ui_col_info ui_cols[UI_COL_NR] = {
	[UI_COL_NAME] = { "NAME", "the VM's name", 12, 24, 100, false },
	[UI_COL_STATE] = { "STATE", "stopped, starting, running, paused or crashed", 8, 8, 99, false },
	[UI_COL_VCPUS] = { "vCPU", "vCPUs", 4, 4, 40, true },
	[UI_COL_CPU] = { "CPU%", "CPU use, % of one host CPU (all vCPUs)", 5, 5, 98, true },
	[UI_COL_SPARK] = { "vCPU activity", "a sparkline per vCPU of its recent use", 8, 32, 60, false },
	[UI_COL_MEM] = { "MEM", "memory assigned to the VM", 5, 5, 97, true },
	[UI_COL_BALLOON] = { "BALLN", "memory the guest has after the balloon", 5, 5, 20, true },
	[UI_COL_USED] = { "USED", "memory the guest reports in use", 5, 5, 30, true },
	[UI_COL_RX] = { "NET-RX", "network bytes received per second", 7, 7, 50, true },
	[UI_COL_TX] = { "NET-TX", "network bytes sent per second", 7, 7, 49, true },
	[UI_COL_RD] = { "DISK-RD", "disk bytes read per second", 7, 7, 25, true },
	[UI_COL_WR] = { "DISK-WR", "disk bytes written per second", 7, 7, 24, true },
	[UI_COL_UPTIME] = { "UPTIME", "time since the VMM started", 6, 6, 90, true },
};

static struct ui_rect rect(int y, int x, int h, int w)
{
	return (struct ui_rect){ y, x, h < 0 ? 0 : h, w < 0 ? 0 : w };
}

static int used_width(const int *w)
{
	int total = 0, n = 0;
	for (int c = 0; c < UI_COL_NR; c++)
		if (w[c]) {
			total += w[c];
			n++;
		}
	return total + (n ? n - 1 : 0);      /* one space between columns */
}

/* Gives up to EXTRA more columns to column C (to its maximum). */
static int grow(int *w, int c, int extra)
{
	if (!w[c] || extra <= 0)
		return extra;
	int add = ui_cols[c].max - w[c];
	if (add > extra)
		add = extra;
	w[c] += add;
	return extra - add;
}

static void place_columns(int cols, struct ui_main_layout *l)
{
	int *w = l->col_w;
	for (int c = 0; c < UI_COL_NR; c++)
		w[c] = ui_cols[c].min;
	/* Drop the least important columns until the rest fit. */
	while (used_width(w) > cols) {
		int drop = -1;
		for (int c = 0; c < UI_COL_NR; c++)
			if (w[c] && (drop < 0 || ui_cols[c].priority < ui_cols[drop].priority))
				drop = c;
		if (drop < 0 || drop == UI_COL_NAME)
			break;
		w[drop] = 0;
	}
	/* Spare room: a little for names, then the sparklines, then names. */
	int extra = cols - used_width(w);
	grow(w, UI_COL_NAME, extra < 8 ? extra : 8);
	grow(w, UI_COL_SPARK, cols - used_width(w));
	grow(w, UI_COL_NAME, cols - used_width(w));
	int x = 0;
	for (int c = 0; c < UI_COL_NR; c++) {
		l->col_x[c] = x;
		if (w[c])
			x += w[c] + 1;
	}
}

void ui_layout_main(int rows, int cols, struct ui_main_layout *l)
{
	memset(l, 0, sizeof(*l));
	if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
		l->too_small = true;
		return;
	}
	/* Two meter lines, a blank, the table, the status line, the hints. */
	l->header = rect(0, 0, 2, cols);
	l->table = rect(3, 0, rows - 5, cols);
	l->status = rect(rows - 2, 0, 1, cols);
	l->hints = rect(rows - 1, 0, 1, cols);
	place_columns(cols, l);
}

void ui_layout_detail(int rows, int cols, struct ui_detail_layout *l)
{
	memset(l, 0, sizeof(*l));
	if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
		l->too_small = true;
		return;
	}
	l->title = rect(0, 0, 2, cols);
	l->hints = rect(rows - 1, 0, 1, cols);
	int body = rows - 3;
	if (cols >= 110) {
		/* Graphs on the left, lists on the right. */
		int side = cols * 2 / 5 < 48 ? 48 : cols * 2 / 5;
		l->graphs = rect(2, 0, body, cols - side - 1);
		l->side = rect(2, cols - side, body, side);
	} else {
		int gh = body * 3 / 5;
		l->graphs = rect(2, 0, gh, cols);
		l->side = rect(2 + gh, 0, body - gh, cols);
	}
	/* Four graphs, each with a title line. */
	l->graph_h = l->graphs.h / 4 - 1;
	if (l->graph_h < 1)
		l->graph_h = 1;
}

void ui_layout_console(int rows, int cols, bool fullscreen, struct ui_console_layout *l)
{
	memset(l, 0, sizeof(*l));
	if (fullscreen) {
		l->pane = rect(0, 0, rows, cols);
		l->too_small = rows < 2 || cols < 10;
		return;
	}
	if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
		l->too_small = true;
		return;
	}
	l->tabs = rect(0, 0, 1, cols);
	l->pane = rect(1, 0, rows - 2, cols);
	l->status = rect(rows - 1, 0, 1, cols);
}

struct ui_rect ui_layout_center(int rows, int cols, int h, int w)
{
	if (w > cols - 2)
		w = cols - 2;
	if (h > rows - 2)
		h = rows - 2;
	return rect((rows - h) / 2, (cols - w) / 2, h, w);
}
