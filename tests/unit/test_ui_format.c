/* Numbers for people (sizes, rates, durations, percentages) and the
 * character charts (sparklines, per-vCPU sparklines, multi-row graphs):
 * fixed widths and exact glyphs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/fmt.h"
#include "ui/ui_spark.h"

static void test_sizes_fit_five_columns(void **state)
{
	char b[16];
	assert_string_equal(fmt_size5(0, b, sizeof(b)), "0");
	assert_string_equal(fmt_size5(999, b, sizeof(b)), "999");
	/* 1000..1023 bytes would need four digits: shown as 1.0K. */
	assert_string_equal(fmt_size5(1000, b, sizeof(b)), "1.0K");
	assert_string_equal(fmt_size5(1536, b, sizeof(b)), "1.5K");
	assert_string_equal(fmt_size5(64ull << 20, b, sizeof(b)), "64M");
	assert_string_equal(fmt_size5(512ull << 20, b, sizeof(b)), "512M");
	assert_string_equal(fmt_size5(1000ull << 20, b, sizeof(b)), "1.0G");
	assert_string_equal(fmt_size5(24ull << 30, b, sizeof(b)), "24G");
	assert_string_equal(fmt_size5(UINT64_MAX, b, sizeof(b)), "16E");
	/* Every value from 0 to 2^64 in steps fits in 5 columns. */
	for (uint64_t v = 1; v < UINT64_MAX / 3; v += v / 2 + 1) {
		fmt_size5(v, b, sizeof(b));
		assert_true(strlen(b) <= 5);
	}
}

static void test_rates(void **state)
{
	char b[16];
	assert_string_equal(fmt_rate7(0, b, sizeof(b)), "0/s");
	assert_string_equal(fmt_rate7(-5, b, sizeof(b)), "0/s");
	assert_string_equal(fmt_rate7(NAN, b, sizeof(b)), "0/s");
	assert_string_equal(fmt_rate7(12.4, b, sizeof(b)), "12/s");
	assert_string_equal(fmt_rate7(12 * 1024.0, b, sizeof(b)), "12K/s");
	assert_string_equal(fmt_rate7(3.4 * 1048576, b, sizeof(b)), "3.4M/s");
	assert_string_equal(fmt_rate7(1e30, b, sizeof(b)), "16E/s");
	for (double v = 0.5; v < 1e20; v *= 1.7) {
		fmt_rate7(v, b, sizeof(b));
		assert_true(strlen(b) <= 7);
	}
}

static void test_durations(void **state)
{
	char b[16];
	assert_string_equal(fmt_duration6(0, b, sizeof(b)), "0s");
	assert_string_equal(fmt_duration6(42.9, b, sizeof(b)), "42s");
	assert_string_equal(fmt_duration6(185, b, sizeof(b)), "3m05s");
	assert_string_equal(fmt_duration6(2 * 3600 + 13 * 60 + 59, b, sizeof(b)), "2h13m");
	assert_string_equal(fmt_duration6(4 * 86400 + 7 * 3600, b, sizeof(b)), "4d07h");
	assert_string_equal(fmt_duration6(150 * 86400.0, b, sizeof(b)), "150d");
	assert_string_equal(fmt_duration6(1e12, b, sizeof(b)), "99999d");
	for (double v = 1; v < 1e13; v *= 2.3) {
		fmt_duration6(v, b, sizeof(b));
		assert_true(strlen(b) <= 6);
	}
}

static void test_percentages(void **state)
{
	char b[16];
	assert_string_equal(fmt_pct5(0, b, sizeof(b)), "0.0");
	assert_string_equal(fmt_pct5(12.54, b, sizeof(b)), "12.5");
	assert_string_equal(fmt_pct5(99.96, b, sizeof(b)), "100");
	assert_string_equal(fmt_pct5(1600, b, sizeof(b)), "1600");
	assert_string_equal(fmt_pct5(1e9, b, sizeof(b)), "99999");
}

static void test_spark_levels_round_up_and_clip(void **state)
{
	assert_int_equal(ui_spark_level(0, 100), 0);
	assert_int_equal(ui_spark_level(NAN, 100), 0);
	assert_int_equal(ui_spark_level(-3, 100), 0);
	assert_int_equal(ui_spark_level(0.01, 100), 1);     /* any activity shows */
	assert_int_equal(ui_spark_level(12.5, 100), 1);
	assert_int_equal(ui_spark_level(12.6, 100), 2);
	assert_int_equal(ui_spark_level(50, 100), 4);
	assert_int_equal(ui_spark_level(100, 100), 8);
	assert_int_equal(ui_spark_level(250, 100), 8);
	assert_int_equal(ui_spark_level(5, 0), 0);
}

static void test_sparkline_glyphs(void **state)
{
	double v[] = { 0, 12.5, 25, 37.5, 50, 62.5, 75, 87.5, 100, NAN };
	char b[64];
	assert_int_equal(ui_sparkline(v, 10, 100, true, b, sizeof(b)), 10);
	assert_string_equal(b, " ▁▂▃▄▅▆▇█ ");
	assert_int_equal(ui_sparkline(v, 10, 100, false, b, sizeof(b)), 10);
	assert_string_equal(b, " _.-=+*#@ ");
	/* A buffer too small takes whole glyphs only. */
	assert_int_equal(ui_sparkline(v + 1, 5, 100, true, b, 8), 2);
	assert_string_equal(b, "▁▂");
}

static void test_vcpu_sparks_share_the_width(void **state)
{
	double c0[6] = { 0, 0, 100, 100, 50, 25 }, c1[6] = { 100, 100, 100, 0, 0, 12 };
	const double *two[2] = { c0, c1 };
	char b[128];
	/* Two vCPUs in 7 columns: the last 3 samples each, one space between. */
	assert_int_equal(ui_vcpu_sparks(two, 2, 6, 100, 7, true, b, sizeof(b)), 7);
	assert_string_equal(b, "█▄▂   ▁");
	/* In 3 columns: the current level of each (3 = 2 * 2 - 1 still has gaps). */
	assert_int_equal(ui_vcpu_sparks(two, 2, 6, 100, 3, true, b, sizeof(b)), 3);
	assert_string_equal(b, "▂ ▁");
	/* More vCPUs than columns: one glyph each and '+' for the rest. */
	const double *many[8] = { c0, c1, c0, c1, c0, c1, c0, c1 };
	assert_int_equal(ui_vcpu_sparks(many, 8, 6, 100, 5, false, b, sizeof(b)), 5);
	assert_string_equal(b, "._._+");
	assert_int_equal(ui_vcpu_sparks(many, 4, 6, 100, 5, false, b, sizeof(b)), 4);
	assert_string_equal(b, "._._");
	/* Wide: at most the history there is. */
	assert_int_equal(ui_vcpu_sparks(two, 1, 6, 100, 40, false, b, sizeof(b)), 6);
	assert_string_equal(b, "  @@=.");
}

static void test_graph_rows_stack_eighths(void **state)
{
	/* Three rows: 24 eighths in all. */
	double v[] = { 0, 100, 50, 10, 37.5 };
	char rows[3][64];
	for (int r = 0; r < 3; r++)
		assert_int_equal(ui_graph_row(v, 5, 100, 3, r, true, rows[r], sizeof(rows[r])), 5);
	/* 100 fills all rows; 50 is 12 eighths: the bottom row full, the middle half;
	 * 10 is 2.4 -> 3 eighths; 37.5 is exactly 9 eighths. */
	assert_string_equal(rows[0], " █   ");
	assert_string_equal(rows[1], " █▄ ▁");
	assert_string_equal(rows[2], " ██▃█");
	char a[64];
	ui_graph_row(v, 5, 100, 3, 2, false, a, sizeof(a));
	assert_string_equal(a, " @@-@");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_fit_five_columns),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_percentages),
		cmocka_unit_test(test_spark_levels_round_up_and_clip),
		cmocka_unit_test(test_sparkline_glyphs),
		cmocka_unit_test(test_vcpu_sparks_share_the_width),
		cmocka_unit_test(test_graph_rows_stack_eighths),
	};
	return cmocka_run_group_tests_name("formatting and sparklines", tests, NULL, NULL);
}
