/* KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+): a header, a
 * table of named descriptors and a data block that pread() refreshes.
 * We pick the counters we know by name, so kernels that add, drop or
 * reorder statistics are fine; what is missing reads as absent. */
#ifndef VMDECK_STATS_KVM_H
#define VMDECK_STATS_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSTATS_MAX 32

struct kstats {
	int fd;
	unsigned nr;                      /* names asked for */
	int32_t offset[KSTATS_MAX];       /* byte offset in the data block, -1: absent */
	uint32_t data_offset, data_len;   /* the part of the data block we read */
};

/* Parses the header and descriptors in BLOB (what the stats fd holds from
 * offset 0, LEN bytes) and finds NAMES.  Returns 0, or -1 when the header
 * is inconsistent.  Used on kernel data, but checked like any input. */
int kstats_parse(struct kstats *k, const uint8_t *blob, size_t len, const char *const *names,
		 unsigned nr);
/* Takes ownership of FD (a vCPU's or VM's stats fd) and parses it; -1 and
 * FD closed on failure. */
int kstats_open(struct kstats *k, int fd, const char *const *names, unsigned nr);
/* Reads the current values into VALUES[nr]; PRESENT[i] says whether
 * NAMES[i] exists.  Returns -1 when the read fails. */
int kstats_read(struct kstats *k, uint64_t *values, bool *present);
void kstats_close(struct kstats *k);

#endif
