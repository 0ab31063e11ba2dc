/* Split virtqueues (vmm/virtio_queue.c) over a fake guest memory: rings are
 * laid out by hand as a driver would, then popped and pushed; hostile
 * chains must break the queue with the right error and never be used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/virtio_queue.h"

/* Guest RAM: two adjacent regions (a buffer may not straddle them, as they
 * are separate host allocations) and nothing at HOLE_GPA. */
#define RAM0_GPA   0x100000ull
#define RAM0_SIZE  0x40000ull
#define RAM1_GPA   (RAM0_GPA + RAM0_SIZE)
#define RAM1_SIZE  0x10000ull
#define RAM_END    (RAM1_GPA + RAM1_SIZE)
#define HOLE_GPA   0x200000ull

#define QSIZE      16
#define DESC_GPA   RAM0_GPA
#define AVAIL_GPA  (RAM0_GPA + 0x1000)
#define USED_GPA   (RAM0_GPA + 0x2000)
#define DATA_GPA   (RAM0_GPA + 0x4000)
#define IND_GPA    (RAM0_GPA + 0x10000)   /* indirect tables, up to 64 KiB */

struct fix {
	struct guest_mem gm;
	uint8_t *ram0, *ram1;
	struct virtqueue vq;
	uint16_t size;
	uint16_t avail_idx;                    /* the driver's next avail idx */
	struct vq_chain chain;
};

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->ram0 = calloc(1, RAM0_SIZE);
	f->ram1 = calloc(1, RAM1_SIZE);
	assert_non_null(f->ram0);
	assert_non_null(f->ram1);
	assert_int_equal(gm_add(&f->gm, RAM0_GPA, RAM0_SIZE, f->ram0), 0);
	assert_int_equal(gm_add(&f->gm, RAM1_GPA, RAM1_SIZE, f->ram1), 0);
	vq_init(&f->vq);
	return f;
}

static void fix_free(struct fix *f)
{
	vq_destroy(&f->vq);
	free(f->ram0);
	free(f->ram1);
	free(f);
}

static int setup(void **state)
{
	*state = fix_new();
	return 0;
}

static int teardown(void **state)
{
	fix_free(*state);
	return 0;
}

/* Host address of GPA computed independently of gm_ptr. */
static uint8_t *host(struct fix *f, uint64_t gpa)
{
	if (gpa >= RAM0_GPA && gpa < RAM0_GPA + RAM0_SIZE)
		return f->ram0 + (gpa - RAM0_GPA);
	assert_true(gpa >= RAM1_GPA && gpa < RAM_END);
	return f->ram1 + (gpa - RAM1_GPA);
}

static void put16(struct fix *f, uint64_t gpa, uint16_t v) { memcpy(host(f, gpa), &v, 2); }
static uint16_t get16(struct fix *f, uint64_t gpa) { uint16_t v; memcpy(&v, host(f, gpa), 2); return v; }
static uint32_t get32(struct fix *f, uint64_t gpa) { uint32_t v; memcpy(&v, host(f, gpa), 4); return v; }

static void desc_at(struct fix *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	memcpy(host(f, table + 16ull * i), &d, sizeof(d));
}

static void desc(struct fix *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(f, DESC_GPA, i, addr, len, flags, next);
}

static void set_avail_idx(struct fix *f, uint16_t idx) { put16(f, AVAIL_GPA + 2, idx); }

/* Puts HEAD in the avail ring and moves avail->idx on, as a driver does. */
static void publish(struct fix *f, uint16_t head)
{
	put16(f, AVAIL_GPA + 4 + 2ull * (f->avail_idx % f->size), head);
	f->avail_idx++;
	set_avail_idx(f, f->avail_idx);
}

static void set_used_event(struct fix *f, uint16_t v) { put16(f, AVAIL_GPA + 4 + 2ull * f->size, v); }
static uint16_t avail_event(struct fix *f) { return get16(f, USED_GPA + 4 + 8ull * f->size); }
static uint16_t used_idx(struct fix *f) { return get16(f, USED_GPA + 2); }
static uint16_t used_flags(struct fix *f) { return get16(f, USED_GPA); }

static void enable(struct fix *f, uint16_t size, bool event_idx)
{
	f->size = size;
	assert_int_equal(vq_enable(&f->vq, &f->gm, size, DESC_GPA, AVAIL_GPA, USED_GPA, event_idx), 0);
	assert_true(f->vq.ready);
}

static void expect_iov(const struct vq_chain *c, unsigned i, const void *base, size_t len)
{
	assert_ptr_equal(c->iov[i].iov_base, base);
	assert_int_equal(c->iov[i].iov_len, len);
}

/* ---- good chains ----------------------------------------------------------- */

static void test_empty_queue(void **state)
{
	struct fix *f = *state;
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);          /* not enabled yet */
	enable(f, QSIZE, false);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_false(f->vq.broken);
	assert_int_equal(f->vq.errors, 0);
}

static void test_direct_chain(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc(f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 5);
	desc(f, 5, DATA_GPA + 0x100, 100, VRING_DESC_F_NEXT, 2);
	desc(f, 2, DATA_GPA + 0x200, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 7);
	desc(f, 7, RAM1_GPA + 0x10, 1, VRING_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 0);
	assert_int_equal(f->chain.nr_out, 2);
	assert_int_equal(f->chain.nr_in, 2);
	assert_int_equal(f->chain.out_len, 116);
	assert_int_equal(f->chain.in_len, 513);
	expect_iov(&f->chain, 0, f->ram0 + 0x4000, 16);
	expect_iov(&f->chain, 1, f->ram0 + 0x4100, 100);
	expect_iov(&f->chain, 2, f->ram0 + 0x4200, 512);
	expect_iov(&f->chain, 3, f->ram1 + 0x10, 1);
	assert_int_equal(f->vq.last_avail, 1);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_false(f->vq.broken);
}

static void test_indirect_chain(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc_at(f, IND_GPA, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 2);
	desc_at(f, IND_GPA, 2, DATA_GPA + 0x100, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA + 0x200, 4, VRING_DESC_F_WRITE, 0);
	desc(f, 3, IND_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(f, 3);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 3);
	assert_int_equal(f->chain.nr_out, 1);
	assert_int_equal(f->chain.nr_in, 2);
	assert_int_equal(f->chain.out_len, 8);
	assert_int_equal(f->chain.in_len, 68);
	expect_iov(&f->chain, 0, f->ram0 + 0x4000, 8);
	expect_iov(&f->chain, 1, f->ram0 + 0x4100, 64);
	expect_iov(&f->chain, 2, f->ram0 + 0x4200, 4);
}

/* virtio 1.2, 2.7.5.3.2: the device MUST ignore WRITE on the descriptor that
 * refers to an indirect table. */
static void test_indirect_ignores_write_flag(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc_at(f, IND_GPA, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA + 0x100, 4, VRING_DESC_F_WRITE, 0);
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, 1);
	assert_int_equal(f->chain.nr_in, 1);
}

/* The spec puts no alignment requirement on indirect tables (only on the
 * three rings), and a guest's allocator may give 8-byte-aligned ones. */
static void test_indirect_table_8_byte_aligned(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	uint64_t table = IND_GPA + 8;
	desc_at(f, table, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	desc_at(f, table, 1, DATA_GPA + 0x100, 4, VRING_DESC_F_WRITE, 0);
	desc(f, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->vq.last_error, VQ_OK);
	assert_int_equal(f->chain.nr_out, 1);
	assert_int_equal(f->chain.nr_in, 1);
	expect_iov(&f->chain, 1, f->ram0 + 0x4100, 4);
}

/* Zero or more direct descriptors followed by one indirect descriptor is a
 * valid chain (virtio 1.2, 2.7.5.3.2). */
static void test_direct_then_indirect(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc(f, 1, DATA_GPA, 10, VRING_DESC_F_NEXT, 4);
	desc(f, 4, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	desc_at(f, IND_GPA, 0, DATA_GPA + 0x40, 6, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA + 0x80, 20, VRING_DESC_F_WRITE, 0);
	publish(f, 1);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 1);
	assert_int_equal(f->chain.nr_out, 2);
	assert_int_equal(f->chain.nr_in, 1);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 20);
	expect_iov(&f->chain, 0, f->ram0 + 0x4000, 10);
	expect_iov(&f->chain, 1, f->ram0 + 0x4040, 6);
	expect_iov(&f->chain, 2, f->ram0 + 0x4080, 20);
}

/* Direct, indirect and direct chains come out in avail-ring order. */
static void test_mixed_chains_in_order(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc(f, 0, DATA_GPA, 1, 0, 0);
	desc(f, 3, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	desc_at(f, IND_GPA, 0, DATA_GPA + 0x10, 2, VRING_DESC_F_WRITE, 0);
	desc(f, 8, DATA_GPA + 0x20, 3, VRING_DESC_F_NEXT, 9);
	desc(f, 9, DATA_GPA + 0x30, 4, VRING_DESC_F_WRITE, 0);
	publish(f, 8);
	publish(f, 3);
	publish(f, 0);
	static const struct { uint16_t head; unsigned out, in; size_t out_len, in_len; } want[] = {
		{ 8, 1, 1, 3, 4 }, { 3, 0, 1, 0, 2 }, { 0, 1, 0, 1, 0 },
	};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
		assert_int_equal(f->chain.head, want[i].head);
		assert_int_equal(f->chain.nr_out, want[i].out);
		assert_int_equal(f->chain.nr_in, want[i].in);
		assert_int_equal(f->chain.out_len, want[i].out_len);
		assert_int_equal(f->chain.in_len, want[i].in_len);
	}
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
}

/* A zero-length buffer is accepted wherever it points: nothing is mapped,
 * the segment has no host pointer and no length. */
static void test_zero_length_buffer_anywhere(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc(f, 0, HOLE_GPA, 0, VRING_DESC_F_NEXT, 1);
	desc(f, 1, ~0ull, 0, VRING_DESC_F_NEXT, 2);
	desc(f, 2, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, 2);
	assert_int_equal(f->chain.nr_in, 1);
	assert_int_equal(f->chain.out_len, 0);
	expect_iov(&f->chain, 0, NULL, 0);
	expect_iov(&f->chain, 1, NULL, 0);
	expect_iov(&f->chain, 2, f->ram0 + 0x4000, 4);
}

/* The limits themselves are fine: a direct chain using every descriptor of
 * the table, and an indirect table of VQ_MAX_SEGS entries. */
static void test_longest_chains(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	for (unsigned i = 0; i < QSIZE; i++)
		desc(f, i, DATA_GPA + i, 1, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, QSIZE);
	assert_int_equal(f->chain.out_len, QSIZE);

	for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
		desc_at(f, IND_GPA, i, DATA_GPA + i, 1, i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(f, 0, IND_GPA, 16 * VQ_MAX_SEGS, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.nr_out, VQ_MAX_SEGS);
	assert_int_equal(f->chain.out_len, VQ_MAX_SEGS);
	expect_iov(&f->chain, VQ_MAX_SEGS - 1, f->ram0 + 0x4000 + VQ_MAX_SEGS - 1, 1);
	assert_false(f->vq.broken);
}

/* A full ring (avail idx exactly SIZE ahead) is legal. */
static void test_full_ring(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	for (unsigned i = 0; i < QSIZE; i++) {
		desc(f, i, DATA_GPA + 16 * i, 16, 0, 0);
		publish(f, (uint16_t)(QSIZE - 1 - i));
	}
	for (unsigned i = 0; i < QSIZE; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
		assert_int_equal(f->chain.head, QSIZE - 1 - i);
		expect_iov(&f->chain, 0, f->ram0 + 0x4000 + 16 * (QSIZE - 1 - i), 16);
	}
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
}

/* The avail index is free-running: popping carries on across 65535 -> 0. */
static void test_avail_idx_wraps(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	desc(f, 2, DATA_GPA, 1, 0, 0);
	for (unsigned n = 0; n < 70000; n++) {
		publish(f, 2);
		assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
		vq_push(&f->vq, 2, 0);
	}
	assert_int_equal(f->vq.last_avail, (uint16_t)70000);
	assert_int_equal(used_idx(f), (uint16_t)70000);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
	assert_false(f->vq.broken);
}

/* ---- used ring and notifications ----------------------------------------- */

static void test_push(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	vq_push(&f->vq, 5, 123);
	assert_int_equal(used_idx(f), 1);
	assert_int_equal(get32(f, USED_GPA + 4), 5);
	assert_int_equal(get32(f, USED_GPA + 8), 123);
	vq_push(&f->vq, 9, 0xdeadbeef);
	assert_int_equal(used_idx(f), 2);
	assert_int_equal(get32(f, USED_GPA + 12), 9);
	assert_int_equal(get32(f, USED_GPA + 16), 0xdeadbeef);
	/* Wrap: entry SIZE lands in slot 0 again. */
	for (unsigned i = 2; i < QSIZE; i++)
		vq_push(&f->vq, 0, 0);
	vq_push(&f->vq, 14, 77);
	assert_int_equal(used_idx(f), QSIZE + 1);
	assert_int_equal(get32(f, USED_GPA + 4), 14);
	assert_int_equal(get32(f, USED_GPA + 8), 77);
	assert_int_equal(get32(f, USED_GPA + 12), 9);          /* slot 1 untouched */
	/* Nothing lands when the queue is disabled. */
	vq_disable(&f->vq);
	vq_push(&f->vq, 3, 3);
	assert_int_equal(used_idx(f), QSIZE + 1);
}

static void test_avail_event_and_kicks(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, true);
	desc(f, 0, DATA_GPA, 4, 0, 0);
	publish(f, 0);
	publish(f, 0);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(avail_event(f), 1);                   /* kick me when idx passes 1 */
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(avail_event(f), 2);
	put16(f, USED_GPA + 4 + 8ull * QSIZE, 0);
	assert_false(vq_enable_kicks(&f->vq, true));           /* nothing new */
	assert_int_equal(avail_event(f), 2);
	publish(f, 0);
	assert_true(vq_enable_kicks(&f->vq, true));            /* arrived meanwhile */
	assert_false(vq_enable_kicks(&f->vq, false));
	assert_int_equal(used_flags(f), 0);                    /* event idx: flags unused */
}

static void test_kicks_without_event_idx(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	assert_false(vq_enable_kicks(&f->vq, false));
	assert_int_equal(used_flags(f), VRING_USED_F_NO_NOTIFY);
	assert_false(vq_enable_kicks(&f->vq, true));
	assert_int_equal(used_flags(f), 0);
	desc(f, 0, DATA_GPA, 4, 0, 0);
	publish(f, 0);
	assert_true(vq_enable_kicks(&f->vq, true));
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	assert_int_equal(avail_event(f), 0);                   /* not written without event idx */
	assert_false(vq_enable_kicks(&f->vq, true));
}

/* used_event E asks for an interrupt when the used index goes past E:
 * notify iff old <= E < new (mod 2^16). */
static void test_notify_event_idx(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, true);
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));                 /* first time: always */
	set_used_event(f, 1);
	vq_push(&f->vq, 0, 0);                                 /* 1 -> 2 passes 1 */
	assert_true(vq_should_notify(&f->vq));
	set_used_event(f, 5);
	vq_push(&f->vq, 0, 0);                                 /* 2 -> 3: not yet */
	assert_false(vq_should_notify(&f->vq));
	vq_push(&f->vq, 0, 0);
	vq_push(&f->vq, 0, 0);                                 /* 3 -> 5: entry 5 not written yet */
	assert_false(vq_should_notify(&f->vq));
	vq_push(&f->vq, 0, 0);                                 /* 5 -> 6: entry 5 written */
	assert_true(vq_should_notify(&f->vq));
	assert_false(vq_should_notify(&f->vq));                /* nothing new */
	set_used_event(f, 2);                                  /* stale: already past */
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_notify(&f->vq));
	set_used_event(f, 7);                                  /* exactly the entry just written */
	vq_push(&f->vq, 0, 0);                                 /* 7 -> 8 */
	assert_true(vq_should_notify(&f->vq));
	/* With event idx the NO_INTERRUPT flag is ignored (virtio 1.2, 2.7.7.2). */
	put16(f, AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	set_used_event(f, 8);
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));
}

static void test_notify_event_idx_wraps(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, true);
	for (unsigned i = 0; i < 65530; i++)
		vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));                 /* old = 65530 */
	set_used_event(f, 65535);
	for (unsigned i = 0; i < 3; i++)
		vq_push(&f->vq, 0, 0);                         /* 65533 */
	assert_false(vq_should_notify(&f->vq));
	for (unsigned i = 0; i < 4; i++)
		vq_push(&f->vq, 0, 0);                         /* 65533 -> 1, passing 65535 */
	assert_int_equal(used_idx(f), 1);
	assert_true(vq_should_notify(&f->vq));
	set_used_event(f, 0);
	vq_push(&f->vq, 0, 0);                                 /* 1 -> 2: 0 is behind */
	assert_false(vq_should_notify(&f->vq));
	/* An event just before the wrap, crossed exactly onto 0. */
	while (used_idx(f) != 65534)
		vq_push(&f->vq, 0, 0);
	set_used_event(f, 0xffff);
	assert_false(vq_should_notify(&f->vq));                /* 2 -> 65534: 65535 not reached */
	vq_push(&f->vq, 0, 0);
	vq_push(&f->vq, 0, 0);                                 /* 65534 -> 0 */
	assert_int_equal(used_idx(f), 0);
	assert_true(vq_should_notify(&f->vq));
}

static void test_notify_no_interrupt_flag(void **state)
{
	struct fix *f = *state;
	enable(f, QSIZE, false);
	assert_false(vq_should_notify(&f->vq));                /* nothing pushed */
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));
	assert_false(vq_should_notify(&f->vq));                /* nothing new */
	put16(f, AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	set_used_event(f, 1);                                  /* ignored without event idx */
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_notify(&f->vq));
	put16(f, AVAIL_GPA, 0);
	vq_push(&f->vq, 0, 0);
	assert_true(vq_should_notify(&f->vq));
	vq_disable(&f->vq);
	assert_false(vq_should_notify(&f->vq));
}

/* ---- vq_enable ------------------------------------------------------------- */

static void expect_enable_refused(struct fix *f, uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	vq_disable(&f->vq);
	if (vq_enable(&f->vq, &f->gm, size, d, a, u, true) != -1)
		printf("vq_enable(size %u, desc %#llx, avail %#llx, used %#llx) was accepted\n", size,
		       (unsigned long long)d, (unsigned long long)a, (unsigned long long)u);
	assert_int_equal(vq_enable(&f->vq, &f->gm, size, d, a, u, true), -1);
	assert_false(f->vq.ready);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 0);
}

static void test_enable_refusals(void **state)
{
	struct fix *f = *state;
	/* sizes */
	expect_enable_refused(f, 0, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, 3, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, 12, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, 1000, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, VQ_MAX_SIZE * 2, DESC_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, 0x8000, DESC_GPA, AVAIL_GPA, USED_GPA);
	/* alignment: 16, 2 and 4 bytes */
	expect_enable_refused(f, QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA + 1, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2);
	/* outside RAM, or running off its end */
	expect_enable_refused(f, QSIZE, HOLE_GPA, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, HOLE_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, AVAIL_GPA, HOLE_GPA);
	expect_enable_refused(f, QSIZE, RAM_END - 16 * QSIZE + 16, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, RAM_END - (6 + 2 * QSIZE) + 2, USED_GPA);
	expect_enable_refused(f, QSIZE, DESC_GPA, AVAIL_GPA, RAM_END - (6 + 8 * QSIZE) + 2);
	/* straddling the two regions */
	expect_enable_refused(f, QSIZE, RAM1_GPA - 16 * QSIZE / 2, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, QSIZE, ~0ull & ~15ull, AVAIL_GPA, USED_GPA);
	expect_enable_refused(f, VQ_MAX_SIZE, DESC_GPA, AVAIL_GPA, RAM_END - 4096);

	/* The edges are accepted: rings ending exactly at the end of RAM,
	 * sizes 1 and VQ_MAX_SIZE. */
	assert_int_equal(vq_enable(&f->vq, &f->gm, QSIZE, RAM_END - 16 * QSIZE, RAM_END - 16 * QSIZE - 40,
				   RAM_END - 16 * QSIZE - 200, true), 0);
	assert_int_equal(vq_enable(&f->vq, &f->gm, QSIZE, DESC_GPA, RAM_END - (6 + 2 * QSIZE),
				   RAM_END - (6 + 2 * QSIZE) - (6 + 8 * QSIZE), true), 0);
	assert_int_equal(vq_enable(&f->vq, &f->gm, 1, DESC_GPA, AVAIL_GPA, USED_GPA, false), 0);
	assert_int_equal(f->vq.size, 1);
	assert_int_equal(vq_enable(&f->vq, &f->gm, VQ_MAX_SIZE, DESC_GPA, DESC_GPA + 16 * VQ_MAX_SIZE,
				   DESC_GPA + 0x8000, false), 0);
	assert_int_equal(f->vq.size, VQ_MAX_SIZE);
	assert_true(f->vq.ready);
}

/* ---- hostile chains ---------------------------------------------------------- */

struct hostile {
	const char *name;
	void (*build)(struct fix *f);
	enum vq_error err;
};

static void h_head_too_big(struct fix *f) { desc(f, 0, DATA_GPA, 1, 0, 0); publish(f, QSIZE); }
static void h_head_ffff(struct fix *f) { publish(f, 0xffff); }
static void h_next_too_big(struct fix *f) { desc(f, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, QSIZE); publish(f, 0); }

static void h_loop(struct fix *f)
{
	desc(f, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 0);
	publish(f, 0);
}

static void h_self_loop(struct fix *f) { desc(f, 4, DATA_GPA, 1, VRING_DESC_F_NEXT, 4); publish(f, 4); }

static void h_loop_into_middle(struct fix *f)
{
	desc(f, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 2);
	desc(f, 2, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	publish(f, 0);
}

static void h_outside_ram(struct fix *f) { desc(f, 0, HOLE_GPA, 16, 0, 0); publish(f, 0); }

static void h_straddles_regions(struct fix *f)
{
	desc(f, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 1);
	desc(f, 1, RAM1_GPA - 8, 16, VRING_DESC_F_WRITE, 0);
	publish(f, 0);
}

static void h_straddles_ram_end(struct fix *f) { desc(f, 0, RAM_END - 8, 16, 0, 0); publish(f, 0); }
static void h_addr_wraps(struct fix *f) { desc(f, 0, ~0ull - 15, 0x20, 0, 0); publish(f, 0); }
static void h_huge_len(struct fix *f) { desc(f, 0, DATA_GPA, 0xffffffff, 0, 0); publish(f, 0); }

static void h_read_after_write(struct fix *f)
{
	desc(f, 0, DATA_GPA, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA + 16, 4, 0, 0);
	publish(f, 0);
}

static void h_read_after_write_indirect(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA, 4, 0, 0);
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

/* A direct writable buffer, then an indirect table starting with a readable one. */
static void h_read_after_write_across_indirect(struct fix *f)
{
	desc(f, 0, DATA_GPA, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(f, 1, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	desc_at(f, IND_GPA, 0, DATA_GPA, 4, 0, 0);
	publish(f, 0);
}

static void h_nested_indirect(struct fix *f)
{
	desc_at(f, IND_GPA, 0, IND_GPA + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	desc_at(f, IND_GPA + 0x100, 0, DATA_GPA, 4, 0, 0);
	desc(f, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_nested_indirect_later(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);   /* itself */
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

/* The indirect table is the descriptor table itself: its entry 0 is the
 * same indirect descriptor again.  Telling "inside an indirect table" by
 * comparing the table pointer with the ring's loops forever here. */
static void h_indirect_is_the_ring(struct fix *f)
{
	desc(f, 0, DESC_GPA, 16 * QSIZE, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

/* The same, reached through a buffer first. */
static void h_indirect_is_the_ring_later(struct fix *f)
{
	desc(f, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 3);
	desc(f, 3, DESC_GPA, 16 * QSIZE, VRING_DESC_F_INDIRECT, 0);
	publish(f, 3);
}

static void h_indirect_with_next(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 4, 0, 0);
	desc(f, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	desc(f, 1, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	publish(f, 0);
}

static void h_indirect_len_40(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 4, 0, 0);
	desc(f, 0, IND_GPA, 40, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_indirect_len_0(struct fix *f) { desc(f, 0, IND_GPA, 0, VRING_DESC_F_INDIRECT, 0); publish(f, 0); }
static void h_indirect_outside(struct fix *f) { desc(f, 0, HOLE_GPA, 32, VRING_DESC_F_INDIRECT, 0); publish(f, 0); }

static void h_indirect_straddles(struct fix *f)
{
	desc(f, 0, RAM_END - 32, 64, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_indirect_too_big(struct fix *f)
{
	for (unsigned i = 0; i <= VQ_MAX_SEGS; i++)
		desc_at(f, IND_GPA, i, DATA_GPA, 1, 0, 0);
	desc(f, 0, IND_GPA, 16 * (VQ_MAX_SEGS + 1), VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

/* One direct buffer plus a full indirect table: VQ_MAX_SEGS + 1 buffers. */
static void h_too_many_via_indirect(struct fix *f)
{
	for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
		desc_at(f, IND_GPA, i, DATA_GPA + i, 1, i + 1 < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(f, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc(f, 1, IND_GPA, 16 * VQ_MAX_SEGS, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_indirect_loop(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 0);
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

/* A loop through all VQ_MAX_SEGS entries of an indirect table: the walk
 * must see the loop (one step more than the table has) before it would
 * count too many buffers. */
static void h_indirect_full_loop(struct fix *f)
{
	for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
		desc_at(f, IND_GPA, i, DATA_GPA + i, 1, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % VQ_MAX_SEGS));
	desc(f, 0, IND_GPA, 16 * VQ_MAX_SEGS, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_indirect_next_too_big(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, DATA_GPA, 1, VRING_DESC_F_NEXT, 2);
	desc_at(f, IND_GPA, 2, DATA_GPA, 1, 0, 0);             /* present, but past len */
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_indirect_buffer_outside(struct fix *f)
{
	desc_at(f, IND_GPA, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	desc_at(f, IND_GPA, 1, HOLE_GPA, 1, VRING_DESC_F_WRITE, 0);
	desc(f, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	publish(f, 0);
}

static void h_avail_too_far(struct fix *f)
{
	desc(f, 0, DATA_GPA, 1, 0, 0);
	set_avail_idx(f, QSIZE + 1);                           /* ring entries are all 0: valid heads */
}

static void h_avail_backwards(struct fix *f)
{
	desc(f, 0, DATA_GPA, 1, 0, 0);
	set_avail_idx(f, 0xffff);
}

static const struct hostile hostile[] = {
	{ "head == size", h_head_too_big, VQ_BAD_HEAD },
	{ "head 0xffff", h_head_ffff, VQ_BAD_HEAD },
	{ "next == size", h_next_too_big, VQ_BAD_NEXT },
	{ "loop a->b->a", h_loop, VQ_LOOP },
	{ "self-loop", h_self_loop, VQ_LOOP },
	{ "loop into the middle", h_loop_into_middle, VQ_LOOP },
	{ "buffer outside RAM", h_outside_ram, VQ_OUT_OF_RAM },
	{ "buffer straddling two regions", h_straddles_regions, VQ_OUT_OF_RAM },
	{ "buffer straddling the end of RAM", h_straddles_ram_end, VQ_OUT_OF_RAM },
	{ "buffer address wrapping 2^64", h_addr_wraps, VQ_OUT_OF_RAM },
	{ "buffer of 4 GiB - 1", h_huge_len, VQ_OUT_OF_RAM },
	{ "readable after writable", h_read_after_write, VQ_ORDER },
	{ "readable after writable (indirect)", h_read_after_write_indirect, VQ_ORDER },
	{ "readable after writable (across indirect)", h_read_after_write_across_indirect, VQ_ORDER },
	{ "nested indirect", h_nested_indirect, VQ_NESTED_INDIRECT },
	{ "nested indirect after a buffer", h_nested_indirect_later, VQ_NESTED_INDIRECT },
	{ "indirect table = descriptor table", h_indirect_is_the_ring, VQ_NESTED_INDIRECT },
	{ "indirect table = descriptor table, via a buffer", h_indirect_is_the_ring_later, VQ_NESTED_INDIRECT },
	{ "indirect with NEXT", h_indirect_with_next, VQ_BAD_INDIRECT },
	{ "indirect length 40", h_indirect_len_40, VQ_BAD_INDIRECT },
	{ "indirect length 0", h_indirect_len_0, VQ_BAD_INDIRECT },
	{ "indirect table outside RAM", h_indirect_outside, VQ_BAD_INDIRECT },
	{ "indirect table straddling the end of RAM", h_indirect_straddles, VQ_BAD_INDIRECT },
	{ "indirect table of VQ_MAX_SEGS + 1", h_indirect_too_big, VQ_BAD_INDIRECT },
	{ "VQ_MAX_SEGS + 1 buffers via indirect", h_too_many_via_indirect, VQ_TOO_MANY },
	{ "loop inside an indirect table", h_indirect_loop, VQ_LOOP },
	{ "loop through a full indirect table", h_indirect_full_loop, VQ_LOOP },
	{ "next past an indirect table", h_indirect_next_too_big, VQ_BAD_NEXT },
	{ "indirect buffer outside RAM", h_indirect_buffer_outside, VQ_OUT_OF_RAM },
	{ "avail idx size + 1 ahead", h_avail_too_far, VQ_BAD_RING },
	{ "avail idx moved backwards", h_avail_backwards, VQ_BAD_RING },
};

/* The chain is refused with ERR, the queue stays broken (the avail entry is
 * not consumed, nothing lands in the used ring) until it is enabled again. */
static void test_hostile(void **state)
{
	const struct hostile *h = *state;
	struct fix *f = fix_new();
	enable(f, QSIZE, true);
	h->build(f);
	int r = vq_pop(&f->vq, &f->chain);
	if (r != -1 || f->vq.last_error != h->err)
		printf("%s: pop %d, error %d (%s), wanted %d (%s)\n", h->name, r, f->vq.last_error,
		       vq_error_text(f->vq.last_error), h->err, vq_error_text(h->err));
	assert_int_equal(r, -1);
	assert_true(f->vq.broken);
	assert_int_equal(f->vq.errors, 1);
	assert_int_equal(f->vq.last_error, h->err);
	assert_string_not_equal(vq_error_text(h->err), "an unknown error");
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(avail_event(f), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vq_pop(&f->vq, &f->chain), -1);
	assert_int_equal(f->vq.errors, 1);                     /* counted once */
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(used_idx(f), 0);

	/* The driver resets and sets the queue up again with a good chain. */
	memset(f->ram0, 0, 0x4000);
	f->avail_idx = 0;
	desc(f, 0, DATA_GPA, 8, 0, 0);
	publish(f, 0);
	enable(f, QSIZE, true);
	assert_false(f->vq.broken);
	assert_int_equal(f->vq.last_error, VQ_OK);
	assert_int_equal(vq_pop(&f->vq, &f->chain), 1);
	expect_iov(&f->chain, 0, f->ram0 + 0x4000, 8);
	assert_int_equal(f->vq.errors, 1);                     /* the count survives */
	fix_free(f);
}

int main(void)
{
	alarm(300);          /* a chain walk that never ends must fail, not hang `make check` */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_ignores_write_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_table_8_byte_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_then_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_chains_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_buffer_anywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_idx_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_event_and_kicks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kicks_without_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_event_idx_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_no_interrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_refusals, setup, teardown),
	};
	enum { NH = sizeof(hostile) / sizeof(hostile[0]) };
	struct CMUnitTest htests[NH];
	for (unsigned i = 0; i < NH; i++)
		htests[i] = (struct CMUnitTest){ .name = hostile[i].name, .test_func = test_hostile,
						 .initial_state = (void *)&hostile[i] };
	int failed = cmocka_run_group_tests_name("virtqueue", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("hostile chains", htests, NH, NULL, NULL);
	return failed ? 1 : 0;
}
