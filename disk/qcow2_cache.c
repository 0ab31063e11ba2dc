/* A write-back cache of cluster-sized tables (L2 tables, refcount blocks),
 * looked up by host offset through a hash, evicted with the clock
 * algorithm.  Callers hold s->lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/qcow2.h"

struct slot {
	uint64_t offset;     /* 0: empty (cluster 0 is always the header) */
	int next;            /* hash chain, -1 ends it */
	int pins;
	bool dirty;
	bool referenced;
};

struct qcow2_cache {
	struct qcow2 *s;
	unsigned n;
	unsigned hand;
	unsigned ndirty;
	uint8_t *mem;
	struct slot *slots;
	int *buckets;
	unsigned bucket_mask;
	int (*before_write)(struct qcow2 *);
};

static unsigned bucket_of(const struct qcow2_cache *c, uint64_t offset)
{
	uint64_t h = (offset >> c->s->cluster_bits) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 32) & c->bucket_mask;
}

static void *slot_mem(const struct qcow2_cache *c, int i)
{
	return c->mem + ((size_t)i << c->s->cluster_bits);
}

static int slot_of(const struct qcow2_cache *c, const void *table)
{
	return (int)(((const uint8_t *)table - c->mem) >> c->s->cluster_bits);
}

struct qcow2_cache *qcow2_cache_new(struct qcow2 *s, unsigned slots, int (*before_write)(struct qcow2 *))
{
	struct qcow2_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	unsigned nb = 1;
	while (nb < slots * 2)
		nb <<= 1;
	c->s = s;
	c->n = slots;
	c->bucket_mask = nb - 1;
	c->before_write = before_write;
	c->slots = calloc(slots, sizeof(*c->slots));
	c->buckets = malloc(nb * sizeof(*c->buckets));
	c->mem = bfile_alloc(s->file, (size_t)slots << s->cluster_bits);
	if (!c->slots || !c->buckets || !c->mem) {
		qcow2_cache_free(c);
		return NULL;
	}
	for (unsigned i = 0; i < nb; i++)
		c->buckets[i] = -1;
	for (unsigned i = 0; i < slots; i++)
		c->slots[i].next = -1;
	return c;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->buckets);
	free(c->mem);
	free(c);
}

unsigned qcow2_cache_slots(const struct qcow2_cache *c)
{
	return c->n;
}

static int lookup(const struct qcow2_cache *c, uint64_t offset)
{
	for (int i = c->buckets[bucket_of(c, offset)]; i >= 0; i = c->slots[i].next)
		if (c->slots[i].offset == offset)
			return i;
	return -1;
}

static void unlink_slot(struct qcow2_cache *c, int i)
{
	int *pp = &c->buckets[bucket_of(c, c->slots[i].offset)];
	while (*pp != i)
		pp = &c->slots[*pp].next;
	*pp = c->slots[i].next;
	c->slots[i].next = -1;
	c->slots[i].offset = 0;
	c->slots[i].referenced = false;
}

static void link_slot(struct qcow2_cache *c, int i, uint64_t offset)
{
	unsigned b = bucket_of(c, offset);
	c->slots[i].offset = offset;
	c->slots[i].next = c->buckets[b];
	c->buckets[b] = i;
}

static int write_slot(struct qcow2_cache *c, int i)
{
	struct slot *sl = &c->slots[i];
	if (!sl->dirty)
		return 0;
	if (c->before_write) {
		int ret = c->before_write(c->s);
		if (ret)
			return ret;
	}
	int ret = bfile_pwrite(c->s->file, slot_mem(c, i), c->s->cluster_size, sl->offset);
	if (ret)
		return ret;
	sl->dirty = false;
	c->ndirty--;
	return 0;
}

/* Second chance: a slot used since the hand last passed survives one sweep. */
static int pick_victim(struct qcow2_cache *c)
{
	for (unsigned tries = 0; tries < 2 * c->n + 1; tries++) {
		int i = (int)(c->hand++ % c->n);
		struct slot *sl = &c->slots[i];
		if (sl->pins)
			continue;
		if (sl->referenced) {
			sl->referenced = false;
			continue;
		}
		return i;
	}
	return -1;
}

static int claim_slot(struct qcow2_cache *c, uint64_t offset, int *out)
{
	if (offset == 0 || (offset & qcow2_cmask(c->s)))
		return -EIO;
	int i = pick_victim(c);
	if (i < 0)
		return -EBUSY;
	int ret = write_slot(c, i);
	if (ret)
		return ret;
	if (c->slots[i].offset)
		unlink_slot(c, i);
	*out = i;
	return 0;
}

static void pin(struct qcow2_cache *c, int i, void **table)
{
	c->slots[i].pins++;
	c->slots[i].referenced = true;
	*table = slot_mem(c, i);
}

int qcow2_cache_get(struct qcow2_cache *c, uint64_t offset, void **table)
{
	int i = lookup(c, offset);
	if (i < 0) {
		int ret = claim_slot(c, offset, &i);
		if (ret)
			return ret;
		ret = bfile_pread(c->s->file, slot_mem(c, i), c->s->cluster_size, offset);
		if (ret)
			return ret;
		link_slot(c, i, offset);
	}
	pin(c, i, table);
	return 0;
}

int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t offset, void **table)
{
	int i = lookup(c, offset);
	if (i < 0) {
		int ret = claim_slot(c, offset, &i);
		if (ret)
			return ret;
		link_slot(c, i, offset);
	}
	memset(slot_mem(c, i), 0, c->s->cluster_size);
	pin(c, i, table);
	return 0;
}

void qcow2_cache_put(struct qcow2_cache *c, void *table)
{
	c->slots[slot_of(c, table)].pins--;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, void *table)
{
	struct slot *sl = &c->slots[slot_of(c, table)];
	if (!sl->dirty) {
		sl->dirty = true;
		c->ndirty++;
	}
}

int qcow2_cache_write_one(struct qcow2_cache *c, void *table)
{
	return write_slot(c, slot_of(c, table));
}

int qcow2_cache_write(struct qcow2_cache *c)
{
	if (!c->ndirty)
		return 0;
	if (c->before_write) {
		int ret = c->before_write(c->s);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < c->n && c->ndirty; i++) {
		int ret = write_slot(c, (int)i);
		if (ret)
			return ret;
	}
	return 0;
}

bool qcow2_cache_dirty(const struct qcow2_cache *c)
{
	return c->ndirty > 0;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t offset)
{
	int i = lookup(c, offset);
	if (i < 0)
		return;
	if (c->slots[i].dirty) {
		c->slots[i].dirty = false;
		c->ndirty--;
	}
	unlink_slot(c, i);
}

bool qcow2_cache_holds(const struct qcow2_cache *c, uint64_t offset)
{
	return lookup(c, offset) >= 0;
}
