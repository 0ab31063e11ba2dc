/* vmm/cpuid.c: per-vCPU CPUID patched from a synthetic "supported" set of
 * an Intel-like and an AMD-like host.  Values are those the Intel SDM and
 * AMD APM define, read the way Linux's topology code reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vmm/cpuid.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

static struct cpuid_table table;   /* static: the table is 10 KiB */

static void add(unsigned fn, unsigned idx, unsigned flags, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	assert_true(table.nr < CPUID_MAX_ENTRIES);
	table.e[table.nr++] = (struct kvm_cpuid_entry2){ .function = fn, .index = idx, .flags = flags,
							 .eax = a, .ebx = b, .ecx = c, .edx = d };
}

static void vendor(const char *v12, uint32_t max)
{
	uint32_t b, d, c;
	memcpy(&b, v12, 4);
	memcpy(&d, v12 + 4, 4);
	memcpy(&c, v12 + 8, 4);
	add(0, 0, 0, max, b, c, d);
}

/* Roughly what KVM_GET_SUPPORTED_CPUID gives on a 16-thread Intel desktop. */
static void intel_host(bool leaf_1f, bool kvm_leaves)
{
	memset(&table, 0, sizeof(table));
	vendor("GenuineIntel", leaf_1f ? 0x1f : 0x16);
	add(1, 0, 0, 0x000906ea, 0x05100800, 0x76fa3203, 0x0f8bfbff);
	add(4, 0, SIG, 0x1c004121, 0x01c0003f, 0x0000003f, 0);   /* L1d */
	add(4, 1, SIG, 0x1c004122, 0x01c0003f, 0x0000003f, 0);   /* L1i */
	add(4, 2, SIG, 0x1c004143, 0x00c0003f, 0x000003ff, 0);   /* L2 */
	add(4, 3, SIG, 0x1c03c163, 0x02c0003f, 0x00003fff, 6);   /* L3, 16 threads */
	add(4, 4, SIG, 0, 0, 0, 0);
	add(0xb, 0, SIG, 1, 2, 0x100, 5);
	add(0xb, 1, SIG, 4, 16, 0x201, 5);
	if (leaf_1f) {
		add(0x1f, 0, SIG, 1, 2, 0x100, 5);
		add(0x1f, 1, SIG, 4, 16, 0x201, 5);
	}
	if (kvm_leaves) {
		add(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x0000004d);
		add(0x40000001, 0, 0, 0x01007afb, 0, 0, 0);
	}
	add(0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	add(0x80000001, 0, 0, 0, 0, 0x00000121, 0x2c100800);
	add(0x80000008, 0, 0, 0x00003027, 0, 0, 0);
}

/* Roughly what it gives on an 8-core Zen host. */
static void amd_host(void)
{
	memset(&table, 0, sizeof(table));
	vendor("AuthenticAMD", 0x10);
	add(1, 0, 0, 0x00a20f10, 0x07100800, 0x7ed8320b, 0x178bfbff);
	add(0xb, 0, SIG, 1, 2, 0x100, 7);
	add(0xb, 1, SIG, 4, 16, 0x201, 7);
	add(0x80000000, 0, 0, 0x80000021, 0, 0, 0);
	add(0x80000001, 0, 0, 0x00a20f10, 0, 0x75c237ff | (1u << 22) | (1u << 1), 0x2fd3fbff);
	add(0x80000008, 0, 0, 0x00003030, 0x111ef657, 0x0001700f, 0);
	for (unsigned i = 0; i < 4; i++)
		add(0x8000001d, i, SIG, 0x121 + i, 0x01c0003f, 0x3f, 0);
	add(0x8000001e, 0, 0, 0x0e, 0x0107, 0, 0);
}

static struct kvm_cpuid_entry2 *leaf(unsigned fn, unsigned idx)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(&table, fn, idx);
	if (!e)
		fail_msg("leaf %#x.%u missing", fn, idx);
	return e;
}

static unsigned count_leaf(unsigned fn)
{
	unsigned n = 0;
	for (unsigned i = 0; i < table.nr; i++)
		n += table.e[i].function == fn;
	return n;
}

/* Linux's get_count_order(): ceil(log2(x)). */
static unsigned count_order(unsigned x)
{
	unsigned o = 0;
	while ((1u << o) < x)
		o++;
	return o;
}

static void core_bits(void **state)
{
	static const unsigned want[][2] = {
		{ 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 8, 3 }, { 9, 4 }, { 255, 8 }, { 256, 8 }, { 257, 9 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(cpuid_core_bits(want[i][0]), want[i][1]);
}

static void find_honours_significant_index(void **state)
{
	intel_host(false, false);
	assert_int_equal(leaf(4, 2)->eax, 0x1c004143);
	assert_int_equal(leaf(4, 3)->eax, 0x1c03c163);
	assert_null(cpuid_find(&table, 4, 9));
	/* Leaf 1 ignores the index. */
	assert_int_equal(leaf(1, 7)->eax, 0x000906ea);
	assert_null(cpuid_find(&table, 0x12345678, 0));
}

static void leaf1_apic_id_count_and_htt(void **state)
{
	static const unsigned counts[] = { 1, 2, 4, 6, 255 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c];
		for (unsigned v = 0; v < n; v += (n > 8 ? 37 : 1)) {
			intel_host(false, false);
			cpuid_patch(&table, v, n, false);
			struct kvm_cpuid_entry2 *e = leaf(1, 0);
			assert_int_equal(e->ebx >> 24, v);                    /* initial APIC id */
			assert_int_equal((e->ebx >> 16) & 0xff, n);           /* logical processors */
			assert_int_equal(e->ebx & 0xffff, 0x0800);            /* CLFLUSH size kept */
			assert_int_equal(!!(e->edx & (1u << 28)), n > 1);     /* HTT */
			assert_int_equal(e->edx & ~(1u << 28), 0x0f8bfbff);
			assert_true(e->ecx & (1u << 31));                     /* hypervisor */
			assert_false(e->ecx & (1u << 24));                    /* no TSC deadline asked */
			assert_int_equal(e->eax, 0x000906ea);
		}
	}
	/* A host that had HTT set with one vCPU: cleared. */
	intel_host(false, false);
	leaf(1, 0)->edx |= 1u << 28;
	cpuid_patch(&table, 0, 1, true);
	assert_false(leaf(1, 0)->edx & (1u << 28));
	assert_true(leaf(1, 0)->ecx & (1u << 24));                    /* TSC deadline when asked */
}

static void check_ext_topology(unsigned fn, unsigned vcpu, unsigned n)
{
	assert_int_equal(count_leaf(fn), 3);
	struct kvm_cpuid_entry2 *smt = leaf(fn, 0), *core = leaf(fn, 1), *end = leaf(fn, 2);
	/* SMT level: one thread per core, no shift. */
	assert_int_equal(smt->eax & 0x1f, 0);
	assert_int_equal(smt->ebx & 0xffff, 1);
	assert_int_equal(smt->ecx & 0xffff, 0x0100);
	assert_int_equal(smt->edx, vcpu);
	/* Core level: N cores, the shift covers every APIC id. */
	assert_int_equal(core->eax & 0x1f, cpuid_core_bits(n));
	assert_true((1u << (core->eax & 0x1f)) >= n);
	assert_int_equal(core->ebx & 0xffff, n);
	assert_int_equal(core->ecx & 0xffff, 0x0201);
	assert_int_equal(core->edx, vcpu);
	/* Then the invalid level that ends the enumeration. */
	assert_int_equal(end->eax, 0);
	assert_int_equal(end->ebx, 0);
	assert_int_equal(end->ecx & 0xff00, 0);
	assert_int_equal(end->ecx & 0xff, 2);
	assert_int_equal(end->edx, vcpu);
	for (unsigned i = 0; i < 3; i++)
		assert_true(leaf(fn, i)->flags & SIG);
}

static void leaf_b_levels(void **state)
{
	static const unsigned counts[] = { 1, 2, 3, 4, 6, 64 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c];
		intel_host(false, false);
		cpuid_patch(&table, n - 1, n, false);
		check_ext_topology(0xb, n - 1, n);
		assert_int_equal(count_leaf(0x1f), 0);   /* not invented when the host lacks it */
	}
	intel_host(true, false);
	cpuid_patch(&table, 2, 3, false);
	check_ext_topology(0xb, 2, 3);
	check_ext_topology(0x1f, 2, 3);
	/* A host without leaf 0xB does not get one. */
	intel_host(false, false);
	for (unsigned i = 0; i < table.nr; i++)
		if (table.e[i].function == 0xb)
			table.e[i].function = 0xa;
	cpuid_patch(&table, 0, 2, false);
	assert_int_equal(count_leaf(0xb), 0);
}

static void leaf4_cache_sharing(void **state)
{
	intel_host(false, false);
	cpuid_patch(&table, 1, 4, false);
	/* L1 and L2 are private to a core, L3 is shared by all four. */
	for (unsigned i = 0; i < 3; i++) {
		uint32_t eax = leaf(4, i)->eax;
		assert_int_equal((eax >> 14) & 0xfff, 0);
		assert_int_equal(eax >> 26, 3);
	}
	assert_int_equal(leaf(4, 0)->eax & 0x3fff, 0x0121);     /* type and level kept */
	assert_int_equal(leaf(4, 3)->eax & 0x3fff, 0x0163);
	assert_int_equal((leaf(4, 3)->eax >> 14) & 0xfff, 3);
	assert_int_equal(leaf(4, 3)->eax >> 26, 3);
	assert_int_equal(leaf(4, 3)->ecx, 0x3fff);              /* geometry untouched */
	assert_int_equal(leaf(4, 3)->edx, 6);
	assert_int_equal(leaf(4, 4)->eax, 0);                   /* the terminator stays null */

	intel_host(false, false);
	cpuid_patch(&table, 0, 1, false);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(leaf(4, i)->eax >> 14, 0);

	/* Three vCPUs: Linux rounds both counts up to a power of two and must
	 * land on the same 2 bits leaf 0xB gives. */
	intel_host(false, false);
	cpuid_patch(&table, 0, 3, false);
	uint32_t l3 = leaf(4, 3)->eax;
	assert_true(((l3 >> 14) & 0xfff) + 1 >= 3);
	assert_int_equal(count_order(((l3 >> 14) & 0xfff) + 1), 2);
	assert_true((l3 >> 26) + 1 >= 3);
	assert_int_equal(count_order((l3 >> 26) + 1), 2);
	assert_int_equal((leaf(4, 1)->eax >> 14) & 0xfff, 0);

	/* 100 vCPUs: the 6-bit core field saturates. */
	intel_host(false, false);
	cpuid_patch(&table, 0, 100, false);
	assert_int_equal(leaf(4, 0)->eax >> 26, 63);
	assert_int_equal((leaf(4, 3)->eax >> 14) & 0xfff, 99);
}

static void amd_core_count_leaves(void **state)
{
	static const struct { unsigned n; uint32_t ecx8; bool cmp; } cases[] = {
		{ 1, 0x00010000, false }, { 2, 0x00011001, true }, { 3, 0x00012002, true },
		{ 4, 0x00012003, true }, { 16, 0x0001400f, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		amd_host();
		cpuid_patch(&table, 0, cases[i].n, false);
		/* 0x80000008 ECX: NC = n - 1, ApicIdCoreIdSize = core bits, rest kept. */
		assert_int_equal(leaf(0x80000008, 0)->ecx, cases[i].ecx8);
		assert_int_equal(leaf(0x80000008, 0)->eax, 0x3030);
		assert_int_equal(leaf(0x80000008, 0)->ebx, 0x111ef657);
		uint32_t ecx1 = leaf(0x80000001, 0)->ecx;
		assert_false(ecx1 & (1u << 22));                       /* no TOPOEXT */
		assert_int_equal(!!(ecx1 & (1u << 1)), cases[i].cmp);  /* CmpLegacy */
		assert_int_equal(ecx1 & ~((1u << 22) | (1u << 1)), 0x75c237ffu & ~((1u << 22) | (1u << 1)));
		/* The TOPOEXT leaves go with the flag. */
		assert_int_equal(count_leaf(0x8000001e), 0);
		assert_int_equal(count_leaf(0x8000001d), 0);
		/* Leaf 1 and 0xB as on Intel. */
		assert_int_equal((leaf(1, 0)->ebx >> 16) & 0xff, cases[i].n);
		check_ext_topology(0xb, 0, cases[i].n);
	}
	/* Hygon is AMD too. */
	amd_host();
	memcpy(&table.e[0].ebx, "Hygo", 4);
	cpuid_patch(&table, 0, 4, false);
	assert_int_equal(leaf(0x80000008, 0)->ecx & 0xff, 3);
}

static void intel_keeps_its_extended_leaves(void **state)
{
	intel_host(false, false);
	cpuid_patch(&table, 0, 8, false);
	assert_int_equal(leaf(0x80000001, 0)->ecx, 0x00000121);
	assert_int_equal(leaf(0x80000008, 0)->ecx, 0);
	assert_int_equal(leaf(0x80000008, 0)->eax, 0x3027);
}

static void kvm_signature_leaf(void **state)
{
	for (int have = 0; have < 2; have++) {
		intel_host(false, have);
		unsigned before = table.nr;
		cpuid_patch(&table, 0, 2, false);
		assert_int_equal(count_leaf(0x40000000), 1);
		assert_int_equal(count_leaf(0x40000001), 1);
		struct kvm_cpuid_entry2 *s = leaf(0x40000000, 0);
		assert_int_equal(s->eax, 0x40000001);                  /* highest hypervisor leaf */
		char sig[13] = { 0 };
		memcpy(sig, &s->ebx, 4);
		memcpy(sig + 4, &s->ecx, 4);
		memcpy(sig + 8, &s->edx, 4);
		assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
		if (have) {
			assert_int_equal(leaf(0x40000001, 0)->eax, 0x01007afb);   /* features kept */
			/* Leaf 0xB: 2 entries became 3; nothing else added. */
			assert_int_equal(table.nr, before + 1);
		} else {
			assert_int_equal(leaf(0x40000001, 0)->eax, 0);
			assert_int_equal(table.nr, before + 3);
		}
	}
}

static void full_table_does_not_overflow(void **state)
{
	intel_host(false, false);
	while (table.nr < CPUID_MAX_ENTRIES)
		add(0x20000000 + table.nr, 0, 0, 1, 2, 3, 4);
	cpuid_patch(&table, 0, 4, true);
	assert_true(table.nr <= CPUID_MAX_ENTRIES);
	assert_int_equal((leaf(1, 0)->ebx >> 16) & 0xff, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_bits),
		cmocka_unit_test(find_honours_significant_index),
		cmocka_unit_test(leaf1_apic_id_count_and_htt),
		cmocka_unit_test(leaf_b_levels),
		cmocka_unit_test(leaf4_cache_sharing),
		cmocka_unit_test(amd_core_count_leaves),
		cmocka_unit_test(intel_keeps_its_extended_leaves),
		cmocka_unit_test(kvm_signature_leaf),
		cmocka_unit_test(full_table_does_not_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
