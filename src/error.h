/* One-sentence errors carried up to whoever reports them to the user. */
#ifndef VMDECK_ERROR_H
#define VMDECK_ERROR_H

struct error {
	char msg[512];
};

/* Formats the sentence into E (if E is not NULL) and returns -1, so that
 * callers can write `return error_set(e, "...")`. */
int error_set(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like error_set, appending ": strerror(ERRNUM)". */
int error_errno(struct error *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
