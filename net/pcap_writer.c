#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/pcap_writer.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define LINKTYPE_ETHERNET 1

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_record_header {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

int pcap_writer_open(struct pcap_writer *w, const char *path, struct error *err)
{
	memset(w, 0, sizeof(*w));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno(err, errno, "cannot create the capture file '%s'", path);
	w->f = fdopen(fd, "wb");
	w->path = strdup(path);
	if (!w->f || !w->path) {
		if (w->f)
			fclose(w->f);
		else
			close(fd);
		free(w->path);
		memset(w, 0, sizeof(*w));
		return error_set(err, "out of memory");
	}
	/* Host byte order: readers detect it from the magic. */
	struct pcap_file_header h = {
		.magic = PCAP_MAGIC_USEC, .version_major = 2, .version_minor = 4,
		.snaplen = PCAP_SNAPLEN, .linktype = LINKTYPE_ETHERNET,
	};
	if (fwrite(&h, sizeof(h), 1, w->f) != 1 || fflush(w->f) != 0) {
		int e = errno;
		pcap_writer_close(w, NULL);
		return error_errno(err, e, "cannot write the capture file '%s'", path);
	}
	return 0;
}

int pcap_writer_write(struct pcap_writer *w, const void *frame, size_t len, const struct timespec *ts)
{
	if (!w->f)
		return -1;
	size_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	struct pcap_record_header r = {
		.ts_sec = (uint32_t)ts->tv_sec, .ts_usec = (uint32_t)(ts->tv_nsec / 1000),
		.incl_len = (uint32_t)incl, .orig_len = (uint32_t)len,
	};
	if (fwrite(&r, sizeof(r), 1, w->f) != 1 || fwrite(frame, 1, incl, w->f) != incl) {
		w->errors++;
		return -1;
	}
	w->packets++;
	w->bytes += incl;
	return 0;
}

int pcap_writer_flush(struct pcap_writer *w)
{
	if (!w->f || fflush(w->f) == 0)
		return 0;
	w->errors++;
	return -1;
}

int pcap_writer_close(struct pcap_writer *w, struct error *err)
{
	if (!w->f)
		return 0;
	int r = 0;
	bool failed = fflush(w->f) != 0 || ferror(w->f);
	int e = errno;
	if (fclose(w->f) != 0 && !failed) {
		failed = true;
		e = errno;
	}
	if (failed || w->errors)
		r = error_errno(err, failed ? e : EIO, "the capture file '%s' is incomplete", w->path);
	free(w->path);
	w->f = NULL;
	w->path = NULL;
	return r;
}

bool pcap_writer_is_open(const struct pcap_writer *w)
{
	return w->f != NULL;
}
