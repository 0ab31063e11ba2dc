/* virtio-balloon (virtio 1.2, 5.5): the host asks for guest memory back
 * and the guest reports how it uses its memory.
 *
 * Inflated pages and free pages the guest reports are discarded from the
 * anonymous RAM mapping (MADV_DONTNEED) before the device acknowledges
 * them, so the VMM's RSS really drops; a page the guest touches again
 * refaults as zeros, which the spec allows without MUST_TELL_HOST (we do
 * not offer it, so deflating needs no work).  The statistics buffer is
 * held and handed back every stats interval to ask for fresh numbers.
 * Every PFN is checked against guest RAM; bad ones are counted and
 * skipped. */
#ifndef VMDECK_VIRTIO_BALLOON_H
#define VMDECK_VIRTIO_BALLOON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/dev_counters.h"
#include "vmm/virtio_pci.h"

/* Feature bits (virtio 1.2, 5.5.3) */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST  0
#define VIRTIO_BALLOON_F_STATS_VQ        1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM  2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT  3
#define VIRTIO_BALLOON_F_PAGE_POISON     4
#define VIRTIO_BALLOON_F_REPORTING       5

#define BALLOON_PAGE 4096ull            /* PFNs are in 4 KiB units whatever the guest's page size */
#define BALLOON_NR_STATS 16             /* tags 0-9 of virtio 1.2, 10-15 of Linux 6.10+ */
#define BALLOON_DEFAULT_STATS_MS 2000

struct balloon_options {
	unsigned stats_interval_ms;     /* 0: never ask for statistics */
	bool deflate_on_oom;
	bool free_page_reporting;
};

/* What the guest reported on the stats queue. */
struct balloon_guest_stats {
	uint64_t value[BALLOON_NR_STATS];
	uint32_t present;               /* bit N: tag N was reported */
	uint64_t updated_ns;            /* CLOCK_MONOTONIC of the last report; 0: none yet */
	uint64_t updates;
};

struct balloon_counters {
	uint64_t inflated_pages, deflated_pages;   /* valid PFNs seen on each queue */
	uint64_t discarded_bytes;                  /* host memory handed back */
	uint64_t reports, reported_bytes;          /* free page reporting */
	uint64_t stats_requests;
	uint64_t bad_pfns;                         /* PFNs outside guest RAM, skipped */
	uint64_t bad_buffers;                      /* lengths that are not whole entries */
	uint64_t unknown_tags, discard_errors;
};

struct balloon_info {
	uint32_t num_pages, actual;                /* config space: target and the driver's count */
	bool driver_ok;
	uint64_t features;                         /* negotiated */
	struct balloon_guest_stats guest;
	struct balloon_counters c;
};

/* Called on any thread when the driver changed `actual`. */
struct batch;

struct balloon_events {
	void (*actual_changed)(void *opaque);
	void *opaque;
};

struct virtio_balloon {
	struct virtio_pci vp;
	struct virtio_ops ops;
	struct balloon_options opt;
	const struct guest_mem *mem;
	pthread_mutex_t lock;                      /* everything below */
	uint32_t num_pages, actual;
	bool stats_held;                           /* a stats buffer waits for the next request */
	uint16_t stats_head;
	unsigned stats_queue;
	struct balloon_guest_stats guest;
	struct balloon_counters c;
	struct balloon_events ev;
	struct vq_chain *chain;                    /* scratch for kicks (main loop only) */
	struct batch *batch;                       /* pages to discard, sorted in batches */
	unsigned timer;                            /* main-loop source asking for stats */
	/* Hands host memory back; madvise(MADV_DONTNEED) unless a test
	 * replaces it.  Returns 0 or -1. */
	int (*discard)(void *opaque, void *hva, size_t len);
	void *discard_opaque;
	uint64_t (*clock_ns)(void);
};

/* Parses "[on|off][,stats=SECONDS][,deflate-on-oom=on|off][,free-page-reporting=on|off]";
 * *ENABLED says whether a balloon was asked for. */
int balloon_parse(const char *spec, struct balloon_options *opt, bool *enabled, struct error *err);
void balloon_default_options(struct balloon_options *opt);

struct virtio_balloon *balloon_create(const struct balloon_options *opt, const struct guest_mem *mem,
				      struct irq_router *router, struct error *err);
void balloon_destroy(struct virtio_balloon *b);
void balloon_set_events(struct virtio_balloon *b, struct balloon_events ev);
/* Asks the guest to hold PAGES 4 KiB pages in the balloon. */
void balloon_set_target(struct virtio_balloon *b, uint32_t pages);
void balloon_get_info(struct virtio_balloon *b, struct balloon_info *out);
/* Hands the held stats buffer back so the guest refills it (the stats
 * timer does this every interval). */
void balloon_request_stats(struct virtio_balloon *b);
/* The dev_counters hook. */
unsigned balloon_counters(void *dev, struct dev_counter *out, unsigned max);
/* "swap-in", "free-memory", ... (the names Linux uses), or NULL. */
const char *balloon_stat_name(unsigned tag);

#endif
