/* MC146818 CMOS RTC and NVRAM on ports 0x70/0x71.
 *
 * Time registers read the host's clock (UTC) plus an offset the guest sets
 * by writing them; the NVRAM holds the memory-size bytes firmware reads. */
#ifndef VMDECK_DEV_RTC_H
#define VMDECK_DEV_RTC_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "vmm/bus.h"

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
	int64_t offset;               /* guest time minus host time, seconds */
	time_t (*now)(void);          /* host clock; replaceable by tests */
};

void rtc_init(struct rtc *r, uint64_t low_ram, uint64_t high_ram, unsigned nr_cpus);
void rtc_destroy(struct rtc *r);

extern const struct bus_ops rtc_bus_ops;

enum {
	RTC_SECONDS = 0x00, RTC_MINUTES = 0x02, RTC_HOURS = 0x04, RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0a, RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c, RTC_REG_D = 0x0d, RTC_CENTURY = 0x32,
};
#define RTC_B_SET   0x80
#define RTC_B_DM    0x04   /* binary (not BCD) */
#define RTC_B_24H   0x02

#endif
