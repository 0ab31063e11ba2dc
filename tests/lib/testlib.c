#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/testlib.h"
#include "vmm/layout.h"

/* ---- fake guest memory ---------------------------------------------------- */

/* Small regions come from calloc so that ASan sees any write past their
 * ends; big ones are NORESERVE mappings that cost only what is touched. */
#define TL_MEM_CALLOC_MAX (256 * MiB)

void tl_mem_add(struct tl_mem *m, uint64_t gpa, uint64_t size)
{
	void *p;
	if (size <= TL_MEM_CALLOC_MAX) {
		p = calloc(1, size);
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);
		if (p == MAP_FAILED)
			p = NULL;
	}
	assert_non_null(p);
	assert_int_equal(gm_add(&m->gm, gpa, size, p), 0);
	m->buf[m->gm.nr - 1] = p;
}

void tl_mem_init_pc(struct tl_mem *m, uint64_t low)
{
	memset(m, 0, sizeof(*m));
	tl_mem_add(m, 0, LAYOUT_VGA_WINDOW);
	tl_mem_add(m, LAYOUT_VGA_WINDOW + 128 * KiB, low - LAYOUT_VGA_WINDOW - 128 * KiB);
}

void tl_mem_init_pc_total(struct tl_mem *m, uint64_t total)
{
	uint64_t low = total < LAYOUT_LOW_RAM_MAX ? total : LAYOUT_LOW_RAM_MAX;
	tl_mem_init_pc(m, low);
	if (total > low)
		tl_mem_add(m, LAYOUT_HIGH_RAM_BASE, total - low);
}

void tl_mem_free(struct tl_mem *m)
{
	for (unsigned i = 0; i < m->gm.nr; i++) {
		if (m->gm.regions[i].size <= TL_MEM_CALLOC_MAX)
			free(m->buf[i]);
		else
			munmap(m->buf[i], m->gm.regions[i].size);
	}
	memset(m, 0, sizeof(*m));
}

void *tl_mem_at(struct tl_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(&m->gm, gpa, len);
	if (!p)
		fail_msg("guest range %#llx+%#llx is not RAM in the fake memory", (unsigned long long)gpa,
			 (unsigned long long)len);
	return p;
}

/* ---- IRQ line recorder ---------------------------------------------------- */

static void irq_record(void *ctx, unsigned gsi, int level)
{
	struct tl_irq *r = ctx;
	r->gsi = gsi;
	r->level = level;
	if (r->calls < TL_IRQ_MAX_CALLS)
		r->history[r->calls] = level;
	r->calls++;
}

struct irq_line tl_irq_line(struct tl_irq *rec, unsigned gsi)
{
	memset(rec, 0, sizeof(*rec));
	return (struct irq_line){ .set = irq_record, .ctx = rec, .gsi = gsi };
}

void tl_irq_clear(struct tl_irq *rec)
{
	rec->calls = 0;
	rec->start_level = rec->level;
	memset(rec->history, 0, sizeof(rec->history));
}

static unsigned transitions(const struct tl_irq *rec, int from, int to)
{
	unsigned n = 0, calls = rec->calls < TL_IRQ_MAX_CALLS ? rec->calls : TL_IRQ_MAX_CALLS;
	int prev = rec->start_level != 0;
	for (unsigned i = 0; i < calls; i++) {
		int cur = rec->history[i] != 0;
		if (prev == from && cur == to)
			n++;
		prev = cur;
	}
	return n;
}

unsigned tl_irq_rises(const struct tl_irq *rec)
{
	return transitions(rec, 0, 1);
}

unsigned tl_irq_falls(const struct tl_irq *rec)
{
	return transitions(rec, 1, 0);
}

/* ---- output capture -------------------------------------------------------- */

void tl_capture_begin(struct tl_capture *c, int fd)
{
	char path[] = "/tmp/vmdeck-capture-XXXXXX";
	fflush(stdout);
	fflush(stderr);
	c->fd = fd;
	c->tmp = mkstemp(path);
	assert_true(c->tmp >= 0);
	unlink(path);
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(c->tmp, fd) >= 0);
}

char *tl_capture_end(struct tl_capture *c)
{
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(c->saved, c->fd) >= 0);
	close(c->saved);
	off_t len = lseek(c->tmp, 0, SEEK_END);
	assert_true(len >= 0);
	char *s = malloc((size_t)len + 1);
	assert_non_null(s);
	assert_int_equal(pread(c->tmp, s, (size_t)len, 0), len);
	s[len] = '\0';
	close(c->tmp);
	return s;
}

/* ---- files and processes --------------------------------------------------- */

char *tl_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/vmdeck-unit-XXXXXX", base && *base ? base : "/tmp");
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void tl_private_xdg(const char *home)
{
	char run[600];
	snprintf(run, sizeof(run), "%s/run", home);
	assert_true(mkdir(run, 0700) == 0 || errno == EEXIST);
	setenv("XDG_DATA_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", run, 1);
}

void tl_rmtree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

void tl_write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t got;
	while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
	}
	fclose(f);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

int tl_run(const char *cmd, char **out)
{
	char full[4096];
	snprintf(full, sizeof(full), "( %s ) 2>&1", cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t got;
	while ((got = fread(s + n, 1, cap - n - 1, p)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
	}
	s[n] = '\0';
	int st = pclose(p);
	if (out)
		*out = s;
	else
		free(s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool tl_have_program(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

uint16_t tl_free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

bool tl_tcp_port_open(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool open = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return open;
}

void tl_tcp_listeners(uint16_t port, char *out, size_t len)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned st;
		if (sscanf(line, " %*d: %63s %*s %x", local, &st) != 2 || st != 0x0a)    /* LISTEN */
			continue;
		char *colon = strchr(local, ':');
		if (colon && strtoul(colon + 1, NULL, 16) == port) {
			*colon = '\0';
			snprintf(out + strlen(out), len - strlen(out), "%s ", local);
		}
	}
	if (f)
		fclose(f);
}

/* ---- assertions ------------------------------------------------------------- */

void tl_assert_contains_impl(const char *hay, const char *needle, const char *file, int line)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("%s:%d: expected to find \"%s\" in:\n%s", file, line, needle, hay ? hay : "(null)");
}

void tl_assert_not_contains_impl(const char *hay, const char *needle, const char *file, int line)
{
	if (hay && strstr(hay, needle))
		fail_msg("%s:%d: did not expect \"%s\" in:\n%s", file, line, needle, hay);
}

unsigned tl_count(const char *hay, const char *needle)
{
	unsigned n = 0;
	size_t len = strlen(needle);
	for (const char *p = hay; len && (p = strstr(p, needle)); p += len)
		n++;
	return n;
}

uint8_t *tl_dup(const void *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	assert_non_null(d);
	if (len)
		memcpy(d, p, len);
	return d;
}

unsigned tl_replay_corpus(const char *dir, int (*target)(const uint8_t *data, size_t size))
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len;
		char *buf = tl_read_file(path, &len);
		assert_non_null(buf);
		assert_int_equal(target((const uint8_t *)buf, len), 0);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}
