/* Interrupt delivery: COM1 receive interrupts through the IOAPIC and the
 * LAPIC timer.  Echoes "rx C" for every byte typed on the host; 'q' ends
 * once the timer has ticked a few times. */
#include "guest.h"

#define VEC_TIMER 0x30
#define VEC_COM1  0x41

static volatile unsigned ticks;
static volatile bool quit;

static void on_timer(unsigned v)
{
	ticks++;
	lapic_eoi();
}

static void on_com1(unsigned v)
{
	while (inb(0x3fd) & 1) {                    /* LSR: data ready */
		char c = (char)inb(0x3f8);
		print("irq: rx ");
		putc_serial(c);
		putc_serial('\n');
		if (c == 'q')
			quit = true;
	}
	lapic_eoi();
}

void guest_main(void)
{
	mask_pic();
	lapic_enable();
	set_handler(VEC_TIMER, on_timer);
	set_handler(VEC_COM1, on_com1);
	mmio_write32(0xfee003e0ull, 0xb);           /* timer divide by 1 */
	mmio_write32(0xfee00320ull, VEC_TIMER | (1u << 17));  /* periodic */
	mmio_write32(0xfee00380ull, 1000000);       /* about 1 ms */
	ioapic_route(4, VEC_COM1, lapic_id(), false);
	outb(0x3fa, 0xc7);                          /* FIFO on, cleared, trigger 14 */
	outb(0x3fc, 0x0b);                          /* DTR, RTS, OUT2 */
	outb(0x3f9, 0x01);                          /* receive interrupts */
	println("irq: ready");
	while (!quit || ticks < 5)
		__asm__ volatile("sti; hlt; cli");
	mmio_write32(0xfee00320ull, 1u << 16);      /* timer off */
	print("irq: timer ticks ");
	println(ticks > 0 ? "seen" : "NONE");
}
