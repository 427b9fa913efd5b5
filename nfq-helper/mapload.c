// SPDX-License-Identifier: GPL-2.0-or-later
/* The map's pins read in a thread, handed over in blocks. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "mapload.h"

#define BLOCK 4096

struct block {
	struct block *next;
	size_t n;
	struct nftmap_elem e[BLOCK];
};

struct mapload {
	pthread_t thread;
	pthread_mutex_t lock;
	struct nftmap *m;
	struct block *filling;	     /* the thread's own */
	struct block *ready, **tail; /* handed over, in order */
	uint64_t read;
	bool done;
	int err;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hand_over(struct mapload *ml)
{
	if (!ml->filling)
		return;
	pthread_mutex_lock(&ml->lock);
	*ml->tail = ml->filling;
	ml->tail = &ml->filling->next;
	ml->read += ml->filling->n;
	pthread_mutex_unlock(&ml->lock);
	ml->filling = NULL;
}

static void add(const struct nftmap_elem *e, void *data)
{
	struct mapload *ml = data;
	struct nftmap_elem *to;

	if (!ml->filling) {
		ml->filling = calloc(1, sizeof(*ml->filling));
		if (!ml->filling)
			return; /* no memory: this pin stays unknown */
	}
	to = &ml->filling->e[ml->filling->n++];
	*to = *e;
	to->expires_ms += now_ms();
	if (ml->filling->n == BLOCK)
		hand_over(ml);
}

static void *run(void *arg)
{
	struct mapload *ml = arg;
	int ret;

	ret = nftmap_dump(ml->m, add, ml);
	hand_over(ml);
	pthread_mutex_lock(&ml->lock);
	ml->err = ret;
	ml->done = true;
	pthread_mutex_unlock(&ml->lock);
	return NULL;
}

int mapload_start(struct mapload **mlp, const char *table, const char *map)
{
	struct mapload *ml;
	int ret;

	ml = calloc(1, sizeof(*ml));
	if (!ml)
		return -ENOMEM;
	ml->tail = &ml->ready;
	pthread_mutex_init(&ml->lock, NULL);
	ret = nftmap_open(&ml->m, table, map);
	if (ret < 0)
		goto err_free;
	ret = -pthread_create(&ml->thread, NULL, run, ml);
	if (ret < 0)
		goto err_close;
	*mlp = ml;
	return 0;

err_close:
	nftmap_close(ml->m);
err_free:
	pthread_mutex_destroy(&ml->lock);
	free(ml);
	return ret;
}

static void free_blocks(struct block *b)
{
	struct block *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
}

int mapload_take(struct mapload *ml,
		 void (*cb)(const struct nftmap_elem *e, void *data),
		 void *data, uint64_t *total)
{
	struct block *b, *list;
	bool done;
	int err;
	size_t i;

	pthread_mutex_lock(&ml->lock);
	list = ml->ready;
	ml->ready = NULL;
	ml->tail = &ml->ready;
	done = ml->done;
	err = ml->err;
	*total = ml->read;
	pthread_mutex_unlock(&ml->lock);
	for (b = list; b; b = b->next)
		for (i = 0; i < b->n; i++)
			cb(&b->e[i], data);
	free_blocks(list);
	if (!done)
		return 1;
	return err < 0 ? err : 0;
}

void mapload_stop(struct mapload *ml)
{
	bool done;

	if (!ml)
		return;
	pthread_mutex_lock(&ml->lock);
	done = ml->done;
	pthread_mutex_unlock(&ml->lock);
	/* a read still running waits in the kernel's answers: a
	 * cancellation point */
	if (!done)
		pthread_cancel(ml->thread);
	pthread_join(ml->thread, NULL);
	nftmap_close(ml->m);
	free(ml->filling);
	free_blocks(ml->ready);
	pthread_mutex_destroy(&ml->lock);
	free(ml);
}
