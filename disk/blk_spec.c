/* "FILE[,format=raw|qcow2][,readonly=on|off][,cache=writeback|none|unsafe]":
 * the --disk argument, parsed for the VMM. */
#include <stdlib.h>
#include <string.h>

#include "disk/blk.h"

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
	char *copy = strdup(spec);
	if (!copy)
		return error_set(err, "out of memory");
	char *save = NULL, *file = strtok_r(copy, ",", &save);
	int ret = file && *spec != ',' ? 0 : error_set(err, "a disk needs a file name before its options");
	for (char *kv = strtok_r(NULL, ",", &save); !ret && kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			ret = error_set(err, "disk option '%s' needs =VALUE", kv);
			break;
		}
		*eq = 0;
		ret = apply(kv, eq + 1, o, err);
	}
	if (!ret && !(*path = strdup(file)))
		ret = error_set(err, "out of memory");
	free(copy);
	return ret;
}
