/* vmm/boot.c: format detection, dispatch and the helpers both loaders use
 * (initrd placement, command line, GDT and identity page tables). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/boot_images.h"
#include "tests/lib/testlib.h"
#include "vmm/boot.h"
#include "vmm/layout.h"

static void detect_needs_the_signatures(void **state)
{
	struct tl_bz bz;
	tl_bz_defaults(&bz);
	size_t bsize;
	uint8_t *b = tl_bz_build(&bz, &bsize);
	assert_int_equal(boot_detect(b, bsize), KERNEL_BZIMAGE);
	assert_int_equal(boot_detect(b, 0x206), KERNEL_BZIMAGE);    /* just "HdrS" */
	assert_int_equal(boot_detect(b, 0x205), KERNEL_UNKNOWN);
	b[0x1fe] = 0;                                              /* no 0x55 0xAA */
	assert_int_equal(boot_detect(b, bsize), KERNEL_UNKNOWN);
	b[0x1fe] = 0x55;
	b[0x205] = 'X';                                            /* "HdrX" */
	assert_int_equal(boot_detect(b, bsize), KERNEL_UNKNOWN);
	free(b);

	struct tl_pvh pvh;
	tl_pvh_defaults(&pvh);
	size_t esize;
	uint8_t *e = tl_pvh_build(&pvh, &esize, NULL);
	assert_int_equal(boot_detect(e, esize), KERNEL_PVH_ELF);
	assert_int_equal(boot_detect(e, EI_NIDENT), KERNEL_PVH_ELF);
	assert_int_equal(boot_detect(e, EI_NIDENT - 1), KERNEL_UNKNOWN);
	e[1] = 'e';
	assert_int_equal(boot_detect(e, esize), KERNEL_UNKNOWN);
	free(e);

	uint8_t zeros[4096] = { 0 };
	assert_int_equal(boot_detect(zeros, sizeof(zeros)), KERNEL_UNKNOWN);
	assert_int_equal(boot_detect(zeros, 0), KERNEL_UNKNOWN);
}

static void load_refuses_unknown_formats(void **state)
{
	struct tl_mem m;
	tl_mem_init_pc(&m, 16 * MiB);
	struct e820_map map;
	e820_build(16 * MiB, 0, &map);
	static const char text[] = "#!/bin/sh\necho not a kernel\n";
	uint8_t *img = tl_dup(text, sizeof(text));
	struct boot_config cfg = { .kernel = img, .kernel_size = sizeof(text), .e820 = &map };
	struct boot_entry e = { .rip = 77 };
	struct error err = { .msg = "" };
	assert_int_equal(boot_load(&m.gm, &cfg, &e, &err), -1);
	assert_string_equal(err.msg, "it is neither a Linux bzImage nor an ELF kernel with a PVH entry point");
	assert_int_equal(e.rip, 77);
	/* A NULL error pointer is allowed. */
	assert_int_equal(boot_load(&m.gm, &cfg, &e, NULL), -1);
	free(img);
	tl_mem_free(&m);
}

static void place_initrd_highest_fit(void **state)
{
	struct tl_mem m;
	memset(&m, 0, sizeof(m));
	tl_mem_add(&m, 0, 640 * KiB);
	tl_mem_add(&m, 1 * MiB, 31 * MiB);            /* [1 MiB, 32 MiB) */
	uint8_t data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 11);
	struct boot_config cfg = { .initrd = data, .initrd_size = sizeof(data) };
	uint64_t at = 0;
	struct error err;

	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 2 * MiB, UINT64_MAX, &at, &err), 0);
	assert_int_equal(at, (32 * MiB - sizeof(data)) & ~0xfffull);
	assert_memory_equal(tl_mem_at(&m, at, sizeof(data)), data, sizeof(data));

	/* The end limit is exclusive and the start is page aligned. */
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 2 * MiB, 8 * MiB + 100, &at, &err), 0);
	assert_int_equal(at, (8 * MiB + 100 - sizeof(data)) & ~0xfffull);
	assert_true(at + sizeof(data) <= 8 * MiB + 100);

	/* Room for two page-aligned starts: the upper one is taken. */
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 4 * MiB, 4 * MiB + 4096 + 5000, &at, &err), 0);
	assert_int_equal(at, 4 * MiB + 4096);
	/* Exactly 5000 bytes from MIN_ADDR to the limit. */
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 4 * MiB, 4 * MiB + 5000, &at, &err), 0);
	assert_int_equal(at, 4 * MiB);
	/* One byte less: refused, not placed below MIN_ADDR. */
	memset(err.msg, 0, sizeof(err.msg));
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 4 * MiB, 4 * MiB + 4999, &at, &err), -1);
	tl_assert_contains(err.msg, "does not fit in guest RAM below 0x401387");
	tl_assert_contains(err.msg, "--mem");
	/* Never into low memory below the minimum, even if it fits there. */
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 1 * MiB, 1 * MiB, &at, &err), -1);
	/* An empty initrd still gets a page-aligned spot. */
	cfg.initrd_size = 0;
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 2 * MiB, 16 * MiB, &at, &err), 0);
	assert_int_equal(at, 16 * MiB);
	tl_mem_free(&m);
}

static void place_initrd_never_spans_regions(void **state)
{
	struct tl_mem m;
	memset(&m, 0, sizeof(m));
	tl_mem_add(&m, 1 * MiB, 1 * MiB);
	tl_mem_add(&m, 2 * MiB, 1 * MiB);            /* adjacent, but a separate mapping */
	size_t size = 1 * MiB + 4096;
	uint8_t *data = calloc(1, size);
	struct boot_config cfg = { .initrd = data, .initrd_size = size };
	uint64_t at = 0;
	struct error err = { .msg = "" };
	assert_int_equal(boot_place_initrd(&m.gm, &cfg, 1 * MiB, UINT64_MAX, &at, &err), -1);
	tl_assert_contains(err.msg, "initrd (1 MiB) does not fit");
	free(data);
	tl_mem_free(&m);
}

static void write_cmdline_limits(void **state)
{
	struct tl_mem m;
	tl_mem_init_pc(&m, 16 * MiB);
	struct error err = { .msg = "" };
	assert_int_equal(boot_write_cmdline(&m.gm, "quiet", 5, &err), 0);
	assert_string_equal(tl_mem_at(&m, LAYOUT_CMDLINE, 6), "quiet");
	assert_int_equal(boot_write_cmdline(&m.gm, "quiet", 4, &err), -1);
	assert_string_equal(err.msg, "the kernel command line is 5 bytes long and this kernel accepts at most 4");
	assert_int_equal(boot_write_cmdline(&m.gm, NULL, 0, &err), 0);
	assert_string_equal(tl_mem_at(&m, LAYOUT_CMDLINE, 1), "");
	tl_mem_free(&m);

	/* RAM that ends inside the command-line area. */
	memset(&m, 0, sizeof(m));
	tl_mem_add(&m, 0, LAYOUT_CMDLINE + 4);
	memset(err.msg, 0, sizeof(err.msg));
	assert_int_equal(boot_write_cmdline(&m.gm, "abcd", 100, &err), -1);
	tl_assert_contains(err.msg, "too small for the kernel command line");
	assert_int_equal(boot_write_cmdline(&m.gm, "abc", 100, &err), 0);
	tl_mem_free(&m);
}

static uint64_t gdt_entry(struct tl_mem *m, unsigned sel)
{
	uint64_t v;
	memcpy(&v, tl_mem_at(m, LAYOUT_BOOT_GDT + sel, 8), 8);
	return v;
}

static void cpu_tables_are_a_flat_gdt_and_identity_map(void **state)
{
	struct tl_mem m;
	tl_mem_init_pc(&m, 16 * MiB);
	memset(tl_mem_at(&m, LAYOUT_PML4, 4096), 0xee, 4096);
	assert_int_equal(boot_write_cpu_tables(&m.gm), 0);
	/* The descriptors every x86 boot loader uses (flat, 4 GiB, ring 0). */
	assert_int_equal(gdt_entry(&m, 0), 0);
	assert_int_equal(gdt_entry(&m, BOOT_SEL_CODE32), 0x00cf9b000000ffffull);
	assert_int_equal(gdt_entry(&m, BOOT_SEL_CODE64), 0x00af9b000000ffffull);
	assert_int_equal(gdt_entry(&m, BOOT_SEL_DATA), 0x00cf93000000ffffull);
	assert_int_equal(gdt_entry(&m, BOOT_SEL_TSS), 0x00008b0000000067ull);

	const uint64_t *pml4 = tl_mem_at(&m, LAYOUT_PML4, 4096);
	const uint64_t *pdpt = tl_mem_at(&m, LAYOUT_PDPT, 4096);
	assert_int_equal(pml4[0], LAYOUT_PDPT | 3);
	for (int i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (LAYOUT_PD + i * 4096) | 3);
	assert_int_equal(pdpt[4], 0);
	/* Walk a few addresses through the tables: identity, 2 MiB pages. */
	static const uint64_t probe[] = { 0, 0x7000, 16 * MiB + 0x1234, 0xdfffffffull, 0xfee00000ull, 0xffffffffull };
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		uint64_t va = probe[i];
		uint64_t e4 = pml4[(va >> 39) & 511];
		assert_true(e4 & 1);
		uint64_t e3 = pdpt[(va >> 30) & 511];
		assert_true(e3 & 1);
		const uint64_t *dir = tl_mem_at(&m, e3 & ~0xfffull, 4096);
		uint64_t e2 = dir[(va >> 21) & 511];
		assert_int_equal(e2 & 0x83, 0x83);            /* present, writable, 2 MiB page */
		assert_int_equal((e2 & ~0x1fffffull) | (va & 0x1fffff), va);
	}
	/* The tables do not overlap each other, the GDT or the zero page. */
	assert_true(LAYOUT_BOOT_GDT + 5 * 8 <= LAYOUT_ZERO_PAGE);
	assert_true(LAYOUT_PVH_MEMMAP + 4096 <= LAYOUT_PML4);
	tl_mem_free(&m);
}

static void cpu_tables_need_low_ram(void **state)
{
	struct tl_mem m;
	memset(&m, 0, sizeof(m));
	tl_mem_add(&m, 0, LAYOUT_PD + 3 * 4096);   /* the last page directory is missing */
	assert_int_equal(boot_write_cpu_tables(&m.gm), -1);
	tl_mem_free(&m);
	memset(&m, 0, sizeof(m));
	tl_mem_add(&m, 1 * MiB, 1 * MiB);          /* nothing below 1 MiB at all */
	assert_int_equal(boot_write_cpu_tables(&m.gm), -1);
	tl_mem_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detect_needs_the_signatures),
		cmocka_unit_test(load_refuses_unknown_formats),
		cmocka_unit_test(place_initrd_highest_fit),
		cmocka_unit_test(place_initrd_never_spans_regions),
		cmocka_unit_test(write_cmdline_limits),
		cmocka_unit_test(cpu_tables_are_a_flat_gdt_and_identity_map),
		cmocka_unit_test(cpu_tables_need_low_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
