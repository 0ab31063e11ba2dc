/* Human sizes: "512M", "2G", "1.5GiB", "4096" (bytes). */
#ifndef VMDECK_SIZE_H
#define VMDECK_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses S with an optional binary suffix (K, M, G, T, P, E with an optional
 * "iB" or "B"; case-insensitive) into *OUT bytes.  DEFAULT_SHIFT applies when
 * S has no suffix (0 for bytes, 20 for MiB like `--mem 512`).  Returns 0, or
 * -1 when S is not a size or overflows 64 bits. */
int size_parse(const char *s, unsigned default_shift, uint64_t *out);

/* Formats BYTES as "1.5G", "512M", "4.0K", "123B" into BUF. */
char *size_format(uint64_t bytes, char *buf, size_t len);

#endif
