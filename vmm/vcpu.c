/* vCPU threads: KVM_RUN and the exits it returns to userspace. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "src/log.h"
#include "vmm/vm.h"

/* SIGUSR1 interrupts KVM_RUN; the handler itself does nothing. */
#define SIG_KICK SIGUSR1

static void kick_handler(int sig)
{
	(void)sig;
}

static void install_kick_handler_once(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);
}

static void install_kick_handler(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install_kick_handler_once);
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id, struct error *err)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->stats_fd = -1;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return error_errno(err, errno, "KVM could not create vCPU %u", id);
	v->run = mmap(NULL, (size_t)vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return error_errno(err, errno, "cannot map the run area of vCPU %u", id);
	}
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
	} c;
	struct cpuid_table t = vm->kvm.supported;
	cpuid_patch(&t, id, vm->cfg.cpus, vm->kvm.tsc_deadline);
	c.h.nent = t.nr;
	c.h.padding = 0;
	memcpy(c.e, t.e, t.nr * sizeof(t.e[0]));
	if (ioctl(v->fd, KVM_SET_CPUID2, &c) < 0)
		return error_errno(err, errno, "KVM refused the CPUID of vCPU %u", id);
	/* Now or never: the ioctl waits for the vCPU mutex, which KVM_RUN
	 * holds.  The statistics read it later without disturbing the vCPU. */
	if (vm->kvm.stats_fd)
		v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
	install_kick_handler();
	return vcpu_set_firmware_msrs(v, err);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->kvm.run_size);
	if (v->fd >= 0)
		close(v->fd);
	if (v->stats_fd >= 0)
		close(v->stats_fd);
	v->run = NULL;
	v->fd = v->stats_fd = -1;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, SIG_KICK);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&v->vm->pio, run->io.port, data, run->io.size);
		else
			bus_read(&v->vm->pio, run->io.port, data, run->io.size);
	}
	v->exits_io++;
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;
	if (run->mmio.is_write)
		bus_write(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	v->exits_mmio++;
}

/* Up to 15 instruction bytes at the vCPU's RIP, as hex, for error reports. */
static void describe_rip(struct vcpu *v, char *buf, size_t len)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(buf, len, "an unknown address");
		return;
	}
	int n = snprintf(buf, len, "RIP %#llx (CPL %u", (unsigned long long)regs.rip, sregs.cs.selector & 3);
	struct kvm_translation tr = { .linear_address = sregs.cs.base + regs.rip };
	const uint8_t *code = NULL;
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid)
		code = gm_ptr(&v->vm->mem, tr.physical_address, 15);
	if (code && n > 0) {
		n += snprintf(buf + n, len - (size_t)n, ", bytes");
		for (int i = 0; i < 15 && (size_t)n < len; i++)
			n += snprintf(buf + n, len - (size_t)n, " %02x", code[i]);
	}
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ")");
}

static const char pvm_explanation[] =
	"this host's KVM is the paravirtual kvm_pvm module, which emulates guest kernel-mode code "
	"instruction by instruction and cannot run stock guest kernels; run vmdeck on a host with "
	"hardware virtualization (Intel VT-x or AMD-V)";

static void internal_error(struct vcpu *v)
{
	char where[160];
	describe_rip(v, where, sizeof(where));
	unsigned sub = v->run->internal.suberror;
	const char *what = sub == KVM_INTERNAL_ERROR_EMULATION ? "could not emulate an instruction"
							       : "failed internally";
	if (v->vm->kvm.pvm)
		vm_crash(v->vm, "KVM %s on vCPU %u at %s: %s", what, v->id, where, pvm_explanation);
	else
		vm_crash(v->vm, "KVM %s (suberror %u) on vCPU %u at %s, so the guest cannot continue",
			 what, sub, v->id, where);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char where[160];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		describe_rip(v, where, sizeof(where));
		vm_crash(v->vm, "the guest triple-faulted on vCPU %u at %s: it hit a CPU exception "
			 "it could not handle", v->id, where);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_crash(v->vm, "KVM could not enter vCPU %u (hardware reason %#llx)", v->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request(v->vm, VM_REQ_RESET);
		else if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			vm_request(v->vm, VM_REQ_POWEROFF);
		else
			vm_crash(v->vm, "the guest reported a crash (system event %u) on vCPU %u",
				 run->system_event.type, v->id);
		return false;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; nothing will wake this vCPU. */
		vm_crash(v->vm, "vCPU %u halted with interrupts it cannot receive", v->id);
		return false;
	default:
		log_warn("vCPU %u: unexpected KVM exit %u, continuing", v->id, run->exit_reason);
		return true;
	}
}

/* Blocks while the VM is paused; returns false when the vCPU must stop. */
static bool wait_runnable(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->lock);
	if (vm->paused && !vm->stop) {
		vm->parked++;
		pthread_cond_broadcast(&vm->cond);
		while (vm->paused && !vm->stop)
			pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked--;
	}
	bool go = !vm->stop;
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->lock);
	return go;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	sigfillset(&set);
	sigdelset(&set, SIG_KICK);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	__atomic_store_n(&v->tid, (int)gettid(), __ATOMIC_RELEASE);

	while (wait_runnable(v)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_crash(v->vm, "KVM_RUN failed on vCPU %u: %s", v->id, strerror(errno));
			break;
		}
		v->exits++;
		if (!handle_exit(v))
			break;
	}
	/* A vCPU that stopped on its own no longer counts for vm_pause. */
	pthread_mutex_lock(&v->vm->lock);
	v->vm->running--;
	pthread_cond_broadcast(&v->vm->cond);
	pthread_mutex_unlock(&v->vm->lock);
	return NULL;
}
