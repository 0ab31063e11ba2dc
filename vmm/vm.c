#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "src/file.h"
#include "src/log.h"
#include "src/size.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

#define KERNEL_MAX_BYTES (512ull << 20)

static int check_memory(const struct vm_config *cfg, struct error *err)
{
	char a[32], b[32];
	if (cfg->mem < VM_MIN_MEM)
		return error_set(err, "--mem %s is below the minimum of %s", size_format(cfg->mem, a, sizeof(a)),
				 size_format(VM_MIN_MEM, b, sizeof(b)));
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		uint64_t host = (uint64_t)si.totalram * si.mem_unit;
		if (cfg->mem > host)
			return error_set(err, "--mem %s is more than this host's %s of RAM",
					 size_format(cfg->mem, a, sizeof(a)), size_format(host, b, sizeof(b)));
	}
	return 0;
}

static int check_cpus(const struct vm *vm, struct error *err)
{
	unsigned limit = vm->kvm.max_vcpus < VM_MAX_CPUS ? vm->kvm.max_vcpus : VM_MAX_CPUS;
	if (vm->cfg.cpus == 0)
		return error_set(err, "--cpus must be at least 1");
	if (vm->cfg.cpus > limit)
		return error_set(err, "--cpus %u is above the limit of %u vCPUs on this host (KVM allows %u, "
				 "vmdeck's xAPIC tables %u)", vm->cfg.cpus, limit, vm->kvm.max_vcpus, VM_MAX_CPUS);
	return 0;
}

/* Reads the kernel and initrd from disk and checks the kernel's format. */
static int read_boot_files(struct vm *vm, struct error *err)
{
	if (file_read_all(vm->cfg.kernel, "kernel", KERNEL_MAX_BYTES, &vm->kernel, &vm->kernel_size,
			  err) < 0)
		return -1;
	if (boot_detect(vm->kernel, vm->kernel_size) == KERNEL_UNKNOWN)
		return error_set(err, "the kernel '%s' is neither a Linux bzImage nor an ELF kernel with a PVH "
				 "entry point", vm->cfg.kernel);
	if (vm->cfg.initrd && file_read_all(vm->cfg.initrd, "initrd", vm->cfg.mem, &vm->initrd,
					    &vm->initrd_size, err) < 0)
		return -1;
	return 0;
}

static void free_boot_files(struct vm *vm)
{
	free(vm->kernel);
	free(vm->initrd);
	vm->kernel = vm->initrd = NULL;
	vm->kernel_size = vm->initrd_size = 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct uart_backend serial,
	      struct error *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->created = true;
	vm->cfg = *cfg;
	vm->fd = -1;
	vm->wake_fd = -1;
	vm->kvm.fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->memslot_lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	if (cfg->cpus == 0)
		return error_set(err, "--cpus must be at least 1");
	if (check_memory(cfg, err) < 0 || read_boot_files(vm, err) < 0)
		return -1;
	if (kvm_open(&vm->kvm, cfg->kvm_path, err) < 0 || check_cpus(vm, err) < 0)
		return -1;
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0)
		return error_errno(err, errno, "cannot create an eventfd");
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return error_set(err, "out of memory");
	for (unsigned i = 0; i < cfg->cpus; i++)
		vm->vcpus[i].fd = vm->vcpus[i].stats_fd = -1;
	if (vm_memory_map(vm, err) < 0)
		return -1;
	vm_devices_init(vm, serial);
	vm->devices_ready = true;
	if (vm_create_devices(vm, err) < 0)
		return -1;
	return vm_load(vm, err);
}

static int create_kvm_vm(struct vm *vm, struct error *err)
{
	vm->fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return error_errno(err, errno, "KVM could not create a VM");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return error_errno(err, errno, "KVM_SET_TSS_ADDR failed");
	uint64_t idmap = LAYOUT_KVM_IDMAP;
	if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return error_errno(err, errno, "KVM could not create the interrupt controllers");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return error_errno(err, errno, "KVM could not create the PIT");
	return vm_memory_register(vm, err);
}

int vm_load(struct vm *vm, struct error *err)
{
	if (!vm->kernel && read_boot_files(vm, err) < 0)
		return -1;
	uint64_t rsdp;
	if (vm_write_acpi(vm, &rsdp, err) < 0)
		return -1;
	struct e820_map e820;
	e820_build(vm->low.size, vm->high.size, &e820);
	struct boot_fb fb;
	struct boot_config bc = {
		.kernel = vm->kernel, .kernel_size = vm->kernel_size,
		.initrd = vm->initrd, .initrd_size = vm->initrd_size,
		.cmdline = vm->cfg.cmdline, .e820 = &e820, .rsdp = rsdp,
		.fb = vm_display_boot_fb(vm, boot_detect(vm->kernel, vm->kernel_size) == KERNEL_BZIMAGE, &fb),
	};
	struct error why;
	int r = boot_load(&vm->mem, &bc, &vm->entry, &why);
	if (r < 0)
		error_set(err, "the kernel '%s' cannot be booted: %s", vm->cfg.kernel, why.msg);
	/* Reboots read the files again, so RAM holds no second copy meanwhile. */
	free_boot_files(vm);
	return r;
}

int vm_boot(struct vm *vm, struct error *err)
{
	if (create_kvm_vm(vm, err) < 0 || vm_devices_attach_kvm(vm, vm->fd, err) < 0)
		return -1;
	for (unsigned i = 0; i < vm->cfg.cpus; i++)
		if (vcpu_create(vm, &vm->vcpus[i], i, err) < 0)
			return -1;
	/* Application processors wait for INIT/SIPI in the in-kernel LAPIC. */
	return vcpu_set_boot_state(&vm->vcpus[0], &vm->entry, err);
}

int vm_start_vcpus(struct vm *vm, struct error *err)
{
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		pthread_mutex_lock(&vm->lock);
		vm->running++;
		pthread_mutex_unlock(&vm->lock);
		int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r != 0) {
			pthread_mutex_lock(&vm->lock);
			vm->running--;
			pthread_mutex_unlock(&vm->lock);
			return error_errno(err, r, "cannot start the thread of vCPU %u", i);
		}
		v->started = true;
	}
	return 0;
}

void vm_shutdown_kvm(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->stop = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->started) {
			vcpu_kick(v);
			pthread_join(v->thread, NULL);
			v->started = false;
		}
		if (v->fd >= 0 || v->run)
			vcpu_destroy(v);
	}
	int fd = vm->fd;
	__atomic_store_n(&vm->fd, -1, __ATOMIC_RELEASE);
	if (vm->devices_ready)
		vm_devices_attach_kvm(vm, -1, NULL);
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&vm->lock);
	vm->stop = false;
	vm->paused = false;
	pthread_mutex_unlock(&vm->lock);
}

int vm_reset(struct vm *vm, struct error *err)
{
	vm_shutdown_kvm(vm);
	vm_memory_clear(vm);
	vm_devices_reset(vm);
	vm->boots++;
	if (vm_load(vm, err) < 0 || vm_boot(vm, err) < 0)
		return -1;
	return vm_start_vcpus(vm, err);
}

void vm_destroy(struct vm *vm)
{
	if (!vm->created)
		return;
	if (vm->vcpus)
		vm_shutdown_kvm(vm);
	if (vm->devices_ready)
		vm_devices_destroy(vm);
	vm_memory_unmap(vm);
	free_boot_files(vm);
	free(vm->vcpus);
	vm->vcpus = NULL;
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	vm->wake_fd = -1;
	kvm_close(&vm->kvm);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->memslot_lock);
	pthread_cond_destroy(&vm->cond);
	vm->created = false;
}

/* The first word on how the VM ends stands: a crash is never replaced by
 * a power-off that raced with it, and a vCPU failing while the guest shuts
 * down (after it asked for power-off or reset) is not a crash.  Among the
 * other requests the stronger one wins. */
void vm_request(struct vm *vm, enum vm_request req)
{
	pthread_mutex_lock(&vm->lock);
	bool first = vm->request == VM_REQ_NONE;
	bool crash_involved = req == VM_REQ_CRASH || vm->request == VM_REQ_CRASH;
	if (first || (!crash_involved && (int)req > vm->request))
		vm->request = (int)req;
	pthread_mutex_unlock(&vm->lock);
	uint64_t one = 1;
	if (write(vm->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("wake_fd: %s", strerror(errno));
}

void vm_crash(struct vm *vm, const char *fmt, ...)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->crash_msg[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->crash_msg, sizeof(vm->crash_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->lock);
	vm_request(vm, VM_REQ_CRASH);
}

enum vm_request vm_take_request(struct vm *vm)
{
	uint64_t n;
	if (read(vm->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("wake_fd: %s", strerror(errno));
	pthread_mutex_lock(&vm->lock);
	enum vm_request req = (enum vm_request)vm->request;
	vm->request = VM_REQ_NONE;
	pthread_mutex_unlock(&vm->lock);
	return req;
}

void vm_note_event(struct vm *vm, unsigned events)
{
	pthread_mutex_lock(&vm->lock);
	vm->events |= events;
	pthread_mutex_unlock(&vm->lock);
	uint64_t one = 1;
	if (write(vm->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("wake_fd: %s", strerror(errno));
}

unsigned vm_take_events(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	unsigned ev = vm->events;
	vm->events = 0;
	pthread_mutex_unlock(&vm->lock);
	return ev;
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused = true;
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->cfg.cpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (vm->parked < vm->running)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->paused = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}
