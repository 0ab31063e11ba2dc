/* The `vmdeck run` command line that runs a library VM, built from its
 * vm.conf.  This is the one place where each VM feature (control socket,
 * display, network, disks) turns into VMM options: a feature that lands in
 * the VMM joins by adding its block here. */
#ifndef VMDECK_VMARGS_H
#define VMDECK_VMARGS_H

#include <stddef.h>

#include "src/error.h"
#include "src/vmdef.h"
#include "src/vmlib.h"

struct vmargs {
	char **argv;          /* NULL-terminated */
	size_t n, cap;
};

/* Fills A for VM NAME defined by DEF, to be run by the binary EXE.  Fails
 * with a sentence when the definition cannot run (no kernel, a missing
 * file). */
int vmargs_build(const struct vmlib *lib, const char *name, const struct vmdef *def, const char *exe,
		 struct vmargs *a, struct error *err);
void vmargs_free(struct vmargs *a);

/* A path from vm.conf: absolute as it is, else relative to the VM's
 * directory (malloc'ed). */
char *vmargs_resolve(const struct vmlib *lib, const char *name, const char *file);

#endif
