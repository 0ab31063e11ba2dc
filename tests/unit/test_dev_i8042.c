/* vmm/dev_i8042.c: the keyboard controller as Linux's i8042 driver and
 * atkbd probe it, and the reset line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/dev_i8042.h"

struct fixture {
	struct i8042 k;
	struct tl_irq kbd, aux;
	unsigned resets;
};

static void on_reset(void *opaque)
{
	((struct fixture *)opaque)->resets++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	i8042_init(&f->k, tl_irq_line(&f->kbd, 1), tl_irq_line(&f->aux, 12), on_reset, f);
	tl_irq_clear(&f->kbd);
	tl_irq_clear(&f->aux);
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

static uint8_t data_rd(struct fixture *f)
{
	uint8_t v = 0;
	i8042_bus_ops.read(&f->k, 0, &v, 1);
	return v;
}

static void cmd(struct fixture *f, uint8_t c)
{
	i8042_bus_ops.write(&f->k, 4, &c, 1);
}

static void data_wr(struct fixture *f, uint8_t b)
{
	i8042_bus_ops.write(&f->k, 0, &b, 1);
}

/* Reads the output buffer until empty, checking each byte. */
static void expect_output(struct fixture *f, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(status(f) & I8042_STS_OBF))
			fail_msg("output byte %zu (%#x) missing: buffer empty", i, want[i]);
		uint8_t b = data_rd(f);
		if (b != want[i])
			fail_msg("output byte %zu is %#x, want %#x", i, b, want[i]);
	}
	if (status(f) & I8042_STS_OBF)
		fail_msg("unexpected extra output byte %#x", data_rd(f));
}
#define EXPECT(f, ...) expect_output((f), (const uint8_t[]){ __VA_ARGS__ }, \
				     sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void power_on_state_and_command_byte(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(status(f), I8042_STS_SYS | I8042_STS_UNLOCK);
	cmd(f, 0x20);
	assert_int_equal(status(f) & (I8042_STS_OBF | I8042_STS_CMD), I8042_STS_OBF | I8042_STS_CMD);
	EXPECT(f, I8042_CCB_KBDINT | I8042_CCB_SYS | I8042_CCB_XLATE);
	cmd(f, 0x60);
	data_wr(f, 0x65);
	assert_int_equal(status(f) & I8042_STS_CMD, 0);   /* last write was data */
	assert_int_equal(f->k.ccb, 0x65);
	cmd(f, 0x20);
	EXPECT(f, 0x65);
	/* Aux enable/disable and keyboard enable/disable live in the CCB. */
	cmd(f, 0xa7);
	cmd(f, 0xad);
	cmd(f, 0x20);
	EXPECT(f, 0x65 | I8042_CCB_AUXDIS | I8042_CCB_KBDDIS);
	cmd(f, 0xa8);
	cmd(f, 0xae);
	cmd(f, 0x20);
	EXPECT(f, 0x45);
}

static void self_tests(void **state)
{
	struct fixture *f = *state;
	cmd(f, 0xaa);
	EXPECT(f, 0x55);
	assert_true(status(f) & I8042_STS_SYS);
	cmd(f, 0xab);                           /* keyboard interface test */
	EXPECT(f, 0x00);
	cmd(f, 0xa9);                           /* aux interface test */
	EXPECT(f, 0x00);
	cmd(f, 0xc0);                           /* input port */
	EXPECT(f, 0x80);
	cmd(f, 0xd0);                           /* output port: reset high, A20 on */
	EXPECT(f, 0x03);
}

static void keyboard_reset_and_irq1_edges(void **state)
{
	struct fixture *f = *state;
	data_wr(f, 0xff);
	/* The ACK is there, with IRQ1 raised. */
	assert_int_equal(f->kbd.level, 1);
	assert_int_equal(f->kbd.gsi, 1);
	assert_int_equal(tl_irq_rises(&f->kbd), 1);
	assert_int_equal(data_rd(f), 0xfa);
	/* Reading it lowers the line, and the BAT result raises it again:
	 * a fresh edge for the second byte. */
	assert_int_equal(tl_irq_falls(&f->kbd), 1);
	assert_int_equal(tl_irq_rises(&f->kbd), 2);
	assert_int_equal(f->kbd.level, 1);
	assert_int_equal(data_rd(f), 0xaa);
	assert_int_equal(f->kbd.level, 0);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	assert_int_equal(f->aux.level, 0);
	assert_int_equal(tl_irq_rises(&f->aux), 0);
	/* Without KBDINT in the command byte the line stays low. */
	cmd(f, 0x60);
	data_wr(f, 0x44);
	tl_irq_clear(&f->kbd);
	data_wr(f, 0xee);
	assert_int_equal(tl_irq_rises(&f->kbd), 0);
	EXPECT(f, 0xee);
}

static void identify_and_keyboard_commands(void **state)
{
	struct fixture *f = *state;
	data_wr(f, 0xf2);
	EXPECT(f, 0xfa, 0xab, 0x41);            /* MF2, as translated */
	cmd(f, 0x60);
	data_wr(f, 0x05);                       /* translation off */
	data_wr(f, 0xf2);
	EXPECT(f, 0xfa, 0xab, 0x83);
	data_wr(f, 0xed);                       /* set LEDs */
	EXPECT(f, 0xfa);
	data_wr(f, 0x07);
	EXPECT(f, 0xfa);
	assert_int_equal(f->k.kbd_leds, 7);
	data_wr(f, 0xf0);                       /* get scancode set */
	data_wr(f, 0x00);
	EXPECT(f, 0xfa, 0xfa, 0x02);
	data_wr(f, 0xf0);                       /* select set 1 */
	data_wr(f, 0x01);
	EXPECT(f, 0xfa, 0xfa);
	data_wr(f, 0xf0);
	data_wr(f, 0x00);
	EXPECT(f, 0xfa, 0xfa, 0x01);
	data_wr(f, 0xf3);                       /* typematic rate */
	data_wr(f, 0x20);
	EXPECT(f, 0xfa, 0xfa);
	data_wr(f, 0xee);
	EXPECT(f, 0xee);
	data_wr(f, 0x12);                       /* not a command */
	EXPECT(f, 0xfe);
	data_wr(f, 0xf6);                       /* defaults: set 2 again */
	data_wr(f, 0xf0);
	data_wr(f, 0x00);
	EXPECT(f, 0xfa, 0xfa, 0xfa, 0x02);
}

static void set2_to_set1_translation(void **state)
{
	struct fixture *f = *state;
	/* 'A' make and break; then Up arrow (extended). */
	static const uint8_t keys[] = { 0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75, 0x83, 0xf0, 0x83 };
	i8042_kbd_bytes(&f->k, keys, sizeof(keys));
	EXPECT(f, 0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0x41, 0xc1);
	/* Without translation the set-2 bytes pass unchanged. */
	cmd(f, 0x60);
	data_wr(f, I8042_CCB_KBDINT | I8042_CCB_SYS);
	i8042_kbd_bytes(&f->k, keys, 3);
	EXPECT(f, 0x1c, 0xf0, 0x1c);
}

static void scanning_and_interface_disable(void **state)
{
	struct fixture *f = *state;
	static const uint8_t a[] = { 0x1c };
	data_wr(f, 0xf5);                        /* keyboard stops scanning */
	EXPECT(f, 0xfa);
	i8042_kbd_bytes(&f->k, a, 1);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	data_wr(f, 0xf4);
	EXPECT(f, 0xfa);
	/* Interface disabled by the controller: keys wait, then arrive. */
	cmd(f, 0xad);
	i8042_kbd_bytes(&f->k, a, 1);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	assert_int_equal(f->kbd.level, 0);
	cmd(f, 0xae);
	EXPECT(f, 0x1e);
}

static void reset_line(void **state)
{
	struct fixture *f = *state;
	cmd(f, 0xff);                           /* pulse nothing */
	assert_int_equal(f->resets, 0);
	cmd(f, 0xfe);                           /* pulse the reset line */
	assert_int_equal(f->resets, 1);
	cmd(f, 0xf0);                           /* pulse all four lines */
	assert_int_equal(f->resets, 2);
	cmd(f, 0xd1);
	data_wr(f, 0x03);                       /* output port, reset bit high */
	assert_int_equal(f->resets, 2);
	cmd(f, 0xd0);
	EXPECT(f, 0x03);
	cmd(f, 0xd1);
	data_wr(f, 0x02);                       /* reset bit low */
	assert_int_equal(f->resets, 3);
}

static void aux_port_and_write_to_output(void **state)
{
	struct fixture *f = *state;
	cmd(f, 0xd4);                           /* to the mouse: enable, acknowledged */
	data_wr(f, 0xf4);
	assert_int_equal(status(f) & (I8042_STS_OBF | I8042_STS_AUXOBF), I8042_STS_OBF | I8042_STS_AUXOBF);
	assert_int_equal(f->aux.level, 0);      /* AUXINT is off */
	assert_int_equal(f->kbd.level, 0);      /* and it is not a keyboard byte */
	EXPECT(f, 0xfa);
	cmd(f, 0x60);
	data_wr(f, 0x47);                       /* KBDINT | AUXINT | SYS | XLATE */
	cmd(f, 0xd3);                           /* write to the aux output */
	data_wr(f, 0x5a);
	assert_int_equal(f->aux.level, 1);
	assert_int_equal(f->aux.gsi, 12);
	EXPECT(f, 0x5a);
	assert_int_equal(f->aux.level, 0);
	cmd(f, 0xd2);                           /* write to the keyboard output */
	data_wr(f, 0x9c);
	assert_true(status(f) & I8042_STS_OBF);
	assert_int_equal(status(f) & I8042_STS_AUXOBF, 0);
	assert_int_equal(f->kbd.level, 1);
	EXPECT(f, 0x9c);
}

/* Linux's multiplexer probe (i8042_set_mux_mode) loops bytes back through
 * D3 while the AUX interface is disabled; each must be readable at once,
 * flagged as AUX data, or the driver polls 10000 times for it. */
static void loopback_while_aux_disabled(void **state)
{
	struct fixture *f = *state;
	cmd(f, 0x60);
	data_wr(f, I8042_CCB_KBDDIS | I8042_CCB_AUXDIS | I8042_CCB_SYS | I8042_CCB_XLATE);
	const uint8_t probe[] = { 0xf0, 0x56, 0xa4 };
	for (size_t i = 0; i < sizeof(probe); i++) {
		cmd(f, 0xd3);
		data_wr(f, probe[i]);
		assert_int_equal(status(f) & (I8042_STS_OBF | I8042_STS_AUXOBF), I8042_STS_OBF | I8042_STS_AUXOBF);
		assert_int_equal(data_rd(f), probe[i]);
	}
	/* Nothing was left behind to reach the mouse driver later. */
	cmd(f, 0xa8);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	assert_int_equal(f->aux.level, 0);      /* AUXINT stayed off */
}

static void queue_overflow_drops_not_corrupts(void **state)
{
	struct fixture *f = *state;
	cmd(f, 0x60);
	data_wr(f, I8042_CCB_KBDINT | I8042_CCB_SYS);   /* raw set 2 */
	uint8_t many[200];
	for (size_t i = 0; i < sizeof(many); i++)
		many[i] = (uint8_t)(i & 0x7f);
	i8042_kbd_bytes(&f->k, many, sizeof(many));
	size_t got = 0;
	while (status(f) & I8042_STS_OBF) {
		uint8_t b = data_rd(f);
		assert_int_equal(b, many[got]);
		got++;
	}
	assert_int_equal(got, I8042_QUEUE);
	/* A controller reset empties everything. */
	i8042_kbd_bytes(&f->k, many, 10);
	i8042_reset(&f->k);
	assert_int_equal(status(f) & I8042_STS_OBF, 0);
	assert_int_equal(f->kbd.level, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(power_on_state_and_command_byte),
		T(self_tests),
		T(keyboard_reset_and_irq1_edges),
		T(identify_and_keyboard_commands),
		T(set2_to_set1_translation),
		T(scanning_and_interface_disable),
		T(reset_line),
		T(aux_port_and_write_to_output),
		T(loopback_while_aux_disabled),
		T(queue_overflow_drops_not_corrupts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
