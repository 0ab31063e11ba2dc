/* Reading the VMM's statistics reply (vmm/stats.h describes the fields).
 * Everything may be missing or null: a field the VMM did not report stays
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

static void add_rate(struct be_val *sum, json_object *rates, const char *key)
{
	struct be_val v = num(get(rates, key));
	if (!v.known)
		return;
	sum->known = true;
	sum->v += v.v;
}

static void parse_devices(json_object *devs, struct be_stats *out)
{
	if (!devs || !json_object_is_type(devs, json_type_array))
		return;
	/* Any device with byte counters counts, whatever its kind: every card
	 * and every disk. */
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *rates = get(json_object_array_get_idx(devs, i), "rates");
		add_rate(&out->net_rx_bps, rates, "rx_bytes");
		add_rate(&out->net_tx_bps, rates, "tx_bytes");
		add_rate(&out->disk_rd_bps, rates, "rd_bytes");
		add_rate(&out->disk_wr_bps, rates, "wr_bytes");
	}
}

static void parse_guest(json_object *g, struct be_stats *out)
{
	if (!g || !json_object_is_type(g, json_type_object))
		return;
	uint64_t total = 0, avail = 0, free_ = 0;
	bool have_total = false, have_avail = false, have_free = false;
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
			total = v, have_total = true;
		else if (!strcmp(key, "available_memory"))
			avail = v, have_avail = true;
		else if (!strcmp(key, "free_memory"))
			free_ = v, have_free = true;
	}
	/* "Used" as free(1) sees it: total less available, else less free. */
	if (have_total && (have_avail || have_free)) {
		uint64_t spare = have_avail ? avail : free_;
		out->guest_used = (struct be_val){ true, spare < total ? (double)(total - spare) : 0 };
	}
}

void vmctl_parse_stats(json_object *s, struct be_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !json_object_is_type(s, json_type_object))
		return;
	out->valid = true;
	struct be_val up = num(get(s, "uptime_s"));
	out->uptime_s = up.known ? up.v : 0;
	out->cpu_pct = num(get(s, "cpu_pct"));
	json_object *cpus = get(s, "cpus");
	if (cpus && json_object_is_type(cpus, json_type_array)) {
		size_t n = json_object_array_length(cpus);
		out->nr_vcpus = n < BE_MAX_VCPUS ? (unsigned)n : BE_MAX_VCPUS;
		for (unsigned i = 0; i < out->nr_vcpus; i++)
			out->vcpu_pct[i] = num(get(json_object_array_get_idx(cpus, i), "cpu_pct"));
	}
	json_object *mem = get(s, "memory");
	struct be_val conf = num(get(mem, "configured"));
	out->mem_assigned = conf.known && conf.v > 0 ? (uint64_t)conf.v : 0;
	out->mem_rss = num(get(mem, "rss"));
	json_object *balloon = get(mem, "balloon");
	out->balloon_target = num(get(balloon, "target"));
	out->balloon_actual = num(get(balloon, "actual"));
	parse_guest(get(mem, "guest"), out);
	parse_devices(get(s, "devices"), out);
}
