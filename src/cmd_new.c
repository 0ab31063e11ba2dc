/* vmdeck new NAME [options]: define a VM in the library. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd_vm.h"
#include "src/kvopts.h"
#include "src/size.h"

static int exec_new(int argc, char **argv);

const struct cli_cmd cmd_new_entry = {
	.name = "new",
	.args = "NAME [--cpus N] [--mem SIZE] [--disk-size SIZE] [--kernel FILE] [--initrd FILE] [--cmdline STR] "
		"[--net user[,hostfwd=RULE...]|none]",
	.summary = "define a new VM in the library (started later with `vmdeck start`)",
	.help = "options:\n"
		"  --cpus N             vCPUs, 1 to 255 (default 1)\n"
		"  --mem SIZE           memory, e.g. 512M or 2G; a bare number means MiB (default 512M)\n"
		"  --disk-size SIZE     a data disk of SIZE (e.g. 8G): a growable qcow2 image,\n"
		"                       disk0.qcow2 in the VM's directory, that takes host space only\n"
		"                       as the guest writes (default: no disk)\n"
		"  --kernel FILE        the kernel to boot (bzImage or PVH ELF)\n"
		"  --initrd FILE        its initial ramdisk\n"
		"  --cmdline STR        its command line (default \"console=ttyS0\")\n"
		"  --net MODE           user (default): a NAT'ed network card; none: no card.\n"
		"                       user,hostfwd=tcp::8080-:80 forwards host port 8080 on\n"
		"                       127.0.0.1 to the guest's port 80 (repeatable)\n"
		"\n"
		"NAME is 1 to 64 letters, digits, '.', '-' or '_'.  The VM lives in\n"
		"$XDG_DATA_HOME/vmdeck/vms/NAME/ (~/.local/share/vmdeck/vms/NAME/), defined by the\n"
		"human-readable vm.conf there; see vmdeck(1), VM LIBRARY.\n",
	.exec = exec_new,
};

enum { OPT_CPUS = 256, OPT_MEM, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_NET, OPT_DISK_SIZE };

/* An absolute path, so the VM boots whatever the starter's directory. */
static int set_path(const struct cli_cmd *cmd, char *dst, size_t len, const char *file, const char *what)
{
	char *abs = realpath(file, NULL);
	if (!abs)
		return cli_usage_error(cmd, "the %s '%s' cannot be used: %s", what, file, strerror(errno));
	int too_long = strlen(abs) >= len;
	if (!too_long)
		strcpy(dst, abs);
	free(abs);
	return too_long ? cli_usage_error(cmd, "the %s path '%s' is too long", what, file) : 0;
}

static int parse_net(const struct cli_cmd *cmd, const char *s, struct be_spec *spec)
{
	struct kvopts o;
	struct error err;
	if (kvopts_parse(&o, s, "--net", &err) < 0) {
		kvopts_free(&o);
		return cli_usage_error(cmd, "%s", err.msg);
	}
	const char *mode = kvopts_head(&o);
	int r = 0;
	spec->nr_forwards = 0;
	if (!mode || (strcmp(mode, "user") && strcmp(mode, "none")))
		r = cli_usage_error(cmd, "--net takes user or none first, not '%s'", mode ? mode : s);
	else
		spec->net = !strcmp(mode, "user");
	for (unsigned i = 0; !r && i < o.nr; i++) {
		const struct kvopt *kv = &o.items[i];
		if (!kv->key)
			continue;
		if (strcmp(kv->key, "hostfwd"))
			r = cli_usage_error(cmd, "--net has no option '%s' here (only hostfwd=RULE)", kv->key);
		else if (!spec->net)
			r = cli_usage_error(cmd, "--net none cannot forward ports");
		else if (!be_forward_valid(kv->value))
			r = cli_usage_error(cmd, "--net hostfwd takes [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT "
					    "such as tcp::8080-:80, not '%s'", kv->value);
		else if (spec->nr_forwards >= BE_MAX_FORWARDS)
			r = cli_usage_error(cmd, "--net takes at most %d forwards", BE_MAX_FORWARDS);
		else
			snprintf(spec->forwards[spec->nr_forwards++], sizeof(spec->forwards[0]), "%s", kv->value);
	}
	kvopts_free(&o);
	return r;
}

static int exec_new(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "net", required_argument, NULL, OPT_NET },
		{ "disk-size", required_argument, NULL, OPT_DISK_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = &cmd_new_entry;
	struct be_spec spec;
	be_spec_defaults(&spec);
	optind = 1;
	opterr = 0;
	int c, r = 0;
	/* getopt_long_only: "-bad" is reported whole, not as "-b". */
	while (!r && (c = getopt_long_only(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CPUS: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || n < 1 || n > 255)
				r = cli_usage_error(cmd, "--cpus takes a number from 1 to 255, not '%s'", optarg);
			spec.cpus = (unsigned)n;
			break;
		}
		case OPT_MEM:
			if (size_parse(optarg, 20, &spec.mem) < 0)
				r = cli_usage_error(cmd, "--mem takes a size such as 512M or 2G, not '%s'", optarg);
			break;
		case OPT_DISK_SIZE:
			if (size_parse(optarg, 20, &spec.disk_size) < 0 || spec.disk_size < (1ull << 20))
				r = cli_usage_error(cmd, "--disk-size takes a size of at least 1M such as 8G, not '%s'",
						    optarg);
			break;
		case OPT_KERNEL: r = set_path(cmd, spec.kernel, sizeof(spec.kernel), optarg, "kernel"); break;
		case OPT_INITRD: r = set_path(cmd, spec.initrd, sizeof(spec.initrd), optarg, "initrd"); break;
		case OPT_CMDLINE:
			if (strlen(optarg) >= sizeof(spec.cmdline))
				r = cli_usage_error(cmd, "--cmdline is longer than %zu bytes", sizeof(spec.cmdline) - 1);
			else
				strcpy(spec.cmdline, optarg);
			break;
		case OPT_NET: r = parse_net(cmd, optarg, &spec); break;
		case ':': r = cli_usage_error(cmd, "%s needs a value", argv[optind - 1]); break;
		default:
			r = cli_usage_error(cmd, "unknown option '%s'; `vmdeck help new` lists them", argv[optind - 1]);
		}
	}
	if (r)
		return r;
	if (optind != argc - 1)
		return optind >= argc ? cli_usage_error(cmd, "needs the new VM's NAME")
				      : cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	snprintf(spec.name, sizeof(spec.name), "%s", argv[optind]);
	if (strlen(argv[optind]) >= sizeof(spec.name))
		return cli_usage_error(cmd, "the name '%s' is longer than %d characters", argv[optind], BE_NAME_MAX);
	struct backend *b = cmd_vm_backend(cmd);
	if (!b)
		return EXIT_FAIL;
	struct error err;
	r = b->ops->create(b, &spec, &err);
	backend_free(b);
	if (r == 0)
		printf("VM '%s' created; `vmdeck start %s` starts it\n", spec.name, spec.name);
	return cmd_vm_status(cmd, r, &err);
}
