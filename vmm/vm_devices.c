/* The machine's fixed devices and where they sit. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "src/log.h"
#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

static void kvm_irq_set(void *ctx, unsigned gsi, int level)
{
	struct vm *vm = ctx;
	int fd = __atomic_load_n(&vm->fd, __ATOMIC_ACQUIRE);
	if (fd < 0)
		return;   /* between boots: the new irqchip starts with every line low */
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	if (ioctl(fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

static struct irq_line isa_irq(struct vm *vm, unsigned irq)
{
	return (struct irq_line){ .set = kvm_irq_set, .ctx = vm, .gsi = irq };
}

static void guest_reset(void *opaque)
{
	vm_request(opaque, VM_REQ_RESET);
}

static void guest_poweroff(void *opaque)
{
	vm_request(opaque, VM_REQ_POWEROFF);
}

static void guest_panic(void *opaque, unsigned bits)
{
	vm_note_event(opaque, ((bits & PVPANIC_PANICKED) ? VM_EVENT_PANIC : 0) |
			      ((bits & PVPANIC_CRASH_LOADED) ? VM_EVENT_CRASH_LOADED : 0));
}

static void must_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
			  void *opaque, const char *name)
{
	/* The fixed layout cannot clash; a clash is a bug in this file. */
	if (bus_register(bus, base, len, ops, opaque, name) < 0)
		log_error("internal: %s at %#llx overlaps another device", name, (unsigned long long)base);
}

void vm_devices_init(struct vm *vm, struct uart_backend serial)
{
	bus_init(&vm->pio);
	bus_init(&vm->mmio);
	uart_init(&vm->com1, isa_irq(vm, IRQ_COM1), serial);
	rtc_init(&vm->rtc, vm->low.size, vm->high.size, vm->cfg.cpus);
	i8042_init(&vm->i8042, isa_irq(vm, IRQ_KEYBOARD), isa_irq(vm, IRQ_MOUSE), guest_reset, vm);
	pm_init(&vm->pm, isa_irq(vm, IRQ_SCI),
		(struct pm_events){ .poweroff = guest_poweroff, .reset = guest_reset, .opaque = vm });

	must_register(&vm->pio, PORT_COM1, 8, &uart_bus_ops, &vm->com1, "com1");
	must_register(&vm->pio, PORT_RTC, 2, &rtc_bus_ops, &vm->rtc, "rtc");
	must_register(&vm->pio, PORT_I8042_DATA, 5, &i8042_bus_ops, &vm->i8042, "i8042");
	must_register(&vm->pio, PORT_ACPI_PM, ACPI_PM_LEN, &pm_bus_ops, &vm->pm, "acpi-pm");
	must_register(&vm->pio, PORT_RESET_CTL, 1, &reset_ctl_ops, &vm->pm, "reset-control");
	must_register(&vm->pio, PORT_POST, 1, &sink_bus_ops, &vm->post, "post-code");
	must_register(&vm->pio, PORT_IODELAY, 1, &sink_bus_ops, &vm->iodelay, "io-delay");
	pvpanic_init(&vm->pvpanic, guest_panic, vm);
	must_register(&vm->pio, PORT_PVPANIC, 1, &pvpanic_bus_ops, &vm->pvpanic, "pvpanic");

	irq_router_init(&vm->router);
	pci_bus_init(&vm->pci, &vm->pio, &vm->mmio, kvm_irq_set, vm);
	/* 0xCF9 (reset control) sits inside the 0xCF8 dword: the address latch
	 * takes accesses that start at 0xCF8 only. */
	must_register(&vm->pio, PORT_PCI_CONF_ADDR, 1, &pci_conf_addr_ops, &vm->pci, "pci-address");
	must_register(&vm->pio, PORT_PCI_CONF_DATA, 4, &pci_conf_data_ops, &vm->pci, "pci-data");
	must_register(&vm->mmio, LAYOUT_PCI_ECAM, LAYOUT_PCI_ECAM_SIZE, &pci_ecam_ops, &vm->pci, "pci-ecam");
	pci_bus_reset(&vm->pci);
}

int vm_add_device(struct vm *vm, const char *kind, void *dev, struct virtio_pci *vp,
		  void (*destroy)(void *dev), struct error *err)
{
	if (vm->nr_devices >= VM_MAX_DEVICES || (vp && pci_bus_add(&vm->pci, &vp->pci) < 0)) {
		if (destroy)
			destroy(dev);
		return error_set(err, "too many devices: vmdeck takes at most %d", VM_MAX_DEVICES);
	}
	vm->devices[vm->nr_devices++] = (struct vm_device){ .kind = kind, .dev = dev, .vp = vp, .destroy = destroy };
	if (vp)
		pci_bus_reset(&vm->pci);
	return 0;
}

void vm_set_device_counters(struct vm *vm, void *dev, dev_counters_fn counters)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].dev == dev)
			vm->devices[i].counters = counters;
}

void vm_set_device_info(struct vm *vm, void *dev, dev_info_fn info)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].dev == dev)
			vm->devices[i].info = info;
}

unsigned vm_device_index(const struct vm *vm, unsigned d)
{
	unsigned index = 0;
	for (unsigned k = 0; k < d; k++)
		index += !strcmp(vm->devices[k].kind, vm->devices[d].kind);
	return index;
}

struct vm_device *vm_find_device(struct vm *vm, const char *kind)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (!strcmp(vm->devices[i].kind, kind))
			return &vm->devices[i];
	return NULL;
}

int vm_devices_attach_kvm(struct vm *vm, int fd, struct error *err)
{
	if (irq_router_attach(&vm->router, fd) < 0 && fd >= 0)
		return error_set(err, "KVM refused the interrupt routing table");
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].vp && virtio_pci_attach_kvm(vm->devices[i].vp, fd, err) < 0)
			return -1;
	return 0;
}

void vm_devices_reset(struct vm *vm)
{
	pthread_mutex_lock(&vm->com1.lock);
	uart_reset(&vm->com1);
	pthread_mutex_unlock(&vm->com1.lock);
	pthread_mutex_lock(&vm->i8042.lock);
	i8042_reset(&vm->i8042);
	pthread_mutex_unlock(&vm->i8042.lock);
	pm_reset(&vm->pm);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		if (vm->devices[i].vp)
			virtio_pci_reset(vm->devices[i].vp);
		if (vm->devices[i].reset)
			vm->devices[i].reset(vm->devices[i].dev);
	}
	pci_bus_reset(&vm->pci);
}

void vm_devices_destroy(struct vm *vm)
{
	for (unsigned i = vm->nr_devices; i-- > 0;)
		if (vm->devices[i].destroy)
			vm->devices[i].destroy(vm->devices[i].dev);
	vm->nr_devices = 0;
	uart_destroy(&vm->com1);
	rtc_destroy(&vm->rtc);
	i8042_destroy(&vm->i8042);
	pm_destroy(&vm->pm);
	pci_bus_destroy(&vm->pci);
	irq_router_destroy(&vm->router);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
}

/* Devices in \_SB beyond the fixed ones: the PCI root bridge and pvpanic. */
static void sb_devices_aml(struct aml *a, void *opaque)
{
	struct vm *vm = opaque;
	pci_bus_aml(a, &vm->pci);
	pvpanic_aml(a);
}

int vm_write_acpi(struct vm *vm, uint64_t *rsdp, struct error *err)
{
	struct acpi_config cfg = {
		.nr_cpus = vm->cfg.cpus,
		.ioapic_id = 0,   /* what the in-kernel IOAPIC reports, as on QEMU */
		.sb_extra = sb_devices_aml,
		.sb_extra_opaque = vm,
		.ecam_base = LAYOUT_PCI_ECAM,
		.ecam_buses = LAYOUT_PCI_ECAM_BUSES,
		.vga = vm->vga != NULL,
	};
	uint8_t *area = gm_ptr(&vm->mem, LAYOUT_BIOS_AREA, LAYOUT_BIOS_AREA_SIZE);
	if (!area || !acpi_build(&cfg, area, LAYOUT_BIOS_AREA_SIZE, LAYOUT_BIOS_AREA, rsdp))
		return error_set(err, "the ACPI tables do not fit in the BIOS area");
	return 0;
}
