/* vmm/dev_rtc.c: MC146818 RTC and CMOS NVRAM at ports 0x70/0x71, with a
 * fake host clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm/dev_rtc.h"
#include "vmm/layout.h"

static time_t fake_now;
static time_t fake_clock(void) { return fake_now; }

static time_t utc(int y, int mon, int d, int h, int min, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = min,
			 .tm_sec = s };
	return timegm(&tm);
}

/* Thursday 2024-02-29 13:45:56 UTC */
#define T0 utc(2024, 2, 29, 13, 45, 56)

static int setup(void **state)
{
	struct rtc *r = calloc(1, sizeof(*r));
	rtc_init(r, 512 * MiB, 0, 2);
	fake_now = T0;
	r->now = fake_clock;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	rtc_destroy(*state);
	free(*state);
	return 0;
}

static uint8_t cmos_rd(struct rtc *r, uint8_t index)
{
	uint8_t v = 0x5c;
	rtc_bus_ops.write(r, 0, &index, 1);
	rtc_bus_ops.read(r, 1, &v, 1);
	return v;
}

static void cmos_wr(struct rtc *r, uint8_t index, uint8_t v)
{
	rtc_bus_ops.write(r, 0, &index, 1);
	rtc_bus_ops.write(r, 1, &v, 1);
}

/* The clock as the guest reads it: sec, min, hour, dow, day, month, year, century. */
static void assert_clock(struct rtc *r, const uint8_t want[8])
{
	static const uint8_t regs[8] = { RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY, RTC_MONTH,
					 RTC_YEAR, RTC_CENTURY };
	static const char *const names[8] = { "seconds", "minutes", "hours", "day of week", "day", "month",
					      "year", "century" };
	for (int i = 0; i < 8; i++) {
		uint8_t v = cmos_rd(r, regs[i]);
		if (v != want[i])
			fail_msg("%s register is %#04x, want %#04x", names[i], v, want[i]);
	}
}

static void bcd_24h_after_power_on(void **state)
{
	struct rtc *r = *state;
	assert_int_equal(cmos_rd(r, RTC_REG_B), RTC_B_24H);
	assert_clock(r, (const uint8_t[]){ 0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });
	fake_now += 3;
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x59);
	fake_now += 1;                          /* 13:46:00 */
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x00);
	assert_int_equal(cmos_rd(r, RTC_MINUTES), 0x46);
	fake_now = utc(2099, 12, 31, 23, 59, 59);
	assert_clock(r, (const uint8_t[]){ 0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x99, 0x20 });
	fake_now += 1;
	assert_clock(r, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21 });
}

static void binary_mode(void **state)
{
	struct rtc *r = *state;
	cmos_wr(r, RTC_REG_B, RTC_B_24H | RTC_B_DM);
	assert_clock(r, (const uint8_t[]){ 56, 45, 13, 5, 29, 2, 24, 20 });
}

static void twelve_hour_mode(void **state)
{
	static const struct { int hour; uint8_t bcd, bin; } cases[] = {
		{ 0, 0x12, 12 },             /* midnight is 12 AM */
		{ 1, 0x01, 1 },
		{ 11, 0x11, 11 },
		{ 12, 0x92, 0x80 | 12 },     /* noon is 12 PM */
		{ 13, 0x81, 0x80 | 1 },
		{ 23, 0x91, 0x80 | 11 },
	};
	struct rtc *r = *state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_now = utc(2024, 2, 29, cases[i].hour, 30, 0);
		cmos_wr(r, RTC_REG_B, 0);
		assert_int_equal(cmos_rd(r, RTC_HOURS), cases[i].bcd);
		cmos_wr(r, RTC_REG_B, RTC_B_DM);
		assert_int_equal(cmos_rd(r, RTC_HOURS), cases[i].bin);
	}
}

/* Setting the clock: SET freezes the registers, the guest writes them, and
 * clearing SET makes the new time run on from the host's clock. */
static void setting_the_clock_stores_an_offset(void **state)
{
	struct rtc *r = *state;
	cmos_wr(r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x56);   /* frozen at the current time */
	fake_now += 30;
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x56);
	static const uint8_t y2k[][2] = {
		{ RTC_SECONDS, 0x50 }, { RTC_MINUTES, 0x59 }, { RTC_HOURS, 0x23 }, { RTC_DAY, 0x31 },
		{ RTC_MONTH, 0x12 }, { RTC_YEAR, 0x99 }, { RTC_CENTURY, 0x19 },
	};
	for (size_t i = 0; i < sizeof(y2k) / sizeof(y2k[0]); i++)
		cmos_wr(r, y2k[i][0], y2k[i][1]);
	assert_int_equal(cmos_rd(r, RTC_MINUTES), 0x59);   /* still frozen, as written */
	assert_int_equal(r->offset, 0);
	cmos_wr(r, RTC_REG_B, RTC_B_24H);
	assert_int_equal(r->offset, utc(1999, 12, 31, 23, 59, 50) - fake_now);
	fake_now += 15;
	assert_clock(r, (const uint8_t[]){ 0x05, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* The offset applies in binary mode too. */
	cmos_wr(r, RTC_REG_B, RTC_B_24H | RTC_B_DM);
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 5);
}

static void setting_in_binary_12h_mode(void **state)
{
	struct rtc *r = *state;
	cmos_wr(r, RTC_REG_B, RTC_B_SET | RTC_B_DM);
	cmos_wr(r, RTC_SECONDS, 0);
	cmos_wr(r, RTC_MINUTES, 15);
	cmos_wr(r, RTC_HOURS, 0x80 | 11);        /* 11 PM */
	cmos_wr(r, RTC_DAY, 4);
	cmos_wr(r, RTC_MONTH, 7);
	cmos_wr(r, RTC_YEAR, 30);
	cmos_wr(r, RTC_CENTURY, 20);
	cmos_wr(r, RTC_REG_B, RTC_B_DM);
	assert_int_equal(r->offset, utc(2030, 7, 4, 23, 15, 0) - fake_now);
	cmos_wr(r, RTC_REG_B, RTC_B_SET | RTC_B_DM);
	cmos_wr(r, RTC_HOURS, 12);               /* 12 AM: midnight */
	cmos_wr(r, RTC_REG_B, RTC_B_DM);
	assert_int_equal(r->offset, utc(2030, 7, 4, 0, 15, 0) - fake_now);
}

/* Alarm registers (1, 3, 5) are not the time: writing one must not move
 * the clock. */
static void alarm_writes_leave_the_clock_alone(void **state)
{
	struct rtc *r = *state;
	/* Before the guest ever read the time (the registers hold zeros). */
	cmos_wr(r, 0x05, 0x00);
	assert_int_equal(r->offset, 0);
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x56);
	fake_now += 100;                         /* 13:47:36 */
	cmos_wr(r, 0x01, 0x30);                  /* seconds alarm */
	cmos_wr(r, 0x03, 0x15);                  /* minutes alarm */
	cmos_wr(r, 0x05, 0x07);                  /* hours alarm */
	assert_int_equal(r->offset, 0);
	assert_clock(r, (const uint8_t[]){ 0x36, 0x47, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });
	assert_int_equal(cmos_rd(r, 0x01), 0x30);
	assert_int_equal(cmos_rd(r, 0x03), 0x15);
	assert_int_equal(cmos_rd(r, 0x05), 0x07);
}

/* Writing one time register while the clock runs changes that field only:
 * the others keep counting from the host's clock, not from whatever the
 * guest last happened to read. */
static void single_register_write_keeps_the_others_running(void **state)
{
	struct rtc *r = *state;
	assert_int_equal(cmos_rd(r, RTC_SECONDS), 0x56);
	fake_now += 100;                         /* 13:47:36 */
	cmos_wr(r, RTC_MINUTES, 0x00);
	assert_int_equal(r->offset, -47 * 60);
	assert_clock(r, (const uint8_t[]){ 0x36, 0x00, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });
}

static void status_registers(void **state)
{
	struct rtc *r = *state;
	assert_int_equal(cmos_rd(r, RTC_REG_A), 0x26);
	cmos_wr(r, RTC_REG_A, 0xa6);             /* UIP is read-only and never shown */
	assert_int_equal(cmos_rd(r, RTC_REG_A), 0x26);
	assert_int_equal(cmos_rd(r, RTC_REG_D), 0x80);   /* valid RAM and time */
	cmos_wr(r, RTC_REG_D, 0x00);
	assert_int_equal(cmos_rd(r, RTC_REG_D), 0x80);
	/* C reports pending flags once: reading clears it; writes are ignored. */
	r->cmos[RTC_REG_C] = 0xf0;
	cmos_wr(r, RTC_REG_C, 0x00);
	assert_int_equal(cmos_rd(r, RTC_REG_C), 0xf0);
	assert_int_equal(cmos_rd(r, RTC_REG_C), 0x00);
}

static void index_port(void **state)
{
	struct rtc *r = *state;
	uint8_t idx = 0x80 | RTC_MINUTES;        /* bit 7 is the NMI mask */
	rtc_bus_ops.write(r, 0, &idx, 1);
	uint8_t v = 0;
	rtc_bus_ops.read(r, 1, &v, 1);
	assert_int_equal(v, 0x45);
	rtc_bus_ops.read(r, 0, &v, 1);           /* the index port is write-only */
	assert_int_equal(v, 0xff);
	/* Plain NVRAM bytes keep what is written, for all 128 indexes. */
	cmos_wr(r, 0x40, 0xab);
	cmos_wr(r, 0x7f, 0xcd);
	assert_int_equal(cmos_rd(r, 0x40), 0xab);
	assert_int_equal(cmos_rd(r, 0xff), 0xcd);   /* 0xff selects 0x7f */
}

struct nvram_case {
	uint64_t low, high;
	unsigned cpus;
	uint16_t base, ext, ext2, above16;
	uint32_t above4g;
};

static void nvram_memory_size_bytes(void **state)
{
	static const struct nvram_case cases[] = {
		{ 512 * MiB, 0, 2, 640, 0xffff, 0xffff, 0x1f00, 0 },
		{ LAYOUT_LOW_RAM_MAX, 6 * GiB - LAYOUT_LOW_RAM_MAX, 4, 640, 0xffff, 0xffff, 0xdf00, 0x00a000 },
		{ 8 * MiB, 0, 1, 640, 7 * 1024, 7 * 1024, 0, 0 },
		{ 17 * MiB, 0, 1, 640, 16 * 1024, 16 * 1024, 16, 0 },
		{ LAYOUT_LOW_RAM_MAX, (1ull << 40) - 64 * KiB, 255, 640, 0xffff, 0xffff, 0xdf00, 0xffffff },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct nvram_case *c = &cases[i];
		struct rtc r;
		rtc_init(&r, c->low, c->high, c->cpus);
		assert_int_equal(cmos_rd(&r, 0x15) | cmos_rd(&r, 0x16) << 8, c->base);
		assert_int_equal(cmos_rd(&r, 0x17) | cmos_rd(&r, 0x18) << 8, c->ext);
		assert_int_equal(cmos_rd(&r, 0x30) | cmos_rd(&r, 0x31) << 8, c->ext2);
		assert_int_equal(cmos_rd(&r, 0x34) | cmos_rd(&r, 0x35) << 8, c->above16);
		uint32_t a4 = cmos_rd(&r, 0x5b) | cmos_rd(&r, 0x5c) << 8 | (uint32_t)cmos_rd(&r, 0x5d) << 16;
		assert_int_equal(a4, c->above4g & 0xffffff);
		assert_int_equal(cmos_rd(&r, 0x5f), c->cpus - 1);
		rtc_destroy(&r);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(bcd_24h_after_power_on),
		T(binary_mode),
		T(twelve_hour_mode),
		T(setting_the_clock_stores_an_offset),
		T(setting_in_binary_12h_mode),
		T(alarm_writes_leave_the_clock_alone),
		T(single_register_write_keeps_the_others_running),
		T(status_registers),
		T(index_port),
		T(nvram_memory_size_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
