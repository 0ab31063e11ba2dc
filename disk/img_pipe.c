#include <stdlib.h>
#include <string.h>

#include "disk/img_pipe.h"

int img_pipe_init(struct img_pipe *p, uint64_t chunk_bytes)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	for (unsigned i = 0; i < IMG_PIPE_SLOTS; i++) {
		p->slot[i].buf = malloc(chunk_bytes);
		if (!p->slot[i].buf) {
			img_pipe_destroy(p);
			return -1;
		}
	}
	return 0;
}

void img_pipe_destroy(struct img_pipe *p)
{
	for (unsigned i = 0; i < IMG_PIPE_SLOTS; i++)
		free(p->slot[i].buf);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
}

struct img_chunk *img_pipe_claim(struct img_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->count == IMG_PIPE_SLOTS && !p->cancelled)
		pthread_cond_wait(&p->changed, &p->lock);
	struct img_chunk *c = p->cancelled ? NULL : &p->slot[p->head];
	pthread_mutex_unlock(&p->lock);
	if (c) {
		c->zero = c->last = false;
		c->err = 0;
	}
	return c;
}

void img_pipe_publish(struct img_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->head = (p->head + 1) % IMG_PIPE_SLOTS;
	p->count++;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

struct img_chunk *img_pipe_next(struct img_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->count == 0)
		pthread_cond_wait(&p->changed, &p->lock);
	struct img_chunk *c = &p->slot[p->tail];
	pthread_mutex_unlock(&p->lock);
	return c;
}

void img_pipe_release(struct img_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->tail = (p->tail + 1) % IMG_PIPE_SLOTS;
	p->count--;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

void img_pipe_cancel(struct img_pipe *p)
{
	pthread_mutex_lock(&p->lock);
	p->cancelled = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}
