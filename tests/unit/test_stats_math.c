/* The statistics arithmetic and parsers: counters that never go
 * backwards, rates over an interval, /proc text and KVM's binary stats
 * layout, including hostile layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/stats.h"
#include "vmm/stats_kvm.h"
#include "vmm/stats_proc.h"
#include "vmm/stats_rate.h"
#include "vmm/virtio_blk.h"
#include "vmm/virtio_blk_stats.h"

static void test_first_sample_has_total_but_no_delta(void **state)
{
	struct stats_counter c = { 0 };
	stats_counter_update(&c, 1234, 64);
	assert_int_equal(c.total, 1234);
	assert_false(c.has_delta);
	assert_int_equal(stats_counter_delta(&c), 0);
	stats_counter_update(&c, 1300, 64);
	assert_true(c.has_delta);
	assert_int_equal(c.total, 1300);
	assert_int_equal(stats_counter_delta(&c), 66);
}

static void test_idle_counter_has_zero_rate(void **state)
{
	struct stats_counter c = { 0 };
	stats_counter_update(&c, 50, 64);
	stats_counter_update(&c, 50, 64);
	assert_int_equal(stats_counter_delta(&c), 0);
	assert_true(stats_rate_per_s(stats_counter_delta(&c), 1000000000ull) == 0.0);
	assert_true(stats_share_pct(0, 1000000000ull) == 0.0);
}

static void test_narrow_counter_wraps(void **state)
{
	struct stats_counter c = { 0 };
	stats_counter_update(&c, 0xfffffff0u, 32);
	stats_counter_update(&c, 0x10, 32);
	assert_int_equal(stats_counter_delta(&c), 0x20);
	assert_int_equal(c.total, 0x100000010ull);
	/* A full 64-bit counter that "wraps" to a smaller value restarted. */
	struct stats_counter d = { 0 };
	stats_counter_update(&d, 1000, 64);
	stats_counter_update(&d, 30, 64);
	assert_int_equal(d.total, 1030);
	assert_int_equal(stats_counter_delta(&d), 30);
}

static void test_restart_never_goes_backwards(void **state)
{
	struct stats_counter c = { 0 };
	stats_counter_update(&c, 500, 64);
	stats_counter_update(&c, 700, 64);
	stats_counter_restart(&c);
	/* The new source already counted past the old reading: all of it is
	 * new, not just the part above 700. */
	stats_counter_update(&c, 900, 64);
	assert_int_equal(c.total, 1600);
	assert_int_equal(stats_counter_delta(&c), 900);
	uint64_t before = c.total;
	stats_counter_update(&c, 950, 64);
	assert_true(c.total >= before);
	assert_int_equal(stats_counter_delta(&c), 50);
	/* Restarting an unused counter changes nothing. */
	struct stats_counter e = { 0 };
	stats_counter_restart(&e);
	stats_counter_update(&e, 7, 64);
	assert_int_equal(e.total, 7);
	assert_false(e.has_delta);
}

static void test_rates_and_shares(void **state)
{
	assert_true(stats_rate_per_s(500, 500000000ull) == 1000.0);
	assert_true(stats_rate_per_s(5, 0) == 0.0);
	assert_true(stats_share_pct(250000000ull, 1000000000ull) == 25.0);
	/* Clock granularity may make a busy thread look above 100%. */
	assert_true(stats_share_pct(1000100000ull, 1000000000ull) == 100.0);
	assert_true(stats_share_pct(7, 0) == 0.0);
}

static void test_proc_stat_with_odd_command_name(void **state)
{
	/* A thread name may contain spaces and parentheses. */
	const char *line = "4697 (vcpu 0) x) R 4694 4694 1 34816 4694 4194368 1234 0 0 0 "
			   "152 7 0 0 20 0 4 0 1234 0 0 18446744073709551615 0 0 0 0 0 0 "
			   "0 0 0 0 0 0 -1 1 0 0 0 158 0 0 0 0 0 0 0 0 0\n";
	uint64_t u, s, g;
	assert_int_equal(procstat_parse_stat(line, &u, &s, &g), 0);
	assert_int_equal(u, 152);
	assert_int_equal(s, 7);
	assert_int_equal(g, 158);
	assert_int_equal(procstat_parse_stat("garbage", &u, &s, &g), -1);
	assert_int_equal(procstat_parse_stat("1 (x) R 1 2", &u, &s, &g), -1);
}

static void test_proc_schedstat_and_statm(void **state)
{
	uint64_t run, wait, res;
	assert_int_equal(procstat_parse_schedstat("1524779075 1550463541 470\n", &run, &wait), 0);
	assert_int_equal(run, 1524779075ull);
	assert_int_equal(wait, 1550463541ull);
	assert_int_equal(procstat_parse_schedstat("", &run, &wait), -1);
	assert_int_equal(procstat_parse_statm("5000 1234 100 10 0 800 0\n", &res), 0);
	assert_int_equal(res, 1234);
}

static void test_this_process_own_numbers(void **state)
{
	/* Outside truth: a page we touch becomes resident, one we drop is not. */
	size_t len = 64 << 12;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(procstat_resident(p, len), 0);
	for (size_t i = 0; i < 16; i++)
		p[i << 12] = 1;
	assert_int_equal(procstat_resident(p, len), 16 << 12);
	madvise(p, 8 << 12, MADV_DONTNEED);
	assert_int_equal(procstat_resident(p, len), 8 << 12);
	munmap(p, len);
	assert_true(procstat_rss() > 0);
	struct proc_task_times t;
	procstat_task_times((int)gettid(), &t);
	assert_true(t.have_cpu);
	assert_true(t.cpu_ns > 0);
}

/* A synthetic stats file: header, id, descriptors, data. */
struct blob {
	uint8_t b[4096];
	size_t len;
};

#define NAME_SIZE 48

static void build_blob(struct blob *bl, const char *const *names, const uint32_t *flags, unsigned n)
{
	memset(bl, 0, sizeof(*bl));
	struct kvm_stats_header h = {
		.name_size = NAME_SIZE, .num_desc = n, .id_offset = sizeof(h),
		.desc_offset = sizeof(h) + NAME_SIZE,
	};
	size_t dsz = sizeof(struct kvm_stats_desc) + NAME_SIZE;
	h.data_offset = h.desc_offset + (uint32_t)(n * dsz);
	memcpy(bl->b, &h, sizeof(h));
	for (unsigned i = 0; i < n; i++) {
		struct kvm_stats_desc d = { .flags = flags ? flags[i] : 0, .size = 1, .offset = 8 * i };
		memcpy(bl->b + h.desc_offset + i * dsz, &d, sizeof(d));
		strncpy((char *)bl->b + h.desc_offset + i * dsz + sizeof(d), names[i], NAME_SIZE);
	}
	bl->len = h.data_offset;
}

static void test_kvm_stats_layout_by_name(void **state)
{
	static const char *const have[] = { "halt_exits", "exits", "io_exits", "halt_wait_hist" };
	static const uint32_t flags[] = { 0, 0, 0, KVM_STATS_TYPE_LINEAR_HIST };
	static const char *const want[] = { "exits", "io_exits", "mmio_exits", "halt_exits", "halt_wait_hist" };
	struct blob bl;
	build_blob(&bl, have, flags, 4);
	struct kstats k;
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, want, 5), 0);
	/* "exits" sits at data offset 8; the lowest wanted one ("halt_exits") at 0. */
	assert_int_equal(k.offset[0], 8);
	assert_int_equal(k.offset[1], 16);
	assert_int_equal(k.offset[2], -1);      /* not in this kernel */
	assert_int_equal(k.offset[3], 0);
	assert_int_equal(k.offset[4], -1);      /* a histogram is not a counter */
	assert_int_equal(k.data_len, 24);
}

static void test_kvm_stats_hostile_layouts(void **state)
{
	static const char *const names[] = { "exits" };
	struct blob bl;
	build_blob(&bl, names, NULL, 1);
	struct kvm_stats_header h;
	struct kstats k;
	/* Too short for the header. */
	assert_int_equal(kstats_parse(&k, bl.b, 8, names, 1), -1);
	/* Descriptors beyond the end. */
	memcpy(&h, bl.b, sizeof(h));
	h.num_desc = 1000;
	memcpy(bl.b, &h, sizeof(h));
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, names, 1), -1);
	/* An absurd name size. */
	build_blob(&bl, names, NULL, 1);
	memcpy(&h, bl.b, sizeof(h));
	h.name_size = 0;
	memcpy(bl.b, &h, sizeof(h));
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, names, 1), -1);
	h.name_size = 0xffffffffu;
	memcpy(bl.b, &h, sizeof(h));
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, names, 1), -1);
	/* A name without its terminator is skipped, not read past. */
	build_blob(&bl, names, NULL, 1);
	memcpy(&h, bl.b, sizeof(h));
	memset(bl.b + h.desc_offset + sizeof(struct kvm_stats_desc), 'x', NAME_SIZE);
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, names, 1), 0);
	assert_int_equal(k.offset[0], -1);
	/* Too many names asked for. */
	assert_int_equal(kstats_parse(&k, bl.b, bl.len, names, KSTATS_MAX + 1), -1);
}

static void test_disk_counters_hook(void **state)
{
	static struct virtio_blk b;
	b.stats.rd_bytes = 4096;
	b.stats.wr_ops = 3;
	b.stats.in_flight = 2;
	struct dev_counter c[DEV_COUNTERS_MAX];
	unsigned n = vblk_counters(&b, c, DEV_COUNTERS_MAX);
	assert_true(n >= 12);
	bool rd = false, wr = false, fl = false;
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(c[i].name, "rd_bytes"))
			rd = c[i].value == 4096 && !c[i].gauge;
		if (!strcmp(c[i].name, "wr_ops"))
			wr = c[i].value == 3;
		if (!strcmp(c[i].name, "in_flight"))
			fl = c[i].value == 2 && c[i].gauge;      /* a level: no rate */
	}
	assert_true(rd && wr && fl);
	assert_int_equal(vblk_counters(&b, c, 3), 3);
}

/* A device as the statistics model sees it: one count, one level, and
 * state beyond numbers. */
struct fake_dev {
	uint64_t packets, level;
};

static unsigned fake_counters(void *dev, struct dev_counter *out, unsigned max)
{
	struct fake_dev *f = dev;
	out[0] = (struct dev_counter){ "packets", f->packets, false };
	out[1] = (struct dev_counter){ "level", f->level, true };
	return 2;
}

static void fake_info(void *dev, json_object *out)
{
	json_object_object_add(out, "forwards", json_object_new_array());
}

static json_object *device_json(json_object *stats, const char *part, const char *name)
{
	json_object *d = json_object_array_get_idx(json_object_object_get(stats, "devices"), 0), *v = NULL;
	json_object_object_get_ex(part ? json_object_object_get(d, part) : d, name, &v);
	return v;
}

/* A level that goes down shows where it is now; counts stay totals with
 * rates; the device's own state comes along. */
static void test_device_levels_and_state_in_the_statistics(void **state)
{
	static struct vm vm;
	static struct fake_dev f = { .packets = 10, .level = 5 };
	vm.nr_devices = 1;
	vm.devices[0] = (struct vm_device){ .kind = "net", .dev = &f, .counters = fake_counters, .info = fake_info };
	struct stats s;
	assert_int_equal(stats_init(&s, &vm), 0);
	stats_sample(&s);
	f.packets = 15;
	f.level = 2;
	usleep(1000);
	stats_sample(&s);
	json_object *out = json_object_new_object();
	stats_json(&s, out);
	assert_string_equal(json_object_get_string(device_json(out, NULL, "kind")), "net");
	assert_int_equal(json_object_get_int64(device_json(out, "counters", "packets")), 15);
	assert_int_equal(json_object_get_int64(device_json(out, "counters", "level")), 2);
	assert_true(json_object_get_double(device_json(out, "rates", "packets")) > 0);
	assert_null(device_json(out, "rates", "level"));
	assert_true(json_object_is_type(device_json(out, NULL, "forwards"), json_type_array));
	json_object_put(out);
	stats_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_sample_has_total_but_no_delta),
		cmocka_unit_test(test_idle_counter_has_zero_rate),
		cmocka_unit_test(test_narrow_counter_wraps),
		cmocka_unit_test(test_restart_never_goes_backwards),
		cmocka_unit_test(test_rates_and_shares),
		cmocka_unit_test(test_proc_stat_with_odd_command_name),
		cmocka_unit_test(test_proc_schedstat_and_statm),
		cmocka_unit_test(test_this_process_own_numbers),
		cmocka_unit_test(test_kvm_stats_layout_by_name),
		cmocka_unit_test(test_kvm_stats_hostile_layouts),
		cmocka_unit_test(test_disk_counters_hook),
		cmocka_unit_test(test_device_levels_and_state_in_the_statistics),
	};
	return cmocka_run_group_tests_name("statistics arithmetic and sources", tests, NULL, NULL);
}
