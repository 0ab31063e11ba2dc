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
#include "vmm/dev_counters.h"
#include "vmm/dev_pm.h"
#include "vmm/dev_pvpanic.h"
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
struct vga;
struct virtio_input;

/* A device the VM owns beyond the fixed PC ones: created from the
 * configuration, destroyed after the vCPUs stopped. */
struct vm_device {
	const char *kind;             /* "disk", "net", ... */
	void *dev;
	struct virtio_pci *vp;        /* NULL when it is not a virtio device */
	void (*destroy)(void *dev);
	void (*reset)(void *dev);     /* optional, on a VM reset (non-virtio devices) */
	dev_counters_fn counters;     /* NULL: no counters for the statistics */
	dev_info_fn info;             /* NULL: nothing beyond counters */
};

#define VM_MIN_MEM (8ull << 20)
#define VM_MAX_CPUS 255          /* xAPIC ids 0..254; 255 is the broadcast id */

struct vm_config {
	const char *name;
	bool name_given;         /* --name: else sockets take the first free default */
	const char *kernel;
	const char *initrd;      /* NULL: none */
	const char *cmdline;     /* NULL: the default */
	uint64_t mem;
	unsigned cpus;
	bool no_reboot;
	const char *kvm_path;    /* NULL: /dev/kvm */
	const char *disks[VM_MAX_DISKS];   /* --disk specifications */
	unsigned nr_disks;
	/* Display and input (vm_display.c): --display, --vnc, --keymap. */
	const char *display;     /* NULL: "vga" */
	const char *vnc;         /* NULL: "unix" (the default socket) */
	const char *keymap;      /* NULL: "us" */
	const char *net;         /* --net specification; NULL: no network card */
	/* Balloon, statistics and the control socket */
	const char *balloon;          /* --balloon options ("" = defaults); NULL: no balloon */
	const char *control;          /* --control PATH, or "none"; NULL: from the name */
	unsigned stats_interval_ms;   /* statistics sampling; 0: only when asked */
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
	int tid;                      /* the thread's kernel id, for /proc statistics */
	int stats_fd;                 /* KVM_GET_STATS_FD, or -1; opened before the vCPU runs */
	uint64_t exits, exits_io, exits_mmio;
};

struct ram_mapping {
	uint8_t *hva;
	uint64_t size;
};

/* Device memory that is a KVM memslot of its own (a framebuffer BAR): the
 * guest reads and writes it without exits and moves it with the BAR. */
#define VM_MAX_MEMSLOTS 4
#define VM_MEMSLOT_BASE 16                /* KVM slot ids; RAM uses the ones below */
struct vm_memslot {
	uint8_t *hva;
	uint64_t size;
	uint64_t gpa;                     /* 0: not mapped */
	bool log_dirty;
	bool registered;                  /* with the current KVM VM */
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
	pthread_mutex_t memslot_lock;
	struct vm_memslot memslots[VM_MAX_MEMSLOTS];
	unsigned nr_memslots;

	struct uart com1;
	struct rtc rtc;
	struct i8042 i8042;
	struct pm pm;
	struct sink post, iodelay;
	struct irq_router router;
	struct pci_bus pci;
	struct vm_device devices[VM_MAX_DEVICES];
	unsigned nr_devices;
	struct vga *vga;                  /* NULL without --display vga */
	struct virtio_input *tablet;      /* NULL without a tablet */

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
	struct pvpanic pvpanic;
	unsigned events;                  /* VM_EVENT_* bits the main loop has not taken */
};

/* Guest events that are not requests: the VM carries on. */
enum {
	VM_EVENT_PANIC = 1,               /* the guest kernel panicked (pvpanic) */
	VM_EVENT_CRASH_LOADED = 2,        /* it loaded a crash kernel (pvpanic) */
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
/* Notes guest events for the main loop (any thread); the main loop takes
 * them after vm_take_request. */
void vm_note_event(struct vm *vm, unsigned events);
unsigned vm_take_events(struct vm *vm);

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
/* Extra memslots (device memory at HVA, SIZE bytes, page aligned); returns
 * the id or -1.  They are registered with every new KVM VM (each boot). */
int vm_memslot_add(struct vm *vm, void *hva, uint64_t size, bool log_dirty, struct error *err);
/* Maps slot ID at GPA (0: unmaps it), now and on later boots. */
int vm_memslot_move(struct vm *vm, unsigned id, uint64_t gpa);
/* KVM_GET_DIRTY_LOG: one bit per page into BITMAP (size/4096 bits, long
 * aligned); the log restarts.  Returns -1 when KVM cannot say (no VM, slot
 * unmapped): the caller must treat every page as dirty. */
int vm_memslot_dirty_log(struct vm *vm, unsigned id, unsigned long *bitmap);
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
/* Gives the statistics DEV's counters (DEV as passed to vm_add_device). */
void vm_set_device_counters(struct vm *vm, void *dev, dev_counters_fn counters);
/* Gives the statistics and the status DEV's state (see dev_counters.h). */
void vm_set_device_info(struct vm *vm, void *dev, dev_info_fn info);
/* Device D's position among the devices of its kind (disk 0, disk 1...). */
unsigned vm_device_index(const struct vm *vm, unsigned d);
/* The first device of KIND, or NULL. */
struct vm_device *vm_find_device(struct vm *vm, const char *kind);
/* vm_config.c: creates the devices the configuration asks for. */
int vm_create_devices(struct vm *vm, struct error *err);
/* vm_display.c: the display and input devices (one block of vm_config.c). */
int vm_display_create(struct vm *vm, struct error *err);
/* Sets the boot framebuffer for a Linux bzImage (screen_info); NULL when
 * the VM has no display. */
const struct boot_fb *vm_display_boot_fb(struct vm *vm, bool bzimage, struct boot_fb *fb);

#endif
