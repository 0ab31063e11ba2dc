#include <rfb/rfbclient.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_vnc.h"

/* libvncclient logs through two global hooks; on a full-screen TUI any
 * stray line would scribble over the screen, so they stay silent. */
static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static int tag;

static void on_update(rfbClient *c, int x, int y, int w, int h)
{
	struct ui_vnc *v = rfbClientGetClientData(c, &tag);
	v->dirty = true;
}

static void on_finished(rfbClient *c)
{
	struct ui_vnc *v = rfbClientGetClientData(c, &tag);
	v->updates++;
}

int ui_vnc_open(struct ui_vnc *v, const char *target, struct error *err)
{
	memset(v, 0, sizeof(*v));
	rfbClientLog = quiet;
	rfbClientErr = quiet;
	rfbClient *c = rfbGetClient(8, 3, 4);
	if (!c)
		return error_set(err, "out of memory for the VNC client");
	rfbClientSetClientData(c, &tag, v);
	c->GotFrameBufferUpdate = on_update;
	c->FinishedFrameBufferUpdate = on_finished;
	c->canHandleNewFBSize = TRUE;
	/* A local socket: cheap encodings beat small ones. */
	c->appData.encodingsString = "copyrect hextile raw";
	c->appData.enableJPEG = FALSE;
	c->connectTimeout = 3;
	c->readTimeout = 3;
	const char *colon = strrchr(target, ':');
	if (target[0] != '/' && colon) {
		c->serverHost = strndup(target, (size_t)(colon - target));
		c->serverPort = atoi(colon + 1);
	} else {
		c->serverHost = strdup(target);
	}
	if (!rfbInitClient(c, NULL, NULL))      /* frees C on failure */
		return error_set(err, "cannot connect to the VM's display at %s", target);
	v->c = c;
	v->dirty = true;
	if (c->desktopName)
		strncpy(v->desktop, c->desktopName, sizeof(v->desktop) - 1);
	return 0;
}

void ui_vnc_close(struct ui_vnc *v)
{
	if (v->c)
		rfbClientCleanup(v->c);
	v->c = NULL;
}

bool ui_vnc_connected(const struct ui_vnc *v)
{
	return v->c != NULL;
}

int ui_vnc_fd(const struct ui_vnc *v)
{
	return v->c ? v->c->sock : -1;
}

int ui_vnc_pump(struct ui_vnc *v, struct error *err)
{
	if (!v->c)
		return error_set(err, "the display is not connected");
	/* Whole messages may wait in libvncclient's buffer after the socket
	 * ran dry: handle those too before going back to poll. */
	for (int i = 0; i < 64; i++) {
		if (!HandleRFBServerMessage(v->c)) {
			ui_vnc_close(v);
			return error_set(err, "the VM's display closed the connection (the VM stopped?)");
		}
		if (!v->c->buffered && WaitForMessage(v->c, 0) <= 0)
			break;
	}
	return 0;
}

void ui_vnc_fb(const struct ui_vnc *v, struct ui_fb *fb)
{
	memset(fb, 0, sizeof(*fb));
	if (!v->c || !v->c->frameBuffer)
		return;
	fb->pixels = v->c->frameBuffer;
	fb->w = v->c->width;
	fb->h = v->c->height;
	fb->stride = (size_t)v->c->width * 4;
	fb->rshift = v->c->format.redShift;
	fb->gshift = v->c->format.greenShift;
	fb->bshift = v->c->format.blueShift;
}

bool ui_vnc_take_dirty(struct ui_vnc *v)
{
	bool d = v->dirty;
	v->dirty = false;
	return d;
}

void ui_vnc_key(struct ui_vnc *v, uint32_t keysym, bool down)
{
	if (v->c)
		SendKeyEvent(v->c, keysym, down);
}

void ui_vnc_pointer(struct ui_vnc *v, int x, int y, int buttons)
{
	if (v->c)
		SendPointerEvent(v->c, x, y, buttons);
}
