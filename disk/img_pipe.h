/* A bounded ring of chunk buffers between one producer thread and one
 * consumer thread (convert reads ahead while it writes). */
#ifndef VMDECK_DISK_IMG_PIPE_H
#define VMDECK_DISK_IMG_PIPE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IMG_PIPE_SLOTS 4

struct img_chunk {
	uint8_t *buf;
	uint64_t off, len;
	bool zero;          /* nothing to write: LEN bytes read as zeros */
	int err;            /* -errno from the producer; ends the stream */
	bool last;          /* no chunk follows */
};

struct img_pipe {
	struct img_chunk slot[IMG_PIPE_SLOTS];
	unsigned head, tail, count;
	bool cancelled;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

int img_pipe_init(struct img_pipe *p, uint64_t chunk_bytes);
void img_pipe_destroy(struct img_pipe *p);
/* Producer: the next free slot to fill, or NULL once cancelled. */
struct img_chunk *img_pipe_claim(struct img_pipe *p);
void img_pipe_publish(struct img_pipe *p);
/* Consumer: the oldest filled slot (waits for it); release when done. */
struct img_chunk *img_pipe_next(struct img_pipe *p);
void img_pipe_release(struct img_pipe *p);
/* Consumer gives up: the producer's next claim returns NULL. */
void img_pipe_cancel(struct img_pipe *p);

#endif
