#include <string.h>

#include "src/log.h"
#include "vmm/layout.h"
#include "vmm/pci.h"

#define PCI_IO_BASE    0xc000
#define PCI_IO_END     0x10000
#define BAR_TYPE_MASK(kind) ((kind) == PCI_BAR_IO ? 0x3u : 0xfu)

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	pci_put16(d->config + PCI_VENDOR_ID, vendor);
	pci_put16(d->config + PCI_DEVICE_ID, device);
	d->config[PCI_REVISION_ID] = revision;
	d->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_put16(d->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	pci_put16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  0x0040 /* parity */ | 0x0100 /* SERR */ | PCI_COMMAND_INTX_DISABLE);
	pci_put16(d->w1cmask + PCI_STATUS, 0xf900);   /* error bits */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->next_cap = 0x40;
}

void pci_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id)
{
	pci_put16(d->config + PCI_SUBSYSTEM_VENDOR_ID, vendor);
	pci_put16(d->config + PCI_SUBSYSTEM_ID, id);
}

void pci_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint64_t size,
		 bool prefetchable, const struct bus_ops *ops, void *opaque)
{
	d->bars[bar] = (struct pci_bar){ .kind = kind, .prefetchable = prefetchable, .size = size,
					 .ops = ops, .opaque = opaque };
}

void pci_set_bar_ram(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint64_t size,
		     bool prefetchable, int (*map)(struct pci_device *d, unsigned bar, uint64_t gpa))
{
	d->bars[bar] = (struct pci_bar){ .kind = kind, .prefetchable = prefetchable, .size = size,
					 .ram_map = map };
}

unsigned pci_add_capability(struct pci_device *d, uint8_t id, unsigned len)
{
	unsigned off = d->next_cap;
	d->config[off] = id;
	d->config[off + 1] = d->config[PCI_CAPABILITY_LIST];
	d->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	pci_put16(d->config + PCI_STATUS, pci_get16(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
	d->next_cap = (uint8_t)((off + len + 3) & ~3u);
	return off;
}

void pci_set_intx_pin(struct pci_device *d, unsigned pin)
{
	d->config[PCI_INTERRUPT_PIN] = (uint8_t)pin;
}

unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_LINKS;
}

/* The low bits of a BAR register say what it is; the guest cannot change them. */
static uint32_t bar_type_bits(const struct pci_bar *b)
{
	switch (b->kind) {
	case PCI_BAR_IO: return 0x1;
	case PCI_BAR_MEM64: return 0x4 | (b->prefetchable ? 0x8 : 0);
	case PCI_BAR_MEM32: return b->prefetchable ? 0x8 : 0;
	default: return 0;
	}
}

static void bar_reg_init(struct pci_device *d, unsigned i)
{
	const struct pci_bar *b = &d->bars[i];
	unsigned off = PCI_BAR0 + 4 * i;
	if (b->kind == PCI_BAR_NONE)
		return;
	pci_put32(d->config + off, bar_type_bits(b));
	pci_put32(d->wmask + off, (uint32_t)~(b->size - 1) & ~BAR_TYPE_MASK(b->kind));
	if (b->kind == PCI_BAR_MEM64) {
		pci_put32(d->config + off + 4, 0);
		pci_put32(d->wmask + off + 4, (uint32_t)(~(b->size - 1) >> 32));
	}
}

static uint64_t bar_address(const struct pci_device *d, unsigned i)
{
	const struct pci_bar *b = &d->bars[i];
	unsigned off = PCI_BAR0 + 4 * i;
	uint64_t addr = pci_get32(d->config + off) & ~(uint64_t)BAR_TYPE_MASK(b->kind);
	if (b->kind == PCI_BAR_MEM64)
		addr |= (uint64_t)pci_get32(d->config + off + 4) << 32;
	return addr;
}

/* Where BAR I should be mapped now, or 0 when it must not be. */
static uint64_t bar_target(const struct pci_device *d, unsigned i)
{
	const struct pci_bar *b = &d->bars[i];
	uint16_t cmd = pci_get16(d->config + PCI_COMMAND);
	if (b->kind == PCI_BAR_NONE)
		return 0;
	if (b->kind == PCI_BAR_IO ? !(cmd & PCI_COMMAND_IO) : !(cmd & PCI_COMMAND_MEMORY))
		return 0;
	uint64_t addr = bar_address(d, i);
	uint64_t limit = b->kind == PCI_BAR_IO ? PCI_IO_END : b->kind == PCI_BAR_MEM32 ? 1ull << 32 : 1ull << 52;
	/* 0 and the all-ones sizing pattern are not addresses.  The limit
	 * check alone misses a memory BAR whose low dword holds the pattern:
	 * it ends exactly at 4 GiB, so it "fits". */
	uint64_t sizing = (uint32_t)~(b->size - 1) & ~(uint64_t)BAR_TYPE_MASK(b->kind);
	if (addr == 0 || addr == sizing || addr + b->size > limit || addr + b->size < addr)
		return 0;
	return addr;
}

static void update_mappings(struct pci_device *d)
{
	struct pci_bus *pb = d->bus;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		uint64_t target = bar_target(d, i);
		if (b->mapped && b->mapped_at == target)
			continue;
		if (!b->mapped && target == 0)
			continue;
		struct bus *bus = b->kind == PCI_BAR_IO ? pb->pio : pb->mmio;
		if (b->mapped && !b->ram_map)
			bus_unregister(bus, b->mapped_at, b->opaque);
		b->mapped = false;
		b->mapped_at = 0;
		if (b->ram_map) {
			if (b->ram_map(d, i, target) == 0 && target) {
				b->mapped = true;
				b->mapped_at = target;
			}
		} else if (target) {
			if (bus_register(bus, target, b->size, b->ops, b->opaque, d->name) == 0) {
				b->mapped = true;
				b->mapped_at = target;
			} else {
				log_debug("pci %s: BAR%u at %#llx overlaps another device; left unmapped", d->name,
					  i, (unsigned long long)target);
			}
		}
		if (d->bar_moved)
			d->bar_moved(d, i);
	}
}

static void intx_propagate(struct pci_device *d, bool old_effective)
{
	uint16_t cmd = pci_get16(d->config + PCI_COMMAND);
	bool effective = d->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE);
	if (effective == old_effective || !d->bus || !d->config[PCI_INTERRUPT_PIN])
		return;
	struct pci_bus *pb = d->bus;
	unsigned link = pci_intx_gsi(d->slot, d->config[PCI_INTERRUPT_PIN]) - PCI_INTX_GSI_BASE;
	unsigned before = pb->intx_count[link];
	pb->intx_count[link] += effective ? 1 : (unsigned)-1;
	if ((before == 0) != (pb->intx_count[link] == 0))
		irq_line_set(&pb->intx[link], pb->intx_count[link] != 0);
}

static bool intx_effective(const struct pci_device *d)
{
	return d->intx_level && !(pci_get16(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

void pci_set_intx(struct pci_device *d, bool level)
{
	struct pci_bus *pb = d->bus;
	pthread_mutex_lock(&pb->lock);
	bool old = intx_effective(d);
	d->intx_level = level;
	uint16_t status = pci_get16(d->config + PCI_STATUS);
	pci_put16(d->config + PCI_STATUS, level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
	intx_propagate(d, old);
	pthread_mutex_unlock(&pb->lock);
}

static struct pci_device *find(struct pci_bus *pb, unsigned bus, unsigned dev, unsigned fn)
{
	if (bus != 0 || fn != 0 || dev >= PCI_MAX_SLOTS)
		return NULL;
	return pb->slots[dev];
}

uint32_t pci_config_read(struct pci_bus *pb, unsigned bus, unsigned dev, unsigned fn,
			 unsigned off, unsigned len)
{
	uint32_t v = 0xffffffff;
	pthread_mutex_lock(&pb->lock);
	struct pci_device *d = find(pb, bus, dev, fn);
	if (d && off + len <= PCI_CONFIG_SIZE) {
		if (d->config_reading)
			d->config_reading(d, off, len);
		v = 0;
		for (unsigned i = 0; i < len; i++)
			v |= (uint32_t)d->config[off + i] << (8 * i);
	}
	pthread_mutex_unlock(&pb->lock);
	return v;
}

static bool touches(unsigned off, unsigned len, unsigned start, unsigned end)
{
	return off < end && off + len > start;
}

void pci_config_write(struct pci_bus *pb, unsigned bus, unsigned dev, unsigned fn,
		      unsigned off, unsigned len, uint32_t value)
{
	pthread_mutex_lock(&pb->lock);
	struct pci_device *d = find(pb, bus, dev, fn);
	if (!d || off + len > PCI_CONFIG_SIZE) {
		pthread_mutex_unlock(&pb->lock);
		return;
	}
	bool old_intx = intx_effective(d);
	for (unsigned i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i)), *c = &d->config[off + i];
		*c = (uint8_t)((*c & ~d->wmask[off + i]) | (b & d->wmask[off + i]));
		*c &= (uint8_t)~(b & d->w1cmask[off + i]);
	}
	if (touches(off, len, PCI_COMMAND, PCI_COMMAND + 2) || touches(off, len, PCI_BAR0, PCI_BAR0 + 24))
		update_mappings(d);
	if (touches(off, len, PCI_COMMAND, PCI_COMMAND + 2))
		intx_propagate(d, old_intx);
	if (d->config_written)
		d->config_written(d, off, len);
	pthread_mutex_unlock(&pb->lock);
}

static void host_bridge_init(struct pci_bus *pb)
{
	/* The generic PCIe host bridge id QEMU's gpex uses; Linux needs no
	 * driver for it. */
	pci_device_init(&pb->host_bridge, "host-bridge", 0x1b36, 0x0008, 0x060000, 0);
	pci_set_subsystem(&pb->host_bridge, 0x1af4, 0x1100);
}

void pci_bus_init(struct pci_bus *pb, struct bus *pio, struct bus *mmio,
		  void (*irq_set)(void *, unsigned, int), void *irq_ctx)
{
	memset(pb, 0, sizeof(*pb));
	/* Recursive: a config access through a device's PCI-config capability
	 * reaches BAR handlers that may raise INTx, which takes this lock. */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&pb->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pb->pio = pio;
	pb->mmio = mmio;
	for (unsigned i = 0; i < PCI_INTX_LINKS; i++)
		pb->intx[i] = (struct irq_line){ .set = irq_set, .ctx = irq_ctx, .gsi = PCI_INTX_GSI_BASE + i };
	host_bridge_init(pb);
	pci_bus_add(pb, &pb->host_bridge);
}

void pci_bus_destroy(struct pci_bus *pb)
{
	pthread_mutex_destroy(&pb->lock);
}

int pci_bus_add(struct pci_bus *pb, struct pci_device *d)
{
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		if (pb->slots[s])
			continue;
		pb->slots[s] = d;
		d->bus = pb;
		d->slot = s;
		return (int)s;
	}
	return -1;
}

/* What firmware does before the OS runs: every BAR gets an address in the
 * PCI windows and decoding is switched on. */
static void assign_bars(struct pci_bus *pb, struct pci_device *d)
{
	uint16_t cmd = 0;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		uint64_t *next = b->kind == PCI_BAR_IO ? &pb->io_next : &pb->mmio_next;
		uint64_t end = b->kind == PCI_BAR_IO ? PCI_IO_END : LAYOUT_PCI_MMIO32_END;
		uint64_t at = (*next + b->size - 1) & ~(b->size - 1);
		if (at + b->size > end) {
			log_warn("pci %s: no room for BAR%u (%llu bytes) in the PCI window", d->name, i,
				 (unsigned long long)b->size);
			continue;
		}
		*next = at + b->size;
		unsigned off = PCI_BAR0 + 4 * i;
		pci_put32(d->config + off, (uint32_t)at | bar_type_bits(b));
		if (b->kind == PCI_BAR_MEM64)
			pci_put32(d->config + off + 4, (uint32_t)(at >> 32));
		cmd |= b->kind == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	pci_put16(d->config + PCI_COMMAND, cmd);
}

void pci_bus_reset(struct pci_bus *pb)
{
	pthread_mutex_lock(&pb->lock);
	pb->mmio_next = LAYOUT_PCI_MMIO32;
	pb->io_next = PCI_IO_BASE;
	pb->config_address = 0;
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_device *d = pb->slots[s];
		if (!d)
			continue;
		bool old_intx = intx_effective(d);
		pci_put16(d->config + PCI_COMMAND, 0);
		update_mappings(d);                 /* unmaps everything */
		for (unsigned i = 0; i < PCI_NUM_BARS; i++)
			bar_reg_init(d, i);
		d->config[PCI_INTERRUPT_LINE] = d->config[PCI_INTERRUPT_PIN] ?
			(uint8_t)pci_intx_gsi(d->slot, d->config[PCI_INTERRUPT_PIN]) : 0xff;
		d->intx_level = false;
		intx_propagate(d, old_intx);
		assign_bars(pb, d);
		update_mappings(d);
	}
	pthread_mutex_unlock(&pb->lock);
}

/* ---- configuration mechanism #1 and ECAM ---------------------------------- */

static void conf_addr_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pci_bus *pb = opaque;
	bus_put_le(data, len, len == 4 ? pb->config_address : 0xffffffff);
}

static void conf_addr_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct pci_bus *pb = opaque;
	if (len == 4)
		pb->config_address = (uint32_t)bus_get_le(data, 4) & 0x80fffffc;
}

static void conf_data_access(struct pci_bus *pb, uint64_t offset, void *data, unsigned len, bool write)
{
	uint32_t a = pb->config_address;
	if (!(a & 0x80000000u) || offset + len > 4) {
		if (!write)
			bus_put_le(data, len, 0xffffffff);
		return;
	}
	unsigned bus = (a >> 16) & 0xff, dev = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
	unsigned reg = (a & 0xfc) + (unsigned)offset;
	if (write)
		pci_config_write(pb, bus, dev, fn, reg, len, (uint32_t)bus_get_le(data, len));
	else
		bus_put_le(data, len, pci_config_read(pb, bus, dev, fn, reg, len));
}

static void conf_data_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	conf_data_access(opaque, offset, data, len, false);
}

static void conf_data_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	conf_data_access(opaque, offset, (void *)data, len, true);
}

const struct bus_ops pci_conf_addr_ops = { .read = conf_addr_read, .write = conf_addr_write };
const struct bus_ops pci_conf_data_ops = { .read = conf_data_read, .write = conf_data_write };

static void ecam_access(struct pci_bus *pb, uint64_t offset, void *data, unsigned len, bool write)
{
	unsigned bus = (unsigned)(offset >> 20), dev = (offset >> 15) & 0x1f, fn = (offset >> 12) & 7;
	unsigned reg = offset & 0xfff;
	if (len > 4 || (reg & (len - 1))) {
		if (!write)
			bus_put_le(data, len, ~0ull);
		return;   /* unaligned or 64-bit config accesses are not defined */
	}
	if (write)
		pci_config_write(pb, bus, dev, fn, reg, len, (uint32_t)bus_get_le(data, len));
	else
		bus_put_le(data, len, pci_config_read(pb, bus, dev, fn, reg, len));
}

static void ecam_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	ecam_access(opaque, offset, data, len, false);
}

static void ecam_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	ecam_access(opaque, offset, (void *)data, len, true);
}

const struct bus_ops pci_ecam_ops = { .read = ecam_read, .write = ecam_write };
