/*
 * loop.c - the event loop: backend choice, iteration phases, pending work,
 * deferred frees and cross-thread posts.
 *
 * One iteration (sk_loop_run_once):
 *   timers due -> pending work -> backend wait (fd events) -> timers due ->
 *   pending work -> free the graveyard.
 * Pending work is what must not run inside the program's own calls:
 * on_close of a connection, a read retried after sk_conn_read_start, ...
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>


static const struct sk__backend *const backends[] = {
#ifdef SK_HAVE_URING
	&sk__backend_uring,
#endif
	&sk__backend_epoll,
	&sk__backend_poll,
};

uint64_t sk__mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sk_loop_update_time(sk_loop *loop) { loop->now = sk__mono_ms(); }
uint64_t sk_loop_now(const sk_loop *loop) { return loop->now; }
const char *sk_loop_backend(const sk_loop *loop) { return loop->be->name; }
void sk_loop_set_data(sk_loop *loop, void *data) { loop->data = data; }
void *sk_loop_data(const sk_loop *loop) { return loop->data; }
void sk__loop_ref(sk_loop *loop) { loop->alive++; }
void sk__loop_unref(sk_loop *loop) { loop->alive--; }

unsigned sk_loop_alive(const sk_loop *loop)
{
	return loop->alive + atomic_load(&loop->posts_pending);
}

/* ---- pending work and deferred frees ------------------------------------- */

void sk__pending_add(sk_loop *loop, struct sk__pending *p)
{
	if (sk__list_empty(&p->node))
		sk__list_add_tail(&loop->pending, &p->node);
}

void sk__pending_del(struct sk__pending *p) { sk__list_del(&p->node); }

static unsigned run_pending(sk_loop *loop)
{
	struct sk__list batch;
	unsigned n = 0;
	if (sk__list_empty(&loop->pending))
		return 0;
	/* Take the current list: work queued while it runs waits for the
	 * next round, so a callback that re-queues itself cannot spin here. */
	batch.next = loop->pending.next;
	batch.prev = loop->pending.prev;
	batch.next->prev = &batch;
	batch.prev->next = &batch;
	sk__list_init(&loop->pending);
	while (!sk__list_empty(&batch)) {
		struct sk__list *node = batch.next;
		struct sk__pending *p = SK__CONTAINER(node, struct sk__pending, node);
		sk__list_del(node);
		p->fn(p);
		n++;
	}
	return n;
}

void sk__defer_free(sk_loop *loop, void *p)
{
	if (loop->ngrave == loop->capgrave) {
		size_t cap = loop->capgrave ? loop->capgrave * 2 : 64;
		void **g = realloc(loop->graveyard, cap * sizeof *g);
		if (!g) {
			/* Out of memory: leak rather than free memory an event
			 * batch may still point at. */
			return;
		}
		loop->graveyard = g;
		loop->capgrave = cap;
	}
	loop->graveyard[loop->ngrave++] = p;
}

static void bury(sk_loop *loop)
{
	for (size_t i = 0; i < loop->ngrave; i++)
		free(loop->graveyard[i]);
	loop->ngrave = 0;
}

/* ---- cross-thread posts --------------------------------------------------- */

static void wake(sk_loop *loop)
{
	uint64_t one = 1;
	ssize_t r;
	do
		r = write(loop->wake_wfd, &one, sizeof one);
	while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, the loop is awake anyway. */
}

int sk_loop_post(sk_loop *loop, void (*fn)(void *), void *arg)
{
	struct sk__post *p = malloc(sizeof *p);
	if (!p)
		return SK_ENOMEM;
	p->next = NULL;
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&loop->post_mu);
	if (loop->post_tail)
		loop->post_tail->next = p;
	else
		loop->post_head = p;
	loop->post_tail = p;
	atomic_fetch_add(&loop->posts_pending, 1);
	pthread_mutex_unlock(&loop->post_mu);
	wake(loop);
	return 0;
}

void sk_loop_stop(sk_loop *loop)
{
	atomic_store(&loop->stop, 1);
	wake(loop);
}

static void wake_cb(sk_io *io, unsigned revents, void *ud)
{
	sk_loop *loop = ud;
	uint64_t v;
	while (read(loop->wake_rfd, &v, sizeof v) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&loop->post_mu);
	struct sk__post *p = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	pthread_mutex_unlock(&loop->post_mu);
	while (p) {
		struct sk__post *next = p->next;
		p->fn(p->arg);
		atomic_fetch_sub(&loop->posts_pending, 1);
		free(p);
		p = next;
	}
}

/* ---- life cycle ------------------------------------------------------------ */

static const struct sk__backend *find_backend(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

static int init_backend(sk_loop *loop, const char *name)
{
	if (!name || !*name)
		name = getenv("SOCKIT_BACKEND");
	if (name && *name) {
		loop->be = find_backend(name);
		if (!loop->be)
			return SK_EBACKEND;
		return loop->be->init(loop);
	}
	int r = SK_EBACKEND;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		loop->be = backends[i];
		r = loop->be->init(loop);
		if (r == 0)
			return 0;
	}
	return r;
}

int sk_loop_new(sk_loop **out, const char *backend)
{
	sk_loop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return SK_ENOMEM;
	loop->sigpipe_wake = UINT64_MAX; /* not looked at yet */
	sk__list_init(&loop->pending);
	sk__list_init(&loop->conns);
	sk__list_init(&loop->timers);
	sk__list_init(&loop->listeners);
	sk__list_init(&loop->dgrams);
	loop->wake_rfd = loop->wake_wfd = -1;
	loop->sig_rfd = loop->sig_wfd = -1;
	pthread_mutex_init(&loop->post_mu, NULL);
	loop->now = sk__mono_ms();
	int r = init_backend(loop, backend);
	if (r < 0) {
		pthread_mutex_destroy(&loop->post_mu);
		free(loop);
		return r == SK_ENOMEM ? r : SK_EBACKEND;
	}
	loop->wake_rfd = loop->wake_wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_rfd < 0) {
		r = sk__errno();
		goto fail;
	}
	r = sk_io_new(loop, loop->wake_rfd, SK_READ, wake_cb, loop, &loop->wake_io);
	if (r < 0)
		goto fail;
	loop->wake_io->flags |= SK__IO_NOREF;
	sk__loop_unref(loop); /* the wake watcher does not keep it alive */
	*out = loop;
	return 0;
fail:
	if (loop->wake_rfd >= 0)
		close(loop->wake_rfd);
	loop->be->fini(loop);
	pthread_mutex_destroy(&loop->post_mu);
	free(loop);
	return r;
}


void sk_loop_free(sk_loop *loop)
{
	if (!loop)
		return;
	sk__conns_free_all(loop);
	sk__listeners_free_all(loop);
	sk__dgrams_free_all(loop);
	if (loop->resolver_free)
		loop->resolver_free(loop);
	sk__signals_free(loop);
	sk__timers_free_all(loop);
	/* Run what close-time work is left (e.g. frees queued by the above). */
	run_pending(loop);
	if (loop->wake_io) {
		loop->wake_io->flags &= (uint8_t)~SK__IO_NOREF;
		sk__loop_ref(loop);
		sk_io_free(loop->wake_io);
	}
	if (loop->wake_rfd >= 0)
		close(loop->wake_rfd);
	struct sk__post *p = loop->post_head;
	while (p) {
		struct sk__post *next = p->next;
		free(p);
		p = next;
	}
	loop->be->fini(loop);
	bury(loop);
	free(loop->graveyard);
	free(loop->heap);
	free(loop->rbuf);
	pthread_mutex_destroy(&loop->post_mu);
	free(loop);
}

/* ---- running ----------------------------------------------------------------- */

int sk_loop_run_once(sk_loop *loop, int timeout_ms)
{
	unsigned n = 0;
	loop->running = true;
	sk_loop_update_time(loop);
	sk__timers_run(loop, &n);
	n += run_pending(loop);

	int t = timeout_ms;
	if (!sk__list_empty(&loop->pending) || atomic_load(&loop->stop))
		t = 0;
	/* The pending work just run may have ended the last handle (a
	 * deferred on_close): then nothing can wake an endless wait. */
	if (t < 0 && sk_loop_alive(loop) == 0)
		t = 0;
	if (t != 0) {
		int next = sk__timers_next(loop);
		if (next >= 0 && (t < 0 || next < t))
			t = next;
	}
	int r = loop->be->wait(loop, t);
	loop->wakes++;
	if (r < 0 && r != SK_EAGAIN) {
		loop->running = false;
		bury(loop);
		return r;
	}
	if (r > 0)
		n += (unsigned)r;
	sk_loop_update_time(loop);
	sk__timers_run(loop, &n);
	n += run_pending(loop);
	bury(loop);
	loop->running = false;
	return (int)n;
}

int sk_loop_run(sk_loop *loop)
{
	atomic_store(&loop->stop, 0);
	while (!atomic_load(&loop->stop) && sk_loop_alive(loop) > 0) {
		int r = sk_loop_run_once(loop, -1);
		if (r < 0)
			return r;
	}
	atomic_store(&loop->stop, 0);
	return 0;
}
