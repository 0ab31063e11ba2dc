/* libFuzzer: a hostile guest driving virtio-balloon.  The input fills a
 * fake guest RAM that holds the four split rings and whatever their
 * descriptors point at; every queue is kicked.  Discards are recorded,
 * never done, and must lie inside guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/irq_router.h"
#include "vmm/pci.h"
#include "vmm/virtio_balloon.h"

#define RAM_SIZE (1u << 20)
#define QSIZE 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *ram;

static int check_discard(void *opaque, void *hva, size_t len)
{
	if ((uint8_t *)hva < ram || (uint8_t *)hva + len > ram + RAM_SIZE)
		abort();
	return 0;
}

static void irq_set(void *ctx, unsigned gsi, int level) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct bus pio, mmio;
	static struct pci_bus pci;
	static struct irq_router router;
	static struct virtio_balloon *b;
	if (!b) {
		ram = aligned_alloc(4096, RAM_SIZE);
		gm_add(&gm, 0, RAM_SIZE, ram);
		bus_init(&pio);
		bus_init(&mmio);
		pci_bus_init(&pci, &pio, &mmio, irq_set, NULL);
		irq_router_init(&router);
		struct balloon_options opt;
		balloon_default_options(&opt);
		opt.stats_interval_ms = 0;
		struct error err;
		b = balloon_create(&opt, &gm, &router, &err);
		pci_bus_add(&pci, &b->vp.pci);
		b->discard = check_discard;
	}
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);
	b->vp.driver_features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BALLOON_F_STATS_VQ |
				1ull << VIRTIO_BALLOON_F_REPORTING;
	/* The rings sit in the first 4 KiB (1 KiB per queue) so that short
	 * inputs reach them; buffers may point anywhere. */
	for (unsigned q = 0; q < 4; q++) {
		uint64_t desc = 0x400 * q;
		vq_enable(&b->vp.q[q].vq, &gm, QSIZE, desc, desc + 16 * QSIZE, desc + 0x200, q & 1);
		b->vp.ops->kick(&b->vp, q);
		balloon_request_stats(b);
	}
	b->vp.ops->reset(&b->vp);
	b->vp.status = 0;
	for (unsigned q = 0; q < 4; q++)
		vq_disable(&b->vp.q[q].vq);
	return 0;
}
