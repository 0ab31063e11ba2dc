/* A minimal AML (ACPI Machine Language) encoder for the DSDT.
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) are
 * written as begin ... end pairs: begin returns a mark, end inserts the
 * length once the body is known. */
#ifndef VMDECK_ACPI_AML_H
#define VMDECK_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool oom;        /* sticky: set when an allocation failed */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: "\\_SB.PCI0", "_HID", "^FOO"; segments padded with '_'. */
void aml_namestring(struct aml *a, const char *path);
/* The smallest integer encoding of V (Zero, One, Ones, Byte/Word/DWord/QWord). */
void aml_int(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Compressed EISA id such as "PNP0501" as a DWord integer. */
void aml_eisaid(struct aml *a, const char *id);
uint32_t aml_eisaid_value(const char *id);

/* Name(PATH, ...): emits NameOp and the name; the value follows. */
void aml_name(struct aml *a, const char *path);

size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs, bool serialized);
size_t aml_package_begin(struct aml *a, unsigned nelems);
/* Buffer whose size is the byte count of its body (as ResourceTemplate). */
size_t aml_buffer_begin(struct aml *a);
void aml_end(struct aml *a, size_t mark);
void aml_buffer_end(struct aml *a, size_t mark);

/* Notify(PATH, VALUE) and Return(integer) */
void aml_notify(struct aml *a, const char *path, uint64_t value);
void aml_return_int(struct aml *a, uint64_t v);

/* Resource descriptors for _CRS buffers; aml_buffer_end adds the end tag
 * when aml_res_end is called first. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned irq);
void aml_res_end(struct aml *a);
/* Address-space descriptors a host bridge produces (min/max fixed). */
void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_range(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max, bool cacheable);
/* Extended interrupt descriptor: one GSI, level-triggered, active high,
 * shared (how PCI INTx reaches KVM's IOAPIC). */
void aml_res_gsi_level_high(struct aml *a, uint32_t gsi);

#endif
