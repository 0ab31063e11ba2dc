/* Layouts at several terminal sizes: nothing overlaps, nothing leaves the
 * screen, the important columns stay longest, small terminals say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "ui/ui_layout.h"

static const int sizes[][2] = { { 12, 60 }, { 24, 80 }, { 30, 100 }, { 40, 120 }, { 50, 160 }, { 60, 200 },
				{ 100, 300 } };

static void inside(struct ui_rect r, int rows, int cols)
{
	assert_true(r.y >= 0 && r.x >= 0 && r.h >= 0 && r.w >= 0);
	assert_true(r.y + r.h <= rows);
	assert_true(r.x + r.w <= cols);
}

static void test_main_layout_at_every_size(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int rows = sizes[i][0], cols = sizes[i][1];
		struct ui_main_layout l;
		ui_layout_main(rows, cols, &l);
		assert_false(l.too_small);
		inside(l.header, rows, cols);
		inside(l.table, rows, cols);
		inside(l.status, rows, cols);
		inside(l.hints, rows, cols);
		/* Top to bottom without overlap; the hints on the last line. */
		assert_true(l.header.y + l.header.h <= l.table.y);
		assert_true(l.table.y + l.table.h <= l.status.y);
		assert_true(l.status.y < l.hints.y);
		assert_int_equal(l.hints.y, rows - 1);
		assert_true(l.table.h >= 2);
		/* Columns in order, separated, inside the width. */
		int end = -1, shown = 0;
		for (int c = 0; c < UI_COL_NR; c++) {
			if (!l.col_w[c])
				continue;
			shown++;
			assert_true(l.col_w[c] >= ui_cols[c].min && l.col_w[c] <= ui_cols[c].max);
			assert_true(l.col_x[c] > end);
			end = l.col_x[c] + l.col_w[c];
			assert_true(end <= cols);
		}
		/* The name, state, CPU and memory are always there. */
		assert_true(l.col_w[UI_COL_NAME] && l.col_w[UI_COL_STATE] && l.col_w[UI_COL_CPU] && l.col_w[UI_COL_MEM]);
		if (cols >= 120)
			assert_int_equal(shown, UI_COL_NR);
	}
}

static void test_columns_drop_least_important_first(void **state)
{
	struct ui_main_layout l;
	ui_layout_main(24, 60, &l);
	/* 60 columns: disk and balloon go before network and the sparkline. */
	assert_int_equal(l.col_w[UI_COL_WR], 0);
	assert_int_equal(l.col_w[UI_COL_RD], 0);
	assert_int_equal(l.col_w[UI_COL_BALLOON], 0);
	assert_true(l.col_w[UI_COL_UPTIME] > 0);
	ui_layout_main(24, 80, &l);
	assert_true(l.col_w[UI_COL_SPARK] > 0);
	assert_true(l.col_w[UI_COL_UPTIME] > 0);
	/* Spare width goes to the sparklines once the names have room. */
	ui_layout_main(24, 200, &l);
	assert_int_equal(l.col_w[UI_COL_SPARK], ui_cols[UI_COL_SPARK].max);
	assert_int_equal(l.col_w[UI_COL_NAME], ui_cols[UI_COL_NAME].max);
}

static void test_too_small(void **state)
{
	struct ui_main_layout l;
	ui_layout_main(UI_MIN_ROWS - 1, 200, &l);
	assert_true(l.too_small);
	ui_layout_main(50, UI_MIN_COLS - 1, &l);
	assert_true(l.too_small);
	struct ui_detail_layout d;
	ui_layout_detail(5, 40, &d);
	assert_true(d.too_small);
	struct ui_console_layout c;
	ui_layout_console(5, 40, false, &c);
	assert_true(c.too_small);
	/* Full screen asks only for a usable picture. */
	ui_layout_console(5, 40, true, &c);
	assert_false(c.too_small);
}

static void test_detail_layout(void **state)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int rows = sizes[i][0], cols = sizes[i][1];
		struct ui_detail_layout l;
		ui_layout_detail(rows, cols, &l);
		assert_false(l.too_small);
		inside(l.title, rows, cols);
		inside(l.graphs, rows, cols);
		inside(l.side, rows, cols);
		inside(l.hints, rows, cols);
		assert_true(l.graph_h >= 1);
		/* Four graphs with their titles fit in the graph area. */
		assert_true(4 * (l.graph_h + 1) <= l.graphs.h || l.graph_h == 1);
		if (cols >= 110) {
			assert_true(l.graphs.x + l.graphs.w < l.side.x);      /* side by side */
			assert_int_equal(l.side.y, l.graphs.y);
		} else {
			assert_true(l.graphs.y + l.graphs.h <= l.side.y);    /* stacked */
		}
	}
}

static void test_console_layout(void **state)
{
	struct ui_console_layout l;
	ui_layout_console(48, 160, false, &l);
	assert_int_equal(l.tabs.y, 0);
	assert_int_equal(l.pane.y, 1);
	assert_int_equal(l.pane.h, 46);
	assert_int_equal(l.pane.w, 160);
	assert_int_equal(l.status.y, 47);
	ui_layout_console(48, 160, true, &l);
	assert_int_equal(l.tabs.h, 0);
	assert_int_equal(l.status.h, 0);
	assert_int_equal(l.pane.h, 48);
	struct ui_rect r = ui_layout_center(24, 80, 10, 40);
	assert_int_equal(r.y, 7);
	assert_int_equal(r.x, 20);
	r = ui_layout_center(12, 60, 30, 100);       /* shrunk to fit */
	assert_int_equal(r.h, 10);
	assert_int_equal(r.w, 58);
	assert_int_equal(r.y, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_layout_at_every_size),
		cmocka_unit_test(test_columns_drop_least_important_first),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_detail_layout),
		cmocka_unit_test(test_console_layout),
	};
	return cmocka_run_group_tests_name("layouts", tests, NULL, NULL);
}
