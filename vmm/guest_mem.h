/* Guest-physical memory as devices see it: a few contiguous regions.
 *
 * Device models use only this interface, never KVM, so unit tests can hand
 * them a malloc'ed fake.  Every access is bounds-checked; a range that is not
 * wholly inside one region is refused, never clamped. */
#ifndef VMDECK_GUEST_MEM_H
#define VMDECK_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 8

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gm_region regions[GM_MAX_REGIONS];
	unsigned nr;
};

/* Host pointer for [GPA, GPA+LEN), or NULL if the range is not all RAM. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
bool gm_is_ram(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);
/* Total bytes of RAM in all regions. */
uint64_t gm_total(const struct guest_mem *gm);
/* Adds a region; returns -1 if full or if it overlaps another. */
int gm_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *hva);

#endif
