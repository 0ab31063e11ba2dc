/* Small file helpers shared by the CLI and the VMM. */
#ifndef VMDECK_FILE_H
#define VMDECK_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "src/error.h"

/* Reads all of PATH (at most MAX bytes) into a malloc'ed buffer.  WHAT
 * names the file's role in the error sentence ("kernel", "initrd"). */
int file_read_all(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		  struct error *err);
/* write(2) until done, retrying on EINTR; -1 on error. */
int file_write_all(int fd, const void *buf, size_t len);

#endif
