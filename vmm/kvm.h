/* /dev/kvm: opening it, its capabilities and what this host can run.
 *
 * We ask KVM directly and never gate on CPUID's VMX/SVM flags: the
 * paravirtual kvm_pvm module provides /dev/kvm without them. */
#ifndef VMDECK_KVM_H
#define VMDECK_KVM_H

#include <stdbool.h>

#include "src/error.h"
#include "vmm/cpuid.h"

struct kvm {
	int fd;
	int run_size;              /* bytes to mmap for a vCPU's kvm_run */
	unsigned max_vcpus;
	bool pvm;                  /* the host's KVM is kvm_pvm (guest ring 0 emulated) */
	bool tsc_deadline;
	bool stats_fd;             /* KVM_GET_STATS_FD works */
	struct cpuid_table supported;
	unsigned nr_msr_index;
	unsigned *msr_index;       /* MSRs KVM can save and restore */
};

/* Opens /dev/kvm (or PATH when given) and reads its capabilities.  The
 * error names the cause in one sentence for the user. */
int kvm_open(struct kvm *kvm, const char *path, struct error *err);
void kvm_close(struct kvm *kvm);
int kvm_check_cap(const struct kvm *kvm, long cap);
bool kvm_has_msr(const struct kvm *kvm, unsigned index);
/* True when /sys/module/kvm_pvm exists. */
bool kvm_host_is_pvm(void);

#endif
