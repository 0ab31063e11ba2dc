#include <string.h>

#include "vmm/cpuid.h"

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR   (1u << 31)
#define CPUID_1_EDX_HTT          (1u << 28)
#define CPUID_EXT1_ECX_CMP_LEGACY (1u << 1)
#define CPUID_EXT1_ECX_TOPOEXT   (1u << 22)
#define KVM_SIGNATURE_LEAF       0x40000000u
#define KVM_FEATURES_LEAF        0x40000001u
#define TOPO_LEVEL_SMT  1
#define TOPO_LEVEL_CORE 2

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, unsigned function, unsigned index)
{
	for (unsigned i = 0; i < t->nr; i++) {
		struct kvm_cpuid_entry2 *e = &t->e[i];
		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *add(struct cpuid_table *t, unsigned function, unsigned index,
				    unsigned flags)
{
	if (t->nr >= CPUID_MAX_ENTRIES)
		return NULL;
	struct kvm_cpuid_entry2 *e = &t->e[t->nr++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	return e;
}

static void remove_leaf(struct cpuid_table *t, unsigned function)
{
	unsigned w = 0;
	for (unsigned r = 0; r < t->nr; r++)
		if (t->e[r].function != function)
			t->e[w++] = t->e[r];
	t->nr = w;
}

unsigned cpuid_core_bits(unsigned nr)
{
	unsigned bits = 0;
	while ((1u << bits) < nr)
		bits++;
	return bits;
}

/* Leaf 0xB (and 0x1F): SMT level of one thread, then the core level. */
static void patch_ext_topology(struct cpuid_table *t, unsigned leaf, unsigned vcpu, unsigned nr)
{
	if (!cpuid_find(t, leaf, 0))
		return;
	remove_leaf(t, leaf);
	if (t->nr + 3 > CPUID_MAX_ENTRIES)
		return;   /* no room: better no leaf than a half-written one */
	const unsigned sig = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	struct kvm_cpuid_entry2 *smt = add(t, leaf, 0, sig);
	struct kvm_cpuid_entry2 *core = add(t, leaf, 1, sig);
	struct kvm_cpuid_entry2 *end = add(t, leaf, 2, sig);
	if (!smt || !core || !end)
		return;
	*smt = (struct kvm_cpuid_entry2){ .function = leaf, .index = 0, .flags = sig, .eax = 0,
					  .ebx = 1, .ecx = TOPO_LEVEL_SMT << 8, .edx = vcpu };
	*core = (struct kvm_cpuid_entry2){ .function = leaf, .index = 1, .flags = sig,
					   .eax = cpuid_core_bits(nr), .ebx = nr,
					   .ecx = (TOPO_LEVEL_CORE << 8) | 1, .edx = vcpu };
	*end = (struct kvm_cpuid_entry2){ .function = leaf, .index = 2, .flags = sig, .ecx = 2,
					  .edx = vcpu };
}

/* Leaf 4: Intel cache parameters; L3 is shared by every core. */
static void patch_cache_leaf(struct cpuid_table *t, unsigned nr)
{
	for (unsigned i = 0; i < t->nr; i++) {
		struct kvm_cpuid_entry2 *e = &t->e[i];
		if (e->function != 4 || (e->eax & 0x1f) == 0)
			continue;
		unsigned level = (e->eax >> 5) & 7;
		unsigned sharing = level >= 3 ? nr - 1 : 0;
		unsigned cores = nr - 1 > 63 ? 63 : nr - 1;
		e->eax = (e->eax & 0x3fff) | (sharing & 0xfff) << 14 | cores << 26;
	}
}

static void ensure_kvm_leaves(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *sig = cpuid_find(t, KVM_SIGNATURE_LEAF, 0);
	if (!sig)
		sig = add(t, KVM_SIGNATURE_LEAF, 0, 0);
	if (!sig)
		return;
	sig->eax = KVM_FEATURES_LEAF;
	memcpy(&sig->ebx, "KVMK", 4);
	memcpy(&sig->ecx, "VMKV", 4);
	memcpy(&sig->edx, "M\0\0\0", 4);
	if (!cpuid_find(t, KVM_FEATURES_LEAF, 0))
		add(t, KVM_FEATURES_LEAF, 0, 0);
}

static bool is_amd(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0, 0);
	/* "AuthenticAMD" or "HygonGenuine": EBX holds the first four bytes. */
	return e && (!memcmp(&e->ebx, "Auth", 4) || !memcmp(&e->ebx, "Hygo", 4));
}

/* AMD: the core count lives in 0x80000008; without TOPOEXT Linux takes the
 * topology from there instead of the 0x8000001E/1D leaves. */
static void patch_amd_topology(struct cpuid_table *t, unsigned nr_vcpus)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0x80000001, 0);
	if (e) {
		e->ecx &= ~CPUID_EXT1_ECX_TOPOEXT;
		if (nr_vcpus > 1)
			e->ecx |= CPUID_EXT1_ECX_CMP_LEGACY;
		else
			e->ecx &= ~CPUID_EXT1_ECX_CMP_LEGACY;
	}
	e = cpuid_find(t, 0x80000008, 0);
	if (e)
		e->ecx = (e->ecx & ~0xf0ffu) | ((nr_vcpus - 1) & 0xff) | cpuid_core_bits(nr_vcpus) << 12;
	remove_leaf(t, 0x8000001e);
	remove_leaf(t, 0x8000001d);
}

void cpuid_set_brand(struct cpuid_table *t, const uint32_t brand[12])
{
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(t, 0x80000002 + i, 0);
		if (!e)
			continue;
		e->eax = brand[4 * i];
		e->ebx = brand[4 * i + 1];
		e->ecx = brand[4 * i + 2];
		e->edx = brand[4 * i + 3];
	}
}

void cpuid_patch(struct cpuid_table *t, unsigned vcpu, unsigned nr_vcpus, bool tsc_deadline)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 1, 0);
	if (e) {
		unsigned count = nr_vcpus > 255 ? 255 : nr_vcpus;
		e->ebx = (e->ebx & 0xffff) | count << 16 | (vcpu & 0xff) << 24;
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (tsc_deadline)
			e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
		if (nr_vcpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
	}
	patch_cache_leaf(t, nr_vcpus);
	patch_ext_topology(t, 0xb, vcpu, nr_vcpus);
	patch_ext_topology(t, 0x1f, vcpu, nr_vcpus);

	ensure_kvm_leaves(t);
	if (is_amd(t))
		patch_amd_topology(t, nr_vcpus);
}
