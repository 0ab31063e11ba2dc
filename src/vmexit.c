#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/vmexit.h"

/* ---- async-signal-safe helpers ---------------------------------------------- */

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *s)
{
	while (*s && o->pos + 1 < o->len)
		o->buf[o->pos++] = *s++;
	o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
}

static void put_long(struct out *o, long v)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
	tmp[i] = '\0';
	do
		tmp[--i] = (char)('0' + u % 10);
	while ((u /= 10) && i > 1);
	if (v < 0)
		tmp[--i] = '-';
	put(o, tmp + i);
}

static void put_kv(struct out *o, const char *key, long v)
{
	put(o, key);
	put(o, "=");
	put_long(o, v);
	put(o, "\n");
}

size_t vmexit_format(const struct vmexit *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	if (len)
		buf[0] = '\0';
	if (r->signal)
		put_kv(&o, "signal", r->signal);
	else
		put_kv(&o, "code", r->code);
	if (r->by_user)
		put_kv(&o, "by_user", 1);
	put_kv(&o, "time", (long)r->time);
	if (r->message[0]) {
		put(&o, "message=");
		put(&o, r->message);
		put(&o, "\n");
	}
	return o.pos;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void vmexit_log_sentence(int fd, char *buf, size_t len)
{
	char tail[4096];
	buf[0] = '\0';
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0)
		return;
	off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	if (n <= 0)
		return;
	tail[n] = '\0';
	/* The last non-blank line. */
	char *end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	char *line = end;
	while (line > tail && line[-1] != '\n')
		line--;
	static const char *const prefixes[] = { "vmdeck run: ", "vmdeck: ", "error: " };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (starts(line, prefixes[i]))
			line += strlen(prefixes[i]);
	struct out o = { buf, len, 0 };
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';         /* one line, no terminal controls */
	put(&o, line);
}

/* ---- reading ------------------------------------------------------------------- */

int vmexit_read(const char *path, struct vmexit *out)
{
	memset(out, 0, sizeof(*out));
	out->code = -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[VMEXIT_MSG_MAX + 32];
	bool any = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *v = eq + 1;
		any = true;
		if (!strcmp(line, "code"))
			out->code = atoi(v);
		else if (!strcmp(line, "signal"))
			out->signal = atoi(v);
		else if (!strcmp(line, "by_user"))
			out->by_user = atoi(v) != 0;
		else if (!strcmp(line, "time"))
			out->time = (time_t)atoll(v);
		else if (!strcmp(line, "message"))
			snprintf(out->message, sizeof(out->message), "%s", v);
	}
	fclose(f);
	return any ? 0 : -1;
}

bool vmexit_is_crash(const struct vmexit *r)
{
	if (r->signal)
		return !r->by_user;
	return r->code != 0;
}

void vmexit_describe(const struct vmexit *r, char *buf, size_t len)
{
	if (r->signal && r->by_user) {
		snprintf(buf, len, "killed with vmdeck kill");
	} else if (r->signal) {
		const char *abbrev = sigabbrev_np(r->signal);
		snprintf(buf, len, "the VMM was killed by signal %d (SIG%s)%s%s", r->signal,
			 abbrev ? abbrev : "?", r->message[0] ? "; its log ends: " : "", r->message);
	} else if (r->message[0]) {
		snprintf(buf, len, "%s", r->message);
	} else if (r->code == 0) {
		snprintf(buf, len, "the VMM exited normally");
	} else {
		snprintf(buf, len, "the VMM exited with status %d", r->code);
	}
}
