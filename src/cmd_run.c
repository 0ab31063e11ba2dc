/* vmdeck run: boot a kernel in the foreground. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_options.h"
#include "src/cli.h"
#include "src/size.h"
#include "src/vmlib.h"
#include "vmm/keymap.h"
#include "vmm/vmm_run.h"
#include "vmm/vnc.h"

#define DEFAULT_MEM     (512ull << 20)
#define DEFAULT_CMDLINE "console=ttyS0"

static const char run_help[] =
	"options:\n"
	"  --kernel FILE        Linux bzImage, or an ELF kernel with a PVH entry point (required)\n"
	"  --initrd FILE        initial ramdisk\n"
	"  --cmdline STR        kernel command line (default: \"" DEFAULT_CMDLINE "\")\n"
	"  --mem SIZE           guest RAM, e.g. 512M or 2G; a bare number means MiB (default: 512M)\n"
	"  --cpus N             number of vCPUs (default: 1)\n"
	"  --serial MODE        where COM1 goes: stdio (default), file:PATH, socket:PATH or none;\n"
	"                       a socket (mode 0600) takes several consoles, each of which sees\n"
	"                       the last 64 KiB of output first\n"
	"  --no-reboot          exit when the guest reboots instead of booting again\n"
	"  --disk SPEC          a virtio disk: FILE[,format=qcow2|raw][,readonly=on]\n"
	"                       [,cache=writeback|none|unsafe]; repeatable (up to 8), the\n"
	"                       guest sees /dev/vda, /dev/vdb, ... in this order\n"
	"  --name NAME          the VM's name, used for its sockets: the control socket\n"
	"                       $XDG_RUNTIME_DIR/vmdeck/NAME.sock (/tmp/vmdeck-UID/ without\n"
	"                       XDG_RUNTIME_DIR) and NAME.vnc (default: the first free of vm,\n"
	"                       vm-2, vm-3, ...); NAME.pid beside them holds the VMM's pid,\n"
	"                       locked while it runs: a second VMM of that name is refused\n"
	"  --display MODE       vga (default): a VGA with Bochs VBE and a virtio tablet;\n"
	"                       vga,tablet=off: without the tablet; none: no display\n"
	"  --vnc WHERE          the display's VNC server: unix (default, the socket\n"
	"                       $XDG_RUNTIME_DIR/vmdeck/NAME.vnc), unix:PATH, tcp:PORT\n"
	"                       (127.0.0.1), tcp:ADDR:PORT or none; add ,password=FILE\n"
	"                       for VNC authentication\n"
	"  --keymap LAYOUT      the guest's keyboard layout for VNC keys: us (default), de, fr\n"
	"  --net none|user[,OPTIONS]\n"
	"                       network card (virtio-net); none (default) means no card.\n"
	"                       user: a NAT of its own (libslirp) with 10.0.2.0/24, gateway\n"
	"                       10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15, IPv6 fec0::/64.\n"
	"                       OPTIONS, comma-separated:\n"
	"                         hostfwd=[tcp|udp]:[ADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT\n"
	"                           forward a host port to the guest (repeatable); the host\n"
	"                           side listens on 127.0.0.1 unless ADDR is given\n"
	"                         restrict=on  the guest reaches only DHCP, the gateway's ping\n"
	"                           and its forwarded ports; everything else is dropped\n"
	"                         net=ADDR/PREFIX  another guest network (default 10.0.2.0/24)\n"
	"                         mac=52:54:00:12:34:56  the card's MAC address\n"
	"                         capture=FILE  write the guest's traffic to FILE (pcap)\n"
	"                         mtu=BYTES  the link's MTU, 1280 to 65520 (default 65520:\n"
	"                           large frames; a driver that ignores it gets IPv4 in\n"
	"                           fragments, mtu=1500 for its large IPv6 UDP answers)\n"
	"  --control PATH       the control socket's path instead, or none for no socket\n"
	"  --balloon[=OPTS]     a virtio-balloon device; OPTS: stats=SECONDS (guest memory\n"
	"                       statistics interval, default 2, 0: never), deflate-on-oom=on|off,\n"
	"                       free-page-reporting=on|off (both on by default), or off\n"
	"  --stats-interval SECS  how often the VMM samples its statistics (default 1;\n"
	"                       0: only when a client asks)\n"
	"\n"
	"`vmdeck ctl` and `vmdeck stats` talk to a running VM through its control socket.\n"
	"\n"
	"With --serial stdio on a terminal, the terminal is in raw mode and Ctrl-A is the\n"
	"escape key: Ctrl-A x stops the VM, Ctrl-A h lists the other keys.\n"
	"\n"
	"exit status: 0 when the guest powers off (or reboots with --no-reboot) or the VM\n"
	"is stopped; 1 on a runtime failure; 2 on bad input (missing or unbootable kernel,\n"
	"bad sizes, no usable /dev/kvm); 3 when the guest crashes (triple fault) or KVM\n"
	"cannot run it.\n";

static int exec_run(int argc, char **argv);

const struct cli_cmd cmd_run_entry = {
	.name = "run",
	.args = "--kernel FILE [--initrd FILE] [--cmdline STR] [--mem SIZE] [--cpus N] "
		"[--serial stdio|file:PATH|socket:PATH|none] [--no-reboot] [--disk SPEC]... [--name NAME] "
		"[--display vga|none] [--vnc unix|unix:PATH|tcp:[ADDR:]PORT|none] [--keymap us|de|fr] "
		"[--net none|user[,OPTIONS]] [--control PATH|none] [--balloon[=OPTS]] [--stats-interval SECS]",
	.summary = "boot a kernel in a VM in the foreground, serial console on stdio",
	.help = run_help,
	.exec = exec_run,
};

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_SERIAL, OPT_NO_REBOOT,
       OPT_DISK, OPT_NAME, OPT_DISPLAY, OPT_VNC, OPT_KEYMAP, OPT_NET, OPT_CONTROL, OPT_BALLOON,
       OPT_STATS_INTERVAL };

/* Seconds with an optional fraction, as milliseconds. */
static int parse_interval(const char *s, unsigned *ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0) || v > 3600 || (v > 0 && v < 0.01))
		return -1;
	*ms = (unsigned)(v * 1000 + 0.5);
	return 0;
}

/* Display options are checked here so that mistakes exit with status 2. */
static int check_display(const struct cli_cmd *cmd, const struct vm_config *cfg)
{
	struct error err;
	struct vnc_config vnc;
	if (cfg->keymap && !keymap_find(cfg->keymap))
		return cli_usage_error(cmd, "--keymap takes %s, not '%s'", keymap_names(), cfg->keymap);
	if (cfg->vnc && vnc_parse(cfg->vnc, cfg->name_given ? cfg->name : NULL, &vnc, &err) < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	return 0;
}

static int parse_cpus(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v > 100000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Parsed here only to refuse bad input before KVM is touched; the
 * devices are made from the string in vm_config.c. */
static int check_net(const struct cli_cmd *cmd, struct vm_config *cfg, const char *spec)
{
	struct net_options opt;
	struct error err;
	if (cfg->net)
		return cli_usage_error(cmd, "--net is given twice; a VM has one network card");
	if (net_options_parse(spec, &opt, &err) < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	net_options_free(&opt);
	cfg->net = spec;
	return 0;
}

static int exec_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "vnc", required_argument, NULL, OPT_VNC },
		{ "keymap", required_argument, NULL, OPT_KEYMAP },
		{ "net", required_argument, NULL, OPT_NET },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "balloon", optional_argument, NULL, OPT_BALLOON },
		{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = &cmd_run_entry;
	struct vm_config cfg = { .name = "vm", .mem = DEFAULT_MEM, .cpus = 1, .cmdline = DEFAULT_CMDLINE,
				 .kvm_path = getenv("VMDECK_KVM_DEVICE"), .stats_interval_ms = 1000 };
	struct serial_config serial = { .kind = SERIAL_STDIO };
	struct error err;
	optind = 1;
	opterr = 0;
	int c;
	/* A leading ":" in the option string makes getopt report a missing value
	 * as ':' instead of '?' (unknown option). */
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: cfg.kernel = optarg; break;
		case OPT_INITRD: cfg.initrd = optarg; break;
		case OPT_CMDLINE: cfg.cmdline = optarg; break;
		case OPT_MEM:
			if (size_parse(optarg, 20, &cfg.mem) < 0)
				return cli_usage_error(cmd, "--mem takes a size such as 512M or 2G, not '%s'", optarg);
			cfg.mem = (cfg.mem + 4095) & ~4095ull;
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &cfg.cpus) < 0)
				return cli_usage_error(cmd, "--cpus takes a whole number, not '%s'", optarg);
			break;
		case OPT_SERIAL:
			if (serial_parse(optarg, &serial, &err) < 0)
				return cli_usage_error(cmd, "%s", err.msg);
			break;
		case OPT_NO_REBOOT: cfg.no_reboot = true; break;
		case OPT_DISK:
			if (cfg.nr_disks == VM_MAX_DISKS)
				return cli_usage_error(cmd, "--disk can be given at most %d times", VM_MAX_DISKS);
			cfg.disks[cfg.nr_disks++] = optarg;
			break;
		case OPT_NAME:
			if (!vmlib_name_valid(optarg))
				return cli_usage_error(cmd, "--name takes 1 to 64 letters, digits, '.', '-' or '_' "
						       "(not starting with '.'), not '%s'", optarg);
			cfg.name = optarg;
			cfg.name_given = true;
			break;
		case OPT_DISPLAY: cfg.display = optarg; break;
		case OPT_VNC: cfg.vnc = optarg; break;
		case OPT_KEYMAP: cfg.keymap = optarg; break;
		case OPT_NET:
			if (check_net(cmd, &cfg, optarg) != 0)
				return EXIT_USAGE;
			break;
		case OPT_CONTROL:
			if (!*optarg)
				return cli_usage_error(cmd, "--control takes a socket path or none");
			cfg.control = optarg;
			break;
		case OPT_BALLOON: cfg.balloon = optarg ? optarg : ""; break;
		case OPT_STATS_INTERVAL:
			if (parse_interval(optarg, &cfg.stats_interval_ms) < 0)
				return cli_usage_error(cmd, "--stats-interval takes seconds between 0.01 and 3600, "
						       "or 0, not '%s'", optarg);
			break;
		case ':':
			return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(cmd, "unknown option '%s'; `vmdeck help run` lists them",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!cfg.kernel)
		return cli_usage_error(cmd, "--kernel FILE is required");
	if (check_display(cmd, &cfg) != 0)
		return EXIT_USAGE;
	return vmm_run(&cfg, &serial);
}
