/* What the network tells the statistics model and the control socket: its
 * counters (the dev_counters hook: packets, bytes, drops and errors each
 * way, and levels such as the receive backlog) and its state as JSON (the
 * dev_info hook: MAC, link, restrict, the capture, every forward with its
 * state). */
#ifndef VMDECK_NET_REPORT_H
#define VMDECK_NET_REPORT_H

#include <json-c/json.h>

#include "net/net.h"
#include "vmm/dev_counters.h"

unsigned net_counters(void *net, struct dev_counter *out, unsigned max);
void net_info(void *net, json_object *out);
/* {"rule", "proto", "host_addr", "host_port", "guest_addr", "guest_port", "state"} */
json_object *net_forward_json(const struct net_forward_info *f);

#endif
