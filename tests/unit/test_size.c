/* src/size.c: human sizes for --mem and friends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "src/size.h"

struct good {
	const char *s;
	unsigned shift;
	uint64_t want;
};

static void parse_accepts_units_and_suffix_spellings(void **state)
{
	static const struct good cases[] = {
		{ "0", 0, 0 },
		{ "0M", 0, 0 },
		{ "4096", 0, 4096 },
		{ "512", 20, 512ull << 20 },          /* a bare number means MiB for --mem */
		{ "512", 0, 512 },
		{ "1B", 20, 1 },                       /* an explicit B overrides the default */
		{ "4096B", 20, 4096 },
		{ "1b", 20, 1 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "1KB", 0, 1024 },
		{ "1KiB", 0, 1024 },
		{ "1kib", 0, 1024 },
		{ "512M", 0, 512ull << 20 },
		{ "512m", 0, 512ull << 20 },
		{ "512MiB", 0, 512ull << 20 },
		{ "512MB", 0, 512ull << 20 },
		{ "2G", 0, 2ull << 30 },
		{ "2GiB", 0, 2ull << 30 },
		{ "3T", 0, 3ull << 40 },
		{ "1P", 0, 1ull << 50 },
		{ "1E", 0, 1ull << 60 },
		{ "15E", 0, 15ull << 60 },
		{ "007M", 0, 7ull << 20 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551615B", 0, UINT64_MAX },
		{ "17592186044415M", 0, 17592186044415ull << 20 },   /* largest whole MiB count */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdeadbeef;
		if (size_parse(cases[i].s, cases[i].shift, &v) != 0)
			fail_msg("'%s' (default shift %u) was refused", cases[i].s, cases[i].shift);
		if (v != cases[i].want)
			fail_msg("'%s' gave %llu, want %llu", cases[i].s, (unsigned long long)v,
				 (unsigned long long)cases[i].want);
	}
}

static void parse_fractions(void **state)
{
	static const struct good cases[] = {
		{ "1.5G", 0, 3ull << 29 },
		{ "1.5GiB", 0, 3ull << 29 },
		{ "0.5K", 0, 512 },
		{ "0.25M", 0, 256 * 1024 },
		{ "1.5", 20, 3ull << 19 },             /* fraction with the default unit */
		{ "0.1K", 0, 102 },                    /* rounds down to whole bytes */
		{ "2.75T", 0, 11ull << 38 },
		{ "1.5E", 0, 3ull << 59 },             /* large units split the shift */
		{ "15.5E", 0, 31ull << 59 },
		{ "1.0000000001G", 0, 1ull << 30 },    /* digits past the ninth are ignored */
		{ "1.000000", 0, 1 },
		{ "0.999999999K", 0, 1023 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		if (size_parse(cases[i].s, cases[i].shift, &v) != 0)
			fail_msg("'%s' was refused", cases[i].s);
		if (v != cases[i].want)
			fail_msg("'%s' gave %llu, want %llu", cases[i].s, (unsigned long long)v,
				 (unsigned long long)cases[i].want);
	}
}

static void parse_refuses_overflow(void **state)
{
	static const struct { const char *s; unsigned shift; } cases[] = {
		{ "16E", 0 },                          /* exactly 2^64 */
		{ "16384P", 0 },
		{ "18446744073709551616", 0 },         /* UINT64_MAX + 1 */
		{ "99999999999999999999999", 0 },
		{ "18446744073709551615", 20 },        /* fits as bytes, not as MiB */
		{ "17592186044416M", 0 },              /* 2^44 MiB = 2^64 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 42;
		if (size_parse(cases[i].s, cases[i].shift, &v) != -1)
			fail_msg("'%s' (default shift %u) should overflow, gave %llu", cases[i].s, cases[i].shift,
				 (unsigned long long)v);
		assert_int_equal(v, 42);   /* *out untouched on error */
	}
	/* 15 + 0.999999999 EiB is just below 2^64. */
	uint64_t v;
	assert_int_equal(size_parse("15.9999999999E", 0, &v), 0);
	assert_true(v > (15ull << 60) && v < UINT64_MAX);
	/* The default shift cannot be 64 or more. */
	assert_int_equal(size_parse("1", 64, &v), -1);
}

static void parse_refuses_garbage(void **state)
{
	static const char *const bad[] = {
		"", "abc", "M", "-1", "+1", " 1", "1 ", "1.", ".5", "1.5.5", "1..5", "1,5", "0x10", "1e3",
		"1KX", "1Q", "1KiBB", "1BiB", "1iB", "1MM", "1 M", "1.M", "1\n", "1Z", "1Y",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		if (size_parse(bad[i], 20, &v) != -1)
			fail_msg("'%s' should be refused, gave %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 7);
	}
	uint64_t v = 7;
	assert_int_equal(size_parse(NULL, 0, &v), -1);
	assert_int_equal(v, 7);
}

static void format_picks_unit_and_precision(void **state)
{
	static const struct { uint64_t v; const char *want; } cases[] = {
		{ 0, "0B" },
		{ 1, "1B" },
		{ 1023, "1023B" },
		{ 1024, "1K" },
		{ 1536, "1.5K" },
		{ 4096, "4K" },
		{ 512ull << 20, "512M" },
		{ 3ull << 29, "1.5G" },
		{ 8ull << 30, "8G" },
		{ 100ull << 30, "100G" },
		{ 3ull << 39, "1.5T" },
		{ 1ull << 60, "1E" },
		{ UINT64_MAX, "16E" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		memset(buf, 'z', sizeof(buf));
		char *r = size_format(cases[i].v, buf, sizeof(buf));
		assert_ptr_equal(r, buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void format_round_trips_through_parse(void **state)
{
	static const uint64_t sizes[] = { 1, 4096, 1ull << 20, 512ull << 20, 3ull << 29, 6ull << 30,
					  1ull << 40 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char buf[32];
		uint64_t back = 0;
		size_format(sizes[i], buf, sizeof(buf));
		assert_int_equal(size_parse(buf, 0, &back), 0);
		assert_int_equal(back, sizes[i]);
	}
}

static void format_respects_buffer_length(void **state)
{
	char buf[8];
	memset(buf, 'z', sizeof(buf));
	size_format(512ull << 20, buf, 4);    /* "512M" needs 5 bytes */
	assert_string_equal(buf, "512");
	assert_int_equal(buf[4], 'z');        /* nothing written past the given length */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts_units_and_suffix_spellings),
		cmocka_unit_test(parse_fractions),
		cmocka_unit_test(parse_refuses_overflow),
		cmocka_unit_test(parse_refuses_garbage),
		cmocka_unit_test(format_picks_unit_and_precision),
		cmocka_unit_test(format_round_trips_through_parse),
		cmocka_unit_test(format_respects_buffer_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
