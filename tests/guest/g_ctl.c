/* Control-socket scenarios, chosen with `action=`:
 *   power  waits for the ACPI power button (SCI on IOAPIC pin 9, level,
 *          GPE0 status bit 0 at port 0x60C), then powers off (S5);
 *   panic  reads the pvpanic port's capabilities, waits for a byte on
 *          COM1, reports a panic on port 0x505 and halts;
 *   triple waits for a byte on COM1, then triple-faults;
 *   idle   (default) prints "ctl: ready" and halts, waking for nothing. */
#include "guest.h"

#define GPE0_STS   0x60c
#define GPE0_EN    0x60e
#define PVPANIC    0x505
#define VEC_SCI    0x49

static volatile bool pressed;

static void on_sci(unsigned v)
{
	uint16_t sts = inw(GPE0_STS);
	if (sts & 1) {
		outw(GPE0_STS, 1);          /* write one to clear: the level drops */
		pressed = true;
	}
	lapic_eoi();
}

static void wait_power_button(void)
{
	mask_pic();
	lapic_enable();
	set_handler(VEC_SCI, on_sci);
	ioapic_route(9, VEC_SCI, lapic_id(), true);
	outw(GPE0_EN, 1);
	println("ctl: waiting for the power button");
	while (!pressed)
		__asm__ volatile("sti; hlt; cli");
	println("ctl: power button pressed, powering off");
	poweroff();
}

static void wait_key(void)
{
	while (!(inb(0x3fd) & 1))
		pause_cpu();
	(void)inb(0x3f8);
}

static void triple_on_key(void)
{
	println("ctl: press a key for a triple fault");
	wait_key();
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };
	__asm__ volatile("lidt %0; xorl %%ecx, %%ecx; divl %%ecx" :: "m"(none) : "eax", "ecx", "edx");
}

static void panic_on_key(void)
{
	print("ctl: pvpanic capabilities ");
	put_hex(inb(PVPANIC));
	putc_serial('\n');
	println("ctl: press a key to panic");
	wait_key();
	outb(PVPANIC, 1);
	println("ctl: panic reported");
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_main(void)
{
	char action[16] = "idle";
	cmdline_get("action", action, sizeof(action));
	println("ctl: ready");
	if (streq(action, "power"))
		wait_power_button();
	if (streq(action, "panic"))
		panic_on_key();
	if (streq(action, "triple"))
		triple_on_key();
	for (;;)
		__asm__ volatile("cli; hlt");
}
