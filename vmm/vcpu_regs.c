/* Initial vCPU state: what firmware leaves behind for a direct kernel boot. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "src/log.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

#define MSR_IA32_MISC_ENABLE   0x1a0
#define MSR_MTRR_PHYSBASE0     0x200
#define MSR_MTRR_PHYSMASK0     0x201
#define MSR_MTRR_DEF_TYPE      0x2ff
#define MSR_IA32_CR_PAT        0x277
#define MTRR_TYPE_UC           0
#define MTRR_TYPE_WB           6
#define MTRR_ENABLE            (1ull << 11)
#define MTRR_VALID             (1ull << 11)
#define PAT_RESET_VALUE        0x0007040600070406ull
#define MISC_ENABLE_FAST_STRING 1ull

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static unsigned phys_addr_bits(const struct vm *vm)
{
	struct cpuid_table t = vm->kvm.supported;
	struct kvm_cpuid_entry2 *e = cpuid_find(&t, 0x80000008, 0);
	unsigned bits = e ? (e->eax & 0xff) : 36;
	return bits >= 36 && bits <= 52 ? bits : 36;
}

/* Write-back everywhere but the PCI hole, which one variable MTRR makes
 * uncacheable: what SeaBIOS programs on a PC. */
int vcpu_set_firmware_msrs(struct vcpu *v, struct error *err)
{
	uint64_t phys_mask = (1ull << phys_addr_bits(v->vm)) - 1;
	uint64_t hole = 4 * GiB - LAYOUT_LOW_RAM_MAX;
	const struct { uint32_t index; uint64_t value; } wanted[] = {
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_IA32_CR_PAT, PAT_RESET_VALUE },
		{ MSR_MTRR_PHYSBASE0, LAYOUT_LOW_RAM_MAX | MTRR_TYPE_UC },
		{ MSR_MTRR_PHYSMASK0, (~(hole - 1) & phys_mask) | MTRR_VALID },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB },
	};
	/* One at a time: a host whose KVM lacks one of them still boots. */
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e;
		} one = { .h.nmsrs = 1, .e = { .index = wanted[i].index, .data = wanted[i].value } };
		if (ioctl(v->fd, KVM_SET_MSRS, &one) != 1)
			log_debug("vCPU %u: KVM did not take MSR %#x", v->id, wanted[i].index);
	}

	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return error_errno(err, errno, "KVM refused the FPU state of vCPU %u", v->id);
	return 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type, .present = 1,
		.dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0, .g = 1,
	};
}

static void set_segments(struct kvm_sregs *s, bool long_mode)
{
	s->cs = long_mode ? flat_segment(BOOT_SEL_CODE64, 0xb, true)
			  : flat_segment(BOOT_SEL_CODE32, 0xb, false);
	s->ds = s->es = s->fs = s->gs = s->ss = flat_segment(BOOT_SEL_DATA, 0x3, false);
	s->tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = BOOT_SEL_TSS,
				      .type = 0xb, .present = 1, .s = 0 };
	s->ldt = (struct kvm_segment){ .selector = 0, .type = 0x2, .present = 1, .unusable = 1 };
	s->gdt.base = LAYOUT_BOOT_GDT;
	s->gdt.limit = 5 * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
}

int vcpu_set_boot_state(struct vcpu *v, const struct boot_entry *entry, struct error *err)
{
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return error_errno(err, errno, "cannot read the registers of vCPU %u", v->id);
	bool long_mode = entry->mode == BOOT_MODE_LINUX64;
	set_segments(&sregs, long_mode);
	if (long_mode) {
		sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		sregs.cr3 = LAYOUT_PML4;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
	} else {
		sregs.cr0 = CR0_PE | CR0_ET;
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return error_errno(err, errno, "KVM refused the boot segment state of vCPU %u", v->id);

	struct kvm_regs regs = { .rflags = 0x2, .rip = entry->rip };
	if (long_mode)
		regs.rsi = entry->arg;
	else
		regs.rbx = entry->arg;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return error_errno(err, errno, "KVM refused the boot registers of vCPU %u", v->id);
	return 0;
}
