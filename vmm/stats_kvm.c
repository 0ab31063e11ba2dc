#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/stats_kvm.h"

#define BLOB_MAX (1u << 20)      /* header + descriptors; real ones are a few KiB */
#define KSTATS_DATA_MAX 8192     /* the span of the values we read */

/* One descriptor: flags, exponent, size, offset, bucket size, name. */
static bool usable(uint32_t flags, uint16_t size)
{
	/* Plain 64-bit cumulative or instant values; histograms are skipped. */
	uint32_t type = flags & KVM_STATS_TYPE_MASK;
	return size == 1 && (type == KVM_STATS_TYPE_CUMULATIVE || type == KVM_STATS_TYPE_INSTANT ||
			     type == KVM_STATS_TYPE_PEAK);
}

int kstats_parse(struct kstats *k, const uint8_t *blob, size_t len, const char *const *names,
		 unsigned nr)
{
	struct kvm_stats_header h;
	if (nr > KSTATS_MAX || len < sizeof(h))
		return -1;
	memcpy(&h, blob, sizeof(h));
	size_t desc_size = sizeof(struct kvm_stats_desc) + (size_t)h.name_size;
	if (h.name_size == 0 || h.name_size > 4096 || h.num_desc > 65536 ||
	    h.desc_offset > len || (size_t)h.num_desc * desc_size > len - h.desc_offset)
		return -1;
	k->nr = nr;
	for (unsigned i = 0; i < nr; i++)
		k->offset[i] = -1;
	uint32_t lo = UINT32_MAX, hi = 0;
	for (uint32_t d = 0; d < h.num_desc; d++) {
		const uint8_t *p = blob + h.desc_offset + d * desc_size;
		struct kvm_stats_desc desc;
		memcpy(&desc, p, sizeof(desc));
		const char *name = (const char *)p + sizeof(desc);
		size_t name_len = strnlen(name, h.name_size);
		if (name_len == h.name_size || !usable(desc.flags, desc.size) || desc.offset > (1u << 24))
			continue;
		for (unsigned i = 0; i < nr; i++) {
			if (k->offset[i] >= 0 || strlen(names[i]) != name_len || memcmp(names[i], name, name_len))
				continue;
			k->offset[i] = (int32_t)desc.offset;
			if (desc.offset < lo)
				lo = desc.offset;
			if (desc.offset + 8 > hi)
				hi = desc.offset + 8;
		}
	}
	if (lo != UINT32_MAX && hi - lo > KSTATS_DATA_MAX)
		return -1;
	k->data_offset = h.data_offset + (lo == UINT32_MAX ? 0 : lo);
	k->data_len = lo == UINT32_MAX ? 0 : hi - lo;
	for (unsigned i = 0; i < nr; i++)
		if (k->offset[i] >= 0)
			k->offset[i] -= (int32_t)lo;
	return 0;
}

int kstats_open(struct kstats *k, int fd, const char *const *names, unsigned nr)
{
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	struct kvm_stats_header h;
	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		goto fail;
	/* Everything up to the data block: header, id string, descriptors. */
	size_t len = h.data_offset;
	if (len < sizeof(h) || len > BLOB_MAX)
		goto fail;
	uint8_t *blob = malloc(len);
	if (!blob)
		goto fail;
	if (pread(fd, blob, len, 0) != (ssize_t)len || kstats_parse(k, blob, len, names, nr) < 0) {
		free(blob);
		goto fail;
	}
	free(blob);
	k->fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	k->fd = -1;
	return -1;
}

int kstats_read(struct kstats *k, uint64_t *values, bool *present)
{
	uint8_t data[KSTATS_DATA_MAX];
	if (k->fd < 0 || k->data_len > sizeof(data))
		return -1;
	if (k->data_len && pread(k->fd, data, k->data_len, k->data_offset) != (ssize_t)k->data_len)
		return -1;
	for (unsigned i = 0; i < k->nr; i++) {
		present[i] = k->offset[i] >= 0;
		values[i] = 0;
		if (present[i])
			memcpy(&values[i], data + k->offset[i], sizeof(uint64_t));
	}
	return 0;
}

void kstats_close(struct kstats *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->nr = 0;
}
