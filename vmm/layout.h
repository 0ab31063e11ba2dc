/* The guest-physical address map.  Chosen like a PC chipset so that direct
 * kernel boot now and SeaBIOS firmware boot later see the same machine. */
#ifndef VMDECK_LAYOUT_H
#define VMDECK_LAYOUT_H

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Low memory */
#define LAYOUT_BOOT_GDT        0x0500ull
#define LAYOUT_ZERO_PAGE       0x7000ull     /* Linux boot_params / PVH start_info */
#define LAYOUT_PML4            0x9000ull
#define LAYOUT_PDPT            0xA000ull
#define LAYOUT_PD              0xB000ull     /* 4 pages: 2 MiB pages for the low 4 GiB */
#define LAYOUT_PVH_MEMMAP      0x8000ull     /* PVH memory map, up to 170 entries */
#define LAYOUT_CMDLINE         0x20000ull
#define LAYOUT_CMDLINE_MAX     (64 * KiB)
#define LAYOUT_EBDA            0x9FC00ull
#define LAYOUT_VGA_WINDOW      0xA0000ull
#define LAYOUT_BIOS_AREA       0xE0000ull    /* ACPI tables; RSDP found by scanning here */
#define LAYOUT_BIOS_AREA_SIZE  0x20000ull
#define LAYOUT_HIGH_MEM        0x100000ull   /* 1 MiB */
#define LAYOUT_KERNEL_DEFAULT  0x1000000ull  /* 16 MiB */

/* RAM below 4 GiB stops at 3.5 GiB; the rest of the RAM goes above 4 GiB. */
#define LAYOUT_LOW_RAM_MAX     0xE0000000ull
#define LAYOUT_HIGH_RAM_BASE   0x100000000ull

/* The PCI hole between 3.5 and 4 GiB. */
#define LAYOUT_PCI_ECAM        0xE0000000ull
#define LAYOUT_PCI_ECAM_BUSES  16
#define LAYOUT_PCI_ECAM_SIZE   (LAYOUT_PCI_ECAM_BUSES * MiB)
#define LAYOUT_PCI_MMIO32      0xE1000000ull
#define LAYOUT_PCI_MMIO32_END  0xFEC00000ull
#define LAYOUT_IOAPIC          0xFEC00000ull
#define LAYOUT_LAPIC           0xFEE00000ull

/* KVM needs three pages for the TSS and one for the identity map on Intel;
 * they sit just below the BIOS flash area, outside RAM. */
#define LAYOUT_KVM_TSS         0xFFFBC000ull
#define LAYOUT_KVM_IDMAP       0xFFFBF000ull

/* Legacy I/O ports */
#define PORT_PIT               0x40
#define PORT_I8042_DATA        0x60
#define PORT_I8042_CMD         0x64
#define PORT_RTC               0x70
#define PORT_POST              0x80
#define PORT_IODELAY           0xED
#define PORT_COM1              0x3F8
#define PORT_PVPANIC           0x505         /* QEMU's ISA pvpanic port */
#define PORT_ACPI_PM           0x600         /* PM1a_EVT, PM1a_CNT, PM_TMR, GPE0 */
#define PORT_PCI_CONF_ADDR     0xCF8
#define PORT_RESET_CTL         0xCF9
#define PORT_PCI_CONF_DATA     0xCFC

/* ISA interrupts */
#define IRQ_KEYBOARD           1
#define IRQ_COM1               4
#define IRQ_RTC                8
#define IRQ_SCI                9
#define IRQ_MOUSE              12

#endif
