/* Screen dumps as PNG (libpng). */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm/display.h"
#include "vmm/vga.h"

struct dump_job {
	FILE *f;
	png_structp png;
	png_infop info;
	uint8_t *row;
};

static void dump_cleanup(struct dump_job *j)
{
	if (j->png)
		png_destroy_write_struct(&j->png, j->info ? &j->info : NULL);
	free(j->row);
	if (j->f)
		fclose(j->f);
}

/* libpng reports errors by longjmp; everything it touches is in J. */
static int dump_rows(struct dump_job *j, const struct display_surface *s)
{
	if (setjmp(png_jmpbuf(j->png)))
		return -1;
	png_init_io(j->png, j->f);
	png_set_IHDR(j->png, j->info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(j->png, j->info);
	for (unsigned y = 0; y < s->height; y++) {
		const uint32_t *px = s->pixels + (size_t)y * s->width;
		for (unsigned x = 0; x < s->width; x++) {
			j->row[3 * x] = (uint8_t)(px[x] >> 16);
			j->row[3 * x + 1] = (uint8_t)(px[x] >> 8);
			j->row[3 * x + 2] = (uint8_t)px[x];
		}
		png_write_row(j->png, j->row);
	}
	png_write_end(j->png, NULL);
	return 0;
}

int display_surface_png(const struct display_surface *s, const char *path, struct error *err)
{
	if (!s->pixels || !s->width || !s->height)
		return error_set(err, "the display shows nothing yet");
	struct dump_job j = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno(err, errno, "cannot write the screen dump '%s'", path);
	j.f = fdopen(fd, "wb");
	j.row = malloc((size_t)s->width * 3);
	j.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	j.info = j.png ? png_create_info_struct(j.png) : NULL;
	if (!j.f || !j.row || !j.info) {
		if (!j.f)
			close(fd);
		dump_cleanup(&j);
		return error_set(err, "out of memory writing the screen dump '%s'", path);
	}
	int r = dump_rows(&j, s);
	if (r == 0 && fflush(j.f) != 0)
		r = -1;
	dump_cleanup(&j);
	if (r < 0)
		return error_set(err, "cannot write the screen dump '%s' (disk full?)", path);
	return 0;
}

int display_screendump(struct vga *vga, const char *path, struct error *err)
{
	/* The picture as of now, not as of the last VNC update; the changes
	 * stay in vga->dirty for the VNC server. */
	pthread_mutex_lock(&vga->render_lock);
	vga_refresh(vga, vga_now_ms());
	int r = display_surface_png(&vga->surface, path, err);
	pthread_mutex_unlock(&vga->render_lock);
	return r;
}
