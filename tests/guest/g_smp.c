/* SMP bring-up through the in-kernel LAPIC: the BSP reads the CPUs from
 * the ACPI MADT and wakes every AP with INIT/SIPI; each AP checks its
 * CPUID topology and reports. */
#include "guest.h"

static volatile uint32_t print_lock;
static volatile uint32_t reported;

static void lock(void)
{
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		pause_cpu();
}

static void unlock(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static unsigned cpuid_apic_id(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[1] >> 24;
}

static void ap_main(unsigned index)
{
	unsigned id = lapic_id();
	lock();
	print("smp: cpu ");
	put_dec(id);
	print(" up, cpuid apic id ");
	put_dec(cpuid_apic_id());
	putc_serial('\n');
	unlock();
	__atomic_fetch_add(&reported, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_main(void)
{
	uint8_t ids[MAX_CPUS];
	unsigned n = acpi_cpu_ids(ids, MAX_CPUS);
	print("smp: madt cpus ");
	put_dec(n);
	putc_serial('\n');
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		cpuid(0xb, 1, r);
		print("smp: cpuid cpus ");
		put_dec(r[1] & 0xffff);
		putc_serial('\n');
	}
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
	for (unsigned long spin = 0; __atomic_load_n(&reported, __ATOMIC_ACQUIRE) < n - 1; spin++)
		if (spin > 200000000ul)
			break;
	lock();
	print("smp: ");
	put_dec(reported + 1);
	print(" of ");
	put_dec(n);
	println(" cpus up");
	unlock();
}
