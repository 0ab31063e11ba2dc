/* Reading the VMM's `stats` reply, field by field as share/vmdeck-control.md
 * documents it.  Everything may be missing or null (rates before the
 * second sample, a host that cannot tell, no balloon): such a field stays
 * unknown, and nothing here trusts the reply's shape. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "src/backend.h"
#include "src/vmctl.h"

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static struct be_val num(json_object *v)
{
	struct be_val r = { false, 0 };
	if (v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
		r.v = json_object_get_double(v);
		r.known = isfinite(r.v);
	}
	return r;
}

static void str(json_object *v, char *buf, size_t len)
{
	if (v && json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
}

static void add_rate(struct be_val *sum, json_object *rates, const char *key)
{
	struct be_val v = num(get(rates, key));
	if (!v.known)
		return;
	sum->known = true;
	sum->v += v.v;
}

/* Network cards ("net": rx_bytes, tx_bytes) and disks ("disk": rd_bytes,
 * wr_bytes) summed over all devices of the kind. */
static void parse_devices(json_object *devs, struct be_stats *out)
{
	if (!devs || !json_object_is_type(devs, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *dev = json_object_array_get_idx(devs, i);
		json_object *kind = get(dev, "kind"), *rates = get(dev, "rates");
		if (!kind || !json_object_is_type(kind, json_type_string))
			continue;
		if (!strcmp(json_object_get_string(kind), "net")) {
			add_rate(&out->net_rx_bps, rates, "rx_bytes");
			add_rate(&out->net_tx_bps, rates, "tx_bytes");
		} else if (!strcmp(json_object_get_string(kind), "disk")) {
			add_rate(&out->disk_rd_bps, rates, "rd_bytes");
			add_rate(&out->disk_wr_bps, rates, "wr_bytes");
		}
	}
}

/* memory.guest: the guest's own report, every tag it sent, and its age. */
static void parse_guest(json_object *g, struct be_stats *out)
{
	if (!g || !json_object_is_type(g, json_type_object))
		return;
	struct be_val total = { 0 }, avail = { 0 }, free_ = { 0 };
	json_object_object_foreach(g, key, val) {
		if (!strcmp(key, "age_ms")) {
			out->guest_age_ms = num(val);
			continue;
		}
		if (!strcmp(key, "updates") || !json_object_is_type(val, json_type_int))
			continue;
		uint64_t v = (uint64_t)json_object_get_uint64(val);
		if (out->nr_guest < BE_MAX_GUEST_STATS) {
			snprintf(out->guest[out->nr_guest].name, sizeof(out->guest[0].name), "%s", key);
			out->guest[out->nr_guest++].value = v;
		}
		if (!strcmp(key, "total_memory"))
			total = (struct be_val){ true, (double)v };
		else if (!strcmp(key, "available_memory"))
			avail = (struct be_val){ true, (double)v };
		else if (!strcmp(key, "free_memory"))
			free_ = (struct be_val){ true, (double)v };
	}
	/* "Used" as free(1) sees it: total less available, else less free. */
	struct be_val spare = avail.known ? avail : free_;
	if (total.known && spare.known)
		out->guest_used = (struct be_val){ true, spare.v < total.v ? total.v - spare.v : 0 };
}

static void parse_memory(json_object *mem, struct be_stats *out)
{
	struct be_val conf = num(get(mem, "configured"));
	out->mem_assigned = conf.known && conf.v > 0 ? (uint64_t)conf.v : 0;
	out->mem_rss = num(get(mem, "rss"));
	json_object *balloon = get(mem, "balloon");
	out->balloon_target = num(get(balloon, "target"));
	out->balloon_actual = num(get(balloon, "actual"));
	json_object *driver = get(balloon, "driver");
	out->balloon_driver = driver && json_object_is_type(driver, json_type_boolean) && json_object_get_boolean(driver);
	parse_guest(get(mem, "guest"), out);
}

static void parse_cpus(json_object *s, struct be_stats *out)
{
	out->cpu_pct = num(get(s, "cpu_pct"));
	json_object *cpus = get(s, "cpus");
	if (!cpus || !json_object_is_type(cpus, json_type_array))
		return;
	size_t n = json_object_array_length(cpus);
	out->nr_vcpus = n < BE_MAX_VCPUS ? (unsigned)n : BE_MAX_VCPUS;
	for (unsigned i = 0; i < out->nr_vcpus; i++) {
		json_object *cpu = json_object_array_get_idx(cpus, i);
		out->vcpu_pct[i] = num(get(cpu, "cpu_pct"));
		/* A total since the VMM started (it survives resets), over the
		 * VMM's uptime: no second sample needed. */
		struct be_val emul = num(get(cpu, "emulated_insns"));
		if (!emul.known || out->uptime_s < 1)
			continue;
		double rate = emul.v / out->uptime_s;
		if (!out->emulated_per_s.known || rate > out->emulated_per_s.v) {
			out->emulated_per_s = (struct be_val){ true, rate };
			out->emulated_vcpu = i;
		}
	}
}

void vmctl_parse_stats(json_object *s, struct be_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !json_object_is_type(s, json_type_object))
		return;
	out->valid = true;
	str(get(s, "state"), out->state, sizeof(out->state));
	str(get(s, "last_error"), out->last_error, sizeof(out->last_error));
	struct be_val up = num(get(s, "uptime_s"));
	out->uptime_s = up.known ? up.v : 0;
	parse_cpus(s, out);
	parse_memory(get(s, "memory"), out);
	parse_devices(get(s, "devices"), out);
}
