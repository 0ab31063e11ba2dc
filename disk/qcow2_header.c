/* The qcow2 header and its extensions: parse with validation, rewrite. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "disk/qcow2.h"

#define FEATURE_ENTRY 48

static const struct {
	uint8_t type, bit;
	const char *name;
} our_features[] = {
	{ 0, 0, "dirty bit" },
	{ 0, 1, "corrupt bit" },
	{ 0, 2, "external data file" },
	{ 0, 3, "compression type" },
	{ 0, 4, "extended L2 entries" },
	{ 1, 0, "lazy refcounts" },
	{ 2, 0, "bitmaps" },
	{ 2, 1, "raw external data" },
};

static const char *path_of(const struct qcow2 *s)
{
	return s->blk->path;
}

static const struct qcow2_ext *find_ext(const struct qcow2 *s, uint32_t type)
{
	for (size_t i = 0; i < s->nexts; i++)
		if (s->exts[i].type == type)
			return &s->exts[i];
	return NULL;
}

/* Names an unknown incompatible bit from the image's own feature table. */
static void feature_name(const struct qcow2 *s, unsigned bit, char *out, size_t len)
{
	snprintf(out, len, "bit %u", bit);
	const struct qcow2_ext *ft = find_ext(s, QCOW2_EXT_FEATURES);
	if (!ft)
		return;
	for (uint32_t off = 0; off + FEATURE_ENTRY <= ft->len; off += FEATURE_ENTRY) {
		const uint8_t *e = ft->data + off;
		if (e[0] == 0 && e[1] == bit) {
			char name[47];
			memcpy(name, e + 2, 46);
			name[46] = 0;
			snprintf(out, len, "'%s'", name);
			return;
		}
	}
}

static int keep_ext(struct qcow2 *s, uint32_t type, const uint8_t *data, uint32_t len)
{
	struct qcow2_ext *n = realloc(s->exts, (s->nexts + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->exts = n;
	n[s->nexts].type = type;
	n[s->nexts].len = len;
	n[s->nexts].data = malloc(len ? len : 1);
	if (!n[s->nexts].data)
		return -ENOMEM;
	memcpy(n[s->nexts].data, data, len);
	s->nexts++;
	return 0;
}

static int parse_extensions(struct qcow2 *s, const uint8_t *c0, uint64_t end, struct error *err)
{
	uint64_t off = s->header_length;
	while (off + 8 <= end) {
		uint32_t type = be32_get(c0 + off);
		uint32_t len = be32_get(c0 + off + 4);
		off += 8;
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - off)
			return error_set(err, "'%s' is corrupt: header extension 0x%08x runs past the first cluster",
					 path_of(s), type);
		const uint8_t *data = c0 + off;
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len == 0 || len > 64)
				return error_set(err, "'%s' is corrupt: the backing format name is %u bytes long",
						 path_of(s), len);
			free(s->backing_fmt);
			s->backing_fmt = strndup((const char *)data, len);
			if (!s->backing_fmt)
				return error_set(err, "out of memory opening '%s'", path_of(s));
		} else {
			if (type == QCOW2_EXT_BITMAPS)
				s->has_bitmaps = true;
			if (find_ext(s, type))
				return error_set(err, "'%s' is corrupt: header extension 0x%08x appears twice",
						 path_of(s), type);
			if (keep_ext(s, type, data, len) < 0)
				return error_set(err, "out of memory opening '%s'", path_of(s));
		}
		off += (len + 7ull) & ~7ull;
	}
	return 0;
}

static void parse_fixed(struct qcow2 *s, const uint8_t *h, uint64_t *size)
{
	s->version = be32_get(h + 4);
	s->backing_offset = be64_get(h + 8);
	s->backing_len = be32_get(h + 16);
	s->cluster_bits = be32_get(h + 20);
	*size = be64_get(h + 24);
	s->l1_size = be32_get(h + 36);
	s->l1_offset = be64_get(h + 40);
	s->reft_offset = be64_get(h + 48);
	s->reft_clusters = be32_get(h + 56);
	s->nb_snaps = be32_get(h + 60);
	s->snap_offset = be64_get(h + 64);
	if (s->version >= 3) {
		s->incompat = be64_get(h + 72);
		s->compat = be64_get(h + 80);
		s->autoclear = be64_get(h + 88);
		s->refcount_order = be32_get(h + 96);
		s->header_length = be32_get(h + 100);
	} else {
		s->refcount_order = 4;
		s->header_length = QCOW2_V2_HEADER;
	}
}

static int check_features(struct qcow2 *s, const uint8_t *h, struct error *err)
{
	const char *p = path_of(s);
	uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
	if (unknown) {
		char name[64];
		feature_name(s, (unsigned)__builtin_ctzll(unknown), name, sizeof(name));
		return error_set(err, "'%s' uses the qcow2 feature %s, which vmdeck does not support", p, name);
	}
	if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
		return error_set(err, "'%s' keeps its data in an external file, which vmdeck does not support", p);
	uint8_t ctype = s->header_length > 104 ? h[104] : 0;
	if ((s->incompat & QCOW2_INCOMPAT_COMPRESSION) || ctype)
		return error_set(err, "'%s' uses zstd compression; vmdeck reads only deflate-compressed images", p);
	if (s->extl2 && s->cluster_bits < 14)
		return error_set(err, "'%s' is corrupt: extended L2 entries need clusters of 16 KiB or more", p);
	return 0;
}

static int check_geometry(struct qcow2 *s, uint64_t size, uint64_t flen, struct error *err)
{
	const char *p = path_of(s);
	if (s->version != 2 && s->version != 3)
		return error_set(err, "'%s' is qcow2 version %u; vmdeck reads versions 2 and 3", p, s->version);
	if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return error_set(err, "'%s' is corrupt: cluster_bits %u is outside 9..21", p, s->cluster_bits);
	s->cluster_size = 1ull << s->cluster_bits;
	if (s->version >= 3 && (s->header_length < QCOW2_V3_HEADER || s->header_length % 8 ||
				s->header_length > s->cluster_size))
		return error_set(err, "'%s' is corrupt: header_length %u is invalid", p, s->header_length);
	if (s->refcount_order > 6)
		return error_set(err, "'%s' is corrupt: refcount_order %u is above 6", p, s->refcount_order);
	if (size > (1ull << 62))
		return error_set(err, "'%s' is corrupt: virtual size %" PRIu64 " is absurd", p, size);
	if (s->backing_offset) {
		if (s->backing_len == 0 || s->backing_len > QCOW2_MAX_BACKING_NAME ||
		    s->backing_offset >= s->cluster_size ||
		    s->backing_len > s->cluster_size - s->backing_offset)
			return error_set(err, "'%s' is corrupt: the backing file name is out of range", p);
		if (s->backing_offset + s->backing_len > flen)
			return error_set(err, "'%s' is truncated: the backing file name is past the end", p);
	}
	return 0;
}

/* The fixed fields: magic, version, geometry, encryption. */
static int read_fixed(struct qcow2 *s, uint64_t flen, struct error *err)
{
	const char *p = path_of(s);
	uint8_t h[QCOW2_V3_HEADER] = { 0 };
	int ret = bfile_pread(s->file, h, sizeof(h), 0);
	if (ret)
		return error_errno(err, -ret, "cannot read the header of '%s'", p);
	if (be32_get(h) != QCOW2_MAGIC)
		return error_set(err, "'%s' is not a qcow2 image (bad magic)", p);
	uint64_t size;
	parse_fixed(s, h, &size);
	if (check_geometry(s, size, flen, err) < 0)
		return -1;
	if (s->version >= 3 && flen < s->header_length)
		return error_set(err, "'%s' is truncated: the header is %u bytes but the file has %" PRIu64,
				 p, s->header_length, flen);
	if (be32_get(h + 32) != 0)
		return error_set(err, "'%s' is encrypted, which vmdeck does not support", p);
	s->extl2 = s->incompat & QCOW2_INCOMPAT_EXTL2;
	s->blk->size = size;
	return 0;
}

/* The rest of cluster 0: extra header fields, extensions, backing name. */
static int read_cluster0(struct qcow2 *s, const uint8_t *c0, uint64_t c0len, struct error *err)
{
	const char *p = path_of(s);
	if (s->header_length > QCOW2_V3_HEADER) {
		s->header_extra = malloc(s->header_length - QCOW2_V3_HEADER);
		if (!s->header_extra)
			return error_set(err, "out of memory opening '%s'", p);
		memcpy(s->header_extra, c0 + QCOW2_V3_HEADER, s->header_length - QCOW2_V3_HEADER);
	}
	if (check_features(s, c0, err) < 0)
		return -1;
	/* Extensions end where the backing file name begins. */
	uint64_t ext_end = s->backing_offset && s->backing_offset < c0len ? s->backing_offset : c0len;
	if (parse_extensions(s, c0, ext_end, err) < 0)
		return -1;
	if (!s->backing_offset)
		return 0;
	s->backing_file = strndup((const char *)c0 + s->backing_offset, s->backing_len);
	if (!s->backing_file)
		return error_set(err, "out of memory opening '%s'", p);
	if (strlen(s->backing_file) != s->backing_len)
		return error_set(err, "'%s' is corrupt: the backing file name contains a NUL byte", p);
	return 0;
}

int qcow2_header_read(struct qcow2 *s, struct error *err)
{
	const char *p = path_of(s);
	int64_t flen = bfile_length(s->file);
	if (flen < 0)
		return error_errno(err, (int)-flen, "cannot read the size of '%s'", p);
	if (flen < QCOW2_V2_HEADER)
		return error_set(err, "'%s' is truncated: %" PRId64 " bytes is too short for a qcow2 header",
				 p, flen);
	if (read_fixed(s, (uint64_t)flen, err) < 0)
		return -1;
	uint8_t *c0 = calloc(1, s->cluster_size);
	if (!c0)
		return error_set(err, "out of memory opening '%s'", p);
	uint64_t c0len = (uint64_t)flen < s->cluster_size ? (uint64_t)flen : s->cluster_size;
	int ret = bfile_pread(s->file, c0, c0len, 0);
	if (ret)
		ret = error_errno(err, -ret, "cannot read the header of '%s'", p);
	else
		ret = read_cluster0(s, c0, c0len, err);
	free(c0);
	return ret;
}

static void encode_fixed(const struct qcow2 *s, uint8_t *h)
{
	be32_put(h, QCOW2_MAGIC);
	be32_put(h + 4, s->version);
	be64_put(h + 8, s->backing_offset);
	be32_put(h + 16, s->backing_len);
	be32_put(h + 20, s->cluster_bits);
	be64_put(h + 24, s->blk->size);
	be32_put(h + 32, 0);
	be32_put(h + 36, s->l1_size);
	be64_put(h + 40, s->l1_offset);
	be64_put(h + 48, s->reft_offset);
	be32_put(h + 56, s->reft_clusters);
	be32_put(h + 60, s->nb_snaps);
	be64_put(h + 64, s->snap_offset);
	if (s->version < 3)
		return;
	be64_put(h + 72, s->incompat);
	be64_put(h + 80, s->compat);
	be64_put(h + 88, s->autoclear);
	be32_put(h + 96, s->refcount_order);
	be32_put(h + 100, s->header_length);
	if (s->header_extra)
		memcpy(h + QCOW2_V3_HEADER, s->header_extra, s->header_length - QCOW2_V3_HEADER);
}

int qcow2_header_write_fields(struct qcow2 *s)
{
	uint8_t *h = calloc(1, s->header_length);
	if (!h)
		return -ENOMEM;
	encode_fixed(s, h);
	int ret = bfile_pwrite(s->file, h, s->header_length, 0);
	free(h);
	return ret;
}

int qcow2_header_set_incompat(struct qcow2 *s, uint64_t bits, bool on)
{
	uint64_t old = s->incompat;
	s->incompat = on ? old | bits : old & ~bits;
	int ret = qcow2_header_write_fields(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret)
		s->incompat = old;
	return ret;
}

static uint64_t put_ext(uint8_t *c0, uint64_t off, uint64_t limit, uint32_t type, const void *data,
			uint32_t len)
{
	uint64_t need = 8 + ((len + 7ull) & ~7ull);
	if (off + need > limit)
		return 0;
	be32_put(c0 + off, type);
	be32_put(c0 + off + 4, len);
	if (len)
		memcpy(c0 + off + 8, data, len);
	return off + need;
}

static uint32_t build_feature_table(uint8_t *out)
{
	size_t n = sizeof(our_features) / sizeof(our_features[0]);
	memset(out, 0, n * FEATURE_ENTRY);
	for (size_t i = 0; i < n; i++) {
		out[i * FEATURE_ENTRY] = our_features[i].type;
		out[i * FEATURE_ENTRY + 1] = our_features[i].bit;
		memcpy(out + i * FEATURE_ENTRY + 2, our_features[i].name, strlen(our_features[i].name));
	}
	return (uint32_t)(n * FEATURE_ENTRY);
}

/* Lays out cluster 0: header, backing format, feature table, kept
 * extensions, end marker, then the backing file name. */
static int build_cluster0(struct qcow2 *s, uint8_t *c0)
{
	uint64_t off = s->header_length, lim = s->cluster_size;
	if (s->backing_file && s->backing_fmt)
		off = put_ext(c0, off, lim, QCOW2_EXT_BACKING_FMT, s->backing_fmt, (uint32_t)strlen(s->backing_fmt));
	if (off && !find_ext(s, QCOW2_EXT_FEATURES) && s->version >= 3) {
		uint8_t ft[sizeof(our_features) / sizeof(our_features[0]) * FEATURE_ENTRY];
		off = put_ext(c0, off, lim, QCOW2_EXT_FEATURES, ft, build_feature_table(ft));
	}
	for (size_t i = 0; off && i < s->nexts; i++)
		off = put_ext(c0, off, lim, s->exts[i].type, s->exts[i].data, s->exts[i].len);
	if (off)
		off = put_ext(c0, off, lim, QCOW2_EXT_END, NULL, 0);
	if (!off)
		return -ENOSPC;
	s->backing_offset = 0;
	s->backing_len = 0;
	if (s->backing_file) {
		size_t n = strlen(s->backing_file);
		if (off + n > lim)
			return -ENOSPC;
		memcpy(c0 + off, s->backing_file, n);
		s->backing_offset = off;
		s->backing_len = (uint32_t)n;
	}
	encode_fixed(s, c0);
	return 0;
}

int qcow2_header_write_all(struct qcow2 *s)
{
	uint8_t *c0 = calloc(1, s->cluster_size);
	if (!c0)
		return -ENOMEM;
	uint64_t old_off = s->backing_offset;
	uint32_t old_len = s->backing_len;
	int ret = build_cluster0(s, c0);
	if (!ret)
		ret = bfile_pwrite(s->file, c0, s->cluster_size, 0);
	if (ret) {
		s->backing_offset = old_off;
		s->backing_len = old_len;
	}
	free(c0);
	return ret;
}

int qcow2_set_backing_name(struct qcow2 *s, const char *file, const char *fmt)
{
	char *nf = file ? strdup(file) : NULL;
	char *nfmt = fmt && file ? strdup(fmt) : NULL;
	if ((file && !nf) || (fmt && file && !nfmt)) {
		free(nf);
		free(nfmt);
		return -ENOMEM;
	}
	char *of = s->backing_file, *ofmt = s->backing_fmt;
	s->backing_file = nf;
	s->backing_fmt = nfmt;
	int ret = qcow2_header_write_all(s);
	if (!ret)
		ret = bfile_sync(s->file);
	if (ret) {
		s->backing_file = of;
		s->backing_fmt = ofmt;
		free(nf);
		free(nfmt);
		return ret;
	}
	free(of);
	free(ofmt);
	return 0;
}

void qcow2_header_free(struct qcow2 *s)
{
	for (size_t i = 0; i < s->nexts; i++)
		free(s->exts[i].data);
	free(s->exts);
	free(s->header_extra);
	free(s->backing_file);
	free(s->backing_fmt);
}
