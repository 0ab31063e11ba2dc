/* vmm/virtio_input.c: the tablet's config space as Linux's virtio_input
 * driver reads it (select/subsel), and the events it queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/irq_router.h"
#include "vmm/virtio_input.h"

struct fixture {
	struct tl_mem mem;
	struct irq_router router;
	struct virtio_input *ti;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	tl_mem_init_pc(&f.mem, 16 << 20);
	irq_router_init(&f.router);
	struct error err;
	f.ti = vinput_tablet_create(&f.mem.gm, &f.router, &err);
	assert_non_null(f.ti);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vinput_destroy(f->ti);
	irq_router_destroy(&f->router);
	tl_mem_free(&f->mem);
	return 0;
}

/* Selects through the device's config_write, reads the whole struct. */
static struct virtio_input_config cfg(struct fixture *f, uint8_t select, uint8_t subsel)
{
	const struct virtio_ops *ops = f->ti->vp.ops;
	ops->config_write(&f->ti->vp, 0, &select, 1);
	ops->config_write(&f->ti->vp, 1, &subsel, 1);
	struct virtio_input_config c;
	ops->config_read(&f->ti->vp, 0, &c, sizeof(c));
	return c;
}

static bool bit(const struct virtio_input_config *c, unsigned n)
{
	return n / 8 < c->size && (c->u[n / 8] >> (n % 8)) & 1;
}

static void test_identity_and_capabilities(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->ti->vp.ops->device_id, 18);
	struct virtio_input_config c = cfg(f, 0x01, 0);            /* ID_NAME */
	assert_int_equal(c.size, strlen("vmdeck tablet"));
	assert_memory_equal(c.u, "vmdeck tablet", c.size);
	c = cfg(f, 0x11, EV_ABS);                                   /* EV_BITS */
	assert_true(bit(&c, ABS_X) && bit(&c, ABS_Y));
	assert_false(bit(&c, ABS_Z));
	c = cfg(f, 0x11, EV_KEY);
	assert_true(bit(&c, BTN_LEFT) && bit(&c, BTN_RIGHT) && bit(&c, BTN_MIDDLE));
	assert_int_equal(c.size, BTN_MIDDLE / 8 + 1);
	c = cfg(f, 0x11, EV_REL);
	assert_true(bit(&c, REL_WHEEL));
	assert_false(bit(&c, REL_X));                               /* absolute, never relative motion */
	c = cfg(f, 0x11, EV_LED);
	assert_int_equal(c.size, 0);
	c = cfg(f, 0x12, ABS_Y);                                    /* ABS_INFO */
	assert_int_equal(c.size, 20);
	uint32_t min, max;
	memcpy(&min, c.u, 4);
	memcpy(&max, c.u + 4, 4);
	assert_int_equal(min, 0);
	assert_int_equal(max, VINPUT_ABS_MAX);
	c = cfg(f, 0x03, 0);                                        /* ID_DEVIDS: BUS_VIRTUAL */
	assert_int_equal(c.size, 8);
	assert_int_equal(c.u[0], 0x06);
	c = cfg(f, 0x7f, 0);                                        /* unknown select */
	assert_int_equal(c.size, 0);
	assert_int_equal(c.select, 0x7f);
}

static void test_pointer_events_wait_for_the_driver(void **state)
{
	struct fixture *f = *state;
	assert_false(vinput_active(f->ti));
	vinput_pointer(f->ti, 1023, 0, 1024, 768, VINPUT_BTN_LEFT, 1);
	/* X at the far right is the top of the axis; Y 0; left down; wheel; SYN. */
	assert_int_equal(f->ti->count, 5);
	const struct virtio_input_event *e = f->ti->pending;
	assert_int_equal(e[0].type, EV_ABS);
	assert_int_equal(e[0].code, ABS_X);
	assert_int_equal(e[0].value, VINPUT_ABS_MAX);
	assert_int_equal(e[1].code, ABS_Y);
	assert_int_equal(e[1].value, 0);
	assert_int_equal(e[2].type, EV_KEY);
	assert_int_equal(e[2].code, BTN_LEFT);
	assert_int_equal(e[2].value, 1);
	assert_int_equal(e[3].type, EV_REL);
	assert_int_equal(e[4].type, EV_SYN);
	/* Unchanged axes are not repeated; the button release is. */
	vinput_pointer(f->ti, 1023, 0, 1024, 768, 0, 0);
	assert_int_equal(f->ti->count, 7);
	/* A full queue drops whole reports and counts them. */
	for (int i = 0; i < 200; i++)
		vinput_pointer(f->ti, (unsigned)i, (unsigned)i, 1024, 768, 0, 0);
	assert_true(f->ti->dropped > 0);
	assert_true(f->ti->count <= VINPUT_PENDING);
	/* A driver reset forgets them. */
	f->ti->vp.ops->reset(&f->ti->vp);
	assert_int_equal(f->ti->count, 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_identity_and_capabilities),
		T(test_pointer_events_wait_for_the_driver),
	};
	return cmocka_run_group_tests_name("virtio tablet", tests, NULL, NULL);
}
