/* bench: the request pattern of `qemu-img bench` (fixed-size requests at
 * OFFSET + k * STEP, wrapping before the end of the image), DEPTH of them
 * in flight, each in flight request on its own thread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/img.h"

struct bench {
	const struct img_bench_opts *o;
	struct blk *b;
	uint64_t wrap;            /* offsets are taken modulo this */
	atomic_uint_fast64_t next;
	atomic_uint_fast64_t done;
	atomic_uint_fast64_t errors;
	pthread_barrier_t start;
};

static uint64_t request_offset(const struct bench *bn, uint64_t k)
{
	if (!bn->wrap)
		return 0;
	uint64_t step = bn->o->step ? bn->o->step : bn->o->size;
	unsigned __int128 off = (unsigned __int128)bn->o->offset + (unsigned __int128)k * step;
	return (uint64_t)(off % bn->wrap);
}

static void *bench_thread(void *arg)
{
	struct bench *bn = arg;
	const struct img_bench_opts *o = bn->o;
	void *buf = NULL;
	if (posix_memalign(&buf, 4096, o->size ? o->size : 1))
		buf = NULL;
	if (buf)
		memset(buf, o->pattern, o->size);
	pthread_barrier_wait(&bn->start);
	for (;;) {
		uint64_t k = atomic_fetch_add(&bn->next, 1);
		if (k >= o->count)
			break;
		uint64_t off = request_offset(bn, k);
		int ret = !buf ? -ENOMEM : o->write ? blk_pwrite(bn->b, buf, o->size, off)
						    : blk_pread(bn->b, buf, o->size, off);
		if (!ret && o->write && o->flush_interval &&
		    (atomic_fetch_add(&bn->done, 1) + 1) % o->flush_interval == 0)
			ret = blk_flush(bn->b);
		if (ret)
			atomic_fetch_add(&bn->errors, 1);
	}
	free(buf);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(struct bench *bn, struct img_bench_result *r, struct error *err)
{
	unsigned n = bn->o->depth ? bn->o->depth : 1;
	pthread_t *th = calloc(n, sizeof(*th));
	if (!th)
		return error_set(err, "out of memory for %u bench threads", n);
	pthread_barrier_init(&bn->start, NULL, n + 1);
	unsigned started = 0;
	for (; started < n; started++)
		if (pthread_create(&th[started], NULL, bench_thread, bn))
			break;
	if (started < n) {
		/* Let the started ones through with nothing to do. */
		atomic_store(&bn->next, bn->o->count);
		for (unsigned i = started; i < n; i++)
			pthread_barrier_wait(&bn->start);
	}
	double t0 = now();
	pthread_barrier_wait(&bn->start);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	r->seconds = now() - t0;
	pthread_barrier_destroy(&bn->start);
	free(th);
	r->errors = atomic_load(&bn->errors);
	if (started < n)
		return error_set(err, "could only start %u of %u bench threads", started, n);
	return 0;
}

int img_bench(const struct img_bench_opts *o, struct img_bench_result *r, struct error *err)
{
	struct blk_options bo = { .format = o->format, .read_only = !o->write, .cache = o->cache,
				  .force_share = o->force_share && !o->write };
	struct bench bn = { .o = o };
	bn.b = blk_open(o->path, &bo, err);
	if (!bn.b)
		return -1;
	memset(r, 0, sizeof(*r));
	r->image_size = blk_size(bn.b);
	int ret = 0;
	if (o->size > r->image_size)
		ret = error_set(err, "the request size is larger than '%s'", o->path);
	bn.wrap = r->image_size > o->size ? r->image_size - o->size : 0;
	if (!ret)
		ret = run(&bn, r, err);
	blk_close(bn.b);
	return ret;
}
