/* The VM's VNC server (libvncserver) on the VMM's GLib main loop.
 *
 * vmdeck accepts connections itself, on a UNIX socket (mode 0600,
 * $XDG_RUNTIME_DIR/vmdeck/NAME.vnc by default) or on a TCP address the
 * user asked for (127.0.0.1 unless another address is given), and hands
 * each connected socket to libvncserver.  Frames come from the VGA's
 * renderer: only changed rectangles are sent, every 30 ms while the screen
 * changes, backing off to 500 ms while it is idle; a mode change reaches
 * the clients as a DesktopSize update.  Keys go to the PS/2 keyboard
 * through the keymap; the pointer goes to the virtio tablet when the guest
 * drives it, else to the PS/2 mouse. */
#ifndef VMDECK_VNC_H
#define VMDECK_VNC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "src/error.h"

enum vnc_kind { VNC_NONE, VNC_UNIX, VNC_TCP };

struct vnc_config {
	enum vnc_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];   /* VNC_UNIX */
	char host[64];                                           /* VNC_TCP */
	char port[8];
	char password[9];           /* VNC authentication: 8 characters at most; "" for none */
};

/* Parses --vnc: "none", "unix", "unix:PATH", "tcp:PORT" or "tcp:ADDR:PORT",
 * each with an optional ",password=FILE".  NAME makes the default path
 * NAME.vnc; without a name (NULL) it is the first of vm.vnc, vm-2.vnc, ...
 * that no running VMM serves. */
int vnc_parse(const char *spec, const char *name, struct vnc_config *cfg, struct error *err);

struct vga;
struct i8042;
struct virtio_input;
struct keymap;

struct vnc_devices {
	struct vga *vga;
	struct i8042 *kbd;                /* keyboard and PS/2 mouse */
	struct virtio_input *tablet;      /* may be NULL */
	const struct keymap *keymap;
	const char *name;                 /* the desktop name */
};

struct vnc_server;

/* Listens and serves on the default GLib main context. */
struct vnc_server *vnc_start(const struct vnc_config *cfg, const struct vnc_devices *dev, struct error *err);
/* Disconnects the clients, closes (and for UNIX unlinks) the socket. */
void vnc_stop(struct vnc_server *s);

struct vnc_stats {
	unsigned clients;
	uint64_t frames, rects, refreshes, keys, pointer_events;
	unsigned interval_ms;
};
void vnc_get_stats(const struct vnc_server *s, struct vnc_stats *out);

/* vnc_socket.c */
int vnc_listen(const struct vnc_config *cfg, struct error *err);
void vnc_unlink(const struct vnc_config *cfg);

#endif
