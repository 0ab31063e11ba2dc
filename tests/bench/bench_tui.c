/* The console's costs:
 *  - the TUI's CPU with 10 running VMs at a 1 s refresh (goal <= 2% of a
 *    core), and the bytes it writes to the terminal per refresh;
 *  - the framebuffer renderer at 160x48 cells on synthetic frames: frames
 *    per second of CPU, bytes written to the terminal per frame, for a
 *    screen that changes whole (the worst case) and one that changes a
 *    line at a time (a text console), 24-bit and 256 colours.  With a
 *    display in the VMM, bench_tui also measures the console window on a
 *    guest that redraws continuously (goal >= 20 fps, <= 25% of a core). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/spawn.h"
#include "ui/ui_render.h"

#define NVMS 10
#define MEASURE_S 20

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the renderer on synthetic frames ------------------------------------------- */

struct frame {
	uint32_t *px;
	int w, h;
};

/* A picture that changes everywhere each frame: a moving colour field. */
static void paint_full(struct frame *f, int t)
{
	for (int y = 0; y < f->h; y++)
		for (int x = 0; x < f->w; x++)
			f->px[y * f->w + x] = (uint32_t)((x + t) & 0xff) | (uint32_t)((y * 2 + t) & 0xff) << 8 |
					      (uint32_t)((x ^ y) & 0xff) << 16;
}

/* A text console: one 16-pixel line of "glyphs" changes per frame. */
static void paint_line(struct frame *f, int t)
{
	int line = t % (f->h / 16);
	for (int y = line * 16; y < line * 16 + 16; y++)
		for (int x = 0; x < f->w; x++)
			f->px[y * f->w + x] = ((x / 9 + t) * 7 + y) % 5 == 0 ? 0xaaaaaa : 0x000000;
}

static void bench_renderer(const char *what, int w, int h, bool truecolor, void (*paint)(struct frame *, int))
{
	struct frame f = { calloc((size_t)w * h, 4), w, h };
	struct ui_fb fb = { (const uint8_t *)f.px, w, h, (size_t)w * 4, 0, 8, 16 };
	struct ui_render r;
	ui_render_init(&r, truecolor ? UI_COLORS_TRUE : UI_COLORS_256);
	ui_render_resize(&r, 160, 46);        /* the console pane of a 160x48 terminal */
	size_t cap = ui_render_emit_bound(&r);
	char *out = malloc(cap);
	paint(&f, 0);
	ui_render_frame(&r, &fb);
	ui_render_emit(&r, 1, 0, out, cap);   /* the first frame writes everything */
	int frames = 0;
	size_t bytes = 0;
	double c0 = cpu_s(), t0 = now_s();
	while (now_s() - t0 < 2.0) {
		paint(&f, ++frames);
		ui_render_frame(&r, &fb);
		bytes += ui_render_emit(&r, 1, 0, out, cap);
	}
	double cpu = cpu_s() - c0;
	/* The painting is the guest's work, not ours: take it out. */
	double paint_cpu = 0;
	for (int i = 0; i < 20; i++) {
		double p = cpu_s();
		paint(&f, i);
		paint_cpu += cpu_s() - p;
	}
	paint_cpu = paint_cpu / 20 * frames;
	double per_frame_ms = (cpu - paint_cpu) / frames * 1000;
	printf("renderer %-28s %4dx%-4d %-8s %7.2f ms CPU/frame (%5.0f fps of one core)  %7zu bytes/frame\n", what, w,
	       h, truecolor ? "24-bit" : "256", per_frame_ms, 1000 / per_frame_ms, bytes / (size_t)frames);
	ui_render_free(&r);
	free(out);
	free(f.px);
}

/* ---- the TUI with 10 running VMs --------------------------------------------------- */

static int vd(const char *a, const char *b, const char *c)
{
	char *argv[] = { (char *)vmdeck_bin(), (char *)a, (char *)b, (char *)c, NULL };
	struct spawn_result r;
	if (spawn_run(argv, NULL, NULL, 30000, &r) < 0)
		return -1;
	int st = r.status;
	spawn_free(&r);
	return st;
}

static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	unsigned long ut = 0, st = 0;
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Reads whatever the TUI wrote for SECONDS; returns the bytes. */
static size_t drain(int fd, double seconds)
{
	size_t total = 0;
	double end = now_s() + seconds;
	char buf[65536];
	while (now_s() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			total += (size_t)n;
		}
	}
	return total;
}

static void bench_tui_cpu(void)
{
	if (!kvm_usable()) {
		printf("tui: SKIPPED (no usable /dev/kvm)\n");
		return;
	}
	char home[] = "/tmp/vmdeck-bench-tui-XXXXXX";
	if (!mkdtemp(home))
		return;
	char run[sizeof(home) + 8];
	snprintf(run, sizeof(run), "%s/run", home);
	mkdir(run, 0700);
	setenv("XDG_DATA_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", run, 1);
	for (int i = 0; i < NVMS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "b%d", i);
		char *argv[] = { (char *)vmdeck_bin(), "new", name, "--mem", "32M", "--kernel",
				 (char *)guest_path("g_irq.elf"), NULL };
		struct spawn_result r;
		spawn_run(argv, NULL, NULL, 30000, &r);
		spawn_free(&r);
		if (vd("start", name, NULL) != 0)
			printf("tui: could not start VM %s\n", name);
	}
	struct winsize ws = { .ws_row = 48, .ws_col = 160 };
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, &ws);
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("COLORTERM", "truecolor", 1);
		execl(vmdeck_bin(), vmdeck_bin(), "tui", "--refresh", "1", NULL);
		_exit(127);
	}
	drain(master, 3.0);                         /* start-up and the first frames */
	double c0 = proc_cpu_s(pid), t0 = now_s();
	size_t bytes = drain(master, MEASURE_S);
	double cpu = proc_cpu_s(pid) - c0, wall = now_s() - t0;
	printf("tui: %d running VMs, 1 s refresh, 160x48: %.2f%% of a core (goal <= 2%%), %.0f bytes/s to the "
	       "terminal\n", NVMS, 100 * cpu / wall, (double)bytes / wall);
	(void)!write(master, "q", 1);
	drain(master, 1.0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(master);
	for (int i = 0; i < NVMS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "b%d", i);
		vd("kill", name, NULL);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	(void)!system(cmd);
}

/* Bytes and frames the TUI wrote, counted by its synchronized-output
 * brackets (one per screen update). */
struct tally {
	size_t bytes, frames;
	int match;                  /* how much of the marker the last read ended in */
};

static void count(struct tally *t, const char *buf, size_t n)
{
	static const char mark[] = "\033[?2026h";
	t->bytes += n;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == mark[t->match]) {
			if (++t->match == (int)sizeof(mark) - 1) {
				t->frames++;
				t->match = 0;
			}
		} else {
			t->match = buf[i] == mark[0];
		}
	}
}

static void pump(int fd, double seconds, struct tally *t)
{
	double end = now_s() + seconds;
	char buf[65536];
	while (now_s() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (t)
				count(t, buf, (size_t)n);
		}
	}
}

/* The console window on a guest that redraws its whole 1024x768 screen
 * all the time, in a 160x48 terminal. */
static void bench_console(bool truecolor)
{
	if (!kvm_usable()) {
		printf("console: SKIPPED (no usable /dev/kvm)\n");
		return;
	}
	char home[] = "/tmp/vmdeck-bench-con-XXXXXX";
	if (!mkdtemp(home))
		return;
	char run[sizeof(home) + 8];
	snprintf(run, sizeof(run), "%s/run", home);
	mkdir(run, 0700);
	setenv("XDG_DATA_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", run, 1);
	char *argv[] = { (char *)vmdeck_bin(), "new", "anim", "--mem", "64M", "--kernel", (char *)guest_path("g_vga.bz"),
			 "--cmdline", "bench=animate", NULL };
	struct spawn_result r;
	spawn_run(argv, NULL, NULL, 30000, &r);
	spawn_free(&r);
	if (vd("start", "anim", NULL) != 0) {
		printf("console: could not start the animating guest\n");
		return;
	}
	struct winsize ws = { .ws_row = 48, .ws_col = 160 };
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, &ws);
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		if (truecolor)
			setenv("COLORTERM", "truecolor", 1);
		else
			unsetenv("COLORTERM");
		execl(vmdeck_bin(), vmdeck_bin(), "tui", "--select", "anim", NULL);
		_exit(127);
	}
	pump(master, 2.0, NULL);
	(void)!write(master, "c", 1);                  /* the console, on the display */
	pump(master, 3.0, NULL);
	struct tally t = { 0, 0, 0 };
	double c0 = proc_cpu_s(pid), t0 = now_s();
	pump(master, 10.0, &t);
	double cpu = proc_cpu_s(pid) - c0, wall = now_s() - t0;
	printf("console: 1024x768 guest redrawing everything, 160x48 terminal, %-6s: %5.1f fps (goal >= 20), "
	       "%4.1f%% of a core (goal <= 25%%), %6.0f bytes/frame\n", truecolor ? "24-bit" : "256", t.frames / wall,
	       100 * cpu / wall, t.frames ? (double)t.bytes / t.frames : 0);
	(void)!write(master, "\x1dq", 2);
	pump(master, 1.0, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(master);
	vd("kill", "anim", NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	(void)!system(cmd);
}

int main(void)
{
	bench_renderer("whole screen changes", 640, 480, true, paint_full);
	bench_renderer("whole screen changes", 640, 480, false, paint_full);
	bench_renderer("whole screen changes", 1024, 768, true, paint_full);
	bench_renderer("one text line changes", 720, 400, true, paint_line);
	bench_renderer("one text line changes", 720, 400, false, paint_line);
	bench_console(true);
	bench_console(false);
	bench_tui_cpu();
	return 0;
}
