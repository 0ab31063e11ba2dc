/* vmm/boot_pvh.c: ELF kernels with a PVH entry note.  The start_info
 * layout is checked against the Xen public header's byte offsets
 * (xen/include/public/arch-x86/hvm/start_info.h), not the loader's struct. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/boot_images.h"
#include "tests/lib/testlib.h"
#include "vmm/boot.h"
#include "vmm/layout.h"

#define RAM      (64 * MiB)
#define RSDP_GPA 0xE0000ull

/* hvm_start_info, version 1 */
#define SI_MAGIC          0
#define SI_VERSION        4
#define SI_FLAGS          8
#define SI_NR_MODULES     12
#define SI_MODLIST_PADDR  16
#define SI_CMDLINE_PADDR  24
#define SI_RSDP_PADDR     32
#define SI_MEMMAP_PADDR   40
#define SI_MEMMAP_ENTRIES 48
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u
/* hvm_modlist_entry (32 bytes) and hvm_memmap_entry (24 bytes) */
#define MOD_PADDR 0
#define MOD_SIZE 8
#define MOD_CMDLINE 16
#define MM_ADDR 0
#define MM_SIZE 8
#define MM_TYPE 16
#define MM_ENTRY_SIZE 24

struct fixture {
	struct tl_mem mem;
	struct e820_map e820;
	struct tl_pvh pvh;
	uint8_t *initrd;
	size_t initrd_size;
	const char *cmdline;
	/* applied to the built image before loading */
	void (*patch)(struct fixture *f, uint8_t *img, size_t *size, const struct tl_pvh_layout *lay);
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tl_mem_init_pc(&f->mem, RAM);
	e820_build(RAM, 0, &f->e820);
	tl_pvh_defaults(&f->pvh);
	f->cmdline = "console=ttyS0 pvh";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tl_mem_free(&f->mem);
	free(f->initrd);
	free(f);
	return 0;
}

static void make_initrd(struct fixture *f, size_t size)
{
	free(f->initrd);
	f->initrd = malloc(size);
	assert_non_null(f->initrd);
	for (size_t i = 0; i < size; i++)
		f->initrd[i] = (uint8_t)(i * 3 ^ 0xc3);
	f->initrd_size = size;
}

static int load(struct fixture *f, struct boot_entry *entry, struct error *err)
{
	size_t size;
	struct tl_pvh_layout lay;
	uint8_t *img = tl_pvh_build(&f->pvh, &size, &lay);
	if (f->patch)
		f->patch(f, img, &size, &lay);
	uint8_t *exact = tl_dup(img, size);   /* a patch may have shortened it */
	free(img);
	struct boot_config cfg = { .kernel = exact, .kernel_size = size, .initrd = f->initrd,
				   .initrd_size = f->initrd_size, .cmdline = f->cmdline, .e820 = &f->e820,
				   .rsdp = RSDP_GPA };
	memset(err->msg, 0, sizeof(err->msg));
	int r = boot_load(&f->mem.gm, &cfg, entry, err);
	free(exact);
	return r;
}

static uint32_t rd32(struct fixture *f, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, tl_mem_at(&f->mem, gpa, 4), 4);
	return v;
}

static uint64_t rd64(struct fixture *f, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, tl_mem_at(&f->mem, gpa, 8), 8);
	return v;
}

static void assert_segment_loaded(struct fixture *f)
{
	const uint8_t *p = tl_mem_at(&f->mem, f->pvh.paddr, f->pvh.memsz);
	for (size_t i = 0; i < f->pvh.filesz; i++)
		if (p[i] != tl_pvh_seg_byte(i))
			fail_msg("segment byte %zu is %#x, want %#x", i, p[i], tl_pvh_seg_byte(i));
	for (size_t i = f->pvh.filesz; i < f->pvh.memsz; i++)
		if (p[i] != 0)
			fail_msg("bss byte %zu is %#x, want 0", i, p[i]);
}

static void check_loads(struct fixture *f, const char *what)
{
	/* Stale bytes where the bss goes must be cleared. */
	memset(tl_mem_at(&f->mem, f->pvh.paddr, f->pvh.memsz), 0xcc, f->pvh.memsz);
	struct boot_entry e;
	struct error err;
	if (load(f, &e, &err) != 0)
		fail_msg("%s: refused: %s", what, err.msg);
	assert_int_equal(e.mode, BOOT_MODE_PVH32);
	assert_int_equal(e.rip, f->pvh.entry);
	assert_int_equal(e.arg, LAYOUT_ZERO_PAGE);   /* EBX = start_info */
	assert_segment_loaded(f);
	assert_int_equal(rd32(f, LAYOUT_ZERO_PAGE + SI_MAGIC), XEN_HVM_START_MAGIC_VALUE);
}

static void loads_elf64_and_elf32(void **state)
{
	struct fixture *f = *state;
	check_loads(f, "ELF64, 8-byte note");
	f->pvh.entry_size = 4;
	check_loads(f, "ELF64, 4-byte note");
	f->pvh.load_first = true;
	check_loads(f, "ELF64, PT_LOAD first");
	tl_pvh_defaults(&f->pvh);
	f->pvh.is64 = false;
	f->pvh.entry_size = 4;
	check_loads(f, "ELF32");
	f->pvh.paddr = 1 * MiB;          /* right at 1 MiB, entry inside */
	f->pvh.entry = 1 * MiB + 0x10;
	f->pvh.filesz = f->pvh.memsz = 4096;
	check_loads(f, "ELF32 at 1 MiB, no bss");
}

static void start_info_and_memory_map(void **state)
{
	struct fixture *f = *state;
	memset(tl_mem_at(&f->mem, LAYOUT_ZERO_PAGE, 4096), 0x77, 4096);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	const uint64_t si = LAYOUT_ZERO_PAGE;
	assert_int_equal(rd32(f, si + SI_MAGIC), XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(rd32(f, si + SI_VERSION), 1);
	assert_int_equal(rd32(f, si + SI_FLAGS), 0);
	assert_int_equal(rd32(f, si + SI_NR_MODULES), 0);
	assert_int_equal(rd64(f, si + SI_MODLIST_PADDR), 0);
	assert_int_equal(rd64(f, si + SI_RSDP_PADDR), RSDP_GPA);
	uint64_t cmdline = rd64(f, si + SI_CMDLINE_PADDR);
	assert_int_equal(cmdline, LAYOUT_CMDLINE);
	assert_string_equal(tl_mem_at(&f->mem, cmdline, strlen(f->cmdline) + 1), f->cmdline);
	/* The rest of the start_info page is cleared. */
	assert_int_equal(rd32(f, si + 52), 0);
	assert_int_equal(rd64(f, si + 256), 0);
	assert_int_equal(rd64(f, si + 4088), 0);

	uint64_t mm = rd64(f, si + SI_MEMMAP_PADDR);
	uint32_t n = rd32(f, si + SI_MEMMAP_ENTRIES);
	assert_int_equal(n, f->e820.nr);
	assert_int_equal(n, 5);
	for (unsigned i = 0; i < n; i++) {
		uint64_t ent = mm + i * MM_ENTRY_SIZE;
		assert_int_equal(rd64(f, ent + MM_ADDR), f->e820.e[i].addr);
		assert_int_equal(rd64(f, ent + MM_SIZE), f->e820.e[i].size);
		assert_int_equal(rd32(f, ent + MM_TYPE), f->e820.e[i].type);
		assert_int_equal(rd32(f, ent + 20), 0);
	}
	/* The map does not overlap start_info, the page tables or the kernel. */
	assert_true(mm >= si + 4096 || mm + n * MM_ENTRY_SIZE <= si);
	assert_true(mm + n * MM_ENTRY_SIZE <= LAYOUT_PML4);
}

static void initrd_is_module_zero_above_the_kernel(void **state)
{
	struct fixture *f = *state;
	make_initrd(f, 3 * MiB + 5);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	const uint64_t si = LAYOUT_ZERO_PAGE;
	assert_int_equal(rd32(f, si + SI_NR_MODULES), 1);
	uint64_t mod = rd64(f, si + SI_MODLIST_PADDR);
	assert_true(mod != 0);
	uint64_t at = rd64(f, mod + MOD_PADDR);
	assert_int_equal(rd64(f, mod + MOD_SIZE), f->initrd_size);
	assert_int_equal(rd64(f, mod + MOD_CMDLINE), 0);
	assert_int_equal(at & 0xfff, 0);
	assert_true(at >= f->pvh.paddr + f->pvh.memsz);
	assert_int_equal(at, (RAM - f->initrd_size) & ~0xfffull);   /* as high as RAM allows */
	assert_memory_equal(tl_mem_at(&f->mem, at, f->initrd_size), f->initrd, f->initrd_size);
	/* The module list itself lies in RAM and clear of the memory map. */
	assert_true(mod + 32 <= LAYOUT_PVH_MEMMAP || mod >= LAYOUT_PVH_MEMMAP + 32 * MM_ENTRY_SIZE);
}

static void initrd_in_a_6g_guest_stays_below_the_pci_hole(void **state)
{
	struct fixture *f = *state;
	tl_mem_free(&f->mem);
	tl_mem_init_pc_total(&f->mem, 6 * GiB);
	e820_build(LAYOUT_LOW_RAM_MAX, 6 * GiB - LAYOUT_LOW_RAM_MAX, &f->e820);
	make_initrd(f, 2 * MiB + 1);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	uint64_t mod = rd64(f, LAYOUT_ZERO_PAGE + SI_MODLIST_PADDR);
	assert_int_equal(rd64(f, mod + MOD_PADDR), (LAYOUT_LOW_RAM_MAX - f->initrd_size) & ~0xfffull);
	assert_int_equal(rd32(f, LAYOUT_ZERO_PAGE + SI_MEMMAP_ENTRIES), 6);
}

/* ---- hostile and broken files ----------------------------------------------------- */

static void set_ehdr_u64(uint8_t *img, size_t off64, size_t off32, bool is64, uint64_t v)
{
	if (is64)
		memcpy(img + off64, &v, 8);
	else {
		uint32_t w = (uint32_t)v;
		memcpy(img + off32, &w, 4);
	}
}

static void set_u16(uint8_t *img, size_t off, uint16_t v) { memcpy(img + off, &v, 2); }
static void set_u32(uint8_t *img, size_t off, uint32_t v) { memcpy(img + off, &v, 4); }

#define PATCH(name) static void name(struct fixture *f, uint8_t *img, size_t *size, const struct tl_pvh_layout *l)

PATCH(phoff_past_end) { set_ehdr_u64(img, offsetof(Elf64_Ehdr, e_phoff), offsetof(Elf32_Ehdr, e_phoff), f->pvh.is64, *size); }
PATCH(phoff_huge) { set_ehdr_u64(img, offsetof(Elf64_Ehdr, e_phoff), offsetof(Elf32_Ehdr, e_phoff), f->pvh.is64, UINT64_MAX - 8); }
PATCH(phoff_half_out) { set_ehdr_u64(img, offsetof(Elf64_Ehdr, e_phoff), offsetof(Elf32_Ehdr, e_phoff), f->pvh.is64, *size - l->phentsize - 4); }
PATCH(phnum_huge) { set_u16(img, f->pvh.is64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum), 0xffff); }
PATCH(phnum_zero) { set_u16(img, f->pvh.is64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum), 0); }
PATCH(phentsize_odd) { set_u16(img, f->pvh.is64 ? offsetof(Elf64_Ehdr, e_phentsize) : offsetof(Elf32_Ehdr, e_phentsize), 40); }
PATCH(machine_arm) { set_u16(img, offsetof(Elf64_Ehdr, e_machine), EM_ARM); }
PATCH(big_endian) { img[EI_DATA] = ELFDATA2MSB; }
PATCH(class_none) { img[EI_CLASS] = ELFCLASSNONE; }
PATCH(shorter_than_ehdr) { *size = sizeof(Elf64_Ehdr) - 1; }
PATCH(load_offset_past_end) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_OFFSET, *size - 16); }
PATCH(load_offset_huge) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_OFFSET, f->pvh.is64 ? UINT64_MAX - 1 : UINT32_MAX - 1); }
PATCH(load_filesz_past_end) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_FILESZ, f->pvh.filesz + 1); }
PATCH(load_filesz_over_memsz) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_MEMSZ, f->pvh.filesz - 1); }
PATCH(load_beyond_ram) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_PADDR, RAM - 4096); }
PATCH(load_below_1m) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_PADDR, 0x10000); }
PATCH(load_in_vga_hole) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_PADDR, 0xa0000); }
PATCH(load_wraps) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_PADDR, f->pvh.is64 ? UINT64_MAX - 0xfff : UINT32_MAX - 0xfff); }
PATCH(load_memsz_huge) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_MEMSZ, f->pvh.is64 ? UINT64_MAX : UINT32_MAX); }
PATCH(load_is_null) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_TYPE, PT_NULL); }
PATCH(load_memsz_zero) { tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_FILESZ, 0); tl_pvh_set_ph(img, &f->pvh, l, l->load_ph, TL_PH_MEMSZ, 0); }
PATCH(note_offset_past_end) { tl_pvh_set_ph(img, &f->pvh, l, l->note_ph, TL_PH_OFFSET, *size); }
PATCH(note_namesz_huge) { set_u32(img, l->xen_note_off, 0xffffffff); }
PATCH(note_descsz_huge) { set_u32(img, l->xen_note_off + 4, 0xfffffff0); }
PATCH(note_descsz_2) { set_u32(img, l->xen_note_off + 4, 2); }
PATCH(note_name_wrong) { memcpy(img + l->xen_note_off + 12, "Xex", 4); }
PATCH(first_note_namesz_huge) { set_u32(img, l->notes_off, 0x7ffffff0); }
PATCH(note_cut_short) { tl_pvh_set_ph(img, &f->pvh, l, l->note_ph, TL_PH_FILESZ, l->notes_size - 4); }
PATCH(note_not_a_note) { tl_pvh_set_ph(img, &f->pvh, l, l->note_ph, TL_PH_TYPE, PT_NULL); }

static void no_note(struct fixture *f) { f->pvh.note = false; }
static void entry_beyond_ram(struct fixture *f) { f->pvh.entry = RAM + 0x1000; }
static void entry_above_4g(struct fixture *f) { f->pvh.entry = 0x100001000ull; }
static void entry_in_vga_hole(struct fixture *f) { f->pvh.entry = 0xa0000; }
static void cmdline_too_long(struct fixture *f)
{
	static char line[LAYOUT_CMDLINE_MAX + 1];
	memset(line, 'p', LAYOUT_CMDLINE_MAX);
	f->cmdline = line;
}
static void initrd_too_big(struct fixture *f) { make_initrd(f, (size_t)RAM - 16 * MiB); }
static void elf32(struct fixture *f)
{
	f->pvh.is64 = false;
	f->pvh.entry_size = 4;
}

static void elf32_no_note(struct fixture *f)
{
	elf32(f);
	no_note(f);
}

struct hostile {
	const char *what;
	void (*opts)(struct fixture *f);
	void (*patch)(struct fixture *f, uint8_t *img, size_t *size, const struct tl_pvh_layout *l);
	const char *key;
};

static const struct hostile hostile[] = {
	{ "phoff past the end", NULL, phoff_past_end, "program headers lie outside the file" },
	{ "phoff near 2^64", NULL, phoff_huge, "program headers lie outside the file" },
	{ "phdrs cut by the end", NULL, phoff_half_out, "program headers lie outside the file" },
	{ "phnum 65535", NULL, phnum_huge, "program headers lie outside the file" },
	{ "phnum 0", NULL, phnum_zero, "program headers" },
	{ "phentsize 40", NULL, phentsize_odd, "unexpected size" },
	{ "ELF32 phoff past the end", elf32, phoff_past_end, "program headers lie outside the file" },
	{ "ELF32 phnum 65535", elf32, phnum_huge, "program headers lie outside the file" },
	{ "ELF32 phentsize 40", elf32, phentsize_odd, "unexpected size" },
	{ "ARM", NULL, machine_arm, "another machine (e_machine 40)" },
	{ "ELF32 ARM", elf32, machine_arm, "another machine (e_machine 40)" },
	{ "big-endian", NULL, big_endian, "not a little-endian 32- or 64-bit one" },
	{ "ELFCLASSNONE", NULL, class_none, "not a little-endian 32- or 64-bit one" },
	{ "shorter than its header", NULL, shorter_than_ehdr, "too short to hold its own header" },
	{ "p_offset past the end", NULL, load_offset_past_end, "segment 1 lies outside the file" },
	{ "p_offset near 2^64", NULL, load_offset_huge, "segment 1 lies outside the file" },
	{ "p_offset+p_filesz past the end", NULL, load_filesz_past_end, "segment 1 lies outside the file" },
	{ "ELF32 p_offset+p_filesz past the end", elf32, load_filesz_past_end, "segment 1 lies outside the file" },
	{ "ELF32 p_offset near 2^32", elf32, load_offset_huge, "segment 1 lies outside the file" },
	{ "filesz > memsz", NULL, load_filesz_over_memsz, "more file bytes than memory bytes" },
	{ "segment past the end of RAM", NULL, load_beyond_ram, "is not inside the VM's RAM above 1 MiB" },
	{ "segment below 1 MiB", NULL, load_below_1m, "segment 1 (0x10000-" },
	{ "segment in the VGA hole", NULL, load_in_vga_hole, "is not inside the VM's RAM" },
	{ "segment wrapping 2^64", NULL, load_wraps, "is not inside the VM's RAM" },
	{ "ELF32 segment wrapping 2^32", elf32, load_wraps, "is not inside the VM's RAM" },
	{ "memsz 2^64-1", NULL, load_memsz_huge, "is not inside the VM's RAM" },
	{ "nothing to load (PT_NULL)", NULL, load_is_null, "nothing to load" },
	{ "nothing to load (memsz 0)", NULL, load_memsz_zero, "nothing to load" },
	{ "notes past the end", NULL, note_offset_past_end, "segment 0 lies outside the file" },
	{ "note namesz 2^32-1", NULL, note_namesz_huge, "without a PVH entry point" },
	{ "note descsz huge", NULL, note_descsz_huge, "without a PVH entry point" },
	{ "note descsz 2", NULL, note_descsz_2, "without a PVH entry point" },
	{ "note name not Xen", NULL, note_name_wrong, "without a PVH entry point" },
	{ "first note namesz huge", NULL, first_note_namesz_huge, "without a PVH entry point" },
	{ "note segment cut short", NULL, note_cut_short, "without a PVH entry point" },
	{ "notes not in a PT_NOTE", NULL, note_not_a_note, "without a PVH entry point" },
	{ "no PVH note", no_note, NULL, "(no XEN_ELFNOTE_PHYS32_ENTRY note)" },
	{ "ELF32 no PVH note", elf32_no_note, NULL, "without a PVH entry point" },
	{ "entry past the end of RAM", entry_beyond_ram, NULL, "PVH entry point 0x4001000 is not in the VM's RAM" },
	{ "entry above 4 GiB", entry_above_4g, NULL, "PVH entry point 0x100001000 is not in the VM's RAM" },
	{ "entry in the VGA hole", entry_in_vga_hole, NULL, "PVH entry point 0xa0000 is not in the VM's RAM" },
	{ "cmdline longer than 64 KiB", cmdline_too_long, NULL, "at most 65535" },
	{ "initrd that does not fit", initrd_too_big, NULL, "does not fit" },
};

static void hostile_files_are_refused_with_a_sentence(void **state)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct fixture *f = *state;
		tl_pvh_defaults(&f->pvh);
		f->cmdline = "console=ttyS0";
		free(f->initrd);
		f->initrd = NULL;
		f->initrd_size = 0;
		if (hostile[i].opts)
			hostile[i].opts(f);
		f->patch = hostile[i].patch;
		struct boot_entry e = { .rip = 0x4321 };
		struct error err;
		int r = load(f, &e, &err);
		if (r != -1)
			fail_msg("%s: accepted", hostile[i].what);
		if (!strstr(err.msg, hostile[i].key))
			fail_msg("%s: the sentence \"%s\" lacks \"%s\"", hostile[i].what, err.msg, hostile[i].key);
		assert_int_equal(e.rip, 0x4321);
	}
}

static void truncated_at_every_offset(void **state)
{
	struct fixture *f = *state;
	for (int is64 = 0; is64 < 2; is64++) {
		tl_pvh_defaults(&f->pvh);
		f->pvh.is64 = is64;
		f->pvh.entry_size = is64 ? 8 : 4;
		size_t size;
		uint8_t *img = tl_pvh_build(&f->pvh, &size, NULL);
		for (size_t len = 0; len < size; len++) {
			uint8_t *cut = tl_dup(img, len);
			struct boot_config cfg = { .kernel = cut, .kernel_size = len, .cmdline = "x", .e820 = &f->e820 };
			struct boot_entry e;
			struct error err = { .msg = "" };
			int r = boot_load(&f->mem.gm, &cfg, &e, &err);
			if (r != -1 || !err.msg[0])
				fail_msg("ELF%d cut at %zu of %zu: returned %d (\"%s\")", is64 ? 64 : 32, len, size, r,
					 err.msg);
			if (len < EI_NIDENT)
				tl_assert_contains(err.msg, "neither a Linux bzImage nor an ELF kernel");
			else
				tl_assert_contains(err.msg, "ELF");
			free(cut);
		}
		free(img);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(loads_elf64_and_elf32),
		T(start_info_and_memory_map),
		T(initrd_is_module_zero_above_the_kernel),
		T(initrd_in_a_6g_guest_stays_below_the_pci_hole),
		T(hostile_files_are_refused_with_a_sentence),
		T(truncated_at_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
