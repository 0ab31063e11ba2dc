/* "FILE[,format=raw|qcow2][,readonly=on|off][,cache=writeback|none|unsafe]":
 * the --disk argument, parsed for the VMM (",," is a comma in FILE). */
#include <stdlib.h>
#include <string.h>

#include "disk/blk.h"
#include "src/kvopts.h"

static int bool_value(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		return -1;
	return 0;
}

static int apply(const char *key, const char *v, struct blk_options *o, struct error *err)
{
	if (!strcmp(key, "format")) {
		if (blk_format_parse(v, &o->format) < 0)
			return error_set(err, "disk option format=%s: use raw or qcow2", v);
	} else if (!strcmp(key, "readonly")) {
		if (bool_value(v, &o->read_only) < 0)
			return error_set(err, "disk option readonly=%s: use on or off", v);
	} else if (!strcmp(key, "cache")) {
		if (blk_cache_parse(v, &o->cache) < 0)
			return error_set(err, "disk option cache=%s: use writeback, none or unsafe", v);
	} else {
		return error_set(err, "unknown disk option '%s' (format, readonly, cache)", key);
	}
	return 0;
}

int blk_spec_parse(const char *spec, char **path, struct blk_options *o, struct error *err)
{
	*path = NULL;
	struct kvopts kv;
	/* kvopts reads ",," as a literal comma, so file names may hold commas. */
	if (kvopts_parse(&kv, spec, "--disk", err) < 0) {
		kvopts_free(&kv);
		return -1;
	}
	const char *file = kvopts_head(&kv);
	int ret = file && *file ? 0 : error_set(err, "a disk needs a file name before its options");
	for (unsigned i = 0; !ret && i < kv.nr; i++) {
		const struct kvopt *item = &kv.items[i];
		if (!item->key)
			continue;
		if (!item->has_value)
			ret = error_set(err, "disk option '%s' needs =VALUE", item->key);
		else
			ret = apply(item->key, item->value, o, err);
	}
	if (!ret && !(*path = strdup(file)))
		ret = error_set(err, "out of memory");
	kvopts_free(&kv);
	return ret;
}
