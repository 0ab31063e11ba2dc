#include <stdlib.h>
#include <string.h>

#include "src/kvopts.h"

/* Copies one item of S into DST, turning ",," into ","; returns where the
 * next item starts (or NULL at the end). */
static const char *take_item(const char *s, char *dst)
{
	while (*s) {
		if (s[0] == ',' && s[1] == ',') {
			*dst++ = ',';
			s += 2;
		} else if (*s == ',') {
			*dst = '\0';
			return s + 1;
		} else {
			*dst++ = *s++;
		}
	}
	*dst = '\0';
	return NULL;
}

int kvopts_parse(struct kvopts *o, const char *s, const char *option, struct error *err)
{
	memset(o, 0, sizeof(*o));
	o->storage = malloc(strlen(s) + 1);
	if (!o->storage)
		return error_set(err, "out of memory");
	char *dst = o->storage;
	const char *next = s;
	do {
		if (o->nr >= KVOPTS_MAX)
			return error_set(err, "%s has more than %d options", option, KVOPTS_MAX);
		char *item = dst;
		next = take_item(next, dst);
		dst += strlen(dst) + 1;
		char *eq = strchr(item, '=');
		struct kvopt *kv = &o->items[o->nr];
		if (eq) {
			*eq = '\0';
			kv->key = item;
			kv->value = eq + 1;
			kv->has_value = true;
			if (!*item)
				return error_set(err, "%s has an option without a name before '='", option);
		} else if (o->nr == 0) {
			kv->value = item;
		} else {
			kv->key = item;
			kv->value = item + strlen(item);   /* "" */
		}
		o->nr++;
	} while (next);
	return 0;
}

void kvopts_free(struct kvopts *o)
{
	free(o->storage);
	o->storage = NULL;
	o->nr = 0;
}

const char *kvopts_head(struct kvopts *o)
{
	if (o->nr && !o->items[0].key) {
		o->items[0].used = true;
		return o->items[0].value;
	}
	return NULL;
}

const char *kvopts_get(struct kvopts *o, const char *key)
{
	const char *v = NULL;
	for (unsigned i = 0; i < o->nr; i++)
		if (o->items[i].key && !strcmp(o->items[i].key, key)) {
			o->items[i].used = true;
			v = o->items[i].value;
		}
	return v;
}

int kvopts_get_bool(struct kvopts *o, const char *key, bool def, bool *out, const char *option,
		    struct error *err)
{
	static const char *const yes[] = { "on", "yes", "true", "1", "" }, *const no[] = { "off", "no", "false", "0" };
	const char *v = kvopts_get(o, key);
	*out = def;
	if (!v)
		return 0;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	return error_set(err, "%s: %s takes on or off, not '%s'", option, key, v);
}

int kvopts_check_used(struct kvopts *o, const char *option, struct error *err)
{
	for (unsigned i = 0; i < o->nr; i++)
		if (!o->items[i].used)
			return error_set(err, "%s has no option '%s'", option,
					 o->items[i].key ? o->items[i].key : o->items[i].value);
	return 0;
}
