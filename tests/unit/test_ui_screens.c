/* The screens over a fake backend, drawn on a curses screen that goes
 * nowhere and read back: rows, sorting, filtering, crash reasons,
 * sparklines, the detail screen, dialogs and the wizard's validation, and
 * error panes when an operation fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/testlib.h"
#include "ui/ui.h"

/* ---- a fake backend ------------------------------------------------------------------ */

struct fake {
	struct backend b;
	char started[64];
	int start_result;
	char killed[64];
	struct be_spec created;
	bool did_create;
};

static int fake_start(struct backend *b, const char *name, struct error *err)
{
	struct fake *f = (struct fake *)b;
	snprintf(f->started, sizeof(f->started), "%s", name);
	if (f->start_result)
		error_set(err, "VM '%s' did not start: the kernel is not bootable", name);
	return f->start_result;
}

static int fake_kill(struct backend *b, const char *name, struct error *err)
{
	snprintf(((struct fake *)b)->killed, 64, "%s", name);
	return 0;
}

static int fake_create(struct backend *b, const struct be_spec *s, struct error *err)
{
	struct fake *f = (struct fake *)b;
	f->created = *s;
	f->did_create = true;
	return 0;
}

static int fake_list(struct backend *b, struct be_vm **vms, size_t *n, struct error *err)
{
	*vms = NULL;
	*n = 0;
	return 0;
}

static int fake_none(struct backend *b, const char *name, void *out, size_t *n, struct error *err)
{
	*(void **)out = NULL;
	*n = 0;
	return 0;
}

static char *fake_log(struct backend *b, const char *name, unsigned nlines)
{
	return strdup("vmdeck: error: KVM cannot run this guest's kernel-mode code");
}

static int fake_endpoints(struct backend *b, const char *name, struct be_endpoints *e, struct error *err)
{
	memset(e, 0, sizeof(*e));
	return 0;
}

static const struct backend_ops fake_ops = {
	.kind = "fake",
	.list = fake_list,
	.start = fake_start,
	.kill = fake_kill,
	.create = fake_create,
	.devices = (int (*)(struct backend *, const char *, struct be_device **, size_t *, struct error *))fake_none,
	.forwards = (int (*)(struct backend *, const char *, char (**)[128], size_t *, struct error *))fake_none,
	.snapshots = (int (*)(struct backend *, const char *, struct be_snapshot **, size_t *, struct error *))fake_none,
	.log_tail = fake_log,
	.endpoints = fake_endpoints,
};

/* ---- fixture ---------------------------------------------------------------------------- */

struct fixture {
	SCREEN *scr;
	FILE *out, *in;
	struct fake be;
	struct ui_app app;
};

static struct be_vm vm(const char *name, enum vm_state st, double cpu, uint64_t mem)
{
	struct be_vm v;
	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.state = st;
	v.cpus = 2;
	v.mem = mem;
	if (vm_state_live(st)) {
		v.pid = 4242;
		v.st.valid = true;
		v.st.uptime_s = 185;
		v.st.cpu_pct = (struct be_val){ true, cpu };
		v.st.nr_vcpus = 2;
		v.st.vcpu_pct[0] = (struct be_val){ true, cpu };
		v.st.vcpu_pct[1] = (struct be_val){ true, 0 };
		v.st.net_rx_bps = (struct be_val){ true, 12 * 1024 };
	}
	return v;
}

static void set_vms(struct fixture *f, const struct be_vm *vms, size_t n)
{
	struct be_vm *copy = calloc(n, sizeof(*vms));
	memcpy(copy, vms, n * sizeof(*vms));     /* VMS may be the old list */
	free(f->app.vms);
	f->app.vms = copy;
	f->app.nvms = n;
	ui_hist_update(&f->app.hist, f->app.vms, n);
	for (int i = 0; i < f->app.depth; i++)
		if (f->app.stack[i]->ops->data)
			f->app.stack[i]->ops->data(f->app.stack[i], &f->app);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	setlocale(LC_ALL, "C.UTF-8");
	f->out = fopen("/dev/null", "w");
	f->in = fopen("/dev/null", "r");
	f->scr = newterm("xterm-256color", f->out, f->in);
	set_term(f->scr);
	resizeterm(30, 120);
	f->be.b.ops = &fake_ops;
	f->app.be = &f->be.b;
	f->app.rows = 30;
	f->app.cols = 120;
	f->app.utf8 = true;
	f->app.opts.refresh_s = 1;
	ui_hist_init(&f->app.hist);
	ui_host_init(&f->app.host, NULL);
	struct be_vm vms[] = {
		vm("web", VM_STATE_RUNNING, 35, 1ull << 30),
		vm("db", VM_STATE_RUNNING, 120, 4ull << 30),
		vm("broken", VM_STATE_CRASHED, 0, 512ull << 20),
		vm("idle", VM_STATE_STOPPED, 0, 256ull << 20),
	};
	snprintf(vms[2].reason, sizeof(vms[2].reason), "KVM cannot run this guest's kernel-mode code");
	set_vms(f, vms, 4);
	ui_push(&f->app, ui_main_new(&f->app));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	while (f->app.depth)
		ui_pop(&f->app);
	ui_hist_free(&f->app.hist);
	free(f->app.vms);
	endwin();
	delscreen(f->scr);
	fclose(f->out);
	fclose(f->in);
	free(f);
	return 0;
}

/* Draws the stack as the loop does and returns the screen as text. */
static char *screen(struct fixture *f)
{
	erase();
	int from = f->app.depth - 1;
	while (from > 0 && f->app.stack[from]->ops->modal)
		from--;
	for (int i = from; i < f->app.depth; i++)
		f->app.stack[i]->ops->draw(f->app.stack[i], &f->app);
	size_t cap = 30 * 121 * 4 + 1, pos = 0;
	char *s = malloc(cap);
	for (int y = 0; y < 30; y++) {
		for (int x = 0; x < 120; x++) {
			cchar_t cc;
			wchar_t wc[8];
			attr_t a;
			short pair;
			mvin_wch(y, x, &cc);
			getcchar(&cc, wc, &a, &pair, NULL);
			char mb[16];
			int n = wctomb(mb, wc[0] ? wc[0] : L' ');
			memcpy(s + pos, mb, n > 0 ? (size_t)n : 0);
			pos += n > 0 ? (size_t)n : 0;
		}
		s[pos++] = '\n';
	}
	s[pos] = '\0';
	return s;
}

static void press(struct fixture *f, int code, bool is_code)
{
	struct ui_view *top = ui_top(&f->app);
	int r = top->ops->key(top, &f->app, (struct ui_key){ code, is_code });
	if (r & UI_CLOSE && ui_top(&f->app) == top)
		ui_pop(&f->app);
}

static void type(struct fixture *f, const char *s)
{
	for (; *s; s++)
		press(f, (unsigned char)*s, false);
}

/* The line of the screen that contains NEEDLE (the first), or NULL. */
static char *line_with(char *s, const char *needle, char *buf, size_t len)
{
	char *p = strstr(s, needle);
	if (!p)
		return NULL;
	char *start = p, *end = strchr(p, '\n');
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
	return buf;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_rows_states_and_values(void **state)
{
	struct fixture *f = *state;
	char *s = screen(f), l[512];
	tl_assert_contains(s, "NAME▲");
	tl_assert_contains(s, "2 running / 4");
	/* Sorted by name: broken, db, idle, web. */
	assert_true(strstr(s, "broken") < strstr(s, "db ") && strstr(s, "db ") < strstr(s, "idle") &&
		    strstr(s, "idle") < strstr(s, "web"));
	assert_non_null(line_with(s, "web ", l, sizeof(l)));
	tl_assert_contains(l, "running");
	tl_assert_contains(l, "35.0");
	tl_assert_contains(l, "1.0G");
	tl_assert_contains(l, "12K/s");
	tl_assert_contains(l, "3m05s");
	tl_assert_contains(l, "▃");                 /* 35% of one vCPU: level 3 */
	assert_non_null(line_with(s, "idle", l, sizeof(l)));
	tl_assert_contains(l, "stopped");
	tl_assert_contains(l, "256M");
	tl_assert_not_contains(l, "K/s");           /* nothing live for a stopped VM */
	/* The first row is selected: the crashed VM tells why below the table. */
	tl_assert_contains(s, "broken crashed: KVM cannot run this guest's kernel-mode code");
	tl_assert_contains(s, "F1Help F2Start F3Stop F4Console");
	free(s);
}

static void test_sort_and_filter(void **state)
{
	struct fixture *f = *state;
	/* Click-free sorting: > moves to the next column (STATE), then vCPU, CPU%. */
	press(f, '>', false);
	press(f, '>', false);
	press(f, '>', false);
	char *s = screen(f);
	tl_assert_contains(s, "CPU%▼");
	assert_true(strstr(s, "db ") < strstr(s, "web"));   /* 120% before 35% */
	free(s);
	press(f, 'I', false);                                  /* reversed */
	s = screen(f);
	tl_assert_contains(s, "CPU%▲");
	assert_true(strstr(s, "web") < strstr(s, "db "));
	free(s);
	/* Filter: only names or states matching. */
	press(f, '/', false);
	type(f, "crash");
	s = screen(f);
	tl_assert_contains(s, "filter: crash");
	tl_assert_contains(s, "1 of 4");
	tl_assert_contains(s, "broken");
	tl_assert_not_contains(s, "web ");
	free(s);
	press(f, 27, false);                                   /* Esc clears it */
	s = screen(f);
	tl_assert_contains(s, "web ");
	free(s);
}

static void test_selection_follows_the_vm_across_refreshes(void **state)
{
	struct fixture *f = *state;
	press(f, KEY_DOWN, true);                              /* db */
	char *s = screen(f);
	tl_assert_contains(s, "db is running, VMM pid 4242");
	free(s);
	/* A new VM sorts in before db: the selection stays on db. */
	struct be_vm vms[] = { vm("aaa", VM_STATE_STOPPED, 0, 1 << 30), vm("db", VM_STATE_RUNNING, 5, 1 << 30),
			       vm("web", VM_STATE_RUNNING, 5, 1 << 30) };
	set_vms(f, vms, 3);
	s = screen(f);
	tl_assert_contains(s, "db is running");
	free(s);
}

static void test_failed_start_shows_an_error_pane(void **state)
{
	struct fixture *f = *state;
	f->be.start_result = BE_EUSER;
	press(f, KEY_END, true);                               /* web */
	press(f, KEY_F(2), true);
	assert_string_equal(f->be.started, "web");
	char *s = screen(f);
	tl_assert_contains(s, "Start");
	tl_assert_contains(s, "VM 'web' did not start: the kernel is not bootable");
	free(s);
	press(f, 'x', false);                                  /* any key closes it */
	assert_int_equal(f->app.depth, 1);
}

static void test_kill_asks_first(void **state)
{
	struct fixture *f = *state;
	press(f, KEY_END, true);
	press(f, 'K', false);
	char *s = screen(f);
	tl_assert_contains(s, "Kill VM 'web' now?");
	free(s);
	press(f, 'n', false);
	assert_string_equal(f->be.killed, "");
	press(f, KEY_F(9), true);
	press(f, 'y', false);
	assert_string_equal(f->be.killed, "web");
}

static void test_help_lists_the_keys(void **state)
{
	struct fixture *f = *state;
	press(f, '?', false);
	char *s = screen(f);
	tl_assert_contains(s, "Help: main screen");
	tl_assert_contains(s, "filter by name or state");
	free(s);
	press(f, 'q', false);
	assert_int_equal(f->app.depth, 1);
}

static void test_wizard_validates_inline(void **state)
{
	struct fixture *f = *state;
	press(f, KEY_F(7), true);
	char *s = screen(f), l[512];
	tl_assert_contains(s, "New VM");
	free(s);
	/* The name field: "db" is taken, "a b" is not a name. */
	for (int i = 0; i < 2; i++)
		press(f, 0x7f, false);
	type(f, "db");
	s = screen(f);
	tl_assert_contains(s, "a VM named 'db' already exists");
	free(s);
	press(f, 0x15, false);
	type(f, "a b");
	s = screen(f);
	tl_assert_contains(s, "use 1 to 64 letters");
	free(s);
	press(f, 0x15, false);
	type(f, "fresh");
	press(f, '\t', false);                 /* vCPUs */
	press(f, 0x7f, false);
	type(f, "300");
	s = screen(f);
	tl_assert_contains(s, "a whole number from 1 to 255");
	free(s);
	press(f, 0x7f, false);
	press(f, 0x7f, false);
	press(f, 0x7f, false);
	type(f, "2");
	press(f, '\t', false);                 /* memory */
	press(f, 0x15, false);
	type(f, "1G");
	press(f, '\t', false);                 /* data disk */
	press(f, 0x15, false);
	type(f, "lots");
	s = screen(f);
	tl_assert_contains(s, "a size of at least 1M, such as 8G, or nothing");
	free(s);
	press(f, 0x15, false);
	type(f, "2G");
	press(f, '\t', false);                 /* kernel */
	type(f, "/nonexistent/kernel");
	s = screen(f);
	tl_assert_contains(s, "cannot read it");
	free(s);
	press(f, 0x15, false);
	type(f, "/dev/null");                  /* readable */
	press(f, '\t', false);                 /* initrd */
	press(f, '\t', false);                 /* cmdline */
	press(f, '\t', false);                 /* network */
	press(f, '\t', false);                 /* forwards */
	type(f, "tcp::8080-:80 bogus");
	s = screen(f);
	assert_non_null(line_with(s, "'bogus' is not", l, sizeof(l)));
	free(s);
	for (int i = 0; i < 6; i++)
		press(f, 0x7f, false);
	press(f, '\t', false);                 /* the Create button */
	press(f, '\r', false);
	assert_true(f->be.did_create);
	assert_string_equal(f->be.created.name, "fresh");
	assert_int_equal(f->be.created.cpus, 2);
	assert_int_equal(f->be.created.mem, 1ull << 30);
	assert_int_equal(f->be.created.disk_size, 2ull << 30);
	assert_string_equal(f->be.created.kernel, "/dev/null");
	assert_int_equal(f->be.created.nr_forwards, 1);
	assert_string_equal(f->be.created.forwards[0], "tcp::8080-:80");
	assert_true(f->be.created.net);
	s = screen(f);
	tl_assert_contains(s, "VM 'fresh' is ready");
	free(s);
}

static void test_detail_screen(void **state)
{
	struct fixture *f = *state;
	press(f, KEY_END, true);               /* web */
	press(f, '\r', false);
	/* A few samples of history. */
	for (int i = 0; i < 5; i++)
		set_vms(f, f->app.vms, f->app.nvms);
	char *s = screen(f);
	tl_assert_contains(s, "web running");
	tl_assert_contains(s, "VMM pid 4242 · up 3m05s · 2 vCPUs");
	tl_assert_contains(s, "CPU 35.0% of a host CPU");
	tl_assert_contains(s, "vCPU0");
	tl_assert_contains(s, "Network rx 12K/s");
	tl_assert_contains(s, "Port forwards");
	free(s);
	press(f, 27, false);
	assert_int_equal(f->app.depth, 1);
	/* The crashed VM's detail shows the end of its VMM log. */
	press(f, KEY_HOME, true);
	press(f, KEY_F(5), true);
	s = screen(f);
	tl_assert_contains(s, "broken crashed");
	tl_assert_contains(s, "KVM cannot run this guest's kernel-mode code");
	tl_assert_contains(s, "VMM log (the end)");
	free(s);
}

static void test_console_without_display_opens_the_serial_tab(void **state)
{
	struct fixture *f = *state;
	press(f, KEY_END, true);
	press(f, 'c', false);
	assert_string_equal(ui_top(&f->app)->ops->name, "console");
	char *s = screen(f);
	tl_assert_contains(s, " Display ");
	tl_assert_contains(s, "Ctrl-] back");
	tl_assert_contains(s, "F12 display");       /* it opened on the serial tab */
	free(s);
	press(f, 0x1d, false);                      /* Ctrl-] */
	assert_int_equal(f->app.depth, 1);
	/* A stopped VM has no console: an error pane says so. */
	press(f, KEY_HOME, true);
	press(f, KEY_DOWN, true);
	press(f, KEY_DOWN, true);                   /* idle */
	press(f, KEY_F(4), true);
	s = screen(f);
	tl_assert_contains(s, "VM 'idle' is not running");
	free(s);
}

static void test_long_names_are_cut_visibly(void **state)
{
	struct fixture *f = *state;
	struct be_vm vms[] = { vm("a-rather-long-virtual-machine-name", VM_STATE_STOPPED, 0, 1 << 30) };
	set_vms(f, vms, 1);
	char *s = screen(f);
	tl_assert_contains(s, "a-rather-long-virtu…");
	/* The status line has room for all of it. */
	tl_assert_contains(s, "a-rather-long-virtual-machine-name is stopped");
	free(s);
}

static void test_small_terminal_says_so(void **state)
{
	struct fixture *f = *state;
	resizeterm(10, 50);
	f->app.rows = 10;
	f->app.cols = 50;
	char *s = malloc(1);
	free(s);
	erase();
	ui_top(&f->app)->ops->draw(ui_top(&f->app), &f->app);
	char b[256];
	int n = mvinnstr(4, 0, b, 50);
	assert_true(n > 0);
	tl_assert_contains(b, "vmdeck needs 60x12");
	resizeterm(30, 120);
	f->app.rows = 30;
	f->app.cols = 120;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_states_and_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection_follows_the_vm_across_refreshes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_start_shows_an_error_pane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_asks_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_lists_the_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wizard_validates_inline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console_without_display_opens_the_serial_tab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_names_are_cut_visibly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_terminal_says_so, setup, teardown),
	};
	return cmocka_run_group_tests_name("screens", tests, NULL, NULL);
}
