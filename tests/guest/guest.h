/* The tiny-guest kit: freestanding programs that `vmdeck run` boots on the
 * real /dev/kvm in the host-KVM test tier.  Guest code at CPL 0 is emulated
 * on paravirtual KVM hosts (slow), so loops belong at CPL 3 (enter_user);
 * there the CPU computes at native speed but cannot touch ports. */
#ifndef GUEST_H
#define GUEST_H

#define SEL_KCODE  0x08
#define SEL_KDATA  0x10
#define SEL_UDATA  0x23
#define SEL_UCODE  0x2b
#define SEL_TSS    0x30
#define SEL_KCODE32 0x40
#define TRAMP_BASE 0x6000     /* where the AP start-up code is copied (SIPI vector 6) */
#define MAX_CPUS   16

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void cli(void) { __asm__ volatile("cli"); }
static inline void hlt(void) { __asm__ volatile("hlt"); }
static inline void pause_cpu(void) { __asm__ volatile("pause"); }

/* PVH start info the VMM passes in EBX (Xen's hvm_start_info). */
struct start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
extern uint64_t boot_info;          /* start_info (PVH) or boot_params (bzImage) */
extern int boot_is_bzimage;

/* lib.c */
void putc_serial(char c);
void puts_serial(const char *s);
void put_dec(uint64_t v);
void put_hex(uint64_t v);
void print(const char *s);            /* puts without newline handling */
void println(const char *s);
const char *cmdline(void);
/* Value of KEY=... on the command line, copied into BUF; false if absent. */
bool cmdline_get(const char *key, char *buf, size_t len);
bool streq(const char *a, const char *b);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void __attribute__((noreturn)) poweroff(void);
void __attribute__((noreturn)) reset_cf9(void);
void __attribute__((noreturn)) reset_kbd(void);

/* Interrupts: handlers run at CPL 0 with interrupts off. */
typedef void (*irq_handler)(unsigned vector);
void set_handler(unsigned vector, irq_handler h);
void mask_pic(void);
void lapic_enable(void);
void lapic_eoi(void);
unsigned lapic_id(void);
void lapic_icr(unsigned dest, uint32_t low);
void ioapic_route(unsigned pin, unsigned vector, unsigned dest, bool level);
/* Runs FN at CPL 3 on its own stack; returns when FN returns.  FN must not
 * do port I/O (paravirtual KVM drops IOPL at CPL 3). */
void enter_user(void (*fn)(void));
/* ACPI: the MADT's local APIC ids; returns the count (0: no MADT). */
unsigned acpi_cpu_ids(uint8_t *ids, unsigned max);
/* The ACPI table with signature SIG (checksum verified), or NULL. */
const void *acpi_find_table(const char *sig);

/* start.S */
extern char tramp_start[], tramp_end[];
extern volatile uint32_t ap_started;
extern void (*volatile ap_entry)(unsigned index);

/* Each test guest defines this. */
void guest_main(void);
#endif
#endif
