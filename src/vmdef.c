#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/size.h"
#include "src/vmdef.h"

static const char header[] =
	"# vmdeck VM definition; see vmdeck(1), section VM LIBRARY.\n"
	"# Edit while the VM is stopped; unknown keys are refused.\n";

void vmdef_init(struct vmdef *d)
{
	memset(d, 0, sizeof(*d));
	d->cpus = 1;
	d->mem = 512ull << 20;
	d->balloon = true;
	d->net_mode = strdup("user");
	d->display = strdup("vga");
	d->keymap = strdup("us");
	d->cmdline = strdup("console=ttyS0");
}

void vmdef_free(struct vmdef *d)
{
	free(d->kernel);
	free(d->initrd);
	free(d->cmdline);
	for (unsigned i = 0; i < d->nr_disks; i++) {
		free(d->disks[i].file);
		free(d->disks[i].format);
		free(d->disks[i].cache);
	}
	for (unsigned i = 0; i < d->nr_hostfwd; i++)
		free(d->hostfwd[i]);
	free(d->net_mode);
	free(d->mac);
	free(d->display);
	free(d->keymap);
	memset(d, 0, sizeof(*d));
}

/* ---- loading --------------------------------------------------------------- */

struct loader {
	GKeyFile *kf;
	const char *path;
	struct error *err;
	bool failed;
};

static char *get_str(struct loader *l, const char *group, const char *key, const char *def)
{
	char *v = g_key_file_get_string(l->kf, group, key, NULL);
	char *r = strdup(v ? v : def ? def : "");
	g_free(v);
	if (!v && !def) {
		free(r);
		return NULL;
	}
	return r;
}

static bool get_bool(struct loader *l, const char *group, const char *key, bool def)
{
	if (!g_key_file_has_key(l->kf, group, key, NULL))
		return def;
	GError *e = NULL;
	gboolean v = g_key_file_get_boolean(l->kf, group, key, &e);
	if (e) {
		if (!l->failed)
			error_set(l->err, "%s: [%s] %s must be true or false", l->path, group, key);
		l->failed = true;
		g_error_free(e);
		return def;
	}
	return v;
}

static bool known_key(const char *group, const char *key)
{
	static const char *const keys[][8] = {
		{ "vm", "cpus", "memory", "balloon" },
		{ "boot", "kernel", "initrd", "cmdline" },
		{ "disk", "file", "format", "readonly", "cache" },
		{ "net", "mode", "hostfwd", "mac" },
		{ "display", "type", "keymap" },
	};
	const char *g = strncmp(group, "disk", 4) == 0 ? "disk" : group;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i][0], g))
			continue;
		for (size_t k = 1; k < 8 && keys[i][k]; k++)
			if (!strcmp(keys[i][k], key))
				return true;
		return false;
	}
	return false;
}

/* Unknown groups and keys are mistakes worth a sentence, not silence. */
static void check_keys(struct loader *l)
{
	gchar **groups = g_key_file_get_groups(l->kf, NULL);
	for (gchar **g = groups; *g && !l->failed; g++) {
		gchar **keys = g_key_file_get_keys(l->kf, *g, NULL, NULL);
		for (gchar **k = keys; keys && *k && !l->failed; k++)
			if (!known_key(*g, *k)) {
				error_set(l->err, "%s: [%s] has no key '%s'", l->path, *g, *k);
				l->failed = true;
			}
		g_strfreev(keys);
	}
	g_strfreev(groups);
}

static void load_vm(struct loader *l, struct vmdef *d)
{
	char *cpus = get_str(l, "vm", "cpus", "1"), *mem = get_str(l, "vm", "memory", "512M");
	char *end;
	unsigned long n = strtoul(cpus, &end, 10);
	if (!*cpus || *end || n == 0 || n > 255) {
		error_set(l->err, "%s: [vm] cpus must be a number from 1 to 255, not '%s'", l->path, cpus);
		l->failed = true;
	}
	d->cpus = (unsigned)n;
	if (!l->failed && size_parse(mem, 20, &d->mem) < 0) {
		error_set(l->err, "%s: [vm] memory must be a size such as 1G, not '%s'", l->path, mem);
		l->failed = true;
	}
	free(cpus);
	free(mem);
	d->balloon = get_bool(l, "vm", "balloon", true);
}

static void load_disks(struct loader *l, struct vmdef *d)
{
	for (unsigned i = 0; i < VMDEF_MAX_DISKS && !l->failed; i++) {
		char group[16];
		snprintf(group, sizeof(group), "disk%u", i);
		if (!g_key_file_has_group(l->kf, group))
			continue;
		struct vmdef_disk *disk = &d->disks[d->nr_disks];
		disk->file = get_str(l, group, "file", NULL);
		if (!disk->file) {
			error_set(l->err, "%s: [%s] needs a file", l->path, group);
			l->failed = true;
			return;
		}
		disk->format = get_str(l, group, "format", "qcow2");
		disk->cache = get_str(l, group, "cache", "writeback");
		disk->readonly = get_bool(l, group, "readonly", false);
		d->nr_disks++;
	}
}

static void load_net(struct loader *l, struct vmdef *d)
{
	free(d->net_mode);
	d->net_mode = get_str(l, "net", "mode", "user");
	if (strcmp(d->net_mode, "user") && strcmp(d->net_mode, "none")) {
		error_set(l->err, "%s: [net] mode must be user or none, not '%s'", l->path, d->net_mode);
		l->failed = true;
	}
	gsize n = 0;
	gchar **fwd = g_key_file_get_string_list(l->kf, "net", "hostfwd", &n, NULL);
	for (gsize i = 0; fwd && i < n && d->nr_hostfwd < VMDEF_MAX_FORWARDS; i++)
		if (*fwd[i])
			d->hostfwd[d->nr_hostfwd++] = strdup(g_strstrip(fwd[i]));
	g_strfreev(fwd);
	d->mac = get_str(l, "net", "mac", NULL);
}

int vmdef_load(const char *path, struct vmdef *d, struct error *err)
{
	vmdef_init(d);
	struct loader l = { .kf = g_key_file_new(), .path = path, .err = err };
	GError *e = NULL;
	if (!g_key_file_load_from_file(l.kf, path, G_KEY_FILE_NONE, &e)) {
		error_set(err, "cannot read the VM definition '%s': %s", path, e->message);
		g_error_free(e);
		g_key_file_free(l.kf);
		return -1;
	}
	check_keys(&l);
	if (!l.failed)
		load_vm(&l, d);
	if (!l.failed) {
		free(d->cmdline);
		d->kernel = get_str(&l, "boot", "kernel", NULL);
		d->initrd = get_str(&l, "boot", "initrd", NULL);
		d->cmdline = get_str(&l, "boot", "cmdline", "console=ttyS0");
		load_disks(&l, d);
	}
	if (!l.failed)
		load_net(&l, d);
	if (!l.failed) {
		free(d->display);
		free(d->keymap);
		d->display = get_str(&l, "display", "type", "vga");
		d->keymap = get_str(&l, "display", "keymap", "us");
	}
	g_key_file_free(l.kf);
	return l.failed ? -1 : 0;
}

/* ---- saving ---------------------------------------------------------------- */

static void set_opt(GKeyFile *kf, const char *group, const char *key, const char *v)
{
	if (v && *v)
		g_key_file_set_string(kf, group, key, v);
}

static GKeyFile *to_keyfile(const struct vmdef *d)
{
	GKeyFile *kf = g_key_file_new();
	char mem[32];
	g_key_file_set_integer(kf, "vm", "cpus", (gint)d->cpus);
	/* Whole MiB keep the file readable ("1024M" rather than bytes). */
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(d->mem >> 20));
	g_key_file_set_string(kf, "vm", "memory", mem);
	g_key_file_set_boolean(kf, "vm", "balloon", d->balloon);
	set_opt(kf, "boot", "kernel", d->kernel);
	set_opt(kf, "boot", "initrd", d->initrd);
	set_opt(kf, "boot", "cmdline", d->cmdline);
	for (unsigned i = 0; i < d->nr_disks; i++) {
		char group[16];
		snprintf(group, sizeof(group), "disk%u", i);
		set_opt(kf, group, "file", d->disks[i].file);
		set_opt(kf, group, "format", d->disks[i].format);
		set_opt(kf, group, "cache", d->disks[i].cache);
		g_key_file_set_boolean(kf, group, "readonly", d->disks[i].readonly);
	}
	set_opt(kf, "net", "mode", d->net_mode);
	if (d->nr_hostfwd)
		g_key_file_set_string_list(kf, "net", "hostfwd", (const gchar *const *)d->hostfwd, d->nr_hostfwd);
	set_opt(kf, "net", "mac", d->mac);
	set_opt(kf, "display", "type", d->display);
	set_opt(kf, "display", "keymap", d->keymap);
	return kf;
}

int vmdef_save(const char *path, const struct vmdef *d, struct error *err)
{
	GKeyFile *kf = to_keyfile(d);
	gsize len;
	gchar *body = g_key_file_to_data(kf, &len, NULL);
	g_key_file_free(kf);
	char *text = g_strconcat(header, body, NULL);
	g_free(body);
	GError *e = NULL;
	/* g_file_set_contents writes a temporary file and renames it. */
	gboolean ok = g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e);
	g_free(text);
	if (!ok) {
		error_set(err, "cannot write the VM definition '%s': %s", path, e->message);
		g_error_free(e);
		return -1;
	}
	return 0;
}
