/* check [-r leaks|all]: count every reference to every cluster from the
 * metadata, compare with the stored refcounts, and optionally repair (the
 * allocator trusts the counted references while repairing). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

#define CHECK_MAX_CLUSTERS (1ull << 26)   /* 256 MiB of counters */

struct chk {
	struct qcow2 *s;
	struct blk_check_result *res;
	uint32_t *refs;
	uint64_t nrefs;          /* clusters in the file */
	uint8_t *l2buf;
	uint64_t last_host;      /* for fragmentation counting */
	bool quiet_fix;          /* counting a second pass: no messages */
};

static void say(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct chk *c, const char *fmt, ...)
{
	if (!c->res->report || c->quiet_fix)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->res->report(c->res->report_ctx, line);
}

static void corrupt(struct chk *c)
{
	if (!c->quiet_fix)
		c->res->corruptions++;
}

/* Counts one reference to each cluster of [OFF, OFF+LEN). */
static void ref(struct chk *c, uint64_t off, uint64_t len)
{
	struct qcow2 *s = c->s;
	if (!len)
		return;
	uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
	for (uint64_t i = first; i <= last; i++) {
		if (i >= c->nrefs) {
			say(c, "ERROR: reference to offset 0x%" PRIx64 " past the end of the file", i << s->cluster_bits);
			corrupt(c);
			return;
		}
		if (c->refs[i] < UINT32_MAX)
			c->refs[i]++;
	}
}

static void count_data(struct chk *c, uint64_t host, bool compressed, bool active)
{
	if (!active)
		return;
	c->res->allocated_clusters++;
	if (compressed) {
		c->res->compressed_clusters++;
		return;
	}
	if (c->last_host && host != c->last_host + c->s->cluster_size)
		c->res->fragmented_clusters++;
	c->last_host = host;
}

static void walk_l2(struct chk *c, uint64_t l2off, bool active)
{
	struct qcow2 *s = c->s;
	int ret = bfile_pread(s->file, c->l2buf, s->cluster_size, l2off);
	if (ret) {
		say(c, "ERROR: cannot read the L2 table at 0x%" PRIx64 ": %s", l2off, strerror(-ret));
		c->res->check_errors++;
		return;
	}
	for (uint64_t j = 0; j < qcow2_l2_entries(s); j++) {
		uint64_t e = qcow2_l2e_get(s, c->l2buf, j), host, len;
		enum qcow2_type type;
		if (qcow2_l2e_classify(s, e, &type, &host) < 0) {
			say(c, "ERROR: L2 entry %" PRIu64 " of the table at 0x%" PRIx64 " is malformed (0x%016" PRIx64 ")",
			    j, l2off, e);
			corrupt(c);
			continue;
		}
		if (type == QCOW2_COMPRESSED) {
			qcow2_compressed_span(s, e, &host, &len);
			ref(c, host, len);
			count_data(c, host, true, active);
		} else if (host) {
			ref(c, host, s->cluster_size);
			if (type == QCOW2_NORMAL)
				count_data(c, host, false, active);
		}
	}
}

static void walk_l1(struct chk *c, const uint64_t *l1, uint32_t n, bool active)
{
	struct qcow2 *s = c->s;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = l1[i] & QCOW2_OFFSET_MASK;
		if (l1[i] & QCOW2_L1_RESERVED) {
			say(c, "ERROR: L1 entry %" PRIu32 " has reserved bits set", i);
			corrupt(c);
			continue;
		}
		if (!off)
			continue;
		if ((off & qcow2_cmask(s)) || (off >> s->cluster_bits) >= c->nrefs) {
			say(c, "ERROR: L1 entry %" PRIu32 " points at an invalid L2 table offset 0x%" PRIx64, i, off);
			corrupt(c);
			continue;
		}
		ref(c, off, s->cluster_size);
		walk_l2(c, off, active);
	}
}

static void walk_snapshots(struct chk *c)
{
	struct qcow2 *s = c->s;
	if (s->nb_snaps)
		ref(c, s->snap_offset, s->snap_bytes);
	for (uint32_t i = 0; i < s->nb_snaps; i++) {
		uint64_t *l1;
		int ret = qcow2_l1_load(s, s->snaps[i].l1_offset, s->snaps[i].l1_size, &l1);
		if (ret) {
			say(c, "ERROR: cannot read the L1 table of snapshot '%s'", s->snaps[i].name);
			c->res->check_errors++;
			continue;
		}
		ref(c, s->snaps[i].l1_offset, (uint64_t)s->snaps[i].l1_size * 8);
		walk_l1(c, l1, s->snaps[i].l1_size, false);
		free(l1);
	}
}

/* Bitmap directory, tables and data clusters belong to the image too. */
static void walk_bitmaps(struct chk *c)
{
	struct qcow2 *s = c->s;
	const struct qcow2_ext *x = NULL;
	for (size_t i = 0; i < s->nexts; i++)
		if (s->exts[i].type == QCOW2_EXT_BITMAPS)
			x = &s->exts[i];
	if (!x || x->len < 24)
		return;
	uint64_t dsize = be64_get(x->data + 8), doff = be64_get(x->data + 16);
	if (dsize > (64u << 20) || (doff >> s->cluster_bits) >= c->nrefs)
		return;
	uint8_t *dir = malloc(dsize ? dsize : 1);
	if (!dir || bfile_pread(s->file, dir, dsize, doff)) {
		free(dir);
		return;
	}
	ref(c, doff, dsize);
	for (uint64_t p = 0; p + 24 <= dsize;) {
		uint64_t toff = be64_get(dir + p);
		uint32_t tsize = be32_get(dir + p + 8);
		uint32_t nlen = be16_get(dir + p + 18), xlen = be32_get(dir + p + 20);
		uint64_t *t = tsize <= (1u << 20) ? calloc(tsize ? tsize : 1, 8) : NULL;
		if (t && (toff >> s->cluster_bits) < c->nrefs && !bfile_pread(s->file, t, (uint64_t)tsize * 8, toff)) {
			ref(c, toff, (uint64_t)tsize * 8);
			for (uint32_t k = 0; k < tsize; k++)
				ref(c, be64_get(&t[k]) & QCOW2_OFFSET_MASK, be64_get(&t[k]) & QCOW2_OFFSET_MASK ? 1 : 0);
		}
		free(t);
		p += (24 + xlen + nlen + 7) & ~7ull;
	}
	free(dir);
}

static void count_all(struct chk *c)
{
	struct qcow2 *s = c->s;
	c->last_host = 0;
	ref(c, 0, s->cluster_size);
	ref(c, s->l1_offset, (uint64_t)s->l1_size * 8);
	walk_l1(c, s->l1, s->l1_size, true);
	walk_snapshots(c);
	ref(c, s->reft_offset, (uint64_t)s->reft_clusters << s->cluster_bits);
	for (uint64_t i = 0; i < s->reft_size; i++) {
		uint64_t off = s->reft[i] & ~QCOW2_REFT_RESERVED;
		if (off)
			ref(c, off, s->cluster_size);
	}
	walk_bitmaps(c);
}

struct tally {
	uint64_t leaks, corruptions;
};

/* Compares stored and counted refcounts; with FIX set, repairs the kinds
 * asked for.  Clusters past the file that still have a refcount are leaks. */
static int compare(struct chk *c, enum blk_repair fix, struct tally *t)
{
	struct qcow2 *s = c->s;
	uint64_t end = c->nrefs;
	for (uint64_t i = 0; i < s->reft_size; i++)
		if (s->reft[i] && ((i + 1) << s->rb_bits) > end)
			end = (i + 1) << s->rb_bits;
	for (uint64_t i = 0; i < end; i++) {
		if (s->repair_refs) {
			/* Repair allocations may have grown (moved) the array. */
			c->refs = s->repair_refs;
			c->nrefs = s->repair_nrefs;
		}
		if (i >= c->nrefs && (i >> s->rb_bits) < s->reft_size && !s->reft[i >> s->rb_bits]) {
			i = ((i >> s->rb_bits) + 1) << s->rb_bits;
			i--;
			continue;
		}
		uint64_t stored;
		int ret = qcow2_rc_get(s, i, &stored);
		if (ret) {
			say(c, "ERROR: cannot read the refcount of cluster %" PRIu64, i);
			c->res->check_errors++;
			continue;
		}
		uint64_t want = i < c->nrefs ? c->refs[i] : 0;
		if (stored == want)
			continue;
		bool leak = stored > want;
		bool repair = (leak && fix != BLK_REPAIR_NONE) || (!leak && fix == BLK_REPAIR_ALL);
		say(c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
		    repair ? "Repairing" : leak ? "Leaked" : "ERROR", i, stored, want);
		if (repair) {
			ret = qcow2_rc_set(s, i, want);
			if (ret)
				return ret;
			if (leak)
				c->res->leaks_fixed++;
			else
				c->res->corruptions_fixed++;
		} else if (leak) {
			t->leaks++;
		} else {
			t->corruptions++;
		}
	}
	return 0;
}

/* Active tables: COPIED must say "refcount is exactly 1". */
static uint64_t check_copied(struct chk *c)
{
	struct qcow2 *s = c->s;
	uint64_t bad = 0;
	for (uint32_t i = 0; i < s->l1_size; i++) {
		uint64_t off = s->l1[i] & QCOW2_OFFSET_MASK, rc;
		if (!off || (off >> s->cluster_bits) >= c->nrefs || qcow2_rc_get(s, off >> s->cluster_bits, &rc))
			continue;
		if ((rc == 1) != !!(s->l1[i] & QCOW2_OFLAG_COPIED)) {
			say(c, "ERROR OFLAG_COPIED L2 cluster: l1_index=%" PRIu32 " l1_entry=%" PRIx64 " refcount=%" PRIu64,
			    i, s->l1[i], rc);
			bad++;
		}
		if (bfile_pread(s->file, c->l2buf, s->cluster_size, off))
			continue;
		for (uint64_t j = 0; j < qcow2_l2_entries(s); j++) {
			uint64_t e = qcow2_l2e_get(s, c->l2buf, j), host;
			enum qcow2_type type;
			if (qcow2_l2e_classify(s, e, &type, &host) || !host || type == QCOW2_COMPRESSED ||
			    qcow2_rc_get(s, host >> s->cluster_bits, &rc))
				continue;
			if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
				say(c, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64, e, rc);
				bad++;
			}
		}
	}
	return bad;
}

static void summarize(struct chk *c)
{
	struct qcow2 *s = c->s;
	uint64_t hi = 0;
	for (uint64_t i = 0; i < c->nrefs; i++)
		if (c->refs[i])
			hi = i + 1;
	c->res->image_end_offset = hi << s->cluster_bits;
	c->res->total_clusters = qcow2_bytes_to_clusters(s, s->blk->size);
}

static int repair(struct chk *c, enum blk_repair fix, struct tally *t)
{
	struct qcow2 *s = c->s;
	if (fix == BLK_REPAIR_ALL) {
		s->repair_refs = c->refs;
		s->repair_nrefs = c->nrefs;
	}
	int ret = compare(c, fix, t);
	/* Repair may have moved the refcount table: settle in a quiet pass. */
	for (int pass = 0; !ret && fix == BLK_REPAIR_ALL && pass < 3; pass++) {
		struct tally again = { 0 };
		c->nrefs = s->repair_nrefs;
		c->refs = s->repair_refs;
		c->quiet_fix = true;
		ret = compare(c, fix, &again);
		c->quiet_fix = false;
	}
	if (fix == BLK_REPAIR_ALL) {
		c->refs = s->repair_refs;
		c->nrefs = s->repair_nrefs;
		s->repair_refs = NULL;
		s->repair_nrefs = 0;
	}
	if (!ret)
		ret = qcow2_flush_locked(s);
	return ret;
}

static int run(struct chk *c, enum blk_repair fix, struct error *err)
{
	struct qcow2 *s = c->s;
	const char *p = s->blk->path;
	int64_t flen = bfile_length(s->file);
	if (flen < 0)
		return error_errno(err, (int)-flen, "cannot read the size of '%s'", p);
	c->nrefs = qcow2_bytes_to_clusters(s, (uint64_t)flen);
	if (c->nrefs > CHECK_MAX_CLUSTERS)
		return error_set(err, "'%s' has too many clusters to check in memory", p);
	c->refs = calloc(c->nrefs ? c->nrefs : 1, sizeof(*c->refs));
	c->l2buf = malloc(s->cluster_size);
	if (!c->refs || !c->l2buf)
		return error_set(err, "out of memory checking '%s'", p);
	int ret = s->rw ? qcow2_flush_locked(s) : 0;
	if (ret)
		return error_errno(err, -ret, "cannot flush '%s' before checking it", p);
	count_all(c);
	struct tally t = { 0 };
	ret = fix != BLK_REPAIR_NONE ? repair(c, fix, &t) : compare(c, fix, &t);
	if (ret)
		return error_errno(err, -ret, "cannot repair '%s'", p);
	c->res->leaks = t.leaks;
	c->res->corruptions += t.corruptions;
	uint64_t bad_flags = check_copied(c);
	if (bad_flags && fix == BLK_REPAIR_ALL) {
		ret = qcow2_tree_fix_copied(s);
		if (!ret)
			ret = qcow2_flush_locked(s);
		if (ret)
			return error_errno(err, -ret, "cannot repair the COPIED flags of '%s'", p);
		c->res->corruptions_fixed += bad_flags;
		c->quiet_fix = true;
		bad_flags = check_copied(c);
		c->quiet_fix = false;
	}
	c->res->corruptions += bad_flags;
	summarize(c);
	return 0;
}

int qcow2_check(struct blk *b, enum blk_repair fix, struct blk_check_result *res, struct error *err)
{
	struct qcow2 *s = b->state;
	struct chk c = { .s = s, .res = res };
	pthread_mutex_lock(&s->lock);
	int ret = run(&c, fix, err);
	pthread_mutex_unlock(&s->lock);
	free(c.refs);
	free(c.l2buf);
	return ret;
}
