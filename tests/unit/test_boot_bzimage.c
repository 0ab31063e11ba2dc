/* vmm/boot_bzimage.c: the Linux x86 boot protocol, 64-bit entry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/bootparam.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/boot_images.h"
#include "tests/lib/testlib.h"
#include "vmm/boot.h"
#include "vmm/layout.h"

#define RAM       (64 * MiB)
#define RSDP_GPA  0xE0000ull

struct fixture {
	struct tl_mem mem;
	struct e820_map e820;
	struct tl_bz bz;
	uint8_t *initrd;
	size_t initrd_size;
	const char *cmdline;
	void (*patch)(uint8_t *img, size_t size);   /* applied to the built image */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tl_mem_init_pc(&f->mem, RAM);
	e820_build(RAM, 0, &f->e820);
	tl_bz_defaults(&f->bz);
	f->cmdline = "console=ttyS0 root=/dev/vda";
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
		f->initrd[i] = (uint8_t)(i ^ (i >> 12) ^ 0x5a);
	f->initrd_size = size;
}

/* Builds the image from f->bz and loads it; the image buffer is exactly
 * the image's size. */
static int load(struct fixture *f, struct boot_entry *entry, struct error *err)
{
	size_t size;
	uint8_t *img = tl_bz_build(&f->bz, &size);
	if (f->patch)
		f->patch(img, size);
	struct boot_config cfg = { .kernel = img, .kernel_size = size, .initrd = f->initrd,
				   .initrd_size = f->initrd_size, .cmdline = f->cmdline, .e820 = &f->e820,
				   .rsdp = RSDP_GPA };
	memset(err->msg, 0, sizeof(err->msg));
	int r = boot_load(&f->mem.gm, &cfg, entry, err);
	free(img);
	return r;
}

static struct boot_params *zero_page(struct fixture *f)
{
	return tl_mem_at(&f->mem, LAYOUT_ZERO_PAGE, sizeof(struct boot_params));
}

static void assert_payload_at(struct fixture *f, uint64_t gpa)
{
	const uint8_t *p = tl_mem_at(&f->mem, gpa, f->bz.payload);
	for (size_t i = 0; i < f->bz.payload; i++)
		if (p[i] != tl_bz_payload_byte(i))
			fail_msg("payload byte %zu at %#llx is %#x, want %#x", i, (unsigned long long)gpa, p[i],
				 tl_bz_payload_byte(i));
}

static void loads_payload_and_enters_at_startup_64(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	assert_int_equal(e.mode, BOOT_MODE_LINUX64);
	assert_int_equal(e.rip, LAYOUT_KERNEL_DEFAULT + 0x200);   /* startup_64 */
	assert_int_equal(e.arg, LAYOUT_ZERO_PAGE);                /* RSI = boot_params */
	assert_payload_at(f, LAYOUT_KERNEL_DEFAULT);
	/* The setup code (0x5e filler) stays out of guest RAM at the load address. */
	const uint8_t *before = tl_mem_at(&f->mem, LAYOUT_KERNEL_DEFAULT - 16, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(before[i], 0);
}

static void zero_page_fields(void **state)
{
	struct fixture *f = *state;
	f->bz.loadflags = LOADED_HIGH | KEEP_SEGMENTS | QUIET_FLAG;
	make_initrd(f, 1 * MiB + 123);
	/* Stale data in the zero page must not survive. */
	memset(zero_page(f), 0xa5, sizeof(struct boot_params));
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	struct boot_params *bp = zero_page(f);
	struct setup_header *h = &bp->hdr;

	/* Copied from the image. */
	assert_int_equal(h->boot_flag, 0xaa55);
	assert_memory_equal(&h->header, "HdrS", 4);
	assert_int_equal(h->version, 0x020f);
	assert_int_equal(h->setup_sects, 4);
	assert_int_equal(h->init_size, 4 * MiB);
	assert_int_equal(h->kernel_alignment, 2 * MiB);
	assert_int_equal(h->xloadflags, XLF_KERNEL_64);
	/* Written by the loader. */
	assert_int_equal(h->type_of_loader, 0xff);
	assert_int_equal(h->vid_mode, 0xffff);
	assert_int_equal(h->loadflags & (LOADED_HIGH | CAN_USE_HEAP | KEEP_SEGMENTS | QUIET_FLAG),
			 LOADED_HIGH | CAN_USE_HEAP | QUIET_FLAG);
	assert_int_equal(h->heap_end_ptr, 0xfe00);
	assert_int_equal(h->cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal(tl_mem_at(&f->mem, LAYOUT_CMDLINE, strlen(f->cmdline) + 1), f->cmdline);
	assert_int_equal(h->ramdisk_size, 1 * MiB + 123);
	assert_true(h->ramdisk_image != 0);
	assert_int_equal(bp->acpi_rsdp_addr, RSDP_GPA);
	/* The e820 map, entry for entry. */
	assert_int_equal(bp->e820_entries, f->e820.nr);
	for (unsigned i = 0; i < f->e820.nr; i++) {
		assert_int_equal(bp->e820_table[i].addr, f->e820.e[i].addr);
		assert_int_equal(bp->e820_table[i].size, f->e820.e[i].size);
		assert_int_equal(bp->e820_table[i].type, f->e820.e[i].type);
	}
	assert_int_equal(bp->e820_table[f->e820.nr].size, 0);
	/* Everything outside the setup header and the fields above is zero. */
	assert_int_equal(bp->screen_info.orig_video_mode, 0);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->eddbuf_entries, 0);
	const size_t hdr_end = 0x1f1 + sizeof(struct setup_header);
	const uint8_t *tail = (const uint8_t *)bp + hdr_end;   /* after the setup header, before e820 */
	for (size_t i = 0; i < 0x2d0 - hdr_end; i++)
		assert_int_equal(tail[i], 0);
	/* The boot page tables are in place for the 64-bit entry. */
	const uint64_t *pml4 = tl_mem_at(&f->mem, LAYOUT_PML4, 8);
	assert_int_equal(pml4[0], LAYOUT_PDPT | 3);
}

static void initrd_goes_high_below_addr_max_and_above_the_kernel(void **state)
{
	struct fixture *f = *state;
	f->bz.initrd_addr_max = 48 * MiB - 1;
	make_initrd(f, 3 * MiB + 4097);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	struct setup_header *h = &zero_page(f)->hdr;
	uint64_t at = h->ramdisk_image, end = at + h->ramdisk_size;
	assert_int_equal(h->ramdisk_size, f->initrd_size);
	assert_int_equal(at & 0xfff, 0);
	assert_true(end - 1 <= f->bz.initrd_addr_max);
	assert_true(at >= LAYOUT_KERNEL_DEFAULT + f->bz.init_size);
	/* As high as the limit allows: the highest page-aligned start. */
	assert_int_equal(at, (48 * MiB - f->initrd_size) & ~0xfffull);
	assert_memory_equal(tl_mem_at(&f->mem, at, f->initrd_size), f->initrd, f->initrd_size);
}

static void initrd_at_the_top_of_ram_when_the_limit_is_higher(void **state)
{
	struct fixture *f = *state;
	f->bz.initrd_addr_max = 0xffffffff;
	make_initrd(f, 2 * MiB);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	struct setup_header *h = &zero_page(f)->hdr;
	assert_int_equal(h->ramdisk_image, RAM - 2 * MiB);
	assert_memory_equal(tl_mem_at(&f->mem, RAM - 2 * MiB, 2 * MiB), f->initrd, 2 * MiB);
}

/* 6 GiB as `--mem 6G` lays it out: the initrd stays below the PCI hole
 * (3.5 GiB) even when the kernel allows it up to 4 GiB. */
static void initrd_in_a_6g_guest_stays_below_the_pci_hole(void **state)
{
	struct fixture *f = *state;
	tl_mem_free(&f->mem);
	tl_mem_init_pc_total(&f->mem, 6 * GiB);
	e820_build(LAYOUT_LOW_RAM_MAX, 6 * GiB - LAYOUT_LOW_RAM_MAX, &f->e820);
	f->bz.initrd_addr_max = 0xffffffff;
	make_initrd(f, 5 * MiB + 1);
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	struct boot_params *bp = zero_page(f);
	assert_int_equal(bp->hdr.ramdisk_image, (LAYOUT_LOW_RAM_MAX - f->initrd_size) & ~0xfffull);
	assert_int_equal(bp->e820_entries, 6);
	assert_int_equal(bp->e820_table[5].addr, LAYOUT_HIGH_RAM_BASE);
	assert_int_equal(bp->e820_table[5].size, 6 * GiB - LAYOUT_LOW_RAM_MAX);
}

static void setup_sects_zero_means_four(void **state)
{
	struct fixture *f = *state;
	f->bz.setup_sects = 0;
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	assert_payload_at(f, LAYOUT_KERNEL_DEFAULT);   /* the payload starts at 5 * 512 */
}

static void load_address_follows_pref_address_and_alignment(void **state)
{
	static const struct {
		uint8_t relocatable;
		uint64_t pref;
		uint32_t align;
		uint64_t want;
	} cases[] = {
		{ 1, 16 * MiB, 2 * MiB, 16 * MiB },
		{ 1, 17 * MiB, 2 * MiB, 18 * MiB },          /* rounded up to the alignment */
		{ 1, 17 * MiB, 0x300000, 18 * MiB },         /* not a power of two: 2 MiB */
		{ 1, 17 * MiB, 0x800, 18 * MiB },            /* below a page: 2 MiB */
		{ 1, 17 * MiB, 16 * MiB, 32 * MiB },
		{ 1, 0, 2 * MiB, LAYOUT_KERNEL_DEFAULT },    /* no preference */
		{ 0, 1 * MiB, 2 * MiB, 1 * MiB },            /* not relocatable: exactly there */
		{ 0, 17 * MiB, 2 * MiB, 17 * MiB },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture *f = *state;
		f->bz.relocatable = cases[i].relocatable;
		f->bz.pref_address = cases[i].pref;
		f->bz.kernel_alignment = cases[i].align;
		f->bz.init_size = 1 * MiB;
		struct boot_entry e;
		struct error err;
		if (load(f, &e, &err) != 0)
			fail_msg("case %zu refused: %s", i, err.msg);
		if (e.rip != cases[i].want + 0x200)
			fail_msg("case %zu: entry %#llx, want %#llx", i, (unsigned long long)e.rip,
				 (unsigned long long)cases[i].want + 0x200);
		assert_payload_at(f, cases[i].want);
	}
}

/* Fields beyond the end of the header (given by the jump at 0x200) are
 * not read: an old header's garbage there is ignored. */
static void header_length_comes_from_the_jump(void **state)
{
	struct fixture *f = *state;
	f->bz.pref_address = 32 * MiB;   /* at 0x258 */
	f->bz.init_size = 0xffffffff;    /* at 0x260: would not fit */
	f->bz.jump = 0x250 - 0x202;      /* the header ends before pref_address */
	struct boot_entry e;
	struct error err;
	assert_int_equal(load(f, &e, &err), 0);
	assert_int_equal(e.rip, LAYOUT_KERNEL_DEFAULT + 0x200);
	struct setup_header *h = &zero_page(f)->hdr;
	assert_int_equal(h->pref_address, 0);
	assert_int_equal(h->init_size, 0);
	assert_int_equal(h->cmdline_size, 2047);   /* at 0x238, inside the header */
}

static void cmdline_limits(void **state)
{
	struct fixture *f = *state;
	struct boot_entry e;
	struct error err;
	char line[300];
	f->bz.cmdline_size = 255;
	memset(line, 'c', 255);
	line[255] = '\0';
	f->cmdline = line;
	assert_int_equal(load(f, &e, &err), 0);   /* exactly cmdline_size characters */
	assert_string_equal(tl_mem_at(&f->mem, LAYOUT_CMDLINE, 256), line);

	line[255] = 'c';
	line[256] = '\0';
	assert_int_equal(load(f, &e, &err), -1);
	tl_assert_contains(err.msg, "256 bytes long");
	tl_assert_contains(err.msg, "at most 255");

	f->cmdline = NULL;   /* no command line: an empty string */
	memset(tl_mem_at(&f->mem, LAYOUT_CMDLINE, 1), 'x', 1);
	assert_int_equal(load(f, &e, &err), 0);
	assert_int_equal(*(char *)tl_mem_at(&f->mem, LAYOUT_CMDLINE, 1), '\0');

	/* A kernel that claims more than the 64 KiB command-line area. */
	f->bz.cmdline_size = 0x7fffffff;
	char *huge = malloc(LAYOUT_CMDLINE_MAX + 1);
	memset(huge, 'h', LAYOUT_CMDLINE_MAX);
	huge[LAYOUT_CMDLINE_MAX] = '\0';
	f->cmdline = huge;
	assert_int_equal(load(f, &e, &err), -1);
	tl_assert_contains(err.msg, "at most 65535");
	huge[LAYOUT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(load(f, &e, &err), 0);
	free(huge);
}

/* ---- hostile and broken images ----------------------------------------------- */

struct hostile {
	const char *what;
	void (*mutate)(struct fixture *f);
	const char *key1, *key2;
};

static void old_protocol(struct fixture *f) { f->bz.version = 0x020b; }
static void ancient_protocol(struct fixture *f) { f->bz.version = 0x0100; }
static void no_64bit_entry(struct fixture *f) { f->bz.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G; }
static void patch_setup_sects_255(uint8_t *img, size_t size) { img[0x1f1] = 255; }
static void huge_setup_sects(struct fixture *f) { f->patch = patch_setup_sects_255; }
static void setup_eats_whole_file(struct fixture *f) { f->bz.setup_sects = 4; f->bz.payload = 0; }
static void init_size_max(struct fixture *f) { f->bz.init_size = 0xffffffff; }
static void init_size_ram(struct fixture *f) { f->bz.init_size = (uint32_t)RAM; }
static void pref_top_relocatable(struct fixture *f) { f->bz.pref_address = 0xfffffffffffff000ull; }
static void pref_top_aligned(struct fixture *f) { f->bz.pref_address = 0xffffffffffe00000ull; }
static void pref_top_fixed(struct fixture *f)
{
	f->bz.relocatable = 0;
	f->bz.pref_address = 0xfffffffffffff000ull;
}
static void pref_low_fixed(struct fixture *f)
{
	f->bz.relocatable = 0;
	f->bz.pref_address = 0x10000;
}
static void pref_bios_fixed(struct fixture *f)
{
	f->bz.relocatable = 0;
	f->bz.pref_address = 0xe0000;
}
static void pref_end_of_ram(struct fixture *f) { f->bz.pref_address = RAM - 2 * MiB; }
static void pref_in_pci_hole(struct fixture *f) { f->bz.pref_address = 0xfe000000; }
static void payload_bigger_than_ram(struct fixture *f)
{
	f->bz.payload = (size_t)RAM - 15 * MiB;
	f->bz.init_size = 0;
}
static void cmdline_too_long(struct fixture *f)
{
	f->bz.cmdline_size = 10;
	f->cmdline = "console=ttyS0";
}
static void cmdline_size_zero(struct fixture *f)
{
	f->bz.cmdline_size = 0;
	f->cmdline = "x";
}
static void initrd_bigger_than_ram(struct fixture *f) { make_initrd(f, 48 * MiB); }
static void initrd_limit_below_kernel(struct fixture *f)
{
	f->bz.initrd_addr_max = 16 * MiB - 1;
	make_initrd(f, 4096);
}
static void initrd_no_room_above_kernel(struct fixture *f)
{
	f->bz.init_size = 40 * MiB;     /* the kernel ends at 56 MiB */
	make_initrd(f, 9 * MiB);        /* 56 + 9 > 64 */
}
static void jump_zero(struct fixture *f) { f->bz.jump = 0; }
static void patch_syssize_beyond_file(uint8_t *img, size_t size)
{
	uint32_t units = 0x10000000;           /* 4 GiB of promised payload */
	memcpy(img + 0x1f4, &units, 4);
}
static void payload_cut_short(struct fixture *f) { f->patch = patch_syssize_beyond_file; }

static const struct hostile hostile[] = {
	{ "protocol 2.11", old_protocol, "boot protocol 2.11", "2.12 or newer" },
	{ "protocol 1.00", ancient_protocol, "boot protocol 1.00", "2.12" },
	{ "no XLF_KERNEL_64", no_64bit_entry, "without a 64-bit entry point", "32-bit" },
	{ "setup_sects 255", huge_setup_sects, "truncated", "131072 bytes" },
	{ "no payload", setup_eats_whole_file, "truncated", "2560 bytes" },
	{ "init_size 4 GiB", init_size_max, "raise --mem", "0x1000000" },
	{ "init_size = RAM", init_size_ram, "raise --mem", "0x1000000" },
	{ "pref_address near 2^64, relocatable", pref_top_relocatable, "raise --mem", "RAM" },
	{ "pref_address near 2^64, aligned", pref_top_aligned, "raise --mem", "0xffffffffffe00000" },
	{ "pref_address near 2^64, fixed", pref_top_fixed, "raise --mem", "0xfffffffffffff000" },
	{ "fixed below 1 MiB", pref_low_fixed, "0x10000", "RAM" },
	{ "fixed in the BIOS area", pref_bios_fixed, "0xe0000", "RAM" },
	{ "kernel past the end of RAM", pref_end_of_ram, "raise --mem", "0x3e00000" },
	{ "kernel in the PCI hole", pref_in_pci_hole, "raise --mem", "0xfe000000" },
	{ "payload bigger than RAM", payload_bigger_than_ram, "raise --mem", "RAM" },
	{ "cmdline > cmdline_size", cmdline_too_long, "13 bytes long", "at most 10" },
	{ "cmdline_size 0", cmdline_size_zero, "1 bytes long", "at most 0" },
	{ "initrd bigger than RAM", initrd_bigger_than_ram, "initrd (48 MiB) does not fit", "--mem" },
	{ "initrd_addr_max below the kernel", initrd_limit_below_kernel, "does not fit", "0x1000000" },
	{ "initrd no room above the kernel", initrd_no_room_above_kernel, "does not fit", "--mem" },
	{ "jump 0: header ends at 0x202", jump_zero, "boot protocol 0.00", "2.12" },
	{ "payload shorter than syssize", payload_cut_short, "truncated", "4294967296 bytes of kernel" },
};

static void hostile_images_are_refused_with_a_sentence(void **state)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct fixture *f = *state;
		tl_bz_defaults(&f->bz);
		f->cmdline = "console=ttyS0";
		free(f->initrd);
		f->initrd = NULL;
		f->initrd_size = 0;
		f->patch = NULL;
		hostile[i].mutate(f);
		struct boot_entry e = { .rip = 0x1234 };
		struct error err;
		int r = load(f, &e, &err);
		if (r != -1)
			fail_msg("%s: accepted", hostile[i].what);
		if (!strstr(err.msg, hostile[i].key1) || !strstr(err.msg, hostile[i].key2))
			fail_msg("%s: the sentence \"%s\" lacks \"%s\" or \"%s\"", hostile[i].what, err.msg,
				 hostile[i].key1, hostile[i].key2);
		assert_int_equal(e.rip, 0x1234);   /* no entry state on failure */
	}
}

/* Every prefix of a valid image up to the end of its setup code is refused
 * (by detection, by length, or as truncated) without reading past it. */
static void truncated_at_every_offset(void **state)
{
	struct fixture *f = *state;
	size_t size;
	uint8_t *img = tl_bz_build(&f->bz, &size);
	size_t setup = tl_bz_setup_bytes(&f->bz);
	for (size_t len = 0; len <= setup; len++) {
		uint8_t *cut = tl_dup(img, len);
		struct boot_config cfg = { .kernel = cut, .kernel_size = len, .cmdline = "x", .e820 = &f->e820 };
		struct boot_entry e;
		struct error err = { .msg = "" };
		int r = boot_load(&f->mem.gm, &cfg, &e, &err);
		/* The loader wants the whole setup header and one sector after it. */
		const size_t min_len = 0x1f1 + sizeof(struct setup_header) + 512;
		const char *key = len < 0x206 ? "neither a Linux bzImage" :
				  len < min_len ? "too short to be a bzImage" : "truncated";
		if (r != -1 || !strstr(err.msg, key))
			fail_msg("cut at %zu: returned %d with \"%s\", want \"%s\"", len, r, err.msg, key);
		/* The bzImage loader called directly, without detection first. */
		memset(err.msg, 0, sizeof(err.msg));
		if (boot_load_bzimage(&f->mem.gm, &cfg, &e, &err) != -1 || !err.msg[0])
			fail_msg("cut at %zu: the bzImage loader accepted it", len);
		free(cut);
	}
	free(img);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(loads_payload_and_enters_at_startup_64),
		T(zero_page_fields),
		T(initrd_goes_high_below_addr_max_and_above_the_kernel),
		T(initrd_at_the_top_of_ram_when_the_limit_is_higher),
		T(initrd_in_a_6g_guest_stays_below_the_pci_hole),
		T(setup_sects_zero_means_four),
		T(load_address_follows_pref_address_and_alignment),
		T(header_length_comes_from_the_jump),
		T(cmdline_limits),
		T(hostile_images_are_refused_with_a_sentence),
		T(truncated_at_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
