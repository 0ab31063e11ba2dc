/* ELF kernels with a PVH entry point (Xen's XEN_ELFNOTE_PHYS32_ENTRY note),
 * as Linux vmlinux builds with CONFIG_PVH and the test guests provide. */
#include <elf.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Program headers, normalised from ELF32 or ELF64. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const uint8_t *image;
	size_t size;
	bool is64;
	uint64_t phoff;
	unsigned phnum, phentsize;
};

static bool in_file(const struct elf_view *v, uint64_t off, uint64_t len)
{
	return off <= v->size && len <= v->size - off;
}

static int parse_ehdr(struct elf_view *v, struct error *err)
{
	const uint8_t *id = v->image;
	if (v->size < sizeof(Elf64_Ehdr))
		return error_set(err, "it is an ELF file too short to hold its own header");
	if (id[EI_DATA] != ELFDATA2LSB || (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64))
		return error_set(err, "it is an ELF file but not a little-endian 32- or 64-bit one");
	v->is64 = id[EI_CLASS] == ELFCLASS64;
	if (v->is64) {
		const Elf64_Ehdr *e = (const Elf64_Ehdr *)v->image;
		if (e->e_machine != EM_X86_64)
			return error_set(err, "it is an ELF file for another machine (e_machine %u)", e->e_machine);
		v->phoff = e->e_phoff;
		v->phnum = e->e_phnum;
		v->phentsize = e->e_phentsize;
		if (v->phentsize != sizeof(Elf64_Phdr))
			return error_set(err, "its ELF program headers have an unexpected size");
	} else {
		const Elf32_Ehdr *e = (const Elf32_Ehdr *)v->image;
		if (e->e_machine != EM_386 && e->e_machine != EM_X86_64)
			return error_set(err, "it is an ELF file for another machine (e_machine %u)", e->e_machine);
		v->phoff = e->e_phoff;
		v->phnum = e->e_phnum;
		v->phentsize = e->e_phentsize;
		if (v->phentsize != sizeof(Elf32_Phdr))
			return error_set(err, "its ELF program headers have an unexpected size");
	}
	if (v->phnum == 0 || !in_file(v, v->phoff, (uint64_t)v->phnum * v->phentsize))
		return error_set(err, "its ELF program headers lie outside the file");
	return 0;
}

static struct phdr get_phdr(const struct elf_view *v, unsigned i)
{
	const uint8_t *p = v->image + v->phoff + (uint64_t)i * v->phentsize;
	if (v->is64) {
		Elf64_Phdr h;
		memcpy(&h, p, sizeof(h));
		return (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
	}
	Elf32_Phdr h;
	memcpy(&h, p, sizeof(h));
	return (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
}

/* Finds the PVH entry in the notes of segment PH; returns 0 if found. */
static int find_pvh_note(const struct elf_view *v, const struct phdr *ph, uint64_t *entry)
{
	uint64_t off = ph->offset, end = ph->offset + ph->filesz;
	while (end - off >= 12) {
		uint32_t hdr[3];
		memcpy(hdr, v->image + off, sizeof(hdr));
		uint64_t namesz = (hdr[0] + 3ull) & ~3ull, descsz = (hdr[1] + 3ull) & ~3ull;
		uint64_t body = off + 12;
		if (namesz > end - body || descsz > end - body - namesz)
			return -1;
		if (hdr[2] == XEN_ELFNOTE_PHYS32_ENTRY && hdr[0] == 4 &&
		    memcmp(v->image + body, "Xen", 4) == 0 && (hdr[1] == 4 || hdr[1] == 8)) {
			uint64_t value = 0;
			memcpy(&value, v->image + body + namesz, hdr[1]);
			*entry = value;
			return 0;
		}
		off = body + namesz + descsz;
	}
	return -1;
}

/* The entry point comes first: a file without one is not a PVH kernel,
 * whatever its segments look like. */
static int find_entry(const struct elf_view *v, uint64_t *entry, struct error *err)
{
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = get_phdr(v, i);
		if (!in_file(v, ph.offset, ph.filesz))
			return error_set(err, "its ELF segment %u lies outside the file", i);
		if (ph.type == PT_NOTE && find_pvh_note(v, &ph, entry) == 0)
			return 0;
	}
	return error_set(err, "it is an ELF file without a PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY note); "
			 "build the kernel with CONFIG_PVH or use its bzImage");
}

static int load_segments(const struct guest_mem *gm, const struct elf_view *v, uint64_t *top,
			 struct error *err)
{
	bool loaded = false;
	*top = 0;
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = get_phdr(v, i);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		/* find_entry stops at the note, so segments after it are
		 * unchecked until here. */
		if (!in_file(v, ph.offset, ph.filesz))
			return error_set(err, "its ELF segment %u lies outside the file", i);
		if (ph.filesz > ph.memsz)
			return error_set(err, "its ELF segment %u has more file bytes than memory bytes", i);
		uint8_t *dst = gm_ptr(gm, ph.paddr, ph.memsz);
		if (!dst || ph.paddr < LAYOUT_HIGH_MEM)
			return error_set(err, "its ELF segment %u (%#llx-%#llx) is not inside the VM's RAM above 1 MiB; "
					 "raise --mem or check the file", i, (unsigned long long)ph.paddr,
					 (unsigned long long)(ph.paddr + ph.memsz));
		memcpy(dst, v->image + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		if (ph.paddr + ph.memsz > *top)
			*top = ph.paddr + ph.memsz;
		loaded = true;
	}
	if (!loaded)
		return error_set(err, "it is an ELF file with nothing to load");
	return 0;
}

static int write_start_info(const struct guest_mem *gm, const struct boot_config *cfg,
			    uint64_t initrd_at)
{
	struct hvm_start_info *si = gm_ptr(gm, LAYOUT_ZERO_PAGE, 4096);
	struct hvm_memmap_entry *mm = gm_ptr(gm, LAYOUT_PVH_MEMMAP,
					     cfg->e820->nr * sizeof(struct hvm_memmap_entry));
	if (!si || !mm)
		return -1;
	memset(si, 0, 4096);
	for (unsigned i = 0; i < cfg->e820->nr; i++)
		mm[i] = (struct hvm_memmap_entry){ cfg->e820->e[i].addr, cfg->e820->e[i].size,
						   cfg->e820->e[i].type, 0 };
	*si = (struct hvm_start_info){
		.magic = PVH_START_MAGIC, .version = 1,
		.cmdline_paddr = LAYOUT_CMDLINE, .rsdp_paddr = cfg->rsdp,
		.memmap_paddr = LAYOUT_PVH_MEMMAP, .memmap_entries = cfg->e820->nr,
	};
	if (cfg->initrd) {
		struct hvm_modlist_entry *mod = (void *)((uint8_t *)si + 256);
		*mod = (struct hvm_modlist_entry){ .paddr = initrd_at, .size = cfg->initrd_size };
		si->nr_modules = 1;
		si->modlist_paddr = LAYOUT_ZERO_PAGE + 256;
	}
	return 0;
}

int boot_load_pvh(const struct guest_mem *gm, const struct boot_config *cfg,
		  struct boot_entry *entry, struct error *err)
{
	struct elf_view v = { .image = cfg->kernel, .size = cfg->kernel_size };
	uint64_t rip = 0, top = 0, initrd_at = 0;
	if (parse_ehdr(&v, err) < 0 || find_entry(&v, &rip, err) < 0 ||
	    load_segments(gm, &v, &top, err) < 0)
		return -1;
	if (rip >= 1ull << 32 || !gm_is_ram(gm, rip, 1))
		return error_set(err, "its PVH entry point %#llx is not in the VM's RAM", (unsigned long long)rip);
	if (boot_write_cmdline(gm, cfg->cmdline, LAYOUT_CMDLINE_MAX - 1, err) < 0)
		return -1;
	if (cfg->initrd && boot_place_initrd(gm, cfg, top, LAYOUT_LOW_RAM_MAX, &initrd_at, err) < 0)
		return -1;
	if (write_start_info(gm, cfg, initrd_at) < 0 || boot_write_cpu_tables(gm) < 0)
		return error_set(err, "guest RAM is too small for the PVH start information");
	*entry = (struct boot_entry){ .mode = BOOT_MODE_PVH32, .rip = rip, .arg = LAYOUT_ZERO_PAGE };
	return 0;
}
