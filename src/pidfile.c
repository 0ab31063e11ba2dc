#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "src/file.h"
#include "src/pidfile.h"

static pid_t read_pid(int fd)
{
	char buf[32] = "";
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
	return got > 0 ? (pid_t)atol(buf) : 0;
}

int pidfile_lock_ex(int fd)
{
	/* Whoever asks whether the VM runs takes LOCK_SH for an instant
	 * (pidfile_held): retry for a while before calling the lock held. */
	for (int i = 0; i < 100; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK)
			return errno;
		usleep(2000);
	}
	return EWOULDBLOCK;
}

int pidfile_acquire(const char *path, const char *who, bool *held, struct error *err)
{
	*held = false;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_errno(err, errno, "cannot open the pidfile '%s'", path);
	int e = pidfile_lock_ex(fd);
	if (e) {
		if (e == EWOULDBLOCK) {
			*held = true;
			/* The holder writes its pid right after locking: give it a moment. */
			pid_t pid = 0;
			for (int i = 0; i < 50 && !(pid = read_pid(fd)); i++)
				usleep(2000);
			close(fd);
			return error_set(err, "VM '%s' is already running (pid %d)", who, (int)pid);
		}
		close(fd);
		return error_errno(err, e, "cannot lock the pidfile '%s'", path);
	}
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) < 0) {
		e = errno;
		close(fd);
		return error_errno(err, e, "cannot write the pidfile '%s'", path);
	}
	return fd;
}

bool pidfile_held(const char *path, pid_t *pid)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	/* The holder writes its pid right after locking: give it a moment. */
	for (int i = 0; held && pid && i < 10 && !(*pid = read_pid(fd)); i++)
		usleep(2000);
	close(fd);
	return held;
}
