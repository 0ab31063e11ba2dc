/* The PCI root bridge and its interrupt routing as the guest's ACPI sees
 * them.  INTx goes through link devices because a _PRT entry naming a GSI
 * directly means "level, active low", while KVM's IOAPIC takes the
 * line level as given: the links say active high. */
#include <stdio.h>

#include "vmm/acpi_aml.h"
#include "vmm/layout.h"
#include "vmm/pci.h"

static void link_name(char *buf, unsigned link)
{
	snprintf(buf, 5, "LNK%c", 'A' + link);
}

static void link_device(struct aml *a, unsigned link)
{
	char name[5];
	link_name(name, link);
	size_t dev = aml_device_begin(a, name);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0F");
	aml_name(a, "_UID");
	aml_int(a, link);
	aml_name(a, "_STA");
	aml_int(a, 0x0b);                 /* present, enabled, functioning */
	for (int i = 0; i < 2; i++) {
		aml_name(a, i ? "_CRS" : "_PRS");
		size_t buf = aml_buffer_begin(a);
		aml_res_gsi_level_high(a, PCI_INTX_GSI_BASE + link);
		aml_res_end(a);
		aml_buffer_end(a, buf);
	}
	/* The routing is fixed: setting or disabling a link changes nothing. */
	size_t srs = aml_method_begin(a, "_SRS", 1, false);
	aml_end(a, srs);
	size_t dis = aml_method_begin(a, "_DIS", 0, false);
	aml_end(a, dis);
	aml_end(a, dev);
}

static void routing_table(struct aml *a)
{
	aml_name(a, "_PRT");
	size_t prt = aml_package_begin(a, PCI_MAX_SLOTS * 4);
	for (unsigned slot = 0; slot < PCI_MAX_SLOTS; slot++)
		for (unsigned pin = 1; pin <= 4; pin++) {
			char name[5];
			link_name(name, pci_intx_gsi(slot, pin) - PCI_INTX_GSI_BASE);
			size_t e = aml_package_begin(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xffff);
			aml_int(a, pin - 1);
			aml_namestring(a, name);
			aml_int(a, 0);
			aml_end(a, e);
		}
	aml_end(a, prt);
}

static void root_resources(struct aml *a)
{
	aml_name(a, "_CRS");
	size_t crs = aml_buffer_begin(a);
	aml_res_bus_range(a, 0, LAYOUT_PCI_ECAM_BUSES - 1);
	aml_res_io(a, PORT_PCI_CONF_ADDR, 8);
	aml_res_io_range(a, 0x0000, PORT_PCI_CONF_ADDR - 1);
	aml_res_io_range(a, PORT_PCI_CONF_ADDR + 8, 0xffff);
	aml_res_mem32_range(a, LAYOUT_VGA_WINDOW, LAYOUT_VGA_WINDOW + 128 * KiB - 1, true);
	aml_res_mem32_range(a, LAYOUT_PCI_MMIO32, LAYOUT_PCI_MMIO32_END - 1, false);
	aml_res_end(a);
	aml_buffer_end(a, crs);
}

void pci_bus_aml(struct aml *a, void *opaque)
{
	(void)opaque;
	size_t dev = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");         /* PCI Express root bridge */
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	aml_name(a, "_UID");
	aml_int(a, 0);
	root_resources(a);
	routing_table(a);
	aml_end(a, dev);
	for (unsigned link = 0; link < PCI_INTX_LINKS; link++)
		link_device(a, link);
}
