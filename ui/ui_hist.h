/* The recent past of every running VM's statistics, for sparklines and
 * the detail screen's graphs: one sample per refresh, the last
 * UI_HIST_LEN kept (five minutes at the default 1 s refresh), oldest
 * first; a sample the VMM did not report is NaN. */
#ifndef VMDECK_UI_HIST_H
#define VMDECK_UI_HIST_H

#include <stddef.h>

#include "src/backend.h"

#define UI_HIST_LEN 300

enum ui_series_id {
	UI_S_CPU,            /* all vCPUs, % of one host CPU */
	UI_S_MEM_USED,       /* guest-reported used memory, bytes */
	UI_S_BALLOON,        /* memory the guest has after the balloon, bytes */
	UI_S_RSS,            /* host memory of the VMM, bytes */
	UI_S_NET_RX, UI_S_NET_TX, UI_S_DISK_RD, UI_S_DISK_WR,   /* bytes/s */
	UI_S_NR,
};

struct ui_vmhist {
	char name[BE_NAME_MAX + 1];
	unsigned nvcpu;
	double *vcpu[BE_MAX_VCPUS];           /* UI_HIST_LEN each */
	double series[UI_S_NR][UI_HIST_LEN];
	size_t samples;                       /* pushed so far (capped at UI_HIST_LEN) */
	unsigned mark;                        /* last update that saw the VM */
};

struct ui_hist {
	struct ui_vmhist **vms;
	size_t n;
	unsigned mark;
};

void ui_hist_init(struct ui_hist *h);
void ui_hist_free(struct ui_hist *h);
/* Adds a sample for each VM of VMS that has statistics, and forgets the
 * VMs no longer listed or not running. */
void ui_hist_update(struct ui_hist *h, const struct be_vm *vms, size_t n);
const struct ui_vmhist *ui_hist_find(const struct ui_hist *h, const char *name);
/* The largest known value of the last N samples of S (0 if none). */
double ui_hist_max(const double *s, size_t n);

#endif
