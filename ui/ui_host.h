/* The host's meters for the header: CPU use over the last interval (from
 * /proc/stat) and memory (from /proc/meminfo). */
#ifndef VMDECK_UI_HOST_H
#define VMDECK_UI_HOST_H

#include <stdbool.h>
#include <stdint.h>

struct ui_host {
	unsigned ncpu;
	double cpu_pct;                 /* 0..100 of all host CPUs; NaN before two samples */
	uint64_t mem_total, mem_avail;  /* bytes */
	uint64_t prev_busy, prev_total;
	bool have_prev;
	const char *proc_root;          /* "/proc" (tests point it elsewhere) */
};

void ui_host_init(struct ui_host *h, const char *proc_root);
void ui_host_sample(struct ui_host *h);

#endif
