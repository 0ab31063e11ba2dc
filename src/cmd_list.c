/* vmdeck list [--json]: every VM in the library with its state. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd_vm.h"
#include "src/fmt.h"

static int exec_list(int argc, char **argv);

const struct cli_cmd cmd_list_entry = {
	.name = "list",
	.args = "[--json]",
	.summary = "list the VMs with their state, why they stopped, and live statistics",
	.help = "options:\n"
		"  --json               one JSON array, an object per VM: name, state (stopped,\n"
		"                       starting, running, paused or crashed), reason, pid, cpus,\n"
		"                       memory (bytes) and, for running VMs, stats (uptime_s,\n"
		"                       cpu_pct, vcpu_pct, balloon_actual, guest_used, net_rx_bps,\n"
		"                       net_tx_bps, disk_rd_bps, disk_wr_bps; null when unknown)\n",
	.exec = exec_list,
};

static json_object *val(struct be_val v)
{
	return v.known ? json_object_new_double(v.v) : NULL;
}

static json_object *stats_json(const struct be_stats *s)
{
	if (!s->valid)
		return NULL;
	json_object *o = json_object_new_object(), *vcpus = json_object_new_array();
	json_object_object_add(o, "uptime_s", json_object_new_double(s->uptime_s));
	json_object_object_add(o, "cpu_pct", val(s->cpu_pct));
	for (unsigned i = 0; i < s->nr_vcpus; i++)
		json_object_array_add(vcpus, val(s->vcpu_pct[i]));
	json_object_object_add(o, "vcpu_pct", vcpus);
	json_object_object_add(o, "mem_rss", val(s->mem_rss));
	json_object_object_add(o, "balloon_actual", val(s->balloon_actual));
	json_object_object_add(o, "guest_used", val(s->guest_used));
	json_object_object_add(o, "net_rx_bps", val(s->net_rx_bps));
	json_object_object_add(o, "net_tx_bps", val(s->net_tx_bps));
	json_object_object_add(o, "disk_rd_bps", val(s->disk_rd_bps));
	json_object_object_add(o, "disk_wr_bps", val(s->disk_wr_bps));
	return o;
}

static void print_json(const struct be_vm *vms, size_t n)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct be_vm *v = &vms[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(v->name));
		json_object_object_add(o, "state", json_object_new_string(vm_state_name(v->state)));
		json_object_object_add(o, "reason", v->reason[0] ? json_object_new_string(v->reason) : NULL);
		json_object_object_add(o, "pid", v->pid > 0 ? json_object_new_int(v->pid) : NULL);
		json_object_object_add(o, "cpus", json_object_new_int((int)v->cpus));
		json_object_object_add(o, "memory", json_object_new_uint64(v->mem));
		json_object_object_add(o, "stats", stats_json(&v->st));
		json_object_array_add(arr, o);
	}
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

static void print_table(const struct be_vm *vms, size_t n)
{
	if (n == 0) {
		puts("no VMs yet; `vmdeck new NAME --kernel FILE` defines one");
		return;
	}
	printf("%-16s %-8s %4s %5s %6s %6s  %s\n", "NAME", "STATE", "CPUS", "MEM", "CPU%", "UPTIME", "WHY");
	for (size_t i = 0; i < n; i++) {
		const struct be_vm *v = &vms[i];
		char mem[16], cpu[16] = "-", up[16] = "-";
		if (v->st.valid && v->st.cpu_pct.known)
			fmt_pct5(v->st.cpu_pct.v, cpu, sizeof(cpu));
		if (v->st.valid)
			fmt_duration6(v->st.uptime_s, up, sizeof(up));
		printf("%-16s %-8s %4u %5s %6s %6s  %s\n", v->name, vm_state_name(v->state), v->cpus,
		       fmt_size5(v->mem, mem, sizeof(mem)), cpu, up, v->reason);
	}
}

static int exec_list(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_list_entry;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-')
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help list` lists them", argv[i]);
		else
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	}
	struct backend *b = cmd_vm_backend(cmd);
	if (!b)
		return EXIT_FAIL;
	struct be_vm *vms;
	size_t n;
	struct error err;
	int r = b->ops->list(b, &vms, &n, &err);
	backend_free(b);
	if (r)
		return cmd_vm_status(cmd, r, &err);
	if (json)
		print_json(vms, n);
	else
		print_table(vms, n);
	free(vms);
	return EXIT_OK;
}
