/* The VM library on disk: $XDG_DATA_HOME/vmdeck/vms/NAME/ (by default
 * ~/.local/share/vmdeck/vms/NAME/) holds vm.conf, the VM's disk images,
 * its VMM log and, while a VMM runs it, vmm.pid (locked by that VMM, so a
 * second VMM for the same VM is refused). */
#ifndef VMDECK_VMLIB_H
#define VMDECK_VMLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "src/error.h"
#include "src/vmdef.h"

#define VMLIB_CONF    "vm.conf"
#define VMLIB_PIDFILE "vmm.pid"
#define VMLIB_LOG     "vmm.log"
#define VMLIB_EXIT    "last-exit"
#define VMLIB_NAME_MAX 64

struct vmlib {
	char *vms_dir;       /* .../vmdeck/vms */
};

/* Finds (and creates, mode 0700) the library directory. */
int vmlib_open(struct vmlib *lib, struct error *err);
void vmlib_close(struct vmlib *lib);

/* 1 to 64 letters, digits, '.', '-' or '_', not starting with '.'. */
bool vmlib_name_valid(const char *name);
/* malloc'ed paths */
char *vmlib_path(const struct vmlib *lib, const char *name, const char *file);
bool vmlib_exists(const struct vmlib *lib, const char *name);
/* Sorted names; free with vmlib_free_names. */
int vmlib_list(const struct vmlib *lib, char ***names, size_t *n, struct error *err);
void vmlib_free_names(char **names, size_t n);

/* A VMM holds the VM (its pid in *PID when not NULL). */
bool vmlib_running(const struct vmlib *lib, const char *name, pid_t *pid);

int vmlib_load(const struct vmlib *lib, const char *name, struct vmdef *def, struct error *err);
int vmlib_save(const struct vmlib *lib, const char *name, const struct vmdef *def, struct error *err);
/* Creates the directory and vm.conf; fails if NAME exists. */
int vmlib_create(const struct vmlib *lib, const char *name, const struct vmdef *def, struct error *err);
/* The next three refuse while a VMM runs the VM. */
int vmlib_delete(const struct vmlib *lib, const char *name, struct error *err);
int vmlib_rename(const struct vmlib *lib, const char *from, const char *to, struct error *err);
/* Copies the definition and every disk image inside the VM's directory. */
int vmlib_clone(const struct vmlib *lib, const char *from, const char *to, struct error *err);

#endif
