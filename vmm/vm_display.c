/* The display family: the VGA (with its framebuffer memslot) and the
 * virtio tablet, created from --display. */
#include <stdlib.h>
#include <string.h>

#include "src/kvopts.h"
#include "src/log.h"
#include "vmm/layout.h"
#include "vmm/vga.h"
#include "vmm/virtio_input.h"
#include "vmm/vm.h"

#define BOOT_WIDTH  1024
#define BOOT_HEIGHT 768
#define BOOT_BPP    32

struct vm_display {
	struct vga vga;
	struct vm *vm;
	int slot;                   /* the framebuffer's memslot */
};

static int fb_map(void *ctx, uint64_t gpa)
{
	struct vm_display *d = ctx;
	return vm_memslot_move(d->vm, (unsigned)d->slot, gpa);
}

static int fb_dirty_log(void *ctx, unsigned long *bitmap)
{
	struct vm_display *d = ctx;
	return vm_memslot_dirty_log(d->vm, (unsigned)d->slot, bitmap);
}

static void display_destroy(void *p)
{
	struct vm_display *d = p;
	vga_destroy(&d->vga);
	free(d);
}

static void display_reset(void *p)
{
	struct vm_display *d = p;
	vga_reset(&d->vga);
}

static void tablet_destroy(void *p)
{
	vinput_destroy(p);
}

/* Parses "none" or "vga[,tablet=on|off]". */
static int parse(const char *spec, bool *vga, bool *tablet, struct error *err)
{
	struct kvopts o;
	if (kvopts_parse(&o, spec, "--display", err) < 0)
		return -1;
	const char *head = kvopts_head(&o);
	int r = kvopts_get_bool(&o, "tablet", true, tablet, "--display", err);
	if (r == 0)
		r = kvopts_check_used(&o, "--display", err);
	if (r == 0 && head && !strcmp(head, "none"))
		*vga = false;
	else if (r == 0 && head && !strcmp(head, "vga"))
		*vga = true;
	else if (r == 0)
		r = error_set(err, "--display takes vga or none, not '%s'", head ? head : "");
	kvopts_free(&o);
	return r;
}

static int add_vga(struct vm *vm, struct error *err)
{
	struct vm_display *d = calloc(1, sizeof(*d));
	if (!d)
		return error_set(err, "out of memory");
	d->vm = vm;
	struct vga_mem_ops ops = { .map = fb_map, .dirty_log = fb_dirty_log, .ctx = d };
	if (vga_init(&d->vga, &ops, err) < 0) {
		free(d);
		return -1;
	}
	d->slot = vm_memslot_add(vm, d->vga.vram, VGA_VRAM_SIZE, true, err);
	if (d->slot < 0 || pci_bus_add(&vm->pci, &d->vga.pci) < 0) {
		bool no_slot = d->slot < 0;
		display_destroy(d);
		return no_slot ? -1 : error_set(err, "the PCI bus is full");
	}
	if (vm_add_device(vm, "vga", d, NULL, display_destroy, err) < 0)
		return -1;
	vm->devices[vm->nr_devices - 1].reset = display_reset;
	vm->vga = &d->vga;
	if (bus_register(&vm->pio, VGA_PORT_BASE, VGA_PORT_COUNT, &vga_port_ops, &d->vga, "vga") < 0 ||
	    bus_register(&vm->pio, VBE_PORT_INDEX, 3, &vga_vbe_port_ops, &d->vga, "vbe") < 0 ||
	    bus_register(&vm->mmio, VGA_WINDOW_BASE, VGA_WINDOW_SIZE, &vga_window_ops, &d->vga, "vga-window") < 0)
		return error_set(err, "internal: the VGA ports overlap another device");
	pci_bus_reset(&vm->pci);
	return 0;
}

int vm_display_create(struct vm *vm, struct error *err)
{
	bool vga = true, tablet = true;
	if (parse(vm->cfg.display ? vm->cfg.display : "vga", &vga, &tablet, err) < 0)
		return -1;
	if (!vga)
		return 0;
	if (add_vga(vm, err) < 0)
		return -1;
	if (!tablet)
		return 0;
	struct virtio_input *ti = vinput_tablet_create(&vm->mem, &vm->router, err);
	if (!ti || vm_add_device(vm, "tablet", ti, &ti->vp, tablet_destroy, err) < 0)
		return -1;
	vm->tablet = ti;
	return 0;
}

const struct boot_fb *vm_display_boot_fb(struct vm *vm, bool bzimage, struct boot_fb *fb)
{
	if (!vm->vga || !bzimage)
		return NULL;
	/* As a boot loader would: a VBE mode that Linux finds in screen_info. */
	vga_set_boot_mode(vm->vga, BOOT_WIDTH, BOOT_HEIGHT, BOOT_BPP);
	struct vga_fb_info info;
	vga_fb_info(vm->vga, &info);
	if (!info.base)
		return NULL;
	*fb = (struct boot_fb){ .base = info.base, .size = info.size, .width = info.width,
				.height = info.height, .stride = info.stride, .bpp = info.bpp };
	return fb;
}
