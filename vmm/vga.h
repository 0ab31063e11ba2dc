/* A VGA-compatible PCI display with the Bochs VBE extensions (the device
 * QEMU calls "VGA", PCI 1234:1111).
 *
 * BAR 0 is the video memory as a linear framebuffer: host memory that the
 * VMM maps into the guest as a KVM memslot, so the guest draws without
 * exits and KVM's dirty log says which pages changed.  BAR 2 holds the
 * VBE DISPI registers (0x500) and the VGA ports (0x400) as QEMU's stdvga
 * lays them out for Linux's bochs DRM driver.  The legacy VGA ports
 * (0x3C0-0x3DF), the VBE ports 0x1CE/0x1CF and the 0xA0000-0xBFFFF window
 * are emulated; text and planar modes are rendered into a host surface.
 *
 * Threads: vCPU threads reach the registers and the window (under LOCK);
 * consumers (the VNC thread, screen dumps) render with vga_refresh and read
 * the surface while holding RENDER_LOCK. */
#ifndef VMDECK_VGA_H
#define VMDECK_VGA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"
#include "vmm/bus.h"
#include "vmm/display.h"
#include "vmm/pci.h"

#define VGA_VRAM_SIZE     (16u << 20)       /* BAR 0, also the VBE memory */
#define VGA_PLANES_SIZE   (256u << 10)      /* the classic 4 x 64 KiB planes */
#define VGA_MMIO_SIZE     0x1000            /* BAR 2 */
#define VGA_MMIO_VGA_OFF  0x400             /* ports 0x3C0-0x3DF */
#define VGA_MMIO_VBE_OFF  0x500             /* DISPI registers, 16 bits each */
#define VGA_MMIO_QEXT_OFF 0x600             /* QEMU extended registers */
#define VGA_WINDOW_BASE   0xA0000ull
#define VGA_WINDOW_SIZE   0x20000ull
#define VGA_PORT_BASE     0x3C0
#define VGA_PORT_COUNT    0x20
#define VBE_PORT_INDEX    0x1CE
#define VBE_PORT_DATA     0x1CF

/* VBE DISPI (Bochs) registers */
enum {
	VBE_INDEX_ID, VBE_INDEX_XRES, VBE_INDEX_YRES, VBE_INDEX_BPP, VBE_INDEX_ENABLE,
	VBE_INDEX_BANK, VBE_INDEX_VIRT_WIDTH, VBE_INDEX_VIRT_HEIGHT, VBE_INDEX_X_OFFSET,
	VBE_INDEX_Y_OFFSET, VBE_INDEX_VIDEO_MEMORY_64K, VBE_INDEX_NB,
};
#define VBE_ID0             0xB0C0
#define VBE_ID5             0xB0C5
#define VBE_DISABLED        0x00
#define VBE_ENABLED         0x01
#define VBE_GETCAPS         0x02
#define VBE_8BIT_DAC        0x20
#define VBE_LFB_ENABLED     0x40
#define VBE_NOCLEARMEM      0x80
#define VBE_MAX_XRES        2560
#define VBE_MAX_YRES        1600
#define VBE_MAX_BPP         32

/* Where the framebuffer memory goes: the VMM backs this with a KVM
 * memslot; unit tests with a recorder. */
struct vga_mem_ops {
	/* Maps the video memory at GPA (0: unmaps it). */
	int (*map)(void *ctx, uint64_t gpa);
	/* Dirty pages since the last call, one bit per 4 KiB page; -1: unknown
	 * (treat everything as dirty). */
	int (*dirty_log)(void *ctx, unsigned long *bitmap);
	void *ctx;
};

struct vga_regs {
	uint8_t misc;                       /* miscellaneous output (0x3C2/0x3CC) */
	uint8_t sr_index, sr[8];            /* sequencer */
	uint8_t gr_index, gr[16];           /* graphics controller */
	uint8_t cr_index, cr[32];           /* CRT controller */
	uint8_t ar_index, ar[21];           /* attribute controller */
	bool ar_flip_flop;                  /* false: next 0x3C0 write is an index */
	uint8_t dac_read_index, dac_write_index, dac_sub_index, dac_state;
	uint8_t dac_cache[3];
	uint8_t palette[768];               /* DAC: 6 bits per component (8 with VBE_8BIT_DAC) */
	uint8_t pel_mask;
	uint8_t feature;
	uint32_t latch;                     /* the four planes' latches */
	uint8_t st01_toggle;                /* a fake retrace bit for polling guests */
};

struct vga {
	struct pci_device pci;
	pthread_mutex_t lock;
	uint8_t *vram;                      /* VGA_VRAM_SIZE bytes, shared with the guest */
	struct vga_mem_ops mem_ops;
	struct vga_regs r;
	uint16_t vbe_index;
	uint16_t vbe[VBE_INDEX_NB];
	uint32_t vbe_start;                 /* byte offset of the visible start in vram */
	uint32_t vbe_line;                  /* bytes per scan line */

	/* Change tracking for the renderer (under LOCK). */
	bool regs_changed;                  /* mode, palette, start address... */
	bool font_changed;                  /* plane 2 was written */
	unsigned long host_dirty[VGA_VRAM_SIZE / 4096 / (8 * sizeof(unsigned long))];
	bool boot_mode_set;                 /* vga_set_boot_mode chose a VBE mode */

	/* Renderer state, under RENDER_LOCK.  The surface's pixels never move. */
	pthread_mutex_t render_lock;
	struct display_surface surface;
	struct dirty_rects dirty;           /* changed since a consumer took them */
	uint8_t *shadow;                    /* text mode: what is on the surface now */
	unsigned shadow_cells;
	uint64_t refreshes, refresh_ns;
	unsigned long *dirty_bitmap;

	uint64_t bad_accesses;              /* guest accesses ignored as invalid */
};

int vga_init(struct vga *v, const struct vga_mem_ops *mem, struct error *err);
void vga_destroy(struct vga *v);
/* Power-on state: mode 3 text as a PC BIOS leaves it, with the built-in
 * font in plane 2. */
void vga_reset(struct vga *v);
/* Sets a VBE linear mode before the guest runs (direct kernel boot hands
 * it to Linux through screen_info). */
void vga_set_boot_mode(struct vga *v, unsigned width, unsigned height, unsigned bpp);
/* The linear framebuffer the guest sees now: BAR 0 address and mode. */
struct vga_fb_info {
	uint64_t base;                      /* 0: BAR not mapped */
	uint32_t size, width, height, stride, bpp;
};
void vga_fb_info(struct vga *v, struct vga_fb_info *out);

/* Renders what changed since the last call into v->surface and adds the
 * changed areas to v->dirty, where a consumer takes them (dirty_take).
 * The caller holds v->render_lock.
 * Returns true if the surface was reallocated (new size or first frame):
 * everything is then dirty.  NOW_MS (monotonic) times the blinking. */
bool vga_refresh(struct vga *v, uint64_t now_ms);

/* The surface's pixels (allocated, not yet touched: a VM nobody watches
 * does not pay for its picture) and the size of the picture, without
 * rendering it: what a viewer is set up with before its first refresh.
 * NULL when out of memory.  Under RENDER_LOCK. */
const uint32_t *vga_surface_for_viewers(struct vga *v, unsigned *w, unsigned *h);
uint64_t vga_now_ms(void);

/* Bus handlers: ports 0x3C0-0x3DF, 0x1CE-0x1CF, the legacy window, BAR 2. */
extern const struct bus_ops vga_port_ops;
extern const struct bus_ops vga_vbe_port_ops;
extern const struct bus_ops vga_window_ops;
extern const struct bus_ops vga_mmio_ops;

/* vga_regs.c: the legacy register file */
uint8_t vga_ioport_read(struct vga *v, unsigned port);
void vga_ioport_write(struct vga *v, unsigned port, uint8_t val);
void vga_regs_mode3(struct vga_regs *r);
/* vga_vbe.c */
uint16_t vga_vbe_read(struct vga *v, unsigned index);
void vga_vbe_write(struct vga *v, unsigned index, uint16_t val);
bool vga_vbe_enabled(const struct vga *v);
/* vga_mem.c: CPU accesses to the 0xA0000 window (offset from 0xA0000) */
uint8_t vga_mem_readb(struct vga *v, uint32_t addr);
void vga_mem_writeb(struct vga *v, uint32_t addr, uint8_t val);
void vga_mark_dirty(struct vga *v, uint32_t offset, uint32_t len);

#endif
