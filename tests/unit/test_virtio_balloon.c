/* virtio-balloon against a fake guest memory: a host-side "driver" lays
 * out split rings in the fake RAM, queues buffers and kicks the device
 * model directly.  The discard function is replaced by a recorder so the
 * tests see exactly which host ranges are handed back, and one test uses
 * the real madvise and checks residency with mincore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/bus.h"
#include "vmm/irq_router.h"
#include "vmm/pci.h"
#include "vmm/stats_proc.h"
#include "vmm/virtio_balloon.h"

#define LOW_SIZE  (8u << 20)
#define HIGH_GPA  0x100000000ull
#define HIGH_SIZE (1u << 20)
#define RING_GPA  0x10000ull        /* rings for 4 queues, 16 KiB each */
#define BUF_GPA   0x80000ull        /* driver buffers */
#define QSIZE     16

struct discard_rec {
	uint8_t *hva[64];
	size_t len[64];
	unsigned n;
	uint16_t used_idx_at_discard[64];
};

struct fixture {
	uint8_t *low, *high;
	struct guest_mem gm;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct irq_router router;
	struct virtio_balloon *b;
	struct discard_rec rec;
	unsigned events;
	uint64_t now;
	struct tq {
		uint64_t desc, avail, used;
		uint16_t next, avail_idx, last_used;
	} q[4];
	uint64_t buf_next;
};

static struct fixture *F;

static void irq_set(void *ctx, unsigned gsi, int level) {}

static int record_discard(void *opaque, void *hva, size_t len)
{
	struct fixture *f = opaque;
	if (f->rec.n < 64) {
		f->rec.hva[f->rec.n] = hva;
		f->rec.len[f->rec.n] = len;
		/* The inflate queue's used index when the page went: it must not
		 * have been acknowledged yet. */
		uint16_t u;
		memcpy(&u, gm_ptr(&f->gm, f->q[0].used + 2, 2), 2);
		f->rec.used_idx_at_discard[f->rec.n] = u;
		f->rec.n++;
	}
	return 0;
}

static uint64_t fake_clock(void)
{
	return F->now;
}

static void on_actual(void *opaque)
{
	((struct fixture *)opaque)->events++;
}

static uint64_t features_all(void)
{
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BALLOON_F_STATS_VQ |
	       1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM | 1ull << VIRTIO_BALLOON_F_REPORTING;
}

static void enable_queues(struct fixture *f, uint64_t features, unsigned n)
{
	f->b->vp.driver_features = features;
	for (unsigned i = 0; i < n; i++) {
		struct tq *t = &f->q[i];
		t->desc = RING_GPA + i * 0x4000;
		t->avail = t->desc + 16 * QSIZE;
		t->used = t->desc + 0x2000;
		t->next = t->avail_idx = t->last_used = 0;
		assert_int_equal(vq_enable(&f->b->vp.q[i].vq, &f->gm, QSIZE, t->desc, t->avail, t->used, false), 0);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	F = f;
	f->low = mmap(NULL, LOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->high = mmap(NULL, HIGH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->low != MAP_FAILED && f->high != MAP_FAILED);
	gm_add(&f->gm, 0, LOW_SIZE, f->low);
	gm_add(&f->gm, HIGH_GPA, HIGH_SIZE, f->high);
	bus_init(&f->pio);
	bus_init(&f->mmio);
	pci_bus_init(&f->pci, &f->pio, &f->mmio, irq_set, NULL);
	irq_router_init(&f->router);
	struct balloon_options opt;
	balloon_default_options(&opt);
	opt.stats_interval_ms = 0;
	struct error err;
	f->b = balloon_create(&opt, &f->gm, &f->router, &err);
	assert_non_null(f->b);
	assert_true(pci_bus_add(&f->pci, &f->b->vp.pci) >= 0);
	f->b->discard = record_discard;
	f->b->discard_opaque = f;
	f->b->clock_ns = fake_clock;
	balloon_set_events(f->b, (struct balloon_events){ on_actual, f });
	f->buf_next = BUF_GPA;
	enable_queues(f, features_all(), 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	balloon_destroy(f->b);
	irq_router_destroy(&f->router);
	pci_bus_destroy(&f->pci);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	munmap(f->low, LOW_SIZE);
	munmap(f->high, HIGH_SIZE);
	free(f);
	return 0;
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* The driver's side: queues one chain and returns its head. */
static uint16_t submit(struct fixture *f, unsigned qi, const struct seg *s, unsigned n)
{
	struct tq *t = &f->q[qi];
	uint16_t head = t->next;
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		struct vring_desc d = {
			.addr = s[i].gpa, .len = s[i].len,
			.flags = (uint16_t)((s[i].write ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (uint16_t)((idx + 1) % QSIZE),
		};
		gm_write(&f->gm, t->desc + 16ull * idx, &d, sizeof(d));
	}
	t->next = (uint16_t)((head + n) % QSIZE);
	gm_write(&f->gm, t->avail + 4 + 2ull * (t->avail_idx % QSIZE), &head, 2);
	t->avail_idx++;
	gm_write(&f->gm, t->avail + 2, &t->avail_idx, 2);
	return head;
}

/* A buffer in driver memory holding DATA. */
static uint64_t buffer(struct fixture *f, const void *data, size_t len)
{
	uint64_t gpa = f->buf_next;
	gm_write(&f->gm, gpa, data, len);
	f->buf_next += (len + 63) & ~63ull;
	return gpa;
}

static int used(struct fixture *f, unsigned qi, uint32_t *len)
{
	struct tq *t = &f->q[qi];
	uint16_t idx;
	gm_read(&f->gm, t->used + 2, &idx, 2);
	if (idx == t->last_used)
		return -1;
	uint32_t e[2];
	gm_read(&f->gm, t->used + 4 + 8ull * (t->last_used % QSIZE), e, 8);
	t->last_used++;
	if (len)
		*len = e[1];
	return (int)e[0];
}

static void kick(struct fixture *f, unsigned q)
{
	f->b->vp.ops->kick(&f->b->vp, q);
}

/* The discards, in whatever order, include exactly [HVA, HVA+LEN). */
static bool recorded(const struct fixture *f, const uint8_t *hva, size_t len)
{
	for (unsigned i = 0; i < f->rec.n; i++)
		if (f->rec.hva[i] == hva && f->rec.len[i] == len)
			return true;
	return false;
}

static uint32_t pfn_of(uint64_t gpa)
{
	return (uint32_t)(gpa >> 12);
}

static void test_inflate_discards_exact_host_ranges(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[] = {
		pfn_of(0x400000), pfn_of(0x401000), pfn_of(0x402000), pfn_of(0x403000),   /* one run */
		pfn_of(0x600000),                                                         /* alone */
		pfn_of(HIGH_GPA), pfn_of(HIGH_GPA + 0x1000),                                /* high RAM */
		0xffffffffu,                                /* far beyond RAM */
		pfn_of(0xe0000000ull),                      /* the PCI hole */
		pfn_of(LOW_SIZE),                           /* one page past the end of low RAM */
	};
	struct seg s = { buffer(f, pfns, sizeof(pfns)), sizeof(pfns), false };
	uint16_t head = submit(f, 0, &s, 1);
	kick(f, 0);
	assert_int_equal(f->rec.n, 3);
	assert_true(recorded(f, f->low + 0x400000, 4 * 4096));
	assert_true(recorded(f, f->low + 0x600000, 4096));
	assert_true(recorded(f, f->high, 2 * 4096));
	/* Discarded before the buffer was given back. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->rec.used_idx_at_discard[i], 0);
	uint32_t len = 99;
	assert_int_equal(used(f, 0, &len), head);
	assert_int_equal(len, 0);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.c.inflated_pages, 7);
	assert_int_equal(info.c.bad_pfns, 3);
	assert_int_equal(info.c.discarded_bytes, 7 * 4096);
	assert_false(f->b->vp.status & VIRTIO_STATUS_NEEDS_RESET);   /* bad PFNs are not a broken queue */
}

static void test_pfn_array_split_across_buffers(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[] = { pfn_of(0x300000), pfn_of(0x301000), pfn_of(0x500000) };
	uint8_t raw[sizeof(pfns)];
	memcpy(raw, pfns, sizeof(pfns));
	/* 3 + 6 + 3 bytes: every boundary falls inside a PFN. */
	struct seg s[3] = {
		{ buffer(f, raw, 3), 3, false },
		{ buffer(f, raw + 3, 6), 6, false },
		{ buffer(f, raw + 9, 3), 3, false },
	};
	submit(f, 0, s, 3);
	kick(f, 0);
	assert_int_equal(f->rec.n, 2);
	assert_true(recorded(f, f->low + 0x300000, 2 * 4096));
	assert_true(recorded(f, f->low + 0x500000, 4096));
}

static void test_pages_in_any_order_become_few_discards(void **state)
{
	struct fixture *f = *state;
	/* Linux gives pages in allocation order, often descending; a PFN
	 * given twice is discarded once. */
	uint32_t pfns[256 + 3];
	for (unsigned i = 0; i < 256; i++)
		pfns[i] = pfn_of(0x500000 + 4096ull * (255 - i));
	pfns[256] = pfn_of(0x500000);
	pfns[257] = pfn_of(0x700000);
	pfns[258] = pfn_of(0x4ff000);
	struct seg s = { buffer(f, pfns, sizeof(pfns)), sizeof(pfns), false };
	submit(f, 0, &s, 1);
	kick(f, 0);
	assert_int_equal(f->rec.n, 2);
	assert_true(recorded(f, f->low + 0x4ff000, 257 * 4096));
	assert_true(recorded(f, f->low + 0x700000, 4096));
	/* More pages than one batch: still every page, still merged. */
	static uint32_t many[1500];
	for (unsigned i = 0; i < 1500; i++)
		many[i] = pfn_of(0x100000 + 4096ull * (1499 - i));
	f->rec.n = 0;
	s = (struct seg){ buffer(f, many, sizeof(many)), sizeof(many), false };
	submit(f, 0, &s, 1);
	kick(f, 0);
	size_t total = 0;
	for (unsigned i = 0; i < f->rec.n; i++)
		total += f->rec.len[i];
	assert_int_equal(total, 1500 * 4096);
	assert_true(f->rec.n <= 2);
}

static void test_partial_pfn_is_counted_and_whole_ones_used(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[6] = { 0 };
	uint32_t pfn = pfn_of(0x200000);
	memcpy(raw, &pfn, 4);
	struct seg s = { buffer(f, raw, sizeof(raw)), sizeof(raw), false };
	submit(f, 0, &s, 1);
	kick(f, 0);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.c.bad_buffers, 1);
	assert_int_equal(info.c.inflated_pages, 1);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(used(f, 0, NULL), 0);
}

static void test_deflate_touches_nothing(void **state)
{
	struct fixture *f = *state;
	uint32_t pfns[] = { pfn_of(0x400000), pfn_of(0x401000), 0xfffffff0u };
	struct seg s = { buffer(f, pfns, sizeof(pfns)), sizeof(pfns), false };
	uint16_t head = submit(f, 1, &s, 1);
	kick(f, 1);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(used(f, 1, NULL), head);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.c.deflated_pages, 2);
	assert_int_equal(info.c.bad_pfns, 1);
}

static void test_inflate_really_frees_host_memory(void **state)
{
	struct fixture *f = *state;
	f->b->discard = NULL;
	struct balloon_options opt;
	balloon_default_options(&opt);
	/* The real madvise this time. */
	balloon_destroy(f->b);
	struct error err;
	opt.stats_interval_ms = 0;
	f->b = balloon_create(&opt, &f->gm, &f->router, &err);
	assert_non_null(f->b);
	f->pci.slots[0] = NULL;
	assert_true(pci_bus_add(&f->pci, &f->b->vp.pci) >= 0);
	enable_queues(f, features_all(), 4);
	uint8_t *area = f->low + 0x400000;
	memset(area, 0xa5, 64 * 4096);
	assert_int_equal(procstat_resident(area, 64 * 4096), 64 * 4096);
	uint32_t pfns[64];
	for (unsigned i = 0; i < 64; i++)
		pfns[i] = pfn_of(0x400000 + 4096ull * i);
	struct seg s = { buffer(f, pfns, sizeof(pfns)), sizeof(pfns), false };
	submit(f, 0, &s, 1);
	kick(f, 0);
	assert_int_equal(procstat_resident(area, 64 * 4096), 0);
	/* A page the guest takes back reads as zeros (no MUST_TELL_HOST). */
	assert_int_equal(area[5 * 4096 + 7], 0);
}

static void put_stat(uint8_t *p, uint16_t tag, uint64_t v)
{
	p[0] = (uint8_t)tag;
	p[1] = (uint8_t)(tag >> 8);
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(v >> (8 * i));
}

static void test_stats_every_tag_and_the_request_cycle(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[17 * 10];
	for (unsigned t = 0; t < 16; t++)
		put_stat(raw + 10 * t, (uint16_t)t, 1000000ull * (t + 1) + t);
	put_stat(raw + 160, 200, 5);                 /* a tag from the future: ignored */
	f->now = 5000;
	struct seg s = { buffer(f, raw, sizeof(raw)), sizeof(raw), false };
	uint16_t head = submit(f, 2, &s, 1);
	kick(f, 2);
	/* Held, not used: the device gives it back to ask for new numbers. */
	assert_int_equal(used(f, 2, NULL), -1);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.guest.present, 0xffff);
	for (unsigned t = 0; t < 16; t++)
		assert_int_equal(info.guest.value[t], 1000000ull * (t + 1) + t);
	assert_int_equal(info.guest.updated_ns, 5000);
	assert_int_equal(info.c.unknown_tags, 1);
	assert_string_equal(balloon_stat_name(4), "free_memory");
	assert_string_equal(balloon_stat_name(15), "direct_reclaims");
	assert_null(balloon_stat_name(16));
	balloon_request_stats(f->b);
	assert_int_equal(used(f, 2, NULL), head);
	balloon_request_stats(f->b);                 /* nothing held: nothing happens */
	assert_int_equal(used(f, 2, NULL), -1);
	balloon_get_info(f->b, &info);
	assert_int_equal(info.c.stats_requests, 1);
	/* The refill carries new values. */
	put_stat(raw + 40, 4, 42);
	f->now = 9000;
	s.gpa = buffer(f, raw, 50);
	s.len = 50;
	submit(f, 2, &s, 1);
	kick(f, 2);
	balloon_get_info(f->b, &info);
	assert_int_equal(info.guest.value[4], 42);
	assert_int_equal(info.guest.updated_ns, 9000);
	assert_int_equal(info.guest.updates, 2);
}

static void test_stats_empty_buffers_are_harmless(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[10];
	put_stat(raw, 4, 77);
	/* An empty descriptor (no address) before the real one, then a chain
	 * of nothing at all. */
	struct seg s[2] = { { 0, 0, false }, { buffer(f, raw, sizeof(raw)), sizeof(raw), false } };
	submit(f, 2, s, 2);
	kick(f, 2);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.guest.value[4], 77);
	submit(f, 2, s, 1);
	kick(f, 2);
	balloon_get_info(f->b, &info);
	assert_int_equal(info.guest.updates, 2);
	assert_int_equal(info.c.bad_buffers, 0);
}

static void test_stats_second_buffer_returns_the_first(void **state)
{
	struct fixture *f = *state;
	uint8_t raw[10];
	put_stat(raw, 5, 77);
	struct seg s = { buffer(f, raw, sizeof(raw)), sizeof(raw), false };
	uint16_t first = submit(f, 2, &s, 1);
	kick(f, 2);
	submit(f, 2, &s, 1);
	kick(f, 2);
	assert_int_equal(used(f, 2, NULL), first);
	assert_int_equal(used(f, 2, NULL), -1);
}

static void test_stats_timer_asks_the_guest(void **state)
{
	struct fixture *f = *state;
	struct balloon_options opt;
	balloon_default_options(&opt);
	opt.stats_interval_ms = 10;
	balloon_destroy(f->b);
	struct error err;
	f->b = balloon_create(&opt, &f->gm, &f->router, &err);
	f->pci.slots[0] = NULL;
	assert_true(pci_bus_add(&f->pci, &f->b->vp.pci) >= 0);
	enable_queues(f, features_all(), 4);
	uint8_t raw[10];
	put_stat(raw, 5, 77);
	struct seg s = { buffer(f, raw, sizeof(raw)), sizeof(raw), false };
	uint16_t head = submit(f, 2, &s, 1);
	kick(f, 2);
	gint64 deadline = g_get_monotonic_time() + 2000000;
	int got = -1;
	while (got < 0 && g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, FALSE);
		got = used(f, 2, NULL);
		g_usleep(1000);
	}
	assert_int_equal(got, head);
}

static void test_free_page_reporting_discards_whole_pages(void **state)
{
	struct fixture *f = *state;
	/* A 2 MiB block as Linux reports them, and a ragged range of which only
	 * the pages wholly inside may go. */
	struct seg s[2] = {
		{ 0x200000, 0x200000, true },
		{ 0x700800, 0x2000, true },
	};
	uint16_t head = submit(f, 3, s, 2);
	kick(f, 3);
	assert_int_equal(f->rec.n, 2);
	assert_ptr_equal(f->rec.hva[0], f->low + 0x200000);
	assert_int_equal(f->rec.len[0], 0x200000);
	assert_ptr_equal(f->rec.hva[1], f->low + 0x701000);
	assert_int_equal(f->rec.len[1], 0x1000);
	assert_int_equal(used(f, 3, NULL), head);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.c.reports, 1);
	assert_int_equal(info.c.reported_bytes, 0x202000);
}

static void test_reporting_outside_ram_breaks_only_the_queue(void **state)
{
	struct fixture *f = *state;
	struct seg s = { 0xe0000000ull, 0x200000, true };
	submit(f, 3, &s, 1);
	kick(f, 3);
	assert_int_equal(f->rec.n, 0);
	assert_true(f->b->vp.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->b->vp.bad_chains, 1);
}

static void test_queue_numbers_follow_negotiated_features(void **state)
{
	struct fixture *f = *state;
	/* Without the stats queue, reporting moves to queue 2 (as Linux and
	 * QEMU number them). */
	enable_queues(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BALLOON_F_REPORTING, 3);
	struct seg s = { 0x200000, 0x200000, true };
	uint16_t head = submit(f, 2, &s, 1);
	kick(f, 2);
	assert_int_equal(used(f, 2, NULL), head);
	assert_int_equal(f->rec.n, 1);
	/* Queue 3 does not exist then: a kick there does nothing. */
	kick(f, 3);
}

static void test_config_target_actual_and_reset(void **state)
{
	struct fixture *f = *state;
	const struct virtio_ops *ops = f->b->vp.ops;
	balloon_set_target(f->b, 0x12345);
	uint32_t v = 0;
	ops->config_read(&f->b->vp, 0, &v, 4);
	assert_int_equal(v, 0x12345);
	/* The driver cannot change the target. */
	uint32_t w = 7;
	ops->config_write(&f->b->vp, 0, &w, 4);
	ops->config_read(&f->b->vp, 0, &v, 4);
	assert_int_equal(v, 0x12345);
	/* `actual` written byte by byte, as legacy drivers do. */
	uint8_t bytes[4] = { 0x45, 0x23, 0x01, 0x00 };
	for (unsigned i = 0; i < 4; i++)
		ops->config_write(&f->b->vp, 4 + i, &bytes[i], 1);
	ops->config_read(&f->b->vp, 4, &v, 4);
	assert_int_equal(v, 0x12345);
	assert_int_equal(f->events, 3);               /* three bytes changed it */
	uint16_t half;
	ops->config_read(&f->b->vp, 6, &half, 2);
	assert_int_equal(half, 1);
	/* Beyond the config space reads zeros. */
	ops->config_read(&f->b->vp, 14, &half, 2);
	assert_int_equal(half, 0);
	ops->reset(&f->b->vp);
	struct balloon_info info;
	balloon_get_info(f->b, &info);
	assert_int_equal(info.actual, 0);
	assert_int_equal(info.num_pages, 0x12345);    /* the target survives */
}

static void test_counters_hook(void **state)
{
	struct fixture *f = *state;
	struct dev_counter c[DEV_COUNTERS_MAX];
	unsigned n = balloon_counters(f->b, c, DEV_COUNTERS_MAX);
	assert_true(n >= 10);
	bool seen = false;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c[i].name, "bad_pfns"))
			seen = true;
	assert_true(seen);
	assert_int_equal(balloon_counters(f->b, c, 2), 2);
}

static void test_option_parsing(void **state)
{
	struct balloon_options o;
	bool on;
	struct error err;
	assert_int_equal(balloon_parse("", &o, &on, &err), 0);
	assert_true(on);
	assert_int_equal(o.stats_interval_ms, 2000);
	assert_true(o.deflate_on_oom && o.free_page_reporting);
	assert_int_equal(balloon_parse("off", &o, &on, &err), 0);
	assert_false(on);
	assert_int_equal(balloon_parse("stats=0.5,deflate-on-oom=off,free-page-reporting=off", &o, &on, &err), 0);
	assert_true(on);
	assert_int_equal(o.stats_interval_ms, 500);
	assert_false(o.deflate_on_oom || o.free_page_reporting);
	assert_int_equal(balloon_parse("stats=-1", &o, &on, &err), -1);
	assert_non_null(strstr(err.msg, "stats"));
	assert_int_equal(balloon_parse("maybe", &o, &on, &err), -1);
	assert_int_equal(balloon_parse("size=3", &o, &on, &err), -1);
	assert_non_null(strstr(err.msg, "size"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_inflate_discards_exact_host_ranges),
		T(test_pfn_array_split_across_buffers),
		T(test_pages_in_any_order_become_few_discards),
		T(test_partial_pfn_is_counted_and_whole_ones_used),
		T(test_deflate_touches_nothing),
		T(test_inflate_really_frees_host_memory),
		T(test_stats_every_tag_and_the_request_cycle),
		T(test_stats_empty_buffers_are_harmless),
		T(test_stats_second_buffer_returns_the_first),
		T(test_stats_timer_asks_the_guest),
		T(test_free_page_reporting_discards_whole_pages),
		T(test_reporting_outside_ram_breaks_only_the_queue),
		T(test_queue_numbers_follow_negotiated_features),
		T(test_config_target_actual_and_reset),
		T(test_counters_hook),
		cmocka_unit_test(test_option_parsing),
	};
	return cmocka_run_group_tests_name("virtio-balloon", tests, NULL, NULL);
}
