/* A virtual machine: guest RAM, vCPUs, devices and its lifecycle.
 *
 * The struct outlives KVM: a guest reset tears down the KVM VM and builds a
 * fresh one around the same RAM mappings and device structs, so that every
 * piece of in-kernel state (LAPICs, IOAPIC, PIT, kvmclock) starts clean. */
#ifndef VMDECK_VM_H
#define VMDECK_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/boot.h"
#include "vmm/bus.h"
#include "vmm/dev_i8042.h"
#include "vmm/dev_pm.h"
#include "vmm/dev_rtc.h"
#include "vmm/dev_sink.h"
#include "vmm/dev_uart.h"
#include "vmm/guest_mem.h"
#include "vmm/irq_router.h"
#include "vmm/kvm.h"
#include "vmm/pci.h"

#define VM_MAX_DEVICES 16
#define VM_MAX_DISKS   8

struct virtio_pci;

/* A device the VM owns beyond the fixed PC ones: created from the
 * configuration, destroyed after the vCPUs stopped. */
struct vm_device {
	const char *kind;             /* "disk", "net", ... */
	void *dev;
	struct virtio_pci *vp;        /* NULL when it is not a virtio device */
	void (*destroy)(void *dev);
};

#define VM_MIN_MEM (8ull << 20)
#define VM_MAX_CPUS 255          /* xAPIC ids 0..254; 255 is the broadcast id */

struct vm_config {
	const char *name;
	const char *kernel;
	const char *initrd;      /* NULL: none */
	const char *cmdline;     /* NULL: the default */
	uint64_t mem;
	unsigned cpus;
	bool no_reboot;
	const char *kvm_path;    /* NULL: /dev/kvm */
	const char *disks[VM_MAX_DISKS];   /* --disk specifications */
	unsigned nr_disks;
	const char *net;         /* --net specification; NULL: no network card */
};

/* Ranked: a stronger request replaces a weaker pending one. */
enum vm_request {
	VM_REQ_NONE,
	VM_REQ_RESET,        /* the guest asked for a reset */
	VM_REQ_QUIT,         /* the user asked to stop the VMM */
	VM_REQ_POWEROFF,     /* the guest powered off */
	VM_REQ_CRASH,        /* the guest or KVM failed; crash_msg says why */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t exits, exits_io, exits_mmio;
};

struct ram_mapping {
	uint8_t *hva;
	uint64_t size;
};

struct vm {
	bool created, devices_ready;
	struct vm_config cfg;
	struct kvm kvm;
	int fd;                           /* the KVM VM of the current boot */
	struct ram_mapping low, high;     /* one anonymous mapping per RAM region */
	struct guest_mem mem;
	struct bus pio, mmio;
	struct vcpu *vcpus;

	struct uart com1;
	struct rtc rtc;
	struct i8042 i8042;
	struct pm pm;
	struct sink post, iodelay;
	struct irq_router router;
	struct pci_bus pci;
	struct vm_device devices[VM_MAX_DEVICES];
	unsigned nr_devices;

	uint8_t *kernel, *initrd;         /* file contents until they are loaded */
	size_t kernel_size, initrd_size;
	struct boot_entry entry;
	unsigned boots;

	/* Lifecycle: requests come from any thread; the main loop acts. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int request;                      /* enum vm_request, the strongest so far */
	bool stop;                        /* vCPU threads must return */
	bool paused;
	unsigned running;                 /* vCPU threads still in their loop */
	unsigned parked;                  /* vCPUs waiting while paused */
	int wake_fd;                      /* eventfd: the main loop has work */
	char crash_msg[512];
};

/* Validates CFG, opens KVM, reads the kernel and initrd, maps RAM, creates
 * the devices and loads the kernel.  Errors are the user's input: exit 2. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct uart_backend serial,
	      struct error *err);
void vm_destroy(struct vm *vm);
/* Writes the ACPI tables and the kernel into RAM (again after a reset). */
int vm_load(struct vm *vm, struct error *err);
/* Builds the KVM VM for one boot around the loaded RAM.  Errors here are
 * runtime failures. */
int vm_boot(struct vm *vm, struct error *err);
int vm_start_vcpus(struct vm *vm, struct error *err);
/* Stops and joins the vCPU threads, then closes the KVM VM. */
void vm_shutdown_kvm(struct vm *vm);
/* Resets devices and boots again. */
int vm_reset(struct vm *vm, struct error *err);

void vm_request(struct vm *vm, enum vm_request req);
void vm_crash(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the pending request (and clears it). */
enum vm_request vm_take_request(struct vm *vm);

void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id, struct error *err);
void vcpu_destroy(struct vcpu *v);
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *v);
/* vcpu_regs.c */
int vcpu_set_boot_state(struct vcpu *v, const struct boot_entry *entry, struct error *err);
int vcpu_set_firmware_msrs(struct vcpu *v, struct error *err);
/* vm_memory.c */
int vm_memory_map(struct vm *vm, struct error *err);
int vm_memory_register(struct vm *vm, struct error *err);
void vm_memory_clear(struct vm *vm);
void vm_memory_unmap(struct vm *vm);
/* vm_devices.c */
void vm_devices_init(struct vm *vm, struct uart_backend serial);
void vm_devices_reset(struct vm *vm);
void vm_devices_destroy(struct vm *vm);
int vm_write_acpi(struct vm *vm, uint64_t *rsdp, struct error *err);
/* Binds device interrupts and kicks to the current KVM VM (fd >= 0) or
 * forgets it (fd < 0). */
int vm_devices_attach_kvm(struct vm *vm, int fd, struct error *err);
/* Takes ownership of DEV; a virtio device (VP) goes on the PCI bus. */
int vm_add_device(struct vm *vm, const char *kind, void *dev, struct virtio_pci *vp,
		  void (*destroy)(void *dev), struct error *err);
/* vm_config.c: creates the devices the configuration asks for. */
int vm_create_devices(struct vm *vm, struct error *err);

#endif
