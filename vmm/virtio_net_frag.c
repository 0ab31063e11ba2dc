/* IPv4 fragmentation on the way to a driver that did not take
 * VIRTIO_NET_F_MTU (FreeBSD's vtnet, for one).  Such a guest keeps the
 * classic 1500-byte MTU while the NAT behind the card sends packets up to
 * the card's MTU: TCP adapts (libslirp keeps the MSS the guest announces),
 * but a UDP or ICMP answer longer than 1500 bytes would be lost.  The card
 * splits it as a router on the path would, and the guest reassembles it. */
#include <stdbool.h>
#include <string.h>

#include "disk/be.h"
#include "vmm/virtio_net.h"
#include "vmm/virtio_net_frag.h"

#define ETH_HLEN 14
#define IP_HLEN 20              /* without options: all libslirp sends */
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* The packet's IP length, or 0 when it is not one this file may split. */
static size_t splittable(const uint8_t *frame, size_t len, unsigned mtu)
{
	if (len < ETH_HLEN + IP_HLEN || be16_get(frame + 12) != 0x0800)
		return 0;
	const uint8_t *ip = frame + ETH_HLEN;
	size_t total = be16_get(ip + 2);
	unsigned flags = be16_get(ip + 6);
	if (ip[0] != 0x45 || total <= IP_HLEN || total > len - ETH_HLEN || total <= mtu || (flags & IP_DF) ||
	    (flags & IP_OFFSET) * 8 + total - IP_HLEN > 0xffff)
		return 0;
	return total;
}

unsigned virtio_net_frag_ipv4(const uint8_t *frame, size_t len, unsigned mtu,
			      void (*emit)(void *opaque, const uint8_t *frag, size_t len), void *opaque)
{
	size_t total = splittable(frame, len, mtu);
	if (!total)
		return 0;
	const uint8_t *ip = frame + ETH_HLEN, *data = ip + IP_HLEN;
	unsigned flags = be16_get(ip + 6), offset = flags & IP_OFFSET;
	size_t data_len = total - IP_HLEN, step = (mtu - IP_HLEN) & ~(size_t)7;
	uint8_t frag[VIRTIO_NET_FRAME(VIRTIO_NET_CLASSIC_MTU)];
	if (mtu < IP_HLEN + 8 || step > sizeof(frag) - ETH_HLEN - IP_HLEN)
		return 0;
	unsigned n = 0;
	for (size_t at = 0; at < data_len; at += step, n++) {
		size_t chunk = data_len - at < step ? data_len - at : step;
		/* The last fragment keeps MF if the packet was itself a fragment. */
		bool more = at + chunk < data_len || (flags & IP_MF);
		uint8_t *fip = frag + ETH_HLEN;
		memcpy(frag, frame, ETH_HLEN + IP_HLEN);
		be16_put(fip + 2, (uint16_t)(IP_HLEN + chunk));
		be16_put(fip + 6, (uint16_t)((more ? IP_MF : 0) | (offset + at / 8)));
		be16_put(fip + 10, 0);
		be16_put(fip + 10, virtio_net_csum_fold(virtio_net_csum_add(0, fip, IP_HLEN)));
		memcpy(fip + IP_HLEN, data + at, chunk);
		emit(opaque, frag, ETH_HLEN + IP_HLEN + chunk);
	}
	return n;
}
