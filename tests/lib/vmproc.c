#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/vmproc.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int vmproc_start(struct vmproc *p, char *const argv[], char *const env[])
{
	memset(p, 0, sizeof(*p));
	p->status = -1;
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
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	signal(SIGPIPE, SIG_IGN);
	p->in = in[1];
	p->out = out[0];
	p->err = err[0];
	p->obuf = calloc(1, 1);
	p->ebuf = calloc(1, 1);
	return 0;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void vmproc_poll(struct vmproc *p, int timeout_ms)
{
	struct pollfd fds[2] = { { p->out, POLLIN, 0 }, { p->err, POLLIN, 0 } };
	if (poll(fds, 2, timeout_ms) <= 0)
		return;
	for (int i = 0; i < 2; i++) {
		if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char chunk[4096];
		ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
		if (n > 0)
			append(i ? &p->ebuf : &p->obuf, i ? &p->elen : &p->olen, chunk, (size_t)n);
		else if (i == 0 && p->out >= 0)
			close(p->out), p->out = -1;
		else if (i == 1 && p->err >= 0)
			close(p->err), p->err = -1;
	}
}

bool vmproc_wait_for(struct vmproc *p, const char *needle, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	while (!strstr(p->obuf, needle)) {
		if (now_ms() > end || (p->out < 0 && p->err < 0))
			return false;
		vmproc_poll(p, 20);
	}
	return true;
}

void vmproc_type(struct vmproc *p, const char *s)
{
	if (write(p->in, s, strlen(s)) < 0)
		perror("vmproc_type");
}

int vmproc_wait(struct vmproc *p, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	int st = 0;
	for (;;) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid)
			break;
		if (now_ms() > end) {
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
		vmproc_poll(p, 20);
	}
	while (p->out >= 0 || p->err >= 0) {
		size_t before = p->olen + p->elen;
		vmproc_poll(p, 50);
		if (p->olen + p->elen == before)
			break;
	}
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return p->status;
}

void vmproc_free(struct vmproc *p)
{
	if (p->status < 0 && p->pid > 0)
		vmproc_wait(p, 0);
	if (p->in >= 0)
		close(p->in);
	if (p->out >= 0)
		close(p->out);
	if (p->err >= 0)
		close(p->err);
	free(p->obuf);
	free(p->ebuf);
	memset(p, 0, sizeof(*p));
}
