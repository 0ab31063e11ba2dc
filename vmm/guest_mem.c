#include <string.h>

#include "vmm/guest_mem.h"

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->regions[i];
		/* Written to avoid overflow: gpa + len may wrap. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

bool gm_is_ram(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	return gm_ptr(gm, gpa, len) != NULL;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
	const void *p = gm_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = gm_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

uint64_t gm_total(const struct guest_mem *gm)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < gm->nr; i++)
		t += gm->regions[i].size;
	return t;
}

int gm_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *hva)
{
	if (gm->nr >= GM_MAX_REGIONS || size == 0 || gpa + size < gpa)
		return -1;
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -1;
	}
	gm->regions[gm->nr++] = (struct gm_region){ .gpa = gpa, .size = size, .hva = hva };
	return 0;
}
