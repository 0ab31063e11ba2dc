#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ui/ui_host.h"

void ui_host_init(struct ui_host *h, const char *proc_root)
{
	memset(h, 0, sizeof(*h));
	h->proc_root = proc_root ? proc_root : "/proc";
	h->cpu_pct = NAN;
}

static FILE *open_proc(const struct ui_host *h, const char *file)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", h->proc_root, file);
	return fopen(path, "re");
}

static void sample_cpu(struct ui_host *h)
{
	FILE *f = open_proc(h, "stat");
	if (!f)
		return;
	char line[512];
	unsigned ncpu = 0;
	unsigned long long v[10] = { 0 };
	bool have = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu ", 4))
			have = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
				      &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 4;
		else if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9')
			ncpu++;
	}
	fclose(f);
	h->ncpu = ncpu;
	if (!have)
		return;
	/* guest and guest_nice (8, 9) are already inside user and nice. */
	uint64_t idle = v[3] + v[4], total = 0;
	for (int i = 0; i < 8; i++)
		total += v[i];
	uint64_t busy = total - idle;
	if (h->have_prev && total > h->prev_total)
		h->cpu_pct = 100.0 * (double)(busy - h->prev_busy) / (double)(total - h->prev_total);
	h->prev_busy = busy;
	h->prev_total = total;
	h->have_prev = true;
}

static void sample_mem(struct ui_host *h)
{
	FILE *f = open_proc(h, "meminfo");
	if (!f)
		return;
	char line[256];
	unsigned long long kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			h->mem_total = kb * 1024;
		else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			h->mem_avail = kb * 1024;
	}
	fclose(f);
}

void ui_host_sample(struct ui_host *h)
{
	sample_cpu(h);
	sample_mem(h);
}
