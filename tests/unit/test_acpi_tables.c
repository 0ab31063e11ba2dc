/* vmm/acpi_tables.c: the ACPI tables the guest finds.  Fields are read at
 * the byte offsets the ACPI 6 specification gives, and every table is
 * disassembled by the real `iasl -d` (Debian acpica-tools). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/acpi.h"
#include "vmm/cpuid.h"
#include "vmm/dev_rtc.h"
#include "vmm/layout.h"

#define AREA 0x20000

struct built {
	uint8_t *buf;
	size_t used;
	uint64_t base, rsdp;
};

static struct built build(const struct acpi_config *cfg, uint64_t base)
{
	struct built b = { .buf = calloc(1, AREA), .base = base };
	assert_non_null(b.buf);
	b.used = acpi_build(cfg, b.buf, AREA, base, &b.rsdp);
	assert_true(b.used > 0 && b.used <= AREA);
	return b;
}

static uint8_t u8(const uint8_t *p, size_t off) { return p[off]; }
static uint16_t u16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t u32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t u64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

/* The table at guest address GPA, checked to lie inside the built area
 * with a valid checksum. */
static const uint8_t *table_at(const struct built *b, uint64_t gpa, const char *sig)
{
	if (gpa < b->base || gpa - b->base + 36 > b->used)
		fail_msg("%s at %#llx is outside the tables", sig, (unsigned long long)gpa);
	const uint8_t *t = b->buf + (gpa - b->base);
	if (memcmp(t, sig, 4) != 0)
		fail_msg("expected %s at %#llx, found %.4s", sig, (unsigned long long)gpa, (const char *)t);
	uint32_t len = u32(t, 4);
	assert_true(gpa - b->base + len <= b->used);
	if (strcmp(sig, "FACS") != 0) {
		assert_int_equal(acpi_checksum(t, len), 0);
		assert_memory_equal(t + 10, "VMDECK", 6);
	}
	return t;
}

/* The tables the XSDT lists, by signature (NULL if absent). */
static const uint8_t *find_table(const struct built *b, const char *sig)
{
	const uint8_t *rsdp = b->buf + (b->rsdp - b->base);
	const uint8_t *xsdt = table_at(b, u64(rsdp, 24), "XSDT");
	for (size_t off = 36; off < u32(xsdt, 4); off += 8) {
		const uint8_t *t = b->buf + (u64(xsdt, off) - b->base);
		if (memcmp(t, sig, 4) == 0)
			return table_at(b, u64(xsdt, off), sig);
	}
	return NULL;
}

static void rsdp_rsdt_xsdt(void **state)
{
	for (int ecam = 0; ecam < 2; ecam++) {
		struct acpi_config cfg = { .nr_cpus = 2, .ecam_base = ecam ? LAYOUT_PCI_ECAM : 0,
					   .ecam_buses = LAYOUT_PCI_ECAM_BUSES };
		struct built b = build(&cfg, LAYOUT_BIOS_AREA);
		/* First in the area, 16-byte aligned: the legacy scan of
		 * 0xE0000-0xFFFFF finds it. */
		assert_int_equal(b.rsdp, LAYOUT_BIOS_AREA);
		const uint8_t *r = b.buf;
		assert_memory_equal(r, "RSD PTR ", 8);
		assert_int_equal(acpi_checksum(r, 20), 0);
		assert_int_equal(acpi_checksum(r, 36), 0);
		assert_memory_equal(r + 9, "VMDECK", 6);
		assert_int_equal(u8(r, 15), 2);                 /* ACPI 2.0+ RSDP */
		assert_int_equal(u32(r, 20), 36);
		const uint8_t *rsdt = table_at(&b, u32(r, 16), "RSDT");
		const uint8_t *xsdt = table_at(&b, u64(r, 24), "XSDT");
		unsigned n = ecam ? 3 : 2;
		assert_int_equal(u32(rsdt, 4), 36 + 4 * n);
		assert_int_equal(u32(xsdt, 4), 36 + 8 * n);
		static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(u32(rsdt, 36 + 4 * i), u64(xsdt, 36 + 8 * i));
			table_at(&b, u64(xsdt, 36 + 8 * i), sigs[i]);
		}
		assert_int_equal(find_table(&b, "MCFG") != NULL, ecam);
		free(b.buf);
	}
}

static void fadt_fields(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 1 };
	struct built b = build(&cfg, LAYOUT_BIOS_AREA);
	const uint8_t *f = find_table(&b, "FACP");
	assert_non_null(f);
	assert_int_equal(u32(f, 4), 276);
	assert_int_equal(u8(f, 8), 6);                          /* FADT revision 6 */
	uint64_t facs = u32(f, 36), dsdt = u32(f, 40);
	assert_int_equal(u64(f, 132), facs);                    /* X_FIRMWARE_CTRL */
	assert_int_equal(u64(f, 140), dsdt);                    /* X_DSDT */
	const uint8_t *fc = table_at(&b, facs, "FACS");
	assert_int_equal(facs % 64, 0);
	assert_int_equal(u32(fc, 4), 64);
	assert_int_equal(u8(fc, 32), 2);
	table_at(&b, dsdt, "DSDT");
	assert_int_equal(u16(f, 46), IRQ_SCI);                  /* SCI_INT 9 */
	assert_int_equal(u32(f, 48), 0);                        /* SMI_CMD: always in ACPI mode */
	assert_int_equal(u32(f, 56), 0x600);                    /* PM1a_EVT_BLK */
	assert_int_equal(u32(f, 64), 0x604);                    /* PM1a_CNT_BLK */
	assert_int_equal(u32(f, 76), 0x608);                    /* PM_TMR_BLK */
	assert_int_equal(u32(f, 80), 0x60c);                    /* GPE0_BLK */
	assert_int_equal(u8(f, 88), 4);                         /* PM1_EVT_LEN */
	assert_int_equal(u8(f, 89), 2);                         /* PM1_CNT_LEN */
	assert_int_equal(u8(f, 91), 4);                         /* PM_TMR_LEN */
	assert_int_equal(u8(f, 92), 4);                         /* GPE0_BLK_LEN */
	assert_int_equal(u8(f, 108), RTC_CENTURY);                 /* the RTC's century register */
	uint32_t flags = u32(f, 112);
	assert_true(flags & (1u << 4));                         /* PWR_BUTTON: control method */
	assert_true(flags & (1u << 10));                        /* RESET_REG_SUP */
	assert_false(flags & (1u << 8));                        /* TMR_VAL_EXT: 24-bit timer */
	assert_false(flags & (1u << 20));                       /* not HW_REDUCED_ACPI */
	/* RESET_REG: System I/O, 8 bits at 0xCF9, value 6. */
	assert_int_equal(u8(f, 116), 1);
	assert_int_equal(u8(f, 117), 8);
	assert_int_equal(u64(f, 120), 0xcf9);
	assert_int_equal(u8(f, 128), 6);
	/* The extended blocks repeat the ports. */
	assert_int_equal(u8(f, 148), 1);
	assert_int_equal(u64(f, 152), 0x600);
	assert_int_equal(u64(f, 176), 0x604);
	assert_int_equal(u8(f, 209), 32);
	assert_int_equal(u64(f, 212), 0x608);
	assert_int_equal(u64(f, 224), 0x60c);
	free(b.buf);
}

struct madt_view {
	unsigned lapics, ioapics, isos, nmis;
	uint8_t lapic_uid[256], lapic_id[256];
	uint32_t lapic_flags[256];
	uint8_t ioapic_id;
	uint32_t ioapic_addr, ioapic_gsi;
	uint8_t iso_src[4];
	uint32_t iso_gsi[4];
	uint16_t iso_flags[4];
	uint8_t nmi_uid, nmi_lint;
};

static struct madt_view parse_madt(const uint8_t *m)
{
	struct madt_view v;
	memset(&v, 0, sizeof(v));
	uint32_t len = u32(m, 4);
	for (size_t off = 44; off < len;) {
		uint8_t type = m[off], elen = m[off + 1];
		assert_true(elen >= 2 && off + elen <= len);
		switch (type) {
		case 0:
			assert_int_equal(elen, 8);
			assert_true(v.lapics < 256);
			v.lapic_uid[v.lapics] = m[off + 2];
			v.lapic_id[v.lapics] = m[off + 3];
			v.lapic_flags[v.lapics] = u32(m, off + 4);
			v.lapics++;
			break;
		case 1:
			assert_int_equal(elen, 12);
			v.ioapic_id = m[off + 2];
			v.ioapic_addr = u32(m, off + 4);
			v.ioapic_gsi = u32(m, off + 8);
			v.ioapics++;
			break;
		case 2:
			assert_int_equal(elen, 10);
			assert_int_equal(m[off + 2], 0);   /* bus: ISA */
			assert_true(v.isos < 4);
			v.iso_src[v.isos] = m[off + 3];
			v.iso_gsi[v.isos] = u32(m, off + 4);
			v.iso_flags[v.isos] = u16(m, off + 8);
			v.isos++;
			break;
		case 4:
			assert_int_equal(elen, 6);
			v.nmi_uid = m[off + 2];
			v.nmi_lint = m[off + 5];
			v.nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", type);
		}
		off += elen;
	}
	return v;
}

static void madt_every_cpu_and_the_ioapic(void **state)
{
	static const unsigned counts[] = { 1, 2, 3, 4, 64, 255 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c];
		struct acpi_config cfg = { .nr_cpus = n, .ioapic_id = (uint8_t)(c == 1 ? 3 : 0) };
		struct built b = build(&cfg, LAYOUT_BIOS_AREA);
		const uint8_t *m = find_table(&b, "APIC");
		assert_non_null(m);
		assert_int_equal(u32(m, 36), 0xfee00000);               /* local APIC address */
		assert_int_equal(u32(m, 40), 1);                        /* PCAT_COMPAT: 8259s present */
		struct madt_view v = parse_madt(m);
		assert_int_equal(v.lapics, n);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(v.lapic_uid[i], i);
			assert_int_equal(v.lapic_id[i], i);
			assert_int_equal(v.lapic_flags[i], 1);          /* enabled */
		}
		assert_int_equal(v.ioapics, 1);
		assert_int_equal(v.ioapic_id, cfg.ioapic_id);
		assert_int_equal(v.ioapic_addr, 0xfec00000);
		assert_int_equal(v.ioapic_gsi, 0);
		/* IRQ0 -> GSI2 (conforming); SCI 9 -> GSI 9 level, active high. */
		assert_int_equal(v.isos, 2);
		assert_int_equal(v.iso_src[0], 0);
		assert_int_equal(v.iso_gsi[0], 2);
		assert_int_equal(v.iso_flags[0], 0);
		assert_int_equal(v.iso_src[1], 9);
		assert_int_equal(v.iso_gsi[1], 9);
		assert_int_equal(v.iso_flags[1], 0x000d);
		assert_int_equal(v.nmis, 1);
		assert_int_equal(v.nmi_uid, 0xff);                     /* all processors */
		assert_int_equal(v.nmi_lint, 1);
		free(b.buf);
	}
}

static void mcfg_describes_ecam(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 1, .ecam_base = LAYOUT_PCI_ECAM, .ecam_buses = 16 };
	struct built b = build(&cfg, LAYOUT_BIOS_AREA);
	const uint8_t *m = find_table(&b, "MCFG");
	assert_non_null(m);
	assert_int_equal(u32(m, 4), 60);
	assert_int_equal(u64(m, 44), 0xe0000000);
	assert_int_equal(u16(m, 52), 0);     /* segment */
	assert_int_equal(u8(m, 54), 0);      /* first bus */
	assert_int_equal(u8(m, 55), 15);     /* last bus */
	free(b.buf);
}

static void area_too_small_builds_nothing(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 4, .ecam_base = LAYOUT_PCI_ECAM, .ecam_buses = 16 };
	struct built full = build(&cfg, LAYOUT_BIOS_AREA);
	for (size_t len = 0; len < full.used; len++) {
		uint8_t *buf = malloc(len ? len : 1);   /* exact size: ASan sees any overrun */
		uint64_t rsdp = 0x1234;
		if (acpi_build(&cfg, buf, len, LAYOUT_BIOS_AREA, &rsdp) != 0)
			fail_msg("%zu bytes of %zu: reported success", len, full.used);
		assert_int_equal(rsdp, 0x1234);
		free(buf);
	}
	/* Alignment gaps between tables are left as they were (guest RAM is
	 * zero), so start from zeros to compare. */
	uint8_t *exact = calloc(1, full.used);
	uint64_t rsdp;
	assert_int_equal(acpi_build(&cfg, exact, full.used, LAYOUT_BIOS_AREA, &rsdp), full.used);
	assert_memory_equal(exact, full.buf, full.used);
	free(exact);
	free(full.buf);
}

static void base_address_only_moves_pointers(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 2 };
	struct built a = build(&cfg, 0xE0000), b = build(&cfg, 0x7FF00000);
	assert_int_equal(a.used, b.used);
	assert_int_equal(b.rsdp, 0x7FF00000);
	const uint8_t *xa = find_table(&a, "FACP"), *xb = find_table(&b, "FACP");
	assert_int_equal(u32(xb, 40) - u32(xa, 40), 0x7FF00000 - 0xE0000);
	assert_int_equal(u64(xb, 140) - u64(xa, 140), 0x7FF00000 - 0xE0000);
	/* The DSDT itself does not depend on where it lies. */
	const uint8_t *da = a.buf + (u32(xa, 40) - a.base), *db = b.buf + (u32(xb, 40) - b.base);
	assert_memory_equal(da, db, u32(da, 4));
	free(a.buf);
	free(b.buf);
}

/* The MADT's APIC ids are the ones CPUID reports to each vCPU. */
static void madt_ids_match_cpuid(void **state)
{
	const unsigned n = 6;
	struct acpi_config cfg = { .nr_cpus = n };
	struct built b = build(&cfg, LAYOUT_BIOS_AREA);
	struct madt_view v = parse_madt(find_table(&b, "APIC"));
	static struct cpuid_table host;
	memset(&host, 0, sizeof(host));
	host.nr = 3;
	host.e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xb };
	memcpy(&host.e[0].ebx, "Genu", 4);
	memcpy(&host.e[0].edx, "ineI", 4);
	memcpy(&host.e[0].ecx, "ntel", 4);
	host.e[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x00010800 };
	host.e[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
					       .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	for (unsigned i = 0; i < n; i++) {
		static struct cpuid_table t;
		t = host;
		cpuid_patch(&t, i, n, false);
		assert_int_equal(cpuid_find(&t, 1, 0)->ebx >> 24, v.lapic_id[i]);
		assert_int_equal(cpuid_find(&t, 0xb, 0)->edx, v.lapic_id[i]);
	}
	free(b.buf);
}

/* ---- iasl -------------------------------------------------------------------- */

/* Collapses runs of blanks so that iasl's column alignment does not matter. */
static char *squeeze(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t') {
			if (w > s && w[-1] == ' ')
				continue;
			*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

static void sb_extra_pci(struct aml *a, void *opaque)
{
	(*(int *)opaque)++;
	size_t d = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_end(a, d);
}

/* Disassembles table SIG with iasl; returns the squeezed .dsl text. */
static char *iasl_disassemble(const char *dir, const uint8_t *t, const char *sig)
{
	char path[600], cmd[1400];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	tl_write_file(path, t, u32(t, 4));
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d %s.dat", dir, sig);
	char *out;
	int st = tl_run(cmd, &out);
	if (st != 0)
		fail_msg("iasl -d %s failed with status %d:\n%s", sig, st, out);
	tl_assert_not_contains(out, "Error");
	tl_assert_not_contains(out, "Warning");
	tl_assert_not_contains(out, "Incorrect checksum");
	free(out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, sig);
	char *dsl = tl_read_file(path, NULL);
	assert_non_null(dsl);
	tl_assert_not_contains(dsl, "Incorrect checksum");
	return squeeze(dsl);
}

static void iasl_disassembles_every_table(void **state)
{
	if (!tl_have_program("iasl"))
		skip();
	int calls = 0;
	const unsigned n = 4;
	struct acpi_config cfg = { .nr_cpus = n, .ioapic_id = 0, .sb_extra = sb_extra_pci, .sb_extra_opaque = &calls,
				   .ecam_base = LAYOUT_PCI_ECAM, .ecam_buses = 16 };
	struct built b = build(&cfg, LAYOUT_BIOS_AREA);
	assert_int_equal(calls, 1);
	char *dir = tl_mkdtemp();

	const uint8_t *fadt = find_table(&b, "FACP");
	char *dsdt = iasl_disassemble(dir, table_at(&b, u32(fadt, 40), "DSDT"), "DSDT");
	tl_assert_contains(dsdt, "DefinitionBlock (\"\", \"DSDT\", 2, \"VMDECK\"");
	tl_assert_contains(dsdt, "Device (COM1)");
	tl_assert_contains(dsdt, "Name (_HID, EisaId (\"PNP0501\")");
	tl_assert_contains(dsdt, "IO (Decode16,\n 0x03F8, // Range Minimum\n 0x03F8, // Range Maximum\n"
				 " 0x01, // Alignment\n 0x08, // Length");
	tl_assert_contains(dsdt, "IRQNoFlags ()\n {4}");
	tl_assert_contains(dsdt, "Device (PWRB)");
	tl_assert_contains(dsdt, "Name (_HID, EisaId (\"PNP0C0C\")");
	tl_assert_contains(dsdt, "Scope (\\_GPE)");
	tl_assert_contains(dsdt, "Method (_L00, 0, NotSerialized)");
	tl_assert_contains(dsdt, "Notify (\\_SB.PWRB, 0x80)");
	tl_assert_contains(dsdt, "Name (\\_S5, Package (0x04)");
	tl_assert_contains(dsdt, "Name (\\_S5, Package (0x04) // _S5_: S5 System State\n {\n 0x05, \n 0x05, \n Zero, \n Zero\n })");
	tl_assert_contains(dsdt, "Name (\\_S0, Package (0x04)");
	/* The extra device sits inside \_SB, after PWRB and before \_GPE. */
	char *pci = strstr(dsdt, "Device (PCI0)");
	assert_non_null(pci);
	tl_assert_contains(pci, "EisaId (\"PNP0A08\")");
	assert_true(pci > strstr(dsdt, "Device (PWRB)"));
	assert_true(pci < strstr(dsdt, "Scope (\\_GPE)"));
	free(dsdt);

	char *f = iasl_disassemble(dir, fadt, "FACP");
	static const char *const fadt_lines[] = {
		"Revision : 06", "SCI Interrupt : 0009", "SMI Command Port : 00000000",
		"PM1A Event Block Address : 00000600", "PM1A Control Block Address : 00000604",
		"PM Timer Block Address : 00000608", "GPE0 Block Address : 0000060C",
		"PM1 Event Block Length : 04", "PM1 Control Block Length : 02", "PM Timer Block Length : 04",
		"GPE0 Block Length : 04", "RTC Century Index : 32", "Control Method Power Button (V1) : 1",
		"Reset Register Supported (V2) : 1", "32-bit PM Timer (V1) : 0", "Hardware Reduced (V5) : 0",
		"Reset Register : [Generic Address Structure]\n[074h 0116 1] Space ID : 01 [SystemIO]",
		"Address : 0000000000000CF9", "Value to cause reset : 06",
	};
	for (size_t i = 0; i < sizeof(fadt_lines) / sizeof(fadt_lines[0]); i++)
		tl_assert_contains(f, fadt_lines[i]);
	free(f);

	char *m = iasl_disassemble(dir, find_table(&b, "APIC"), "APIC");
	tl_assert_contains(m, "Local Apic Address : FEE00000");
	assert_int_equal(tl_count(m, "Subtable Type : 00 [Processor Local APIC]"), n);
	for (unsigned i = 0; i < n; i++) {
		char want[200];
		snprintf(want, sizeof(want), "Processor ID : %02X\n[%03Xh %04u 1] Local Apic ID : %02X", i,
			 0x2f + 8 * i, 0x2f + 8 * i, i);
		tl_assert_contains(m, want);
	}
	assert_int_equal(tl_count(m, "Processor Enabled : 1"), n);
	assert_int_equal(tl_count(m, "Subtable Type : 01 [I/O APIC]"), 1);
	tl_assert_contains(m, "I/O Apic ID : 00");
	tl_assert_contains(m, "Address : FEC00000");
	assert_int_equal(tl_count(m, "Subtable Type : 02 [Interrupt Source Override]"), 2);
	tl_assert_contains(m, "Source : 00\n");
	tl_assert_contains(m, "Interrupt : 00000002");
	tl_assert_contains(m, "Source : 09\n");
	tl_assert_contains(m, "Interrupt : 00000009\n");
	tl_assert_contains(m, "Flags (decoded below) : 000D\n Polarity : 1\n Trigger Mode : 3");
	tl_assert_contains(m, "Subtable Type : 04 [Local APIC NMI]");
	tl_assert_contains(m, "Interrupt Input LINT : 01");
	free(m);

	char *mc = iasl_disassemble(dir, find_table(&b, "MCFG"), "MCFG");
	tl_assert_contains(mc, "Base Address : 00000000E0000000");
	tl_assert_contains(mc, "Start Bus Number : 00");
	tl_assert_contains(mc, "End Bus Number : 0F");
	free(mc);

	char *fc = iasl_disassemble(dir, table_at(&b, u32(fadt, 36), "FACS"), "FACS");
	tl_assert_contains(fc, "Length : 00000040");
	free(fc);

	const uint8_t *rsdp = b.buf;
	char *x = iasl_disassemble(dir, table_at(&b, u64(rsdp, 24), "XSDT"), "XSDT");
	assert_int_equal(tl_count(x, "ACPI Table Address"), 3);
	free(x);
	char *r = iasl_disassemble(dir, table_at(&b, u32(rsdp, 16), "RSDT"), "RSDT");
	assert_int_equal(tl_count(r, "ACPI Table Address"), 3);
	free(r);

	tl_rmtree(dir);
	free(dir);
	free(b.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsdp_rsdt_xsdt),
		cmocka_unit_test(fadt_fields),
		cmocka_unit_test(madt_every_cpu_and_the_ioapic),
		cmocka_unit_test(mcfg_describes_ecam),
		cmocka_unit_test(area_too_small_builds_nothing),
		cmocka_unit_test(base_address_only_moves_pointers),
		cmocka_unit_test(madt_ids_match_cpuid),
		cmocka_unit_test(iasl_disassembles_every_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
