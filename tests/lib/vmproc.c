#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "tests/lib/vmproc.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vmproc_start(struct vmproc *p, char *const argv[])
{
	memset(p, 0, sizeof(*p));
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	p->out = calloc(1, 1);
	p->err = calloc(1, 1);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Reads what is there, waiting up to WAIT_MS; false when both pipes closed. */
static bool pump(struct vmproc *p, int wait_ms)
{
	struct pollfd fds[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
	if (p->out_fd < 0 && p->err_fd < 0)
		return false;
	if (poll(fds, 2, wait_ms) <= 0)
		return true;
	for (int i = 0; i < 2; i++) {
		if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char chunk[4096];
		ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (i == 0)
				append(&p->out, &p->out_len, chunk, (size_t)n);
			else
				append(&p->err, &p->err_len, chunk, (size_t)n);
		} else {
			close(fds[i].fd);
			if (i == 0)
				p->out_fd = -1;
			else
				p->err_fd = -1;
		}
	}
	return true;
}

bool vmproc_wait_for(struct vmproc *p, const char *text, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	for (;;) {
		if (text && strstr(p->out, text))
			return true;
		long long left = end - now_ms();
		if (left <= 0)
			return false;
		if (!pump(p, left < 50 ? (int)left : 50)) {
			if (!text)
				return false;
			usleep(10000);
		}
	}
}

unsigned vmproc_count(const struct vmproc *p, const char *text)
{
	unsigned n = 0;
	for (const char *s = strstr(p->out, text); s; s = strstr(s + 1, text))
		n++;
	return n;
}

void vmproc_type(struct vmproc *p, const char *keys)
{
	if (write(p->in_fd, keys, strlen(keys)) < 0)
		perror("vmproc_type");
}

int vmproc_wait_exit(struct vmproc *p, int timeout_ms)
{
	if (p->exited)
		return p->status;
	long long end = now_ms() + timeout_ms;
	for (;;) {
		int st;
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid) {
			long long drain = now_ms() + 1000;
			while ((p->out_fd >= 0 || p->err_fd >= 0) && now_ms() < drain)
				pump(p, 50);
			p->exited = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return p->status;
		}
		if (now_ms() >= end) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			p->exited = true;
			p->status = -1;
			return -1;
		}
		pump(p, 20);
	}
}

void vmproc_free(struct vmproc *p)
{
	if (p->pid > 0 && !p->exited) {
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
	p->in_fd = p->out_fd = p->err_fd = -1;
}

uint64_t vmproc_rss(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	uint64_t kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

uint64_t vmproc_cpu_ns(pid_t pid, pid_t tid)
{
	char path[96], buf[1024];
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (uint64_t)(ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

void vmproc_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vmdeck-test-XXXXXX");
	if (!mkdtemp(dir))
		perror("mkdtemp");
}

int vmdeck_ctl(const char *socket, char **out, ...)
{
	char *argv[16] = { (char *)vmdeck_bin(), "ctl", (char *)socket };
	int n = 3;
	va_list ap;
	va_start(ap, out);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	struct spawn_result r;
	if (spawn_run(argv, NULL, NULL, 20000, &r) < 0)
		return -1;
	if (r.status != 0)
		fprintf(stderr, "vmdeck ctl %s: status %d: %s", argv[3], r.status, r.err);
	if (out)
		*out = strdup(r.out);
	int st = r.status;
	spawn_free(&r);
	return st;
}
