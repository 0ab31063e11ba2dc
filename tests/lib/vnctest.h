/* A VNC client for tests, built on libvncclient: connects to a UNIX socket
 * or TCP port, keeps a 32-bit copy of the remote screen and waits for
 * conditions on it. */
#ifndef TESTS_VNCTEST_H
#define TESTS_VNCTEST_H

#include <stdbool.h>
#include <stdint.h>

struct _rfbClient;

struct vnctest {
	struct _rfbClient *c;
	unsigned updates, resizes;   /* rectangles (or parts of them), new sizes */
	unsigned frames;             /* whole FramebufferUpdate messages */
	const char *password;
};

/* TARGET is a socket path ("/...") or "HOST:PORT". ENCODINGS as libvncclient
 * takes them ("raw", "zrle raw", ...). */
int vnctest_connect(struct vnctest *t, const char *target, const char *encodings, const char *password);
void vnctest_close(struct vnctest *t);
unsigned vnctest_width(const struct vnctest *t);
unsigned vnctest_height(const struct vnctest *t);
/* 0x00RRGGBB of a pixel. */
uint32_t vnctest_pixel(const struct vnctest *t, unsigned x, unsigned y);
/* Handles server messages until DONE(t, ctx) holds or TIMEOUT_MS pass. */
bool vnctest_wait(struct vnctest *t, bool (*done)(struct vnctest *t, void *ctx), void *ctx, int timeout_ms);
/* Press and release of KEYSYM. */
void vnctest_key(struct vnctest *t, uint32_t keysym, bool down);
void vnctest_pointer(struct vnctest *t, int x, int y, int buttons);

#endif
