#include <stdio.h>
#include <string.h>

#include "src/cmd_vm.h"

struct backend *cmd_vm_backend(const struct cli_cmd *cmd)
{
	struct error err;
	struct backend *b = backend_local_new(NULL, &err);
	if (!b)
		fprintf(stderr, "vmdeck %s: %s\n", cmd->name, err.msg);
	return b;
}

int cmd_vm_status(const struct cli_cmd *cmd, int r, const struct error *err)
{
	if (r == 0)
		return EXIT_OK;
	fprintf(stderr, "vmdeck %s: %s\n", cmd->name, err->msg);
	return r == BE_EUSER ? EXIT_USAGE : EXIT_FAIL;
}

int cmd_vm_args(const struct cli_cmd *cmd, int argc, char **argv, int first, int nr, const char **out)
{
	for (int i = first; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help %s` lists them", argv[i],
					       cmd->name);
	if (argc - first < nr)
		return cli_usage_error(cmd, "needs %s; usage: vmdeck %s %s", nr == 1 ? "a VM name" : "two VM names",
				       cmd->name, cmd->args);
	if (argc - first > nr)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[first + nr]);
	for (int i = 0; i < nr; i++)
		out[i] = argv[first + i];
	return 0;
}

int cmd_vm_open(const struct cli_cmd *cmd, int argc, char **argv, int first, int nr, const char **out,
		struct backend **b)
{
	int r = cmd_vm_args(cmd, argc, argv, first, nr, out);
	if (r)
		return r;
	*b = cmd_vm_backend(cmd);
	return *b ? 0 : EXIT_FAIL;
}

int cmd_vm_simple(const struct cli_cmd *cmd, int argc, char **argv,
		  int (*op)(struct backend *b, const char *name, struct error *err), const char *done)
{
	const char *name;
	struct backend *b;
	int r = cmd_vm_open(cmd, argc, argv, 1, 1, &name, &b);
	if (r)
		return r;
	struct error err;
	r = op(b, name, &err);
	backend_free(b);
	if (r == 0 && done) {
		printf("VM '%s' %s\n", name, done);
	}
	return cmd_vm_status(cmd, r, &err);
}
