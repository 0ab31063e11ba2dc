/* PCI configuration space through ECAM and through ports 0xCF8/0xCFC:
 * both must show the same host bridge, absent slots read all-ones, and the
 * MCFG table must point at the ECAM window. */
#include "virtio.h"

static uint32_t cf8_read(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

void guest_main(void)
{
	uint32_t ecam = pci_read32(0, 0), port = cf8_read(0, 0);
	print("pci: host bridge ecam ");
	put_hex(ecam);
	print(" cf8 ");
	put_hex(port);
	putc_serial('\n');
	print("pci: class ");
	put_hex(pci_read32(0, 8) >> 8);
	putc_serial('\n');
	print("pci: empty slot ");
	put_hex(pci_read32(31, 0));
	print(" ");
	put_hex(cf8_read(31, 0));
	putc_serial('\n');
	const uint8_t *mcfg = acpi_find_table("MCFG");
	if (mcfg) {
		uint64_t base;
		memcpy(&base, mcfg + 44, 8);
		print("pci: mcfg base ");
		put_hex(base);
		print(" buses ");
		put_dec(mcfg[54]);
		print("-");
		put_dec(mcfg[55]);
		putc_serial('\n');
	} else {
		println("pci: no MCFG");
	}
}
