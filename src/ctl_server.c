#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/ctl_server.h"
#include "src/log.h"

#define READ_CHUNK  65536
#define READ_BUDGET (4 * READ_CHUNK)     /* per wake-up, so one client cannot hog the loop */
#define MAX_GROUPS  16
#define MAX_SUBS    16

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	guint watch;
	GIOCondition cond;
	bool dead;
	bool closing;                 /* flush the output, then close */
	char *in;
	size_t in_len, in_cap, scanned;
	char *out;
	size_t out_len, out_off, out_cap;
	bool sub_all;
	char *subs[MAX_SUBS];
	unsigned nsubs;
	struct ctl_client *next;
};

struct group {
	const struct ctl_command *rows;
	void *ctx;
};

struct ctl_server {
	struct ctl_limits lim;
	int listen_fd;
	guint listen_watch;
	char *path;
	struct ctl_client *clients;
	unsigned nclients;
	struct ctl_client *graveyard;     /* closed, freed from the main loop */
	guint reap_idle;
	struct group groups[MAX_GROUPS];
	unsigned ngroups;
	struct ctl_server_counters n;
};

static void client_update_watch(struct ctl_client *c);

/* After a big line or reply, give the memory back: idle clients should
 * cost little. */
static void shrink(char **buf, size_t *cap, size_t used)
{
	if (*cap <= 4 * READ_CHUNK || used > READ_CHUNK / 2)
		return;
	char *p = realloc(*buf, READ_CHUNK);
	if (p) {
		*buf = p;
		*cap = READ_CHUNK;
	}
}

/* ---- output ---------------------------------------------------------------- */

static void client_kill(struct ctl_client *c);

static void client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			client_kill(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		shrink(&c->out, &c->out_cap, 0);
		if (c->closing) {
			client_kill(c);
			return;
		}
	}
	client_update_watch(c);
}

/* Queues LINE (taking ownership) and writes what the socket takes now. */
static void client_send(struct ctl_client *c, char *line, size_t len)
{
	if (!line || c->dead) {
		free(line);
		return;
	}
	size_t pending = c->out_len - c->out_off;
	if (pending + len > c->srv->lim.out_max) {
		/* It does not read what it asked for: drop it, the VM carries on. */
		log_debug("control: a client stopped reading (%zu bytes unread): disconnecting it", pending);
		c->srv->n.dropped++;
		free(line);
		client_kill(c);
		return;
	}
	if (c->out_off && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p) {
			free(line);
			client_kill(c);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
	client_flush(c);
}

static void send_error(struct ctl_client *c, json_object *id, enum ctl_status st, const char *msg)
{
	size_t len = 0;
	c->srv->n.errors++;
	char *line = ctl_reply_error(id, st, msg, &len);
	client_send(c, line, len);
}

/* ---- requests ---------------------------------------------------------------- */

const struct ctl_command *ctl_server_find(struct ctl_server *s, const char *name, void **ctx)
{
	for (unsigned g = 0; g < s->ngroups; g++)
		for (const struct ctl_command *r = s->groups[g].rows; r->name; r++)
			if (!strcmp(r->name, name)) {
				if (ctx)
					*ctx = s->groups[g].ctx;
				return r;
			}
	return NULL;
}

static void handle_line(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl_server *s = c->srv;
	char msg[512];
	json_object *req;
	const char *name;
	s->n.requests++;
	enum ctl_status st = ctl_parse_request(line, len, &req, &name, msg, sizeof(msg));
	if (st != CTL_OK) {
		send_error(c, NULL, st, msg);
		return;
	}
	json_object *id = NULL;
	json_object_object_get_ex(req, "id", &id);
	void *ctx = NULL;
	const struct ctl_command *cmd = ctl_server_find(s, name, &ctx);
	if (!cmd) {
		snprintf(msg, sizeof(msg), "there is no command \"%.64s\"; \"help\" lists them", name);
		send_error(c, id, CTL_ERR_UNKNOWN, msg);
	} else if ((st = ctl_check_args(cmd, req, msg, sizeof(msg))) != CTL_OK) {
		send_error(c, id, st, msg);
	} else {
		struct ctl_call call = {
			.cmd = cmd, .req = req, .result = json_object_new_object(), .ctx = ctx,
			.server = s, .client = c, .status = CTL_OK,
		};
		st = cmd->run(&call);
		if (st == CTL_OK) {
			size_t n = 0;
			char *reply = ctl_reply_ok(id, call.result, &n);
			client_send(c, reply, n);
		} else {
			json_object_put(call.result);
			send_error(c, id, st, call.message[0] ? call.message : "the command failed");
		}
	}
	json_object_put(req);
}

/* Handles every complete line in the input buffer. */
static void process_input(struct ctl_client *c)
{
	size_t start = 0;
	while (!c->dead && !c->closing) {
		char *nl = memchr(c->in + c->scanned, '\n', c->in_len - c->scanned);
		if (!nl) {
			c->scanned = c->in_len;
			break;
		}
		size_t len = (size_t)(nl - (c->in + start));
		if (len > c->srv->lim.line_max) {
			c->scanned = c->in_len;
			break;            /* reported below */
		}
		if (len && c->in[start + len - 1] == '\r')
			len--;
		if (len)
			handle_line(c, c->in + start, len);
		start = (size_t)(nl - c->in) + 1;
		c->scanned = start;
	}
	if (c->dead)
		return;
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	c->scanned -= start;
	shrink(&c->in, &c->in_cap, c->in_len);
	if (c->in_len > c->srv->lim.line_max && !c->closing) {
		/* No way to find the next request reliably: say why and hang up. */
		char msg[128];
		snprintf(msg, sizeof(msg), "a request line is longer than %zu bytes", c->srv->lim.line_max);
		c->srv->n.dropped++;
		c->closing = true;
		c->in_len = c->scanned = 0;
		send_error(c, NULL, CTL_ERR_TOO_LONG, msg);
	}
}

static bool client_read(struct ctl_client *c)
{
	size_t budget = READ_BUDGET;
	while (budget && !c->dead && !c->closing) {
		size_t want = READ_CHUNK;
		if (c->in_len + want > c->in_cap) {
			/* The buffer never grows past one maximal line plus a chunk. */
			size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
			while (cap < c->in_len + want)
				cap *= 2;
			char *p = realloc(c->in, cap);
			if (!p)
				return false;
			c->in = p;
			c->in_cap = cap;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			/* The client is done sending; a last line may lack its
			 * newline.  Answer it, then close. */
			if (c->in_len && c->in_len <= c->srv->lim.line_max)
				handle_line(c, c->in, c->in_len);
			c->in_len = c->scanned = 0;
			if (c->dead)
				return true;
			c->closing = true;
			client_flush(c);
			return true;
		}
		c->in_len += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		process_input(c);
	}
	return true;
}

static gboolean on_client(gint fd, GIOCondition cond, gpointer data)
{
	struct ctl_client *c = data;
	if (cond & G_IO_OUT)
		client_flush(c);
	if (c->dead)
		return G_SOURCE_REMOVE;
	if ((cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !c->closing && !client_read(c)) {
		client_kill(c);
		return G_SOURCE_REMOVE;
	}
	if (c->closing && (cond & (G_IO_HUP | G_IO_ERR)))
		client_kill(c);
	return c->dead ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void client_update_watch(struct ctl_client *c)
{
	if (c->dead)
		return;
	GIOCondition want = (c->closing ? 0 : G_IO_IN) | G_IO_HUP | G_IO_ERR |
			    (c->out_off < c->out_len ? G_IO_OUT : 0);
	if (c->watch && want == c->cond)
		return;
	if (c->watch)
		g_source_remove(c->watch);
	c->cond = want;
	c->watch = g_unix_fd_add(c->fd, want, on_client, c);
}

static void free_client(struct ctl_client *c)
{
	for (unsigned i = 0; i < c->nsubs; i++)
		free(c->subs[i]);
	free(c->in);
	free(c->out);
	free(c);
}

static void reap_now(struct ctl_server *s)
{
	while (s->graveyard) {
		struct ctl_client *c = s->graveyard;
		s->graveyard = c->next;
		free_client(c);
	}
}

static gboolean reap(gpointer data)
{
	struct ctl_server *s = data;
	s->reap_idle = 0;
	reap_now(s);
	return G_SOURCE_REMOVE;
}

/* Closes now, frees later: the client may be on the call stack. */
static void client_kill(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->watch) {
		g_source_remove(c->watch);
		c->watch = 0;
	}
	close(c->fd);
	c->fd = -1;
	struct ctl_server *s = c->srv;
	for (struct ctl_client **p = &s->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->nclients--;
	c->next = s->graveyard;
	s->graveyard = c;
	if (!s->reap_idle)
		s->reap_idle = g_idle_add(reap, s);
}

int ctl_server_adopt(struct ctl_server *s, int fd)
{
	if (s->nclients >= s->lim.max_clients) {
		size_t len = 0;
		char *line = ctl_reply_error(NULL, CTL_ERR_BUSY, "the VM has too many control clients; try again later", &len);
		if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("control: %s", strerror(errno));
		free(line);
		close(fd);
		s->n.refused++;
		return -1;
	}
	struct ctl_client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	c->srv = s;
	c->fd = fd;
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	s->n.accepted++;
	client_update_watch(c);
	return 0;
}

static gboolean on_listen(gint fd, GIOCondition cond, gpointer data)
{
	struct ctl_server *s = data;
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				log_debug("control: accept: %s", strerror(errno));
			break;
		}
		ctl_server_adopt(s, cfd);
	}
	return G_SOURCE_CONTINUE;
}

/* ---- built-in commands ------------------------------------------------------ */

static enum ctl_status cmd_help(struct ctl_call *call)
{
	struct ctl_server *s = call->server;
	json_object *list = json_object_new_array();
	for (unsigned g = 0; g < s->ngroups; g++)
		for (const struct ctl_command *r = s->groups[g].rows; r->name; r++) {
			json_object *o = json_object_new_object(), *args = json_object_new_array();
			json_object_object_add(o, "name", json_object_new_string(r->name));
			json_object_object_add(o, "help", json_object_new_string(r->help ? r->help : ""));
			for (const struct ctl_arg *a = r->args; a && a->name; a++) {
				json_object *ao = json_object_new_object();
				json_object_object_add(ao, "name", json_object_new_string(a->name));
				json_object_object_add(ao, "type", json_object_new_string(ctl_arg_type_key(a->type)));
				json_object_object_add(ao, "type_help", json_object_new_string(ctl_arg_type_name(a->type)));
				json_object_object_add(ao, "required", json_object_new_boolean(a->required));
				json_object_object_add(ao, "help", json_object_new_string(a->help ? a->help : ""));
				json_object_array_add(args, ao);
			}
			json_object_object_add(o, "args", args);
			json_object_array_add(list, o);
		}
	json_object_object_add(call->result, "commands", list);
	return CTL_OK;
}

static void subscriptions_json(struct ctl_client *c, json_object *result)
{
	json_object *a = json_object_new_array();
	if (c->sub_all)
		json_object_array_add(a, json_object_new_string("*"));
	for (unsigned i = 0; i < c->nsubs; i++)
		json_object_array_add(a, json_object_new_string(c->subs[i]));
	json_object_object_add(result, "events", a);
}

static enum ctl_status cmd_subscribe(struct ctl_call *call)
{
	struct ctl_client *c = call->client;
	json_object *list;
	if (!json_object_object_get_ex(call->req, "events", &list)) {
		c->sub_all = true;
	} else {
		size_t n = json_object_array_length(list);
		for (size_t i = 0; i < n; i++) {
			const char *e = json_object_get_string(json_object_array_get_idx(list, i));
			if (!strcmp(e, "*")) {
				c->sub_all = true;
				continue;
			}
			bool have = false;
			for (unsigned k = 0; k < c->nsubs; k++)
				have |= !strcmp(c->subs[k], e);
			if (have)
				continue;
			if (c->nsubs >= MAX_SUBS || strlen(e) > 64)
				return ctl_call_fail(call, CTL_ERR_ARGS, "subscribe takes at most %d event names of up to "
						     "64 bytes; use \"*\" for all", MAX_SUBS);
			c->subs[c->nsubs++] = strdup(e);
		}
	}
	subscriptions_json(c, call->result);
	return CTL_OK;
}

static enum ctl_status cmd_unsubscribe(struct ctl_call *call)
{
	struct ctl_client *c = call->client;
	c->sub_all = false;
	for (unsigned i = 0; i < c->nsubs; i++)
		free(c->subs[i]);
	c->nsubs = 0;
	subscriptions_json(c, call->result);
	return CTL_OK;
}

static const struct ctl_arg subscribe_args[] = {
	{ "events", CTL_ARG_STRINGS, false, "event names, or \"*\" (the default) for all" },
	{ NULL, 0, false, NULL },
};

static const struct ctl_command builtin_rows[] = {
	{ "help", NULL, cmd_help, "lists the commands with their arguments" },
	{ "subscribe", subscribe_args, cmd_subscribe, "sends this connection the events named (all by default)" },
	{ "unsubscribe", NULL, cmd_unsubscribe, "stops all events on this connection" },
	{ NULL, NULL, NULL, NULL },
};

/* ---- the server ----------------------------------------------------------------- */

struct ctl_server *ctl_server_new(const struct ctl_limits *limits)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->lim = (struct ctl_limits){ CTL_LINE_MAX, CTL_DEFAULT_OUT_MAX, CTL_DEFAULT_MAX_CLIENTS };
	if (limits)
		s->lim = *limits;
	s->listen_fd = -1;
	ctl_server_register(s, builtin_rows, s);
	return s;
}

void ctl_server_register(struct ctl_server *s, const struct ctl_command *rows, void *ctx)
{
	if (s->ngroups < MAX_GROUPS)
		s->groups[s->ngroups++] = (struct group){ rows, ctx };
	else
		log_error("internal: too many control command tables");
}

static int bind_socket(int fd, const struct sockaddr_un *sa)
{
	/* The directory is private already; the umask keeps the socket 0600
	 * from its first moment for --control paths elsewhere. */
	mode_t old = umask(0177);
	int r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	umask(old);
	errno = e;
	return r;
}

static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	bool alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno != ECONNREFUSED;
	close(fd);
	return alive;
}

int ctl_server_listen(struct ctl_server *s, const char *path, struct error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return error_set(err, "the control socket path %s is too long (at most %zu bytes)", path,
				 sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno(err, errno, "cannot create the control socket");
	int r = bind_socket(fd, &sa);
	if (r < 0 && errno == EADDRINUSE) {
		struct stat st;
		if (socket_alive(&sa)) {
			close(fd);
			return error_set(err, "another VM already serves the control socket %s", path);
		}
		/* Left behind by a VMM that died: take its place. */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		r = bind_socket(fd, &sa);
	}
	if (r < 0) {
		int e = errno;
		close(fd);
		return error_errno(err, e, "cannot create the control socket %s", path);
	}
	if (chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return error_errno(err, e, "cannot listen on the control socket %s", path);
	}
	s->listen_fd = fd;
	s->path = strdup(path);
	s->listen_watch = g_unix_fd_add(fd, G_IO_IN, on_listen, s);
	return 0;
}

static bool wants(const struct ctl_client *c, const char *event)
{
	if (c->sub_all)
		return true;
	for (unsigned i = 0; i < c->nsubs; i++)
		if (!strcmp(c->subs[i], event))
			return true;
	return false;
}

void ctl_server_emit(struct ctl_server *s, const char *event, json_object *data)
{
	size_t len = 0;
	char *line = ctl_event_line(event, data, &len);
	if (!line)
		return;
	s->n.events++;
	struct ctl_client *next;
	for (struct ctl_client *c = s->clients; c; c = next) {
		next = c->next;      /* sending may drop C */
		if (!c->dead && !c->closing && wants(c, event)) {
			char *copy = malloc(len);
			if (copy) {
				memcpy(copy, line, len);
				client_send(c, copy, len);
			}
		}
	}
	free(line);
}

unsigned ctl_server_clients(const struct ctl_server *s)
{
	return s->nclients;
}

struct ctl_server_counters ctl_server_counters(const struct ctl_server *s)
{
	return s->n;
}

const char *ctl_server_path(const struct ctl_server *s)
{
	return s->path;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	if (s->listen_watch)
		g_source_remove(s->listen_watch);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->path)
		unlink(s->path);
	while (s->clients) {
		struct ctl_client *c = s->clients;
		c->closing = true;
		client_flush(c);      /* may kill C */
		if (!c->dead)
			client_kill(c);
	}
	if (s->reap_idle)
		g_source_remove(s->reap_idle);
	reap_now(s);
	free(s->path);
	free(s);
}
