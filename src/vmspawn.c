#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/pidfile.h"
#include "src/vmexit.h"
#include "src/vmlib.h"
#include "src/vmspawn.h"

/* Paths built before forking. */
struct plan {
	const struct vmspawn *s;
	char *log, *exit_tmp, *exit_path, *kill_mark;
	int lock_fd;
};

static void close_other_fds(int keep)
{
	/* close_range(2) is one system call; fall back to a loop. */
	if (keep > 3)
		syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u);
	if (syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
		return;
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n <= 0)
			break;
		text += n;
		len -= (size_t)n;
	}
	fsync(fd);
	close(fd);
}

static void say(const char *s)
{
	ssize_t r = write(2, s, strlen(s));
	(void)r;
}

/* The monitor: runs in the grandchild, never returns. */
static void monitor(struct plan *p)
{
	reset_signals();
	/* A terminal closing or Ctrl-C in it must not end the VM's watcher. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Read back at the end for the last error sentence: not write-only. */
	int log = open(p->log, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	close(null);
	if (chdir(p->s->dir) < 0)
		_exit(127);
	close_other_fds(p->lock_fd);
	unlink(p->kill_mark);
	pid_t pid = fork();
	if (pid < 0) {
		say("vmdeck: error: cannot start the VMM: fork failed\n");
		_exit(127);
	}
	if (pid == 0) {
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close(p->lock_fd);
		execv(p->s->exe, p->s->argv);
		say("vmdeck: error: cannot execute the VMM binary\n");
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	struct vmexit r = { .code = -1 };
	if (WIFSIGNALED(status)) {
		r.signal = WTERMSIG(status);
		r.by_user = access(p->kill_mark, F_OK) == 0;
	} else {
		r.code = WEXITSTATUS(status);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r.time = ts.tv_sec;
	vmexit_log_sentence(1, r.message, sizeof(r.message));     /* stdout is the log */
	char text[VMEXIT_MSG_MAX + 128];
	size_t len = vmexit_format(&r, text, sizeof(text));
	/* Written whole and renamed, so a reader never sees half a record. */
	write_file(p->exit_tmp, text, len);
	rename(p->exit_tmp, p->exit_path);
	unlink(p->kill_mark);
	_exit(0);
}

static char *join(const char *dir, const char *file)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, file) < 0 ? NULL : p;
}

static void plan_free(struct plan *p)
{
	free(p->log);
	free(p->exit_tmp);
	free(p->exit_path);
	free(p->kill_mark);
	if (p->lock_fd >= 0)
		close(p->lock_fd);
}

int vmspawn_start(const struct vmspawn *s, bool *busy, struct error *err)
{
	struct plan p = { .s = s, .log = join(s->dir, VMLIB_LOG), .exit_tmp = join(s->dir, VMLIB_EXIT ".tmp"),
			  .exit_path = join(s->dir, VMLIB_EXIT), .kill_mark = join(s->dir, VMSPAWN_KILL_MARK),
			  .lock_fd = -1 };
	char *lock = join(s->dir, VMSPAWN_MONITOR_LOCK);
	*busy = false;
	int r = -1;
	if (!p.log || !p.exit_tmp || !p.exit_path || !p.kill_mark || !lock) {
		error_set(err, "out of memory");
		goto out;
	}
	p.lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p.lock_fd < 0) {
		error_errno(err, errno, "cannot open '%s'", lock);
		goto out;
	}
	if (p.lock_fd < 3) {
		/* The monitor's stdio goes to 0-2: keep the lock out of their way. */
		int moved = fcntl(p.lock_fd, F_DUPFD_CLOEXEC, 3);
		close(p.lock_fd);
		p.lock_fd = moved;
		if (moved < 0) {
			error_errno(err, errno, "cannot open '%s'", lock);
			goto out;
		}
	}
	int e = pidfile_lock_ex(p.lock_fd);
	if (e) {
		*busy = e == EWOULDBLOCK;
		if (*busy)
			error_set(err, "the VM is already being started or run by another monitor");
		else
			error_errno(err, e, "cannot lock '%s'", lock);
		goto out;
	}
	/* From now on the old record is stale: this start writes the next one. */
	unlink(p.exit_path);
	pid_t child = fork();
	if (child < 0) {
		error_errno(err, errno, "cannot start the VM's monitor");
		goto out;
	}
	if (child == 0) {
		if (setsid() < 0)
			_exit(127);
		pid_t grandchild = fork();
		if (grandchild == 0)
			monitor(&p);
		_exit(grandchild < 0 ? 127 : 0);
	}
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		error_set(err, "cannot start the VM's monitor process");
		goto out;
	}
	r = 0;
out:
	free(lock);
	plan_free(&p);
	return r;
}

bool vmspawn_monitor_alive(const char *dir)
{
	char *lock = join(dir, VMSPAWN_MONITOR_LOCK);
	int fd = lock ? open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	free(lock);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

char *vmspawn_self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}
