/* `vmdeck stats` formatting: the CSV columns chosen from a sample, rates
 * and shares between two samples from the totals, the VMM's own rates for
 * the first row, and empty fields for what is unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/stats_fmt.h"

static const char sample1[] =
	"{\"name\":\"web,1\",\"state\":\"running\",\"uptime_s\":10.5,\"time_ns\":1000000000,\"cpu_pct\":55.5,"
	"\"cpus\":[{\"cpu_ns\":2000000000,\"cpu_pct\":50.0,\"steal_ns\":100000000,\"steal_pct\":5.0,"
	"\"exits\":{\"total\":1000},\"exits_per_s\":{\"total\":100.0},\"halts\":null,\"halts_per_s\":null},"
	"{\"cpu_ns\":10,\"cpu_pct\":0.5,\"steal_ns\":0,\"steal_pct\":0.0,\"exits\":{\"total\":5},"
	"\"exits_per_s\":{\"total\":1.0},\"halts\":3,\"halts_per_s\":0.5}],"
	"\"memory\":{\"configured\":536870912,\"rss\":1000,\"rss_guest\":800,\"rss_vmm\":200,"
	"\"balloon\":{\"target\":268435456,\"actual\":268435456},\"guest\":null},"
	"\"devices\":[{\"kind\":\"disk\",\"index\":0,\"counters\":{\"rd_bytes\":4096,\"in_flight\":2},"
	"\"rates\":{\"rd_bytes\":512.0}}]}";

/* Two seconds later: vCPU 0 used 1.5 s of CPU, the disk read 8192 more. */
static const char sample2[] =
	"{\"name\":\"web,1\",\"state\":\"paused\",\"uptime_s\":12.5,\"time_ns\":3000000000,\"cpu_pct\":1.0,"
	"\"cpus\":[{\"cpu_ns\":3500000000,\"cpu_pct\":1.0,\"steal_ns\":300000000,\"steal_pct\":1.0,"
	"\"exits\":{\"total\":1400},\"exits_per_s\":{\"total\":1.0},\"halts\":null,\"halts_per_s\":null},"
	"{\"cpu_ns\":10,\"cpu_pct\":0.0,\"steal_ns\":0,\"steal_pct\":0.0,\"exits\":{\"total\":5},"
	"\"exits_per_s\":{\"total\":0.0},\"halts\":7,\"halts_per_s\":1.0}],"
	"\"memory\":{\"configured\":536870912,\"rss\":1000,\"rss_guest\":800,\"rss_vmm\":200,"
	"\"balloon\":{\"target\":268435456,\"actual\":268435456},\"guest\":null},"
	"\"devices\":[{\"kind\":\"disk\",\"index\":0,\"counters\":{\"rd_bytes\":12288,\"in_flight\":0},"
	"\"rates\":{\"rd_bytes\":0.0}}]}";

static const struct stats_col *col(const struct stats_cols *c, const char *name)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strcmp(c->col[i].name, name))
			return &c->col[i];
	printf("no column %s\n", name);
	fail();
	return NULL;
}

static void test_columns_and_rates_between_rows(void **state)
{
	json_object *a = json_tokener_parse(sample1), *b = json_tokener_parse(sample2);
	assert_non_null(a);
	assert_non_null(b);
	struct stats_cols *c = calloc(1, sizeof(*c));
	stats_cols_build(c, a);
	/* First row: the VMM's rates. */
	assert_true(stats_col_value(col(c, "vcpu0_cpu_pct"), NULL, a) == 50.0);
	assert_true(stats_col_value(col(c, "disk0_rd_bytes_per_s"), NULL, a) == 512.0);
	/* Next row: from the totals over the 2 s between the samples. */
	assert_true(fabs(stats_col_value(col(c, "vcpu0_cpu_pct"), a, b) - 75.0) < 1e-9);
	assert_true(fabs(stats_col_value(col(c, "vcpu0_steal_pct"), a, b) - 10.0) < 1e-9);
	assert_true(fabs(stats_col_value(col(c, "vcpu0_exits_per_s"), a, b) - 200.0) < 1e-9);
	assert_true(fabs(stats_col_value(col(c, "vcpu1_halts_per_s"), a, b) - 2.0) < 1e-9);
	assert_true(fabs(stats_col_value(col(c, "disk0_rd_bytes_per_s"), a, b) - 4096.0) < 1e-9);
	/* Unknown stays unknown; a level has no rate column. */
	assert_true(isnan(stats_col_value(col(c, "vcpu0_halts_per_s"), a, b)));
	assert_true(stats_col_value(col(c, "disk0_in_flight"), a, b) == 0.0);
	for (unsigned i = 0; i < c->n; i++)
		assert_null(strstr(c->col[i].name, "in_flight_per_s"));
	/* The same sample twice (the VMM did not sample again): its rates. */
	assert_true(stats_col_value(col(c, "vcpu0_cpu_pct"), b, b) == 1.0);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	stats_csv_header(c, f);
	stats_csv_row(c, NULL, a, f);
	stats_csv_row(c, a, b, f);
	fclose(f);
	char *l1 = strtok(text, "\n"), *l2 = strtok(NULL, "\n"), *l3 = strtok(NULL, "\n");
	assert_non_null(l3);
	assert_int_equal(strncmp(l1, "time,name,state,uptime_s,cpu_pct,", 33), 0);
	/* A name with a comma is quoted; the total CPU is the vCPUs' sum. */
	assert_non_null(strstr(l2, ",\"web,1\",running,10.50,50.50,"));
	assert_non_null(strstr(l3, ",\"web,1\",paused,12.50,75,"));
	free(text);
	free(c);
	json_object_put(a);
	json_object_put(b);
}

static void test_text_summary(void **state)
{
	json_object *a = json_tokener_parse(sample1);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	stats_text(NULL, a, f);
	fclose(f);
	assert_non_null(strstr(text, "web,1  running"));
	assert_non_null(strstr(text, "512M configured"));
	assert_non_null(strstr(text, "balloon target 256M"));
	assert_non_null(strstr(text, "disk0_rd_bytes 4096"));
	free(text);
	json_object_put(a);
}

static void test_paths(void **state)
{
	json_object *a = json_tokener_parse(sample1);
	assert_int_equal(json_object_get_int(stats_path(a, "cpus.1.halts")), 3);
	assert_null(stats_path(a, "cpus.7.halts"));
	assert_null(stats_path(a, "cpus.x"));
	assert_null(stats_path(a, "memory.nothing.here"));
	json_object_put(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_and_rates_between_rows),
		cmocka_unit_test(test_text_summary),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests_name("vmdeck stats output", tests, NULL, NULL);
}
