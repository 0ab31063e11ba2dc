/* Helpers shared by the `vmdeck img` subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/cmd_img.h"
#include "src/size.h"

int img_usage(const char *sub, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vmdeck img %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int img_fail(const char *sub, const char *msg)
{
	fprintf(stderr, "vmdeck img %s: %s\n", sub, msg);
	return EXIT_FAIL;
}

int img_bad_option(const char *sub, int c, char **argv)
{
	extern int optind, optopt;
	if (c == ':')
		return img_usage(sub, "%s needs a value", argv[optind - 1]);
	return img_usage(sub, "unknown option '%s'; `vmdeck help img` lists them", argv[optind - 1]);
}

int img_parse_format(const char *sub, const char *arg, enum blk_format *out)
{
	if (blk_format_parse(arg, out) < 0)
		return img_usage(sub, "unknown format '%s' (raw or qcow2)", arg);
	return 0;
}

int img_parse_cache(const char *sub, const char *arg, enum blk_cache_mode *out)
{
	if (blk_cache_parse(arg, out) < 0)
		return img_usage(sub, "unknown cache mode '%s' (writeback, none or unsafe)", arg);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		return -1;
	return 0;
}

static int apply_opt(const char *sub, const char *key, const char *v, struct blk_create_options *o,
		     char **owned)
{
	uint64_t n;
	if (!strcmp(key, "cluster_size")) {
		if (size_parse(v, 0, &n) < 0 || n > UINT32_MAX)
			return img_usage(sub, "cluster_size takes a size such as 64k, not '%s'", v);
		o->cluster_size = (uint32_t)n;
	} else if (!strcmp(key, "refcount_bits")) {
		if (size_parse(v, 0, &n) < 0 || n > 64)
			return img_usage(sub, "refcount_bits takes 1, 2, 4, 8, 16, 32 or 64, not '%s'", v);
		o->refcount_bits = (unsigned)n;
	} else if (!strcmp(key, "lazy_refcounts") || !strcmp(key, "extended_l2")) {
		bool *b = key[0] == 'l' ? &o->lazy_refcounts : &o->extended_l2;
		if (parse_bool(v, b) < 0)
			return img_usage(sub, "%s takes on or off, not '%s'", key, v);
	} else if (!strcmp(key, "compat")) {
		if (!strcmp(v, "0.10") || !strcmp(v, "v2"))
			o->compat = 2;
		else if (!strcmp(v, "1.1") || !strcmp(v, "v3"))
			o->compat = 3;
		else
			return img_usage(sub, "compat takes 0.10 or 1.1, not '%s'", v);
	} else if (!strcmp(key, "backing_file")) {
		free(*owned);
		*owned = strdup(v);
		if (!*owned)
			return img_usage(sub, "out of memory");
		o->backing_file = *owned;
	} else if (!strcmp(key, "backing_fmt")) {
		if (img_parse_format(sub, v, &o->backing_format))
			return EXIT_USAGE;
	} else if (!strcmp(key, "preallocation") || !strcmp(key, "compression_type")) {
		if (strcmp(v, "off") && strcmp(v, "zlib"))
			return img_usage(sub, "%s=%s is not supported (only off/zlib)", key, v);
	} else {
		return img_usage(sub, "unknown image option '%s'", key);
	}
	return 0;
}

int img_parse_create_opts(const char *sub, const char *arg, struct blk_create_options *o, char **owned)
{
	char *copy = strdup(arg);
	if (!copy)
		return img_usage(sub, "out of memory");
	int ret = 0;
	for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv && !ret; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			ret = img_usage(sub, "image option '%s' needs =VALUE", kv);
			break;
		}
		*eq = 0;
		ret = apply_opt(sub, kv, eq + 1, o, owned);
	}
	free(copy);
	return ret;
}

void img_progress_init(struct img_progress *p, bool force, bool quiet)
{
	p->on = !quiet && (force || isatty(STDERR_FILENO));
	p->last = -1;
}

void img_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct img_progress *p = ctx;
	if (!p->on)
		return;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (pct == p->last)
		return;
	p->last = pct;
	char bar[41];
	int fill = pct * 40 / 100;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '-', (size_t)(40 - fill));
	bar[40] = 0;
	fprintf(stderr, "\r[%s] %3d%%", bar, pct);
	fflush(stderr);
}

void img_progress_end(struct img_progress *p)
{
	if (p->on && p->last >= 0)
		fputc('\n', stderr);
}
