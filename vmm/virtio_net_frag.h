#ifndef VMDECK_VIRTIO_NET_FRAG_H
#define VMDECK_VIRTIO_NET_FRAG_H

#include <stddef.h>
#include <stdint.h>

/* The MTU a driver keeps when it does not take VIRTIO_NET_F_MTU. */
#define VIRTIO_NET_CLASSIC_MTU 1500

/* Splits the IPv4 packet in the Ethernet FRAME into fragments of at most
 * MTU bytes of IP each (RFC 791) and hands each, as a frame, to EMIT.
 * Returns how many there were, or 0 when FRAME is not an IPv4 packet that
 * may be split (another protocol, DF set, IP options, inconsistent
 * lengths, or one that fits already): the caller passes it on whole. */
unsigned virtio_net_frag_ipv4(const uint8_t *frame, size_t len, unsigned mtu,
			      void (*emit)(void *opaque, const uint8_t *frag, size_t len), void *opaque);

#endif
