/* Pointer input end to end.  mode=tablet: drives the virtio tablet like a
 * minimal virtio-input driver (reads its name through the select/subsel
 * config protocol, posts event buffers) and prints every event until the
 * left button is released.  mode=mouse: switches the PS/2 mouse on through
 * the i8042 and prints the bytes of three movement packets. */
#include "virtio.h"

#define EVENTS 32

static uint8_t queue_mem[16384] __attribute__((aligned(4096)));
static uint8_t status_mem[16384] __attribute__((aligned(4096)));
static struct { uint16_t type, code; uint32_t value; } events[EVENTS];

static void tablet(void)
{
	struct gvdev d;
	struct gvq q, sq;
	int r = virtio_open(&d, 18, 0);
	if (r < 0) {
		print("tablet: open failed ");
		put_dec((uint64_t)-r);
		putc_serial('\n');
		return;
	}
	*(volatile uint8_t *)(d.device + 0) = 1;       /* ID_NAME */
	*(volatile uint8_t *)(d.device + 1) = 0;
	unsigned n = virtio_config8(&d, 2);
	print("tablet: name ");
	for (unsigned i = 0; i < n && i < 64; i++)
		putc_serial((char)virtio_config8(&d, 8 + i));
	putc_serial('\n');
	if (virtio_queue(&d, &q, 0, 64, queue_mem) < 0 || virtio_queue(&d, &sq, 1, 64, status_mem) < 0) {
		println("tablet: queue setup failed");
		return;
	}
	virtio_driver_ok(&d);
	for (unsigned i = 0; i < EVENTS; i++) {
		struct gbuf b = { &events[i], sizeof(events[i]), true };
		gvq_submit(&d, &q, &b, 1);
	}
	println("tablet: ready");
	for (;;) {
		uint32_t len;
		int id = gvq_wait(&q, &len, 100000000ul);
		if (id < 0) {
			println("tablet: no event");
			return;
		}
		unsigned i = (unsigned)id % EVENTS;     /* one descriptor per buffer, in order */
		print("tablet: event ");
		put_dec(events[i].type);
		print(" ");
		put_hex(events[i].code);
		print(" ");
		put_dec(events[i].value);
		putc_serial('\n');
		bool done = events[i].type == 1 && events[i].code == 0x110 && events[i].value == 0;
		struct gbuf b = { &events[i], sizeof(events[i]), true };
		gvq_submit(&d, &q, &b, 1);
		if (done)
			return;
	}
}

static uint8_t aux_read(void)
{
	for (;;) {
		uint8_t st = inb(0x64);
		if ((st & 0x21) == 0x21)
			return inb(0x60);
		if (st & 1)
			inb(0x60);                      /* a keyboard byte: not ours */
	}
}

static void mouse(void)
{
	outb(0x64, 0xd4);
	outb(0x60, 0xf4);                               /* enable reporting */
	print("mouse: ack ");
	put_hex(aux_read());
	putc_serial('\n');
	println("mouse: ready");
	for (int i = 0; i < 9; i++) {
		print("aux: ");
		put_hex(aux_read());
		putc_serial('\n');
	}
}

void guest_main(void)
{
	char mode[16] = "tablet";
	cmdline_get("mode", mode, sizeof(mode));
	if (streq(mode, "mouse"))
		mouse();
	else
		tablet();
}
