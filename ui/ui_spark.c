#include <math.h>
#include <string.h>

#include "ui/ui_spark.h"

static const char *const utf8_glyphs[9] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char ascii_glyphs[] = " _.-=+*#@";

int ui_spark_level(double value, double max)
{
	if (!(value > 0) || !(max > 0))
		return 0;
	double l = ceil(value / max * 8.0 - 1e-9);
	return l < 1 ? 1 : l > 8 ? 8 : (int)l;
}

static void put(const char *s, char *buf, size_t len, size_t *pos)
{
	size_t n = strlen(s);
	if (*pos + n + 1 > len)
		return;
	memcpy(buf + *pos, s, n + 1);
	*pos += n;
}

void ui_spark_glyph(int level, bool utf8, char *buf, size_t len, size_t *pos)
{
	level = level < 0 ? 0 : level > 8 ? 8 : level;
	char ascii[2] = { ascii_glyphs[level], '\0' };
	put(utf8 ? utf8_glyphs[level] : ascii, buf, len, pos);
}

static size_t room(bool utf8)
{
	return utf8 ? 3 : 1;
}

size_t ui_sparkline(const double *v, size_t n, double max, bool utf8, char *buf, size_t len)
{
	size_t pos = 0, glyphs = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && pos + room(utf8) < len; i++, glyphs++)
		ui_spark_glyph(ui_spark_level(v[i], max), utf8, buf, len, &pos);
	return glyphs;
}

size_t ui_vcpu_sparks(const double *const *hist, size_t ncpu, size_t n, double max, size_t width, bool utf8,
		      char *buf, size_t len)
{
	size_t pos = 0, cols = 0;
	if (len)
		buf[0] = '\0';
	if (!ncpu || !width || !n)
		return 0;
	size_t per = ncpu * 2 - 1 <= width ? (width - (ncpu - 1)) / ncpu : 1;
	bool gaps = per > 1 || ncpu * 2 - 1 <= width;
	if (per > n)
		per = n;
	for (size_t c = 0; c < ncpu && cols < width; c++) {
		if (!gaps && c == width - 1 && ncpu > width) {
			put("+", buf, len, &pos);     /* more vCPUs than columns */
			return cols + 1;
		}
		if (c && gaps) {
			put(" ", buf, len, &pos);
			cols++;
		}
		for (size_t i = n - per; i < n && pos + room(utf8) < len; i++, cols++)
			ui_spark_glyph(ui_spark_level(hist[c][i], max), utf8, buf, len, &pos);
	}
	return cols;
}

size_t ui_graph_row(const double *v, size_t n, double max, int height, int row, bool utf8, char *buf,
		    size_t len)
{
	size_t pos = 0, glyphs = 0;
	if (len)
		buf[0] = '\0';
	/* Eighths of the whole graph each value reaches; this row holds
	 * eighths (height - 1 - row) * 8 + 1 .. + 8. */
	int base = (height - 1 - row) * 8;
	for (size_t i = 0; i < n && pos + room(utf8) < len; i++, glyphs++) {
		double eighths = !(v[i] > 0) || !(max > 0) ? 0 : ceil(v[i] / max * 8.0 * height - 1e-9);
		int e = eighths > 8.0 * height ? 8 * height : (int)eighths;
		int in_row = e - base;
		ui_spark_glyph(in_row <= 0 ? 0 : in_row >= 8 ? 8 : in_row, utf8, buf, len, &pos);
	}
	return glyphs;
}
