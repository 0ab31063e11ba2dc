/* NAME/last-exit: how a library VM's VMM ended, written by the monitor
 * process that `vmdeck start` leaves beside every VMM (src/vmspawn.h), so
 * that `vmdeck list` and the TUI can say why a VM stopped or crashed long
 * after the fact.  Plain "key=value" lines:
 *
 *   code=3              exit status (absent when killed by a signal)
 *   signal=9            the signal that killed the VMM (absent otherwise)
 *   by_user=1           `vmdeck kill` asked for that signal
 *   time=1712345678     when it ended (seconds since the epoch)
 *   message=...         the VMM's last error sentence from its log
 *
 * The writer runs in a forked child of a possibly multi-threaded process,
 * so formatting and log reading here use only async-signal-safe calls. */
#ifndef VMDECK_VMEXIT_H
#define VMDECK_VMEXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define VMEXIT_MSG_MAX 400

struct vmexit {
	int code;            /* -1 when killed by a signal */
	int signal;          /* 0 when it exited */
	bool by_user;
	time_t time;
	char message[VMEXIT_MSG_MAX];
};

/* Reads PATH; -1 when it is absent or unreadable. */
int vmexit_read(const char *path, struct vmexit *out);
/* Formats R as the file's text into BUF (async-signal-safe); the length. */
size_t vmexit_format(const struct vmexit *r, char *buf, size_t len);
/* The last meaningful line of the log open on FD, without the "vmdeck: ",
 * "vmdeck run: " and "error: " prefixes, into BUF (async-signal-safe). */
void vmexit_log_sentence(int fd, char *buf, size_t len);
/* One sentence for people: "the guest powered off", "the VMM was killed
 * by signal 9 (SIGKILL)", the VMM's own sentence... */
void vmexit_describe(const struct vmexit *r, char *buf, size_t len);
/* Whether the record means a crash (rather than a stop). */
bool vmexit_is_crash(const struct vmexit *r);

#endif
