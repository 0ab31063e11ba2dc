#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "src/log.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

/* ---- extra memslots ---------------------------------------------------------
 * Device memory is not guest RAM (not in vm->mem, not in the e820 map); the
 * device that owns it decides where it sits.  The slots survive resets: a
 * new KVM VM gets them again from vm_memory_register. */

static int memslot_set(struct vm *vm, unsigned id, uint64_t gpa, uint64_t size)
{
	const struct vm_memslot *m = &vm->memslots[id];
	struct kvm_userspace_memory_region slot = {
		.slot = VM_MEMSLOT_BASE + id, .flags = m->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)m->hva,
	};
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot);
}

static int vm_memslots_register(struct vm *vm, struct error *err)
{
	pthread_mutex_lock(&vm->memslot_lock);
	int r = 0;
	for (unsigned i = 0; i < vm->nr_memslots && r == 0; i++) {
		struct vm_memslot *m = &vm->memslots[i];
		m->registered = false;
		if (!m->gpa)
			continue;
		r = memslot_set(vm, i, m->gpa, m->size);
		if (r < 0)
			error_errno(err, errno, "KVM refused device memory slot %u at %#llx", i,
				    (unsigned long long)m->gpa);
		else
			m->registered = true;
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	return r;
}

int vm_memslot_add(struct vm *vm, void *hva, uint64_t size, bool log_dirty, struct error *err)
{
	pthread_mutex_lock(&vm->memslot_lock);
	int id = (int)vm->nr_memslots;
	if (id >= VM_MAX_MEMSLOTS)
		id = -1;
	else
		vm->memslots[vm->nr_memslots++] = (struct vm_memslot){ .hva = hva, .size = size,
									 .log_dirty = log_dirty };
	pthread_mutex_unlock(&vm->memslot_lock);
	if (id < 0)
		error_set(err, "too many device memory regions: vmdeck takes at most %d", VM_MAX_MEMSLOTS);
	return id;
}

int vm_memslot_move(struct vm *vm, unsigned id, uint64_t gpa)
{
	pthread_mutex_lock(&vm->memslot_lock);
	int r = 0;
	if (id < vm->nr_memslots) {
		struct vm_memslot *m = &vm->memslots[id];
		int fd = __atomic_load_n(&vm->fd, __ATOMIC_ACQUIRE);
		if (fd >= 0 && m->registered) {
			/* KVM moves a slot only by deleting it first. */
			memslot_set(vm, id, m->gpa, 0);
			m->registered = false;
		}
		m->gpa = gpa;
		if (fd >= 0 && gpa) {
			r = memslot_set(vm, id, gpa, m->size);
			if (r < 0)
				log_warn("KVM refused device memory slot %u at %#llx: %s", id,
					 (unsigned long long)gpa, strerror(errno));
			else
				m->registered = true;
		}
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	return r;
}

int vm_memslot_dirty_log(struct vm *vm, unsigned id, unsigned long *bitmap)
{
	pthread_mutex_lock(&vm->memslot_lock);
	int r = -1;
	if (id < vm->nr_memslots && vm->memslots[id].registered && vm->memslots[id].log_dirty &&
	    __atomic_load_n(&vm->fd, __ATOMIC_ACQUIRE) >= 0) {
		struct kvm_dirty_log log = { .slot = VM_MEMSLOT_BASE + id, .dirty_bitmap = bitmap };
		r = ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log);
	}
	pthread_mutex_unlock(&vm->memslot_lock);
	return r;
}

/* Guest RAM starts on a huge-page boundary so that each 2 MiB of guest
 * physical memory can be one transparent huge page on the host and one
 * nested-paging entry in KVM: a guest-physical 2 MiB page that straddles
 * two host huge pages is mapped 4 KiB at a time, a fault per page.  QEMU
 * aligns its RAM the same way. */
#define RAM_ALIGN (2 * MiB)

static int map_region(struct ram_mapping *m, uint64_t size, bool huge, struct error *err)
{
	m->size = size;
	if (!size)
		return 0;
	/* NORESERVE: the guest's RAM costs host memory only as it is touched. */
	uint8_t *p = mmap(NULL, size + RAM_ALIGN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return error_errno(err, errno, "cannot reserve %llu MiB of address space for guest RAM",
				   (unsigned long long)(size >> 20));
	uint8_t *start = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
	if (start > p)
		munmap(p, (size_t)(start - p));
	munmap(start + size, (size_t)(p + RAM_ALIGN - start));
	madvise(start, size, MADV_DONTDUMP);
	madvise(start, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	m->hva = start;
	return 0;
}

int vm_memory_map(struct vm *vm, struct error *err)
{
	uint64_t low = vm->cfg.mem < LAYOUT_LOW_RAM_MAX ? vm->cfg.mem : LAYOUT_LOW_RAM_MAX;
	uint64_t high = vm->cfg.mem - low;
	/* Huge pages where the host leaves them to madvise (as this one does),
	 * unless a balloon hands pages back: then small pages even where the
	 * host uses huge ones always, because khugepaged would fill a huge page
	 * around every 4 KiB page the guest gave up and undo the balloon. */
	bool huge = !vm->cfg.balloon;
	if (map_region(&vm->low, low, huge, err) < 0 || map_region(&vm->high, high, huge, err) < 0)
		return -1;
	/* The VGA window (640 KiB..768 KiB) is not RAM: devices claim it. */
	gm_add(&vm->mem, 0, LAYOUT_VGA_WINDOW, vm->low.hva);
	gm_add(&vm->mem, LAYOUT_VGA_WINDOW + 128 * KiB, low - LAYOUT_VGA_WINDOW - 128 * KiB,
	       vm->low.hva + LAYOUT_VGA_WINDOW + 128 * KiB);
	if (high)
		gm_add(&vm->mem, LAYOUT_HIGH_RAM_BASE, high, vm->high.hva);
	return 0;
}

int vm_memory_register(struct vm *vm, struct error *err)
{
	for (unsigned i = 0; i < vm->mem.nr; i++) {
		const struct gm_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return error_errno(err, errno, "KVM refused guest RAM slot %u (%#llx, %llu MiB)", i,
					   (unsigned long long)r->gpa, (unsigned long long)(r->size >> 20));
	}
	return vm_memslots_register(vm, err);
}

/* A reset hands the pages back: the next boot starts from zeroed RAM. */
void vm_memory_clear(struct vm *vm)
{
	if (vm->low.hva)
		madvise(vm->low.hva, vm->low.size, MADV_DONTNEED);
	if (vm->high.hva)
		madvise(vm->high.hva, vm->high.size, MADV_DONTNEED);
}

void vm_memory_unmap(struct vm *vm)
{
	if (vm->low.hva)
		munmap(vm->low.hva, vm->low.size);
	if (vm->high.hva)
		munmap(vm->high.hva, vm->high.size);
	vm->low.hva = vm->high.hva = NULL;
	vm->mem.nr = 0;
}
