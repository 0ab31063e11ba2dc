/* ACPI fixed hardware in the style of a PC chipset: PM1 event and control
 * registers (sleep to S5 = power off), the 3.58 MHz PM timer, GPE0 (the
 * power button is GPE0 bit 0, see the DSDT) and the reset control
 * register at port 0xCF9 that the FADT names as RESET_REG. */
#ifndef VMDECK_DEV_PM_H
#define VMDECK_DEV_PM_H

#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

struct pm_events {
	void (*poweroff)(void *opaque);   /* the guest entered S5 */
	void (*reset)(void *opaque);      /* the guest wrote the reset register */
	void *opaque;
};

struct pm {
	pthread_mutex_t lock;
	struct irq_line sci;
	struct pm_events ev;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint16_t gpe_sts, gpe_en;
	int sci_level;
	uint64_t (*clock_ns)(void);        /* monotonic clock; replaceable by tests */
};

void pm_init(struct pm *pm, struct irq_line sci, struct pm_events ev);
void pm_destroy(struct pm *pm);
void pm_reset(struct pm *pm);
/* Presses the power button: the guest's ACPI sees a notify on \_SB.PWRB. */
void pm_power_button(struct pm *pm);

extern const struct bus_ops pm_bus_ops;      /* at PORT_ACPI_PM, ACPI_PM_LEN bytes */
extern const struct bus_ops reset_ctl_ops;   /* at PORT_RESET_CTL, 1 byte */

#define PM1_TMR_STS     0x0001
#define PM1_PWRBTN_STS  0x0100
#define PM1_WAK_STS     0x8000
#define PM1_CNT_SCI_EN  0x0001
#define PM1_CNT_SLP_EN  0x2000
#define PM_TIMER_HZ     3579545ull

#endif
