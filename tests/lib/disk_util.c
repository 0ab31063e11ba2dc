#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/disk_util.h"

char *dt_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/vmdeck-disk-XXXXXX", base && *base ? base : "/tmp");
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

void dt_rmtree(const char *dir)
{
	if (dir && strstr(dir, "vmdeck-disk-"))
		dt_sh("rm -rf '%s'", dir);
}

char *dt_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

struct dt_fx *dt_fx_new(const char *img)
{
	struct dt_fx *f = calloc(1, sizeof(*f));
	if (f && (f->dir = dt_mkdtemp()) && (!img || (f->img = dt_join(f->dir, img))))
		return f;
	dt_fx_free(f);
	return NULL;
}

void dt_fx_free(struct dt_fx *f)
{
	if (!f)
		return;
	dt_rmtree(f->dir);
	free(f->dir);
	free(f->img);
	free(f);
}

static char *vformat(const char *fmt, va_list ap)
{
	char *cmd = NULL;
	if (vasprintf(&cmd, fmt, ap) < 0)
		return NULL;
	return cmd;
}

int dt_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	if (!cmd)
		return -1;
	int st = system(cmd);
	free(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

char *dt_sh_out(int *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = vformat(fmt, ap);
	va_end(ap);
	if (!cmd)
		return NULL;
	FILE *p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return NULL;
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	size_t n;
	while (out && (n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 1024) {
			char *g = realloc(out, cap * 2);
			if (!g) {
				free(out);
				out = NULL;
				break;
			}
			out = g;
			cap *= 2;
		}
	}
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (out)
		out[len] = 0;
	return out;
}

void dt_pattern(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

int dt_qemu_check(const char *path)
{
	return dt_sh("qemu-img check -q '%s' >/dev/null 2>&1", path);
}

int dt_same_as_raw(struct blk *b, const char *raw)
{
	FILE *f = fopen(raw, "rb");
	if (!f)
		return -1;
	size_t chunk = 1 << 20;
	uint8_t *a = malloc(chunk), *c = malloc(chunk);
	int ret = a && c ? 0 : -1;
	for (uint64_t off = 0; !ret && off < blk_size(b); off += chunk) {
		size_t n = blk_size(b) - off < chunk ? (size_t)(blk_size(b) - off) : chunk;
		size_t got = fread(c, 1, n, f);
		memset(c + got, 0, n - got);
		int r = blk_pread(b, a, n, off);
		if (r) {
			fprintf(stderr, "read at %llu failed: %s\n", (unsigned long long)off, strerror(-r));
			ret = -1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (a[i] != c[i]) {
				fprintf(stderr, "first difference at byte %llu: ours 0x%02x, reference 0x%02x\n",
					(unsigned long long)(off + i), a[i], c[i]);
				ret = -1;
				break;
			}
		}
	}
	if (!ret && fgetc(f) != EOF && blk_size(b) > 0) {
		fprintf(stderr, "reference is longer than the image\n");
		ret = -1;
	}
	free(a);
	free(c);
	fclose(f);
	return ret;
}

int dt_same_as_qemu(struct blk *b, const char *path)
{
	char *raw = NULL;
	if (asprintf(&raw, "%s.ref.raw", path) < 0)
		return -1;
	int ret = -1;
	if (dt_sh("qemu-img convert -U -O raw '%s' '%s'", path, raw) == 0)
		ret = dt_same_as_raw(b, raw);
	else
		fprintf(stderr, "qemu-img convert of %s failed\n", path);
	unlink(raw);
	free(raw);
	return ret;
}

struct blk *dt_open(const char *path, bool read_only)
{
	struct blk_options o = { .read_only = read_only };
	struct error err;
	struct blk *b = blk_open(path, &o, &err);
	if (!b)
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	return b;
}
