/*
 * l1vnc: a minimal VNC client for the L1 guest, where no libvncclient is
 * installed.  Built static like l1tool.
 *
 *   l1vnc SOCKET SECONDS [TEXT]
 *	Connects to the VMM's VNC UNIX socket (RFB 3.8, no authentication),
 *	asks for whole raw frames until at least MIN_LIT pixels are not black
 *	or SECONDS pass, prints "l1vnc: WxH, N lit pixels" and a coarse map of
 *	the screen ('#' where something is drawn), then types TEXT followed by
 *	Return as X keysyms.  Exits 0 when the screen showed something, 1 when
 *	it stayed black, 2 on a protocol or connection error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MIN_LIT 300         /* a line of text is ~900 */
#define MAP_COLS 64
#define MAP_ROWS 24

static int fd = -1;
static uint32_t *fb;
static unsigned width, height;

static void die(const char *what)
{
	printf("l1vnc: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
	exit(2);
}

static void get(void *buf, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, (char *)buf + off, n - off);
		if (r <= 0)
			die("read");
		off += (size_t)r;
	}
}

static void put(const void *buf, size_t n)
{
	if (write(fd, buf, n) != (ssize_t)n)
		die("write");
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void resize(unsigned w, unsigned h)
{
	width = w;
	height = h;
	free(fb);
	fb = calloc((size_t)w * h, 4);
	if (!fb)
		die("out of memory");
}

static void handshake(void)
{
	char version[12];
	get(version, 12);
	put("RFB 003.008\n", 12);
	uint8_t n, types[16];
	get(&n, 1);
	if (n == 0 || n > sizeof(types))
		die("security types");
	get(types, n);
	if (!memchr(types, 1, n))
		die("no 'None' security type (a password is set?)");
	put("\1", 1);
	uint8_t result[4];
	get(result, 4);
	if (be32(result) != 0)
		die("security result");
	put("\1", 1);                                   /* shared */
	uint8_t init[24];
	get(init, 24);
	resize(be16(init), be16(init + 2));
	char name[256];
	uint32_t len = be32(init + 20);
	while (len) {
		uint32_t k = len > sizeof(name) ? sizeof(name) : len;
		get(name, k);
		len -= k;
	}
	/* 32 bpp, depth 24, little endian, true colour, 0x00RRGGBB. */
	const uint8_t fmt[20] = { 0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };
	put(fmt, sizeof(fmt));
	const uint8_t enc[12] = { 2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21 };   /* raw, DesktopSize */
	put(enc, sizeof(enc));
}

static void request(void)
{
	uint8_t req[10] = { 3, 0, 0, 0, 0, 0, (uint8_t)(width >> 8), (uint8_t)width, (uint8_t)(height >> 8),
			    (uint8_t)height };
	put(req, sizeof(req));
}

/* Reads server messages until one framebuffer update is complete. */
static void read_frame(void)
{
	for (;;) {
		uint8_t type;
		get(&type, 1);
		if (type == 2)
			continue;                               /* bell */
		if (type == 3) {                                /* cut text */
			uint8_t h[7];
			get(h, 7);
			for (uint32_t len = be32(h + 3); len; len--)
				get(&type, 1);
			continue;
		}
		if (type != 0)
			die("unexpected server message");
		uint8_t h[3];
		get(h, 3);
		for (unsigned n = be16(h + 1); n; n--) {
			uint8_t r[12];
			get(r, 12);
			unsigned x = be16(r), y = be16(r + 2), w = be16(r + 4), hh = be16(r + 6);
			int32_t enc = (int32_t)be32(r + 8);
			if (enc == -223) {
				resize(w, hh);
				continue;
			}
			if (enc != 0 || x + w > width || y + hh > height)
				die("rectangle");
			for (unsigned row = 0; row < hh; row++)
				get(fb + (size_t)(y + row) * width + x, (size_t)w * 4);
		}
		return;
	}
}

static unsigned lit(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < (size_t)width * height; i++)
		n += (fb[i] & 0xffffff) != 0;
	return n;
}

static void print_map(void)
{
	for (unsigned r = 0; r < MAP_ROWS; r++) {
		char line[MAP_COLS + 1];
		for (unsigned c = 0; c < MAP_COLS; c++) {
			unsigned x0 = c * width / MAP_COLS, x1 = (c + 1) * width / MAP_COLS;
			unsigned y0 = r * height / MAP_ROWS, y1 = (r + 1) * height / MAP_ROWS;
			char ch = '.';
			for (unsigned y = y0; y < y1 && ch == '.'; y++)
				for (unsigned x = x0; x < x1; x++)
					if (fb[(size_t)y * width + x] & 0xffffff) {
						ch = '#';
						break;
					}
			line[c] = ch;
		}
		line[MAP_COLS] = '\0';
		printf("l1vnc: |%s|\n", line);
	}
}

static void key(uint32_t keysym)
{
	for (int down = 1; down >= 0; down--) {
		uint8_t ev[8] = { 4, (uint8_t)down, 0, 0, (uint8_t)(keysym >> 24), (uint8_t)(keysym >> 16),
				  (uint8_t)(keysym >> 8), (uint8_t)keysym };
		put(ev, sizeof(ev));
		usleep(20000);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: l1vnc SOCKET SECONDS [TEXT]\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	handshake();
	time_t end = time(NULL) + atoi(argv[2]);
	unsigned n = 0;
	do {
		request();
		read_frame();
		n = lit();
		if (n < MIN_LIT)
			usleep(200000);
	} while (n < MIN_LIT && time(NULL) < end);
	printf("l1vnc: %ux%u, %u lit pixels\n", width, height, n);
	print_map();
	if (argc > 3) {
		for (const char *p = argv[3]; *p; p++)
			key((uint8_t)*p);
		key(0xff0d);                                     /* Return */
		printf("l1vnc: typed \"%s\"\n", argv[3]);
	}
	fflush(stdout);
	return n >= MIN_LIT ? 0 : 1;
}
