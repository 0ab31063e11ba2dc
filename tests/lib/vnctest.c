#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/vnctest.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int tag;

static void on_update(rfbClient *c, int x, int y, int w, int h)
{
	struct vnctest *t = rfbClientGetClientData(c, &tag);
	t->updates++;
}

static void on_frame(rfbClient *c)
{
	struct vnctest *t = rfbClientGetClientData(c, &tag);
	t->frames++;
}

static rfbBool on_resize(rfbClient *c)
{
	struct vnctest *t = rfbClientGetClientData(c, &tag);
	free(c->frameBuffer);
	c->frameBuffer = calloc((size_t)c->width * c->height, 4);
	t->resizes++;
	return c->frameBuffer != NULL;
}

static char *get_password(rfbClient *c)
{
	struct vnctest *t = rfbClientGetClientData(c, &tag);
	return strdup(t->password ? t->password : "");
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int vnctest_connect(struct vnctest *t, const char *target, const char *encodings, const char *password)
{
	memset(t, 0, sizeof(*t));
	rfbClientLog = getenv("VNCTEST_VERBOSE") ? rfbClientLog : quiet;
	rfbClientErr = getenv("VNCTEST_VERBOSE") ? rfbClientErr : quiet;
	rfbClient *c = rfbGetClient(8, 3, 4);
	if (!c)
		return -1;
	t->c = c;
	t->password = password;
	rfbClientSetClientData(c, &tag, t);
	c->GotFrameBufferUpdate = on_update;
	c->MallocFrameBuffer = on_resize;
	c->FinishedFrameBufferUpdate = on_frame;
	c->GetPassword = get_password;
	c->canHandleNewFBSize = TRUE;
	c->appData.encodingsString = encodings;
	c->appData.enableJPEG = FALSE;
	free(c->serverHost);                 /* rfbGetClient's "" */
	const char *colon = strrchr(target, ':');
	if (target[0] != '/' && colon) {
		c->serverHost = strndup(target, (size_t)(colon - target));
		c->serverPort = atoi(colon + 1);
	} else {
		c->serverHost = strdup(target);
	}
	if (!rfbInitClient(c, NULL, NULL)) {
		t->c = NULL;         /* rfbInitClient freed it */
		return -1;
	}
	return 0;
}

void vnctest_close(struct vnctest *t)
{
	if (t->c) {
		free(t->c->frameBuffer);
		t->c->frameBuffer = NULL;
		rfbClientCleanup(t->c);
	}
	t->c = NULL;
}

unsigned vnctest_width(const struct vnctest *t)
{
	return (unsigned)t->c->width;
}

unsigned vnctest_height(const struct vnctest *t)
{
	return (unsigned)t->c->height;
}

uint32_t vnctest_pixel(const struct vnctest *t, unsigned x, unsigned y)
{
	/* rfbGetClient(8, 3, 4): red in the low byte. */
	uint32_t p;
	memcpy(&p, t->c->frameBuffer + ((size_t)y * t->c->width + x) * 4, 4);
	return (p & 0xff) << 16 | (p & 0xff00) | (p >> 16 & 0xff);
}

bool vnctest_wait(struct vnctest *t, bool (*done)(struct vnctest *t, void *ctx), void *ctx, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	while (!done(t, ctx)) {
		if (now_ms() > end)
			return false;
		int n = WaitForMessage(t->c, 50000);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(t->c))) {
			if (getenv("VNCTEST_VERBOSE"))
				printf("vnctest: the connection ended (%s)\n", n < 0 ? "wait" : "message");
			return false;
		}
	}
	return true;
}

void vnctest_key(struct vnctest *t, uint32_t keysym, bool down)
{
	SendKeyEvent(t->c, keysym, down);
}

void vnctest_pointer(struct vnctest *t, int x, int y, int buttons)
{
	SendPointerEvent(t->c, x, y, buttons);
}
