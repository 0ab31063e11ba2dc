/* `vmdeck img` end to end: the real binary, checked against qemu-img. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/be.h"
#include "tests/lib/disk_util.h"

struct fx {
	char *dir;
	const char *bin;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = dt_mkdtemp();
	f->bin = getenv("VMDECK_BIN");
	if (!f->bin)
		f->bin = "bin/vmdeck";
	*state = f;
	return f->dir && access(f->bin, X_OK) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Runs `vmdeck img ARGS` in the scratch directory; returns the exit status
 * and, if OUT is given, stdout+stderr. */
static int img(struct fx *f, char **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int img(struct fx *f, char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *args = NULL;
	if (vasprintf(&args, fmt, ap) < 0)
		args = NULL;
	va_end(ap);
	char *bin = realpath(f->bin, NULL);
	int st;
	char *o = dt_sh_out(&st, "cd '%s' && '%s' img %s 2>&1", f->dir, bin, args);
	free(bin);
	free(args);
	if (out)
		*out = o;
	else
		free(o);
	return st;
}

static json_object *parse(const char *text)
{
	json_object *j = json_tokener_parse(text);
	assert_non_null(j);
	return j;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_int64(v);
}

static void test_create_and_info(void **state)
{
	struct fx *f = *state;
	char *out;
	assert_int_equal(img(f, NULL, "create -q -f qcow2 -o cluster_size=4k,lazy_refcounts=on,refcount_bits=8 a.qcow2 100M"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img info a.qcow2 | grep -q 'cluster_size: 4096' && "
			       "qemu-img info a.qcow2 | grep -q 'lazy refcounts: true' && "
			       "qemu-img info a.qcow2 | grep -q 'refcount bits: 8'", f->dir), 0);
	assert_int_equal(img(f, &out, "info --json a.qcow2"), 0);
	json_object *ours = parse(out);
	free(out);
	char *q = dt_sh_out(NULL, "cd '%s' && qemu-img info --output=json a.qcow2", f->dir);
	json_object *theirs = parse(q);
	free(q);
	assert_int_equal(jint(ours, "virtual-size"), jint(theirs, "virtual-size"));
	assert_int_equal(jint(ours, "cluster-size"), jint(theirs, "cluster-size"));
	json_object *fs, *data, *lz;
	assert_true(json_object_object_get_ex(ours, "format-specific", &fs));
	assert_true(json_object_object_get_ex(fs, "data", &data));
	assert_true(json_object_object_get_ex(data, "lazy-refcounts", &lz));
	assert_true(json_object_get_boolean(lz));
	json_object_put(ours);
	json_object_put(theirs);
	/* Mistakes get one sentence and exit status 2. */
	assert_int_equal(img(f, &out, "create -f qcow2 b.qcow2"), 2);
	assert_non_null(strstr(out, "vmdeck img create: needs a SIZE"));
	free(out);
	assert_int_equal(img(f, &out, "create -f vmdk b.img 1G"), 2);
	assert_non_null(strstr(out, "unknown format 'vmdk'"));
	free(out);
	assert_int_equal(img(f, &out, "frobnicate x"), 2);
	assert_non_null(strstr(out, "no subcommand 'frobnicate'"));
	free(out);
	assert_int_equal(img(f, &out, "info missing.qcow2"), 1);
	assert_non_null(strstr(out, "cannot open 'missing.qcow2'"));
	free(out);
}

static void poke_refcount(const char *path, uint64_t cluster, uint16_t value)
{
	/* blk_create's layout: refcount block at cluster 2 (4 KiB clusters here). */
	int fd = open(path, O_WRONLY);
	uint8_t b[2];
	be16_put(b, value);
	assert_int_equal(pwrite(fd, b, 2, 2 * 4096 + (off_t)cluster * 2), 2);
	close(fd);
}

static void test_check_and_repair(void **state)
{
	struct fx *f = *state;
	char *out, *p = dt_join(f->dir, "c.qcow2");
	assert_int_equal(img(f, NULL, "create -q -f qcow2 -o cluster_size=4k c.qcow2 1M"), 0);
	assert_int_equal(dt_sh("qemu-io -c 'write -P 1 0 64K' '%s' >/dev/null", p), 0);
	assert_int_equal(img(f, &out, "check c.qcow2"), 0);
	assert_non_null(strstr(out, "No errors were found on the image."));
	free(out);
	/* A leak: a refcount for a cluster nothing uses. */
	assert_int_equal(truncate(p, 200 * 4096), 0);
	poke_refcount(p, 150, 1);
	assert_int_equal(img(f, &out, "check --json c.qcow2"), 3);
	json_object *j = parse(out);
	free(out);
	assert_int_equal(jint(j, "leaks"), 1);
	assert_int_equal(jint(j, "corruptions"), 0);
	json_object_put(j);
	assert_int_equal(img(f, &out, "check -r leaks c.qcow2"), 0);
	assert_non_null(strstr(out, "1 leaked clusters"));
	free(out);
	assert_int_equal(dt_qemu_check(p), 0);
	/* A corruption: an L2 table whose refcount says free. */
	poke_refcount(p, 4, 0);
	assert_int_equal(dt_qemu_check(p), 2);
	assert_int_equal(img(f, &out, "check c.qcow2"), 2);
	assert_non_null(strstr(out, "ERROR cluster 4 refcount=0 reference=1"));
	free(out);
	assert_int_equal(img(f, &out, "check -r all c.qcow2"), 0);
	free(out);
	assert_int_equal(dt_qemu_check(p), 0);
	assert_int_equal(dt_sh("qemu-io -c 'read -P 1 0 64K' '%s' >/dev/null", p), 0);
	free(p);
}

static void test_convert(void **state)
{
	struct fx *f = *state;
	char *out;
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f raw src.raw 20M && "
			       "yes vmdeck | head -c 5M | dd of=src.raw conv=notrunc status=none && "
			       "head -c 3M /dev/urandom | dd of=src.raw bs=1M seek=10 conv=notrunc status=none", f->dir), 0);
	assert_int_equal(img(f, &out, "convert -p -O qcow2 -o cluster_size=128k src.raw a.qcow2"), 0);
	assert_non_null(strstr(out, "100%"));
	free(out);
	assert_int_equal(img(f, NULL, "convert -c -O qcow2 src.raw c.qcow2"), 0);
	assert_int_equal(img(f, NULL, "convert -O raw c.qcow2 back.raw"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img check -q a.qcow2 && qemu-img check -q c.qcow2 && "
			       "qemu-img compare -q src.raw a.qcow2 && qemu-img compare -q src.raw c.qcow2 && "
			       "cmp -s src.raw back.raw", f->dir), 0);
	/* Compression did happen, and zeros were left out. */
	assert_int_equal(dt_sh("cd '%s' && [ $(stat -c %%s c.qcow2) -lt $(stat -c %%s a.qcow2) ] && "
			       "[ $(du -k back.raw | cut -f1) -lt 10000 ]", f->dir), 0);
	assert_int_equal(img(f, &out, "convert -c -O raw src.raw x.raw"), 2);
	assert_non_null(strstr(out, "-c needs -O qcow2"));
	free(out);
}

static void test_snapshot_resize(void **state)
{
	struct fx *f = *state;
	char *out;
	assert_int_equal(img(f, NULL, "create -q -f qcow2 s.qcow2 16M"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-io -c 'write -P 1 0 1M' s.qcow2 >/dev/null", f->dir), 0);
	assert_int_equal(img(f, NULL, "snapshot -c one s.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-io -c 'write -P 2 0 1M' s.qcow2 >/dev/null", f->dir), 0);
	assert_int_equal(img(f, &out, "snapshot -l s.qcow2"), 0);
	assert_non_null(strstr(out, "one"));
	free(out);
	assert_int_equal(img(f, NULL, "snapshot -a one s.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-io -c 'read -P 1 0 1M' s.qcow2 | grep -q 'read 1048576'", f->dir), 0);
	assert_int_equal(img(f, &out, "snapshot -a two s.qcow2"), 1);
	assert_non_null(strstr(out, "has no snapshot 'two'"));
	free(out);
	assert_int_equal(img(f, NULL, "snapshot -d one s.qcow2"), 0);
	assert_int_equal(img(f, NULL, "resize -q s.qcow2 +1G"), 0);
	assert_int_equal(img(f, &out, "resize s.qcow2 -512M"), 1);
	assert_non_null(strstr(out, "--shrink"));
	free(out);
	assert_int_equal(img(f, NULL, "resize -q --shrink s.qcow2 -512M"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img check -q s.qcow2 && "
			       "qemu-img info s.qcow2 | grep -q '(553648128 bytes)'", f->dir), 0);
}

static void test_commit_rebase(void **state)
{
	struct fx *f = *state;
	assert_int_equal(dt_sh("cd '%s' && qemu-img create -q -f qcow2 base.qcow2 8M && "
			       "qemu-io -c 'write -P 1 0 8M' base.qcow2 >/dev/null && "
			       "qemu-img create -q -f qcow2 base2.qcow2 8M && "
			       "qemu-io -c 'write -P 3 0 4M' base2.qcow2 >/dev/null", f->dir), 0);
	assert_int_equal(img(f, NULL, "create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-io -c 'write -P 2 1M 100K' -c 'write -z 3M 1M' top.qcow2 >/dev/null && "
			       "qemu-img convert -O raw top.qcow2 want.raw", f->dir), 0);
	/* Safe rebase keeps the contents; unsafe only renames. */
	assert_int_equal(img(f, NULL, "rebase -b base2.qcow2 -F qcow2 top.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img compare -q want.raw top.qcow2 && qemu-img check -q top.qcow2 && "
			       "qemu-img info top.qcow2 | grep -q 'backing file: base2.qcow2'", f->dir), 0);
	assert_int_equal(img(f, NULL, "rebase -u -b base.qcow2 -F qcow2 top.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img info top.qcow2 | grep -q 'backing file: base.qcow2'", f->dir), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img convert -O raw top.qcow2 want.raw", f->dir), 0);
	assert_int_equal(img(f, NULL, "commit -q top.qcow2"), 0);
	assert_int_equal(dt_sh("cd '%s' && qemu-img compare -q want.raw base.qcow2 && qemu-img compare -q want.raw top.qcow2 && "
			       "qemu-img check -q base.qcow2 && qemu-img check -q top.qcow2 && "
			       "! qemu-img map --output=json top.qcow2 | grep -q '\"depth\": 0, \"present\": true'",
			       f->dir), 0);
}

static void test_bench_and_locks(void **state)
{
	struct fx *f = *state;
	char *out;
	assert_int_equal(img(f, NULL, "create -q -f qcow2 b.qcow2 64M"), 0);
	assert_int_equal(img(f, &out, "bench -w -c 2000 -d 8 -s 64k --pattern=0x5a b.qcow2"), 0);
	assert_non_null(strstr(out, "Sending 2000 write requests, 65536 bytes each, 8 in parallel"));
	assert_non_null(strstr(out, "Run completed in"));
	free(out);
	assert_int_equal(dt_sh("cd '%s' && qemu-io -c 'read -P 0x5a 0 64M' b.qcow2 | grep -q 'read 67108864'", f->dir), 0);
	assert_int_equal(img(f, &out, "bench -c 5000 -d 32 -S 1M b.qcow2"), 0);
	free(out);
	/* Held by qemu-io: refused with a sentence, -U reads anyway. */
	char *p = dt_join(f->dir, "b.qcow2");
	assert_int_equal(dt_sh("(sleep 3 | qemu-io '%s' >/dev/null 2>&1 &) ; sleep 0.7", p), 0);
	assert_int_equal(img(f, &out, "info b.qcow2"), 1);
	assert_non_null(strstr(out, "is in use by another process"));
	free(out);
	assert_int_equal(img(f, NULL, "info -U b.qcow2"), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_and_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_rebase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench_and_locks, setup, teardown),
	};
	return cmocka_run_group_tests_name("cmd_img", tests, NULL, NULL);
}
