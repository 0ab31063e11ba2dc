/* virtio-blk from the guest's side: requests through a split queue with
 * completions signalled by MSI-X.  Writes a pattern (seed from `seed=`) to
 * the first 64 KiB and the last 4 KiB, flushes, reads it back, and checks
 * GET_ID, out-of-range requests, discard, write-zeroes and an unknown
 * request type; `hostile=1` then sends a chain pointing outside RAM, which
 * must put the device in NEEDS_RESET, and shows the device works after a
 * reset.  Results are lines on the serial port for the host test. */
#include "virtio.h"

#define VEC 0x50
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13

struct req_header {
	uint32_t type, reserved;
	uint64_t sector;
};

static uint8_t ring_mem[16384] __attribute__((aligned(4096)));
static uint8_t data[65536] __attribute__((aligned(4096)));
static uint8_t check[65536] __attribute__((aligned(4096)));
static struct req_header hdr;
static volatile uint8_t status;
static volatile unsigned irqs;
static struct gvdev dev;
static struct gvq q;

static void on_irq(unsigned v)
{
	irqs++;
	lapic_eoi();
}

/* One request; waits for its completion interrupt.  Returns the status
 * byte, or 0xee if nothing came back. */
static int request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool device_writes)
{
	hdr = (struct req_header){ type, 0, sector };
	status = 0xff;
	struct gbuf bufs[3] = { { &hdr, sizeof(hdr), false }, { buf, len, device_writes },
				{ (void *)&status, 1, true } };
	struct gbuf nodata[2] = { bufs[0], bufs[2] };
	unsigned before = irqs;
	if (len)
		gvq_submit(&dev, &q, bufs, 3);
	else
		gvq_submit(&dev, &q, nodata, 2);
	for (unsigned long spin = 0; irqs == before && spin < 100000; spin++)
		__asm__ volatile("sti; hlt; cli");
	uint32_t used_len;
	if (gvq_wait(&q, &used_len, 1000) < 0)
		return 0xee;
	return status;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void report(const char *what, int value)
{
	print("blk: ");
	print(what);
	print(" ");
	put_dec((uint64_t)value);
	putc_serial('\n');
}

static unsigned parse(const char *key, unsigned def)
{
	char buf[16];
	if (!cmdline_get(key, buf, sizeof(buf)))
		return def;
	unsigned v = 0;
	for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	return v;
}

static void open_device(void)
{
	uint64_t wanted = 1ull << 2 | 1ull << 5 | 1ull << 6 | 1ull << 9 | 1ull << 13 | 1ull << 14;
	int r = virtio_open(&dev, 2, wanted);
	report("open", r < 0 ? -r : 0);
	virtio_queue(&dev, &q, 0, 128, ring_mem);
	virtio_msix(&dev, &q, 0, VEC);
	virtio_driver_ok(&dev);
}

static void data_requests(uint64_t sectors, bool read_only, uint32_t seed)
{
	fill(data, sizeof(data), seed);
	int w1 = request(T_OUT, 0, data, sizeof(data), false);
	int w2 = request(T_OUT, sectors - 8, data, 4096, false);
	report("write status", w1 | w2);
	report("flush status", request(T_FLUSH, 0, NULL, 0, false));
	memset(check, 0, sizeof(check));
	int r1 = request(T_IN, 0, check, sizeof(check), true);
	report("read status", r1);
	if (!read_only)
		report("read matches", memcmp(check, data, sizeof(check)) == 0);
	memset(check, 0, 4096);
	report("read last status", request(T_IN, sectors - 8, check, 4096, true));
	report("read beyond status", request(T_IN, sectors - 4, check, 4096, true));
}

static void other_requests(void)
{
	char id[21] = { 0 };
	report("get_id status", request(T_GET_ID, 0, id, 20, true));
	print("blk: id ");
	println(id);
	/* Discard 64 KiB at 1 MiB, then zero the first 4 KiB of our pattern. */
	struct { uint64_t sector; uint32_t num, flags; } seg = { 2048, 128, 0 };
	report("discard status", request(T_DISCARD, 0, &seg, sizeof(seg), false));
	seg = (typeof(seg)){ 0, 8, 1 };
	report("write_zeroes status", request(T_WRITE_ZEROES, 0, &seg, sizeof(seg), false));
	report("unknown type status", request(99, 0, NULL, 0, false));
}

/* A chain the device must refuse, then the recovery a driver does. */
static void hostile(void)
{
	hdr = (struct req_header){ T_IN, 0, 0 };
	struct gbuf bad[3] = { { &hdr, sizeof(hdr), false }, { (void *)0x7fff00000000ull, 4096, true },
			       { (void *)&status, 1, true } };
	gvq_submit(&dev, &q, bad, 3);
	uint8_t s = 0;
	for (unsigned long spin = 0; spin < 2000000 && !((s = virtio_status(&dev)) & 0x40); spin++)
		pause_cpu();
	report("needs reset", (s & 0x40) != 0);
	open_device();
	memset(check, 0, 512);
	report("after reset read status", request(T_IN, 0, check, 512, true));
}

void guest_main(void)
{
	mask_pic();
	lapic_enable();
	set_handler(VEC, on_irq);
	open_device();
	uint64_t sectors = virtio_config64(&dev, 0);
	bool read_only = (dev.features >> 5) & 1;
	report("capacity sectors", (int)sectors);
	report("read only", read_only);
	report("seg_max", (int)virtio_config32(&dev, 12));
	data_requests(sectors, read_only, parse("seed", 1));
	other_requests();
	report("interrupts", (int)irqs > 0);
	if (parse("hostile", 0))
		hostile();
	/* bench=N: N sequential 64 KiB reads, each waiting for its interrupt
	 * (the host times the run). */
	for (unsigned i = 0, n = parse("bench", 0); i < n; i++)
		if (request(T_IN, (uint64_t)(i % 64) * 128, check, sizeof(check), true) != 0)
			report("bench read failed at", (int)i);
}
