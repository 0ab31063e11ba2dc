/* Little charts made of characters: sparklines (one glyph per sample,
 * eight heights: ▁▂▃▄▅▆▇█) and multi-row graphs (the same glyphs stacked,
 * eight steps per row).  Without UTF-8 they fall back to ASCII.  Pure
 * functions: the tests feed numbers and compare strings. */
#ifndef VMDECK_UI_SPARK_H
#define VMDECK_UI_SPARK_H

#include <stdbool.h>
#include <stddef.h>

/* The glyph for VALUE on a scale of 0..MAX: level 0 (blank) for 0 or
 * unknown (NaN), else 1..8, rounded up so that any activity shows. */
int ui_spark_level(double value, double max);
/* Appends the glyph of LEVEL (0..8) to BUF at *POS (UTF-8 or ASCII). */
void ui_spark_glyph(int level, bool utf8, char *buf, size_t len, size_t *pos);

/* A sparkline of the N values into BUF (NUL-terminated); returns the
 * number of glyphs written (N, or fewer if BUF is too small). */
size_t ui_sparkline(const double *v, size_t n, double max, bool utf8, char *buf, size_t len);

/* Per-vCPU sparklines in WIDTH columns: each of NCPU vCPUs gets the same
 * number L of its most recent samples (HIST[c] holds N samples, oldest
 * first), separated by one space, L = (WIDTH - (NCPU - 1)) / NCPU.  With
 * too many vCPUs for that, one glyph each (the current level) and a '+'
 * at the end when some do not fit.  Returns the columns used. */
size_t ui_vcpu_sparks(const double *const *hist, size_t ncpu, size_t n, double max, size_t width, bool utf8,
		      char *buf, size_t len);

/* Row ROW (0 = top) of a graph HEIGHT rows tall of the N values on a scale
 * of 0..MAX: one column per value.  Returns the glyphs written. */
size_t ui_graph_row(const double *v, size_t n, double max, int height, int row, bool utf8, char *buf,
		    size_t len);

#endif
