#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi_aml.h"

enum {
	ZERO_OP = 0x00, ONE_OP = 0x01, NAME_OP = 0x08, BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b,
	DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d, QWORD_PREFIX = 0x0e, SCOPE_OP = 0x10,
	BUFFER_OP = 0x11, PACKAGE_OP = 0x12, METHOD_OP = 0x14, DUAL_NAME = 0x2e, MULTI_NAME = 0x2f,
	EXT_OP = 0x5b, DEVICE_EXT = 0x82, ROOT_CHAR = 0x5c, PARENT_CHAR = 0x5e, NOTIFY_OP = 0x86,
	RETURN_OP = 0xa4, ONES_OP = 0xff,
};

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static bool reserve(struct aml *a, size_t n)
{
	if (a->oom)
		return false;
	if (a->len + n <= a->cap)
		return true;
	size_t cap = a->cap ? a->cap : 256;
	while (cap < a->len + n)
		cap *= 2;
	uint8_t *b = realloc(a->buf, cap);
	if (!b) {
		a->oom = true;
		return false;
	}
	a->buf = b;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (reserve(a, n)) {
		memcpy(a->buf + a->len, p, n);
		a->len += n;
	}
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void nameseg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };
	for (size_t i = 0; i < n && i < 4; i++)
		seg[i] = (char)toupper((unsigned char)s[i]);
	aml_bytes(a, seg, 4);
}

void aml_namestring(struct aml *a, const char *path)
{
	while (*path == '\\' || *path == '^')
		aml_byte(a, *path++ == '\\' ? ROOT_CHAR : PARENT_CHAR);
	unsigned segs = *path ? 1 : 0;
	for (const char *p = path; *p; p++)
		segs += *p == '.';
	if (segs == 0)
		aml_byte(a, ZERO_OP);           /* NullName */
	else if (segs == 2)
		aml_byte(a, DUAL_NAME);
	else if (segs > 2) {
		aml_byte(a, MULTI_NAME);
		aml_byte(a, (uint8_t)segs);
	}
	while (*path) {
		size_t n = strcspn(path, ".");
		nameseg(a, path, n);
		path += n + (path[n] == '.');
	}
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	if (v == 0)
		aml_byte(a, ZERO_OP);
	else if (v == 1)
		aml_byte(a, ONE_OP);
	else if (v == UINT64_MAX)
		aml_byte(a, ONES_OP);
	else if (v <= 0xff) {
		aml_byte(a, BYTE_PREFIX);
		aml_bytes(a, le, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, WORD_PREFIX);
		aml_bytes(a, le, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, DWORD_PREFIX);
		aml_bytes(a, le, 4);
	} else {
		aml_byte(a, QWORD_PREFIX);
		aml_bytes(a, le, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = ((uint32_t)(id[0] - 0x40) & 0x1f) << 26 | ((uint32_t)(id[1] - 0x40) & 0x1f) << 21 |
		     ((uint32_t)(id[2] - 0x40) & 0x1f) << 16 | (uint32_t)strtoul(id + 3, NULL, 16);
	return __builtin_bswap32(v);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = aml_eisaid_value(id);
	aml_byte(a, DWORD_PREFIX);
	aml_bytes(a, &v, 4);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, NAME_OP);
	aml_namestring(a, path);
}

/* The PkgLength is inserted at the mark by aml_end, once the body is known. */
static size_t begin(struct aml *a, const uint8_t *op, size_t oplen)
{
	aml_bytes(a, op, oplen);
	return a->len;
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	size_t m = begin(a, (const uint8_t[]){ SCOPE_OP }, 1);
	aml_namestring(a, path);
	return m;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	size_t m = begin(a, (const uint8_t[]){ EXT_OP, DEVICE_EXT }, 2);
	aml_namestring(a, path);
	return m;
}

size_t aml_method_begin(struct aml *a, const char *path, unsigned nargs, bool serialized)
{
	size_t m = begin(a, (const uint8_t[]){ METHOD_OP }, 1);
	aml_namestring(a, path);
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 8 : 0)));
	return m;
}

size_t aml_package_begin(struct aml *a, unsigned nelems)
{
	size_t m = begin(a, (const uint8_t[]){ PACKAGE_OP }, 1);
	aml_byte(a, (uint8_t)nelems);
	return m;
}

size_t aml_buffer_begin(struct aml *a)
{
	return begin(a, (const uint8_t[]){ BUFFER_OP }, 1);
}

/* PkgLength counts its own bytes; 1 byte holds up to 63, else the lead
 * byte carries the low nibble and the count of following bytes. */
static size_t pkglength_encode(size_t body, uint8_t out[4])
{
	size_t n = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
	size_t total = body + n;
	if (n == 1) {
		out[0] = (uint8_t)total;
		return 1;
	}
	out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (size_t i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return n;
}

static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

void aml_end(struct aml *a, size_t mark)
{
	if (a->oom)
		return;
	uint8_t pl[4];
	size_t n = pkglength_encode(a->len - mark, pl);
	insert(a, mark, pl, n);
}

void aml_buffer_end(struct aml *a, size_t mark)
{
	if (a->oom)
		return;
	/* BufferSize is a TermArg in front of the bytes. */
	struct aml size;
	aml_init(&size);
	aml_int(&size, a->len - mark);
	if (size.oom) {
		a->oom = true;
		return;
	}
	insert(a, mark, size.buf, size.len);
	aml_free(&size);
	aml_end(a, mark);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	aml_byte(a, NOTIFY_OP);
	aml_namestring(a, path);
	aml_int(a, value);
}

void aml_return_int(struct aml *a, uint64_t v)
{
	aml_byte(a, RETURN_OP);
	aml_int(a, v);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	/* I/O port descriptor: 16-bit decode, min = max = base, alignment 1. */
	const uint8_t d[] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8), (uint8_t)base,
			      (uint8_t)(base >> 8), 0x01, len };
	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned irq)
{
	/* IRQ descriptor without flags: edge triggered, active high. */
	uint16_t mask = (uint16_t)(1u << (irq & 15));
	const uint8_t d[] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };
	aml_bytes(a, d, sizeof(d));
}

void aml_res_end(struct aml *a)
{
	const uint8_t d[] = { 0x79, 0x00 };   /* end tag, checksum 0 = not checked */
	aml_bytes(a, d, sizeof(d));
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Word (0x88) and DWord (0x87) address space descriptors share a layout:
 * type, general flags, type flags, then granularity, min, max, translation
 * and length of WIDTH bytes each. */
static void address_space(struct aml *a, uint8_t tag, unsigned width, uint8_t type,
			  uint8_t type_flags, uint64_t min, uint64_t max)
{
	uint8_t d[3 + 3 + 5 * 8];
	size_t body = 3 + 5 * width;
	d[0] = tag;
	d[1] = (uint8_t)body;
	d[2] = (uint8_t)(body >> 8);
	d[3] = type;
	d[4] = 0x0c;              /* producer, min and max fixed, positive decode */
	d[5] = type_flags;
	uint8_t *f = d + 6;
	put_le(f, 0, width);                      /* granularity */
	put_le(f + width, min, width);
	put_le(f + 2 * width, max, width);
	put_le(f + 3 * width, 0, width);          /* translation */
	put_le(f + 4 * width, max - min + 1, width);
	aml_bytes(a, d, 3 + body);
}

void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
	address_space(a, 0x88, 2, 2, 0, min, max);
}

void aml_res_io_range(struct aml *a, uint16_t min, uint16_t max)
{
	address_space(a, 0x88, 2, 1, 0x03 /* ISA and non-ISA ranges */, min, max);
}

void aml_res_mem32_range(struct aml *a, uint32_t min, uint32_t max, bool cacheable)
{
	address_space(a, 0x87, 4, 0, (uint8_t)(0x01 | (cacheable ? 0x02 : 0)), min, max);
}

void aml_res_gsi_level_high(struct aml *a, uint32_t gsi)
{
	uint8_t d[9] = { 0x89, 6, 0, 0x09 /* consumer, level, active high, shared */, 1 };
	put_le(d + 5, gsi, 4);
	aml_bytes(a, d, sizeof(d));
}
