/* Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst). */
#include <asm/bootparam.h>
#include <linux/screen_info.h>
#include <stddef.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/layout.h"

#define SETUP_HDR_OFFSET 0x1f1
#define MIN_PROTOCOL     0x020c   /* 2.12: xloadflags and the 64-bit entry flag */

static void fill_e820(struct boot_params *bp, const struct e820_map *map)
{
	unsigned n = map->nr < E820_MAX_ENTRIES_ZEROPAGE ? map->nr : E820_MAX_ENTRIES_ZEROPAGE;
	for (unsigned i = 0; i < n; i++) {
		bp->e820_table[i].addr = map->e[i].addr;
		bp->e820_table[i].size = map->e[i].size;
		bp->e820_table[i].type = map->e[i].type;
	}
	bp->e820_entries = (__u8)n;
}

/* Copies the image's setup header into BP; its length is given by the jump
 * at offset 0x200 (boot.rst: "the end of the setup header"). */
static void copy_setup_header(struct boot_params *bp, const uint8_t *image)
{
	size_t end = 0x202 + image[0x201];
	size_t max_end = SETUP_HDR_OFFSET + sizeof(bp->hdr);
	if (end > max_end)
		end = max_end;
	memcpy((uint8_t *)bp + SETUP_HDR_OFFSET, image + SETUP_HDR_OFFSET, end - SETUP_HDR_OFFSET);
}

static int check_header(const struct setup_header *h, size_t size, size_t setup_bytes,
			struct error *err)
{
	if (h->version < MIN_PROTOCOL)
		return error_set(err, "it uses Linux boot protocol %u.%02u and vmdeck needs 2.12 or newer "
				 "for the 64-bit entry (Linux 3.8 or later)", h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return error_set(err, "it is a bzImage without a 64-bit entry point (a 32-bit kernel)");
	if (setup_bytes >= size)
		return error_set(err, "it is truncated: the setup code claims %zu bytes and the file has %zu",
				 setup_bytes, size);
	/* syssize counts the protected-mode payload in 16-byte units. */
	if ((uint64_t)h->syssize * 16 > size - setup_bytes)
		return error_set(err, "it is truncated: the header promises %llu bytes of kernel and the file "
				 "holds %zu", (unsigned long long)h->syssize * 16, size - setup_bytes);
	return 0;
}

/* A VBE linear mode for vesafb/simplefb (VIDEO_TYPE_VLFB: sizes in 64 KiB
 * units, channel positions as in a VBE mode info block). */
static void fill_screen_info(struct boot_params *bp, const struct boot_fb *fb)
{
	struct screen_info *si = &bp->screen_info;
	memset(si, 0, sizeof(*si));
	si->orig_video_isVGA = VIDEO_TYPE_VLFB;
	si->lfb_width = (__u16)fb->width;
	si->lfb_height = (__u16)fb->height;
	si->lfb_depth = (__u16)fb->bpp;
	si->lfb_linelength = (__u16)fb->stride;
	si->lfb_base = (__u32)fb->base;
	si->ext_lfb_base = (__u32)(fb->base >> 32);
	if (fb->base >> 32)
		si->capabilities |= VIDEO_CAPABILITY_64BIT_BASE;
	si->lfb_size = (fb->size + 0xffff) >> 16;
	si->pages = 1;
	si->orig_video_lines = (__u8)(fb->height / 16);
	si->orig_video_cols = (__u8)(fb->width / 8);
	si->orig_video_points = 16;
	if (fb->bpp == 32 || fb->bpp == 24) {
		si->red_size = si->green_size = si->blue_size = 8;
		si->red_pos = 16;
		si->green_pos = 8;
		si->blue_pos = 0;
		if (fb->bpp == 32) {
			si->rsvd_size = 8;
			si->rsvd_pos = 24;
		}
	} else if (fb->bpp == 16) {
		si->red_size = 5, si->green_size = 6, si->blue_size = 5;
		si->red_pos = 11, si->green_pos = 5, si->blue_pos = 0;
	}
}

int boot_load_bzimage(const struct guest_mem *gm, const struct boot_config *cfg,
		      struct boot_entry *entry, struct error *err)
{
	const uint8_t *image = cfg->kernel;
	size_t size = cfg->kernel_size;
	if (size < SETUP_HDR_OFFSET + sizeof(struct setup_header) + 512)
		return error_set(err, "it is too short to be a bzImage (%zu bytes)", size);

	struct boot_params *bp = gm_ptr(gm, LAYOUT_ZERO_PAGE, sizeof(*bp));
	if (!bp)
		return error_set(err, "guest RAM is too small for the boot parameters");
	memset(bp, 0, sizeof(*bp));
	copy_setup_header(bp, image);
	struct setup_header *h = &bp->hdr;

	size_t setup_sects = h->setup_sects ? h->setup_sects : 4;
	size_t setup_bytes = (setup_sects + 1) * 512;
	if (check_header(h, size, setup_bytes, err) < 0)
		return -1;

	uint64_t align = h->kernel_alignment;
	if (align < 4096 || (align & (align - 1)))
		align = 2 * MiB;
	uint64_t load = h->pref_address ? h->pref_address : LAYOUT_KERNEL_DEFAULT;
	if (h->relocatable_kernel)
		load = (load + align - 1) & ~(align - 1);
	uint64_t payload = size - setup_bytes;
	uint64_t need = h->init_size > payload ? h->init_size : payload;
	if (load < LAYOUT_HIGH_MEM || !gm_is_ram(gm, load, need))
		return error_set(err, "the kernel needs %llu MiB of RAM from %#llx, more than the VM has; "
				 "raise --mem", (unsigned long long)((load + need) >> 20) + 1,
				 (unsigned long long)load);
	memcpy(gm_ptr(gm, load, payload), image + setup_bytes, payload);

	size_t cmdline_max = h->version >= 0x0206 ? h->cmdline_size : 255;
	if (boot_write_cmdline(gm, cfg->cmdline, cmdline_max, err) < 0)
		return -1;
	h->cmd_line_ptr = (__u32)LAYOUT_CMDLINE;

	if (cfg->initrd) {
		uint64_t max_end = (uint64_t)h->initrd_addr_max + 1;
		if (max_end > LAYOUT_LOW_RAM_MAX)
			max_end = LAYOUT_LOW_RAM_MAX;
		uint64_t at;
		if (boot_place_initrd(gm, cfg, load + need, max_end, &at, err) < 0)
			return -1;
		h->ramdisk_image = (__u32)at;
		h->ramdisk_size = (__u32)cfg->initrd_size;
	}

	h->vid_mode = 0xffff;                 /* "normal" */
	h->type_of_loader = 0xff;             /* undefined boot loader */
	h->loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	h->loadflags &= (__u8)~KEEP_SEGMENTS;
	h->heap_end_ptr = 0xfe00;
	bp->acpi_rsdp_addr = cfg->rsdp;
	fill_e820(bp, cfg->e820);
	if (cfg->fb)
		fill_screen_info(bp, cfg->fb);

	if (boot_write_cpu_tables(gm) < 0)
		return error_set(err, "guest RAM is too small for the boot page tables");
	*entry = (struct boot_entry){ .mode = BOOT_MODE_LINUX64, .rip = load + 0x200,
				      .arg = LAYOUT_ZERO_PAGE };
	return 0;
}
