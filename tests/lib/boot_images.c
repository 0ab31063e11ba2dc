#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/bootparam.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/boot_images.h"

/* ---- bzImage ---------------------------------------------------------------- */

#define HDR_OFFSET 0x1f1

void tl_bz_defaults(struct tl_bz *o)
{
	*o = (struct tl_bz){
		.version = 0x020f, .setup_sects = 4, .xloadflags = XLF_KERNEL_64, .relocatable = 1,
		.loadflags = LOADED_HIGH, .kernel_alignment = 2u << 20, .pref_address = 16ull << 20,
		.init_size = 4u << 20, .initrd_addr_max = 0x7fffffff, .cmdline_size = 2047,
		.jump = (uint8_t)(HDR_OFFSET + sizeof(struct setup_header) - 0x202), .payload = 64 << 10,
	};
}

uint8_t tl_bz_payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 8));
}

size_t tl_bz_setup_bytes(const struct tl_bz *o)
{
	return ((o->setup_sects ? o->setup_sects : 4) + 1) * 512u;
}

uint8_t *tl_bz_build(const struct tl_bz *o, size_t *size)
{
	size_t setup = tl_bz_setup_bytes(o);
	*size = setup + o->payload;
	uint8_t *img = calloc(1, *size);
	assert_non_null(img);
	struct setup_header h;
	memset(&h, 0, sizeof(h));
	h.setup_sects = o->setup_sects;
	h.syssize = (uint32_t)((o->payload + 15) / 16);
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | o->jump << 8);
	memcpy(&h.header, "HdrS", 4);
	h.version = o->version;
	h.loadflags = o->loadflags;
	h.code32_start = 0x100000;
	h.initrd_addr_max = o->initrd_addr_max;
	h.kernel_alignment = o->kernel_alignment;
	h.relocatable_kernel = o->relocatable;
	h.min_alignment = 21;
	h.xloadflags = o->xloadflags;
	h.cmdline_size = o->cmdline_size;
	h.pref_address = o->pref_address;
	h.init_size = o->init_size;
	memcpy(img + HDR_OFFSET, &h, sizeof(h));
	/* Real setup code would follow the header; mark it so that a loader
	 * copying it into the payload area is caught. */
	memset(img + HDR_OFFSET + sizeof(h), 0x5e, setup - HDR_OFFSET - sizeof(h));
	for (size_t i = 0; i < o->payload; i++)
		img[setup + i] = tl_bz_payload_byte(i);
	return img;
}

/* ---- PVH ELF ------------------------------------------------------------------ */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

void tl_pvh_defaults(struct tl_pvh *o)
{
	*o = (struct tl_pvh){ .is64 = true, .paddr = 16ull << 20, .filesz = 8 << 10, .memsz = 64 << 10,
			      .entry_size = 8, .note = true };
	o->entry = o->paddr + 0x40;
}

uint8_t tl_pvh_seg_byte(size_t i)
{
	return (uint8_t)(0x90 + i * 13 + (i >> 9));
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	uint32_t hdr[3] = { namesz, descsz, type };
	size_t off = 0;
	if (p)
		memcpy(p, hdr, 12);
	off += 12;
	if (p)
		memcpy(p + off, name, namesz);
	off += (namesz + 3u) & ~3u;
	if (p && descsz)
		memcpy(p + off, desc, descsz);
	off += (descsz + 3u) & ~3u;
	return off;
}

static void put_ph(uint8_t *p, bool is64, uint32_t type, uint64_t offset, uint64_t paddr,
		   uint64_t filesz, uint64_t memsz)
{
	if (is64) {
		Elf64_Phdr h = { .p_type = type, .p_flags = PF_R | PF_X, .p_offset = offset, .p_vaddr = paddr,
				 .p_paddr = paddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = 16 };
		memcpy(p, &h, sizeof(h));
	} else {
		Elf32_Phdr h = { .p_type = type, .p_flags = PF_R | PF_X, .p_offset = (Elf32_Off)offset,
				 .p_vaddr = (Elf32_Addr)paddr, .p_paddr = (Elf32_Addr)paddr,
				 .p_filesz = (Elf32_Word)filesz, .p_memsz = (Elf32_Word)memsz, .p_align = 16 };
		memcpy(p, &h, sizeof(h));
	}
}

uint8_t *tl_pvh_build(const struct tl_pvh *o, size_t *size, struct tl_pvh_layout *lay)
{
	struct tl_pvh_layout l = { 0 };
	size_t ehsize = o->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	l.phentsize = o->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	l.phnum = 2;
	l.phoff = ehsize;
	l.note_ph = o->load_first ? 1 : 0;
	l.load_ph = o->load_first ? 0 : 1;
	l.notes_off = l.phoff + l.phnum * l.phentsize;

	/* A build-id note first, so that the loader has to walk past it. */
	static const uint8_t build_id[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	uint64_t entry = o->entry;
	size_t gnu = put_note(NULL, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	size_t xen = o->note ? put_note(NULL, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, o->entry_size) : 0;
	l.notes_size = gnu + xen;
	l.xen_note_off = l.notes_off + gnu;
	l.seg_off = (l.notes_off + l.notes_size + 15) & ~(size_t)15;
	*size = l.seg_off + o->filesz;

	uint8_t *img = calloc(1, *size ? *size : 1);
	assert_non_null(img);
	if (o->is64) {
		Elf64_Ehdr e = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
				 .e_entry = 0xffffffff81000000ull, .e_phoff = l.phoff, .e_ehsize = sizeof(e),
				 .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (Elf64_Half)l.phnum };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		e.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &e, sizeof(e));
	} else {
		Elf32_Ehdr e = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
				 .e_entry = 0xc1000000u, .e_phoff = (Elf32_Off)l.phoff, .e_ehsize = sizeof(e),
				 .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = (Elf32_Half)l.phnum };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS32;
		e.e_ident[EI_DATA] = ELFDATA2LSB;
		e.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &e, sizeof(e));
	}
	put_ph(img + l.phoff + l.note_ph * l.phentsize, o->is64, PT_NOTE, l.notes_off, 0, l.notes_size,
	       l.notes_size);
	put_ph(img + l.phoff + l.load_ph * l.phentsize, o->is64, PT_LOAD, l.seg_off, o->paddr, o->filesz,
	       o->memsz);
	put_note(img + l.notes_off, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	if (o->note)
		put_note(img + l.xen_note_off, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, o->entry_size);
	for (size_t i = 0; i < o->filesz; i++)
		img[l.seg_off + i] = tl_pvh_seg_byte(i);
	if (lay)
		*lay = l;
	return img;
}

void tl_pvh_set_ph(uint8_t *img, const struct tl_pvh *o, const struct tl_pvh_layout *lay,
		   unsigned index, enum tl_ph_field field, uint64_t value)
{
	uint8_t *p = img + lay->phoff + index * lay->phentsize;
	if (o->is64) {
		Elf64_Phdr h;
		memcpy(&h, p, sizeof(h));
		switch (field) {
		case TL_PH_TYPE: h.p_type = (Elf64_Word)value; break;
		case TL_PH_OFFSET: h.p_offset = value; break;
		case TL_PH_PADDR: h.p_paddr = value; break;
		case TL_PH_FILESZ: h.p_filesz = value; break;
		case TL_PH_MEMSZ: h.p_memsz = value; break;
		}
		memcpy(p, &h, sizeof(h));
	} else {
		Elf32_Phdr h;
		memcpy(&h, p, sizeof(h));
		switch (field) {
		case TL_PH_TYPE: h.p_type = (Elf32_Word)value; break;
		case TL_PH_OFFSET: h.p_offset = (Elf32_Off)value; break;
		case TL_PH_PADDR: h.p_paddr = (Elf32_Addr)value; break;
		case TL_PH_FILESZ: h.p_filesz = (Elf32_Word)value; break;
		case TL_PH_MEMSZ: h.p_memsz = (Elf32_Word)value; break;
		}
		memcpy(p, &h, sizeof(h));
	}
}
