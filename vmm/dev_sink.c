#include <string.h>

#include "vmm/dev_sink.h"

static void sink_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct sink *s = opaque;
	memset(data, __atomic_load_n(&s->last, __ATOMIC_RELAXED), len);
}

static void sink_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct sink *s = opaque;
	__atomic_store_n(&s->last, *(const uint8_t *)data, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELAXED);
}

const struct bus_ops sink_bus_ops = { .read = sink_read, .write = sink_write };
