#include "vmm/stats_rate.h"

void stats_counter_update(struct stats_counter *c, uint64_t raw, unsigned bits)
{
	c->prev_total = c->total;
	if (!c->primed) {
		c->total = raw;
		c->primed = true;
		c->last_raw = raw;
		return;
	}
	uint64_t step;
	if (raw >= c->last_raw)
		step = raw - c->last_raw;
	else if (bits < 64)
		step = raw + (1ull << bits) - c->last_raw;   /* wrapped once */
	else
		step = raw;                                   /* the source restarted at zero */
	c->total += step;
	c->last_raw = raw;
	c->has_delta = true;
}

void stats_counter_restart(struct stats_counter *c)
{
	/* The next reading counts from zero: a "last reading" of zero makes
	 * all of it growth.  An unprimed counter takes its first reading as
	 * the total anyway. */
	if (c->primed)
		c->last_raw = 0;
}

uint64_t stats_counter_delta(const struct stats_counter *c)
{
	return c->has_delta ? c->total - c->prev_total : 0;
}

double stats_rate_per_s(uint64_t delta, uint64_t dt_ns)
{
	return dt_ns ? (double)delta * 1e9 / (double)dt_ns : 0.0;
}

double stats_share_pct(uint64_t busy_ns, uint64_t dt_ns)
{
	if (!dt_ns)
		return 0.0;
	double pct = (double)busy_ns * 100.0 / (double)dt_ns;
	return pct > 100.0 ? 100.0 : pct;
}
