/* Comma-separated option strings: "FILE,format=qcow2,readonly=on" or
 * "user,hostfwd=tcp::8080-:80".  The first item may be a bare value; ",,"
 * stands for a literal comma (as in QEMU), so file names may hold commas. */
#ifndef VMDECK_KVOPTS_H
#define VMDECK_KVOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "src/error.h"

#define KVOPTS_MAX 32

struct kvopt {
	char *key;      /* NULL for the leading bare value */
	char *value;    /* "" for a key without "=" */
	bool has_value; /* the item had an "=" */
	bool used;
};

struct kvopts {
	struct kvopt items[KVOPTS_MAX];
	unsigned nr;
	char *storage;
};

/* Splits S; OPTION names the command-line option for error sentences. */
int kvopts_parse(struct kvopts *o, const char *s, const char *option, struct error *err);
void kvopts_free(struct kvopts *o);
/* The leading bare value, or NULL. */
const char *kvopts_head(struct kvopts *o);
/* The last value of KEY (marks every KEY used), or NULL. */
const char *kvopts_get(struct kvopts *o, const char *key);
/* "on"/"off" (also yes/no, true/false, 1/0); DEF when absent. */
int kvopts_get_bool(struct kvopts *o, const char *key, bool def, bool *out, const char *option,
		    struct error *err);
/* Fails with a sentence naming the first key nobody asked for. */
int kvopts_check_used(struct kvopts *o, const char *option, struct error *err);

#endif
