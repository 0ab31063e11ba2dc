/* Minimal kernel images built in memory for the boot loader tests: a
 * bzImage with a real setup header, and ELF32/ELF64 files with a PVH
 * entry note.  Each builder returns a malloc'ed buffer of exactly the
 * image's size, so ASan catches any read past its end. */
#ifndef VMDECK_TESTS_BOOT_IMAGES_H
#define VMDECK_TESTS_BOOT_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bzImage ---------------------------------------------------------------- */

struct tl_bz {
	uint16_t version;           /* default 0x020f */
	uint8_t setup_sects;        /* default 4 (0 means 4 to the loader too) */
	uint16_t xloadflags;        /* default XLF_KERNEL_64 */
	uint8_t relocatable;        /* default 1 */
	uint8_t loadflags;          /* default LOADED_HIGH */
	uint32_t kernel_alignment;  /* default 2 MiB */
	uint64_t pref_address;      /* default 16 MiB */
	uint32_t init_size;         /* default 4 MiB */
	uint32_t initrd_addr_max;   /* default 0x7fffffff */
	uint32_t cmdline_size;      /* default 2047 */
	uint8_t jump;               /* byte at 0x201; default: header ends at 0x268 */
	size_t payload;             /* protected-mode bytes after the setup; default 64 KiB */
};

void tl_bz_defaults(struct tl_bz *o);
/* The payload's byte I is tl_bz_payload_byte(I). */
uint8_t *tl_bz_build(const struct tl_bz *o, size_t *size);
uint8_t tl_bz_payload_byte(size_t i);
/* Bytes of boot sector + setup code before the payload. */
size_t tl_bz_setup_bytes(const struct tl_bz *o);

/* ---- PVH ELF ------------------------------------------------------------------ */

struct tl_pvh {
	bool is64;                  /* ELF64 (default) or ELF32 */
	uint64_t paddr;             /* PT_LOAD physical address; default 16 MiB */
	uint64_t filesz, memsz;     /* default 8 KiB and 64 KiB */
	uint64_t entry;             /* the PVH note's value; default paddr + 0x40 */
	unsigned entry_size;        /* 4 or 8 (default 8, as vmlinux on x86_64) */
	bool note;                  /* include the Xen PHYS32_ENTRY note (default true) */
	bool load_first;            /* PT_LOAD before PT_NOTE (default false) */
};

/* Where things are in a built image, for tests that corrupt them. */
struct tl_pvh_layout {
	size_t phoff, phentsize;
	unsigned phnum;
	unsigned note_ph, load_ph;  /* program header indexes */
	size_t notes_off, notes_size;
	size_t xen_note_off;        /* the Xen note's header inside the notes */
	size_t seg_off;             /* the PT_LOAD bytes */
};

void tl_pvh_defaults(struct tl_pvh *o);
uint8_t *tl_pvh_build(const struct tl_pvh *o, size_t *size, struct tl_pvh_layout *lay);
/* Segment byte I is tl_pvh_seg_byte(I). */
uint8_t tl_pvh_seg_byte(size_t i);
/* Program header field writers that know ELF32 from ELF64. */
enum tl_ph_field { TL_PH_TYPE, TL_PH_OFFSET, TL_PH_PADDR, TL_PH_FILESZ, TL_PH_MEMSZ };
void tl_pvh_set_ph(uint8_t *img, const struct tl_pvh *o, const struct tl_pvh_layout *lay,
		   unsigned index, enum tl_ph_field field, uint64_t value);

#endif
