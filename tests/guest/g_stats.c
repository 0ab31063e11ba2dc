/* For the statistics: vCPU 0 computes in a ring-3 loop forever (native
 * speed, no exits), every other vCPU halts with interrupts off.  The host
 * test expects vCPU 0 near a whole host CPU and the others near zero. */
#include "guest.h"

static volatile uint32_t halted;
static volatile uint64_t sink;

static void ap_main(unsigned index)
{
	__atomic_fetch_add(&halted, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void user_loop(void)
{
	uint64_t x = 88172645463325252ull;
	for (;;) {
		for (int i = 0; i < 1000000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		sink = x;
	}
}

void guest_main(void)
{
	uint8_t ids[MAX_CPUS];
	unsigned n = acpi_cpu_ids(ids, MAX_CPUS);
	memcpy((void *)TRAMP_BASE, tramp_start, (size_t)(tramp_end - tramp_start));
	ap_entry = ap_main;
	mask_pic();
	lapic_enable();
	unsigned self = lapic_id();
	for (unsigned i = 0; i < n; i++) {
		if (ids[i] == self)
			continue;
		lapic_icr(ids[i], 0x4500);                        /* INIT */
		lapic_icr(ids[i], 0x4600 | (TRAMP_BASE >> 12));   /* start-up */
	}
	for (unsigned long spin = 0; halted < n - 1 && spin < 200000000ul; spin++)
		pause_cpu();
	print("stats: ");
	put_dec(halted);
	println(" vcpus halted, vcpu 0 loops at cpl 3");
	enter_user(user_loop);
}
