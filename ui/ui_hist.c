#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_hist.h"

void ui_hist_init(struct ui_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static void vm_free(struct ui_vmhist *v)
{
	for (unsigned i = 0; i < v->nvcpu; i++)
		free(v->vcpu[i]);
	free(v);
}

void ui_hist_free(struct ui_hist *h)
{
	for (size_t i = 0; i < h->n; i++)
		vm_free(h->vms[i]);
	free(h->vms);
	memset(h, 0, sizeof(*h));
}

static void fill_nan(double *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = NAN;
}

static void push(double *s, double v)
{
	memmove(s, s + 1, (UI_HIST_LEN - 1) * sizeof(*s));
	s[UI_HIST_LEN - 1] = v;
}

static double val(struct be_val v)
{
	return v.known ? v.v : NAN;
}

static struct ui_vmhist *find(struct ui_hist *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->vms[i]->name, name))
			return h->vms[i];
	return NULL;
}

static struct ui_vmhist *add(struct ui_hist *h, const char *name)
{
	struct ui_vmhist *v = calloc(1, sizeof(*v));
	struct ui_vmhist **grown = v ? realloc(h->vms, (h->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(v);
		return NULL;
	}
	h->vms = grown;
	h->vms[h->n++] = v;
	strncpy(v->name, name, sizeof(v->name) - 1);
	for (int s = 0; s < UI_S_NR; s++)
		fill_nan(v->series[s], UI_HIST_LEN);
	return v;
}

static void set_vcpus(struct ui_vmhist *v, unsigned n)
{
	if (n > BE_MAX_VCPUS)
		n = BE_MAX_VCPUS;
	for (unsigned i = n; i < v->nvcpu; i++) {
		free(v->vcpu[i]);
		v->vcpu[i] = NULL;
	}
	for (unsigned i = v->nvcpu; i < n; i++) {
		v->vcpu[i] = malloc(UI_HIST_LEN * sizeof(double));
		if (!v->vcpu[i]) {
			n = i;
			break;
		}
		fill_nan(v->vcpu[i], UI_HIST_LEN);
	}
	v->nvcpu = n;
}

static void sample(struct ui_vmhist *v, const struct be_stats *st)
{
	set_vcpus(v, st->nr_vcpus);
	for (unsigned i = 0; i < v->nvcpu; i++)
		push(v->vcpu[i], val(st->vcpu_pct[i]));
	push(v->series[UI_S_CPU], val(st->cpu_pct));
	push(v->series[UI_S_MEM_USED], val(st->guest_used));
	push(v->series[UI_S_BALLOON], val(st->balloon_actual));
	push(v->series[UI_S_RSS], val(st->mem_rss));
	push(v->series[UI_S_NET_RX], val(st->net_rx_bps));
	push(v->series[UI_S_NET_TX], val(st->net_tx_bps));
	push(v->series[UI_S_DISK_RD], val(st->disk_rd_bps));
	push(v->series[UI_S_DISK_WR], val(st->disk_wr_bps));
	if (v->samples < UI_HIST_LEN)
		v->samples++;
}

void ui_hist_update(struct ui_hist *h, const struct be_vm *vms, size_t n)
{
	h->mark++;
	for (size_t i = 0; i < n; i++) {
		if (!vm_state_live(vms[i].state))
			continue;
		struct ui_vmhist *v = find(h, vms[i].name);
		if (!v && !(v = add(h, vms[i].name)))
			continue;
		v->mark = h->mark;
		if (vms[i].st.valid)
			sample(v, &vms[i].st);
	}
	/* A VM that stopped starts its graphs afresh next time. */
	size_t w = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (h->vms[i]->mark == h->mark)
			h->vms[w++] = h->vms[i];
		else
			vm_free(h->vms[i]);
	}
	h->n = w;
}

const struct ui_vmhist *ui_hist_find(const struct ui_hist *h, const char *name)
{
	return find((struct ui_hist *)h, name);
}

double ui_hist_max(const double *s, size_t n)
{
	double m = 0;
	for (size_t i = UI_HIST_LEN - (n > UI_HIST_LEN ? UI_HIST_LEN : n); i < UI_HIST_LEN; i++)
		if (s[i] > m)
			m = s[i];
	return m;
}
