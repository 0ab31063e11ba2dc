/* A virtio-balloon driver: touches `touch=N` MiB at 32 MiB (ring 3, native
 * speed), reports a free 2 MiB block, sends memory statistics with known
 * values (tag T carries 1000003 * (T + 1)), then follows the device's
 * target: inflating gives back the touched pages (two hostile PFNs ride
 * along the first time), deflating takes them back and reads one to show
 * the host discarded it. */
#include "virtio.h"

#define TOUCH_BASE  (32ull << 20)
#define REPORT_BASE (100ull << 20)
#define REPORT_SIZE (2u << 20)
#define MAX_PAGES   16384
#define NR_TAGS     16
#define F_STATS     (1ull << 1)
#define F_OOM       (1ull << 2)
#define F_REPORTING (1ull << 5)

struct stat_entry {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));

static uint8_t rings[4][16384] __attribute__((aligned(16384)));
static uint32_t pfns[MAX_PAGES];
static struct stat_entry stats[NR_TAGS];
static struct gvdev dev;
static struct gvq q[4];
static uint64_t touch_pages;

static void touch(void)
{
	for (uint64_t a = TOUCH_BASE; a < TOUCH_BASE + touch_pages * 4096; a += 64)
		*(volatile uint64_t *)a = a | 1;
	for (uint64_t a = REPORT_BASE; a < REPORT_BASE + REPORT_SIZE; a += 64)
		*(volatile uint64_t *)a = a | 1;
}

static void submit_stats(void)
{
	for (unsigned t = 0; t < NR_TAGS; t++)
		stats[t] = (struct stat_entry){ (uint16_t)t, 1000003ull * (t + 1) };
	struct gbuf b = { stats, sizeof(stats), false };
	gvq_submit(&dev, &q[2], &b, 1);
}

static void wait_used(struct gvq *vq)
{
	uint32_t len;
	if (gvq_wait(vq, &len, 400000000ul) < 0)
		println("balloon: the device did not answer");
}

static void set_actual(uint32_t pages)
{
	*(volatile uint32_t *)(dev.device + 4) = pages;
}

static void send_pfns(struct gvq *vq, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		pfns[i - from] = (uint32_t)((TOUCH_BASE >> 12) + i);
	struct gbuf b = { pfns, 4 * (to - from), false };
	gvq_submit(&dev, vq, &b, 1);
	wait_used(vq);
}

static void hostile_pfns(void)
{
	static uint32_t bad[2] = { 0xffffffffu, 0xe0000000u >> 12 };
	struct gbuf b = { bad, sizeof(bad), false };
	gvq_submit(&dev, &q[0], &b, 1);
	wait_used(&q[0]);
}

static void report_free_block(void)
{
	struct gbuf b = { (void *)REPORT_BASE, REPORT_SIZE, true };
	gvq_submit(&dev, &q[3], &b, 1);
	wait_used(&q[3]);
	println("balloon: reported 2 MiB free");
}

static void follow_target(void)
{
	uint32_t actual = 0;
	bool first = true;
	for (;;) {
		uint32_t len;
		if (gvq_wait(&q[2], &len, 1) >= 0)
			submit_stats();                 /* the device asked for fresh numbers */
		uint32_t target = virtio_config32(&dev, 0);
		if (target > touch_pages)
			target = (uint32_t)touch_pages;
		if (target > actual) {
			if (first)
				hostile_pfns();
			first = false;
			send_pfns(&q[0], actual, target);
			actual = target;
			set_actual(actual);
			print("balloon: inflated to ");
			put_dec(actual);
			println(" pages");
		} else if (target < actual) {
			send_pfns(&q[1], target, actual);
			set_actual(target);
			uint64_t back = *(volatile uint64_t *)(TOUCH_BASE + 4096ull * target);
			actual = target;
			print("balloon: deflated to ");
			put_dec(actual);
			print(" pages, a returned page reads ");
			put_hex(back);
			putc_serial('\n');
		}
		for (int i = 0; i < 2000; i++)
			pause_cpu();
	}
}

void guest_main(void)
{
	char buf[16];
	touch_pages = 16 * 256;
	if (cmdline_get("touch", buf, sizeof(buf))) {
		uint64_t mib = 0;
		for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
			mib = mib * 10 + (uint64_t)(*p - '0');
		touch_pages = mib * 256 < MAX_PAGES ? mib * 256 : MAX_PAGES;
	}
	int r = virtio_open(&dev, 5, F_STATS | F_OOM | F_REPORTING);
	if (r < 0) {
		print("balloon: no device (");
		put_dec((uint64_t)-r);
		println(")");
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		if (virtio_queue(&dev, &q[i], i, 128, rings[i]) < 0)
			println("balloon: a queue failed");
	submit_stats();
	virtio_driver_ok(&dev);
	enter_user(touch);
	report_free_block();
	print("balloon: touched ");
	put_dec(touch_pages / 256);
	println(" MiB, ready");
	follow_target();
}
