/* vmm/boot_e820.c: the memory map the guest is given. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "vmm/boot.h"
#include "vmm/layout.h"

static void assert_entry(const struct e820_map *m, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	if (i >= m->nr)
		fail_msg("entry %u missing (%u entries)", i, m->nr);
	if (m->e[i].addr != addr || m->e[i].size != size || m->e[i].type != type)
		fail_msg("entry %u is [%#llx +%#llx type %u], want [%#llx +%#llx type %u]", i,
			 (unsigned long long)m->e[i].addr, (unsigned long long)m->e[i].size, m->e[i].type,
			 (unsigned long long)addr, (unsigned long long)size, type);
}

/* Sorted, non-overlapping, no RAM in the VGA window, the PCI hole or the
 * legacy BIOS area. */
static void assert_sane(const struct e820_map *m)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->e[i];
		assert_true(e->size > 0);
		if (i)
			assert_true(m->e[i - 1].addr + m->e[i - 1].size <= e->addr);
		if (e->type == E820_RAM) {
			uint64_t end = e->addr + e->size;
			assert_false(e->addr < LAYOUT_HIGH_MEM && end > LAYOUT_EBDA);
			assert_false(e->addr < LAYOUT_HIGH_RAM_BASE && end > LAYOUT_LOW_RAM_MAX);
		}
	}
}

static uint64_t ram_total(const struct e820_map *m)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < m->nr; i++)
		if (m->e[i].type == E820_RAM)
			t += m->e[i].size;
	return t;
}

static void map_for_512m(void **state)
{
	struct e820_map m;
	m.nr = 99;
	e820_build(512 * MiB, 0, &m);
	assert_int_equal(m.nr, 5);
	assert_entry(&m, 0, 0, 0x9fc00, E820_RAM);                    /* 639 KiB conventional */
	assert_entry(&m, 1, 0x9fc00, 0x400, E820_RESERVED);           /* EBDA */
	assert_entry(&m, 2, 0xe0000, 0x20000, E820_RESERVED);         /* BIOS area, ACPI tables */
	assert_entry(&m, 3, 0x100000, 511 * MiB, E820_RAM);
	assert_entry(&m, 4, 0xe0000000, 16 * MiB, E820_RESERVED);     /* MMCONFIG */
	assert_sane(&m);
	assert_int_equal(ram_total(&m), 0x9fc00 + 511 * MiB);
}

static void map_for_6g_splits_around_the_pci_hole(void **state)
{
	struct e820_map m;
	e820_build(LAYOUT_LOW_RAM_MAX, 6 * GiB - LAYOUT_LOW_RAM_MAX, &m);
	assert_int_equal(m.nr, 6);
	assert_entry(&m, 3, 0x100000, 0xe0000000 - 0x100000, E820_RAM);
	assert_entry(&m, 4, 0xe0000000, 16 * MiB, E820_RESERVED);
	assert_entry(&m, 5, 0x100000000ull, 2560 * MiB, E820_RAM);
	assert_sane(&m);
	/* Every byte of RAM above 1 MiB that --mem 6G asked for is usable. */
	assert_int_equal(ram_total(&m) - 0x9fc00, 6 * GiB - 1 * MiB);
}

static void map_for_tiny_and_exact_boundaries(void **state)
{
	struct e820_map m;
	e820_build(1 * MiB, 0, &m);   /* nothing above 1 MiB: no empty entry */
	assert_int_equal(m.nr, 4);
	assert_entry(&m, 3, 0xe0000000, 16 * MiB, E820_RESERVED);
	assert_sane(&m);
	e820_build(1 * MiB + 4096, 0, &m);
	assert_entry(&m, 3, 0x100000, 4096, E820_RAM);
	e820_build(8 * MiB, 0, &m);
	assert_entry(&m, 3, 0x100000, 7 * MiB, E820_RAM);
	assert_int_equal(m.nr, 5);
	/* High RAM without growth of the low part (a 3.5 GiB + 1 page guest). */
	e820_build(LAYOUT_LOW_RAM_MAX, 4096, &m);
	assert_entry(&m, 5, 0x100000000ull, 4096, E820_RAM);
	assert_sane(&m);
}

static void map_fits_the_zero_page(void **state)
{
	/* The zero page holds 128 entries; the map never needs more than a few. */
	struct e820_map m;
	e820_build(LAYOUT_LOW_RAM_MAX, 1ull << 40, &m);
	assert_true(m.nr <= E820_MAX);
	assert_true(m.nr <= 128);
	assert_entry(&m, 5, 0x100000000ull, 1ull << 40, E820_RAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_for_512m),
		cmocka_unit_test(map_for_6g_splits_around_the_pci_hole),
		cmocka_unit_test(map_for_tiny_and_exact_boundaries),
		cmocka_unit_test(map_fits_the_zero_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
