/* vmm/display_png.c: screen dumps read back with libpng, pixel for pixel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/testlib.h"
#include "vmm/display.h"
#include "vmm/vga.h"

static void test_surface_round_trip(void **state)
{
	uint32_t px[7 * 5];
	for (unsigned i = 0; i < 35; i++)
		px[i] = i * 0x070503u;
	struct display_surface s = { px, 7, 5 };
	char *dir = tl_mkdtemp();
	char path[256];
	snprintf(path, sizeof(path), "%s/shot.png", dir);
	struct error err;
	assert_int_equal(display_surface_png(&s, path, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	png_image img = { .version = PNG_IMAGE_VERSION };
	assert_true(png_image_begin_read_from_file(&img, path));
	assert_int_equal(img.width, 7);
	assert_int_equal(img.height, 5);
	img.format = PNG_FORMAT_RGB;
	uint8_t rgb[7 * 5 * 3];
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (unsigned i = 0; i < 35; i++) {
		assert_int_equal(rgb[3 * i], (px[i] >> 16) & 0xff);
		assert_int_equal(rgb[3 * i + 1], (px[i] >> 8) & 0xff);
		assert_int_equal(rgb[3 * i + 2], px[i] & 0xff);
	}
	/* Errors are one sentence naming the file. */
	snprintf(path, sizeof(path), "%s/missing/shot.png", dir);
	assert_int_equal(display_surface_png(&s, path, &err), -1);
	tl_assert_contains(err.msg, "missing/shot.png");
	struct display_surface empty = { 0 };
	assert_int_equal(display_surface_png(&empty, path, &err), -1);
	tl_rmtree(dir);
	free(dir);
}

/* The VGA's text screen as a PNG: 720x400, the picture of now. */
static void test_screendump_of_the_vga(void **state)
{
	struct vga v;
	struct error err;
	assert_int_equal(vga_init(&v, NULL, &err), 0);
	uint8_t ch = 'Q', attr = 0x2f;
	vga_window_ops.write(&v, 0x18000, &ch, 1);
	vga_window_ops.write(&v, 0x18001, &attr, 1);
	char *dir = tl_mkdtemp();
	char path[256];
	snprintf(path, sizeof(path), "%s/vga.png", dir);
	assert_int_equal(display_screendump(&v, path, &err), 0);
	png_image img = { .version = PNG_IMAGE_VERSION };
	assert_true(png_image_begin_read_from_file(&img, path));
	assert_int_equal(img.width, 720);
	assert_int_equal(img.height, 400);
	img.format = PNG_FORMAT_RGB;
	uint8_t *rgb = malloc(720 * 400 * 3);
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	assert_int_equal(rgb[0], 0x00);                  /* green background of cell 0 */
	assert_int_equal(rgb[1], 0xaa);
	assert_int_equal(rgb[2], 0x00);
	/* The VNC server still gets the change: the dump does not take it. */
	assert_false(dirty_empty(&v.dirty));
	free(rgb);
	vga_destroy(&v);
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_surface_round_trip),
		cmocka_unit_test(test_screendump_of_the_vga),
	};
	return cmocka_run_group_tests_name("screen dumps", tests, NULL, NULL);
}
