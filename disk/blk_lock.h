/* Image locking compatible with QEMU's file-posix driver: one OFD read lock
 * per permission on byte 100+bit ("I hold it") and per permission not
 * shared on byte 200+bit ("nobody else may hold it").  A second writer,
 * ours or QEMU's, sees the other's bytes and is refused. */
#ifndef VMDECK_DISK_BLK_LOCK_H
#define VMDECK_DISK_BLK_LOCK_H

#include <stdint.h>

#include "src/error.h"

/* QEMU's BLK_PERM_* bits, in QEMU's order (the lock byte is base + bit). */
enum {
	BLK_PERM_CONSISTENT_READ = 1 << 0,
	BLK_PERM_WRITE = 1 << 1,
	BLK_PERM_WRITE_UNCHANGED = 1 << 2,
	BLK_PERM_RESIZE = 1 << 3,
	BLK_PERM_ALL = (1 << 4) - 1,
};

/* Takes the lock bytes for PERM and ~SHARED on FD, then checks that no
 * other open file holds a conflicting byte.  On conflict every byte taken is
 * released and ERR names PATH and the permission. */
int blk_lock_acquire(int fd, const char *path, unsigned perm, unsigned shared, struct error *err);

/* Releases every lock byte (closing FD does the same). */
void blk_lock_release(int fd);

#endif
