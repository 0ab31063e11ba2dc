/* pvpanic: the port's capabilities and events, and the DSDT device the
 * guest finds it by, checked by disassembling the DSDT with iasl (the
 * ACPICA compiler Linux's tables are made with). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/dev_pvpanic.h"
#include "vmm/layout.h"

static unsigned last_bits, calls;

static void on_event(void *opaque, unsigned bits)
{
	last_bits = bits;
	calls++;
}

static void test_port_capabilities_and_events(void **state)
{
	struct pvpanic p;
	pvpanic_init(&p, on_event, NULL);
	uint8_t v = 0;
	pvpanic_bus_ops.read(&p, 0, &v, 1);
	assert_int_equal(v, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	uint8_t w = 1;
	pvpanic_bus_ops.write(&p, 0, &w, 1);
	assert_int_equal(calls, 1);
	assert_int_equal(last_bits, PVPANIC_PANICKED);
	w = 0xfe;                   /* unknown bits are ignored, crash-loaded is not */
	pvpanic_bus_ops.write(&p, 0, &w, 1);
	assert_int_equal(last_bits, PVPANIC_CRASH_LOADED);
	w = 0xfc;                   /* nothing we know: no event */
	pvpanic_bus_ops.write(&p, 0, &w, 1);
	assert_int_equal(calls, 2);
	assert_int_equal(p.panics, 1);
	assert_int_equal(p.crash_loads, 1);
}

static void sb_pvpanic(struct aml *a, void *opaque)
{
	pvpanic_aml(a);
}

static const uint8_t *find_table(const uint8_t *buf, size_t len, const char *sig, uint32_t *tlen)
{
	for (size_t off = 0; off + 8 <= len; off += 4)
		if (!memcmp(buf + off, sig, 4)) {
			memcpy(tlen, buf + off + 4, 4);
			if (*tlen >= 36 && off + *tlen <= len)
				return buf + off;
		}
	return NULL;
}

static void test_dsdt_declares_qemu0001_at_port_0x505(void **state)
{
	if (system("command -v iasl >/dev/null 2>&1") != 0)
		skip();
	static uint8_t area[LAYOUT_BIOS_AREA_SIZE];
	struct acpi_config cfg = { .nr_cpus = 1, .sb_extra = sb_pvpanic };
	uint64_t rsdp;
	assert_true(acpi_build(&cfg, area, sizeof(area), LAYOUT_BIOS_AREA, &rsdp) > 0);
	uint32_t len = 0;
	const uint8_t *dsdt = find_table(area, sizeof(area), "DSDT", &len);
	assert_non_null(dsdt);
	char dir[] = "/tmp/vmdeck-pvpanic-XXXXXX", path[64], cmd[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	FILE *f = fopen(path, "wb");
	fwrite(dsdt, 1, len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.aml >/dev/null 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	static char dsl[65536];
	dsl[fread(dsl, 1, sizeof(dsl) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(dsl, "Device (PEVT)"));
	assert_non_null(strstr(dsl, "Name (_HID, \"QEMU0001\")"));
	assert_non_null(strstr(dsl, "IO (Decode16,\n                    0x0505,             // Range Minimum\n"
				   "                    0x0505,             // Range Maximum"));
	assert_non_null(strstr(dsl, "Name (_STA, 0x0F)"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_capabilities_and_events),
		cmocka_unit_test(test_dsdt_declares_qemu0001_at_port_0x505),
	};
	return cmocka_run_group_tests_name("pvpanic", tests, NULL, NULL);
}
