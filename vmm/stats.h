/* The statistics model of one VM: sampled on the main loop, read by the
 * control socket (and through it by `vmdeck stats` and the TUI).
 *
 * Per vCPU: CPU and guest time and their share of a host CPU, run-queue
 * wait (steal as the guest would see it), exits by reason and halts from
 * KVM's binary statistics (or the VMM's own exit counts on kernels
 * without them).  Memory: configured, the VMM's RSS split into guest RAM
 * (resident pages of the RAM mappings) and the VMM's own overhead, the
 * balloon and what the guest reports.  Devices: whatever counters they
 * give through their dev_counters hook.  Totals never go backwards, also
 * across guest resets; rates are over the last sampling interval and null
 * until two samples exist. */
#ifndef VMDECK_STATS_H
#define VMDECK_STATS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev_counters.h"
#include "vmm/stats_kvm.h"
#include "vmm/stats_rate.h"
#include "vmm/vm.h"

#define STATS_KVM_NR 13

struct stats_vcpu {
	int tid;
	struct kstats ks;
	bool ks_open;
	struct stats_counter cpu, wait, guest;
	bool have_cpu, have_wait, have_guest;
	struct stats_counter kvm[STATS_KVM_NR];
	bool kvm_present[STATS_KVM_NR];
	bool have_kvm;
	struct stats_counter uexits, uexits_io, uexits_mmio;   /* exits to the VMM */
};

struct stats_device {
	unsigned n;
	struct dev_counter last[DEV_COUNTERS_MAX];
	struct stats_counter c[DEV_COUNTERS_MAX];
};

struct stats {
	struct vm *vm;
	struct stats_vcpu *vcpus;
	struct stats_device dev[VM_MAX_DEVICES];
	unsigned boots;                 /* vm->boots at the last sample */
	uint64_t time_ns, prev_ns;      /* CLOCK_MONOTONIC of the last two samples */
	uint64_t samples;
	uint64_t rss, rss_guest;
	uint64_t cost_ns, cost_total_ns;   /* thread CPU time of the last sample and all of them */
};

int stats_init(struct stats *s, struct vm *vm);
void stats_destroy(struct stats *s);
/* Takes one sample (main loop: vCPU fds and devices must not change meanwhile). */
void stats_sample(struct stats *s);
/* Adds "time_ns", "interval_s", "cpus", "cpu_pct", "memory", "devices" and
 * "sampler" to OUT. */
void stats_json(struct stats *s, json_object *out);

#endif
