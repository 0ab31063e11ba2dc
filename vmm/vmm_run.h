/* `vmdeck run`: one VM in the foreground, its serial console on stdio. */
#ifndef VMDECK_VMM_RUN_H
#define VMDECK_VMM_RUN_H

#include "vmm/console.h"
#include "vmm/vm.h"

/* Runs the VM until it powers off, crashes or is stopped; returns the
 * process exit code (EXIT_OK, EXIT_USAGE, EXIT_GUEST or EXIT_FAIL). */
int vmm_run(const struct vm_config *cfg, const struct serial_config *serial);

#endif
