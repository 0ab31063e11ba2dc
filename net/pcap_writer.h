/* A pcap file (the classic libpcap format: 24-byte header, then a 16-byte
 * record header per frame, microsecond timestamps, link type Ethernet),
 * which tshark, tcpdump and wireshark read.  Written here rather than with
 * libpcap's pcap_dump: the format is two structs, and owning the writer
 * keeps errors (disk full) ours to count instead of one more library. */
#ifndef VMDECK_PCAP_WRITER_H
#define VMDECK_PCAP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "src/error.h"

#define PCAP_SNAPLEN 65535

struct pcap_writer {
	FILE *f;
	char *path;
	uint64_t packets, bytes, errors;
};

/* Creates (or truncates) PATH with mode 0600: captures hold guest traffic. */
int pcap_writer_open(struct pcap_writer *w, const char *path, struct error *err);
/* Appends one frame stamped TS; -1 (counted) when the file cannot take it. */
int pcap_writer_write(struct pcap_writer *w, const void *frame, size_t len, const struct timespec *ts);
int pcap_writer_flush(struct pcap_writer *w);
/* Flushes and closes; -1 with a sentence if the data did not all reach
 * the file. */
int pcap_writer_close(struct pcap_writer *w, struct error *err);
bool pcap_writer_is_open(const struct pcap_writer *w);

#endif
