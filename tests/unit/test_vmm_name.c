/* How a VMM claims its name before anything else (vmm_ctl_claim): the
 * pidfile beside its control socket, locked; the default names vm, vm-2,
 * ...; a name in use refused in one sentence; a socket served by a VMM
 * without a pidfile passed over.  No KVM needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/pidfile.h"
#include "src/unixsock.h"
#include "tests/lib/testlib.h"
#include "vmm/vmm_ctl.h"

static int setup(void **state)
{
	char *home = tl_mkdtemp();
	tl_private_xdg(home);
	*state = home;
	return 0;
}

static int teardown(void **state)
{
	tl_rmtree(*state);
	free(*state);
	return 0;
}

static char *run_path(const char *file)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/vmdeck/%s", getenv("XDG_RUNTIME_DIR"), file) > 0);
	return p;
}

static void test_default_names_take_the_next_free_lock(void **state)
{
	struct vm_config cfg = { .name = "vm" };
	struct vmm_ctl a, b, c;
	struct error err;
	assert_int_equal(vmm_ctl_claim(&a, &cfg, &err), 0);
	assert_string_equal(a.name, "vm");
	char *pid = run_path("vm.pid"), *sock = run_path("vm.sock");
	assert_string_equal(a.sock, sock);
	pid_t holder = 0;
	assert_true(pidfile_held(pid, &holder));
	assert_int_equal(holder, getpid());
	assert_int_equal(vmm_ctl_claim(&b, &cfg, &err), 0);
	assert_string_equal(b.name, "vm-2");
	/* vm-3's socket is served by someone without a pidfile: passed over. */
	char *foreign = run_path("vm-3.sock");
	int fd = unixsock_listen(foreign, 1, "a test server", &err);
	assert_true(fd >= 0);
	assert_int_equal(vmm_ctl_claim(&c, &cfg, &err), 0);
	assert_string_equal(c.name, "vm-4");
	char *pid3 = run_path("vm-3.pid");
	assert_false(pidfile_held(pid3, NULL));          /* let go again */
	close(fd);
	vmm_ctl_stop(&a);                                /* gives "vm" up */
	assert_false(pidfile_held(pid, NULL));
	vmm_ctl_stop(&b);
	vmm_ctl_stop(&c);
	free(pid);
	free(pid3);
	free(sock);
	free(foreign);
}

static void test_a_name_in_use_is_refused(void **state)
{
	struct vm_config cfg = { .name = "web", .name_given = true };
	struct vmm_ctl a, b;
	struct error err;
	assert_int_equal(vmm_ctl_claim(&a, &cfg, &err), 0);
	assert_int_equal(vmm_ctl_claim(&b, &cfg, &err), -1);
	char want[80];
	snprintf(want, sizeof(want), "VM 'web' is already running (pid %d)", (int)getpid());
	assert_string_equal(err.msg, want);
	vmm_ctl_stop(&a);
	assert_int_equal(vmm_ctl_claim(&b, &cfg, &err), 0);
	vmm_ctl_stop(&b);
}

static void test_control_paths_and_none(void **state)
{
	char *sock = NULL;
	assert_true(asprintf(&sock, "%s/elsewhere.sock", (char *)*state) > 0);
	struct vm_config cfg = { .name = "vm", .control = sock };
	struct vmm_ctl a, b;
	struct error err;
	assert_int_equal(vmm_ctl_claim(&a, &cfg, &err), 0);
	char *pid = NULL;
	assert_true(asprintf(&pid, "%s/elsewhere.pid", (char *)*state) > 0);
	assert_true(pidfile_held(pid, NULL));
	vmm_ctl_stop(&a);
	/* --control none: no socket, no name to hold. */
	cfg.control = "none";
	assert_int_equal(vmm_ctl_claim(&b, &cfg, &err), 0);
	assert_string_equal(b.sock, "");
	assert_int_equal(b.pid_fd, -1);
	vmm_ctl_stop(&b);
	free(pid);
	free(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_names_take_the_next_free_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_name_in_use_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_paths_and_none, setup, teardown),
	};
	return cmocka_run_group_tests_name("the VMM's name and pidfile", tests, NULL, NULL);
}
