/* --vnc option parsing and the listening sockets. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/kvopts.h"
#include "src/rundir.h"
#include "vmm/vnc.h"

/* The first line of FILE, of which VNC authentication uses 8 characters. */
static int read_password(const char *path, char *out, size_t len, struct error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return error_errno(err, errno, "--vnc: cannot read the password file '%s'", path);
	char line[256] = "";
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0])
		return error_set(err, "--vnc: the password file '%s' is empty", path);
	snprintf(out, len, "%.8s", line);
	return 0;
}

static int parse_tcp(const char *rest, struct vnc_config *cfg, struct error *err)
{
	const char *colon = strrchr(rest, ':');
	const char *port = colon ? colon + 1 : rest;
	size_t hostlen = colon ? (size_t)(colon - rest) : 0;
	if (hostlen >= 2 && rest[0] == '[' && rest[hostlen - 1] == ']') {
		rest++;                       /* [::1]:5900 */
		hostlen -= 2;
	}
	if (hostlen >= sizeof(cfg->host))
		return error_set(err, "--vnc: the address '%.*s' is too long", (int)hostlen, rest);
	if (hostlen)
		memcpy(cfg->host, rest, hostlen);
	else
		strcpy(cfg->host, "127.0.0.1");      /* never a network address unless asked */
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 1 || p > 65535)
		return error_set(err, "--vnc tcp: needs a port number from 1 to 65535, not '%s'", port);
	snprintf(cfg->port, sizeof(cfg->port), "%ld", p);
	cfg->kind = VNC_TCP;
	return 0;
}

static bool answers(const char *path);

/* A VM without a name takes the first socket nobody serves of vm.vnc,
 * vm-2.vnc, vm-3.vnc, ... so that anonymous VMs do not collide. */
static int free_default_path(struct vnc_config *cfg, struct error *err)
{
	for (unsigned i = 1; i < 1000; i++) {
		char file[32];
		if (i == 1)
			snprintf(file, sizeof(file), "vm.vnc");
		else
			snprintf(file, sizeof(file), "vm-%u.vnc", i);
		if (rundir_path(file, cfg->path, sizeof(cfg->path), err) < 0)
			return -1;
		if (!answers(cfg->path))
			return 0;
	}
	return error_set(err, "--vnc: every default socket name from vm to vm-999 is in use; use --name");
}

static int parse_head(const char *head, const char *name, struct vnc_config *cfg, struct error *err)
{
	if (!strcmp(head, "none")) {
		cfg->kind = VNC_NONE;
		return 0;
	}
	if (!strncmp(head, "tcp:", 4))
		return parse_tcp(head + 4, cfg, err);
	if (strcmp(head, "unix") && strncmp(head, "unix:", 5))
		return error_set(err, "--vnc takes unix, unix:PATH, tcp:PORT, tcp:ADDR:PORT or none, not '%s'", head);
	cfg->kind = VNC_UNIX;
	if (head[4] == ':') {
		if (!head[5] || strlen(head + 5) >= sizeof(cfg->path))
			return error_set(err, "--vnc unix: the socket path is empty or too long");
		strcpy(cfg->path, head + 5);
		return 0;
	}
	if (name) {
		char file[128];
		snprintf(file, sizeof(file), "%s.vnc", name);
		return rundir_path(file, cfg->path, sizeof(cfg->path), err);
	}
	return free_default_path(cfg, err);
}

int vnc_parse(const char *spec, const char *name, struct vnc_config *cfg, struct error *err)
{
	struct kvopts o;
	memset(cfg, 0, sizeof(*cfg));
	if (kvopts_parse(&o, spec, "--vnc", err) < 0)
		return -1;
	const char *head = kvopts_head(&o), *pw = kvopts_get(&o, "password");
	int r = kvopts_check_used(&o, "--vnc", err);
	if (r == 0)
		r = parse_head(head ? head : "", name, cfg, err);
	if (r == 0 && pw && cfg->kind != VNC_NONE)
		r = read_password(pw, cfg->password, sizeof(cfg->password), err);
	kvopts_free(&o);
	return r;
}

/* True when a server accepts connections at PATH. */
static bool answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/* A socket file that nobody answers on is left over from a VMM that was
 * killed: it goes.  One that answers belongs to a running VM. */
static int claim_unix_path(const char *path, struct error *err)
{
	if (answers(path))
		return error_set(err, "another VMM already serves VNC on '%s' (is a VM of that name running? "
				 "use --name)", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return error_errno(err, errno, "cannot remove the old socket '%s'", path);
	return 0;
}

static int listen_unix(const struct vnc_config *cfg, struct error *err)
{
	if (claim_unix_path(cfg->path, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_errno(err, errno, "cannot create a socket");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, cfg->path);
	/* The mode is set from the start: no moment where others may connect. */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		error_errno(err, errno, "cannot listen on '%s'", cfg->path);
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const struct vnc_config *cfg, struct error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE }, *ai;
	int g = getaddrinfo(cfg->host, cfg->port, &hints, &ai);
	if (g != 0)
		return error_set(err, "--vnc tcp: '%s' is not a numeric IP address", cfg->host);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 8) < 0) {
		error_errno(err, errno, "cannot listen for VNC on %s port %s", cfg->host, cfg->port);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int vnc_listen(const struct vnc_config *cfg, struct error *err)
{
	return cfg->kind == VNC_UNIX ? listen_unix(cfg, err) : listen_tcp(cfg, err);
}

void vnc_unlink(const struct vnc_config *cfg)
{
	if (cfg->kind == VNC_UNIX)
		unlink(cfg->path);
}
