/* restrict=on: which frames from the guest may reach the NAT.
 *
 * The guest may resolve neighbours (ARP, IPv6 neighbour discovery), ask
 * for an address (DHCP), ping the gateway and answer connections that come
 * in through port forwards.  Everything else, in particular any new TCP
 * connection, any other UDP and any packet for an address outside the
 * guest network, is dropped before libslirp sees it, so that each drop is
 * counted.  libslirp runs with its own restricted mode on as well. */
#ifndef VMDECK_NET_RESTRICT_H
#define VMDECK_NET_RESTRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_options.h"

bool net_restrict_allows(const struct net_addrs *a, const uint8_t *frame, size_t len);

#endif
