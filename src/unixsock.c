#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/unixsock.h"

static int fill_addr(struct sockaddr_un *sa, const char *path, const char *what, struct error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return error_set(err, "the socket path of %s is too long for a UNIX socket (at most %zu bytes): %s",
				 what, sizeof(sa->sun_path) - 1, path);
	strcpy(sa->sun_path, path);
	return 0;
}

int unixsock_connect(const char *path, const char *what, struct error *err)
{
	struct sockaddr_un sa;
	if (fill_addr(&sa, path, what, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno(err, errno, "cannot make a socket for %s", what);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return error_set(err, "%s is not there (%s): is the VM running?", what, path);
		return error_errno(err, e, "cannot connect to %s at %s", what, path);
	}
	return fd;
}

static int bind_private(int fd, const struct sockaddr_un *sa)
{
	/* The umask makes the socket 0600 from birth: no moment where others
	 * could connect, wherever PATH is. */
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	umask(old);
	errno = e;
	return r;
}

/* Whether a server accepts connections at SA.  Only ECONNREFUSED (a socket
 * file nobody listens on) and ENOENT (no file) mean nobody is there: any
 * other failure counts as someone, so that a live socket is never removed
 * by mistake. */
static bool answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	bool alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
		     (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

bool unixsock_answers(const char *path)
{
	struct sockaddr_un sa;
	struct error ignore;
	return fill_addr(&sa, path, "a socket", &ignore) == 0 && answers(&sa);
}

int unixsock_listen(const char *path, int backlog, const char *what, struct error *err)
{
	struct sockaddr_un sa;
	if (fill_addr(&sa, path, what, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno(err, errno, "cannot create a socket for %s", what);
	int r = bind_private(fd, &sa);
	if (r < 0 && errno == EADDRINUSE) {
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			close(fd);
			return error_set(err, "'%s' exists and is not a socket; not replacing it with %s", path, what);
		}
		if (answers(&sa)) {
			close(fd);
			return error_set(err, "another VMM already serves %s at '%s'", what, path);
		}
		unlink(path);
		r = bind_private(fd, &sa);
	}
	if (r < 0 || listen(fd, backlog) < 0) {
		int e = errno;
		if (r == 0)
			unlink(path);
		close(fd);
		return error_errno(err, e, "cannot listen for %s on '%s'", what, path);
	}
	return fd;
}
