/* Counter arithmetic for the statistics model, kept free of I/O so that it
 * can be tested on its own.
 *
 * Sources restart (a VM reset creates new vCPU threads and KVM stats files
 * that count from zero) and narrow counters wrap; a stats_counter turns
 * such raw readings into a total that never goes backwards, and remembers
 * the previous total so that a rate over the last interval is one
 * subtraction. */
#ifndef VMDECK_STATS_RATE_H
#define VMDECK_STATS_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct stats_counter {
	uint64_t total;        /* monotonic */
	uint64_t prev_total;   /* total at the previous update */
	uint64_t last_raw;     /* the source's reading at the last update */
	bool primed;           /* at least one update */
	bool has_delta;        /* at least two updates: a delta exists */
};

/* Feeds one reading RAW of a source counter BITS wide (1..64).  A reading
 * below the last one is a wrap for a narrow counter and a restart from zero
 * for a 64-bit one.  The first reading becomes the total: sources count
 * from the start of the VM. */
void stats_counter_update(struct stats_counter *c, uint64_t raw, unsigned bits);
/* Forgets the source (it will restart) without losing the total. */
void stats_counter_restart(struct stats_counter *c);
/* Growth of the total between the last two updates (0 before that). */
uint64_t stats_counter_delta(const struct stats_counter *c);

/* Events per second for DELTA events over DT_NS nanoseconds; 0 if DT_NS is 0. */
double stats_rate_per_s(uint64_t delta, uint64_t dt_ns);
/* BUSY_NS of CPU time over DT_NS of wall time, as a percentage of one host
 * CPU, clamped to 0..100 (clock granularity may overshoot a little). */
double stats_share_pct(uint64_t busy_ns, uint64_t dt_ns);

#endif
