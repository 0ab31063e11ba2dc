/* vmm/dev_pm.c: ACPI PM1 event/control, the PM timer, GPE0, the reset
 * control register, with a fake monotonic clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/acpi.h"
#include "vmm/dev_pm.h"

static uint64_t fake_ns, fake_step;
static unsigned clock_calls;

/* Advances by FAKE_STEP after each reading, like a real clock between two
 * calls. */
static uint64_t fake_clock(void)
{
	clock_calls++;
	uint64_t t = fake_ns;
	fake_ns += fake_step;
	return t;
}

struct fixture {
	struct pm pm;
	struct tl_irq sci;
	unsigned poweroffs, resets;
};

static void on_poweroff(void *opaque) { ((struct fixture *)opaque)->poweroffs++; }
static void on_reset(void *opaque) { ((struct fixture *)opaque)->resets++; }

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	pm_init(&f->pm, tl_irq_line(&f->sci, 9),
		(struct pm_events){ .poweroff = on_poweroff, .reset = on_reset, .opaque = f });
	f->pm.clock_ns = fake_clock;
	fake_ns = 0;
	fake_step = 0;
	clock_calls = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pm_destroy(&f->pm);
	free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, unsigned off, unsigned len)
{
	uint8_t b[4] = { 0 };
	pm_bus_ops.read(&f->pm, off, b, len);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr(struct fixture *f, unsigned off, uint32_t v, unsigned len)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	pm_bus_ops.write(&f->pm, off, b, len);
}

static void power_on_state(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), 0);       /* PM1_STS */
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF + 2, 2), 0);   /* PM1_EN */
	assert_int_equal(rd(f, ACPI_PM1_CNT_OFF, 2), PM1_CNT_SCI_EN);   /* already in ACPI mode */
	assert_int_equal(rd(f, ACPI_GPE0_OFF, 2), 0);
	assert_int_equal(rd(f, ACPI_GPE0_OFF + 2, 2), 0);
	assert_int_equal(rd(f, 0x06, 2), 0xffff);              /* between PM1_CNT and PM_TMR */
	assert_int_equal(f->sci.level, 0);
	/* The OS cannot leave ACPI mode: SCI_EN sticks. */
	wr(f, ACPI_PM1_CNT_OFF, 0, 2);
	assert_int_equal(rd(f, ACPI_PM1_CNT_OFF, 2), PM1_CNT_SCI_EN);
}

static void s5_powers_off_and_s0_does_not(void **state)
{
	struct fixture *f = *state;
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	wr(f, ACPI_PM1_CNT_OFF, ACPI_S5_SLP_TYP << 10 | PM1_CNT_SCI_EN, 2);
	assert_int_equal(f->poweroffs, 0);
	assert_int_equal(rd(f, ACPI_PM1_CNT_OFF, 2), ACPI_S5_SLP_TYP << 10 | PM1_CNT_SCI_EN);
	wr(f, ACPI_PM1_CNT_OFF, ACPI_S5_SLP_TYP << 10 | PM1_CNT_SLP_EN | PM1_CNT_SCI_EN, 2);
	assert_int_equal(f->poweroffs, 1);
	assert_int_equal(f->resets, 0);
	/* SLP_EN is write-only: it reads as 0. */
	assert_int_equal(rd(f, ACPI_PM1_CNT_OFF, 2) & PM1_CNT_SLP_EN, 0);

	/* S0 with SLP_EN: nothing happens. */
	wr(f, ACPI_PM1_CNT_OFF, PM1_CNT_SLP_EN | PM1_CNT_SCI_EN, 2);
	assert_int_equal(f->poweroffs, 1);
	/* Other sleep types are not power-off either. */
	wr(f, ACPI_PM1_CNT_OFF, 3 << 10 | PM1_CNT_SLP_EN, 2);
	assert_int_equal(f->poweroffs, 1);
	/* Byte writes: low byte, then the high byte with SLP_EN. */
	wr(f, ACPI_PM1_CNT_OFF, 0x01, 1);
	wr(f, ACPI_PM1_CNT_OFF + 1, (ACPI_S5_SLP_TYP << 2) | 0x20, 1);
	assert_int_equal(f->poweroffs, 2);
	/* A 4-byte write that covers PM1_CNT. */
	wr(f, ACPI_PM1_CNT_OFF, ACPI_S5_SLP_TYP << 10 | PM1_CNT_SLP_EN, 4);
	assert_int_equal(f->poweroffs, 3);
}

static void reset_control_register(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 0x02;                       /* SYS_RST without RST_CPU */
	reset_ctl_ops.write(&f->pm, 0, &v, 1);
	assert_int_equal(f->resets, 0);
	v = ACPI_RESET_VALUE;                   /* 0x06, what the FADT names */
	reset_ctl_ops.write(&f->pm, 0, &v, 1);
	assert_int_equal(f->resets, 1);
	v = 0x04;
	reset_ctl_ops.write(&f->pm, 0, &v, 1);
	assert_int_equal(f->resets, 2);
	assert_int_equal(f->poweroffs, 0);
	uint8_t r = 0xaa;
	reset_ctl_ops.read(&f->pm, 0, &r, 1);
	assert_int_equal(r, 0);
}

static void pm_timer_runs_at_3_579545_mhz(void **state)
{
	struct fixture *f = *state;
	static const struct { uint64_t ns; uint32_t ticks; } at[] = {
		{ 0, 0 },
		{ 279, 0 },                              /* one tick is 279.37 ns */
		{ 280, 1 },
		{ 1000000, 3579 },                       /* 1 ms */
		{ 1000000000, 3579545 },                 /* 1 s */
		{ 4687500000ull, 0xffffff & 16779117 },  /* just past the 24-bit wrap */
		{ 10000000000ull, 35795450 & 0xffffff },
		{ 86400000000000ull, (uint32_t)((86400ull * 3579545) & 0xffffff) },   /* a day: no overflow */
	};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		fake_ns = at[i].ns;
		uint32_t v = rd(f, ACPI_PM_TMR_OFF, 4);
		if (v != at[i].ticks)
			fail_msg("at %llu ns the timer reads %#x, want %#x", (unsigned long long)at[i].ns, v, at[i].ticks);
	}
	/* 24-bit timer: the top byte is always 0; halves read consistently. */
	fake_ns = 1000000000;
	assert_int_equal(rd(f, ACPI_PM_TMR_OFF + 3, 1), 0);
	assert_int_equal(rd(f, ACPI_PM_TMR_OFF + 2, 2), 3579545 >> 16);
	assert_int_equal(rd(f, ACPI_PM_TMR_OFF, 2), 3579545 & 0xffff);
	/* Writes are ignored. */
	wr(f, ACPI_PM_TMR_OFF, 0, 4);
	assert_int_equal(rd(f, ACPI_PM_TMR_OFF, 4), 3579545);
}

/* A 32-bit read is one sample of the clock: as the clock moves on between
 * the bytes of the read, the value must never go backwards or jump ahead
 * by a carry. */
static void pm_timer_reads_are_monotonic(void **state)
{
	struct fixture *f = *state;
	fake_ns = 1000;
	fake_step = 97;                          /* ns between two readings of the clock */
	uint32_t prev = rd(f, ACPI_PM_TMR_OFF, 4);
	for (int i = 0; i < 20000; i++) {
		uint64_t before = fake_ns;
		uint32_t v = rd(f, ACPI_PM_TMR_OFF, 4);
		uint64_t after = fake_ns;
		if (v < prev)
			fail_msg("read %d: the timer went back from %#x to %#x", i, prev, v);
		/* The value is the tick count at some instant during the read. */
		uint32_t lo = (uint32_t)(before * 3579545ull / 1000000000ull);
		uint32_t hi = (uint32_t)(after * 3579545ull / 1000000000ull);
		if (v < lo || v > hi)
			fail_msg("read %d: %#x is not a time during the read (%#x..%#x)", i, v, lo, hi);
		prev = v;
	}
}

static void status_is_write_one_to_clear_and_sci_follows(void **state)
{
	struct fixture *f = *state;
	f->pm.pm1_sts = PM1_PWRBTN_STS | PM1_TMR_STS;   /* as if both events happened */
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), PM1_PWRBTN_STS | PM1_TMR_STS);
	wr(f, ACPI_PM1_EVT_OFF, 0, 2);                  /* zeros change nothing */
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), PM1_PWRBTN_STS | PM1_TMR_STS);
	wr(f, ACPI_PM1_EVT_OFF, PM1_TMR_STS, 2);
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), PM1_PWRBTN_STS);
	assert_int_equal(f->sci.level, 0);              /* not enabled */
	tl_irq_clear(&f->sci);
	wr(f, ACPI_PM1_EVT_OFF + 2, PM1_PWRBTN_STS, 2); /* PWRBTN_EN */
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF + 2, 2), PM1_PWRBTN_STS);
	assert_int_equal(f->sci.level, 1);
	assert_int_equal(f->sci.gsi, 9);
	wr(f, ACPI_PM1_EVT_OFF + 1, PM1_PWRBTN_STS >> 8, 1);   /* clear by a byte write */
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), 0);
	assert_int_equal(f->sci.level, 0);
	assert_int_equal(tl_irq_rises(&f->sci), 1);
	assert_int_equal(tl_irq_falls(&f->sci), 1);
	/* A 4-byte write at PM1_EVT: status (w1c) and enable together. */
	f->pm.pm1_sts = PM1_WAK_STS;
	wr(f, ACPI_PM1_EVT_OFF, PM1_WAK_STS | (uint32_t)0x0120 << 16, 4);
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF, 2), 0);
	assert_int_equal(rd(f, ACPI_PM1_EVT_OFF + 2, 2), 0x0120);
}

static void power_button_raises_gpe0_and_sci(void **state)
{
	struct fixture *f = *state;
	pm_power_button(&f->pm);                /* GPE not enabled yet */
	assert_int_equal(rd(f, ACPI_GPE0_OFF, 2), 1u << ACPI_GPE_PWRBTN);
	assert_int_equal(f->sci.level, 0);
	wr(f, ACPI_GPE0_OFF + 2, 1u << ACPI_GPE_PWRBTN, 2);   /* the OS enables _L00 */
	assert_int_equal(f->sci.level, 1);
	wr(f, ACPI_GPE0_OFF, 1u << ACPI_GPE_PWRBTN, 2);       /* handled: cleared */
	assert_int_equal(f->sci.level, 0);
	assert_int_equal(rd(f, ACPI_GPE0_OFF, 2), 0);
	tl_irq_clear(&f->sci);
	pm_power_button(&f->pm);                /* enabled now: straight to the SCI */
	assert_int_equal(f->sci.level, 1);
	assert_int_equal(tl_irq_rises(&f->sci), 1);
	pm_power_button(&f->pm);                /* still pending: the level stays */
	assert_int_equal(f->sci.calls, 1);
	/* Masking the GPE drops the line; the status stays for later. */
	wr(f, ACPI_GPE0_OFF + 2, 0, 2);
	assert_int_equal(f->sci.level, 0);
	assert_int_equal(rd(f, ACPI_GPE0_OFF, 2), 1);
	/* A reset clears status and enables and lowers the SCI. */
	wr(f, ACPI_GPE0_OFF + 2, 1, 2);
	assert_int_equal(f->sci.level, 1);
	pm_reset(&f->pm);
	assert_int_equal(f->sci.level, 0);
	assert_int_equal(rd(f, ACPI_GPE0_OFF, 4), 0);
	assert_int_equal(rd(f, ACPI_PM1_CNT_OFF, 2), PM1_CNT_SCI_EN);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(power_on_state),
		T(s5_powers_off_and_s0_does_not),
		T(reset_control_register),
		T(pm_timer_runs_at_3_579545_mhz),
		T(pm_timer_reads_are_monotonic),
		T(status_is_write_one_to_clear_and_sci_follows),
		T(power_button_raises_gpe0_and_sci),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
