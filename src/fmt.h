/* Numbers for people in fixed, narrow columns: sizes ("512M", "1.5G"),
 * rates ("12K/s", "3.4M/s"), durations ("42s", "3m05s", "2h13m", "4d07h")
 * and percentages.  Every result fits in the width the function names,
 * so tables never wobble. */
#ifndef VMDECK_FMT_H
#define VMDECK_FMT_H

#include <stddef.h>
#include <stdint.h>

/* At most 5 characters: "0", "999", "1.0K", "12K", "999K", "1.0M", ...
 * (binary units, B omitted). */
char *fmt_size5(uint64_t bytes, char *buf, size_t len);
/* At most 7 characters: fmt_size5 and "/s" ("0/s", "12K/s", "3.4M/s"). */
char *fmt_rate7(double bytes_per_s, char *buf, size_t len);
/* At most 6 characters: "42s", "3m05s", "2h13m", "4d07h", "999d". */
char *fmt_duration6(double seconds, char *buf, size_t len);
/* At most 5 characters: "0.0", "12.5", "100", "1600". */
char *fmt_pct5(double pct, char *buf, size_t len);

#endif
