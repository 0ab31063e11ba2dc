#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "src/kvopts.h"
#include "src/log.h"
#include "vmm/virtio_balloon.h"

#define QUEUE_SIZE 128
#define STAT_ENTRY 10                 /* le16 tag, le64 value, packed */
#define STATS_BYTES_MAX 4096          /* more than any driver sends; the rest is ignored */

enum role { ROLE_NONE, ROLE_INFLATE, ROLE_DEFLATE, ROLE_STATS, ROLE_REPORTING };

/* Config space (virtio 1.2, 5.5.4) */
enum { CFG_NUM_PAGES = 0, CFG_ACTUAL = 4, CFG_HINT_CMD_ID = 8, CFG_POISON = 12, CFG_SIZE = 16 };

static const char *const stat_names[BALLOON_NR_STATS] = {
	"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
	"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures", "oom_kills",
	"alloc_stalls", "async_scans", "direct_scans", "async_reclaims", "direct_reclaims",
};

const char *balloon_stat_name(unsigned tag)
{
	return tag < BALLOON_NR_STATS ? stat_names[tag] : NULL;
}

void balloon_default_options(struct balloon_options *opt)
{
	*opt = (struct balloon_options){
		.stats_interval_ms = BALLOON_DEFAULT_STATS_MS, .deflate_on_oom = true,
		.free_page_reporting = true,
	};
}

static int parse_seconds(const char *s, unsigned *ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0) || v > 86400)
		return -1;
	*ms = (unsigned)(v * 1000 + 0.5);
	return 0;
}

int balloon_parse(const char *spec, struct balloon_options *opt, bool *enabled, struct error *err)
{
	balloon_default_options(opt);
	*enabled = true;
	if (!spec || !*spec)
		return 0;
	struct kvopts o;
	if (kvopts_parse(&o, spec, "--balloon", err) < 0)
		return -1;
	int r = -1;
	const char *head = kvopts_head(&o), *stats = kvopts_get(&o, "stats");
	if (head && strcmp(head, "on") && strcmp(head, "off")) {
		error_set(err, "--balloon takes on, off or options such as stats=2, not '%s'", head);
		goto out;
	}
	*enabled = !head || !strcmp(head, "on");
	if (stats && parse_seconds(stats, &opt->stats_interval_ms) < 0) {
		error_set(err, "--balloon: stats takes a number of seconds (0 turns polling off), not '%s'", stats);
		goto out;
	}
	if (kvopts_get_bool(&o, "deflate-on-oom", true, &opt->deflate_on_oom, "--balloon", err) < 0 ||
	    kvopts_get_bool(&o, "free-page-reporting", true, &opt->free_page_reporting, "--balloon", err) < 0 ||
	    kvopts_check_used(&o, "--balloon", err) < 0)
		goto out;
	r = 0;
out:
	kvopts_free(&o);
	return r;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int discard_madvise(void *opaque, void *hva, size_t len)
{
	(void)opaque;
	return madvise(hva, len, MADV_DONTNEED);
}

/* Queue numbers follow the negotiated features, as Linux and QEMU number
 * them: a queue for a feature the driver did not take does not exist and
 * the next one moves down. */
static enum role queue_role(const struct virtio_pci *vp, unsigned q)
{
	enum role order[4];
	unsigned n = 0;
	order[n++] = ROLE_INFLATE;
	order[n++] = ROLE_DEFLATE;
	if (virtio_pci_has_feature(vp, VIRTIO_BALLOON_F_STATS_VQ))
		order[n++] = ROLE_STATS;
	if (virtio_pci_has_feature(vp, VIRTIO_BALLOON_F_REPORTING))
		order[n++] = ROLE_REPORTING;
	return q < n ? order[q] : ROLE_NONE;
}

static void discard(struct virtio_balloon *b, uint8_t *hva, size_t len)
{
	if (!len)
		return;
	if (b->discard(b->discard_opaque, hva, len) < 0)
		b->c.discard_errors++;
	else
		b->c.discarded_bytes += len;
}

/* Pages to discard are gathered, sorted and merged into runs: Linux hands
 * out balloon pages in no useful order (often descending), and each
 * discard is a syscall plus an MMU-notifier round through KVM, which is
 * what limits inflation speed, nested virtualization above all. */
#define BATCH_PAGES 1024

struct batch {
	uintptr_t hva[BATCH_PAGES];
	unsigned n;
};

static int cmp_hva(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static void batch_flush(struct virtio_balloon *b, struct batch *bt)
{
	qsort(bt->hva, bt->n, sizeof(bt->hva[0]), cmp_hva);
	uintptr_t start = 0, end = 0;
	for (unsigned i = 0; i < bt->n; i++) {
		uintptr_t h = bt->hva[i];
		if (end && h <= end) {               /* adjacent, or a PFN given twice */
			if (h + BALLOON_PAGE > end)
				end = h + BALLOON_PAGE;
			continue;
		}
		if (end)
			discard(b, (uint8_t *)start, end - start);
		start = h;
		end = h + BALLOON_PAGE;
	}
	if (end)
		discard(b, (uint8_t *)start, end - start);
	bt->n = 0;
}

static void handle_pfn(struct virtio_balloon *b, uint32_t pfn, bool inflate, struct batch *bt)
{
	uint8_t *hva = gm_ptr(b->mem, (uint64_t)pfn * BALLOON_PAGE, BALLOON_PAGE);
	if (!hva) {
		b->c.bad_pfns++;
		return;
	}
	if (!inflate) {
		b->c.deflated_pages++;
		return;
	}
	b->c.inflated_pages++;
	bt->hva[bt->n++] = (uintptr_t)hva;
	if (bt->n == BATCH_PAGES)
		batch_flush(b, bt);
}

/* The PFN array may be split across buffers at any byte. */
static void handle_pfn_chain(struct virtio_balloon *b, const struct vq_chain *c, bool inflate)
{
	struct batch *bt = b->batch;
	uint8_t part[4];
	unsigned have = 0;
	bt->n = 0;
	for (unsigned i = 0; i < c->nr_out; i++) {
		const uint8_t *p = c->iov[i].iov_base;
		for (size_t j = 0; j < c->iov[i].iov_len; j++) {
			part[have++] = p[j];
			if (have == 4) {
				uint32_t pfn = (uint32_t)part[0] | (uint32_t)part[1] << 8 | (uint32_t)part[2] << 16 |
					       (uint32_t)part[3] << 24;
				handle_pfn(b, pfn, inflate, bt);
				have = 0;
			}
		}
	}
	if (have)
		b->c.bad_buffers++;
	batch_flush(b, bt);
}

static void take_stats(struct virtio_balloon *b, const struct vq_chain *c)
{
	uint8_t buf[STATS_BYTES_MAX];
	size_t n = 0;
	for (unsigned i = 0; i < c->nr_out && n < sizeof(buf); i++) {
		size_t take = c->iov[i].iov_len < sizeof(buf) - n ? c->iov[i].iov_len : sizeof(buf) - n;
		if (take)              /* an empty buffer has no address */
			memcpy(buf + n, c->iov[i].iov_base, take);
		n += take;
	}
	if (n % STAT_ENTRY)
		b->c.bad_buffers++;
	for (size_t off = 0; off + STAT_ENTRY <= n; off += STAT_ENTRY) {
		uint16_t tag = (uint16_t)(buf[off] | buf[off + 1] << 8);
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | buf[off + 2 + k];
		if (tag >= BALLOON_NR_STATS) {
			b->c.unknown_tags++;      /* the spec says: ignore */
			continue;
		}
		b->guest.value[tag] = v;
		b->guest.present |= 1u << tag;
	}
	b->guest.updated_ns = b->clock_ns();
	b->guest.updates++;
}

/* Free page reporting: each buffer is a free range of guest RAM (already
 * checked to be RAM by the queue); only whole host pages inside it go. */
static void take_report(struct virtio_balloon *b, const struct vq_chain *c)
{
	const uintptr_t page = BALLOON_PAGE;
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		uintptr_t start = (uintptr_t)c->iov[i].iov_base, end = start + c->iov[i].iov_len;
		b->c.reported_bytes += c->iov[i].iov_len;
		uintptr_t s = (start + page - 1) & ~(page - 1), e = end & ~(page - 1);
		if (e > s)
			discard(b, (uint8_t *)s, e - s);
	}
	b->c.reports++;
}

static void kick(struct virtio_pci *vp, unsigned q)
{
	struct virtio_balloon *b = vp->dev;
	struct virtqueue *vq = virtio_pci_queue(vp, q);
	enum role role = queue_role(vp, q);
	if (!vq || role == ROLE_NONE)
		return;
	bool pushed = false;
	int got;
	pthread_mutex_lock(&b->lock);
	while ((got = vq_pop(vq, b->chain)) > 0) {
		switch (role) {
		case ROLE_INFLATE:
		case ROLE_DEFLATE:
			/* Discard before the guest sees the buffer used (5.5.6.2). */
			handle_pfn_chain(b, b->chain, role == ROLE_INFLATE);
			vq_push(vq, b->chain->head, 0);
			pushed = true;
			break;
		case ROLE_STATS:
			/* The driver may have only one buffer out; a second one
			 * gives the first back. */
			if (b->stats_held) {
				vq_push(vq, b->stats_head, 0);
				pushed = true;
			}
			take_stats(b, b->chain);
			b->stats_held = true;
			b->stats_head = b->chain->head;
			b->stats_queue = q;
			break;
		case ROLE_REPORTING:
			take_report(b, b->chain);
			vq_push(vq, b->chain->head, 0);
			pushed = true;
			break;
		case ROLE_NONE:
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (pushed)
		virtio_pci_notify(vp, q);
	if (got < 0)
		virtio_pci_queue_error(vp, q);
}

void balloon_request_stats(struct virtio_balloon *b)
{
	pthread_mutex_lock(&b->lock);
	bool held = b->stats_held;
	unsigned q = b->stats_queue;
	if (held) {
		vq_push(virtio_pci_queue(&b->vp, q), b->stats_head, 0);
		b->stats_held = false;
		b->c.stats_requests++;
	}
	pthread_mutex_unlock(&b->lock);
	if (held)
		virtio_pci_notify(&b->vp, q);
}

static gboolean on_stats_timer(gpointer data)
{
	balloon_request_stats(data);
	return G_SOURCE_CONTINUE;
}

/* The driver reset the device or the VM reset: the guest holds no balloon
 * pages any more and its stats buffer is gone.  The target stays. */
static void reset(struct virtio_pci *vp)
{
	struct virtio_balloon *b = vp->dev;
	pthread_mutex_lock(&b->lock);
	b->actual = 0;
	b->stats_held = false;
	pthread_mutex_unlock(&b->lock);
	if (b->ev.actual_changed)
		b->ev.actual_changed(b->ev.opaque);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void config_read(struct virtio_pci *vp, unsigned offset, void *data, unsigned len)
{
	struct virtio_balloon *b = vp->dev;
	uint8_t cfg[CFG_SIZE] = { 0 };
	pthread_mutex_lock(&b->lock);
	put_le32(cfg + CFG_NUM_PAGES, b->num_pages);
	put_le32(cfg + CFG_ACTUAL, b->actual);
	pthread_mutex_unlock(&b->lock);
	memset(data, 0, len);
	if (offset < CFG_SIZE)
		memcpy(data, cfg + offset, len < CFG_SIZE - offset ? len : CFG_SIZE - offset);
}

/* Only `actual` is the driver's to write; any access width works. */
static void config_write(struct virtio_pci *vp, unsigned offset, const void *data, unsigned len)
{
	struct virtio_balloon *b = vp->dev;
	const uint8_t *in = data;
	bool changed = false;
	pthread_mutex_lock(&b->lock);
	uint32_t actual = b->actual;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = offset + i;
		if (o >= CFG_ACTUAL && o < CFG_ACTUAL + 4) {
			unsigned shift = 8 * (o - CFG_ACTUAL);
			actual = (actual & ~(0xffu << shift)) | (uint32_t)in[i] << shift;
		}
	}
	changed = actual != b->actual;
	b->actual = actual;
	pthread_mutex_unlock(&b->lock);
	if (changed && b->ev.actual_changed)
		b->ev.actual_changed(b->ev.opaque);
}

void balloon_set_target(struct virtio_balloon *b, uint32_t pages)
{
	pthread_mutex_lock(&b->lock);
	bool changed = pages != b->num_pages;
	b->num_pages = pages;
	pthread_mutex_unlock(&b->lock);
	if (changed)
		virtio_pci_config_changed(&b->vp);
}

void balloon_set_events(struct virtio_balloon *b, struct balloon_events ev)
{
	pthread_mutex_lock(&b->lock);
	b->ev = ev;
	pthread_mutex_unlock(&b->lock);
}

void balloon_get_info(struct virtio_balloon *b, struct balloon_info *out)
{
	pthread_mutex_lock(&b->lock);
	out->num_pages = b->num_pages;
	out->actual = b->actual;
	out->guest = b->guest;
	out->c = b->c;
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_lock(&b->vp.lock);
	out->driver_ok = (b->vp.status & VIRTIO_STATUS_DRIVER_OK) != 0;
	out->features = b->vp.driver_features;
	pthread_mutex_unlock(&b->vp.lock);
}

unsigned balloon_counters(void *dev, struct dev_counter *out, unsigned max)
{
	struct virtio_balloon *b = dev;
	struct balloon_info i;
	balloon_get_info(b, &i);
	const struct dev_counter all[] = {
		{ "target_pages", i.num_pages, true },
		{ "actual_pages", i.actual, true },
		{ "inflated_pages", i.c.inflated_pages, false },
		{ "deflated_pages", i.c.deflated_pages, false },
		{ "discarded_bytes", i.c.discarded_bytes, false },
		{ "reports", i.c.reports, false },
		{ "reported_bytes", i.c.reported_bytes, false },
		{ "stats_requests", i.c.stats_requests, false },
		{ "stats_updates", i.guest.updates, false },
		{ "bad_pfns", i.c.bad_pfns, false },
		{ "bad_buffers", i.c.bad_buffers, false },
		{ "unknown_tags", i.c.unknown_tags, false },
		{ "discard_errors", i.c.discard_errors, false },
		{ "bad_chains", b->vp.bad_chains, false },
	};
	unsigned n = 0;
	for (; n < max && n < sizeof(all) / sizeof(all[0]); n++)
		out[n] = all[n];
	return n;
}

static const struct virtio_ops balloon_ops_template = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.class_code = 0x050000,            /* memory controller, RAM */
	.queue_max = QUEUE_SIZE,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.reset = reset,
	.kick = kick,
};

struct virtio_balloon *balloon_create(const struct balloon_options *opt, const struct guest_mem *mem,
				      struct irq_router *router, struct error *err)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	if (b) {
		b->chain = malloc(sizeof(*b->chain));
		b->batch = malloc(sizeof(*b->batch));
	}
	if (!b || !b->chain || !b->batch) {
		if (b) {
			free(b->chain);
			free(b->batch);
			free(b);
		}
		error_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->opt = *opt;
	b->mem = mem;
	b->discard = discard_madvise;
	b->clock_ns = monotonic_ns;
	b->ops = balloon_ops_template;
	/* Stats are always offered (a driver without them still works);
	 * MUST_TELL_HOST is not: deflating needs nothing from us. */
	b->ops.features = 1ull << VIRTIO_BALLOON_F_STATS_VQ;
	b->ops.num_queues = 3;
	if (opt->deflate_on_oom)
		b->ops.features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (opt->free_page_reporting) {
		b->ops.features |= 1ull << VIRTIO_BALLOON_F_REPORTING;
		b->ops.num_queues = 4;
	}
	if (virtio_pci_init(&b->vp, &b->ops, b, mem, router, err) < 0) {
		balloon_destroy(b);
		return NULL;
	}
	if (opt->stats_interval_ms)
		b->timer = g_timeout_add(opt->stats_interval_ms, on_stats_timer, b);
	return b;
}

void balloon_destroy(struct virtio_balloon *b)
{
	if (!b)
		return;
	if (b->timer)
		g_source_remove(b->timer);
	if (b->vp.ops)
		virtio_pci_destroy(&b->vp);
	pthread_mutex_destroy(&b->lock);
	free(b->chain);
	free(b->batch);
	free(b);
}
