/* PCI devices and the host bridge's bus 0.
 *
 * A device is a 4 KiB configuration space with write masks, up to six BARs
 * that the guest can size and move, a capability list and an INTx pin.
 * The bus maps enabled BARs onto the VM's I/O and MMIO buses and routes
 * INTx to IOAPIC pins 16-23 through ACPI link devices. */
#ifndef VMDECK_PCI_H
#define VMDECK_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define PCI_CONFIG_SIZE  4096
#define PCI_MAX_SLOTS    32
#define PCI_NUM_BARS     6
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_LINKS   8

/* Standard header offsets */
enum {
	PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
	PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CLASS_DEVICE = 0x0a,
	PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10, PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
	PCI_SUBSYSTEM_ID = 0x2e, PCI_CAPABILITY_LIST = 0x34, PCI_INTERRUPT_LINE = 0x3c,
	PCI_INTERRUPT_PIN = 0x3d,
};
#define PCI_COMMAND_IO       0x0001
#define PCI_COMMAND_MEMORY   0x0002
#define PCI_COMMAND_MASTER   0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST  0x0010
#define PCI_CAP_ID_VNDR      0x09
#define PCI_CAP_ID_MSIX      0x11

struct pci_device;

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size;             /* power of two */
	const struct bus_ops *ops; /* accesses at offsets within the BAR */
	void *opaque;
	uint64_t mapped_at;        /* where it is on the bus now; 0 = unmapped */
	bool mapped;
	/* RAM-backed BAR (a framebuffer): instead of dispatching accesses the
	 * bus calls this to place the memory at GPA (0: remove it), so that
	 * the guest reaches it without exits.  Returns -1 if it could not. */
	int (*ram_map)(struct pci_device *d, unsigned bar, uint64_t gpa);
};

struct pci_bus;

struct pci_device {
	const char *name;
	struct pci_bus *bus;
	unsigned slot;
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];     /* bits the guest may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE];   /* bits the guest clears by writing 1 */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t next_cap;                   /* where the next capability goes */
	bool intx_level;                    /* the device asserts INTx */
	/* Optional hooks, called with the bus lock held: after a config write
	 * the device must see (capabilities with side effects), and after a
	 * BAR moved (so that ioeventfds can follow it). */
	void (*config_written)(struct pci_device *d, unsigned off, unsigned len);
	/* Before a config read, for registers whose value is computed. */
	void (*config_reading)(struct pci_device *d, unsigned off, unsigned len);
	void (*bar_moved)(struct pci_device *d, unsigned bar);
	void *owner;
};

struct pci_bus {
	pthread_mutex_t lock;               /* config space and BAR mapping */
	struct bus *pio, *mmio;
	struct pci_device *slots[PCI_MAX_SLOTS];
	struct pci_device host_bridge;
	uint32_t config_address;            /* the 0xCF8 latch */
	uint64_t mmio_next, io_next;        /* firmware-style BAR allocation */
	struct irq_line intx[PCI_INTX_LINKS];
	unsigned intx_count[PCI_INTX_LINKS];   /* devices asserting each link */
};

void pci_bus_init(struct pci_bus *pb, struct bus *pio, struct bus *mmio,
		  void (*irq_set)(void *, unsigned, int), void *irq_ctx);
void pci_bus_destroy(struct pci_bus *pb);
/* Resets every device's config space to its power-on state and maps the
 * BARs where firmware would put them. */
void pci_bus_reset(struct pci_bus *pb);

/* Device construction (before pci_bus_add). */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);
void pci_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id);
void pci_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint64_t size,
		 bool prefetchable, const struct bus_ops *ops, void *opaque);
/* A memory BAR backed by host memory that MAP places (see pci_bar.ram_map). */
void pci_set_bar_ram(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint64_t size,
		     bool prefetchable, int (*map)(struct pci_device *d, unsigned bar, uint64_t gpa));
/* Appends a capability of LEN bytes (header included) and returns its
 * offset; the caller fills the body and its write mask. */
unsigned pci_add_capability(struct pci_device *d, uint8_t id, unsigned len);
void pci_set_intx_pin(struct pci_device *d, unsigned pin /* 1 = INTA */);
/* Places D on the bus; returns the slot, or -1 if the bus is full. */
int pci_bus_add(struct pci_bus *pb, struct pci_device *d);

/* INTx from the device (level); shared links are OR-ed. */
void pci_set_intx(struct pci_device *d, bool level);
/* The IOAPIC pin (GSI) device slot SLOT's pin PIN (1..4) reaches. */
unsigned pci_intx_gsi(unsigned slot, unsigned pin);

/* Config access, as 0xCF8/0xCFC and ECAM deliver it. */
uint32_t pci_config_read(struct pci_bus *pb, unsigned bus, unsigned dev, unsigned fn,
			 unsigned off, unsigned len);
void pci_config_write(struct pci_bus *pb, unsigned bus, unsigned dev, unsigned fn,
		      unsigned off, unsigned len, uint32_t value);

/* Little-endian config-space field helpers. */
static inline void pci_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pci_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t pci_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pci_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

extern const struct bus_ops pci_conf_addr_ops;  /* 0xCF8, 4 bytes */
extern const struct bus_ops pci_conf_data_ops;  /* 0xCFC, 4 bytes */
extern const struct bus_ops pci_ecam_ops;       /* LAYOUT_PCI_ECAM */

struct aml;
/* Writes \_SB.PCI0 (with _CRS and _PRT) and the INTx link devices. */
void pci_bus_aml(struct aml *a, void *pci_bus);

#endif
