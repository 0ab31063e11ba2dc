/* Shared helpers for the cmocka unit tests: a fake guest memory laid out
 * like the VMM's, an IRQ-line recorder, output capture, temp files and a
 * substring assertion.  Include after <cmocka.h>'s prerequisites
 * (stdarg.h, stddef.h, setjmp.h, stdint.h). */
#ifndef VMDECK_TESTLIB_H
#define VMDECK_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"
#include "vmm/irq.h"

/* ---- fake guest memory ---------------------------------------------------- */

/* Guest RAM backed by calloc'ed buffers, one per region. */
struct tl_mem {
	struct guest_mem gm;
	void *buf[GM_MAX_REGIONS];
};

/* The PC layout vm_memory_map() builds for LOW bytes of RAM below 4 GiB:
 * [0, 640 KiB) and [768 KiB, LOW); the VGA window is a hole. */
void tl_mem_init_pc(struct tl_mem *m, uint64_t low);
/* The same for TOTAL bytes of RAM as `--mem TOTAL` lays them out: at most
 * 3.5 GiB below 4 GiB, the rest from 4 GiB up. */
void tl_mem_init_pc_total(struct tl_mem *m, uint64_t total);
/* Adds one more region of SIZE bytes at GPA (calloc'ed). */
void tl_mem_add(struct tl_mem *m, uint64_t gpa, uint64_t size);
void tl_mem_free(struct tl_mem *m);
/* Host pointer for GPA (LEN bytes must be RAM); fails the test otherwise. */
void *tl_mem_at(struct tl_mem *m, uint64_t gpa, uint64_t len);

/* ---- IRQ line recorder ---------------------------------------------------- */

#define TL_IRQ_MAX_CALLS 256

/* Records every level a device sets on its line, in order. */
struct tl_irq {
	unsigned gsi;             /* the gsi the device passed on the last call */
	int level;                /* the last level set (0 before any call) */
	int start_level;          /* the level when the history starts */
	unsigned calls;
	int history[TL_IRQ_MAX_CALLS];
};

struct irq_line tl_irq_line(struct tl_irq *rec, unsigned gsi);
void tl_irq_clear(struct tl_irq *rec);            /* forgets the history, keeps the level */
/* Transitions in the history, counted from the level it started at. */
unsigned tl_irq_rises(const struct tl_irq *rec);  /* 0 -> 1 transitions */
unsigned tl_irq_falls(const struct tl_irq *rec);  /* 1 -> 0 transitions */

/* ---- output capture -------------------------------------------------------- */

/* Redirects FD (1 or 2) into a temp file until tl_capture_end, which
 * returns what was written there (malloc'ed, NUL-terminated). */
struct tl_capture {
	int fd, saved, tmp;
};
void tl_capture_begin(struct tl_capture *c, int fd);
char *tl_capture_end(struct tl_capture *c);

/* ---- files and processes --------------------------------------------------- */

/* A fresh directory under $TMPDIR (malloc'ed path); tl_rmtree removes it. */
char *tl_mkdtemp(void);
void tl_rmtree(const char *dir);
/* A VM library and runtime directory of this test's own under HOME
 * (XDG_DATA_HOME=HOME, XDG_RUNTIME_DIR=HOME/run, mode 0700), inherited by
 * every vmdeck the test runs. */
void tl_private_xdg(const char *home);
void tl_write_file(const char *path, const void *buf, size_t len);
/* Whole file, NUL-terminated (malloc'ed); NULL if unreadable. */
char *tl_read_file(const char *path, size_t *len);
/* Runs CMD with sh -c, stdout and stderr together into *OUT (malloc'ed);
 * returns the exit status, or -1 if it did not exit normally. */
int tl_run(const char *cmd, char **out);
/* True when PROG is found on $PATH. */
bool tl_have_program(const char *prog);
/* A TCP port on 127.0.0.1 that nothing listens on right now. */
uint16_t tl_free_tcp_port(void);
/* Whether something accepts TCP connections on 127.0.0.1:PORT. */
bool tl_tcp_port_open(uint16_t port);
/* The local IPv4 addresses listening on TCP PORT, each followed by a
 * space, in hex as /proc/net/tcp gives them (0100007F is 127.0.0.1). */
void tl_tcp_listeners(uint16_t port, char *out, size_t len);

/* ---- assertions ------------------------------------------------------------- */

/* Fails the test (with both strings shown) unless NEEDLE occurs in HAY. */
#define tl_assert_contains(hay, needle) tl_assert_contains_impl((hay), (needle), __FILE__, __LINE__)
#define tl_assert_not_contains(hay, needle) \
	tl_assert_not_contains_impl((hay), (needle), __FILE__, __LINE__)
void tl_assert_contains_impl(const char *hay, const char *needle, const char *file, int line);
void tl_assert_not_contains_impl(const char *hay, const char *needle, const char *file, int line);
/* Number of non-overlapping occurrences of NEEDLE in HAY. */
unsigned tl_count(const char *hay, const char *needle);

/* Heap copy of exactly LEN bytes of P, so that ASan catches any read past
 * the end of an input image. */
uint8_t *tl_dup(const void *p, size_t len);

/* Feeds each file of the fuzz corpus DIR (names starting with '.' skipped)
 * to TARGET, as libFuzzer replays one, asserting that it returns 0; returns
 * how many files there were. */
unsigned tl_replay_corpus(const char *dir, int (*target)(const uint8_t *data, size_t size));

#endif
