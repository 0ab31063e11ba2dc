/* vmm/vnc_socket.c: the --vnc option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/testlib.h"
#include "vmm/vnc.h"

static void test_forms(void **state)
{
	char *dir = tl_mkdtemp();
	setenv("XDG_RUNTIME_DIR", dir, 1);
	struct vnc_config c;
	struct error err;
	assert_int_equal(vnc_parse("unix", "web1", &c, &err), 0);
	assert_int_equal(c.kind, VNC_UNIX);
	char want[256];
	snprintf(want, sizeof(want), "%s/vmdeck/web1.vnc", dir);
	assert_string_equal(c.path, want);
	struct stat st;
	snprintf(want, sizeof(want), "%s/vmdeck", dir);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Without a name: the first default nobody serves. */
	assert_int_equal(vnc_parse("unix", NULL, &c, &err), 0);
	snprintf(want, sizeof(want), "%s/vmdeck/vm.vnc", dir);
	assert_string_equal(c.path, want);
	int fd = vnc_listen(&c, &err);
	assert_true(fd >= 0);
	struct vnc_config c2;
	assert_int_equal(vnc_parse("unix", NULL, &c2, &err), 0);
	snprintf(want, sizeof(want), "%s/vmdeck/vm-2.vnc", dir);
	assert_string_equal(c2.path, want);
	assert_int_equal(vnc_listen(&c, &err), -1);             /* a served socket is never taken over */
	tl_assert_contains(err.msg, "already serves VNC");
	close(fd);
	vnc_unlink(&c);
	assert_int_equal(vnc_parse("unix:/tmp/x.sock", "vm", &c, &err), 0);
	assert_string_equal(c.path, "/tmp/x.sock");
	assert_int_equal(vnc_parse("none", "vm", &c, &err), 0);
	assert_int_equal(c.kind, VNC_NONE);
	/* TCP listens on the loopback unless an address is named. */
	assert_int_equal(vnc_parse("tcp:5901", "vm", &c, &err), 0);
	assert_int_equal(c.kind, VNC_TCP);
	assert_string_equal(c.host, "127.0.0.1");
	assert_string_equal(c.port, "5901");
	assert_int_equal(vnc_parse("tcp:0.0.0.0:5902", "vm", &c, &err), 0);
	assert_string_equal(c.host, "0.0.0.0");
	assert_int_equal(vnc_parse("tcp:[::1]:5903", "vm", &c, &err), 0);
	assert_string_equal(c.host, "::1");
	assert_string_equal(c.port, "5903");
	/* Passwords: the first line, 8 characters of it. */
	char pw[256];
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	tl_write_file(pw, "longpassword\nsecond\n", 20);
	char spec[300];
	snprintf(spec, sizeof(spec), "tcp:5901,password=%s", pw);
	assert_int_equal(vnc_parse(spec, "vm", &c, &err), 0);
	assert_string_equal(c.password, "longpass");
	tl_rmtree(dir);
	free(dir);
	unsetenv("XDG_RUNTIME_DIR");
}

static void bad(const char *spec, const char *msg)
{
	struct vnc_config c;
	struct error err;
	assert_int_equal(vnc_parse(spec, "vm", &c, &err), -1);
	tl_assert_contains(err.msg, msg);
}

static void test_mistakes_are_one_sentence(void **state)
{
	bad("tcp:99999", "1 to 65535");
	bad("tcp:", "1 to 65535");
	bad("tcp:localhost:5900x", "not '5900x'");
	bad("udp:1", "takes unix");
	bad("unix,colour=blue", "colour");
	bad("tcp:5900,password=/nonexistent/pw", "/nonexistent/pw");
	char *dir = tl_mkdtemp();
	char path[256];
	snprintf(path, sizeof(path), "%s/open", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	assert_int_equal(rename(path, path), 0);
	snprintf(path, sizeof(path), "%s/vmdeck", dir);
	assert_int_equal(mkdir(path, 0755), 0);       /* others may enter: refused */
	bad("unix", "open to other users");
	unsetenv("XDG_RUNTIME_DIR");
	tl_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_mistakes_are_one_sentence),
	};
	return cmocka_run_group_tests_name("--vnc", tests, NULL, NULL);
}
