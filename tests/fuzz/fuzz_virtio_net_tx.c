/* libFuzzer target: virtio-net's queues fed by a hostile driver.
 *
 * The input is a descriptor table, an avail ring and the memory they point
 * into; the device is reset, negotiated (features from the input) and
 * kicked on the transmit queue, the control queue or the receive queue
 * (then offered a frame).  The peer echoes transmitted frames back, as
 * slirp answers at once, so re-entry from tx into rx is covered.  Nothing
 * may crash, hang or leak; the VMM-side invariants are asserted.
 *
 * Layout (little-endian): u8 mode, u8 features, u16 avail_idx,
 * u16 ring[16], 16 x {u64 addr, u32 len, u16 flags, u16 next}, then data.
 * An addr with bit 63 clear is an offset into the data area; with it set,
 * a raw guest-physical address. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/log.h"
#include "vmm/virtio_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA   0x100000ull
#define RAM_SIZE  (128u << 10)
#define DESC_OFF  0x0000
#define AVAIL_OFF 0x0200
#define USED_OFF  0x0400
#define DATA_OFF  0x1000
#define DATA_SIZE (RAM_SIZE - DATA_OFF)
#define QSIZE     16

struct fuzz_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

struct fuzz_input {
	uint8_t mode, features;
	uint16_t avail_idx;
	uint16_t ring[QSIZE];
	struct fuzz_desc desc[QSIZE];
} __attribute__((packed));

struct fuzz_state {
	uint8_t *ram;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_bus pci;
	struct irq_router router;
	struct virtio_net *n;
	uint64_t common, device;
	bool echo;
	unsigned frames;
};

static void no_irq(void *ctx, unsigned gsi, int level) {}

static void peer_tx(void *opaque, const uint8_t *frame, size_t len)
{
	struct fuzz_state *s = opaque;
	if (len < 14 || len > VIRTIO_NET_FRAME(s->n->mtu))
		abort();                         /* the device let a bad frame out */
	s->frames++;
	if (s->echo) {
		uint8_t back[VIRTIO_NET_MAX_FRAME];
		memcpy(back, frame, len);
		memcpy(back, s->n->mac, 6);
		virtio_net_receive(s->n, back, len);
	}
}

static void reg_write(struct fuzz_state *s, uint64_t off, uint64_t v, unsigned len)
{
	const struct pci_bar *bar = &s->n->vp.pci.bars[4];
	bar->ops->write(bar->opaque, off, &v, len);
}

static uint64_t reg_read(struct fuzz_state *s, uint64_t off, unsigned len)
{
	uint64_t v = 0;
	const struct pci_bar *bar = &s->n->vp.pci.bars[4];
	bar->ops->read(bar->opaque, off, &v, len);
	return v;
}

static void find_caps(struct fuzz_state *s)
{
	const uint8_t *cfg = s->n->vp.pci.config;
	for (unsigned c = cfg[PCI_CAPABILITY_LIST]; c; c = cfg[c + 1]) {
		if (cfg[c] != PCI_CAP_ID_VNDR)
			continue;
		if (cfg[c + 3] == 1)
			s->common = pci_get32(cfg + c + 8);
		else if (cfg[c + 3] == 4)
			s->device = pci_get32(cfg + c + 8);
	}
}

static struct fuzz_state *setup(void)
{
	static struct fuzz_state *s;
	if (s)
		return s;
	log_set_level(LOG_ERROR);       /* hostile input is expected: no warnings */
	s = calloc(1, sizeof(*s));
	s->ram = calloc(1, RAM_SIZE);
	gm_add(&s->mem, RAM_GPA, RAM_SIZE, s->ram);
	bus_init(&s->pio);
	bus_init(&s->mmio);
	irq_router_init(&s->router);
	pci_bus_init(&s->pci, &s->pio, &s->mmio, no_irq, s);
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct error err;
	s->n = virtio_net_create(mac, 1500, (struct virtio_net_peer){ s, peer_tx }, &s->mem, &s->router, &err);
	if (!s->n || pci_bus_add(&s->pci, &s->n->vp.pci) < 0)
		abort();
	pci_bus_reset(&s->pci);
	find_caps(s);
	return s;
}

enum { C_DFSELECT = 0x00, C_DF = 0x04, C_GFSELECT = 0x08, C_GF = 0x0c, C_STATUS = 0x14, C_QSELECT = 0x16,
       C_QSIZE = 0x18, C_QENABLE = 0x1c, C_QDESC = 0x20, C_QDRIVER = 0x28, C_QDEVICE = 0x30 };

static uint64_t features_from(uint8_t bits)
{
	static const unsigned map[] = { VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MRG_RXBUF,
					VIRTIO_NET_F_CTRL_VQ, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC };
	uint64_t f = 1ull << VIRTIO_F_VERSION_1;
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (bits & (1u << i))
			f |= 1ull << map[i];
	if (bits & (1u << 3))
		f |= 1ull << VIRTIO_NET_F_CTRL_RX | 1ull << VIRTIO_NET_F_CTRL_MAC_ADDR;
	return f;
}

/* The driver's side: reset, features, one queue at the fixed rings. */
static bool bring_up(struct fuzz_state *s, uint64_t features, unsigned q)
{
	reg_write(s, s->common + C_STATUS, 0, 1);
	reg_write(s, s->common + C_STATUS, 3, 1);
	for (unsigned i = 0; i < 2; i++) {
		reg_write(s, s->common + C_GFSELECT, i, 4);
		reg_write(s, s->common + C_GF, (uint32_t)(features >> (32 * i)), 4);
	}
	reg_write(s, s->common + C_STATUS, 3 | 8, 1);
	if (!(reg_read(s, s->common + C_STATUS, 1) & 8))
		return false;
	reg_write(s, s->common + C_QSELECT, q, 2);
	reg_write(s, s->common + C_QSIZE, QSIZE, 2);
	reg_write(s, s->common + C_QDESC, RAM_GPA + DESC_OFF, 8);
	reg_write(s, s->common + C_QDRIVER, RAM_GPA + AVAIL_OFF, 8);
	reg_write(s, s->common + C_QDEVICE, RAM_GPA + USED_OFF, 8);
	reg_write(s, s->common + C_QENABLE, 1, 2);
	reg_write(s, s->common + C_STATUS, 3 | 8 | 4, 1);
	return true;
}

static void lay_out(struct fuzz_state *s, const struct fuzz_input *in, const uint8_t *data, size_t len)
{
	memset(s->ram, 0, RAM_SIZE);
	memcpy(s->ram + DATA_OFF, data, len < DATA_SIZE ? len : DATA_SIZE);
	for (unsigned i = 0; i < QSIZE; i++) {
		struct vring_desc d = { .len = in->desc[i].len, .flags = in->desc[i].flags, .next = in->desc[i].next };
		uint64_t a = in->desc[i].addr;
		d.addr = a >> 63 ? a & ~(1ull << 63) : RAM_GPA + DATA_OFF + a % DATA_SIZE;
		memcpy(s->ram + DESC_OFF + 16 * i, &d, 16);
	}
	uint16_t *avail = (uint16_t *)(s->ram + AVAIL_OFF);
	memcpy(avail + 2, in->ring, sizeof(in->ring));
	avail[1] = in->avail_idx;
}

static void kick(struct fuzz_state *s, unsigned q)
{
	struct virtqueue *vq = virtio_pci_queue(&s->n->vp, q);
	if (vq->ready && !vq->broken)
		s->n->vp.ops->kick(&s->n->vp, q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (size < sizeof(in))
		return 0;
	memcpy(&in, data, sizeof(in));
	struct fuzz_state *s = setup();
	unsigned q = in.mode & 3;
	if (q == 3)
		q = VIRTIO_NET_TXQ;
	s->echo = in.mode & 4;
	virtio_net_set_link(s->n, !(in.mode & 8));
	lay_out(s, &in, data + sizeof(in), size - sizeof(in));
	if (!bring_up(s, features_from(in.features), q))
		return 0;
	struct virtio_net_stats before;
	virtio_net_get_stats(s->n, &before);
	kick(s, q);
	if (q == VIRTIO_NET_RXQ) {
		/* A frame for the guest, cut from the data to any length. */
		size_t len = in.mode >> 4 ? (size_t)(in.mode >> 4) * 100 : 60;
		uint8_t frame[VIRTIO_NET_MAX_FRAME] = { 0 };
		memcpy(frame, s->n->mac, 6);
		if (len > sizeof(frame))
			len = sizeof(frame);
		virtio_net_receive(s->n, frame, len);
		kick(s, q);
	}
	/* The used index never runs ahead of what the driver made available. */
	uint16_t used_idx;
	memcpy(&used_idx, s->ram + USED_OFF + 2, 2);
	if (used_idx > QSIZE * 2 && q != VIRTIO_NET_RXQ)
		abort();
	struct virtio_net_stats after;
	virtio_net_get_stats(s->n, &after);
	if (after.tx_packets - before.tx_packets > VIRTIO_NET_TX_BUDGET || after.backlog > VIRTIO_NET_BACKLOG)
		abort();
	return 0;
}
