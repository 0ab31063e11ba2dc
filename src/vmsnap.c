#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/blk.h"
#include "src/vmargs.h"
#include "src/vmsnap.h"
#include "src/vmstate.h"

/* The VM's qcow2 disks, as absolute paths (caller frees each and the array). */
static int qcow2_disks(const struct vmlib *lib, const char *name, char ***paths, char ***labels, size_t *n,
		       struct error *err)
{
	struct vmdef d;
	*paths = *labels = NULL;
	*n = 0;
	if (vmlib_load(lib, name, &d, err) < 0)
		return BE_EUSER;
	*paths = calloc(d.nr_disks + 1, sizeof(char *));
	*labels = calloc(d.nr_disks + 1, sizeof(char *));
	for (unsigned i = 0; *paths && *labels && i < d.nr_disks; i++) {
		if (d.disks[i].format && strcmp(d.disks[i].format, "qcow2"))
			continue;
		(*paths)[*n] = vmargs_resolve(lib, name, d.disks[i].file);
		(*labels)[*n] = strdup(d.disks[i].file);
		(*n)++;
	}
	vmdef_free(&d);
	return 0;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int need_stopped(const struct vmlib *lib, const char *name, const char *what, struct error *err)
{
	struct vm_status st;
	vmstate_get(lib, name, &st);
	if (vm_state_live(st.state))
		return be_error(err, BE_EUSER, "VM '%s' is %s: stop it before you %s a snapshot of its disks (snapshots of a "
				 "running VM need its VMM, not there yet)", name, vm_state_name(st.state), what);
	return 0;
}

static struct blk *open_disk(const char *path, bool write, struct error *err)
{
	/* Listing a running VM's disk reads beside its VMM, as qemu-img -U. */
	struct blk_options o = { .format = BLK_FORMAT_QCOW2, .read_only = !write, .force_share = !write };
	return blk_open(path, &o, err);
}

int vmsnap_list(const struct vmlib *lib, const char *name, struct be_snapshot **list, size_t *n,
		struct error *err)
{
	char **paths, **labels;
	size_t nd;
	*list = NULL;
	*n = 0;
	int r = qcow2_disks(lib, name, &paths, &labels, &nd, err);
	for (size_t i = 0; !r && i < nd; i++) {
		struct blk *b = open_disk(paths[i], false, err);
		struct blk_snapshot *s = NULL;
		size_t ns = 0;
		if (!b || blk_snapshot_list(b, &s, &ns, err) < 0) {
			r = BE_EFAIL;
		} else if (ns) {
			struct be_snapshot *grown = realloc(*list, (*n + ns) * sizeof(*grown));
			if (!grown) {
				r = be_error(err, BE_EFAIL, "out of memory");
			} else {
				*list = grown;
				for (size_t k = 0; k < ns; k++) {
					struct be_snapshot *p = &grown[(*n)++];
					memset(p, 0, sizeof(*p));
					snprintf(p->id, sizeof(p->id), "%s", s[k].id ? s[k].id : "");
					snprintf(p->name, sizeof(p->name), "%s", s[k].name ? s[k].name : "");
					snprintf(p->disk, sizeof(p->disk), "%s", labels[i]);
					p->date = (time_t)s[k].date_sec;
					p->vm_state_size = s[k].vm_state_size;
					p->disk_size = s[k].disk_size;
					p->full_state = s[k].vm_state_size != 0;
				}
			}
		}
		blk_snapshot_list_free(s, ns);
		if (b)
			blk_close(b);
	}
	free_strs(paths, nd);
	free_strs(labels, nd);
	if (r) {
		free(*list);
		*list = NULL;
		*n = 0;
	}
	return r;
}

/* Runs OP(b, SNAP) on every qcow2 disk (ONLY_HAVING: only disks that have SNAP). */
static int each_disk(const struct vmlib *lib, const char *name, const char *snap, const char *what,
		     int (*op)(struct blk *, const char *, struct error *), bool only_having, struct error *err)
{
	int r = need_stopped(lib, name, what, err);
	if (r)
		return r;
	char **paths, **labels;
	size_t nd, done = 0;
	r = qcow2_disks(lib, name, &paths, &labels, &nd, err);
	if (!r && !nd)
		r = be_error(err, BE_EUSER, "VM '%s' has no qcow2 disk to %s a snapshot of", name, what);
	for (size_t i = 0; !r && i < nd; i++) {
		struct blk *b = open_disk(paths[i], true, err);
		if (!b) {
			r = BE_EFAIL;
			break;
		}
		bool has = true;
		if (only_having) {
			struct blk_snapshot *s = NULL;
			size_t ns = 0;
			has = false;
			if (blk_snapshot_list(b, &s, &ns, err) == 0)
				for (size_t k = 0; k < ns; k++)
					has |= (s[k].id && !strcmp(s[k].id, snap)) || (s[k].name && !strcmp(s[k].name, snap));
			blk_snapshot_list_free(s, ns);
		}
		if (has) {
			if (op(b, snap, err) < 0)
				r = BE_EFAIL;
			else
				done++;
		}
		if (blk_close(b) < 0 && !r)
			r = be_error(err, BE_EFAIL, "cannot close the disk '%s' cleanly", labels[i]);
	}
	if (!r && only_having && !done)
		r = be_error(err, BE_EUSER, "VM '%s' has no snapshot '%s'", name, snap);
	free_strs(paths, nd);
	free_strs(labels, nd);
	return r;
}

static int take_one(struct blk *b, const char *snap, struct error *err)
{
	return blk_snapshot_create(b, snap, 0, err);
}

int vmsnap_take(const struct vmlib *lib, const char *name, const char *snap, struct error *err)
{
	struct be_snapshot *list;
	size_t n;
	int r = vmsnap_list(lib, name, &list, &n, err);
	for (size_t i = 0; !r && i < n; i++)
		if (!strcmp(list[i].name, snap))
			r = be_error(err, BE_EUSER, "VM '%s' has a snapshot named '%s' already", name, snap);
	free(list);
	return r ? r : each_disk(lib, name, snap, "take", take_one, false, err);
}

int vmsnap_revert(const struct vmlib *lib, const char *name, const char *snap, struct error *err)
{
	return each_disk(lib, name, snap, "revert to", blk_snapshot_apply, true, err);
}

int vmsnap_delete(const struct vmlib *lib, const char *name, const char *snap, struct error *err)
{
	return each_disk(lib, name, snap, "delete", blk_snapshot_delete, true, err);
}

int vmsnap_create_disk(const struct vmlib *lib, const char *name, const char *file, uint64_t size,
		       struct error *err)
{
	char *path = vmargs_resolve(lib, name, file);
	struct blk_create_options o = { .format = BLK_FORMAT_QCOW2, .size = size };
	int r = path && blk_create(path, &o, err) == 0 ? 0 : BE_EFAIL;
	free(path);
	return r;
}
