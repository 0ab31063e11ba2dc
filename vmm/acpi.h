/* ACPI tables generated for the VM: RSDP, RSDT/XSDT, FADT, FACS, DSDT, MADT
 * (and MCFG when PCI ECAM is present). */
#ifndef VMDECK_ACPI_H
#define VMDECK_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/acpi_aml.h"

/* ACPI PM register block at PORT_ACPI_PM (see dev_pm.c). */
#define ACPI_PM1_EVT_OFF  0x00   /* PM1a_STS (2 bytes), PM1a_EN (2 bytes) */
#define ACPI_PM1_CNT_OFF  0x04   /* PM1a_CNT (2 bytes) */
#define ACPI_PM_TMR_OFF   0x08   /* PM_TMR (4 bytes) */
#define ACPI_GPE0_OFF     0x0c   /* GPE0_STS (2 bytes), GPE0_EN (2 bytes) */
#define ACPI_PM_LEN       0x10
#define ACPI_S5_SLP_TYP   5      /* the \_S5 value the guest writes to SLP_TYP */
#define ACPI_GPE_PWRBTN   0      /* GPE0 bit that notifies the power button */
#define ACPI_RESET_VALUE  0x06   /* written to PORT_RESET_CTL: full reset */

struct acpi_config {
	unsigned nr_cpus;
	uint8_t ioapic_id;
	/* Extra DSDT content inside \_SB, written by devices (PCI, ...). */
	void (*sb_extra)(struct aml *a, void *opaque);
	void *sb_extra_opaque;
	uint64_t ecam_base;      /* 0: no MCFG */
	unsigned ecam_buses;
	bool vga;                /* a VGA-compatible display exists */
};

/* Writes all tables into BUF, which the guest sees at BASE_GPA; returns the
 * bytes used, or 0 if LEN is too small.  *RSDP receives the RSDP address. */
size_t acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t len, uint64_t base_gpa,
		  uint64_t *rsdp);

/* Sum of LEN bytes mod 256 (0 for a valid table). */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
