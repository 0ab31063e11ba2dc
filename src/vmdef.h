/* A VM's definition: the human-readable vm.conf in its directory.
 *
 *   [vm]      cpus, memory, balloon
 *   [boot]    kernel, initrd, cmdline
 *   [diskN]   file (relative to the VM directory or absolute), format,
 *             readonly, cache
 *   [net]     mode (user or none), hostfwd (list, ';'-separated), mac
 *   [display] type (vga or none), keymap
 *
 * Parsed with GLib's GKeyFile; unknown keys are refused so that a typo
 * does not silently change the VM. */
#ifndef VMDECK_VMDEF_H
#define VMDECK_VMDEF_H

#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"

#define VMDEF_MAX_DISKS 8
#define VMDEF_MAX_FORWARDS 16

struct vmdef_disk {
	char *file, *format, *cache;
	bool readonly;
};

struct vmdef {
	unsigned cpus;
	uint64_t mem;
	bool balloon;
	char *kernel, *initrd, *cmdline;
	struct vmdef_disk disks[VMDEF_MAX_DISKS];
	unsigned nr_disks;
	char *net_mode;                       /* "user" or "none" */
	char *hostfwd[VMDEF_MAX_FORWARDS];
	unsigned nr_hostfwd;
	char *mac;
	char *display, *keymap;
};

/* Defaults for a new VM: 1 vCPU, 512 MiB, balloon on, user network, VGA. */
void vmdef_init(struct vmdef *d);
void vmdef_free(struct vmdef *d);
int vmdef_load(const char *path, struct vmdef *d, struct error *err);
/* Writes atomically (a temporary file renamed over PATH). */
int vmdef_save(const char *path, const struct vmdef *d, struct error *err);

#endif
