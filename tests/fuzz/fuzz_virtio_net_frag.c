/* libFuzzer target: IPv4 fragmentation toward a driver without the MTU
 * feature (vmm/virtio_net_frag.c), fed arbitrary frames and MTUs.
 *
 * Either the frame is left whole (nothing emitted), or the fragments must
 * be what a receiver can put back together: each within the MTU, a valid
 * header checksum, the packet's addresses, protocol and ID, offsets that
 * follow each other in 8-byte units, MF on all but the last (and on the
 * last if the packet was itself a fragment), and the data, reassembled,
 * equal to the packet's.
 *
 * Layout: u16 mtu (little-endian), then the Ethernet frame. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk/be.h"
#include "vmm/virtio_net.h"
#include "vmm/virtio_net_frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c) do { if (!(c)) abort(); } while (0)

/* Inputs split into fragments so far (the corpus replay checks it). */
static unsigned fuzz_frag_splits;

struct reassembly {
	const uint8_t *frame;
	unsigned mtu, n;
	size_t next;                    /* the data offset the next fragment must start at */
	bool last_seen;
	uint8_t data[65536];
};

static void take(void *opaque, const uint8_t *frag, size_t len)
{
	struct reassembly *r = opaque;
	const uint8_t *ip = frag + 14, *orig = r->frame + 14;
	FUZZ_CHECK(!r->last_seen && len >= 14 + 20 + 1 && len <= 14 + (size_t)r->mtu);
	FUZZ_CHECK(!memcmp(frag, r->frame, 14));                      /* Ethernet header */
	FUZZ_CHECK(ip[0] == 0x45 && be16_get(ip + 2) == len - 14);
	FUZZ_CHECK(!memcmp(ip + 4, orig + 4, 2));                     /* ID */
	FUZZ_CHECK(ip[8] == orig[8] && ip[9] == orig[9] && !memcmp(ip + 12, orig + 12, 8));
	FUZZ_CHECK(virtio_net_csum_fold(virtio_net_csum_add(0, ip, 20)) == 0);
	unsigned flags = be16_get(ip + 6), first = be16_get(orig + 6) & 0x1fff;
	FUZZ_CHECK(!(flags & 0x4000));
	FUZZ_CHECK((size_t)((flags & 0x1fff) - first) * 8 == r->next);
	size_t chunk = len - 34, total = be16_get(orig + 2) - 20;
	FUZZ_CHECK(r->next + chunk <= total);
	memcpy(r->data + r->next, ip + 20, chunk);
	r->next += chunk;
	bool last = r->next == total;
	FUZZ_CHECK(last || chunk % 8 == 0);
	FUZZ_CHECK(!!(flags & 0x2000) == (!last || (be16_get(orig + 6) & 0x2000)));
	r->last_seen = last;
	r->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reassembly r;
	if (size < 2)
		return 0;
	unsigned mtu = data[0] | (unsigned)data[1] << 8;
	memset(&r, 0, offsetof(struct reassembly, data));
	r.frame = data + 2;
	r.mtu = mtu;
	unsigned n = virtio_net_frag_ipv4(data + 2, size - 2, mtu, take, &r);
	FUZZ_CHECK(n == r.n);
	if (n) {
		FUZZ_CHECK(r.last_seen && n >= 2);
		FUZZ_CHECK(!memcmp(r.data, data + 2 + 34, r.next));
		fuzz_frag_splits++;
	}
	return 0;
}
