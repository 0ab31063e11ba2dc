#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"

extern char **environ;

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void set_env(char *const env[])
{
	for (size_t i = 0; env && env[i]; i++)
		putenv(env[i]);
}

static int finish(pid_t pid, double start, int timeout_ms, bool killed, struct spawn_result *res)
{
	int st = 0;
	waitpid(pid, &st, 0);
	res->elapsed_ms = now_ms() - start;
	res->timed_out = killed;
	res->signaled = WIFSIGNALED(st);
	if (killed)
		res->status = -1;
	else if (WIFEXITED(st))
		res->status = WEXITSTATUS(st);
	else
		res->status = 128 + WTERMSIG(st);
	(void)timeout_ms;
	return 0;
}

/* Types the next due step's keys; returns the remaining steps. */
static const struct pty_step *play(int fd, const struct pty_step *steps, const char *out)
{
	while (steps && steps->keys && (!steps->wait_for || strstr(out, steps->wait_for))) {
		(void)!write(fd, steps->keys, strlen(steps->keys));
		steps++;
	}
	return steps;
}

int spawn_run(char *const argv[], char *const env[], const struct pty_step *steps,
	      int timeout_ms, struct spawn_result *res)
{
	memset(res, 0, sizeof(*res));
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	double start = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		setpgid(0, 0);
		set_env(env);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	signal(SIGPIPE, SIG_IGN);
	struct buf o = { 0 }, e = { 0 };
	buf_add(&o, "", 0);
	buf_add(&e, "", 0);
	int in_fd = in[1];
	struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	bool killed = false;
	int open_fds = 2;
	while (open_fds > 0) {
		int left = (int)(timeout_ms - (now_ms() - start));
		if (left <= 0) {
			kill(-pid, SIGKILL);
			killed = true;
			break;
		}
		if (in_fd >= 0) {
			steps = play(in_fd, steps, o.p);
			if (!steps || !steps->keys) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (poll(fds, 2, left < 20 ? left : 20) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[4096];
			ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_add(i == 0 ? &o : &e, chunk, (size_t)n);
			} else {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	if (in_fd >= 0)
		close(in_fd);
	res->out = o.p;
	res->err = e.p;
	return finish(pid, start, timeout_ms, killed, res);
}

int spawn_pty(char *const argv[], const struct pty_step *steps, int timeout_ms,
	      struct spawn_result *res)
{
	memset(res, 0, sizeof(*res));
	int master;
	double start = now_ms();
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	struct buf o = { 0 };
	buf_add(&o, "", 0);
	bool killed = false;
	for (;;) {
		if (now_ms() - start > timeout_ms) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		steps = play(master, steps, o.p);
		struct pollfd p = { master, POLLIN, 0 };
		if (poll(&p, 1, 20) > 0) {
			char chunk[4096];
			ssize_t n = read(master, chunk, sizeof(chunk));
			if (n <= 0)
				break;     /* EIO: the child closed the terminal */
			buf_add(&o, chunk, (size_t)n);
		}
	}
	close(master);
	res->out = o.p;
	res->err = strdup("");
	return finish(pid, start, timeout_ms, killed, res);
}

void spawn_free(struct spawn_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

const char *vmdeck_bin(void)
{
	const char *b = getenv("VMDECK_BIN");
	return b && *b ? b : "bin/vmdeck";
}

int spawn_vmdeck_va(const char *const pre[], va_list ap, int timeout_ms, struct spawn_result *res)
{
	char *argv[32] = { (char *)vmdeck_bin() };
	int n = 1;
	for (; pre && *pre && n < 31; pre++)
		argv[n++] = (char *)*pre;
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	argv[n] = NULL;
	return spawn_run(argv, NULL, NULL, timeout_ms, res);
}

const char *guest_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("VMDECK_GUESTS");
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "build/guest", name);
	return path;
}

bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("[  SKIP    ] /dev/kvm cannot be opened (%s): host KVM tests skipped\n", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}
