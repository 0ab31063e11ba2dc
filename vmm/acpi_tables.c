#include <string.h>

#include "vmm/acpi.h"
#include "vmm/layout.h"

#define OEM_ID       "VMDECK"
#define OEM_TABLE_ID "VMDECK  "
#define OEM_REVISION 1
#define CREATOR_ID   "VMDK"

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_gas {
	uint8_t space_id;        /* 0 memory, 1 I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;     /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
};

struct __attribute__((packed)) acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
};
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");

struct __attribute__((packed)) acpi_facs {
	char signature[4];
	uint32_t length, hardware_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version, reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
};
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

struct __attribute__((packed)) madt_lapic {
	uint8_t type, length, processor_uid, apic_id;
	uint32_t flags;
};

struct __attribute__((packed)) madt_ioapic {
	uint8_t type, length, ioapic_id, reserved;
	uint32_t address, gsi_base;
};

struct __attribute__((packed)) madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
};

struct __attribute__((packed)) madt_lapic_nmi {
	uint8_t type, length, processor_uid;
	uint16_t flags;
	uint8_t lint;
};

struct __attribute__((packed)) mcfg_alloc {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
};

/* FADT flags */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4)   /* set: the power button is a control-method device */
#define FADT_SLP_BUTTON    (1u << 5)   /* set: no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042           (1u << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_NO_ASPM        (1u << 4)

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

/* A bump allocator over the guest-visible buffer. */
struct table_buf {
	uint8_t *buf;
	size_t len, used;
	uint64_t base_gpa;
	bool overflow;
};

static void *tb_alloc(struct table_buf *tb, size_t size, size_t align, uint64_t *gpa)
{
	size_t at = (tb->used + align - 1) & ~(align - 1);
	if (at > tb->len || size > tb->len - at) {
		tb->overflow = true;
		return NULL;
	}
	tb->used = at + size;
	*gpa = tb->base_gpa + at;
	memset(tb->buf + at, 0, size);
	return tb->buf + at;
}

static void header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = OEM_REVISION;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = (uint8_t)(0 - acpi_checksum(h, h->length));
}

static struct acpi_gas io_gas(uint64_t port, uint8_t bytes)
{
	return (struct acpi_gas){ .space_id = 1, .bit_width = (uint8_t)(bytes * 8),
				  .access_size = (uint8_t)(bytes == 4 ? 3 : bytes), .address = port };
}

static void dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	size_t sb = aml_scope_begin(a, "\\_SB");

	size_t com = aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_int(a, 1);
	aml_name(a, "_CRS");
	size_t crs = aml_buffer_begin(a);
	aml_res_io(a, PORT_COM1, 8);
	aml_res_irq(a, IRQ_COM1);
	aml_res_end(a);
	aml_buffer_end(a, crs);
	aml_end(a, com);

	/* The i8042's keyboard and mouse, for the OS's PNP probe. */
	size_t kbd = aml_device_begin(a, "KBD_");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0303");
	aml_name(a, "_CRS");
	crs = aml_buffer_begin(a);
	aml_res_io(a, PORT_I8042_DATA, 1);
	aml_res_io(a, PORT_I8042_CMD, 1);
	aml_res_irq(a, IRQ_KEYBOARD);
	aml_res_end(a);
	aml_buffer_end(a, crs);
	aml_end(a, kbd);

	size_t mou = aml_device_begin(a, "MOU_");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0F13");
	aml_name(a, "_CRS");
	crs = aml_buffer_begin(a);
	aml_res_irq(a, IRQ_MOUSE);
	aml_res_end(a);
	aml_buffer_end(a, crs);
	aml_end(a, mou);

	size_t pwrb = aml_device_begin(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_name(a, "_UID");
	aml_int(a, 1);
	aml_end(a, pwrb);

	if (cfg->sb_extra)
		cfg->sb_extra(a, cfg->sb_extra_opaque);
	aml_end(a, sb);

	/* The power button is signalled on a level-triggered GPE. */
	size_t gpe = aml_scope_begin(a, "\\_GPE");
	size_t l00 = aml_method_begin(a, "_L00", 0, false);
	aml_notify(a, "\\_SB.PWRB", 0x80);
	aml_end(a, l00);
	aml_end(a, gpe);

	static const struct { const char *name; unsigned typ; } sleep[] = {
		{ "\\_S0", 0 }, { "\\_S5", ACPI_S5_SLP_TYP },
	};
	for (size_t i = 0; i < sizeof(sleep) / sizeof(sleep[0]); i++) {
		aml_name(a, sleep[i].name);
		size_t pkg = aml_package_begin(a, 4);
		aml_int(a, sleep[i].typ);
		aml_int(a, sleep[i].typ);
		aml_int(a, 0);
		aml_int(a, 0);
		aml_end(a, pkg);
	}
}

static uint64_t build_dsdt(struct table_buf *tb, const struct acpi_config *cfg)
{
	struct aml a;
	aml_init(&a);
	dsdt_body(&a, cfg);
	uint64_t gpa = 0;
	size_t len = sizeof(struct acpi_header) + a.len;
	struct acpi_header *h = a.oom ? NULL : tb_alloc(tb, len, 16, &gpa);
	if (h) {
		header_init(h, "DSDT", (uint32_t)len, 2);
		memcpy(h + 1, a.buf, a.len);
		header_seal(h);
	} else {
		tb->overflow = true;
	}
	aml_free(&a);
	return gpa;
}

static uint64_t build_facs(struct table_buf *tb)
{
	uint64_t gpa = 0;
	struct acpi_facs *f = tb_alloc(tb, sizeof(*f), 64, &gpa);
	if (f) {
		memcpy(f->signature, "FACS", 4);
		f->length = sizeof(*f);
		f->version = 2;
	}
	return gpa;
}

static uint64_t build_fadt(struct table_buf *tb, const struct acpi_config *cfg, uint64_t dsdt, uint64_t facs)
{
	uint64_t gpa = 0;
	struct acpi_fadt *f = tb_alloc(tb, sizeof(*f), 16, &gpa);
	if (!f)
		return 0;
	header_init(&f->h, "FACP", sizeof(*f), 6);
	f->firmware_ctrl = (uint32_t)facs;
	f->x_firmware_ctrl = facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->pm_profile = 1;   /* desktop */
	f->sci_int = IRQ_SCI;
	f->smi_cmd = 0;      /* no SMM: the machine is always in ACPI mode */
	f->pm1a_evt_blk = PORT_ACPI_PM + ACPI_PM1_EVT_OFF;
	f->pm1a_cnt_blk = PORT_ACPI_PM + ACPI_PM1_CNT_OFF;
	f->pm_tmr_blk = PORT_ACPI_PM + ACPI_PM_TMR_OFF;
	f->gpe0_blk = PORT_ACPI_PM + ACPI_GPE0_OFF;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->gpe0_blk_len = 4;
	f->p_lvl2_lat = 101;     /* > 100: no C2 */
	f->p_lvl3_lat = 1001;    /* > 1000: no C3 */
	f->century = 0x32;
	/* The i8042 is always there; Linux probes it only with this flag. */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_NO_ASPM |
			    (cfg->vga ? 0 : BOOT_ARCH_VGA_NOT_PRESENT);
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP;
	f->reset_reg = io_gas(PORT_RESET_CTL, 1);
	f->reset_value = ACPI_RESET_VALUE;
	f->minor_version = 0;
	f->x_pm1a_evt_blk = io_gas(f->pm1a_evt_blk, 4);
	f->x_pm1a_cnt_blk = io_gas(f->pm1a_cnt_blk, 2);
	f->x_pm_tmr_blk = io_gas(f->pm_tmr_blk, 4);
	f->x_gpe0_blk = io_gas(f->gpe0_blk, 4);
	memcpy(&f->hypervisor_vendor_id, "VMDECK\0\0", 8);
	header_seal(&f->h);
	return gpa;
}

static uint64_t build_madt(struct table_buf *tb, const struct acpi_config *cfg)
{
	/* ISA IRQ 0 is wired to IOAPIC pin 2; the SCI is level, active high. */
	const struct madt_iso isos[] = {
		{ 2, sizeof(struct madt_iso), 0, 0, 2, 0 },
		{ 2, sizeof(struct madt_iso), 0, IRQ_SCI, IRQ_SCI, 0x000d },
	};
	size_t len = sizeof(struct acpi_header) + 8 + cfg->nr_cpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + sizeof(isos) + sizeof(struct madt_lapic_nmi);
	uint64_t gpa = 0;
	uint8_t *t = tb_alloc(tb, len, 16, &gpa);
	if (!t)
		return 0;
	header_init((struct acpi_header *)t, "APIC", (uint32_t)len, 4);
	uint8_t *p = t + sizeof(struct acpi_header);
	const uint32_t lapic_addr = (uint32_t)LAYOUT_LAPIC, pcat_compat = 1;
	memcpy(p, &lapic_addr, 4);
	memcpy(p + 4, &pcat_compat, 4);
	p += 8;
	for (unsigned i = 0; i < cfg->nr_cpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, 1 };
		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	struct madt_ioapic io = { 1, sizeof(io), cfg->ioapic_id, 0, (uint32_t)LAYOUT_IOAPIC, 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	memcpy(p, isos, sizeof(isos));
	p += sizeof(isos);
	struct madt_lapic_nmi nmi = { 4, sizeof(nmi), 0xff, 0, 1 };   /* LINT1 on every CPU */
	memcpy(p, &nmi, sizeof(nmi));
	header_seal((struct acpi_header *)t);
	return gpa;
}

static uint64_t build_mcfg(struct table_buf *tb, const struct acpi_config *cfg)
{
	size_t len = sizeof(struct acpi_header) + 8 + sizeof(struct mcfg_alloc);
	uint64_t gpa = 0;
	uint8_t *t = tb_alloc(tb, len, 16, &gpa);
	if (!t)
		return 0;
	header_init((struct acpi_header *)t, "MCFG", (uint32_t)len, 1);
	struct mcfg_alloc alloc = { cfg->ecam_base, 0, 0, (uint8_t)(cfg->ecam_buses - 1), 0 };
	memcpy(t + sizeof(struct acpi_header) + 8, &alloc, sizeof(alloc));
	header_seal((struct acpi_header *)t);
	return gpa;
}

static uint64_t build_xsdt(struct table_buf *tb, const uint64_t *tables, unsigned n, bool wide)
{
	size_t entry = wide ? 8 : 4;
	size_t len = sizeof(struct acpi_header) + n * entry;
	uint64_t gpa = 0;
	uint8_t *t = tb_alloc(tb, len, 16, &gpa);
	if (!t)
		return 0;
	header_init((struct acpi_header *)t, wide ? "XSDT" : "RSDT", (uint32_t)len, 1);
	for (unsigned i = 0; i < n; i++)
		memcpy(t + sizeof(struct acpi_header) + i * entry, &tables[i], entry);
	header_seal((struct acpi_header *)t);
	return gpa;
}

size_t acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t len, uint64_t base_gpa,
		  uint64_t *rsdp_gpa)
{
	struct table_buf tb = { .buf = buf, .len = len, .base_gpa = base_gpa };
	uint64_t rsdp_at = 0;
	/* The RSDP goes first so that a legacy scan of the BIOS area finds it. */
	struct acpi_rsdp *rsdp = tb_alloc(&tb, sizeof(*rsdp), 16, &rsdp_at);
	uint64_t facs = build_facs(&tb);
	uint64_t dsdt = build_dsdt(&tb, cfg);
	uint64_t tables[4];
	unsigned n = 0;
	tables[n++] = build_fadt(&tb, cfg, dsdt, facs);
	tables[n++] = build_madt(&tb, cfg);
	if (cfg->ecam_base)
		tables[n++] = build_mcfg(&tb, cfg);
	uint64_t rsdt = build_xsdt(&tb, tables, n, false);
	uint64_t xsdt = build_xsdt(&tb, tables, n, true);
	if (tb.overflow || !rsdp)
		return 0;

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt = (uint32_t)rsdt;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = xsdt;
	rsdp->checksum = (uint8_t)(0 - acpi_checksum(rsdp, 20));
	rsdp->ext_checksum = (uint8_t)(0 - acpi_checksum(rsdp, sizeof(*rsdp)));
	*rsdp_gpa = rsdp_at;
	return tb.used;
}
