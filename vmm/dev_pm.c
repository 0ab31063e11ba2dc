#include <string.h>
#include <time.h>

#include "vmm/acpi.h"
#include "vmm/dev_pm.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void update_sci(struct pm *pm)
{
	int level = ((pm->pm1_sts & pm->pm1_en) || (pm->gpe_sts & pm->gpe_en)) &&
		    (pm->pm1_cnt & PM1_CNT_SCI_EN);
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->sci, level);
	}
}

void pm_reset(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = pm->pm1_en = pm->gpe_sts = pm->gpe_en = 0;
	/* No SMM to hand over from: the machine starts in ACPI mode. */
	pm->pm1_cnt = PM1_CNT_SCI_EN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void pm_init(struct pm *pm, struct irq_line sci, struct pm_events ev)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = sci;
	pm->ev = ev;
	pm->clock_ns = monotonic_ns;
	pm_reset(pm);
}

void pm_destroy(struct pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

void pm_power_button(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->gpe_sts |= 1u << ACPI_GPE_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint32_t timer_value(struct pm *pm)
{
	uint64_t ns = pm->clock_ns();
	/* ticks = ns * 3579545 / 1e9, split to stay within 64 bits. */
	uint64_t ticks = (ns / 1000000000ull) * PM_TIMER_HZ +
			 (ns % 1000000000ull) * PM_TIMER_HZ / 1000000000ull;
	return (uint32_t)(ticks & 0xffffff);
}

/* Registers are addressed bytewise so that any access width works; TMR is
 * the PM timer as sampled once for the whole access. */
static uint8_t read_byte(struct pm *pm, unsigned off, uint32_t tmr)
{
	uint16_t v;
	switch (off & ~1u) {
	case ACPI_PM1_EVT_OFF: v = pm->pm1_sts; break;
	case ACPI_PM1_EVT_OFF + 2: v = pm->pm1_en; break;
	case ACPI_PM1_CNT_OFF: v = pm->pm1_cnt & (uint16_t)~PM1_CNT_SLP_EN; break;
	case ACPI_PM_TMR_OFF: v = (uint16_t)tmr; break;
	case ACPI_PM_TMR_OFF + 2: v = (uint16_t)(tmr >> 16); break;
	case ACPI_GPE0_OFF: v = pm->gpe_sts; break;
	case ACPI_GPE0_OFF + 2: v = pm->gpe_en; break;
	default: v = 0xffff;
	}
	return (uint8_t)(v >> (8 * (off & 1)));
}

/* Status bits are cleared by writing ones. */
static void write_reg(struct pm *pm, unsigned off, uint16_t v, uint16_t mask)
{
	switch (off) {
	case ACPI_PM1_EVT_OFF:
		pm->pm1_sts &= (uint16_t)~(v & mask);
		break;
	case ACPI_PM1_EVT_OFF + 2:
		pm->pm1_en = (uint16_t)((pm->pm1_en & ~mask) | (v & mask));
		break;
	case ACPI_PM1_CNT_OFF:
		pm->pm1_cnt = (uint16_t)(((pm->pm1_cnt & ~mask) | (v & mask)) | PM1_CNT_SCI_EN);
		break;
	case ACPI_GPE0_OFF:
		pm->gpe_sts &= (uint16_t)~(v & mask);
		break;
	case ACPI_GPE0_OFF + 2:
		pm->gpe_en = (uint16_t)((pm->gpe_en & ~mask) | (v & mask));
		break;
	}
}

static void pm_bus_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pm *pm = opaque;
	uint8_t *out = data;
	pthread_mutex_lock(&pm->lock);
	/* One clock sample per access: reading the clock again for each byte
	 * tears a 32-bit read when a carry crosses a byte boundary between
	 * the samples, and the timer then jumps ahead and back. */
	bool timer = offset < ACPI_PM_TMR_OFF + 4 && offset + len > ACPI_PM_TMR_OFF;
	uint32_t tmr = timer ? timer_value(pm) : 0;
	for (unsigned i = 0; i < len; i++)
		out[i] = read_byte(pm, (unsigned)offset + i, tmr);
	pthread_mutex_unlock(&pm->lock);
}

static void pm_bus_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pm *pm = opaque;
	const uint8_t *in = data;
	bool sleep = false;
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned off = (unsigned)offset + i;
		unsigned shift = 8 * (off & 1);
		write_reg(pm, off & ~1u, (uint16_t)(in[i] << shift), (uint16_t)(0xff << shift));
		if ((off & ~1u) == ACPI_PM1_CNT_OFF && (off & 1) && (in[i] & (PM1_CNT_SLP_EN >> 8)))
			sleep = ((pm->pm1_cnt >> 10) & 7) == ACPI_S5_SLP_TYP;
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (sleep && pm->ev.poweroff)
		pm->ev.poweroff(pm->ev.opaque);
}

const struct bus_ops pm_bus_ops = { .read = pm_bus_read, .write = pm_bus_write };

static void reset_ctl_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void reset_ctl_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pm *pm = opaque;
	/* Bit 2 (RST_CPU) starts the reset; 0x06 is what the FADT asks for. */
	if (len == 1 && (*(const uint8_t *)data & 0x04) && pm->ev.reset)
		pm->ev.reset(pm->ev.opaque);
}

const struct bus_ops reset_ctl_ops = { .read = reset_ctl_read, .write = reset_ctl_write };
