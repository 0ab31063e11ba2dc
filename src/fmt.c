#include <math.h>
#include <stdio.h>

#include "src/fmt.h"

char *fmt_size5(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = " KMGTPE";
	double v = (double)bytes;
	unsigned i = 0;
	/* 1000..1023 of a unit would take 4 digits: show them as 1.0 of the next. */
	while (v >= 1000.0 && i < sizeof(units) - 2) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%u", (unsigned)bytes);
	else if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[i]);
	else
		snprintf(buf, len, "%.0f%c", v, units[i]);
	return buf;
}

char *fmt_rate7(double bps, char *buf, size_t len)
{
	char s[16];
	if (!(bps > 0) || !isfinite(bps))
		bps = 0;
	fmt_size5(bps > 9.2e18 ? UINT64_MAX : (uint64_t)(bps + 0.5), s, sizeof(s));
	snprintf(buf, len, "%s/s", s);
	return buf;
}

char *fmt_duration6(double seconds, char *buf, size_t len)
{
	if (!(seconds > 0) || !isfinite(seconds))
		seconds = 0;
	unsigned long long s = (unsigned long long)seconds;
	if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else if (s < 100 * 86400ull)
		snprintf(buf, len, "%llud%02lluh", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, len, "%llud", s / 86400 > 99999 ? 99999 : s / 86400);
	return buf;
}

char *fmt_pct5(double pct, char *buf, size_t len)
{
	if (!(pct > 0) || !isfinite(pct))
		pct = 0;
	if (pct < 99.95)
		snprintf(buf, len, "%.1f", pct);
	else if (pct < 99999)
		snprintf(buf, len, "%.0f", pct);
	else
		snprintf(buf, len, "99999");
	return buf;
}
