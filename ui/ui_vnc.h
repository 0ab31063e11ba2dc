/* A VNC client (libvncclient) for the console window: connects to a VM's
 * display socket, keeps its framebuffer current from the main loop (no
 * thread), and sends keys and pointer events.  A server that goes away
 * or misbehaves ends the connection with a sentence, never the TUI. */
#ifndef VMDECK_UI_VNC_H
#define VMDECK_UI_VNC_H

#include <stdbool.h>
#include <stdint.h>

#include "src/error.h"
#include "ui/ui_render.h"

struct _rfbClient;

struct ui_vnc {
	struct _rfbClient *c;
	bool dirty;                 /* the framebuffer changed since ui_vnc_take_dirty */
	uint64_t updates;           /* framebuffer updates received */
	char desktop[128];
};

/* TARGET: a UNIX socket path or HOST:PORT.  Blocks for the handshake
 * (a local socket answers at once; at most a few seconds otherwise). */
int ui_vnc_open(struct ui_vnc *v, const char *target, struct error *err);
void ui_vnc_close(struct ui_vnc *v);
bool ui_vnc_connected(const struct ui_vnc *v);
/* The socket to poll, -1 when closed. */
int ui_vnc_fd(const struct ui_vnc *v);
/* Handles every message that has arrived; -1 (with ERR) when the
 * connection ended. */
int ui_vnc_pump(struct ui_vnc *v, struct error *err);
/* The framebuffer as the renderer reads it (empty when closed). */
void ui_vnc_fb(const struct ui_vnc *v, struct ui_fb *fb);
bool ui_vnc_take_dirty(struct ui_vnc *v);
void ui_vnc_key(struct ui_vnc *v, uint32_t keysym, bool down);
void ui_vnc_pointer(struct ui_vnc *v, int x, int y, int buttons);

#endif
