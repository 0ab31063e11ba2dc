/*
 * l1tool: the one timing and timeout primitive of the L1 guest.
 *
 *   l1tool run [-g GRACE] [-i IDLE] [-e TEXT]... [-k TEXT]... SECONDS CMD [ARG...]
 *	Runs CMD with stdin on /dev/null (so a VMM never sees the L1 console as
 *	its terminal), stdout and stderr merged, and prints each output line as
 *	"MS| text" with MS the milliseconds since CMD started.  After SECONDS,
 *	or GRACE seconds after a line containing one of the TEXTs (a guest's
 *	last words, such as "reboot: Power down"), the whole process group is
 *	killed: a VMM that misses a power-off fails in seconds, not minutes.
 *	-k TEXT counts only in a line of the kernel's own log ("[  12.34] ..."),
 *	not in one that L1's scripts echo for a guest ("[scenario] ...").
 *	-i kills it after IDLE seconds without output (the host uses this on
 *	QEMU running L1, to catch a wedged L1 kernel).
 *	Ends with one line "MS| l1tool: exit N", "MS| l1tool: signal N" or
 *	"MS| l1tool: timeout S s" and exits with N, 128+N or 124 like timeout(1).
 *   l1tool now
 *	Prints the monotonic clock in milliseconds.
 *   l1tool dns HOSTS
 *	A DNS server on 127.0.0.1:53 answering A queries for the names in
 *	HOSTS ("ADDRESS NAME..." lines, as /etc/hosts), name errors for the
 *	rest: what a VMM's user-mode NAT forwards the guest's 10.0.2.3 to
 *	(busybox has no DNS server).
 *
 * It exists because busybox has no sub-second clock and its timeout cannot
 * kill a whole process tree.  Built static so L1 needs no extra libraries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define MAX_ENDS 8

struct line_buf {
	char buf[LINE_MAX_LEN];
	size_t len;
	long long start_ms;
	long long deadline_ms;
	long long grace_ms;
	long long idle_ms;
	struct {
		const char *text;
		bool kernel_only;
	} ends[MAX_ENDS];
	int n_ends;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(struct line_buf *lb)
{
	char out[LINE_MAX_LEN + 32];
	size_t n = lb->len;
	/* Guest serial consoles end lines with \r\n: keep the log greppable. */
	while (n > 0 && lb->buf[n - 1] == '\r')
		n--;
	int head = snprintf(out, sizeof(out), "%lld| ", now_ms() - lb->start_ms);
	memcpy(out + head, lb->buf, n);
	out[head + n] = '\n';
	ssize_t off = 0, total = head + (ssize_t)n + 1;
	while (off < total) {
		ssize_t w = write(STDOUT_FILENO, out + off, (size_t)(total - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += w;
	}
	lb->len = 0;
}

/* A line of the kernel's own log ("[   12.345678] ..."), not one that a
 * script echoes for a guest ("[name] ..."). */
static bool kernel_line(const char *s)
{
	return s[0] == '[' && (s[1] == ' ' || isdigit((unsigned char)s[1]));
}

static void watch_for_end(struct line_buf *lb)
{
	lb->buf[lb->len] = '\0';
	for (int i = 0; i < lb->n_ends; i++) {
		long long grace_end = now_ms() + lb->grace_ms;
		if (strstr(lb->buf, lb->ends[i].text) && (!lb->ends[i].kernel_only || kernel_line(lb->buf)) &&
		    grace_end < lb->deadline_ms)
			lb->deadline_ms = grace_end;
	}
}

static void feed(struct line_buf *lb, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n' || lb->len == sizeof(lb->buf) - 1) {
			watch_for_end(lb);
			emit(lb);
			if (data[i] == '\n')
				continue;
		}
		lb->buf[lb->len++] = data[i];
	}
}

static void say(struct line_buf *lb, const char *what, long v, const char *unit)
{
	if (lb->len)
		emit(lb);
	lb->len = (size_t)snprintf(lb->buf, sizeof(lb->buf), "l1tool: %s %ld%s", what, v, unit);
	emit(lb);
}

static pid_t spawn(char **argv, int *out_fd)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "l1tool: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

enum stop { STOP_EOF, STOP_TIMEOUT, STOP_IDLE, STOP_SIGNAL };

/* The child runs in its own process group, out of reach of the terminal's
 * Ctrl-C: on SIGINT or SIGTERM l1tool must take it down itself. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Copies the child's output until EOF, the deadline or too long a silence. */
static enum stop pump(int fd, struct line_buf *lb)
{
	char chunk[4096];
	long long last_output = now_ms();
	for (;;) {
		long long now = now_ms();
		if (stop_signal)
			return STOP_SIGNAL;
		if (now >= lb->deadline_ms)
			return STOP_TIMEOUT;
		if (lb->idle_ms && now >= last_output + lb->idle_ms)
			return STOP_IDLE;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, 200);
		if (r < 0 && errno != EINTR)
			return STOP_EOF;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return STOP_EOF;
		last_output = now_ms();
		feed(lb, chunk, (size_t)n);
	}
}

/* After EOF the child is normally exiting: give it until the deadline. */
static int reap(pid_t pid, long long deadline_ms, int *status)
{
	while (now_ms() < deadline_ms && !stop_signal) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		usleep(20000);
	}
	return -1;
}

/* Prints one /proc/PID/task/TID file as "l1tool: TID NAME: line" lines. */
static void dump_task_file(struct line_buf *lb, int pid, const char *tid, const char *name)
{
	char path[96], text[2048];
	snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", pid, tid, name);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lb->len = (size_t)snprintf(lb->buf, sizeof(lb->buf), "l1tool: task %s %s: %s", tid, name, line);
		emit(lb);
	}
}

/* The parent of process PID, from /proc/PID/stat, or -1. */
static pid_t parent_of(const char *pid)
{
	char path[300], text[512];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	char *rp = strrchr(text, ')');
	int ppid;
	return rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

/* Where each thread of a child that overran its time is, in the kernel,
 * and how much CPU it has had (schedstat: run ns, wait ns, slices; stat), for
 * the child and every process below it (`time VMM` hides the VMM one
 * level down): for a VMM that hangs or spins, the first thing its owner
 * asks. */
static void dump_stuck(struct line_buf *lb, pid_t pid, int depth)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return;
	for (struct dirent *de; (de = readdir(dir));) {
		if (de->d_name[0] == '.')
			continue;
		dump_task_file(lb, (int)pid, de->d_name, "comm");
		dump_task_file(lb, (int)pid, de->d_name, "schedstat");
		/* utime, stime and guest_time (fields 14, 15, 43) tell a vCPU
		 * looping through its VMM from one that stays in the guest. */
		dump_task_file(lb, (int)pid, de->d_name, "stat");
		dump_task_file(lb, (int)pid, de->d_name, "wchan");
		dump_task_file(lb, (int)pid, de->d_name, "stack");
	}
	closedir(dir);
	DIR *proc = depth < 4 ? opendir("/proc") : NULL;
	for (struct dirent *de; proc && (de = readdir(proc));)
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && parent_of(de->d_name) == pid)
			dump_stuck(lb, (pid_t)atoi(de->d_name), depth + 1);
	if (proc)
		closedir(proc);
}

static long parse_secs(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *end || v <= 0 ? -1 : v;
}

/* Parses "[-g GRACE] [-i IDLE] [-e TEXT]... [-k TEXT]... SECONDS"; returns
 * the index of CMD or -1. */
static int parse_run_args(int argc, char **argv, struct line_buf *lb, long *secs)
{
	int i = 2;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "-g") && parse_secs(argv[i + 1]) > 0)
			lb->grace_ms = parse_secs(argv[i + 1]) * 1000;
		else if (!strcmp(argv[i], "-i") && parse_secs(argv[i + 1]) > 0)
			lb->idle_ms = parse_secs(argv[i + 1]) * 1000;
		else if ((!strcmp(argv[i], "-e") || !strcmp(argv[i], "-k")) && lb->n_ends < MAX_ENDS) {
			lb->ends[lb->n_ends].text = argv[i + 1];
			lb->ends[lb->n_ends++].kernel_only = argv[i][1] == 'k';
		}
		else
			return -1;
	}
	if (i + 1 >= argc || (*secs = parse_secs(argv[i])) < 0)
		return -1;
	return i + 1;
}

static int cmd_run(int argc, char **argv)
{
	struct line_buf lb = { .grace_ms = 10000 };
	long secs;
	int cmd = parse_run_args(argc, argv, &lb, &secs);
	if (cmd < 0) {
		fprintf(stderr, "usage: l1tool run [-g GRACE] [-i IDLE] [-e TEXT]... [-k TEXT]... SECONDS CMD [ARG...]\n");
		return 2;
	}
	lb.start_ms = now_ms();
	lb.deadline_ms = lb.start_ms + secs * 1000;
	int fd;
	catch_stop_signals();
	pid_t pid = spawn(argv + cmd, &fd);
	if (pid < 0) {
		perror("l1tool: fork");
		return 1;
	}
	enum stop why = pump(fd, &lb);
	int status = 0;
	bool reaped = why == STOP_EOF && reap(pid, lb.deadline_ms, &status) == 0;
	if (lb.len)
		emit(&lb);
	if (why == STOP_TIMEOUT && !reaped)
		dump_stuck(&lb, pid, 0);
	/* Killing the group also frees a pipe held open by grandchildren. */
	kill(-pid, SIGKILL);
	/* A task stuck in the kernel ignores SIGKILL: never wait for it forever. */
	if (!reaped && reap(pid, now_ms() + 10000, &status) < 0)
		say(&lb, "child still alive 10 s after SIGKILL, pid", pid, "");
	close(fd);
	if (stop_signal) {
		say(&lb, "stopped by signal", stop_signal, "");
		return 128 + stop_signal;
	}
	if (why == STOP_IDLE) {
		say(&lb, "silent for", lb.idle_ms / 1000, " s, killed");
		return 124;
	}
	if (!reaped) {
		say(&lb, "timeout", (now_ms() - lb.start_ms) / 1000, " s");
		return 124;
	}
	if (WIFSIGNALED(status)) {
		say(&lb, "signal", WTERMSIG(status), "");
		return 128 + WTERMSIG(status);
	}
	say(&lb, "exit", WEXITSTATUS(status), "");
	return WEXITSTATUS(status);
}

/* ---- dns ---------------------------------------------------------------------- */

/* The address HOSTS gives NAME (dotted, case-insensitive), or 0. */
static in_addr_t hosts_lookup(const char *hosts, const char *name)
{
	FILE *f = fopen(hosts, "r");
	char line[512];
	in_addr_t found = 0;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *addr = strtok(line, " \t\n");
		struct in_addr a;
		if (!addr || *addr == '#' || inet_pton(AF_INET, addr, &a) != 1)
			continue;
		for (char *n = strtok(NULL, " \t\n"); n && !found; n = strtok(NULL, " \t\n"))
			if (!strcasecmp(n, name))
				found = a.s_addr;
	}
	if (f)
		fclose(f);
	return found;
}

/* Answers one query in Q (LEN bytes) in place; returns the reply length. */
static size_t dns_answer(const char *hosts, unsigned char *q, size_t len)
{
	char name[256];
	size_t o = 12, n = 0;
	if (len < 17 || (q[2] & 0x80))
		return 0;
	while (o < len && q[o] && n + q[o] + 1 < sizeof(name)) {
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + o + 1, q[o]);
		n += q[o];
		o += 1u + q[o];
	}
	name[n] = '\0';
	if (o + 5 > len)
		return 0;
	unsigned type = (unsigned)q[o + 1] << 8 | q[o + 2];
	size_t end = o + 5;                      /* question ends here */
	in_addr_t a = hosts_lookup(hosts, name);
	q[2] = 0x84 | (q[2] & 1);                /* response, authoritative, RD copied */
	q[3] = 0x80 | (a ? 0 : 3);               /* RA; NXDOMAIN when unknown */
	q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0;
	if (!a || type != 1)
		return end;                      /* no record of this type: no answer */
	q[7] = 1;
	unsigned char rr[16] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
	memcpy(rr + 12, &a, 4);
	memcpy(q + end, rr, sizeof(rr));
	return end + sizeof(rr);
}

static int dns_main(const char *hosts)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(53),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("l1tool dns");
		return 1;
	}
	for (;;) {
		unsigned char buf[512 + 16];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(s, buf, 512, 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		size_t r = dns_answer(hosts, buf, (size_t)n);
		if (r)
			sendto(s, buf, r, 0, (struct sockaddr *)&from, flen);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "now")) {
		printf("%lld\n", now_ms());
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dns"))
		return dns_main(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	fprintf(stderr, "usage: l1tool run SECONDS CMD [ARG...] | l1tool now\n");
	return 2;
}
