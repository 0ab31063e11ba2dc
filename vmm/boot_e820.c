#include "vmm/boot.h"
#include "vmm/layout.h"

static void add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && map->nr < E820_MAX)
		map->e[map->nr++] = (struct e820_entry){ addr, size, type };
}

void e820_build(uint64_t low_end, uint64_t high_size, struct e820_map *map)
{
	map->nr = 0;
	/* Conventional memory stops at the EBDA; 640 KiB to 1 MiB holds the VGA
	 * window and the BIOS area with the ACPI tables. */
	add(map, 0, LAYOUT_EBDA, E820_RAM);
	add(map, LAYOUT_EBDA, LAYOUT_VGA_WINDOW - LAYOUT_EBDA, E820_RESERVED);
	add(map, LAYOUT_BIOS_AREA, LAYOUT_BIOS_AREA_SIZE, E820_RESERVED);
	if (low_end > LAYOUT_HIGH_MEM)
		add(map, LAYOUT_HIGH_MEM, low_end - LAYOUT_HIGH_MEM, E820_RAM);
	/* Linux only trusts MMCONFIG when the e820 map reserves it. */
	add(map, LAYOUT_PCI_ECAM, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED);
	add(map, LAYOUT_HIGH_RAM_BASE, high_size, E820_RAM);
}
