/* Guest CPUID: KVM's supported set, patched per vCPU for a topology of one
 * socket with N single-threaded cores, the KVM hypervisor leaves and the
 * TSC-deadline timer. */
#ifndef VMDECK_CPUID_H
#define VMDECK_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define CPUID_MAX_ENTRIES 256

struct cpuid_table {
	unsigned nr;
	struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
};

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, unsigned function, unsigned index);
/* Rewrites T (a copy of the supported set) for vCPU VCPU of NR_VCPUS. */
void cpuid_patch(struct cpuid_table *t, unsigned vcpu, unsigned nr_vcpus, bool tsc_deadline);
/* Copies a 48-byte brand string into leaves 0x80000002-4 (KVM reports
 * them empty; guests show them as the CPU's model name). */
void cpuid_set_brand(struct cpuid_table *t, const uint32_t brand[12]);
/* Number of APIC-id bits that address NR cores: ceil(log2(NR)). */
unsigned cpuid_core_bits(unsigned nr);

#endif
