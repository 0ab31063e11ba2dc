/* libFuzzer target: split-virtqueue chain parsing (vmm/virtio_queue.c).
 *
 * The input is a guest: a small header choosing the queue, then the bytes
 * of guest RAM holding the descriptor table, the avail ring (flags, idx,
 * heads, used_event) and anything descriptors point at, indirect tables
 * included.  The target enables the queue, pops chains until the queue is
 * empty or broken and pushes each one back, checking that every buffer it
 * is handed lies inside guest RAM (and touching both ends of it, for ASan).
 *
 * Input layout:
 *   byte 0     queue size: low 4 bits n <= 10 -> 1 << n; 11..15 -> 0, 3,
 *              2048, 1000, 0x8000 (vq_enable must refuse those)
 *   byte 1     bit 0: VIRTIO_F_EVENT_IDX
 *              bit 1: rings at the offsets in bytes 2-7 (else packed from 0)
 *              bit 2: afterwards enable the queue again and pop again
 *   bytes 2-7  desc, avail, used offsets (le16) in region 0, with bit 1
 *   bytes 8-   guest RAM: region 0, then region 1, then region 2 (rest 0)
 *
 * Guest RAM: region 0 at GPA 0 (64 KiB), region 1 right after it (4 KiB,
 * a separate host allocation, so nothing may straddle the two) and region 2
 * at 1 MiB (4 KiB) after a hole.  Each region is malloc'ed at its exact
 * size so that ASan sees any access past it.
 *
 * Build: `make fuzz`; run: build/fuzz/fuzz_virtqueue NEW_DIR tests/fuzz/corpus/virtqueue
 * tests/unit/test_fuzz_virtqueue.c #includes this file and replays the
 * corpus under `make check`, with FUZZ_CHECK mapped to a cmocka assert. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtio_queue.h"

#ifndef FUZZ_CHECK
#define FUZZ_CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)
#endif

#define VQF_HEADER   8
#define VQF_REGIONS  3

static const struct { uint64_t gpa, size; } vqf_layout[VQF_REGIONS] = {
	{ 0x0, 0x10000 }, { 0x10000, 0x1000 }, { 0x100000, 0x1000 },
};

/* What one run did, for the replay test's expectations. */
struct vqf_result {
	bool enabled, broken;
	unsigned popped;
	enum vq_error last_error;
};

static uint16_t vqf_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint16_t vqf_size(uint8_t code)
{
	static const uint16_t odd[] = { 0, 3, 2048, 1000, 0x8000 };
	code &= 15;
	return code <= 10 ? (uint16_t)(1u << code) : odd[code - 11];
}

static bool vqf_valid_size(uint16_t size)
{
	return size && size <= VQ_MAX_SIZE && !(size & (size - 1));
}

/* True if [BASE, BASE+LEN) lies inside one of the host regions. */
static bool vqf_inside(uint8_t *const ram[VQF_REGIONS], const void *base, size_t len)
{
	uintptr_t b = (uintptr_t)base;
	for (unsigned r = 0; r < VQF_REGIONS; r++) {
		uintptr_t start = (uintptr_t)ram[r];
		if (b >= start && len <= vqf_layout[r].size && b - start <= vqf_layout[r].size - len)
			return true;
	}
	return false;
}

static void vqf_check_chain(uint8_t *const ram[VQF_REGIONS], const struct virtqueue *vq,
			    const struct vq_chain *c)
{
	FUZZ_CHECK(c->head < vq->size);
	FUZZ_CHECK(c->nr_out + c->nr_in >= 1);
	FUZZ_CHECK(c->nr_out + c->nr_in <= VQ_MAX_SEGS);
	size_t out = 0, in = 0;
	for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
		const struct iovec *v = &c->iov[i];
		if (i < c->nr_out)
			out += v->iov_len;
		else
			in += v->iov_len;
		if (v->iov_len == 0)
			continue;
		FUZZ_CHECK(v->iov_base != NULL);
		FUZZ_CHECK(vqf_inside(ram, v->iov_base, v->iov_len));
		/* Both ends, so that ASan checks the pointer itself. */
		volatile uint8_t *p = v->iov_base;
		if (i < c->nr_out) {
			(void)p[0];
			(void)p[v->iov_len - 1];
		} else {
			p[0] = 0x5a;
			p[v->iov_len - 1] = 0xa5;
		}
	}
	FUZZ_CHECK(out == c->out_len);
	FUZZ_CHECK(in == c->in_len);
}

/* Pops until empty or broken, pushing every chain back. */
static void vqf_drain(uint8_t *const ram[VQF_REGIONS], struct virtqueue *vq, struct vq_chain *chain,
		      struct vqf_result *res)
{
	/* Each pop consumes an avail entry and at most SIZE are pending per
	 * look at avail->idx, but buffers may overlap the avail ring and move
	 * its idx; the bound keeps a run short without hiding anything. */
	for (unsigned n = 0; n < 4u * vq->size + 16; n++) {
		uint16_t before = vq->last_avail;
		int r = vq_pop(vq, chain);
		if (r == 0) {
			FUZZ_CHECK(!vq->broken);
			break;
		}
		if (r < 0) {
			FUZZ_CHECK(vq->broken);
			FUZZ_CHECK(vq->errors >= 1);
			FUZZ_CHECK(vq->last_error != VQ_OK);
			FUZZ_CHECK(vq->last_avail == before);            /* the bad entry is not consumed */
			FUZZ_CHECK(strcmp(vq_error_text(vq->last_error), "an unknown error") != 0);
			uint64_t errors = vq->errors;
			FUZZ_CHECK(vq_pop(vq, chain) == -1);             /* stays broken */
			FUZZ_CHECK(vq->errors == errors);
			break;
		}
		FUZZ_CHECK(r == 1);
		FUZZ_CHECK(vq->last_avail == (uint16_t)(before + 1));
		res->popped++;
		vqf_check_chain(ram, vq, chain);
		vq_push(vq, chain->head, (uint32_t)chain->in_len);
		(void)vq_should_notify(vq);
		if (n & 1)
			(void)vq_enable_kicks(vq, n & 2);
	}
	res->broken = vq->broken;
	res->last_error = vq->last_error;
}

static int vqf_run(const uint8_t *data, size_t size, struct vqf_result *res)
{
	static struct vq_chain chain;
	memset(res, 0, sizeof(*res));
	if (size < VQF_HEADER)
		return 0;
	uint16_t qsize = vqf_size(data[0]);
	uint8_t flags = data[1];
	bool event_idx = flags & 1;

	struct guest_mem gm = { .nr = 0 };
	uint8_t *ram[VQF_REGIONS];
	const uint8_t *in = data + VQF_HEADER;
	size_t left = size - VQF_HEADER;
	for (unsigned r = 0; r < VQF_REGIONS; r++) {
		ram[r] = calloc(1, vqf_layout[r].size);
		if (!ram[r])
			abort();
		size_t n = left < vqf_layout[r].size ? left : vqf_layout[r].size;
		memcpy(ram[r], in, n);
		in += n;
		left -= n;
		FUZZ_CHECK(gm_add(&gm, vqf_layout[r].gpa, vqf_layout[r].size, ram[r]) == 0);
	}

	uint64_t desc, avail, used;
	if (flags & 2) {
		desc = vqf_le16(data + 2);
		avail = vqf_le16(data + 4);
		used = vqf_le16(data + 6);
	} else {
		desc = 0;
		avail = 16ull * qsize;
		used = (avail + 6 + 2ull * qsize + 3) & ~3ull;
	}

	struct virtqueue vq;
	vq_init(&vq);
	int r = vq_enable(&vq, &gm, qsize, desc, avail, used, event_idx);
	if (!vqf_valid_size(qsize))
		FUZZ_CHECK(r == -1);
	else if (!(flags & 2))
		FUZZ_CHECK(r == 0);                  /* the packed layout always fits */
	if (r == 0) {
		res->enabled = true;
		FUZZ_CHECK(vq.ready && vq.size == qsize);
		vqf_drain(ram, &vq, &chain, res);
		if (flags & 4) {
			/* The driver resets and enables the queue again. */
			FUZZ_CHECK(vq_enable(&vq, &gm, qsize, desc, avail, used, event_idx) == 0);
			FUZZ_CHECK(!vq.broken && vq.last_avail == 0);
			vqf_drain(ram, &vq, &chain, res);
		}
	} else {
		FUZZ_CHECK(!vq.ready);
		FUZZ_CHECK(vq_pop(&vq, &chain) == 0);
	}
	vq_destroy(&vq);
	for (unsigned i = 0; i < VQF_REGIONS; i++)
		free(ram[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vqf_result res;
	return vqf_run(data, size, &res);
}
