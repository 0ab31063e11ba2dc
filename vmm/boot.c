#include <elf.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/layout.h"

enum kernel_format boot_detect(const uint8_t *image, size_t size)
{
	if (size >= 0x206 && image[0x1FE] == 0x55 && image[0x1FF] == 0xAA &&
	    memcmp(image + 0x202, "HdrS", 4) == 0)
		return KERNEL_BZIMAGE;
	if (size >= EI_NIDENT && memcmp(image, ELFMAG, SELFMAG) == 0)
		return KERNEL_PVH_ELF;
	return KERNEL_UNKNOWN;
}

int boot_load(const struct guest_mem *gm, const struct boot_config *cfg,
	      struct boot_entry *entry, struct error *err)
{
	switch (boot_detect(cfg->kernel, cfg->kernel_size)) {
	case KERNEL_BZIMAGE:
		return boot_load_bzimage(gm, cfg, entry, err);
	case KERNEL_PVH_ELF:
		return boot_load_pvh(gm, cfg, entry, err);
	default:
		return error_set(err, "it is neither a Linux bzImage nor an ELF kernel with a PVH entry point");
	}
}

/* Highest page-aligned spot for the initrd that ends at or below MAX_END,
 * starts at or above MIN_ADDR and lies wholly in RAM. */
int boot_place_initrd(const struct guest_mem *gm, const struct boot_config *cfg, uint64_t min_addr,
		      uint64_t max_end, uint64_t *addr, struct error *err)
{
	uint64_t size = cfg->initrd_size;
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t end = r->gpa + r->size < max_end ? r->gpa + r->size : max_end;
		if (end <= r->gpa || end - r->gpa < size)
			continue;
		uint64_t start = (end - size) & ~0xFFFull;
		if (start < r->gpa || start < min_addr)
			continue;
		memcpy(gm_ptr(gm, start, size), cfg->initrd, size);
		*addr = start;
		return 0;
	}
	return error_set(err, "the initrd (%zu MiB) does not fit in guest RAM below %#llx above the kernel; "
			 "give the VM more memory with --mem", (size_t)(size >> 20),
			 (unsigned long long)max_end);
}

int boot_write_cmdline(const struct guest_mem *gm, const char *cmdline, size_t max_len,
		       struct error *err)
{
	const char *s = cmdline ? cmdline : "";
	size_t len = strlen(s);
	if (max_len > LAYOUT_CMDLINE_MAX - 1)
		max_len = LAYOUT_CMDLINE_MAX - 1;
	if (len > max_len)
		return error_set(err, "the kernel command line is %zu bytes long and this kernel accepts at most %zu",
				 len, max_len);
	if (gm_write(gm, LAYOUT_CMDLINE, s, len + 1) < 0)
		return error_set(err, "guest RAM is too small for the kernel command line");
	return 0;
}

/* Access bytes: code 0x9B (present, ring 0, code, readable, accessed),
 * data 0x93; the L bit selects 64-bit code. */
#define GDT_ENTRY(flags, base, limit)                                                     \
	((((uint64_t)(base) & 0xff000000ull) << 32) | (((uint64_t)(flags) & 0xf0ffull) << 40) | \
	 (((uint64_t)(limit) & 0x000f0000ull) << 32) | (((uint64_t)(base) & 0x00ffffffull) << 16) | \
	 ((uint64_t)(limit) & 0x0000ffffull))

int boot_write_cpu_tables(const struct guest_mem *gm)
{
	const uint64_t gdt[] = {
		0,
		GDT_ENTRY(0xc09b, 0, 0xfffff),   /* 0x08: 32-bit code */
		GDT_ENTRY(0xa09b, 0, 0xfffff),   /* 0x10: 64-bit code */
		GDT_ENTRY(0xc093, 0, 0xfffff),   /* 0x18: data */
		GDT_ENTRY(0x008b, 0, 0x67),      /* 0x20: busy 32-bit TSS */
	};
	if (gm_write(gm, LAYOUT_BOOT_GDT, gdt, sizeof(gdt)) < 0)
		return -1;

	uint64_t *pml4 = gm_ptr(gm, LAYOUT_PML4, 4096);
	uint64_t *pdpt = gm_ptr(gm, LAYOUT_PDPT, 4096);
	uint64_t *pd = gm_ptr(gm, LAYOUT_PD, 4 * 4096);
	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | 0x3;                       /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;                  /* 2 MiB page */
	return 0;
}
