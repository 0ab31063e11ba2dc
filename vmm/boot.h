/* Direct kernel boot: Linux bzImage (64-bit boot protocol) and ELF kernels
 * with a PVH entry note.  The loaders write into guest memory only through
 * struct guest_mem and return the CPU entry state; they never touch KVM. */
#ifndef VMDECK_BOOT_H
#define VMDECK_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/guest_mem.h"

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_MAX      32

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct e820_map {
	struct e820_entry e[E820_MAX];
	unsigned nr;
};

/* The machine's memory map for LOW_END bytes of RAM below the PCI hole and
 * HIGH_SIZE bytes above 4 GiB. */
void e820_build(uint64_t low_end, uint64_t high_size, struct e820_map *map);

enum kernel_format { KERNEL_UNKNOWN, KERNEL_BZIMAGE, KERNEL_PVH_ELF };

enum boot_mode {
	BOOT_MODE_LINUX64,   /* long mode, identity paging, RSI = boot_params */
	BOOT_MODE_PVH32,     /* 32-bit protected mode, paging off, EBX = start_info */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t arg;        /* RSI or EBX, depending on the mode */
};

/* A linear framebuffer already set up for the kernel (Linux screen_info). */
struct boot_fb {
	uint64_t base;
	uint32_t size, width, height, stride, bpp;
};

struct boot_config {
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd;   /* may be NULL */
	size_t initrd_size;
	const char *cmdline;     /* may be NULL */
	const struct e820_map *e820;
	uint64_t rsdp;           /* guest-physical address of the ACPI RSDP, or 0 */
	const struct boot_fb *fb;   /* NULL: no framebuffer console */
};

enum kernel_format boot_detect(const uint8_t *image, size_t size);
/* Loads the kernel described by CFG into GM.  On bad input returns -1 with
 * one sentence in ERR that does not name the file (the caller adds it). */
int boot_load(const struct guest_mem *gm, const struct boot_config *cfg,
	      struct boot_entry *entry, struct error *err);

/* Format-specific loaders, exposed for tests. */
int boot_load_bzimage(const struct guest_mem *gm, const struct boot_config *cfg,
		      struct boot_entry *entry, struct error *err);
int boot_load_pvh(const struct guest_mem *gm, const struct boot_config *cfg,
		  struct boot_entry *entry, struct error *err);

/* Shared helpers (boot.c). */
int boot_place_initrd(const struct guest_mem *gm, const struct boot_config *cfg, uint64_t min_addr,
		      uint64_t max_end, uint64_t *addr, struct error *err);
int boot_write_cmdline(const struct guest_mem *gm, const char *cmdline, size_t max_len,
		       struct error *err);
/* Writes the flat GDT (selectors 0x08 code32, 0x10 code64, 0x18 data,
 * 0x20 TSS) and, for long mode, identity page tables for the low 4 GiB. */
int boot_write_cpu_tables(const struct guest_mem *gm);

#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA   0x18
#define BOOT_SEL_TSS    0x20

#endif
