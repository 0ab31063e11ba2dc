#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "src/size.h"

static int suffix_shift(const char *s, unsigned default_shift, unsigned *shift)
{
	static const char units[] = "BKMGTPE";
	if (*s == '\0') {
		*shift = default_shift;
		return 0;
	}
	const char *u = strchr(units, toupper((unsigned char)*s));
	if (!u)
		return -1;
	*shift = (unsigned)(u - units) * 10;
	s++;
	if (*u != 'B') {
		if (*s == 'i' || *s == 'I')
			s++;
		if (*s == 'b' || *s == 'B')
			s++;
	}
	return *s == '\0' ? 0 : -1;
}

int size_parse(const char *s, unsigned default_shift, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	uint64_t whole = 0;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s++ - '0');
		if (whole > (UINT64_MAX - d) / 10)
			return -1;
		whole = whole * 10 + d;
	}
	/* Up to 9 fractional digits, kept as a numerator over 10^digits. */
	uint64_t frac = 0, denom = 1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (denom < 1000000000ull) {
				frac = frac * 10 + (unsigned)(*s - '0');
				denom *= 10;
			}
			s++;
		}
	}
	unsigned shift;
	if (suffix_shift(s, default_shift, &shift) < 0)
		return -1;
	if (shift >= 64 || whole > (UINT64_MAX >> shift))
		return -1;
	uint64_t bytes = whole << shift;
	if (frac) {
		/* frac / denom < 1, so (frac << shift) / denom fits when shift <= 30;
		 * larger units split the shift to stay within 64 bits. */
		unsigned pre = shift > 30 ? shift - 30 : 0;
		uint64_t part = ((frac << (shift - pre)) / denom) << pre;
		if (bytes > UINT64_MAX - part)
			return -1;
		bytes += part;
	}
	*out = bytes;
	return 0;
}

char *size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned i = 0;
	double v = (double)bytes;
	while (v >= 1024.0 && i < sizeof(units) - 2) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (v < 10.0 && v != (double)(uint64_t)v)
		snprintf(buf, len, "%.1f%c", v, units[i]);
	else
		snprintf(buf, len, "%.0f%c", v, units[i]);
	return buf;
}
