/* vmdeck console NAME: the VM's serial console on this terminal. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "src/cmd_vm.h"
#include "src/file.h"
#include "src/unixsock.h"

#define DETACH_KEY 0x1d        /* Ctrl-] */

static int exec_console(int argc, char **argv);

const struct cli_cmd cmd_console_entry = {
	.name = "console",
	.args = "NAME",
	.summary = "attach this terminal to a running VM's serial console (Ctrl-] detaches)",
	.help = "The terminal is in raw mode: every key goes to the guest, except Ctrl-], which\n"
		"detaches and leaves the VM running.  The console first shows the last 64 KiB of\n"
		"the VM's serial output.  Several consoles (and the TUI) may attach at once.\n"
		"Without a terminal, input ends with the end of stdin and the output goes on\n"
		"until the VM stops: `printf 'ls\\n' | vmdeck console NAME | grep -m1 bin`.\n",
	.exec = exec_console,
};

/* Copies what the guest wrote to our stdout; false when the VM went away
 * (or our reader did: *READER_GONE). */
static bool pump_out(int sock, bool *reader_gone)
{
	char buf[4096];
	ssize_t n = read(sock, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	*reader_gone = file_write_all(1, buf, (size_t)n) < 0;
	return !*reader_gone;
}

/* Sends typed keys to the guest; false on the detach key or end of input
 * (*INPUT then false). */
static bool pump_in(int sock, bool *gone, bool *input)
{
	char buf[256];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		*input = false;
		return false;
	}
	char *detach = memchr(buf, DETACH_KEY, (size_t)n);
	size_t len = detach ? (size_t)(detach - buf) : (size_t)n;
	if (len && file_write_all(sock, buf, len) < 0)
		*gone = true;
	return !detach && !*gone;
}

static int exec_console(int argc, char **argv)
{
	const struct cli_cmd *cmd = &cmd_console_entry;
	const char *name;
	struct backend *b;
	int r = cmd_vm_open(cmd, argc, argv, 1, 1, &name, &b);
	if (r)
		return r;
	struct error err;
	struct be_vm vm;
	struct be_endpoints ep;
	r = b->ops->get(b, name, &vm, &err);
	if (!r && !vm_state_live(vm.state))
		r = BE_EUSER, error_set(&err, "VM '%s' is not running (%s%s%s)", name, vm_state_name(vm.state),
				       vm.reason[0] ? ": " : "", vm.reason);
	if (!r)
		r = b->ops->endpoints(b, name, &ep, &err);
	backend_free(b);
	if (r)
		return cmd_vm_status(cmd, r, &err);
	char what[128];
	snprintf(what, sizeof(what), "the serial console of VM '%s'", name);
	int sock = unixsock_connect(ep.serial, what, &err);
	if (sock < 0)
		return cli_usage_error(cmd, "%s", err.msg);
	signal(SIGPIPE, SIG_IGN);
	struct termios saved, raw;
	bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSAFLUSH, &raw);
	}
	fprintf(stderr, "[attached to VM '%s'; Ctrl-] detaches]%s", name, tty ? "\r\n" : "\n");
	bool gone = false, going = true, input = true, reader_gone = false;
	while (going && !gone) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { 0, POLLIN, 0 } };
		if (poll(p, input ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !pump_out(sock, &reader_gone))
			gone = true;
		if (!gone && input && p[1].revents) {
			bool more = pump_in(sock, &gone, &input);
			/* Input from a file or pipe may end: keep showing the output
			 * until the VM goes (scripts: `... | vmdeck console NAME`). */
			going = more || (!input && !tty);
		}
	}
	if (tty)
		tcsetattr(0, TCSAFLUSH, &saved);
	close(sock);
	fprintf(stderr, "\n[%s VM '%s']\n", gone && !reader_gone ? "the console closed: the VMM has ended" : "detached from",
		name);
	return EXIT_OK;
}
