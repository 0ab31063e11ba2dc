/* Runtime for the tiny guests: serial output, power control, interrupts,
 * the LAPIC and IOAPIC, CPL 3 and a little ACPI. */
#include "guest.h"

#define COM1        0x3f8
#define PM1_CNT     0x604
#define SLP_TYP_S5  5
#define LAPIC       0xfee00000ull
#define IOAPIC      0xfec00000ull

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2, reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

extern char isr_table[];
extern char irq_stack_top[];
extern uint64_t gdt[];
extern char user_exit[];

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static irq_handler handlers[256];

void *memcpy(void *d, const void *s, size_t n)
{
	char *dd = d;
	const char *ss = s;
	while (n--)
		*dd++ = *ss++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	char *dd = d;
	while (n--)
		*dd++ = (char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The VMM's UART transmits instantly; a real one would need LSR polling. */
void putc_serial(char c)
{
	outb(COM1, (uint8_t)c);
}

void print(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

void println(const char *s)
{
	print(s);
	putc_serial('\n');
}

void puts_serial(const char *s)
{
	println(s);
}

void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	print(buf + i);
}

void put_hex(uint64_t v)
{
	char buf[19];
	int i = 18;
	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	print(buf + i);
}

const char *cmdline(void)
{
	if (boot_is_bzimage) {
		uint32_t ptr = *(uint32_t *)(boot_info + 0x228);   /* hdr.cmd_line_ptr */
		return (const char *)(uint64_t)ptr;
	}
	const struct start_info *si = (const struct start_info *)boot_info;
	return si && si->cmdline_paddr ? (const char *)si->cmdline_paddr : "";
}

bool cmdline_get(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	for (const char *p = cmdline(); *p;) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			size_t n = 0;
			while (p[n] && p[n] != ' ' && n + 1 < len) {
				buf[n] = p[n];
				n++;
			}
			buf[n] = 0;
			return true;
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

void poweroff(void)
{
	outw(PM1_CNT, (SLP_TYP_S5 << 10) | (1 << 13));
	for (;;)
		hlt();
}

void reset_cf9(void)
{
	outb(0xcf9, 0x06);
	for (;;)
		hlt();
}

void reset_kbd(void)
{
	outb(0x64, 0xfe);
	for (;;)
		hlt();
}

struct frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, vector, error, rip, cs, rflags, rsp, ss;
};

void trap(uint64_t vector, struct frame *f);
void trap(uint64_t vector, struct frame *f)
{
	if (vector == 6 && f->rip == (uint64_t)user_exit) {
		/* Back from CPL 3: drop this frame and return from enter_user. */
		__asm__ volatile("jmp user_return");
	}
	if (handlers[vector]) {
		handlers[vector]((unsigned)vector);
		return;
	}
	print("guest: unexpected exception ");
	put_dec(vector);
	print(" error ");
	put_hex(f->error);
	print(" at ");
	put_hex(f->rip);
	print(" cs ");
	put_hex(f->cs);
	print(" rflags ");
	put_hex(f->rflags);
	putc_serial('\n');
	poweroff();
}

void set_handler(unsigned vector, irq_handler h)
{
	handlers[vector & 255] = h;
}

static void set_gate(unsigned v, unsigned dpl)
{
	uint64_t addr = (uint64_t)isr_table + 16 * v;
	idt[v] = (struct idt_entry){
		.off0 = (uint16_t)addr, .sel = SEL_KCODE, .ist = 0,
		.type = (uint8_t)(0x8e | (dpl << 5)),      /* present, interrupt gate */
		.off1 = (uint16_t)(addr >> 16), .off2 = (uint32_t)(addr >> 32),
	};
}

void guest_init(void);
void guest_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, 0);
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(idtr));

	tss.rsp0 = (uint64_t)irq_stack_top;
	tss.iomap = sizeof(tss);                    /* no I/O bitmap: IOPL decides */
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit & 0xf0000) << 32) | ((base & 0xff000000ull) << 32);
	gdt[7] = base >> 32;
	__asm__ volatile("ltr %w0" :: "r"(SEL_TSS));
}

void mask_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void lapic_enable(void)
{
	mmio_write32(LAPIC + 0xf0, 0x1ff);            /* software enable, spurious vector 0xff */
	mmio_write32(LAPIC + 0x350, 1u << 16);        /* LINT0 masked: no ExtINT from the PIC */
}

void lapic_eoi(void)
{
	mmio_write32(LAPIC + 0xb0, 0);
}

unsigned lapic_id(void)
{
	return mmio_read32(LAPIC + 0x20) >> 24;
}

void lapic_icr(unsigned dest, uint32_t low)
{
	mmio_write32(LAPIC + 0x310, dest << 24);
	mmio_write32(LAPIC + 0x300, low);
	while (mmio_read32(LAPIC + 0x300) & (1u << 12))
		pause_cpu();
}

void ioapic_route(unsigned pin, unsigned vector, unsigned dest, bool level)
{
	uint32_t low = vector | (level ? (1u << 15) : 0);
	mmio_write32(IOAPIC, 0x10 + 2 * pin + 1);
	mmio_write32(IOAPIC + 0x10, dest << 24);
	mmio_write32(IOAPIC, 0x10 + 2 * pin);
	mmio_write32(IOAPIC + 0x10, low);
}

struct acpi_sdt {
	char sig[4];
	uint32_t length;
	uint8_t rev, checksum;
	char oem[6], table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool checksum_ok(const void *p, size_t n)
{
	uint8_t s = 0;
	for (const uint8_t *b = p; n--; b++)
		s = (uint8_t)(s + *b);
	return s == 0;
}

const void *acpi_find_table(const char *sig)
{
	uint64_t rsdp = 0;
	if (!boot_is_bzimage)
		rsdp = ((const struct start_info *)boot_info)->rsdp_paddr;
	else
		rsdp = *(uint64_t *)(boot_info + 0x70);        /* boot_params.acpi_rsdp_addr */
	if (!rsdp || memcmp((const void *)rsdp, "RSD PTR ", 8) || !checksum_ok((void *)rsdp, 20))
		return 0;
	const struct acpi_sdt *xsdt = (const void *)*(uint64_t *)(rsdp + 24);
	if (memcmp(xsdt->sig, "XSDT", 4) || !checksum_ok(xsdt, xsdt->length))
		return 0;
	unsigned n = (xsdt->length - sizeof(*xsdt)) / 8;
	for (unsigned i = 0; i < n; i++) {
		uint64_t addr;
		memcpy(&addr, (const char *)(xsdt + 1) + 8 * i, 8);
		const struct acpi_sdt *t = (const void *)addr;
		if (!memcmp(t->sig, sig, 4) && checksum_ok(t, t->length))
			return t;
	}
	return 0;
}

unsigned acpi_cpu_ids(uint8_t *ids, unsigned max)
{
	const struct acpi_sdt *madt = acpi_find_table("APIC");
	if (!madt)
		return 0;
	unsigned n = 0;
	const uint8_t *p = (const uint8_t *)(madt + 1) + 8, *end = (const uint8_t *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2) {
		if (p[0] == 0 && (p[4] & 1) && n < max)   /* enabled processor local APIC */
			ids[n++] = p[3];
		p += p[1];
	}
	return n;
}

void ap_init(unsigned index);
void (*volatile ap_entry)(unsigned index);
void ap_init(unsigned index)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(idtr));
	if (ap_entry)
		ap_entry(index);
}
