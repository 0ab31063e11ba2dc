/* Creating a qcow2 image: header, refcount table and blocks, and an empty
 * L1 table sized for the virtual size, all counted from the start. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

struct layout {
	uint64_t nt, nb, nl;     /* clusters of refcount table, blocks, L1 */
	uint64_t used;           /* clusters 0..used-1 are in use */
};

/* Blocks count the table, the L1 and themselves: iterate to a fixed point. */
static void plan(const struct qcow2 *s, uint64_t l1_entries, struct layout *l)
{
	uint64_t per_block = 1ull << s->rb_bits, per_cluster = s->cluster_size / 8;
	l->nl = qcow2_bytes_to_clusters(s, l1_entries * 8);
	l->nb = 1;
	for (;;) {
		l->nt = (l->nb + per_cluster - 1) / per_cluster;
		l->used = 1 + l->nt + l->nb + l->nl;
		uint64_t nb = (l->used + per_block - 1) / per_block;
		if (nb == l->nb)
			break;
		l->nb = nb;
	}
}

static int write_refcounts(struct qcow2 *s, const struct layout *l)
{
	uint8_t *buf = calloc(l->nt + l->nb, s->cluster_size);
	if (!buf)
		return -ENOMEM;
	uint64_t per_block = 1ull << s->rb_bits;
	for (uint64_t k = 0; k < l->nb; k++)
		be64_put(buf + k * 8, (1 + l->nt + k) << s->cluster_bits);
	for (uint64_t c = 0; c < l->used; c++) {
		uint8_t *blk = buf + ((l->nt + c / per_block) << s->cluster_bits);
		qcow2_rb_put(s, blk, c % per_block, 1);
	}
	int ret = bfile_pwrite(s->file, buf, (l->nt + l->nb) << s->cluster_bits, s->cluster_size);
	free(buf);
	return ret;
}

static int check_options(const struct blk_create_options *o, const char *path, unsigned *cbits,
			 unsigned *rorder, struct error *err)
{
	uint32_t cs = o->cluster_size ? o->cluster_size : 65536;
	unsigned rb = o->refcount_bits ? o->refcount_bits : 16;
	int compat = o->compat ? o->compat : 3;
	if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)))
		return error_set(err, "cannot create '%s': cluster_size must be a power of two from 512 to 2M", path);
	if (rb > 64 || (rb & (rb - 1)))
		return error_set(err, "cannot create '%s': refcount_bits must be 1, 2, 4, 8, 16, 32 or 64", path);
	if (compat != 2 && compat != 3)
		return error_set(err, "cannot create '%s': compat must be 0.10 or 1.1", path);
	if (compat == 2 && (o->lazy_refcounts || o->extended_l2 || rb != 16))
		return error_set(err, "cannot create '%s': lazy_refcounts, extended_l2 and refcount_bits "
				 "other than 16 need compat=1.1", path);
	if (o->extended_l2 && cs < 16384)
		return error_set(err, "cannot create '%s': extended_l2 needs a cluster_size of 16K or more", path);
	if (o->size % 512)
		return error_set(err, "cannot create '%s': the size must be a multiple of 512 bytes", path);
	*cbits = (unsigned)__builtin_ctz(cs);
	*rorder = (unsigned)__builtin_ctz(rb);
	return 0;
}

static void init_state(struct qcow2 *s, struct blk *tb, const struct blk_create_options *o, unsigned cbits,
		       unsigned rorder)
{
	s->blk = tb;
	s->version = o->compat == 2 ? 2 : 3;
	s->cluster_bits = cbits;
	s->cluster_size = 1ull << cbits;
	s->refcount_order = rorder;
	s->rb_bits = cbits + 3 - rorder;
	s->extl2 = o->extended_l2;
	s->l2e_shift = s->extl2 ? 4 : 3;
	s->l2_bits = cbits - s->l2e_shift;
	s->header_length = s->version == 3 ? 112 : QCOW2_V2_HEADER;
	if (o->lazy_refcounts)
		s->compat |= QCOW2_COMPAT_LAZY_REFCOUNTS;
	if (o->extended_l2)
		s->incompat |= QCOW2_INCOMPAT_EXTL2;
}

static int write_image(struct qcow2 *s, const struct layout *l)
{
	int ret = write_refcounts(s, l);
	if (!ret)
		ret = qcow2_header_write_all(s);
	if (!ret)
		ret = bfile_truncate(s->file, l->used << s->cluster_bits);
	if (!ret)
		ret = bfile_sync(s->file);
	return ret;
}

int qcow2_create(const char *path, const struct blk_create_options *o, struct error *err)
{
	unsigned cbits = 16, rorder = 4;
	if (check_options(o, path, &cbits, &rorder, err) < 0)
		return -1;
	struct blk tb = { .size = o->size, .path = (char *)path };
	struct qcow2 s = { 0 };
	init_state(&s, &tb, o, cbits, rorder);
	uint64_t l1 = qcow2_l1_needed(&s, o->size);
	if (l1 * 8 > QCOW2_MAX_L1_BYTES)
		return error_set(err, "cannot create '%s': %" PRIu64 " bytes is too large for %u-byte clusters",
				 path, o->size, 1u << cbits);
	struct layout l;
	plan(&s, l1, &l);
	s.reft_offset = s.cluster_size;
	s.reft_clusters = (uint32_t)l.nt;
	s.l1_offset = l1 ? (1 + l.nt + l.nb) << cbits : 0;
	s.l1_size = (uint32_t)l1;
	if (o->backing_file) {
		s.backing_file = (char *)o->backing_file;
		s.backing_fmt = o->backing_format == BLK_FORMAT_AUTO ? NULL : (char *)blk_format_str(o->backing_format);
	}
	if (blk_create_file(path, &s.file, err) < 0)
		return -1;
	int ret = write_image(&s, &l);
	bfile_close(s.file);
	if (ret == -ENOSPC && o->backing_file)
		return error_set(err, "cannot create '%s': the backing file name is too long", path);
	if (ret)
		return error_errno(err, -ret, "cannot create '%s'", path);
	return 0;
}
