/* Host KVM tier: the display end to end.  The g_vga guest writes text into
 * VGA text memory and a pattern into the VBE framebuffer; VNC clients
 * (libvncclient here, TigerVNC's viewer under Xvfb as an outside witness)
 * must receive exactly those pixels, and keys typed through VNC must reach
 * the guest as the right scancodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <png.h>
#include <rfb/keysym.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tests/guest/vga_test.h"
#include "tests/lib/ctltest.h"
#include "tests/lib/spawn.h"
#include "tests/lib/testlib.h"
#include "tests/lib/vmproc.h"
#include "tests/lib/vnctest.h"
#include "vmm/vga_font.h"

#define TIMEOUT_MS 30000

struct ctx {
	char dir[64];
	char sock[128];
	char env_xdg[128];
	struct vmproc vm;
	struct vnctest vnc;
	char *out;            /* the guest's output after finish() */
	const char *needle;
};

#define SKIP_WITHOUT_KVM() do { if (!kvm_usable()) skip(); } while (0)

static void make_dir(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->dir, "/tmp/vmdeck-display-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->sock, sizeof(c->sock), "%s/vga.vnc", c->dir);
	snprintf(c->env_xdg, sizeof(c->env_xdg), "XDG_RUNTIME_DIR=%s", c->dir);
}

/* Starts GUEST with extra arguments (NULL-terminated). */
static void start(struct ctx *c, const char *guest, ...)
{
	char *argv[32] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path(guest), "--mem", "64M" };
	int n = 6;
	va_list ap;
	va_start(ap, guest);
	for (char *a; n < 31 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	char *env[] = { c->env_xdg, NULL };
	assert_int_equal(vmproc_start(&c->vm, argv, env), 0);
}

static void expect_output(struct ctx *c, const char *needle)
{
	if (!vmproc_wait_for(&c->vm, needle, TIMEOUT_MS)) {
		printf("expected \"%s\"; guest output:\n%s\nvmdeck stderr:\n%s\n", needle, c->vm.obuf, c->vm.ebuf);
		fail();
	}
}

static void finish(struct ctx *c, int want_status)
{
	int st = vmproc_wait(&c->vm, TIMEOUT_MS);
	if (st != want_status)
		printf("status %d; output:\n%s\nstderr:\n%s\n", st, c->vm.obuf, c->vm.ebuf);
	assert_int_equal(st, want_status);
	c->out = strdup(c->vm.obuf);
	vmproc_free(&c->vm);
}

/* ---- what the screen must show ---------------------------------------------- */

/* The EGA palette as the VGA's DAC starts. */
static uint32_t ega(unsigned c)
{
	static const uint32_t pal[16] = {
		0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
		0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
	};
	return pal[c & 15];
}

/* Mode 3 cells are 9x16; the ninth column is background for letters. */
static bool cell_ok(struct vnctest *t, unsigned row, unsigned col, uint8_t ch, uint8_t attr, bool verbose)
{
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++) {
			bool on = x < 8 && (vga_font_8x16[ch][y] & (0x80 >> x));
			uint32_t want = on ? ega(attr) : ega(attr >> 4);
			uint32_t got = vnctest_pixel(t, col * 9 + x, row * 16 + y);
			if (got != want) {
				if (verbose)
					printf("cell %u,%u ('%c') pixel %u,%u: %06x, expected %06x\n", row, col, ch, x, y,
					       got, want);
				return false;
			}
		}
	return true;
}

static bool text_ok_v(struct vnctest *t, bool verbose)
{
	if (vnctest_width(t) != 720 || vnctest_height(t) != 400)
		return false;
	const char *l0 = VGA_TEST_LINE0, *l2 = VGA_TEST_LINE2;
	for (unsigned i = 0; i < 80; i++)
		if (!cell_ok(t, 0, i, i < strlen(l0) ? (uint8_t)l0[i] : ' ', i < strlen(l0) ? VGA_TEST_ATTR0 : 0x07,
			     verbose))
			return false;
	for (unsigned i = 0; l2[i]; i++)
		if (!cell_ok(t, 2, VGA_TEST_LINE2_COL + i, (uint8_t)l2[i], VGA_TEST_ATTR2, verbose))
			return false;
	return cell_ok(t, 24, 79, ' ', 0x07, verbose);
}

static bool text_ok(struct vnctest *t, void *ctx)
{
	return text_ok_v(t, false);
}

static bool lfb_ok_v(struct vnctest *t, bool verbose)
{
	if (vnctest_width(t) != VGA_TEST_WIDTH || vnctest_height(t) != VGA_TEST_HEIGHT)
		return false;
	for (unsigned y = 0; y < VGA_TEST_HEIGHT; y++)
		for (unsigned x = 0; x < VGA_TEST_WIDTH; x++)
			if (vnctest_pixel(t, x, y) != vga_test_pattern(x, y)) {
				if (verbose)
					printf("pixel %u,%u: %06x, expected %06x\n", x, y, vnctest_pixel(t, x, y),
					       vga_test_pattern(x, y));
				return false;
			}
	return true;
}

static bool lfb_ok(struct vnctest *t, void *ctx)
{
	return lfb_ok_v(t, false);
}

static void wait_screen(struct vnctest *t, bool (*ok)(struct vnctest *, void *), bool (*ok_v)(struct vnctest *, bool))
{
	if (!vnctest_wait(t, ok, NULL, TIMEOUT_MS)) {
		printf("screen %ux%u after %u updates does not match:\n", vnctest_width(t), vnctest_height(t),
		       t->updates);
		ok_v(t, true);
		fail();
	}
}

/* ---- tests ---------------------------------------------------------------------- */

static void type_key(struct ctx *c, uint32_t keysym)
{
	vnctest_key(&c->vnc, keysym, true);
	vnctest_key(&c->vnc, keysym, false);
}

static void test_text_then_vbe_framebuffer_then_keys(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *cp = *state;
#define c (*cp)
	char vnc_opt[160];
	snprintf(vnc_opt, sizeof(vnc_opt), "unix:%s", c.sock);
	start(&c, "g_vga.elf", "--vnc", vnc_opt, NULL);
	expect_output(&c, "vga: text ready");
	assert_true(strstr(c.vm.obuf, "vga: class 0x30000") != NULL);
	assert_true(strstr(c.vm.obuf, "vga: vbe id 0xb0c5\nvga: mmio vbe id 0xb0c5\nvga: mmio vram64k 0x100") != NULL);

	assert_int_equal(vnctest_connect(&c.vnc, c.sock, "zrle raw", NULL), 0);
	wait_screen(&c.vnc, text_ok, text_ok_v);

	vmproc_type(&c.vm, "g");
	expect_output(&c, "vga: lfb ready");
	assert_true(strstr(c.vm.obuf, "vga: mode 0x40003000020") != NULL);
	wait_screen(&c.vnc, lfb_ok, lfb_ok_v);
	assert_true(c.vnc.resizes >= 2);      /* the first frame and the DesktopSize */

	vmproc_type(&c.vm, "k");
	expect_output(&c, "kbd: ready");
	type_key(&c, 'a');
	vnctest_key(&c.vnc, XK_Shift_L, true);
	type_key(&c, 'A');
	vnctest_key(&c.vnc, XK_Shift_L, false);
	type_key(&c, XK_Return);
	type_key(&c, XK_Right);
	type_key(&c, XK_Escape);
	finish(&c, 0);
	/* Set 2 translated to set 1 by the controller, as Linux's atkbd expects. */
	assert_non_null(strstr(c.out, "kbd: ready\n"
		"kbd: 0x1e\nkbd: 0x9e\n"
		"kbd: 0x2a\nkbd: 0x1e\nkbd: 0x9e\nkbd: 0xaa\n"
		"kbd: 0x1c\nkbd: 0x9c\n"
		"kbd: 0xe0\nkbd: 0x4d\nkbd: 0xe0\nkbd: 0xcd\n"
		"kbd: 0x1\nkbd: 0x81\n"));
#undef c
}

static void test_bzimage_gets_screen_info_and_framebuffer(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *cp = *state;
#define c (*cp)
	start(&c, "g_vga.bz", "--name", "bz", NULL);
	expect_output(&c, "vga: lfb ready");
	assert_non_null(strstr(c.vm.obuf, "vga: screen_info type 0x23\n"
		"vga: screen_info 1024x768x32 stride 4096 size64k 256 rgb 8@16 8@8 8@0\n"
		"vga: screen_info base 0xe1000000\n"));
	/* The default socket: $XDG_RUNTIME_DIR/vmdeck/NAME.vnc, private. */
	char path[160];
	snprintf(path, sizeof(path), "%s/vmdeck/bz.vnc", c.dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/vmdeck", c.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/vmdeck/bz.vnc", c.dir);
	assert_int_equal(vnctest_connect(&c.vnc, path, "raw", NULL), 0);
	wait_screen(&c.vnc, lfb_ok, lfb_ok_v);

	/* A second VMM of the same name must not steal the socket. */
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_hello.elf"), "--mem", "64M",
			 "--name", "bz", NULL };
	char *env[] = { c.env_xdg, NULL };
	struct spawn_result r;
	assert_int_equal(spawn_run(argv, env, NULL, TIMEOUT_MS, &r), 0);
	assert_int_equal(r.status, 2);
	/* The name (its pidfile) is claimed first, then the sockets. */
	assert_non_null(strstr(r.err, "is already running"));
	spawn_free(&r);

	kill(c.vm.pid, SIGTERM);
	finish(&c, 0);
	assert_int_equal(stat(path, &st), -1);     /* removed on exit */
#undef c
}

static void test_tcp_with_password(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *cp = *state;
#define c (*cp)
	char pwfile[128], opt[200], target[64];
	snprintf(pwfile, sizeof(pwfile), "%s/pw", c.dir);
	FILE *f = fopen(pwfile, "w");
	fputs("s3cret\n", f);
	fclose(f);
	int port = tl_free_tcp_port();
	snprintf(opt, sizeof(opt), "tcp:%d,password=%s", port, pwfile);
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	start(&c, "g_vga.bz", "--vnc", opt, NULL);
	expect_output(&c, "vga: lfb ready");
	assert_int_not_equal(vnctest_connect(&c.vnc, target, "raw", "wrong"), 0);
	assert_int_equal(vnctest_connect(&c.vnc, target, "raw", "s3cret"), 0);
	wait_screen(&c.vnc, lfb_ok, lfb_ok_v);
	kill(c.vm.pid, SIGTERM);
	finish(&c, 0);
#undef c
}

static bool got_frame(struct vnctest *t, void *ctx)
{
	return t->frames > 0;
}

/* As real viewers do: take the first picture, then send input. */
static void connect_and_look(struct ctx *c)
{
	assert_int_equal(vnctest_connect(&c->vnc, c->sock, "raw", NULL), 0);
	assert_true(vnctest_wait(&c->vnc, got_frame, NULL, TIMEOUT_MS));
}

static bool guest_said(struct vnctest *t, void *ctx)
{
	struct ctx *c = ctx;
	vmproc_poll(&c->vm, 0);
	return strstr(c->vm.obuf, c->needle) != NULL;
}

/* Keeps reading the screen, as a viewer does, until the guest says NEEDLE. */
static void watch_until(struct ctx *c, const char *needle)
{
	c->needle = needle;
	/* The guest powers off once it said it: the VMM may close the
	 * connection before the test has read that last line. */
	if (!vnctest_wait(&c->vnc, guest_said, c, TIMEOUT_MS) && !vmproc_wait_for(&c->vm, needle, 5000)) {
		printf("expected \"%s\"; guest output:\n%s\n", needle, c->vm.obuf);
		fail();
	}
}

/* The tablet's axes: the screen's last pixel is the top of 0..0x7fff. */
static unsigned axis(unsigned v, unsigned size)
{
	return (unsigned)((uint64_t)v * 0x7fff / (size - 1));
}

static void test_pointer_reaches_the_virtio_tablet(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *cp = *state;
#define c (*cp)
	char vnc_opt[160];
	snprintf(vnc_opt, sizeof(vnc_opt), "unix:%s", c.sock);
	start(&c, "g_input.elf", "--vnc", vnc_opt, "--cmdline", "mode=tablet", NULL);
	expect_output(&c, "tablet: ready");
	assert_non_null(strstr(c.vm.obuf, "tablet: name vmdeck tablet\n"));
	connect_and_look(&c);
	vnctest_pointer(&c.vnc, 360, 200, 0);
	vnctest_pointer(&c.vnc, 719, 399, 1);
	vnctest_pointer(&c.vnc, 719, 399, 0);
	watch_until(&c, "tablet: event 1 0x110 0");
	finish(&c, 0);
	char want[512];
	/* Text mode is 720x400; EV_ABS=3 X/Y, EV_SYN=0, EV_KEY=1 BTN_LEFT=0x110. */
	snprintf(want, sizeof(want), "tablet: event 3 0x0 %u\ntablet: event 3 0x1 %u\ntablet: event 0 0x0 0\n"
		 "tablet: event 3 0x0 32767\ntablet: event 3 0x1 32767\ntablet: event 1 0x110 1\n"
		 "tablet: event 0 0x0 0\ntablet: event 1 0x110 0\n", axis(360, 720), axis(200, 400));
	if (!strstr(c.out, want))
		printf("expected:\n%s\ngot:\n%s\n", want, c.out);
	assert_non_null(strstr(c.out, want));
#undef c
}

/* Without a tablet the pointer drives the PS/2 mouse, relatively. */
static void test_pointer_falls_back_to_the_ps2_mouse(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *cp = *state;
#define c (*cp)
	char vnc_opt[160];
	snprintf(vnc_opt, sizeof(vnc_opt), "unix:%s", c.sock);
	start(&c, "g_input.elf", "--vnc", vnc_opt, "--display", "vga,tablet=off", "--cmdline", "mode=mouse", NULL);
	expect_output(&c, "mouse: ready");
	assert_non_null(strstr(c.vm.obuf, "mouse: ack 0xfa\n"));
	connect_and_look(&c);
	vnctest_pointer(&c.vnc, 100, 100, 0);     /* where the pointer starts: no motion yet */
	vnctest_pointer(&c.vnc, 110, 95, 0);      /* right 10, up 5 */
	vnctest_pointer(&c.vnc, 110, 95, 1);      /* left button */
	vnctest_pointer(&c.vnc, 107, 95, 0);      /* left 3, released */
	watch_until(&c, "aux: 0xfd\naux: 0x0\n");
	finish(&c, 0);
	assert_non_null(strstr(c.out, "mouse: ready\n"
		"aux: 0x8\naux: 0xa\naux: 0x5\n"
		"aux: 0x9\naux: 0x0\naux: 0x0\n"
		"aux: 0x18\naux: 0xfd\naux: 0x0\n"));
#undef c
}

/* ---- TigerVNC under Xvfb ------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Compares an XWD dump of the root window (24-bit ZPixmap) with the pattern. */
static bool xwd_matches(const char *path, bool verbose)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	static uint8_t buf[16 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n < 100)
		return false;
	uint32_t header = be32(buf), width = be32(buf + 16), height = be32(buf + 20);
	uint32_t bpp = be32(buf + 44), line = be32(buf + 48), ncolors = be32(buf + 76);
	size_t data = header + ncolors * 12;
	if (width < VGA_TEST_WIDTH || height < VGA_TEST_HEIGHT || bpp != 32 || data + (size_t)line * height > n) {
		if (verbose)
			printf("xwd: %ux%u, %u bpp\n", width, height, bpp);
		return false;
	}
	bool msb = be32(buf + 28) == 1;   /* byte order */
	for (unsigned y = 0; y < VGA_TEST_HEIGHT; y++)
		for (unsigned x = 0; x < VGA_TEST_WIDTH; x++) {
			const uint8_t *p = buf + data + (size_t)y * line + x * 4;
			uint32_t px = msb ? be32(p) : (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
			if ((px & 0xffffff) != vga_test_pattern(x, y)) {
				if (verbose)
					printf("tigervnc pixel %u,%u: %06x, expected %06x\n", x, y, px & 0xffffff,
					       vga_test_pattern(x, y));
				return false;
			}
		}
	return true;
}

static pid_t spawn_quiet(char *const argv[], const char *display)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (display)
			setenv("DISPLAY", display, 1);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* Starts Xvfb on a display number it picks itself (-displayfd: no clash
 * with other X servers on the machine); writes ":N" into DISPLAY. */
static pid_t start_xvfb(char *display, size_t len)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	char fd_arg[16];
	snprintf(fd_arg, sizeof(fd_arg), "%d", fds[1]);
	char *argv[] = { "Xvfb", "-displayfd", fd_arg, "-screen", "0", "1024x768x24", "-nolisten", "tcp", NULL };
	pid_t pid = spawn_quiet(argv, NULL);
	close(fds[1]);
	char num[16] = "";
	ssize_t n = read(fds[0], num, sizeof(num) - 1);     /* written once the server is ready */
	close(fds[0]);
	if (n <= 0) {
		stop(pid);
		return -1;
	}
	num[n] = '\0';
	snprintf(display, len, ":%d", atoi(num));
	return pid;
}

static void test_tigervnc_viewer_shows_the_framebuffer(void **state)
{
	SKIP_WITHOUT_KVM();
	if (access("/usr/bin/Xvfb", X_OK) || access("/usr/bin/vncviewer", X_OK) || access("/usr/bin/xwd", X_OK)) {
		printf("[  SKIP    ] Xvfb, vncviewer (tigervnc-viewer) or xwd (x11-apps) missing: run make deps\n");
		skip();
	}
	struct ctx *cp = *state;
#define c (*cp)
	char vnc_opt[160], display[16], shot[128];
	snprintf(vnc_opt, sizeof(vnc_opt), "unix:%s", c.sock);
	snprintf(shot, sizeof(shot), "%s/shot.xwd", c.dir);
	start(&c, "g_vga.bz", "--vnc", vnc_opt, NULL);
	expect_output(&c, "vga: lfb ready");
	pid_t x = start_xvfb(display, sizeof(display));
	assert_true(x > 0);
	char *viewer[] = { "vncviewer", "-FullScreen=1", "-AutoSelect=0", "-PreferredEncoding=ZRLE",
			   "-FullColor=1", "-NoJPEG=1", "-Shared=1", c.sock, NULL };
	pid_t v = spawn_quiet(viewer, display);
	bool ok = false;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "xwd -root -silent -display %s > %s 2>/dev/null", display, shot);
	for (int i = 0; i < 120 && !ok; i++) {
		usleep(250 * 1000);
		ok = system(cmd) == 0 && xwd_matches(shot, false);
	}
	if (!ok)
		xwd_matches(shot, true);
	stop(v);
	stop(x);
	kill(c.vm.pid, SIGTERM);
	finish(&c, 0);
	assert_true(ok);
#undef c
}

/* VMs without --name do not collide: vm.vnc, then vm-2.vnc. */
static void test_anonymous_vms_take_the_next_free_socket(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *c = *state;
	struct vmproc second;
	start(c, "g_vga.bz", NULL);
	expect_output(c, "vga: lfb ready");
	char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_vga.bz"), "--mem", "64M", NULL };
	char *env[] = { c->env_xdg, NULL };
	assert_int_equal(vmproc_start(&second, argv, env), 0);
	bool up = vmproc_wait_for(&second, "vga: lfb ready", TIMEOUT_MS);
	char a[160], b[160];
	snprintf(a, sizeof(a), "%s/vmdeck/vm.vnc", c->dir);
	snprintf(b, sizeof(b), "%s/vmdeck/vm-2.vnc", c->dir);
	bool both = access(a, F_OK) == 0 && access(b, F_OK) == 0;
	kill(second.pid, SIGTERM);
	int st = vmproc_wait(&second, TIMEOUT_MS);
	if (!up || st != 0)
		printf("second VM: status %d, stderr: %s\n", st, second.ebuf);
	vmproc_free(&second);
	kill(c->vm.pid, SIGTERM);
	finish(c, 0);
	assert_true(up);
	assert_true(both);
	assert_int_equal(st, 0);
}

/* `vmdeck ctl SOCKET screendump FILE` run from DIR, FILE relative to it,
 * as a user would type it. */
static int screendump_from(const char *dir, const char *sock, const char *file, struct spawn_result *r)
{
	char bin[4096], cmd[8192];
	assert_non_null(realpath(vmdeck_bin(), bin));
	snprintf(cmd, sizeof(cmd), "cd '%s' && exec '%s' ctl '%s' screendump '%s'", dir, bin, sock, file);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	assert_int_equal(spawn_run(argv, NULL, NULL, 20000, r), 0);
	return r->status;
}

/* The PNG at PATH as 0xRRGGBB pixels (to free), its size in *W, *H. */
static uint32_t *read_png(const char *path, unsigned *w, unsigned *h)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	assert_true(png_image_begin_read_from_file(&img, path));
	img.format = PNG_FORMAT_RGB;
	uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	uint32_t *px = malloc((size_t)img.width * img.height * 4);
	for (size_t i = 0; i < (size_t)img.width * img.height; i++)
		px[i] = (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
	free(rgb);
	*w = img.width;
	*h = img.height;
	return px;
}

/* screendump through the control socket: the text screen, then the VBE
 * pattern, pixel for pixel; a file it cannot write is named in the error
 * and the VM carries on. */
static void test_screendump_through_the_control_socket(void **state)
{
	SKIP_WITHOUT_KVM();
	struct ctx *c = *state;
	char ctl[160], shot[192];
	snprintf(ctl, sizeof(ctl), "%s/vga.sock", c->dir);
	start(c, "g_vga.elf", "--control", ctl, NULL);
	expect_output(c, "vga: text ready");
	struct spawn_result r;
	assert_int_equal(screendump_from(c->dir, ctl, "text.png", &r), 0);
	spawn_free(&r);
	snprintf(shot, sizeof(shot), "%s/text.png", c->dir);
	unsigned w, h;
	uint32_t *px = read_png(shot, &w, &h);
	assert_int_equal(w, 720);
	assert_int_equal(h, 400);
	/* The first letter of line 0, its top-left lit pixel row in the font. */
	uint8_t ch = (uint8_t)VGA_TEST_LINE0[0];
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++) {
			bool on = x < 8 && (vga_font_8x16[ch][y] & (0x80 >> x));
			assert_int_equal(px[y * w + x], on ? ega(VGA_TEST_ATTR0) : ega(VGA_TEST_ATTR0 >> 4));
		}
	free(px);

	vmproc_type(&c->vm, "g");
	expect_output(c, "vga: lfb ready");
	assert_int_equal(screendump_from(c->dir, ctl, "lfb.png", &r), 0);
	spawn_free(&r);
	snprintf(shot, sizeof(shot), "%s/lfb.png", c->dir);
	px = read_png(shot, &w, &h);
	assert_int_equal(w, VGA_TEST_WIDTH);
	assert_int_equal(h, VGA_TEST_HEIGHT);
	unsigned wrong = 0;
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++)
			wrong += px[y * w + x] != vga_test_pattern(x, y);
	free(px);
	assert_int_equal(wrong, 0);

	assert_int_equal(screendump_from(c->dir, ctl, "no/such/dir/x.png", &r), 1);
	assert_non_null(strstr(r.err, "no/such/dir/x.png"));
	spawn_free(&r);
	char *out = NULL;
	assert_int_equal(vmdeck_ctl(ctl, &out, "status", NULL), 0);
	assert_non_null(strstr(out, "\"running\""));
	free(out);
	kill(c->vm.pid, SIGTERM);
	finish(c, 0);
}

/* Mistakes in the display options: one sentence, exit 2, no VM started. */
static void test_bad_display_options_exit_2(void **state)
{
	static const char *const cases[][3] = {
		{ "--display", "foo", "--display takes vga or none, not 'foo'" },
		{ "--display", "vga,tablet=maybe", "tablet" },
		{ "--keymap", "xx", "--keymap takes us, de, fr, not 'xx'" },
		{ "--vnc", "tcp:99999", "1 to 65535" },
		{ "--vnc", "tcp:10.0.0.999:5900", "not a numeric IP address" },
		{ "--vnc", "tcp:5900,password=/nonexistent", "/nonexistent" },
		{ "--name", "../x", "--name takes" },
	};
	struct ctx *c = *state;
	char *env[] = { c->env_xdg, NULL };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { (char *)vmdeck_bin(), "run", "--kernel", (char *)guest_path("g_hello.elf"), "--mem",
				 "64M", (char *)cases[i][0], (char *)cases[i][1], NULL };
		struct spawn_result r;
		assert_int_equal(spawn_run(argv, env, NULL, TIMEOUT_MS, &r), 0);
		if (r.status != 2 || !strstr(r.err, cases[i][2]) || strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
			fail_msg("%s %s: status %d, stderr \"%s\"", cases[i][0], cases[i][1], r.status, r.err);
		assert_string_equal(r.out, "");
		spawn_free(&r);
	}
}

/* Whatever a failed assertion left behind: the VM, the client, the files. */
static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	make_dir(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	vnctest_close(&c->vnc);
	if (c->vm.pid > 0)
		vmproc_free(&c->vm);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", c->dir);
	free(c->out);
	free(c);
	return 0;
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_text_then_vbe_framebuffer_then_keys),
		T(test_bzimage_gets_screen_info_and_framebuffer),
		T(test_tcp_with_password),
		T(test_pointer_reaches_the_virtio_tablet),
		T(test_pointer_falls_back_to_the_ps2_mouse),
		T(test_tigervnc_viewer_shows_the_framebuffer),
		T(test_anonymous_vms_take_the_next_free_socket),
		T(test_screendump_through_the_control_socket),
		T(test_bad_display_options_exit_2),
	};
	return cmocka_run_group_tests_name("host KVM: display and VNC", tests, NULL, NULL);
}
