/* Backend-neutral helpers for specs and values shown to users. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/backend.h"

static bool port(const char *s, const char *end)
{
	if (s == end || end - s > 5)
		return false;
	unsigned v = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	return v >= 1 && v <= 65535;
}

/* As the VMM's --net user,hostfwd= takes it: PROTO:HOSTADDR:HOSTPORT-
 * GUESTADDR:GUESTPORT, where PROTO (tcp, udp) and the addresses may be
 * empty. */
bool be_forward_valid(const char *spec)
{
	if (strlen(spec) >= 128 || strchr(spec, ',') || strchr(spec, ' '))
		return false;
	const char *p = spec;
	if (!strncmp(p, "tcp:", 4) || !strncmp(p, "udp:", 4))
		p += 4;
	else if (*p == ':')
		p++;
	else
		return false;
	const char *dash = strchr(p, '-');
	if (!dash)
		return false;
	const char *hcolon = memchr(p, ':', (size_t)(dash - p));
	const char *gcolon = strrchr(dash, ':');
	if (!hcolon || !gcolon)
		return false;
	/* The host side ends in :PORT; an IPv4 address has no colon. */
	if (memchr(hcolon + 1, ':', (size_t)(dash - hcolon - 1)))
		return false;
	return port(hcolon + 1, dash) && port(gcolon + 1, gcolon + strlen(gcolon));
}

void be_spec_defaults(struct be_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->cpus = 1;
	s->mem = 512ull << 20;
	s->net = true;
	snprintf(s->cmdline, sizeof(s->cmdline), "console=ttyS0");
}


int be_error(struct error *err, int status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return status;
}
