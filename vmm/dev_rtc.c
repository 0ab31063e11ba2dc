#include <string.h>

#include "vmm/dev_rtc.h"
#include "vmm/layout.h"

static uint8_t to_bcd(unsigned v) { return (uint8_t)(((v / 10) << 4) | (v % 10)); }
static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0xf); }

static uint8_t encode(const struct rtc *r, unsigned v)
{
	return (r->cmos[RTC_REG_B] & RTC_B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned decode(const struct rtc *r, uint8_t v)
{
	return (r->cmos[RTC_REG_B] & RTC_B_DM) ? v : from_bcd(v);
}

static uint8_t encode_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return encode(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(encode(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return decode(r, v);
	unsigned h = decode(r, v & 0x7f) % 12;
	return h + ((v & 0x80) ? 12 : 0);
}

static void time_to_cmos(struct rtc *r)
{
	time_t t = r->now() + r->offset;
	struct tm tm;
	gmtime_r(&t, &tm);
	r->cmos[RTC_SECONDS] = encode(r, (unsigned)tm.tm_sec);
	r->cmos[RTC_MINUTES] = encode(r, (unsigned)tm.tm_min);
	r->cmos[RTC_HOURS] = encode_hour(r, (unsigned)tm.tm_hour);
	r->cmos[RTC_DAY_OF_WEEK] = encode(r, (unsigned)tm.tm_wday + 1);
	r->cmos[RTC_DAY] = encode(r, (unsigned)tm.tm_mday);
	r->cmos[RTC_MONTH] = encode(r, (unsigned)tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = encode(r, (unsigned)(tm.tm_year + 1900) % 100);
	r->cmos[RTC_CENTURY] = encode(r, (unsigned)(tm.tm_year + 1900) / 100);
}

/* The guest set the clock: remember the difference to the host's. */
static void cmos_to_offset(struct rtc *r)
{
	struct tm tm = {
		.tm_sec = (int)decode(r, r->cmos[RTC_SECONDS]),
		.tm_min = (int)decode(r, r->cmos[RTC_MINUTES]),
		.tm_hour = (int)decode_hour(r, r->cmos[RTC_HOURS]),
		.tm_mday = (int)decode(r, r->cmos[RTC_DAY]),
		.tm_mon = (int)decode(r, r->cmos[RTC_MONTH]) - 1,
		.tm_year = (int)(decode(r, r->cmos[RTC_CENTURY]) * 100 + decode(r, r->cmos[RTC_YEAR])) - 1900,
	};
	time_t guest = timegm(&tm);
	if (guest != (time_t)-1)
		r->offset = (int64_t)(guest - r->now());
}

static void store_kib_pair(struct rtc *r, unsigned lo, uint64_t value)
{
	r->cmos[lo] = (uint8_t)value;
	r->cmos[lo + 1] = (uint8_t)(value >> 8);
}

static time_t host_now(void)
{
	return time(NULL);
}

void rtc_init(struct rtc *r, uint64_t low_ram, uint64_t high_ram, unsigned nr_cpus)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->now = host_now;
	r->cmos[RTC_REG_A] = 0x26;            /* 32.768 kHz base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->cmos[RTC_REG_D] = 0x80;            /* valid RAM and time */
	/* Memory sizes as a PC BIOS expects them (SeaBIOS reads these). */
	store_kib_pair(r, 0x15, 640);                                  /* base memory, KiB */
	uint64_t ext = low_ram > MiB ? (low_ram - MiB) / KiB : 0;
	store_kib_pair(r, 0x17, ext > 0xffff ? 0xffff : ext);          /* 1 MiB..64 MiB, KiB */
	store_kib_pair(r, 0x30, ext > 0xffff ? 0xffff : ext);
	uint64_t above16 = low_ram > 16 * MiB ? (low_ram - 16 * MiB) / (64 * KiB) : 0;
	store_kib_pair(r, 0x34, above16 > 0xffff ? 0xffff : above16); /* 16 MiB..4 GiB, 64 KiB */
	uint64_t above4g = high_ram / (64 * KiB);
	r->cmos[0x5b] = (uint8_t)above4g;
	r->cmos[0x5c] = (uint8_t)(above4g >> 8);
	r->cmos[0x5d] = (uint8_t)(above4g >> 16);
	r->cmos[0x5f] = (uint8_t)(nr_cpus - 1);
}

void rtc_destroy(struct rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}

/* The counters; 0x01, 0x03 and 0x05 between them are the alarm registers. */
static bool is_time_reg(unsigned i)
{
	switch (i) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK: case RTC_DAY:
	case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static uint8_t data_read(struct rtc *r)
{
	unsigned i = r->index;
	if (is_time_reg(i) && !(r->cmos[RTC_REG_B] & RTC_B_SET))
		time_to_cmos(r);
	if (i == RTC_REG_A)
		return r->cmos[i] & 0x7f;          /* never "update in progress" */
	if (i == RTC_REG_C) {
		uint8_t v = r->cmos[i];
		r->cmos[i] = 0;                     /* reading C acknowledges */
		return v;
	}
	return r->cmos[i];
}

static void data_write(struct rtc *r, uint8_t v)
{
	unsigned i = r->index;
	if (i == RTC_REG_C || i == RTC_REG_D)
		return;                              /* read-only */
	if (i == RTC_REG_B) {
		bool was_set = r->cmos[RTC_REG_B] & RTC_B_SET;
		if (!was_set && (v & RTC_B_SET))
			time_to_cmos(r);                 /* freeze the current time for editing */
		r->cmos[RTC_REG_B] = v;
		if (was_set && !(v & RTC_B_SET))
			cmos_to_offset(r);
		return;
	}
	bool running = is_time_reg(i) && !(r->cmos[RTC_REG_B] & RTC_B_SET);
	/* The other counters keep running: bring them up to date first, or
	 * the new offset is computed from whatever the guest last read. */
	if (running)
		time_to_cmos(r);
	r->cmos[i] = v;
	if (running)
		cmos_to_offset(r);
}

static void rtc_bus_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct rtc *r = opaque;
	pthread_mutex_lock(&r->lock);
	uint8_t v = offset == 0 ? 0xff : data_read(r);
	pthread_mutex_unlock(&r->lock);
	memset(data, v, len);
}

static void rtc_bus_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct rtc *r = opaque;
	uint8_t v = *(const uint8_t *)data;
	pthread_mutex_lock(&r->lock);
	if (offset == 0)
		r->index = v & 0x7f;                 /* bit 7 masks NMI; nothing to mask */
	else
		data_write(r, v);
	pthread_mutex_unlock(&r->lock);
}

const struct bus_ops rtc_bus_ops = { .read = rtc_bus_read, .write = rtc_bus_write };
