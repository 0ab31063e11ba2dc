#include <string.h>

#include "vmm/dev_uart.h"

static unsigned fifo_depth(const struct uart *u)
{
	return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };
	return (u->fcr & UART_FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

/* Moves backlog bytes into the receive FIFO while it has room. */
static void refill_fifo(struct uart *u)
{
	while (u->bl_count && u->rx_count < fifo_depth(u)) {
		u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = u->backlog[u->bl_head];
		u->rx_count++;
		u->bl_head = (u->bl_head + 1) % UART_BACKLOG;
		u->bl_count--;
	}
}

static void push_rx(struct uart *u, uint8_t c)
{
	if (u->bl_count < UART_BACKLOG) {
		u->backlog[(u->bl_head + u->bl_count) % UART_BACKLOG] = c;
		u->bl_count++;
	}
	refill_fifo(u);
}

/* Modem status: looped back from MCR in loopback mode, else a modem that
 * is always ready (DCD, DSR, CTS). */
static uint8_t modem_lines(const struct uart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	uint8_t m = 0;
	if (u->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

static void update_msr(struct uart *u)
{
	uint8_t lines = modem_lines(u), old = u->msr & 0xf0;
	uint8_t changed = lines ^ old;
	uint8_t delta = 0;
	if (changed & UART_MSR_CTS)
		delta |= 0x01;
	if (changed & UART_MSR_DSR)
		delta |= 0x02;
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		delta |= 0x04;              /* trailing edge of ring indicator */
	if (changed & UART_MSR_DCD)
		delta |= 0x08;
	u->msr_delta |= delta;
	u->msr = lines | u->msr_delta;
}

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t pending_iir(const struct uart *u)
{
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return u->rx_count >= rx_trigger(u) ? UART_IIR_RDI : UART_IIR_CTI;
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NONE;
}

static void update_irq(struct uart *u)
{
	int level = pending_iir(u) != UART_IIR_NONE;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

void uart_reset(struct uart *u)
{
	u->ier = u->fcr = u->lcr = u->mcr = u->scr = u->dlm = 0;
	u->dll = 12;                 /* 9600 baud */
	u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->msr = modem_lines(u);
	u->msr_delta = 0;
	u->thr_ipending = 0;
	u->rx_head = u->rx_count = 0;
	refill_fifo(u);
	if (u->irq_level) {
		u->irq_level = 0;
		irq_line_set(&u->irq, 0);
	}
}

void uart_init(struct uart *u, struct irq_line irq, struct uart_backend out)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->irq = irq;
	u->out = out;
	uart_reset(u);
}

void uart_destroy(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

size_t uart_input(struct uart *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t room = UART_BACKLOG - u->bl_count;
	size_t n = len < room ? len : room;
	for (size_t i = 0; i < n; i++)
		push_rx(u, buf[i]);
	u->rx_bytes += n;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_input_room(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	size_t room = UART_BACKLOG - u->bl_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

static uint8_t read_rbr(struct uart *u)
{
	if (!u->rx_count)
		return 0;
	uint8_t c = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	refill_fifo(u);
	return c;
}

static uint8_t reg_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RBR:
		return dlab ? u->dll : read_rbr(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR: {
		uint8_t iir = pending_iir(u);
		if (iir == UART_IIR_THRI)
			u->thr_ipending = 0;   /* reading IIR acknowledges THRE */
		return iir | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	}
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return u->lsr | (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR: {
		uint8_t v = u->msr;
		u->msr_delta = 0;
		u->msr &= 0xf0;
		return v;
	}
	default:
		return u->scr;
	}
}

static void write_thr(struct uart *u, uint8_t c)
{
	/* The byte leaves at once, so THRE drops and rises again: an edge the
	 * guest's transmit interrupt handler waits for. */
	u->thr_ipending = 0;
	update_irq(u);
	if (u->mcr & UART_MCR_LOOP) {
		push_rx(u, c);
	} else {
		if (u->out.write)
			u->out.write(u->out.opaque, &c, 1);
		u->tx_bytes++;
	}
	u->thr_ipending = 1;
}

static void write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & UART_FCR_ENABLE)
		v |= UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX;
	if (v & UART_FCR_CLEAR_RX) {
		u->rx_head = u->rx_count = 0;
		refill_fifo(u);
	}
	u->fcr = v & 0xc9;   /* enable, DMA mode, trigger level */
	refill_fifo(u);
}

static void reg_write(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = v;
		else
			write_thr(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			bool thri_on = (v & UART_IER_THRI) && !(u->ier & UART_IER_THRI);
			u->ier = v & 0x0f;
			if (thri_on)
				u->thr_ipending = 1;   /* THR is empty */
		}
		break;
	case UART_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		update_msr(u);
		break;
	case UART_LSR:
	case UART_MSR:
		break;   /* read-only */
	default:
		u->scr = v;
	}
}

static void uart_bus_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	uint8_t *out = data;
	for (unsigned i = 0; i < len; i++)
		out[i] = offset + i < 8 ? reg_read(u, (unsigned)(offset + i)) : 0xff;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_bus_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct uart *u = opaque;
	pthread_mutex_lock(&u->lock);
	const uint8_t *in = data;
	for (unsigned i = 0; i < len; i++)
		if (offset + i < 8)
			reg_write(u, (unsigned)(offset + i), in[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

const struct bus_ops uart_bus_ops = { .read = uart_bus_read, .write = uart_bus_write };
