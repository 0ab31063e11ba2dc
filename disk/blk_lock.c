#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "disk/blk_lock.h"

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200
#define NPERMS 4

static const char *const perm_names[NPERMS] = {
	"consistent read", "write", "write unchanged", "resize",
};

static int lock_byte(int fd, int cmd, short type, off_t byte)
{
	struct flock fl = { .l_whence = SEEK_SET, .l_start = byte, .l_len = 1, .l_type = type };
	if (fcntl(fd, cmd, &fl) < 0)
		return -errno;
	return cmd == F_OFD_GETLK && fl.l_type != F_UNLCK ? -EAGAIN : 0;
}

void blk_lock_release(int fd)
{
	struct flock fl = { .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE,
			    .l_len = LOCK_SHARED_BASE + NPERMS - LOCK_PERM_BASE, .l_type = F_UNLCK };
	fcntl(fd, F_OFD_SETLK, &fl);
}

static int take_bytes(int fd, unsigned perm, unsigned shared, const char *path, struct error *err)
{
	for (int i = 0; i < NPERMS; i++) {
		int ret = 0;
		if (perm & (1u << i))
			ret = lock_byte(fd, F_OFD_SETLK, F_RDLCK, LOCK_PERM_BASE + i);
		if (!ret && !(shared & (1u << i)))
			ret = lock_byte(fd, F_OFD_SETLK, F_RDLCK, LOCK_SHARED_BASE + i);
		if (ret == -EAGAIN || ret == -EACCES)
			return error_set(err, "'%s' is locked by another process (a VM or qemu-img?)", path);
		if (ret)
			return error_errno(err, -ret, "cannot lock '%s'", path);
	}
	return 0;
}

/* Another holder's "not shared" byte for a permission we want, or its
 * "held" byte for a permission we refuse to share, is a conflict. */
static int check_bytes(int fd, unsigned perm, unsigned shared, const char *path, struct error *err)
{
	for (int i = 0; i < NPERMS; i++) {
		if (!(perm & (1u << i)))
			continue;
		int ret = lock_byte(fd, F_OFD_GETLK, F_WRLCK, LOCK_SHARED_BASE + i);
		if (ret == -EAGAIN)
			return error_set(err, "'%s' is in use by another process (a VM or qemu-img?) that "
					 "does not allow %s access", path, perm_names[i]);
		if (ret)
			return error_errno(err, -ret, "cannot test the locks of '%s'", path);
	}
	for (int i = 0; i < NPERMS; i++) {
		if (shared & (1u << i))
			continue;
		int ret = lock_byte(fd, F_OFD_GETLK, F_WRLCK, LOCK_PERM_BASE + i);
		if (ret == -EAGAIN)
			return error_set(err, "'%s' is in use by another process (a VM or qemu-img?) "
					 "with %s access", path, perm_names[i]);
		if (ret)
			return error_errno(err, -ret, "cannot test the locks of '%s'", path);
	}
	return 0;
}

int blk_lock_acquire(int fd, const char *path, unsigned perm, unsigned shared, struct error *err)
{
	if (take_bytes(fd, perm, shared, path, err) < 0 ||
	    check_bytes(fd, perm, shared, path, err) < 0) {
		blk_lock_release(fd);
		return -1;
	}
	return 0;
}
