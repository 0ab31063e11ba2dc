/* 16550A UART (COM1): FIFOs, interrupt identification, loopback, scratch.
 *
 * Transmission is instantaneous (THR is always empty again after a write);
 * host input waits in a backlog until the 16-byte receive FIFO has room,
 * so a paste into the console is never overrun. */
#ifndef VMDECK_DEV_UART_H
#define VMDECK_DEV_UART_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define UART_FIFO_SIZE 16
#define UART_BACKLOG   65536

struct uart_backend {
	void (*write)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

struct uart {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct uart_backend out;

	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t msr_delta;          /* change bits since the last MSR read */
	int thr_ipending;
	int irq_level;

	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t backlog[UART_BACKLOG];
	unsigned bl_head, bl_count;

	uint64_t tx_bytes, rx_bytes;
};

void uart_init(struct uart *u, struct irq_line irq, struct uart_backend out);
void uart_destroy(struct uart *u);
/* Power-on state; keeps the backlog (keys typed during a reboot survive). */
void uart_reset(struct uart *u);
/* Queues host input; returns how many bytes fit in the backlog. */
size_t uart_input(struct uart *u, const uint8_t *buf, size_t len);
/* Free room in the backlog. */
size_t uart_input_room(struct uart *u);

extern const struct bus_ops uart_bus_ops;

/* Register offsets */
enum {
	UART_RBR = 0, UART_THR = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1, UART_IIR = 2,
	UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_LCR_DLAB 0x80
#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI  0x08
#define UART_IIR_NONE 0x01
#define UART_IIR_MSI  0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI  0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI  0x0c
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

#endif
