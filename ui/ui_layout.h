/* Where everything goes for a given terminal size: pure arithmetic, so
 * the tests can check layouts at many sizes without a terminal. */
#ifndef VMDECK_UI_LAYOUT_H
#define VMDECK_UI_LAYOUT_H

#include <stdbool.h>

/* Below this the screens show only a "too small" message. */
#define UI_MIN_COLS 60
#define UI_MIN_ROWS 12

struct ui_rect {
	int y, x, h, w;
};

/* The main table's columns, in display order. */
enum ui_col {
	UI_COL_NAME, UI_COL_STATE, UI_COL_VCPUS, UI_COL_CPU, UI_COL_SPARK, UI_COL_MEM, UI_COL_BALLOON,
	UI_COL_USED, UI_COL_RX, UI_COL_TX, UI_COL_RD, UI_COL_WR, UI_COL_UPTIME, UI_COL_NR,
};

struct ui_col_info {
	const char *title;
	const char *help;         /* for the help overlay */
	int min, max;             /* width */
	int priority;             /* lower goes first when space runs out */
	bool right;               /* right-aligned (numbers) */
};

extern const struct ui_col_info ui_cols[UI_COL_NR];

struct ui_main_layout {
	bool too_small;
	struct ui_rect header;    /* meters */
	struct ui_rect table;     /* column titles and rows */
	struct ui_rect status;    /* the selected VM's story */
	struct ui_rect hints;     /* function keys */
	int col_x[UI_COL_NR], col_w[UI_COL_NR];    /* width 0: hidden */
};

void ui_layout_main(int rows, int cols, struct ui_main_layout *l);

struct ui_detail_layout {
	bool too_small;
	struct ui_rect title;     /* name, state, reason */
	struct ui_rect graphs;    /* CPU per vCPU, memory, network, disk */
	struct ui_rect side;      /* devices, forwards, balloon, guest memory */
	struct ui_rect hints;
	int graph_h;              /* rows per graph */
};

void ui_layout_detail(int rows, int cols, struct ui_detail_layout *l);

struct ui_console_layout {
	bool too_small;
	struct ui_rect tabs;      /* h 0 when full-screen */
	struct ui_rect pane;
	struct ui_rect status;    /* h 0 when full-screen */
};

void ui_layout_console(int rows, int cols, bool fullscreen, struct ui_console_layout *l);

/* A box of H x W centred in the screen (shrunk to fit with a margin). */
struct ui_rect ui_layout_center(int rows, int cols, int h, int w);

#endif
