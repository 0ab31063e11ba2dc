#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/iov.h"
#include "src/log.h"
#include "vmm/virtio_blk.h"

/* Feature bits (virtio 1.2, 5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WRITE_ZEROES = 13 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

#define SECTOR 512
#define QUEUE_SIZE 256
#define SEG_MAX (QUEUE_SIZE - 2)          /* header and status take two */
#define MAX_DISCARD_SECTORS (1u << 22)    /* 2 GiB per segment */
#define MAX_DISCARD_SEGS 32
#define POOL_THREADS 4

struct blk_header {
	uint32_t type, reserved;
	uint64_t sector;
};

struct range_seg {
	uint64_t sector;
	uint32_t num_sectors, flags;
};

struct request {
	struct virtio_blk *b;
	unsigned queue;
	struct blk_header hdr;
	struct vq_chain chain;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* The chain's data part: out buffers after the header, or in buffers
 * before the status byte. */
static int data_iov(const struct request *r, bool out, struct iovec *iov)
{
	const struct vq_chain *c = &r->chain;
	if (out)
		return iov_slice(c->iov, (int)c->nr_out, sizeof(struct blk_header),
				 c->out_len - sizeof(struct blk_header), iov);
	return iov_slice(c->iov + c->nr_out, (int)c->nr_in, 0, c->in_len - 1, iov);
}

static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t sectors = bytes / SECTOR;
	return sector <= b->sectors && sectors <= b->sectors - sector;
}

static int do_rw(struct request *r, bool write, uint32_t *written)
{
	struct virtio_blk *b = r->b;
	struct iovec iov[VQ_MAX_SEGS];
	int n = data_iov(r, write, iov);
	uint64_t bytes = write ? r->chain.out_len - sizeof(struct blk_header) : r->chain.in_len - 1;
	if (bytes % SECTOR || !in_range(b, r->hdr.sector, bytes))
		return S_IOERR;
	if (write && b->read_only)
		return S_IOERR;
	uint64_t t0 = now_ns();
	int ret = write ? blk_pwritev(b->blk, iov, n, r->hdr.sector * SECTOR)
			: blk_preadv(b->blk, iov, n, r->hdr.sector * SECTOR);
	uint64_t dt = now_ns() - t0;
	if (write) {
		count(&b->stats.wr_ops, 1);
		count(&b->stats.wr_bytes, bytes);
		count(&b->stats.wr_ns, dt);
	} else {
		count(&b->stats.rd_ops, 1);
		count(&b->stats.rd_bytes, bytes);
		count(&b->stats.rd_ns, dt);
		*written = (uint32_t)bytes;
	}
	return ret == 0 ? S_OK : S_IOERR;
}

static int do_ranges(struct request *r, bool zeroes)
{
	struct virtio_blk *b = r->b;
	size_t len = r->chain.out_len - sizeof(struct blk_header);
	if (len == 0 || len % sizeof(struct range_seg) || len / sizeof(struct range_seg) > MAX_DISCARD_SEGS)
		return S_IOERR;
	if (b->read_only)
		return S_IOERR;
	for (size_t off = 0; off < len; off += sizeof(struct range_seg)) {
		struct range_seg s;
		iov_to_buf(r->chain.iov, (int)r->chain.nr_out, sizeof(struct blk_header) + off, &s, sizeof(s));
		if (s.num_sectors > MAX_DISCARD_SECTORS || !in_range(b, s.sector, (uint64_t)s.num_sectors * SECTOR))
			return S_IOERR;
		if (!zeroes && (s.flags & 1))
			return S_UNSUPP;                 /* unmap is not a discard flag */
		int ret = zeroes ? blk_write_zeroes(b->blk, s.sector * SECTOR, (uint64_t)s.num_sectors * SECTOR, s.flags & 1)
				 : blk_discard(b->blk, s.sector * SECTOR, (uint64_t)s.num_sectors * SECTOR);
		if (ret < 0)
			return S_IOERR;
	}
	count(zeroes ? &b->stats.write_zeroes : &b->stats.discards, 1);
	return S_OK;
}

static int execute(struct request *r, uint32_t *written)
{
	struct virtio_blk *b = r->b;
	switch (r->hdr.type) {
	case T_IN:
		return do_rw(r, false, written);
	case T_OUT:
		return do_rw(r, true, written);
	case T_FLUSH: {
		uint64_t t0 = now_ns();
		int ret = blk_flush(b->blk);
		count(&b->stats.flushes, 1);
		count(&b->stats.flush_ns, now_ns() - t0);
		return ret == 0 ? S_OK : S_IOERR;
	}
	case T_GET_ID: {
		struct iovec iov[VQ_MAX_SEGS];
		int n = data_iov(r, false, iov);
		*written = (uint32_t)iov_from_buf(iov, n, 0, b->serial, VBLK_SERIAL_LEN);
		return S_OK;
	}
	case T_DISCARD:
		return do_ranges(r, false);
	case T_WRITE_ZEROES:
		return do_ranges(r, true);
	default:
		count(&b->stats.unsupported, 1);
		return S_UNSUPP;
	}
}

static void complete(struct request *r, uint8_t status, uint32_t written)
{
	struct virtio_blk *b = r->b;
	if (status != S_OK)
		count(&b->stats.errors, 1);
	const struct vq_chain *c = &r->chain;
	iov_from_buf(c->iov + c->nr_out, (int)c->nr_in, c->in_len - 1, &status, 1);
	struct virtqueue *vq = virtio_pci_queue(&b->vp, r->queue);
	vq_push(vq, c->head, written + 1);
	virtio_pci_notify(&b->vp, r->queue);
	pthread_mutex_lock(&b->lock);
	b->in_flight--;
	__atomic_store_n(&b->stats.in_flight, b->in_flight, __ATOMIC_RELAXED);
	if (b->in_flight == 0)
		pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->lock);
	free(r);
}

static void worker(gpointer data, gpointer user)
{
	struct request *r = data;
	uint32_t written = 0;
	int status = execute(r, &written);
	complete(r, (uint8_t)status, written);
}

/* A request without room for its header or status is a broken driver, not
 * an I/O error: there is nowhere to report it. */
static bool well_formed(const struct vq_chain *c)
{
	return c->out_len >= sizeof(struct blk_header) && c->in_len >= 1;
}

static void kick(struct virtio_pci *vp, unsigned q)
{
	struct virtio_blk *b = vp->dev;
	struct virtqueue *vq = virtio_pci_queue(vp, q);
	for (;;) {
		struct request *r = malloc(sizeof(*r));
		if (!r)
			return;                          /* the next kick retries */
		int got = vq_pop(vq, &r->chain);
		if (got > 0 && !well_formed(&r->chain)) {
			vq->broken = true;
			vq->last_error = VQ_ORDER;
			got = -1;
		}
		if (got <= 0) {
			free(r);
			if (got < 0)
				virtio_pci_queue_error(vp, q);
			return;
		}
		r->b = b;
		r->queue = q;
		iov_to_buf(r->chain.iov, (int)r->chain.nr_out, 0, &r->hdr, sizeof(r->hdr));
		pthread_mutex_lock(&b->lock);
		b->in_flight++;
		__atomic_store_n(&b->stats.in_flight, b->in_flight, __ATOMIC_RELAXED);
		if (b->in_flight > b->stats.max_in_flight)
			b->stats.max_in_flight = b->in_flight;
		pthread_mutex_unlock(&b->lock);
		g_thread_pool_push(b->pool, r, NULL);
	}
}

/* The driver reset the device: requests in flight finish first. */
static void reset(struct virtio_pci *vp)
{
	struct virtio_blk *b = vp->dev;
	pthread_mutex_lock(&b->lock);
	while (b->in_flight)
		pthread_cond_wait(&b->idle, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

struct blk_config {
	uint64_t capacity;
	uint32_t size_max, seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

static void config_read(struct virtio_pci *vp, unsigned offset, void *data, unsigned len)
{
	struct virtio_blk *b = vp->dev;
	struct blk_config c = {
		.capacity = b->sectors, .seg_max = SEG_MAX, .blk_size = SECTOR,
		.min_io_size = 1, .num_queues = 1,
		.max_discard_sectors = MAX_DISCARD_SECTORS, .max_discard_seg = MAX_DISCARD_SEGS,
		.discard_sector_alignment = b->discard_align,
		.max_write_zeroes_sectors = MAX_DISCARD_SECTORS, .max_write_zeroes_seg = MAX_DISCARD_SEGS,
		.write_zeroes_may_unmap = 1,
	};
	memset(data, 0, len);
	if (offset + len <= sizeof(c))
		memcpy(data, (uint8_t *)&c + offset, len);
}

static const struct virtio_ops blk_ops_template = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.class_code = 0x018000,          /* mass storage, other */
	.num_queues = 1,
	.queue_max = QUEUE_SIZE,
	.config_size = sizeof(struct blk_config),
	.features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_TOPOLOGY |
		    1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES,
	.config_read = config_read,
	.reset = reset,
	.kick = kick,
};

struct virtio_blk *vblk_create(const char *spec, unsigned index, const struct guest_mem *mem,
			       struct irq_router *router, struct error *err)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct blk_options bo = { .format = BLK_FORMAT_AUTO, .cache = BLK_CACHE_WRITEBACK };
	if (!b) {
		error_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->idle, NULL);
	if (blk_spec_parse(spec, &b->path, &bo, err) < 0 || !(b->blk = blk_open(b->path, &bo, err))) {
		vblk_destroy(b);
		return NULL;
	}
	b->read_only = bo.read_only;
	b->sectors = blk_size(b->blk) / SECTOR;
	uint32_t cluster = blk_cluster_size(b->blk);
	b->discard_align = cluster > SECTOR ? cluster / SECTOR : 1;
	snprintf(b->serial, sizeof(b->serial), "vmdeck-disk%u", index);
	/* Each device has its own ops: the read-only bit is per disk. */
	struct virtio_ops *ops = malloc(sizeof(*ops));
	if (!ops) {
		vblk_destroy(b);
		error_set(err, "out of memory");
		return NULL;
	}
	*ops = blk_ops_template;
	if (b->read_only)
		ops->features |= 1ull << VIRTIO_BLK_F_RO;
	b->pool = g_thread_pool_new(worker, b, POOL_THREADS, FALSE, NULL);
	if (virtio_pci_init(&b->vp, ops, b, mem, router, err) < 0) {
		b->vp.ops = ops;   /* so that destroy frees it */
		vblk_destroy(b);
		return NULL;
	}
	return b;
}

void vblk_destroy(void *opaque)
{
	struct virtio_blk *b = opaque;
	if (!b)
		return;
	if (b->pool)
		g_thread_pool_free(b->pool, FALSE, TRUE);   /* finishes queued requests */
	if (b->vp.ops) {
		const struct virtio_ops *ops = b->vp.ops;
		virtio_pci_destroy(&b->vp);
		free((void *)ops);
	}
	if (b->blk)
		blk_close(b->blk);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->idle);
	free(b->path);
	free(b);
}
