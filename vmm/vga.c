/* The VGA PCI device: configuration, bus handlers and reset.  The register
 * file is in vga_regs.c, VBE in vga_vbe.c, the legacy window in
 * vga_mem.c and the renderer in vga_render.c / vga_text.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/vga.h"
#include "vmm/vga_font.h"

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_CLASS      0x030000
#define LFB_BAR        0
#define MMIO_BAR       2
#define QEXT_SIZE      8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

/* ---- bus handlers ---------------------------------------------------------- */

static void port_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct vga *v = opaque;
	uint8_t *out = data;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < len; i++)
		out[i] = offset + i < VGA_PORT_COUNT ? vga_ioport_read(v, VGA_PORT_BASE + (unsigned)offset + i) : 0xff;
	pthread_mutex_unlock(&v->lock);
}

/* A 16-bit OUT to an index port writes the index and then the data port. */
static void port_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vga *v = opaque;
	const uint8_t *in = data;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < len; i++)
		if (offset + i < VGA_PORT_COUNT)
			vga_ioport_write(v, VGA_PORT_BASE + (unsigned)offset + i, in[i]);
	pthread_mutex_unlock(&v->lock);
}

const struct bus_ops vga_port_ops = { .read = port_read, .write = port_write };

/* 0x1CE is the index, 0x1CF (and 0x1D0) the data, 16 bits wide. */
static void vbe_port_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct vga *v = opaque;
	pthread_mutex_lock(&v->lock);
	uint16_t val = offset == 0 ? v->vbe_index : vga_vbe_read(v, v->vbe_index);
	pthread_mutex_unlock(&v->lock);
	bus_put_le(data, len, val);
}

static void vbe_port_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vga *v = opaque;
	uint16_t val = (uint16_t)bus_get_le(data, len > 2 ? 2 : len);
	pthread_mutex_lock(&v->lock);
	if (offset == 0)
		v->vbe_index = val;
	else
		vga_vbe_write(v, v->vbe_index, val);
	pthread_mutex_unlock(&v->lock);
}

const struct bus_ops vga_vbe_port_ops = { .read = vbe_port_read, .write = vbe_port_write };

static void window_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct vga *v = opaque;
	uint8_t *out = data;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < len; i++)
		out[i] = offset + i < VGA_WINDOW_SIZE ? vga_mem_readb(v, (uint32_t)(offset + i)) : 0xff;
	pthread_mutex_unlock(&v->lock);
}

static void window_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vga *v = opaque;
	const uint8_t *in = data;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < len; i++)
		if (offset + i < VGA_WINDOW_SIZE)
			vga_mem_writeb(v, (uint32_t)(offset + i), in[i]);
	pthread_mutex_unlock(&v->lock);
}

const struct bus_ops vga_window_ops = { .read = window_read, .write = window_write };

/* BAR 2 as QEMU's stdvga lays it out (what Linux's bochs driver maps). */
static void mmio_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	if (offset >= VGA_MMIO_VGA_OFF && offset + len <= VGA_MMIO_VGA_OFF + VGA_PORT_COUNT) {
		port_read(v, offset - VGA_MMIO_VGA_OFF, data, len);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (offset >= VGA_MMIO_VBE_OFF && offset + len <= VGA_MMIO_VBE_OFF + 2 * VBE_INDEX_NB && len <= 2)
		val = vga_vbe_read(v, (unsigned)(offset - VGA_MMIO_VBE_OFF) / 2);
	else if (offset == VGA_MMIO_QEXT_OFF && len == 4)
		val = QEXT_SIZE;
	else if (offset == VGA_MMIO_QEXT_OFF + 4 && len == 4)
		val = QEXT_LITTLE_ENDIAN;
	pthread_mutex_unlock(&v->lock);
	bus_put_le(data, len, val);
}

static void mmio_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vga *v = opaque;
	if (offset >= VGA_MMIO_VGA_OFF && offset + len <= VGA_MMIO_VGA_OFF + VGA_PORT_COUNT) {
		port_write(v, offset - VGA_MMIO_VGA_OFF, data, len);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (offset >= VGA_MMIO_VBE_OFF && offset + len <= VGA_MMIO_VBE_OFF + 2 * VBE_INDEX_NB && len == 2)
		vga_vbe_write(v, (unsigned)(offset - VGA_MMIO_VBE_OFF) / 2, (uint16_t)bus_get_le(data, 2));
	else
		v->bad_accesses++;   /* the framebuffer stays little-endian; the rest is read-only */
	pthread_mutex_unlock(&v->lock);
}

const struct bus_ops vga_mmio_ops = { .read = mmio_read, .write = mmio_write };

/* ---- the framebuffer BAR ---------------------------------------------------- */

static int lfb_map(struct pci_device *d, unsigned bar, uint64_t gpa)
{
	struct vga *v = d->owner;
	int r = v->mem_ops.map ? v->mem_ops.map(v->mem_ops.ctx, gpa) : 0;
	/* A moved slot starts a new dirty log: draw everything once. */
	pthread_mutex_lock(&v->lock);
	v->regs_changed = true;
	pthread_mutex_unlock(&v->lock);
	return r;
}

void vga_fb_info(struct vga *v, struct vga_fb_info *out)
{
	pthread_mutex_lock(&v->lock);
	unsigned bpp = v->vbe[VBE_INDEX_BPP];
	*out = (struct vga_fb_info){
		.base = v->pci.bars[LFB_BAR].mapped ? v->pci.bars[LFB_BAR].mapped_at : 0,
		.size = VGA_VRAM_SIZE,
		.width = v->vbe[VBE_INDEX_XRES], .height = v->vbe[VBE_INDEX_YRES],
		.stride = v->vbe_line, .bpp = bpp,
	};
	if (!vga_vbe_enabled(v))
		out->width = out->height = out->stride = out->bpp = 0;
	pthread_mutex_unlock(&v->lock);
}

/* ---- life cycle --------------------------------------------------------------- */

/* Text memory blank (white on black spaces) and the font in plane 2 map 0. */
static void load_bios_state(struct vga *v)
{
	for (uint32_t i = 0; i < 0x8000 / 2; i++) {
		v->vram[4 * i] = ' ';
		v->vram[4 * i + 1] = 0x07;
	}
	for (unsigned c = 0; c < 256; c++)
		for (unsigned y = 0; y < 16; y++)
			v->vram[(c * 32 + y) * 4 + 2] = vga_font_8x16[c][y];
}

void vga_reset(struct vga *v)
{
	pthread_mutex_lock(&v->lock);
	/* The memory goes back to the kernel: zero pages until drawn on. */
	madvise(v->vram, VGA_VRAM_SIZE, MADV_DONTNEED);
	vga_regs_mode3(&v->r);
	memset(v->vbe, 0, sizeof(v->vbe));
	v->vbe[VBE_INDEX_ID] = VBE_ID5;
	v->vbe_index = 0;
	v->vbe_start = v->vbe_line = 0;
	load_bios_state(v);
	memset(v->host_dirty, 0xff, sizeof(v->host_dirty));
	v->regs_changed = v->font_changed = true;
	v->boot_mode_set = false;
	pthread_mutex_unlock(&v->lock);
}

int vga_init(struct vga *v, const struct vga_mem_ops *mem, struct error *err)
{
	memset(v, 0, sizeof(*v));
	void *p = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (p == MAP_FAILED)
		return error_errno(err, errno, "cannot allocate %u MiB of video memory", VGA_VRAM_SIZE >> 20);
	v->vram = p;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->render_lock, NULL);
	if (mem)
		v->mem_ops = *mem;
	struct pci_device *d = &v->pci;
	pci_device_init(d, "vga", VGA_PCI_VENDOR, VGA_PCI_DEVICE, VGA_CLASS, 2);
	pci_set_subsystem(d, 0x1af4, 0x1100);
	d->owner = v;
	pci_set_bar_ram(d, LFB_BAR, PCI_BAR_MEM32, VGA_VRAM_SIZE, true, lfb_map);
	pci_set_bar(d, MMIO_BAR, PCI_BAR_MEM32, VGA_MMIO_SIZE, false, &vga_mmio_ops, v);
	vga_reset(v);
	return 0;
}

void vga_destroy(struct vga *v)
{
	if (v->vram)
		munmap(v->vram, VGA_VRAM_SIZE);
	free(v->surface.pixels);
	free(v->shadow);
	free(v->dirty_bitmap);
	dirty_free(&v->dirty);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->render_lock);
	memset(v, 0, sizeof(*v));
}
