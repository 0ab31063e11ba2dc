/* Snapshots of a library VM's disks: the qcow2 internal snapshots of
 * every qcow2 disk in its vm.conf, through the block layer.  Taking,
 * reverting and deleting need the VM stopped (a running VMM holds its
 * images' locks; snapshotting under it needs the VMM's help, which comes
 * with full-state snapshots); listing works either way. */
#ifndef VMDECK_VMSNAP_H
#define VMDECK_VMSNAP_H

#include <stdbool.h>
#include <stddef.h>

#include "src/backend.h"
#include "src/vmlib.h"

/* Every snapshot of every qcow2 disk, oldest first (*LIST malloc'ed). */
int vmsnap_list(const struct vmlib *lib, const char *name, struct be_snapshot **list, size_t *n,
		struct error *err);
/* SNAP on every qcow2 disk (refused when one of them already has it). */
int vmsnap_take(const struct vmlib *lib, const char *name, const char *snap, struct error *err);
/* SNAP (an id or a name) on every disk that has it. */
int vmsnap_revert(const struct vmlib *lib, const char *name, const char *snap, struct error *err);
int vmsnap_delete(const struct vmlib *lib, const char *name, const char *snap, struct error *err);

/* Creates the growable qcow2 data disk FILE (in the VM's directory) of
 * SIZE bytes. */
int vmsnap_create_disk(const struct vmlib *lib, const char *name, const char *file, uint64_t size,
		       struct error *err);

#endif
