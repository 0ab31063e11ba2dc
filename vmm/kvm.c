#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm.h"

bool kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

int kvm_check_cap(const struct kvm *kvm, long cap)
{
	int r = ioctl(kvm->fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

bool kvm_has_msr(const struct kvm *kvm, unsigned index)
{
	for (unsigned i = 0; i < kvm->nr_msr_index; i++)
		if (kvm->msr_index[i] == index)
			return true;
	return false;
}

static int open_error(const char *path, int errnum, struct error *err)
{
	switch (errnum) {
	case ENOENT:
		return error_set(err, "%s does not exist: this host has no KVM; load the kvm module "
				 "(and kvm_intel or kvm_amd) or enable virtualization in the firmware", path);
	case EACCES:
	case EPERM:
		return error_set(err, "no permission to open %s: add your user to the 'kvm' group "
				 "(sudo adduser $USER kvm) and log in again", path);
	default:
		return error_errno(err, errnum, "cannot open %s", path);
	}
}

static int read_msr_index(struct kvm *kvm)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -1;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(__u32));
	if (!list)
		return -1;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return -1;
	}
	kvm->msr_index = malloc(list->nmsrs * sizeof(unsigned));
	if (kvm->msr_index) {
		for (unsigned i = 0; i < list->nmsrs; i++)
			kvm->msr_index[i] = list->indices[i];
		kvm->nr_msr_index = list->nmsrs;
	}
	free(list);
	return kvm->msr_index ? 0 : -1;
}

/* The host's brand string, as `-cpu host` shows it in QEMU. */
static void host_brand(struct cpuid_table *t)
{
	uint32_t brand[12];
	if (__get_cpuid_max(0x80000000, NULL) < 0x80000004)
		return;
	for (unsigned i = 0; i < 3; i++)
		__cpuid(0x80000002 + i, brand[4 * i], brand[4 * i + 1], brand[4 * i + 2], brand[4 * i + 3]);
	cpuid_set_brand(t, brand);
}

static int read_supported_cpuid(struct kvm *kvm)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
	} c = { .h.nent = CPUID_MAX_ENTRIES };
	if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, &c) < 0)
		return -1;
	kvm->supported.nr = c.h.nent;
	memcpy(kvm->supported.e, c.e, c.h.nent * sizeof(c.e[0]));
	host_brand(&kvm->supported);
	return 0;
}

int kvm_open(struct kvm *kvm, const char *path, struct error *err)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;
	if (!path)
		path = "/dev/kvm";
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0)
		return open_error(path, errno, err);
	int api = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		kvm_close(kvm);
		return error_set(err, "%s speaks KVM API version %d and vmdeck needs %d", path, api,
				 KVM_API_VERSION);
	}
	static const struct { long cap; const char *name; } required[] = {
		{ KVM_CAP_IRQCHIP, "an in-kernel interrupt controller" },
		{ KVM_CAP_USER_MEMORY, "user memory regions" },
		{ KVM_CAP_IRQFD, "irqfd" },
		{ KVM_CAP_IOEVENTFD, "ioeventfd" },
		{ KVM_CAP_IRQ_ROUTING, "GSI routing" },
		{ KVM_CAP_PIT2, "the in-kernel PIT" },
		{ KVM_CAP_EXT_CPUID, "CPUID configuration" },
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!kvm_check_cap(kvm, required[i].cap)) {
			kvm_close(kvm);
			return error_set(err, "this host's KVM lacks %s, which vmdeck needs", required[i].name);
		}
	kvm->run_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int max = kvm_check_cap(kvm, KVM_CAP_MAX_VCPUS);
	kvm->max_vcpus = (unsigned)(max > 0 ? max : kvm_check_cap(kvm, KVM_CAP_NR_VCPUS));
	if (!kvm->max_vcpus)
		kvm->max_vcpus = 4;   /* the documented minimum when the caps are absent */
	kvm->tsc_deadline = kvm_check_cap(kvm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	kvm->stats_fd = kvm_check_cap(kvm, KVM_CAP_BINARY_STATS_FD) > 0;
	kvm->pvm = kvm_host_is_pvm();
	if (kvm->run_size <= 0 || read_supported_cpuid(kvm) < 0 || read_msr_index(kvm) < 0) {
		int e = errno;
		kvm_close(kvm);
		return error_errno(err, e, "cannot read the capabilities of %s", path);
	}
	return 0;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	free(kvm->msr_index);
	kvm->msr_index = NULL;
	kvm->nr_msr_index = 0;
	kvm->fd = -1;
}
