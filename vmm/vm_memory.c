#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm/layout.h"
#include "vmm/vm.h"

static int map_region(struct ram_mapping *m, uint64_t size, struct error *err)
{
	m->size = size;
	if (!size)
		return 0;
	/* NORESERVE: the guest's RAM costs host memory only as it is touched. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return error_errno(err, errno, "cannot reserve %llu MiB of address space for guest RAM",
				   (unsigned long long)(size >> 20));
	madvise(p, size, MADV_DONTDUMP);
	m->hva = p;
	return 0;
}

int vm_memory_map(struct vm *vm, struct error *err)
{
	uint64_t low = vm->cfg.mem < LAYOUT_LOW_RAM_MAX ? vm->cfg.mem : LAYOUT_LOW_RAM_MAX;
	uint64_t high = vm->cfg.mem - low;
	if (map_region(&vm->low, low, err) < 0 || map_region(&vm->high, high, err) < 0)
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
	return 0;
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
