#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ctltest.h"
#include "tests/lib/spawn.h"

unsigned vmproc_count(const struct vmproc *p, const char *text)
{
	unsigned n = 0;
	for (const char *s = strstr(p->obuf, text); s; s = strstr(s + 1, text))
		n++;
	return n;
}

uint64_t proc_rss(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

void test_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vmdeck-test-XXXXXX");
	if (!mkdtemp(dir))
		perror("mkdtemp");
}

int vmdeck_ctl(const char *socket, char **out, ...)
{
	char *argv[16] = { (char *)vmdeck_bin(), "ctl", (char *)socket };
	int n = 3;
	va_list ap;
	va_start(ap, out);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct spawn_result r;
	if (spawn_run(argv, NULL, NULL, 20000, &r) < 0)
		return -1;
	if (r.status != 0)
		fprintf(stderr, "vmdeck ctl %s: status %d: %s", argv[3], r.status, r.err);
	if (out)
		*out = strdup(r.out);
	int st = r.status;
	spawn_free(&r);
	return st;
}
