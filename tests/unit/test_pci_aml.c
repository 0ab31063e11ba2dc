/* The PCI root bridge in the DSDT (vmm/pci_aml.c) and ECAM in the MCFG, as
 * the guest's ACPI sees them: the tables are built with acpi_build(), the
 * DSDT is disassembled by iasl (acpica-tools) and the text is checked
 * against pci.c's own routing (pci_intx_gsi) and the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/pci.h"

static char tmpdir[] = "/tmp/vmdeck-pci-aml-XXXXXX";
static uint8_t tables[64 * 1024];
static size_t tables_len;
static char *dsl;                  /* the disassembled DSDT */

/* A table by signature: scanned for, length and checksum verified. */
static const uint8_t *find_table(const char *sig, uint32_t *len)
{
	for (size_t o = 0; o + 36 <= tables_len; o += 4) {
		if (memcmp(tables + o, sig, 4))
			continue;
		memcpy(len, tables + o + 4, 4);
		if (*len >= 36 && o + *len <= tables_len && acpi_checksum(tables + o, *len) == 0)
			return tables + o;
	}
	return NULL;
}

static int setup(void **state)
{
	struct acpi_config cfg = {
		.nr_cpus = 2, .ioapic_id = 2, .sb_extra = pci_bus_aml, .sb_extra_opaque = NULL,
		.ecam_base = LAYOUT_PCI_ECAM, .ecam_buses = LAYOUT_PCI_ECAM_BUSES,
	};
	uint64_t rsdp;
	tables_len = acpi_build(&cfg, tables, sizeof(tables), LAYOUT_BIOS_AREA, &rsdp);
	if (!tables_len || !mkdtemp(tmpdir))
		return -1;
	if (system("command -v iasl >/dev/null 2>&1") != 0)
		return 0;                              /* the DSDT test skips */
	uint32_t len;
	const uint8_t *dsdt = find_table("DSDT", &len);
	if (!dsdt)
		return -1;
	char path[256], cmd[600];
	snprintf(path, sizeof(path), "%s/dsdt.aml", tmpdir);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(dsdt, 1, len, f) != len || fclose(f))
		return -1;
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.aml >iasl.log 2>&1", tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "iasl could not disassemble the DSDT (see %s/iasl.log)\n", tmpdir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/dsdt.dsl", tmpdir);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	dsl = calloc(1, (size_t)n + 1);
	if (!dsl || fread(dsl, 1, (size_t)n, f) != (size_t)n)
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	free(dsl);
	return system(cmd);
}

/* The text of the object that starts at the first "Device (NAME)": up to
 * the next Device or the end. */
static char *device_text(const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "Device (%s)", name);
	const char *p = strstr(dsl, key);
	assert_non_null(p);
	const char *end = strstr(p + strlen(key), "Device (");
	size_t n = end ? (size_t)(end - p) : strlen(p);
	char *s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_root_bridge(void **state)
{
	if (!dsl)
		skip();
	char *pci = device_text("PCI0");
	assert_non_null(strstr(pci, "Name (_HID, EisaId (\"PNP0A08\")"));
	assert_non_null(strstr(pci, "Name (_CID, EisaId (\"PNP0A03\")"));
	assert_non_null(strstr(pci, "Name (_SEG, Zero)"));
	assert_non_null(strstr(pci, "Name (_BBN, Zero)"));
	/* Buses 0..15, as many as ECAM covers. */
	const char *bus = strstr(pci, "WordBusNumber (ResourceProducer");
	assert_non_null(bus);
	assert_non_null(strstr(bus, "0x000F,             // Range Maximum"));
	/* The config ports are the bridge's own; every other port is a window. */
	const char *io = strstr(pci, "IO (Decode16,");
	assert_non_null(io);
	assert_non_null(strstr(io, "0x0CF8,             // Range Minimum"));
	assert_non_null(strstr(io, "0x08,               // Length"));
	assert_int_equal(count(pci, "WordIO (ResourceProducer"), 2);
	assert_non_null(strstr(pci, "0x0CF7,             // Range Maximum"));
	assert_non_null(strstr(pci, "0x0D00,             // Range Minimum"));
	/* The 32-bit MMIO window firmware assigns BARs from. */
	char min[64], max[64];
	snprintf(min, sizeof(min), "0x%08llX,         // Range Minimum", (unsigned long long)LAYOUT_PCI_MMIO32);
	snprintf(max, sizeof(max), "0x%08llX,         // Range Maximum", (unsigned long long)LAYOUT_PCI_MMIO32_END - 1);
	assert_non_null(strstr(pci, min));
	assert_non_null(strstr(pci, max));
	free(pci);
}

static unsigned token_value(const char *t)
{
	if (!strcmp(t, "Zero"))
		return 0;
	if (!strcmp(t, "One"))
		return 1;
	char *end;
	unsigned long v = strtoul(t, &end, 0);
	assert_true(*t && !*end);
	return (unsigned)v;
}

/* Every (slot, pin) of _PRT names the link pci_intx_gsi() drives. */
static void test_routing_table(void **state)
{
	if (!dsl)
		skip();
	const char *p = strstr(dsl, "Name (_PRT, Package (0x80)");
	assert_non_null(p);
	const char *end = strstr(p, "})");
	assert_non_null(end);
	bool seen[PCI_MAX_SLOTS][4] = { { false } };
	unsigned n = 0;
	while ((p = strstr(p, "Package (0x04)")) && p < end) {
		p = strchr(p, '{') + 1;
		char tok[4][32];
		for (int i = 0; i < 4; i++) {
			while (isspace((unsigned char)*p))
				p++;
			size_t k = 0;
			while (*p != ',' && *p != '}' && !isspace((unsigned char)*p) && k < 31)
				tok[i][k++] = *p++;
			tok[i][k] = 0;
			while (*p == ',' || isspace((unsigned char)*p))
				p++;
		}
		unsigned addr = token_value(tok[0]), pin = token_value(tok[1]) + 1, slot = addr >> 16;
		assert_int_equal(addr & 0xffff, 0xffff);               /* any function */
		assert_true(slot < PCI_MAX_SLOTS && pin >= 1 && pin <= 4);
		assert_false(seen[slot][pin - 1]);
		seen[slot][pin - 1] = true;
		char want[8];
		snprintf(want, sizeof(want), "LNK%c", 'A' + pci_intx_gsi(slot, pin) - PCI_INTX_GSI_BASE);
		if (strcmp(tok[2], want))
			printf("slot %u pin %u: %s, wanted %s\n", slot, pin, tok[2], want);
		assert_string_equal(tok[2], want);
		assert_int_equal(token_value(tok[3]), 0);
		n++;
	}
	assert_int_equal(n, PCI_MAX_SLOTS * 4);
}

/* LNKA..LNKH: active-high level GSIs 16..23, fixed. */
static void test_link_devices(void **state)
{
	if (!dsl)
		skip();
	for (unsigned l = 0; l < PCI_INTX_LINKS; l++) {
		char name[8], irq[64];
		snprintf(name, sizeof(name), "LNK%c", 'A' + l);
		char *d = device_text(name);
		assert_non_null(strstr(d, "EisaId (\"PNP0C0F\")"));
		assert_non_null(strstr(d, "Name (_STA, 0x0B)"));
		assert_int_equal(count(d, "Interrupt (ResourceConsumer, Level, ActiveHigh, Shared"), 2);
		snprintf(irq, sizeof(irq), "0x%08X,", PCI_INTX_GSI_BASE + l);
		assert_int_equal(count(d, irq), 2);                     /* _PRS and _CRS */
		assert_non_null(strstr(d, "Method (_SRS, 1"));
		assert_non_null(strstr(d, "Method (_DIS, 0"));
		free(d);
	}
	assert_int_equal(count(dsl, "Device (LNK"), PCI_INTX_LINKS);
}

/* ECAM as the MCFG describes it (PCI Firmware spec, table 4-3). */
static void test_mcfg(void **state)
{
	uint32_t len;
	const uint8_t *m = find_table("MCFG", &len);
	assert_non_null(m);
	assert_int_equal(len, 44 + 16);
	uint64_t base;
	uint16_t segment;
	memcpy(&base, m + 44, 8);
	memcpy(&segment, m + 52, 2);
	assert_int_equal(base, LAYOUT_PCI_ECAM);
	assert_int_equal(segment, 0);
	assert_int_equal(m[54], 0);
	assert_int_equal(m[55], LAYOUT_PCI_ECAM_BUSES - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_bridge),
		cmocka_unit_test(test_routing_table),
		cmocka_unit_test(test_link_devices),
		cmocka_unit_test(test_mcfg),
	};
	return cmocka_run_group_tests_name("pci aml", tests, setup, teardown);
}
