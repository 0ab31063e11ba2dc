/* Boots, reports what the VMM handed over, then does what `action=` says:
 * poweroff (default), reset-cf9, reset-kbd, triple (a triple fault),
 * port-noise (touches unassigned ports and MMIO first), highmem (prints the
 * memory map and checks RAM above 4 GiB).  A boot counter in
 * CMOS NVRAM (byte 0x40) survives resets: `boots=N` resets until the Nth
 * boot, then powers off. */
#include "guest.h"

#define PVH_MAGIC 0x336ec578

static unsigned cmos_read(unsigned idx)
{
	outb(0x70, (uint8_t)idx);
	return inb(0x71);
}

static void cmos_write(unsigned idx, unsigned v)
{
	outb(0x70, (uint8_t)idx);
	outb(0x71, (uint8_t)v);
}

static unsigned parse_uint(const char *s)
{
	unsigned v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

static void report(void)
{
	print("hello: boot protocol ");
	println(boot_is_bzimage ? "bzimage" : "pvh");
	if (!boot_is_bzimage) {
		const struct start_info *si = (const struct start_info *)boot_info;
		print("hello: start_info magic ");
		println(si->magic == PVH_MAGIC ? "ok" : "BAD");
		print("hello: memmap entries ");
		put_dec(si->memmap_entries);
		putc_serial('\n');
	} else {
		print("hello: e820 entries ");
		put_dec(*(uint8_t *)(boot_info + 0x1e8));
		putc_serial('\n');
	}
	print("hello: cmdline ");
	println(cmdline());
	uint32_t r[4];
	cpuid(0x40000000, 0, r);
	char sig[13];
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	print("hello: hypervisor ");
	println(sig);
}

static void port_noise(void)
{
	/* Nothing lives here: reads must return all-ones and the VMM must carry on. */
	outb(0x2f8, 0x55);
	unsigned v = inb(0x2f8) | (unsigned)inw(0x1234) << 8;
	*(volatile uint32_t *)0xfe000000ull = 0xdeadbeef;
	uint32_t m = *(volatile uint32_t *)0xfe000000ull;
	print("hello: unassigned port reads ");
	put_hex(v);
	print(" mmio ");
	put_hex(m);
	putc_serial('\n');
}

struct memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static void high_memory(void)
{
	const struct start_info *si = (const struct start_info *)boot_info;
	const struct memmap_entry *m = (const void *)si->memmap_paddr;
	uint64_t top = 0;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		print("hello: memmap ");
		put_hex(m[i].addr);
		print(" ");
		put_hex(m[i].size);
		print(" type ");
		put_dec(m[i].type);
		putc_serial('\n');
		if (m[i].type == 1 && m[i].addr + m[i].size > top)
			top = m[i].addr + m[i].size;
	}
	/* The last 2 MiB page of RAM above 4 GiB must hold what we write. */
	volatile uint64_t *p = (volatile uint64_t *)(top - 4096);
	*p = 0x1234567887654321ull;
	print("hello: top of ram ");
	put_hex(top);
	println(*p == 0x1234567887654321ull ? " writable" : " BROKEN");
}

void guest_main(void)
{
	char action[32] = "poweroff", boots[8] = "1";
	cmdline_get("action", action, sizeof(action));
	bool counting = cmdline_get("boots", boots, sizeof(boots));
	unsigned boot = cmos_read(0x40) + 1;
	cmos_write(0x40, boot);
	print("hello: boot ");
	put_dec(boot);
	putc_serial('\n');
	if (boot == 1)
		report();
	if (streq(action, "port-noise"))
		port_noise();
	if (streq(action, "highmem"))
		high_memory();
	if (counting && boot >= parse_uint(boots)) {
		println("hello: last boot, powering off");
		poweroff();
	}
	if (streq(action, "reset-cf9"))
		reset_cf9();
	if (streq(action, "reset-kbd"))
		reset_kbd();
	if (streq(action, "triple")) {
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };
		println("hello: triple fault coming");
		/* A divide error with no IDT: #DE -> #GP -> #DF -> shutdown.  (int3
		 * would do on hardware, but paravirtual KVM cannot emulate it.) */
		__asm__ volatile("lidt %0; xorl %%ecx, %%ecx; divl %%ecx" :: "m"(none) : "eax", "ecx", "edx");
	}
	println("hello: powering off");
}
