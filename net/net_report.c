#include <arpa/inet.h>
#include <stdio.h>

#include "net/net_report.h"

unsigned net_counters(void *net, struct dev_counter *out, unsigned max)
{
	struct net_stats s;
	net_get_stats(net, &s);
	const struct virtio_net_stats *d = &s.dev;
	/* rx is toward the guest, tx from it, as on the guest's own eth0. */
	const struct dev_counter all[] = {
		{ "rx_packets", d->rx_packets, false },
		{ "rx_bytes", d->rx_bytes, false },
		{ "rx_dropped", d->rx_dropped, false },
		{ "rx_errors", d->rx_errors, false },
		{ "rx_filtered", d->rx_filtered, false },
		{ "rx_fragmented", d->rx_fragmented, false },
		{ "tx_packets", d->tx_packets, false },
		{ "tx_bytes", d->tx_bytes, false },
		{ "tx_dropped", d->tx_link_down + d->tx_oversized + s.tx_restricted, false },
		{ "tx_errors", d->tx_errors, false },
		{ "tx_oversized", d->tx_oversized, false },
		{ "tx_link_down", d->tx_link_down, false },
		{ "tx_restricted", s.tx_restricted, false },
		{ "ctrl_commands", d->ctrl_commands, false },
		{ "ctrl_errors", d->ctrl_errors, false },
		{ "slirp_errors", s.slirp_errors, false },
		{ "capture_packets", s.capture_packets, false },
		{ "capture_errors", s.capture_errors, false },
		{ "rx_backlog", d->backlog, true },
		{ "rx_backlog_max", d->backlog_max, true },
		{ "forwards", s.forwards, true },
		{ "link_up", s.link_up, true },
		{ "capturing", s.capturing, true },
	};
	unsigned n = 0;
	for (; n < max && n < sizeof(all) / sizeof(all[0]); n++)
		out[n] = all[n];
	return n;
}

json_object *net_forward_json(const struct net_forward_info *f)
{
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &f->fwd.host_addr, host, sizeof(host));
	inet_ntop(AF_INET, &f->fwd.guest_addr, guest, sizeof(guest));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "rule", json_object_new_string(f->spec));
	json_object_object_add(o, "proto", json_object_new_string(f->fwd.udp ? "udp" : "tcp"));
	json_object_object_add(o, "host_addr", json_object_new_string(host));
	json_object_object_add(o, "host_port", json_object_new_int(f->fwd.host_port));
	json_object_object_add(o, "guest_addr", json_object_new_string(guest));
	json_object_object_add(o, "guest_port", json_object_new_int(f->fwd.guest_port));
	json_object_object_add(o, "state", json_object_new_string(f->state));
	return o;
}

void net_info(void *net, json_object *out)
{
	struct net *n = net;
	const uint8_t *m = n->opt.mac;
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	json_object_object_add(out, "mac", json_object_new_string(mac));
	json_object_object_add(out, "link_up", json_object_new_boolean(virtio_net_link(n->dev)));
	json_object_object_add(out, "restricted", json_object_new_boolean(n->opt.restricted));
	const char *capture = net_capture_path(n);
	json_object_object_add(out, "capture", capture ? json_object_new_string(capture) : NULL);
	struct net_forward_info fwd[NET_MAX_FORWARDS];
	unsigned nr = net_forwards(n, fwd, NET_MAX_FORWARDS);
	json_object *list = json_object_new_array();
	for (unsigned i = 0; i < nr; i++)
		json_object_array_add(list, net_forward_json(&fwd[i]));
	json_object_object_add(out, "forwards", list);
}
