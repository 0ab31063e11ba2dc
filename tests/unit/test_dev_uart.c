/* vmm/dev_uart.c: the 16550A on COM1, driven through its bus callbacks the
 * way Linux's 8250 driver drives it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "vmm/dev_uart.h"

struct fixture {
	struct uart u;
	struct tl_irq irq;
	uint8_t out[4096];
	size_t nout;
};

static void backend_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct fixture *f = opaque;
	assert_true(f->nout + len <= sizeof(f->out));
	memcpy(f->out + f->nout, buf, len);
	f->nout += len;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uart_init(&f->u, tl_irq_line(&f->irq, 4),
		  (struct uart_backend){ .write = backend_write, .opaque = f });
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	uart_destroy(&f->u);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned reg)
{
	uint8_t v = 0x5c;
	uart_bus_ops.read(&f->u, reg, &v, 1);
	return v;
}

static void wr(struct fixture *f, unsigned reg, uint8_t v)
{
	uart_bus_ops.write(&f->u, reg, &v, 1);
}

static void input(struct fixture *f, const char *s)
{
	assert_int_equal(uart_input(&f->u, (const uint8_t *)s, strlen(s)), strlen(s));
}

static void reset_values(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(rd(f, UART_IER), 0);
	assert_int_equal(rd(f, UART_IIR), 0x01);          /* no interrupt, FIFOs off */
	assert_int_equal(rd(f, UART_LCR), 0);
	assert_int_equal(rd(f, UART_MCR), 0);
	assert_int_equal(rd(f, UART_LSR), 0x60);          /* THRE | TEMT */
	assert_int_equal(rd(f, UART_MSR), 0xb0);          /* DCD DSR CTS, no deltas */
	assert_int_equal(rd(f, UART_SCR), 0);
	assert_int_equal(rd(f, UART_RBR), 0);
	wr(f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(f, UART_DLL), 12);            /* 9600 baud */
	assert_int_equal(rd(f, UART_DLM), 0);
	assert_int_equal(f->irq.level, 0);
	/* Reading past the 8 registers gives all ones. */
	uint8_t two[2];
	uart_bus_ops.read(&f->u, 7, two, 2);
	assert_int_equal(two[1], 0xff);
	/* A reset after changes restores the same values and drops the line. */
	wr(f, UART_LCR, 0x03);
	wr(f, UART_IER, UART_IER_THRI);
	wr(f, UART_SCR, 0x42);
	wr(f, UART_MCR, 0x1f);
	assert_int_equal(f->irq.level, 1);
	uart_reset(&f->u);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(rd(f, UART_IER), 0);
	assert_int_equal(rd(f, UART_LCR), 0);
	assert_int_equal(rd(f, UART_MCR), 0);
	assert_int_equal(rd(f, UART_SCR), 0);
	assert_int_equal(rd(f, UART_MSR), 0xb0);
	assert_int_equal(rd(f, UART_IIR), 0x01);
}

static void dlab_selects_the_divisor(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_LCR, 0x83);                 /* DLAB, 8N1 */
	wr(f, UART_DLL, 0x01);                 /* 115200 */
	wr(f, UART_DLM, 0x02);
	assert_int_equal(f->nout, 0);          /* not transmitted */
	assert_int_equal(rd(f, UART_IER), 0x02);   /* reads DLM */
	wr(f, UART_LCR, 0x03);
	assert_int_equal(rd(f, UART_IER), 0);  /* IER was not touched */
	wr(f, UART_THR, 'x');
	assert_int_equal(f->nout, 1);
	assert_int_equal(f->out[0], 'x');
	wr(f, UART_IER, 0x05);
	wr(f, UART_LCR, 0x83);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x02);
	assert_int_equal(rd(f, UART_LCR), 0x83);
	/* With DLAB set, offset 0 does not consume received data. */
	input(f, "k");
	assert_int_equal(rd(f, UART_DLL), 0x01);
	wr(f, UART_LCR, 0x03);
	assert_int_equal(rd(f, UART_IER), 0x05);
	assert_int_equal(rd(f, UART_RBR), 'k');
}

static void scratch_register(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_SCR, 0x5a);
	assert_int_equal(rd(f, UART_SCR), 0x5a);
	wr(f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(f, UART_SCR), 0x5a);
	wr(f, UART_SCR, 0xa5);
	wr(f, UART_LCR, 0);
	assert_int_equal(rd(f, UART_SCR), 0xa5);
	/* LSR and MSR ignore writes. */
	wr(f, UART_LSR, 0x00);
	wr(f, UART_MSR, 0x00);
	assert_int_equal(rd(f, UART_LSR), 0x60);
	assert_int_equal(rd(f, UART_MSR), 0xb0);
}

static void fifo_enable_shows_in_iir(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(f, UART_IIR), 0xc1);
	wr(f, UART_FCR, 0xc7);                 /* enable, clear both, trigger 14 */
	assert_int_equal(rd(f, UART_IIR), 0xc1);
	wr(f, UART_FCR, 0);
	assert_int_equal(rd(f, UART_IIR), 0x01);
	/* IER keeps only its four defined bits. */
	wr(f, UART_IER, 0xff);
	assert_int_equal(rd(f, UART_IER), 0x0f);
}

/* Received data interrupts: RDI once the trigger level is reached, CTI
 * (character timeout) for fewer bytes waiting. */
static void receive_rdi_and_cti_by_trigger_level(void **state)
{
	static const struct { uint8_t fcr; unsigned trigger; } levels[] = {
		{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
	};
	for (size_t l = 0; l < 4; l++) {
		struct fixture *f = *state;
		uart_reset(&f->u);
		while (rd(f, UART_LSR) & UART_LSR_DR)
			rd(f, UART_RBR);
		wr(f, UART_FCR, levels[l].fcr | UART_FCR_CLEAR_RX);
		wr(f, UART_IER, UART_IER_RDI);
		assert_int_equal(f->irq.level, 0);
		unsigned t = levels[l].trigger;
		for (unsigned i = 1; i <= t; i++) {
			input(f, "z");
			assert_int_equal(f->irq.level, 1);
			uint8_t want = i < t ? 0xcc : 0xc4;
			if (rd(f, UART_IIR) != want)
				fail_msg("trigger %u, %u bytes: IIR %#x, want %#x", t, i, rd(f, UART_IIR), want);
		}
		assert_int_equal(rd(f, UART_LSR), 0x61);
		rd(f, UART_RBR);
		if (t > 1)
			assert_int_equal(rd(f, UART_IIR), 0xcc);   /* below the trigger again */
		for (unsigned i = 1; i < t; i++)
			rd(f, UART_RBR);
		assert_int_equal(rd(f, UART_IIR), 0xc1);
		assert_int_equal(rd(f, UART_LSR), 0x60);
		assert_int_equal(f->irq.level, 0);
	}
}

static void receive_without_fifo(void **state)
{
	struct fixture *f = *state;
	tl_irq_clear(&f->irq);
	input(f, "ab");                        /* one in the holding register, one waiting */
	assert_int_equal(f->irq.calls, 0);     /* RDI not enabled */
	assert_int_equal(rd(f, UART_LSR), 0x61);
	wr(f, UART_IER, UART_IER_RDI);
	assert_int_equal(tl_irq_rises(&f->irq), 1);
	assert_int_equal(rd(f, UART_IIR), 0x04);
	assert_int_equal(rd(f, UART_RBR), 'a');
	assert_int_equal(rd(f, UART_IIR), 0x04);   /* 'b' moved in */
	assert_int_equal(rd(f, UART_RBR), 'b');
	assert_int_equal(rd(f, UART_IIR), 0x01);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(rd(f, UART_RBR), 0);      /* empty */
	assert_int_equal(f->u.rx_bytes, 2);
	/* Disabling RDI with data waiting drops the line. */
	input(f, "c");
	assert_int_equal(f->irq.level, 1);
	wr(f, UART_IER, 0);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
}

static void thre_interrupt_edges(void **state)
{
	struct fixture *f = *state;
	tl_irq_clear(&f->irq);
	/* Enabling THRI with THR empty raises the interrupt at once. */
	wr(f, UART_IER, UART_IER_THRI);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(f->irq.gsi, 4);
	assert_int_equal(tl_irq_rises(&f->irq), 1);
	/* Reading IIR reports and acknowledges it. */
	assert_int_equal(rd(f, UART_IIR), 0x02);
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(rd(f, UART_IIR), 0x01);
	/* A THR write re-raises it: the recorder sees it go high again. */
	tl_irq_clear(&f->irq);
	wr(f, UART_THR, 'A');
	assert_int_equal(f->nout, 1);
	assert_int_equal(f->out[0], 'A');
	assert_int_equal(tl_irq_rises(&f->irq), 1);
	assert_int_equal(f->irq.level, 1);
	/* Writing again without acknowledging: the line must still make an
	 * edge (low then high), or an edge-triggered PIC/IOAPIC misses it. */
	tl_irq_clear(&f->irq);
	wr(f, UART_THR, 'B');
	assert_int_equal(tl_irq_falls(&f->irq), 1);
	assert_int_equal(tl_irq_rises(&f->irq), 1);
	assert_int_equal(f->irq.calls, 2);
	assert_int_equal(f->irq.history[0], 0);
	assert_int_equal(f->irq.history[1], 1);
	assert_int_equal(f->irq.level, 1);
	/* Re-enabling THRI while it is on does not invent another interrupt. */
	assert_int_equal(rd(f, UART_IIR), 0x02);
	wr(f, UART_IER, UART_IER_THRI);
	assert_int_equal(rd(f, UART_IIR), 0x01);
	/* Disabling it: no interrupt even after a write. */
	wr(f, UART_IER, 0);
	wr(f, UART_THR, 'C');
	assert_int_equal(f->irq.level, 0);
	assert_int_equal(rd(f, UART_IIR), 0x01);
	assert_int_equal(f->nout, 3);
	assert_memory_equal(f->out, "ABC", 3);
	assert_int_equal(f->u.tx_bytes, 3);
}

/* serial8250_do_startup's THRE test: enabling THRI twice must show a THRE
 * interrupt both times, or Linux flags UART_BUG_THRE and polls instead. */
static void linux_thre_startup_test(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_LCR, 0x03);
	wr(f, UART_IER, UART_IER_THRI);
	uint8_t iir1 = rd(f, UART_IIR);
	wr(f, UART_IER, 0);
	wr(f, UART_IER, UART_IER_THRI);
	uint8_t iir = rd(f, UART_IIR);
	wr(f, UART_IER, 0);
	assert_int_equal(iir1 & 0x0f, UART_IIR_THRI);
	assert_int_equal(iir & 0x0f, UART_IIR_THRI);
	assert_true(rd(f, UART_LSR) & UART_LSR_TEMT);
	assert_int_equal(f->irq.level, 0);
}

static void interrupt_priority(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_FCR, 0x01);
	wr(f, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_MSI);
	wr(f, UART_MCR, UART_MCR_LOOP);        /* modem lines change: MSI pending */
	input(f, "r");
	/* Received data first; reading IIR then does not acknowledge THRE. */
	assert_int_equal(rd(f, UART_IIR), 0xc4);
	assert_int_equal(rd(f, UART_IIR), 0xc4);
	rd(f, UART_RBR);
	assert_int_equal(rd(f, UART_IIR), 0xc2);
	assert_int_equal(rd(f, UART_IIR), 0xc0);   /* then modem status */
	assert_int_equal(f->irq.level, 1);
	rd(f, UART_MSR);
	assert_int_equal(rd(f, UART_IIR), 0xc1);
	assert_int_equal(f->irq.level, 0);
}

/* Linux's 8250 probe: loopback with RTS and OUT2 must read back CTS and
 * DCD, i.e. MSR & 0xF0 == 0x90. */
static void loopback_probe(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_MCR, 0x1a);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x90);
	wr(f, UART_MCR, 0x1f);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0xf0);
	wr(f, UART_MCR, 0x10);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x00);
	assert_int_equal(rd(f, UART_MCR), 0x10);
	/* Transmitted bytes come back as received ones instead of leaving. */
	wr(f, UART_THR, 'L');
	wr(f, UART_THR, 'B');
	assert_int_equal(f->nout, 0);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(rd(f, UART_RBR), 'L');
	assert_int_equal(rd(f, UART_RBR), 'B');
	assert_int_equal(rd(f, UART_LSR), 0x60);
	/* Leaving loopback restores the always-ready modem. */
	wr(f, UART_MCR, 0x0b);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0xb0);
	wr(f, UART_THR, 'o');
	assert_int_equal(f->nout, 1);
	/* MCR keeps five bits. */
	wr(f, UART_MCR, 0xff);
	assert_int_equal(rd(f, UART_MCR), 0x1f);
}

static void msr_delta_bits(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_MCR, UART_MCR_LOOP);        /* CTS, DSR and DCD all drop */
	assert_int_equal(rd(f, UART_MSR), 0x0b);   /* DCTS | DDSR | DDCD */
	assert_int_equal(rd(f, UART_MSR), 0x00);   /* reading clears the deltas */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(rd(f, UART_MSR), 0x11);   /* CTS | DCTS */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT1);
	assert_int_equal(rd(f, UART_MSR), 0x50);   /* RI rising: no TERI */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(rd(f, UART_MSR), 0x14);   /* RI falling: TERI */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT2);
	assert_int_equal(rd(f, UART_MSR), 0xba);   /* DSR, DCD rise: DDSR | DDCD */
	/* Deltas accumulate until read. */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT2);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_int_equal(rd(f, UART_MSR), 0x83);   /* DCD; DCTS | DDSR */
	/* With MSI enabled a delta raises the line until MSR is read. */
	wr(f, UART_IER, UART_IER_MSI);
	assert_int_equal(f->irq.level, 0);
	wr(f, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(f->irq.level, 1);
	assert_int_equal(rd(f, UART_IIR), 0x00);
	assert_int_equal(rd(f, UART_MSR), 0x08);
	assert_int_equal(f->irq.level, 0);
}

/* Input beyond the FIFO waits in a 64 KiB backlog and moves into the
 * FIFO as the guest reads RBR: nothing is lost or reordered. */
static void backlog_keeps_64k_beyond_the_fifo(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_FCR, 0x01);
	const size_t total = UART_BACKLOG + UART_FIFO_SIZE;
	uint8_t *data = malloc(total + 1000);
	for (size_t i = 0; i < total + 1000; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	size_t fed = 0, n;
	while ((n = uart_input(&f->u, data + fed, total + 1000 - fed)) > 0)
		fed += n;
	assert_int_equal(fed, total);
	assert_int_equal(uart_input_room(&f->u), 0);
	assert_int_equal(uart_input(&f->u, data, 1), 0);
	assert_int_equal(f->u.rx_count, UART_FIFO_SIZE);
	for (size_t i = 0; i < total; i++) {
		uint8_t c = rd(f, UART_RBR);
		if (c != data[i])
			fail_msg("byte %zu: %#x, want %#x", i, c, data[i]);
		if (i == 0)
			assert_int_equal(uart_input_room(&f->u), 1);   /* refilled from the backlog */
	}
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(uart_input_room(&f->u), UART_BACKLOG);
	assert_int_equal(f->u.rx_bytes, total);
	free(data);
}

static void backlog_survives_reset_and_fifo_clear(void **state)
{
	struct fixture *f = *state;
	wr(f, UART_FCR, 0x01);
	input(f, "0123456789abcdefWXYZ");       /* 16 in the FIFO, 4 waiting */
	wr(f, UART_FCR, 0x03);                  /* clear RX: the FIFO's 16 go */
	assert_int_equal(rd(f, UART_RBR), 'W');
	input(f, "0123456789abcdefQR");       /* X Y Z + 13 fill the FIFO; "defQR" wait */
	uart_reset(&f->u);                      /* FIFO contents go, the backlog stays */
	static const char after[] = "defQR";
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(rd(f, UART_RBR), after[i]);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	/* Turning the FIFO off drops its contents (16550 semantics). */
	wr(f, UART_FCR, 0x01);
	input(f, "12345");
	wr(f, UART_FCR, 0x00);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
}

static void wide_accesses_cover_consecutive_registers(void **state)
{
	struct fixture *f = *state;
	uint8_t w[2] = { 0x03, 0x0b };          /* LCR = 8N1, MCR = DTR RTS OUT2 */
	uart_bus_ops.write(&f->u, UART_LCR, w, 2);
	assert_int_equal(rd(f, UART_LCR), 0x03);
	assert_int_equal(rd(f, UART_MCR), 0x0b);
	uint8_t r[4];
	uart_bus_ops.read(&f->u, UART_LCR, r, 4);
	assert_int_equal(r[0], 0x03);
	assert_int_equal(r[1], 0x0b);
	assert_int_equal(r[2], 0x60);
	assert_int_equal(r[3] & 0xf0, 0xb0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reset_values),
		T(dlab_selects_the_divisor),
		T(scratch_register),
		T(fifo_enable_shows_in_iir),
		T(receive_rdi_and_cti_by_trigger_level),
		T(receive_without_fifo),
		T(thre_interrupt_edges),
		T(linux_thre_startup_test),
		T(interrupt_priority),
		T(loopback_probe),
		T(msr_delta_bits),
		T(backlog_keeps_64k_beyond_the_fifo),
		T(backlog_survives_reset_and_fifo_clear),
		T(wide_accesses_cover_consecutive_registers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
