/* What the VM commands (new, list, start, stop, ...) share: the backend,
 * one NAME argument, and turning a backend status into an exit status
 * with one sentence on stderr. */
#ifndef VMDECK_CMD_VM_H
#define VMDECK_CMD_VM_H

#include "src/backend.h"
#include "src/cli.h"

/* The local backend, or NULL after saying why. */
struct backend *cmd_vm_backend(const struct cli_cmd *cmd);
/* Exit status for a backend status R (the sentence from ERR on stderr). */
int cmd_vm_status(const struct cli_cmd *cmd, int r, const struct error *err);
/* Takes exactly NR positional arguments (after options parsed by the
 * caller from FIRST on) into OUT; otherwise a usage error (returns 2). */
int cmd_vm_args(const struct cli_cmd *cmd, int argc, char **argv, int first, int nr, const char **out);
/* cmd_vm_args, then the backend into *B: 0, or the exit status to return. */
int cmd_vm_open(const struct cli_cmd *cmd, int argc, char **argv, int first, int nr, const char **out,
		struct backend **b);
/* Runs OP(backend, NAME) for a command whose only argument is a VM name;
 * says "VM 'NAME' DONE" when it worked. */
int cmd_vm_simple(const struct cli_cmd *cmd, int argc, char **argv,
		  int (*op)(struct backend *b, const char *name, struct error *err), const char *done);

#endif
