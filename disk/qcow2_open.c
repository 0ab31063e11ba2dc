/* Loading and validating the tables the open image keeps in memory (L1,
 * refcount table): every pointer is checked before anything follows it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "disk/be.h"
#include "disk/qcow2.h"

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* A table region: aligned, past the header, inside the file. */
static int check_region(const struct qcow2 *s, const char *what, uint64_t off, uint64_t len,
			uint64_t flen, struct error *err)
{
	const char *p = s->blk->path;
	if (!len)
		return 0;
	if (off & qcow2_cmask(s))
		return error_set(err, "'%s' is corrupt: the %s is not cluster aligned", p, what);
	if (off < s->cluster_size)
		return error_set(err, "'%s' is corrupt: the %s overlaps the header", p, what);
	if (off > flen || len > flen - off)
		return error_set(err, "'%s' is corrupt or truncated: the %s lies past the end of the file",
				 p, what);
	return 0;
}

int qcow2_load_l1(struct qcow2 *s, uint64_t flen, struct error *err)
{
	const char *p = s->blk->path;
	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return error_set(err, "'%s' is corrupt: its L1 table of %" PRIu32 " entries is absurdly large",
				 p, s->l1_size);
	if (s->l1_size < qcow2_l1_needed(s, s->blk->size))
		return error_set(err, "'%s' is corrupt: its L1 table is too small for the virtual size", p);
	if (check_region(s, "L1 table", s->l1_offset, (uint64_t)s->l1_size * 8, flen, err) < 0)
		return -1;
	s->l1 = calloc(s->l1_size ? s->l1_size : 1, sizeof(*s->l1));
	if (!s->l1)
		return error_set(err, "out of memory opening '%s'", p);
	if (!s->l1_size)
		return 0;
	int ret = bfile_pread(s->file, s->l1, (size_t)s->l1_size * 8, s->l1_offset);
	if (ret)
		return error_errno(err, -ret, "cannot read the L1 table of '%s'", p);
	for (uint32_t i = 0; i < s->l1_size; i++)
		s->l1[i] = be64_get(&s->l1[i]);
	return 0;
}

int qcow2_load_reftable(struct qcow2 *s, uint64_t flen, struct error *err)
{
	const char *p = s->blk->path;
	uint64_t bytes = (uint64_t)s->reft_clusters << s->cluster_bits;
	if (!s->reft_clusters || bytes > QCOW2_MAX_REFTABLE_BYTES)
		return error_set(err, "'%s' is corrupt: its refcount table has %" PRIu32 " clusters",
				 p, s->reft_clusters);
	if (check_region(s, "refcount table", s->reft_offset, bytes, flen, err) < 0)
		return -1;
	if (ranges_overlap(s->reft_offset, bytes, s->l1_offset, (uint64_t)s->l1_size * 8))
		return error_set(err, "'%s' is corrupt: the refcount table overlaps the L1 table", p);
	s->reft_size = bytes / 8;
	s->reft = malloc(bytes);
	if (!s->reft)
		return error_set(err, "out of memory opening '%s'", p);
	int ret = bfile_pread(s->file, s->reft, bytes, s->reft_offset);
	if (ret)
		return error_errno(err, -ret, "cannot read the refcount table of '%s'", p);
	for (uint64_t i = 0; i < s->reft_size; i++)
		s->reft[i] = be64_get(&s->reft[i]);
	return 0;
}

/* A pointer to one cluster-sized table (L2 table, refcount block). */
static const char *bad_table_pointer(const struct qcow2 *s, uint64_t off, bool reserved, uint64_t flen)
{
	if (reserved)
		return "has reserved bits set";
	if (off & qcow2_cmask(s))
		return "is not cluster aligned";
	if (off < s->cluster_size)
		return "points at the header";
	if (off >= flen)
		return "points past the end of the file";
	if (ranges_overlap(off, s->cluster_size, s->l1_offset, (uint64_t)s->l1_size * 8))
		return "points into the L1 table";
	if (ranges_overlap(off, s->cluster_size, s->reft_offset, (uint64_t)s->reft_clusters << s->cluster_bits))
		return "points into the refcount table";
	return NULL;
}

int qcow2_validate_tables(struct qcow2 *s, uint64_t flen, struct error *err)
{
	const char *p = s->blk->path;
	for (uint32_t i = 0; i < s->l1_size; i++) {
		if (!s->l1[i])
			continue;
		uint64_t off = s->l1[i] & QCOW2_OFFSET_MASK;
		const char *why = off ? bad_table_pointer(s, off, s->l1[i] & QCOW2_L1_RESERVED, flen)
				      : "has flags but no table";
		if (why)
			return error_set(err, "'%s' is corrupt: L1 entry %" PRIu32 " %s", p, i, why);
	}
	for (uint64_t i = 0; i < s->reft_size; i++) {
		if (!s->reft[i])
			continue;
		const char *why = bad_table_pointer(s, s->reft[i] & ~QCOW2_REFT_RESERVED,
						    s->reft[i] & QCOW2_REFT_RESERVED, flen);
		if (why)
			return error_set(err, "'%s' is corrupt: refcount table entry %" PRIu64 " %s", p, i, why);
	}
	if (!s->reft[0])
		return error_set(err, "'%s' is corrupt: no refcount block covers the header", p);
	return 0;
}
