#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/ctl_proto.h"
#include "vmm/stats.h"
#include "vmm/stats_proc.h"
#include "vmm/virtio_balloon.h"

/* KVM's per-vCPU statistics we report, and their names in our JSON. */
static const char *const kvm_names[STATS_KVM_NR] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_window_exits",
	"nmi_window_exits", "signal_exits", "request_irq_exits", "hypercalls",
	"insn_emulation", "halt_wait_ns", "halt_wakeup",
};
enum { K_EXITS, K_IO, K_MMIO, K_HALT, K_IRQ, K_IRQ_WIN, K_NMI_WIN, K_SIGNAL, K_REQ_IRQ, K_HCALL,
       K_EMUL, K_HALT_WAIT, K_WAKEUP };
/* Exit reasons in "exits": JSON key for each KVM counter (NULL: not an exit). */
static const char *const exit_keys[STATS_KVM_NR] = {
	"total", "io", "mmio", "halt", "irq", "irq_window", "nmi_window", "signal", "request_irq",
	"hypercall", NULL, NULL, NULL,
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int stats_init(struct stats *s, struct vm *vm)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->vcpus = calloc(vm->cfg.cpus, sizeof(*s->vcpus));
	if (!s->vcpus)
		return -1;
	s->boots = vm->boots;
	return 0;
}

void stats_destroy(struct stats *s)
{
	if (s->vcpus)
		for (unsigned i = 0; i < s->vm->cfg.cpus; i++)
			if (s->vcpus[i].ks_open)
				kstats_close(&s->vcpus[i].ks);
	free(s->vcpus);
	s->vcpus = NULL;
}

/* A reboot made new vCPUs: their counters start again from zero. */
static void vcpu_restart(struct stats_vcpu *sv)
{
	if (sv->ks_open)
		kstats_close(&sv->ks);
	sv->ks_open = false;
	for (unsigned k = 0; k < STATS_KVM_NR; k++)
		stats_counter_restart(&sv->kvm[k]);
	stats_counter_restart(&sv->uexits);
	stats_counter_restart(&sv->uexits_io);
	stats_counter_restart(&sv->uexits_mmio);
}

static void sample_threads(struct stats_vcpu *sv, int tid)
{
	if (tid != sv->tid) {
		/* A new thread: its CPU clock starts at zero. */
		stats_counter_restart(&sv->cpu);
		stats_counter_restart(&sv->wait);
		stats_counter_restart(&sv->guest);
		sv->tid = tid;
	}
	struct proc_task_times t;
	procstat_task_times(tid, &t);
	if ((sv->have_cpu = t.have_cpu))
		stats_counter_update(&sv->cpu, t.cpu_ns, 64);
	if ((sv->have_wait = t.have_wait))
		stats_counter_update(&sv->wait, t.wait_ns, 64);
	if ((sv->have_guest = t.have_guest))
		stats_counter_update(&sv->guest, t.guest_ns, 64);
}

static void sample_kvm(struct stats *s, struct stats_vcpu *sv, struct vcpu *v)
{
	if (v->stats_fd < 0)
		return;
	if (!sv->ks_open) {
		/* Our own descriptor: the vCPU's closes on reset. */
		int fd = fcntl(v->stats_fd, F_DUPFD_CLOEXEC, 0);
		sv->ks_open = fd >= 0 && kstats_open(&sv->ks, fd, kvm_names, STATS_KVM_NR) == 0;
		if (!sv->ks_open)
			return;
	}
	uint64_t val[STATS_KVM_NR];
	if (kstats_read(&sv->ks, val, sv->kvm_present) < 0) {
		sv->have_kvm = false;
		return;
	}
	sv->have_kvm = true;
	for (unsigned k = 0; k < STATS_KVM_NR; k++)
		if (sv->kvm_present[k])
			stats_counter_update(&sv->kvm[k], val[k], 64);
}

static void sample_vcpu(struct stats *s, unsigned i)
{
	struct stats_vcpu *sv = &s->vcpus[i];
	struct vcpu *v = &s->vm->vcpus[i];
	int tid = __atomic_load_n(&v->tid, __ATOMIC_ACQUIRE);
	if (tid > 0)
		sample_threads(sv, tid);
	sample_kvm(s, sv, v);
	stats_counter_update(&sv->uexits, __atomic_load_n(&v->exits, __ATOMIC_RELAXED), 64);
	stats_counter_update(&sv->uexits_io, __atomic_load_n(&v->exits_io, __ATOMIC_RELAXED), 64);
	stats_counter_update(&sv->uexits_mmio, __atomic_load_n(&v->exits_mmio, __ATOMIC_RELAXED), 64);
}

static void sample_devices(struct stats *s)
{
	for (unsigned d = 0; d < s->vm->nr_devices && d < VM_MAX_DEVICES; d++) {
		struct vm_device *dev = &s->vm->devices[d];
		struct stats_device *sd = &s->dev[d];
		if (!dev->counters)
			continue;
		sd->n = dev->counters(dev->dev, sd->last, DEV_COUNTERS_MAX);
		for (unsigned k = 0; k < sd->n; k++)
			stats_counter_update(&sd->c[k], sd->last[k].value, 64);
	}
}

static void sample_memory(struct stats *s)
{
	s->rss = procstat_rss();
	s->rss_guest = 0;
	if (s->vm->low.hva)
		s->rss_guest += procstat_resident(s->vm->low.hva, s->vm->low.size);
	if (s->vm->high.hva)
		s->rss_guest += procstat_resident(s->vm->high.hva, s->vm->high.size);
}

void stats_sample(struct stats *s)
{
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (s->vm->boots != s->boots) {
		for (unsigned i = 0; i < s->vm->cfg.cpus; i++)
			vcpu_restart(&s->vcpus[i]);
		s->boots = s->vm->boots;
	}
	s->prev_ns = s->time_ns;
	s->time_ns = clock_ns(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < s->vm->cfg.cpus; i++)
		sample_vcpu(s, i);
	sample_devices(s);
	sample_memory(s);
	s->samples++;
	s->cost_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	s->cost_total_ns += s->cost_ns;
}

/* ---- JSON --------------------------------------------------------------------- */

static uint64_t interval(const struct stats *s)
{
	return s->samples >= 2 ? s->time_ns - s->prev_ns : 0;
}

static json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

/* A rate per second, or null before there are two samples. */
static json_object *rate(const struct stats *s, const struct stats_counter *c)
{
	uint64_t dt = interval(s);
	if (!dt || !c->has_delta)
		return NULL;
	return ctl_json_double(stats_rate_per_s(stats_counter_delta(c), dt), 3);
}

static json_object *share(const struct stats *s, const struct stats_counter *c, bool have)
{
	uint64_t dt = interval(s);
	if (!have || !dt || !c->has_delta)
		return NULL;
	return ctl_json_double(stats_share_pct(stats_counter_delta(c), dt), 2);
}

static void add_exits(const struct stats *s, const struct stats_vcpu *sv, json_object *o)
{
	json_object *exits = json_object_new_object(), *rates = json_object_new_object();
	if (sv->have_kvm) {
		for (unsigned k = 0; k < STATS_KVM_NR; k++)
			if (exit_keys[k] && sv->kvm_present[k]) {
				json_object_object_add(exits, exit_keys[k], u64(sv->kvm[k].total));
				json_object_object_add(rates, exit_keys[k], rate(s, &sv->kvm[k]));
			}
		json_object_object_add(o, "exits_source", json_object_new_string("kvm"));
	} else {
		/* Only what reached the VMM: halts and in-kernel exits are unknown. */
		json_object_object_add(exits, "total", u64(sv->uexits.total));
		json_object_object_add(exits, "io", u64(sv->uexits_io.total));
		json_object_object_add(exits, "mmio", u64(sv->uexits_mmio.total));
		json_object_object_add(rates, "total", rate(s, &sv->uexits));
		json_object_object_add(rates, "io", rate(s, &sv->uexits_io));
		json_object_object_add(rates, "mmio", rate(s, &sv->uexits_mmio));
		json_object_object_add(o, "exits_source", json_object_new_string("vmm"));
	}
	json_object_object_add(o, "exits", exits);
	json_object_object_add(o, "exits_per_s", rates);
	bool halts = sv->have_kvm && sv->kvm_present[K_HALT];
	json_object_object_add(o, "halts", halts ? u64(sv->kvm[K_HALT].total) : NULL);
	json_object_object_add(o, "halts_per_s", halts ? rate(s, &sv->kvm[K_HALT]) : NULL);
	bool wait = sv->have_kvm && sv->kvm_present[K_HALT_WAIT];
	json_object_object_add(o, "halt_wait_ns", wait ? u64(sv->kvm[K_HALT_WAIT].total) : NULL);
	json_object_object_add(o, "halt_wait_pct", wait ? share(s, &sv->kvm[K_HALT_WAIT], true) : NULL);
	bool emul = sv->have_kvm && sv->kvm_present[K_EMUL];
	json_object_object_add(o, "emulated_insns", emul ? u64(sv->kvm[K_EMUL].total) : NULL);
	json_object_object_add(o, "vmm_exits", u64(sv->uexits.total));
}

static json_object *vcpu_json(const struct stats *s, unsigned i, double *total_pct)
{
	const struct stats_vcpu *sv = &s->vcpus[i];
	json_object *o = json_object_new_object();
	json_object_object_add(o, "index", json_object_new_int((int)i));
	json_object_object_add(o, "tid", sv->tid > 0 ? json_object_new_int(sv->tid) : NULL);
	json_object_object_add(o, "cpu_ns", sv->have_cpu ? u64(sv->cpu.total) : NULL);
	json_object *pct = share(s, &sv->cpu, sv->have_cpu);
	if (pct)
		*total_pct += json_object_get_double(pct);
	json_object_object_add(o, "cpu_pct", pct);
	json_object_object_add(o, "guest_ns", sv->have_guest ? u64(sv->guest.total) : NULL);
	json_object_object_add(o, "guest_pct", share(s, &sv->guest, sv->have_guest));
	json_object_object_add(o, "steal_ns", sv->have_wait ? u64(sv->wait.total) : NULL);
	json_object_object_add(o, "steal_pct", share(s, &sv->wait, sv->have_wait));
	add_exits(s, sv, o);
	return o;
}

static json_object *guest_stats_json(const struct balloon_info *b, uint64_t now)
{
	if (!b->guest.updated_ns)
		return NULL;
	json_object *g = json_object_new_object();
	uint64_t age = now > b->guest.updated_ns ? now - b->guest.updated_ns : 0;
	json_object_object_add(g, "age_ms", u64(age / 1000000));
	json_object_object_add(g, "updates", u64(b->guest.updates));
	for (unsigned t = 0; t < BALLOON_NR_STATS; t++)
		if (b->guest.present & (1u << t))
			json_object_object_add(g, balloon_stat_name(t), u64(b->guest.value[t]));
	return g;
}

static void balloon_json(struct stats *s, json_object *mem)
{
	struct vm_device *d = vm_find_device(s->vm, "balloon");
	if (!d) {
		json_object_object_add(mem, "balloon", NULL);
		json_object_object_add(mem, "guest", NULL);
		return;
	}
	struct virtio_balloon *b = d->dev;
	struct balloon_info i;
	balloon_get_info(b, &i);
	uint64_t cfg = s->vm->cfg.mem, size_t_ = (uint64_t)i.num_pages * BALLOON_PAGE,
		 size_a = (uint64_t)i.actual * BALLOON_PAGE;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "target", u64(size_t_ < cfg ? cfg - size_t_ : 0));
	json_object_object_add(o, "actual", u64(size_a < cfg ? cfg - size_a : 0));
	json_object_object_add(o, "size_target", u64(size_t_));
	json_object_object_add(o, "size_actual", u64(size_a));
	json_object_object_add(o, "driver", json_object_new_boolean(i.driver_ok));
	json_object_object_add(o, "deflate_on_oom",
			       json_object_new_boolean(i.features >> VIRTIO_BALLOON_F_DEFLATE_ON_OOM & 1));
	json_object_object_add(o, "free_page_reporting",
			       json_object_new_boolean(i.features >> VIRTIO_BALLOON_F_REPORTING & 1));
	json_object_object_add(o, "stats_interval_s", ctl_json_double(b->opt.stats_interval_ms / 1000.0, 3));
	json_object_object_add(o, "discarded", u64(i.c.discarded_bytes));
	json_object_object_add(o, "reported", u64(i.c.reported_bytes));
	json_object_object_add(o, "bad_pfns", u64(i.c.bad_pfns));
	json_object_object_add(mem, "balloon", o);
	json_object_object_add(mem, "guest", guest_stats_json(&i, clock_ns(CLOCK_MONOTONIC)));
}

static json_object *memory_json(struct stats *s)
{
	json_object *m = json_object_new_object();
	json_object_object_add(m, "configured", u64(s->vm->cfg.mem));
	json_object_object_add(m, "rss", u64(s->rss));
	uint64_t guest = s->rss_guest < s->rss ? s->rss_guest : s->rss;
	json_object_object_add(m, "rss_guest", u64(guest));
	json_object_object_add(m, "rss_vmm", u64(s->rss - guest));
	balloon_json(s, m);
	return m;
}

static json_object *devices_json(struct stats *s)
{
	json_object *list = json_object_new_array();
	for (unsigned d = 0; d < s->vm->nr_devices && d < VM_MAX_DEVICES; d++) {
		struct vm_device *dev = &s->vm->devices[d];
		const struct stats_device *sd = &s->dev[d];
		json_object *o = json_object_new_object(), *c = json_object_new_object(),
			    *r = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(dev->kind));
		json_object_object_add(o, "index", json_object_new_int((int)vm_device_index(s->vm, d)));
		for (unsigned k = 0; k < sd->n; k++) {
			/* A level is what it is now: a total would add its ups
			 * and take its downs for restarts. */
			if (sd->last[k].gauge) {
				json_object_object_add(c, sd->last[k].name, u64(sd->last[k].value));
				continue;
			}
			json_object_object_add(c, sd->last[k].name, u64(sd->c[k].total));
			json_object_object_add(r, sd->last[k].name, rate(s, &sd->c[k]));
		}
		json_object_object_add(o, "counters", c);
		json_object_object_add(o, "rates", r);
		if (dev->info)
			dev->info(dev->dev, o);
		json_object_array_add(list, o);
	}
	return list;
}

void stats_json(struct stats *s, json_object *out)
{
	json_object_object_add(out, "time_ns", u64(s->time_ns));
	uint64_t dt = interval(s);
	json_object_object_add(out, "interval_s", dt ? ctl_json_double((double)dt / 1e9, 6) : NULL);
	json_object *cpus = json_object_new_array();
	double total = 0;
	for (unsigned i = 0; i < s->vm->cfg.cpus; i++)
		json_object_array_add(cpus, vcpu_json(s, i, &total));
	json_object_object_add(out, "cpu_pct", dt ? ctl_json_double(total, 2) : NULL);
	json_object_object_add(out, "cpus", cpus);
	json_object_object_add(out, "memory", memory_json(s));
	json_object_object_add(out, "devices", devices_json(s));
	json_object *sampler = json_object_new_object();
	json_object_object_add(sampler, "samples", u64(s->samples));
	json_object_object_add(sampler, "last_cpu_us", ctl_json_double(s->cost_ns / 1000.0, 1));
	json_object_object_add(sampler, "total_cpu_ms", ctl_json_double(s->cost_total_ns / 1e6, 3));
	json_object_object_add(out, "sampler", sampler);
}
