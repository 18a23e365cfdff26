/*
 * threads.c - one loop per thread: N threads, each running its own loop,
 * typically each with a SO_REUSEPORT listener on the same address.
 */
#include "internal.h"

#include <stdlib.h>

struct sk_threads {
	int n;
	sk_thread_setup_fn setup;
	void *ud;
	struct slot {
		struct sk_threads *t;
		int index;
		pthread_t tid;
		bool started;
		sk_loop *loop;
		int err;
	} *slots;
};

static void *thread_main(void *arg)
{
	struct slot *s = arg;
	int r = s->t->setup(s->loop, s->index, s->t->ud);
	if (r < 0)
		s->err = r;
	else
		s->err = sk_loop_run(s->loop);
	return NULL;
}

int sk_threads_start(int n, sk_thread_setup_fn setup, void *ud, sk_threads **out)
{
	if (n <= 0 || n > 1024 || !setup)
		return SK_EINVAL;
	sk_threads *t = calloc(1, sizeof *t);
	if (!t)
		return SK_ENOMEM;
	t->slots = calloc((size_t)n, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return SK_ENOMEM;
	}
	t->n = n;
	t->setup = setup;
	t->ud = ud;
	int r = 0;
	/* Loops are made here so sk_threads_stop() can reach every one. */
	for (int i = 0; i < n && r == 0; i++) {
		t->slots[i].t = t;
		t->slots[i].index = i;
		r = sk_loop_new(&t->slots[i].loop, NULL);
	}
	for (int i = 0; i < n && r == 0; i++) {
		r = -pthread_create(&t->slots[i].tid, NULL, thread_main, &t->slots[i]);
		t->slots[i].started = r == 0;
	}
	if (r < 0) {
		sk_threads_stop(t);
		(void)sk_threads_join(t);
		return r;
	}
	*out = t;
	return 0;
}

sk_loop *sk_threads_loop(sk_threads *t, int index)
{
	return index >= 0 && index < t->n ? t->slots[index].loop : NULL;
}

void sk_threads_stop(sk_threads *t)
{
	for (int i = 0; i < t->n; i++)
		if (t->slots[i].loop)
			sk_loop_stop(t->slots[i].loop);
}

int sk_threads_join(sk_threads *t)
{
	int err = 0;
	for (int i = 0; i < t->n; i++) {
		struct slot *s = &t->slots[i];
		if (s->started)
			pthread_join(s->tid, NULL);
		if (s->err < 0 && err == 0)
			err = s->err;
		sk_loop_free(s->loop);
	}
	free(t->slots);
	free(t);
	return err;
}
