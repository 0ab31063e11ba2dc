/* vmm/ps2_mouse.c behind vmm/dev_i8042.c: the mouse commands Linux's
 * psmouse sends through controller command 0xD4, and movement packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "tests/lib/testlib.h"
#include "vmm/dev_i8042.h"

struct fixture {
	struct i8042 k;
	struct tl_irq kbd, aux;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	i8042_init(&f->k, tl_irq_line(&f->kbd, 1), tl_irq_line(&f->aux, 12), NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	i8042_destroy(&f->k);
	free(f);
	return 0;
}

static uint8_t status(struct fixture *f)
{
	uint8_t v = 0;
	i8042_bus_ops.read(&f->k, 4, &v, 1);
	return v;
}

static void to_mouse(struct fixture *f, uint8_t b)
{
	uint8_t c = 0xd4;
	i8042_bus_ops.write(&f->k, 4, &c, 1);
	i8042_bus_ops.write(&f->k, 0, &b, 1);
}

/* Reads the aux bytes waiting and compares them with WANT. */
static void expect_aux(struct fixture *f, const uint8_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t st = status(f);
		if ((st & (I8042_STS_OBF | I8042_STS_AUXOBF)) != (I8042_STS_OBF | I8042_STS_AUXOBF))
			fail_msg("aux byte %u (%#x) missing (status %#x)", i, want[i], st);
		uint8_t b = 0;
		i8042_bus_ops.read(&f->k, 0, &b, 1);
		if (b != want[i])
			fail_msg("aux byte %u is %#x, want %#x", i, b, want[i]);
	}
	if (status(f) & I8042_STS_OBF) {
		uint8_t b = 0;
		i8042_bus_ops.read(&f->k, 0, &b, 1);
		fail_msg("unexpected extra byte %#x after %u", b, n);
	}
}
#define EXPECT(f, ...) do { const uint8_t w_[] = { __VA_ARGS__ }; expect_aux(f, w_, sizeof(w_)); } while (0)

static void test_reset_and_identify(void **state)
{
	struct fixture *f = *state;
	to_mouse(f, 0xff);
	EXPECT(f, 0xfa, 0xaa, 0x00);
	to_mouse(f, 0xf2);
	EXPECT(f, 0xfa, 0x00);
	to_mouse(f, 0xe9);                 /* status: stream mode, disabled, 100/s, 4 counts/mm */
	EXPECT(f, 0xfa, 0x00, 0x02, 100);
	to_mouse(f, 0x42);                 /* not a command */
	EXPECT(f, 0xfe);
}

static void set_rate(struct fixture *f, uint8_t r)
{
	to_mouse(f, 0xf3);
	EXPECT(f, 0xfa);
	to_mouse(f, r);
	EXPECT(f, 0xfa);
}

static void test_intellimouse_knocks(void **state)
{
	struct fixture *f = *state;
	set_rate(f, 200), set_rate(f, 100), set_rate(f, 80);
	to_mouse(f, 0xf2);
	EXPECT(f, 0xfa, 0x03);
	set_rate(f, 200), set_rate(f, 200), set_rate(f, 80);
	to_mouse(f, 0xf2);
	EXPECT(f, 0xfa, 0x04);
	to_mouse(f, 0xe9);
	EXPECT(f, 0xfa, 0x00, 0x02, 80);
}

static void test_stream_packets(void **state)
{
	struct fixture *f = *state;
	i8042_mouse_event(&f->k, 5, 5, 0, 0);     /* disabled: nothing */
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	assert_false(i8042_mouse_active(&f->k));
	to_mouse(f, 0xf4);
	EXPECT(f, 0xfa);
	assert_true(i8042_mouse_active(&f->k));
	i8042_mouse_event(&f->k, 10, 3, 0, PS2_MOUSE_LEFT);   /* screen y down = mouse y negative */
	EXPECT(f, 0x29, 10, 0xfd);
	i8042_mouse_event(&f->k, -300, 0, 0, 0);               /* split over two packets */
	EXPECT(f, 0x18, 0x00, 0x00, 0x18, 0xd4, 0x00);
	/* IntelliMouse: a fourth byte with the wheel (up is negative). */
	set_rate(f, 200), set_rate(f, 100), set_rate(f, 80);
	i8042_mouse_event(&f->k, 0, 0, 1, PS2_MOUSE_RIGHT);
	EXPECT(f, 0x0a, 0, 0, 0xff);
	/* AUXINT raises IRQ 12 for each byte once enabled. */
	uint8_t c = 0x60, ccb = I8042_CCB_KBDINT | I8042_CCB_AUXINT | I8042_CCB_SYS | I8042_CCB_XLATE;
	i8042_bus_ops.write(&f->k, 4, &c, 1);
	i8042_bus_ops.write(&f->k, 0, &ccb, 1);
	tl_irq_clear(&f->aux);
	i8042_mouse_event(&f->k, 1, 0, 0, 0);
	assert_int_equal(f->aux.level, 1);
	assert_int_equal(f->aux.gsi, 12);
	EXPECT(f, 0x08, 1, 0, 0);
	/* The aux port disabled by the controller: the mouse does not count as active. */
	c = 0xa7;
	i8042_bus_ops.write(&f->k, 4, &c, 1);
	assert_false(i8042_mouse_active(&f->k));
}

static void test_remote_and_wrap_modes(void **state)
{
	struct fixture *f = *state;
	to_mouse(f, 0xf4);
	EXPECT(f, 0xfa);
	to_mouse(f, 0xf0);                        /* remote: no packets unless asked */
	EXPECT(f, 0xfa);
	i8042_mouse_event(&f->k, 7, 0, 0, 0);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	to_mouse(f, 0xeb);                        /* read data */
	EXPECT(f, 0xfa, 0x08, 7, 0);
	to_mouse(f, 0xea);
	EXPECT(f, 0xfa);
	to_mouse(f, 0xee);                        /* wrap: echoes */
	EXPECT(f, 0xfa);
	to_mouse(f, 0x12);
	EXPECT(f, 0x12);
	to_mouse(f, 0xec);
	EXPECT(f, 0xfa);
	to_mouse(f, 0xe8);                        /* resolution with its argument */
	EXPECT(f, 0xfa);
	to_mouse(f, 3);
	EXPECT(f, 0xfa);
	to_mouse(f, 0xe7);                        /* scaling 2:1 */
	EXPECT(f, 0xfa);
	to_mouse(f, 0xe9);
	EXPECT(f, 0xfa, 0x30, 3, 100);
}

static void test_a_flood_waits_in_the_mouse(void **state)
{
	struct fixture *f = *state;
	to_mouse(f, 0xf4);
	EXPECT(f, 0xfa);
	for (int i = 0; i < 1000; i++)
		i8042_mouse_event(&f->k, 100, 0, 0, 0);
	/* Whole packets only, and the total movement arrives. */
	long total = 0;
	for (int n = 0; n < 2000 && (status(f) & I8042_STS_OBF); n++) {
		uint8_t p[3];
		for (int i = 0; i < 3; i++) {
			assert_true(status(f) & I8042_STS_AUXOBF);
			i8042_bus_ops.read(&f->k, 0, &p[i], 1);
		}
		assert_true(p[0] & 0x08);
		total += (p[0] & 0x10) ? p[1] - 256 : p[1];
	}
	/* What fitted the queue at once, then the bounded remainder. */
	assert_true(total >= 65536 && total < 65536 + 64 / 3 * 255);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_and_identify),
		T(test_intellimouse_knocks),
		T(test_stream_packets),
		T(test_remote_and_wrap_modes),
		T(test_a_flood_waits_in_the_mouse),
	};
	return cmocka_run_group_tests_name("ps/2 mouse", tests, NULL, NULL);
}
