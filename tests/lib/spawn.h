/* Running vmdeck (or any program) from a test: captured output, input,
 * a hard timeout, and the paths `make check` passes in. */
#ifndef TESTS_SPAWN_H
#define TESTS_SPAWN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct spawn_result {
	int status;          /* exit code, or 128 + signal, or -1 on timeout */
	bool timed_out;
	bool signaled;
	char *out;           /* stdout, NUL-terminated */
	char *err;           /* stderr, NUL-terminated */
	double elapsed_ms;
};

/* One step of a session: wait until WAIT_FOR (NULL: nothing) has appeared
 * in the output, then type KEYS.  A list ends with a step whose keys are
 * NULL. */
struct pty_step {
	const char *wait_for;
	const char *keys;
};

/* Runs ARGV with extra environment assignments ENV ("K=V", NULL-terminated,
 * may be NULL), plays STEPS (may be NULL) on its stdin and closes stdin
 * after them; kills it after TIMEOUT_MS.  Returns 0 if it could start. */
int spawn_run(char *const argv[], char *const env[], const struct pty_step *steps,
	      int timeout_ms, struct spawn_result *res);
void spawn_free(struct spawn_result *res);

/* Same, on a pseudo-terminal: the program sees a tty on stdin/stdout/stderr
 * and STEPS (ended by a step with keys NULL) are played; all output goes
 * to res->out. */
int spawn_pty(char *const argv[], const struct pty_step *steps, int timeout_ms,
	      struct spawn_result *res);

const char *vmdeck_bin(void);
/* Runs vmdeck with the arguments PRE (NULL-terminated, may be NULL) and
 * then those in AP (ended by NULL), at most 30 in all. */
int spawn_vmdeck_va(const char *const pre[], va_list ap, int timeout_ms, struct spawn_result *res);
/* Path of a built test guest, e.g. "g_hello.elf". */
const char *guest_path(const char *name);
/* True if /dev/kvm can be opened; otherwise prints why, for skip(). */
bool kvm_usable(void);

#endif
