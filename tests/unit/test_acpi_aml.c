/* vmm/acpi_aml.c: the AML encoder.  Byte sequences are checked against the
 * ACPI 6 grammar (chapter 20); one test hands a table built with every
 * PkgLength size to the real `iasl -d`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/acpi.h"
#include "vmm/acpi_aml.h"

#define assert_aml(a, ...)                                                       \
	do {                                                                     \
		static const uint8_t want_[] = { __VA_ARGS__ };                 \
		assert_false((a)->oom);                                          \
		assert_int_equal((a)->len, sizeof(want_));                       \
		assert_memory_equal((a)->buf, want_, sizeof(want_));            \
	} while (0)

/* Decodes a PkgLength as the spec defines it; returns its byte count. */
static size_t pkglength_decode(const uint8_t *p, size_t *value)
{
	size_t follow = p[0] >> 6;
	if (follow == 0) {
		*value = p[0] & 0x3f;
		return 1;
	}
	assert_int_equal(p[0] & 0x30, 0);   /* bits 4-5 are reserved when bytes follow */
	size_t v = p[0] & 0x0f;
	for (size_t i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	*value = v;
	return follow + 1;
}

/* Scope(\FOO) { BODY bytes of 0xA3 (NoopOp) }: returns the PkgLength's
 * bytes and checks that it covers exactly the rest of the object. */
static size_t scope_pkglength(size_t body, uint8_t out[4])
{
	struct aml a;
	aml_init(&a);
	size_t m = aml_scope_begin(&a, "\\FOO");
	assert_int_equal(m, 1);
	for (size_t i = 0; i < body; i++)
		aml_byte(&a, 0xa3);
	aml_end(&a, m);
	assert_false(a.oom);
	assert_int_equal(a.buf[0], 0x10);   /* ScopeOp */
	size_t value;
	size_t n = pkglength_decode(a.buf + 1, &value);
	assert_int_equal(a.len, 1 + n + 5 + body);        /* op, PkgLength, \FOO_, body */
	assert_int_equal(value, n + 5 + body);            /* counts itself and what follows */
	assert_int_equal(a.buf[1 + n], '\\');
	assert_memory_equal(a.buf + 1 + n + 1, "FOO_", 4);
	memcpy(out, a.buf + 1, n);
	aml_free(&a);
	return n;
}

static void pkglength_one_two_three_and_four_bytes(void **state)
{
	uint8_t pl[4];
	/* Total 63 fits one byte; 64 needs two. */
	assert_int_equal(scope_pkglength(57, pl), 1);
	assert_int_equal(pl[0], 63);
	assert_int_equal(scope_pkglength(58, pl), 2);          /* total 65 */
	assert_int_equal(pl[0], 0x41);
	assert_int_equal(pl[1], 0x04);
	/* Two bytes hold up to 0xfff. */
	assert_int_equal(scope_pkglength(0xfff - 2 - 5, pl), 2);
	assert_int_equal(pl[0], 0x4f);
	assert_int_equal(pl[1], 0xff);
	assert_int_equal(scope_pkglength(0xfff - 2 - 5 + 1, pl), 3);   /* total 0x1001 */
	assert_int_equal(pl[0], 0x81);
	assert_int_equal(pl[1], 0x00);
	assert_int_equal(pl[2], 0x01);
	/* Three bytes hold up to 0xfffff. */
	assert_int_equal(scope_pkglength(0xfffff - 3 - 5, pl), 3);
	assert_int_equal(pl[0], 0x8f);
	assert_int_equal(pl[1], 0xff);
	assert_int_equal(pl[2], 0xff);
	assert_int_equal(scope_pkglength(0xfffff - 3 - 5 + 1, pl), 4);  /* total 0x100001 */
	assert_int_equal(pl[0], 0xc1);
	assert_int_equal(pl[1], 0x00);
	assert_int_equal(pl[2], 0x00);
	assert_int_equal(pl[3], 0x01);
	/* Every size around the boundaries decodes to the right value. */
	for (size_t body = 40; body < 80; body++)
		scope_pkglength(body, pl);
	for (size_t body = 0xff0 - 7; body < 0x1010; body++)
		scope_pkglength(body, pl);
}

static void namestrings(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_namestring(&a, "_HID");
	assert_aml(&a, '_', 'H', 'I', 'D');
	aml_free(&a);
	aml_namestring(&a, "\\_SB");
	assert_aml(&a, 0x5c, '_', 'S', 'B', '_');
	aml_free(&a);
	aml_namestring(&a, "\\_SB.PWRB");
	assert_aml(&a, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B');   /* DualNamePrefix */
	aml_free(&a);
	aml_namestring(&a, "\\_SB.PCI0.ISA");
	assert_aml(&a, 0x5c, 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_');
	aml_free(&a);
	aml_namestring(&a, "^FOO");
	assert_aml(&a, 0x5e, 'F', 'O', 'O', '_');
	aml_free(&a);
	aml_namestring(&a, "^^A.B");
	assert_aml(&a, 0x5e, 0x5e, 0x2e, 'A', '_', '_', '_', 'B', '_', '_', '_');
	aml_free(&a);
	aml_namestring(&a, "com1");                       /* upper-cased */
	assert_aml(&a, 'C', 'O', 'M', '1');
	aml_free(&a);
	aml_namestring(&a, "");                           /* NullName */
	assert_aml(&a, 0x00);
	aml_free(&a);
	aml_namestring(&a, "\\");
	assert_aml(&a, 0x5c, 0x00);
	aml_free(&a);
	aml_name(&a, "_S5");
	assert_aml(&a, 0x08, '_', 'S', '5', '_');         /* NameOp */
	aml_free(&a);
}

static void integers_use_the_smallest_encoding(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_int(&a, 0);
	aml_int(&a, 1);
	aml_int(&a, UINT64_MAX);
	aml_int(&a, 2);
	aml_int(&a, 0xff);
	aml_int(&a, 0x100);
	aml_int(&a, 0xffff);
	aml_int(&a, 0x10000);
	aml_int(&a, 0xfec00000);
	aml_int(&a, 0x100000000ull);
	aml_int(&a, UINT64_MAX - 1);
	assert_aml(&a, 0x00, 0x01, 0xff,                       /* Zero, One, Ones */
		   0x0a, 0x02, 0x0a, 0xff,                      /* BytePrefix */
		   0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff,          /* WordPrefix */
		   0x0c, 0x00, 0x00, 0x01, 0x00,                /* DWordPrefix */
		   0x0c, 0x00, 0x00, 0xc0, 0xfe,
		   0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,   /* QWordPrefix */
		   0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	aml_free(&a);
	aml_string(&a, "ab");
	assert_aml(&a, 0x0d, 'a', 'b', 0x00);
	aml_free(&a);
	aml_return_int(&a, 5);
	assert_aml(&a, 0xa4, 0x0a, 0x05);
	aml_free(&a);
}

static void eisa_ids(void **state)
{
	/* Values as every firmware encodes them (e.g. QEMU's aml_eisaid). */
	assert_int_equal(aml_eisaid_value("PNP0501"), 0x0105D041);
	assert_int_equal(aml_eisaid_value("PNP0C0C"), 0x0C0CD041);
	assert_int_equal(aml_eisaid_value("PNP0A03"), 0x030AD041);
	assert_int_equal(aml_eisaid_value("PNP0A08"), 0x080AD041);
	assert_int_equal(aml_eisaid_value("PNP0303"), 0x0303D041);
	struct aml a;
	aml_init(&a);
	aml_eisaid(&a, "PNP0501");
	assert_aml(&a, 0x0c, 0x41, 0xd0, 0x05, 0x01);
	aml_free(&a);
}

static void objects_with_a_pkglength(void **state)
{
	struct aml a;
	aml_init(&a);
	size_t m = aml_device_begin(&a, "COM1");
	aml_end(&a, m);
	assert_aml(&a, 0x5b, 0x82, 0x05, 'C', 'O', 'M', '1');
	aml_free(&a);

	m = aml_method_begin(&a, "_L00", 0, false);
	aml_notify(&a, "\\_SB.PWRB", 0x80);
	aml_end(&a, m);
	assert_aml(&a, 0x14, 0x13, '_', 'L', '0', '0', 0x00,
		   0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0a, 0x80);
	aml_free(&a);

	m = aml_method_begin(&a, "FOO", 2, true);
	aml_end(&a, m);
	assert_aml(&a, 0x14, 0x06, 'F', 'O', 'O', '_', 0x0a);   /* 2 args, serialized */
	aml_free(&a);

	m = aml_package_begin(&a, 4);
	aml_int(&a, 5);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a, m);
	assert_aml(&a, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);
	aml_free(&a);
}

/* COM1's _CRS: IO(Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags(){4}, EndTag. */
static void resource_template_for_com1(void **state)
{
	struct aml a;
	aml_init(&a);
	size_t m = aml_buffer_begin(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq(&a, 4);
	aml_res_end(&a);
	aml_buffer_end(&a, m);
	assert_aml(&a, 0x11, 0x10, 0x0a, 0x0d,                          /* Buffer, PkgLength, size 13 */
		   0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,      /* IO */
		   0x22, 0x10, 0x00,                                    /* IRQNoFlags, mask bit 4 */
		   0x79, 0x00);                                         /* EndTag */
	aml_free(&a);

	aml_res_irq(&a, 12);
	assert_aml(&a, 0x22, 0x00, 0x10);
	aml_free(&a);
}

static void nested_objects_grow_their_parents(void **state)
{
	/* An inner object whose PkgLength needs two bytes makes the outer one
	 * longer by one byte more than the body it had when it started. */
	struct aml a;
	aml_init(&a);
	size_t outer = aml_scope_begin(&a, "\\_SB");
	size_t inner = aml_device_begin(&a, "DEV0");
	for (int i = 0; i < 100; i++)
		aml_byte(&a, 0xa3);
	aml_end(&a, inner);
	aml_end(&a, outer);
	assert_false(a.oom);
	size_t v_outer, v_inner;
	size_t n_outer = pkglength_decode(a.buf + 1, &v_outer);
	assert_int_equal(v_outer, a.len - 1);
	const uint8_t *dev = a.buf + 1 + n_outer + 5;
	assert_int_equal(dev[0], 0x5b);
	assert_int_equal(dev[1], 0x82);
	size_t n_inner = pkglength_decode(dev + 2, &v_inner);
	assert_int_equal(n_inner, 2);
	assert_int_equal(v_inner, 2 + 4 + 100);
	assert_int_equal((size_t)(dev + 2 + v_inner - a.buf), a.len);
	aml_free(&a);
}

static void write_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A DSDT with objects of every PkgLength size, checked by iasl. */
static void iasl_accepts_every_pkglength_size(void **state)
{
	if (!tl_have_program("iasl"))
		skip();
	struct aml a;
	aml_init(&a);
	size_t sb = aml_scope_begin(&a, "\\_SB");
	static const size_t sizes[] = { 10, 100, 5000, 70000 };
	for (size_t i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "BUF%zu", i);
		aml_name(&a, name);
		size_t m = aml_buffer_begin(&a);
		for (size_t j = 0; j < sizes[i]; j++)
			aml_byte(&a, (uint8_t)j);
		aml_buffer_end(&a, m);
	}
	size_t dev = aml_device_begin(&a, "COM1");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	aml_name(&a, "_STR");
	aml_string(&a, "serial");
	aml_end(&a, dev);
	aml_end(&a, sb);
	assert_false(a.oom);

	size_t len = 36 + a.len;
	uint8_t *t = calloc(1, len);
	memcpy(t, "DSDT", 4);
	write_u32(t + 4, (uint32_t)len);
	t[8] = 2;
	memcpy(t + 10, "VMDECK", 6);
	memcpy(t + 16, "TESTAML ", 8);
	memcpy(t + 28, "VMDK", 4);
	memcpy(t + 36, a.buf, a.len);
	t[9] = (uint8_t)(0 - acpi_checksum(t, len));
	aml_free(&a);

	char *dir = tl_mkdtemp(), path[600], cmd[1400];
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	tl_write_file(path, t, len);
	free(t);
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d dsdt.dat", dir);
	char *out;
	int st = tl_run(cmd, &out);
	if (st != 0)
		fail_msg("iasl -d failed (%d):\n%s", st, out);
	tl_assert_not_contains(out, "Error");
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	char *dsl = tl_read_file(path, NULL);
	assert_non_null(dsl);
	tl_assert_contains(dsl, "Name (BUF0, Buffer (0x0A)");
	tl_assert_contains(dsl, "Name (BUF1, Buffer (0x64)");
	tl_assert_contains(dsl, "Name (BUF2, Buffer (0x1388)");
	tl_assert_contains(dsl, "Name (BUF3, Buffer (0x00011170)");
	tl_assert_contains(dsl, "Device (COM1)");
	tl_assert_contains(dsl, "EisaId (\"PNP0501\")");
	tl_assert_contains(dsl, "\"serial\"");
	free(dsl);
	free(out);
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pkglength_one_two_three_and_four_bytes),
		cmocka_unit_test(namestrings),
		cmocka_unit_test(integers_use_the_smallest_encoding),
		cmocka_unit_test(eisa_ids),
		cmocka_unit_test(objects_with_a_pkglength),
		cmocka_unit_test(resource_template_for_com1),
		cmocka_unit_test(nested_objects_grow_their_parents),
		cmocka_unit_test(iasl_accepts_every_pkglength_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
