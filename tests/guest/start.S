/* Start-up for the tiny guests: the PVH entry (32-bit, paging off), the
 * switch to long mode, the AP trampoline, interrupt stubs and the way down
 * to CPL 3.  Page tables and the GDT are static so that the emulated CPL 0
 * start-up runs as few instructions as possible. */
#include "guest.h"

	.section .note.pvh, "a"
	.balign 4
	.long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start32

/* ---- BSP entry (PVH: EBX = start_info) ---------------------------------- */
	.section .text.entry, "ax"
	.code32
	.globl _start32
_start32:
	cli
	movl $bsp_stack_top, %esp        /* PVH hands over no stack */
	movl %ebx, boot_info
	lgdt gdt_desc
	call enable_long_mode
	ljmp $SEL_KCODE, $long_entry

/* PAE + PML4 + EFER.LME + paging; shared by the BSP and the APs. */
enable_long_mode:
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ret

	.code64
long_entry:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	leaq bsp_stack_top(%rip), %rsp
	call guest_init
	call guest_main
	call poweroff

/* ---- bzImage 64-bit entry (RSI = boot_params, the VMM's GDT/paging) ---- */
	.section .text.bzentry, "ax"
	.globl _start64_bz
_start64_bz:
	cli
	movq %rsi, boot_info(%rip)
	movl $1, boot_is_bzimage(%rip)
	lgdt gdt_desc(%rip)
	movq $pml4, %rax
	movq %rax, %cr3
	leaq bsp_stack_top(%rip), %rsp
	pushq $SEL_KCODE
	leaq long_entry(%rip), %rax
	pushq %rax
	lretq

	.section .text.entry, "ax"
/* ---- AP trampoline, copied to TRAMP_BASE; entered in real mode ---------- */
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $(TRAMP_BASE + tramp32 - tramp_start)
	.code32
tramp32:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $(TRAMP_BASE + 0x1000), %esp  /* a scratch stack for the call below */
	movl $enable_long_mode, %eax
	call *%eax
	ljmp $SEL_KCODE, $ap_long_entry
	.balign 8
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:

	.code64
ap_long_entry:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_started(%rip)
	movl %eax, %edi                  /* AP index: 0, 1, ... */
	leaq ap_stacks(%rip), %rsp
	movq %rdi, %rax
	incq %rax
	shlq $12, %rax
	addq %rax, %rsp
	call ap_init
1:	hlt
	jmp 1b

/* ---- interrupts ---------------------------------------------------------- */
/* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30. */
	.macro vec n
	.balign 16
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	pushq $\n
	.else
	pushq $0
	pushq $\n
	.endif
	jmp isr_common
	.endm

	.balign 16
	.globl isr_table
isr_table:
	.altmacro
	.set i, 0
	.rept 256
	vec %i
	.set i, i + 1
	.endr
	.noaltmacro

isr_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq 72(%rsp), %rdi              /* vector */
	movq %rsp, %rsi
	call trap
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp                   /* vector and error code */
	iretq

/* enter_user(fn): iretq to CPL 3; a `ud2` at user_exit comes back through
 * the #UD handler.  On paravirtual KVM (kvm_pvm) exceptions are the one
 * reliable way from CPL 3 to CPL 0: it drops IOPL at CPL 3, raises #UD on
 * `int N` and does not switch privilege on `syscall` (all measured).  So
 * ring-3 code only computes. */
	.globl enter_user
enter_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, kernel_rsp(%rip)
	movq %rdi, %rcx
	leaq user_stack_top(%rip), %rax
	pushq $SEL_UDATA
	pushq %rax
	pushq $0x202                     /* IF */
	pushq $SEL_UCODE
	leaq user_trampoline(%rip), %rax
	pushq %rax
	iretq
user_trampoline:
	call *%rcx
	.globl user_exit
user_exit:
	ud2
	.globl user_return
user_return:                             /* the #UD handler jumps here */
	movq kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* ---- data ----------------------------------------------------------------- */
	.section .data
	.balign 8
	.globl boot_info, boot_is_bzimage, ap_started, gdt
boot_info: .quad 0
boot_is_bzimage: .long 0
ap_started: .long 0
kernel_rsp: .quad 0
gdt:
	.quad 0
	.quad 0x00af9b000000ffff         /* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff         /* 0x10 kernel data */
	.quad 0x00cffb000000ffff         /* 0x18 user code, 32-bit (unused) */
	.quad 0x00cff3000000ffff         /* 0x20 user data */
	.quad 0x00affb000000ffff         /* 0x28 user code, 64-bit */
	.quad 0, 0                       /* 0x30 TSS, filled by guest_init */
	.quad 0x00cf9b000000ffff         /* 0x40 kernel code, 32-bit (AP start-up) */
gdt_end:
	.balign 8
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .data.pagetables, "aw"
	.balign 4096
	.globl pml4
pml4:	.quad pdpt + 7
	.fill 511, 8, 0
pdpt:	.quad pd + 7, pd + 0x1007, pd + 0x2007, pd + 0x3007
	.quad pd + 0x4007, pd + 0x5007, pd + 0x6007, pd + 0x7007
	.fill 504, 8, 0
/* 8 GiB identity-mapped with 2 MiB pages, user-accessible: RAM above 4 GiB
 * included. */
pd:	.set i, 0
	.rept 4096
	.quad (i << 21) | 0x87
	.set i, i + 1
	.endr

	.section .bss
	.balign 4096
	.globl ap_stacks
	.space 16384
bsp_stack_top:
	.space 16384
user_stack_top:
	.space 16384
	.globl irq_stack_top
irq_stack_top:
ap_stacks:
	.space 4096 * MAX_CPUS
