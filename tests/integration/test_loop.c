/*
 * test_loop.c - the loop itself on the backend named by SOCKIT_BACKEND:
 * timer order, repetition, cancellation and freeing from callbacks; posts
 * from other threads; signals; loop lifetime; and the one-loop-per-thread
 * server helper with SO_REUSEPORT listeners.
 */
#include <pthread.h>
#include <signal.h>

#include "test.h"

struct fired {
	int order[64];
	int n;
};
struct tctx {
	struct fired *f;
	int id;
	sk_timer *t;
	int count, stop_after;
	sk_timer *victim;
};
static void record(sk_timer *t, void *ud)
{
	struct tctx *c = ud;
	c->f->order[c->f->n++] = c->id;
	c->count++;
	if (c->stop_after && c->count == c->stop_after)
		sk_timer_stop(t);
	if (c->victim) {
		sk_timer_free(c->victim); /* freeing another, due in this same round */
		c->victim = NULL;
	}
}

TEST(timers_fire_in_deadline_order)
{
	sk_loop *loop = test_loop();
	struct fired f = {0};
	struct tctx c[5];
	const unsigned after[5] = {50, 10, 30, 10, 0};
	for (int i = 0; i < 5; i++) {
		c[i] = (struct tctx){.f = &f, .id = i};
		ASSERT_OK(sk_timer_new(loop, record, &c[i], &c[i].t));
		sk_timer_start(c[i].t, after[i], 0);
	}
	ASSERT_OK(sk_loop_run(loop)); /* returns when no timer is left */
	ASSERT_EQ(f.n, 5);
	/* 0ms, then the two 10ms timers in start order, 30, 50 */
	const int want[5] = {4, 1, 3, 2, 0};
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(f.order[i], want[i]);
	for (int i = 0; i < 5; i++)
		sk_timer_free(c[i].t);
	sk_loop_free(loop);
}

TEST(timer_repeat_stop_and_free_in_callback)
{
	sk_loop *loop = test_loop();
	struct fired f = {0};
	struct tctx rep = {.f = &f, .id = 1, .stop_after = 5};
	ASSERT_OK(sk_timer_new(loop, record, &rep, &rep.t));
	sk_loop_update_time(loop);
	uint64_t t0 = sk_loop_now(loop);
	sk_timer_start(rep.t, 10, 10);
	ASSERT_OK(sk_loop_run(loop));
	ASSERT_EQ(rep.count, 5);
	ASSERT(sk_loop_now(loop) - t0 >= 50);
	ASSERT(!sk_timer_active(rep.t));

	/* a timer freed by another timer's callback in the same round never fires */
	struct tctx a = {.f = &f, .id = 2}, b = {.f = &f, .id = 3};
	ASSERT_OK(sk_timer_new(loop, record, &a, &a.t));
	ASSERT_OK(sk_timer_new(loop, record, &b, &b.t));
	a.victim = b.t;
	sk_timer_start(a.t, 5, 0);
	sk_timer_start(b.t, 5, 0);
	f.n = 0;
	ASSERT_OK(sk_loop_run(loop));
	ASSERT_EQ(f.n, 1);
	ASSERT_EQ(f.order[0], 2);
	ASSERT_EQ(b.count, 0);

	/* a stopped timer does not keep the loop alive or fire */
	sk_timer_start(a.t, 10000, 0);
	sk_timer_stop(a.t);
	ASSERT_EQ(sk_loop_alive(loop), 0);
	ASSERT_OK(sk_loop_run(loop));
	sk_timer_free(a.t);
	sk_timer_free(rep.t);
	sk_loop_free(loop);
}

struct ordctx {
	unsigned after;
	int *fired;
	unsigned *last;
};
static void ord_cb(sk_timer *t, void *ud)
{
	struct ordctx *o = ud;
	ASSERT(o->after >= *o->last); /* never before an earlier deadline */
	*o->last = o->after;
	(*o->fired)++;
}

TEST(timers_many_random_order)
{
	/* 20,000 timers with pseudo-random deadlines fire in deadline order */
	enum { N = 20000 };
	sk_loop *loop = test_loop();
	static sk_timer *ts[N];
	static struct ordctx oc[N];
	int fired = 0;
	unsigned last = 0, seed = 7;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		oc[i] = (struct ordctx){(seed >> 8) % 200, &fired, &last};
		ASSERT_OK(sk_timer_new(loop, ord_cb, &oc[i], &ts[i]));
		sk_timer_start(ts[i], oc[i].after, 0);
	}
	/* cancel every third */
	for (int i = 0; i < N; i += 3)
		sk_timer_stop(ts[i]);
	ASSERT_OK(sk_loop_run(loop));
	ASSERT_EQ(fired, N - (N + 2) / 3);
	for (int i = 0; i < N; i++)
		sk_timer_free(ts[i]);
	sk_loop_free(loop);
}

/* ---- posts ------------------------------------------------------------------- */

struct postctx {
	sk_loop *loop;
	_Atomic int got;
	int per_thread;
	pthread_t self;
	bool wrong_thread;
};
static void on_post(void *arg)
{
	struct postctx *p = arg;
	if (!pthread_equal(pthread_self(), p->self))
		p->wrong_thread = true;
	p->got++;
}
static void *poster(void *arg)
{
	struct postctx *p = arg;
	for (int i = 0; i < p->per_thread; i++)
		if (sk_loop_post(p->loop, on_post, p) < 0)
			abort();
	return NULL;
}

TEST(post_from_threads)
{
	sk_loop *loop = test_loop();
	struct postctx p = {.loop = loop, .per_thread = 5000, .self = pthread_self()};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, poster, &p);
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 10000;
	while (p.got < 20000 && sk_loop_now(loop) < end)
		ASSERT_OK(sk_loop_run_once(loop, 100));
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ASSERT_OK(sk_loop_run(loop)); /* runs whatever is left, then returns */
	ASSERT_EQ(p.got, 20000);
	ASSERT(!p.wrong_thread);
	sk_loop_free(loop);
}

static void *stopper(void *arg)
{
	usleep(50000);
	sk_loop_stop(arg);
	return NULL;
}
static void noop_timer(sk_timer *t, void *ud) {}

TEST(stop_from_another_thread)
{
	sk_loop *loop = test_loop();
	sk_timer *t;
	ASSERT_OK(sk_timer_new(loop, noop_timer, NULL, &t));
	sk_timer_start(t, 60000, 0); /* would keep it running for a minute */
	pthread_t th;
	pthread_create(&th, NULL, stopper, loop);
	sk_loop_update_time(loop);
	uint64_t t0 = sk_loop_now(loop);
	ASSERT_OK(sk_loop_run(loop));
	ASSERT(sk_loop_now(loop) - t0 < 5000);
	pthread_join(th, NULL);
	sk_timer_free(t);
	sk_loop_free(loop);
}

/* ---- signals ------------------------------------------------------------------- */

struct sigctx {
	int n, signum;
};
static void on_sig(sk_signal *s, int signum, void *ud)
{
	struct sigctx *c = ud;
	c->n++;
	c->signum = signum;
}

TEST(signal_delivered_on_loop)
{
	sk_loop *loop = test_loop();
	struct sigctx c = {0};
	sk_signal *s;
	ASSERT_OK(sk_signal_new(loop, SIGUSR1, on_sig, &c, &s));
	/* a second loop cannot take the same signal */
	sk_loop *other = test_loop();
	sk_signal *s2;
	ASSERT_EQ(sk_signal_new(other, SIGUSR1, on_sig, &c, &s2), SK_EBUSY);
	sk_loop_free(other);
	raise(SIGUSR1);
	int done = 0;
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 5000;
	while (c.n == 0 && sk_loop_now(loop) < end)
		done += sk_loop_run_once(loop, 100);
	ASSERT_EQ(c.n, 1);
	ASSERT_EQ(c.signum, SIGUSR1);
	sk_signal_free(s);
	/* after free the old disposition is back: ignore it to check safely */
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	ASSERT_EQ(c.n, 1);
	sk_loop_free(loop);
	(void)done;
}

/* ---- threads with reuseport listeners --------------------------------------------- */

struct tsrv {
	_Atomic int accepted[4];
	uint16_t port;
	_Atomic int ready;
};
static void ts_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	ASSERT_OK(sk_conn_write_buf(c, in));
}
static const struct sk_conn_cbs ts_cbs = {.on_read = ts_read};
struct tslot {
	struct tsrv *s;
	int idx;
};
static struct tslot slots[4];
static void ts_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct tslot *sl = ud;
	sl->s->accepted[sl->idx]++;
	sk_conn_set_cbs(c, &ts_cbs, NULL);
}
static int ts_setup(sk_loop *loop, int idx, void *ud)
{
	struct tsrv *s = ud;
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s->port);
	struct sk_listen_opts o = {.reuseport = 1};
	sk_listener *l;
	slots[idx] = (struct tslot){s, idx};
	int r = sk_listen(loop, addr, &o, ts_accept, &slots[idx], &l);
	if (r == 0)
		s->ready++;
	return r;
}

struct tcli {
	int done, closed;
};
static void tc_open(sk_conn *c, void *ud) { ASSERT_OK(sk_conn_write(c, "ping", 4)); }
static void tc_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	if (in->len < 4)
		return;
	ASSERT_MEMEQ(sk_buf_data(in), "ping", 4);
	sk_buf_consume(in, 4);
	((struct tcli *)ud)->done++;
	sk_conn_close(c);
}
static void tc_close(sk_conn *c, int err, void *ud)
{
	ASSERT_EQ(err, 0);
	((struct tcli *)ud)->closed++;
}
static const struct sk_conn_cbs tc_cbs = {.on_open = tc_open, .on_read = tc_read,
					  .on_close = tc_close};

TEST(threads_reuseport_server)
{
	/* pick a free port, then let two threads listen on it */
	sk_loop *loop = test_loop();
	sk_listener *probe;
	struct tsrv s = {0};
	struct sk_listen_opts o = {.reuseport = 1};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &o, ts_accept, NULL, &probe));
	s.port = sk_listener_port(probe);
	sk_listener_close(probe);
	sk_threads *th;
	ASSERT_OK(sk_threads_start(2, ts_setup, &s, &th));
	for (int i = 0; i < 500 && s.ready < 2; i++)
		usleep(10000);
	ASSERT_EQ(s.ready, 2);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s.port);
	struct tcli k = {0};
	enum { N = 200 };
	for (int i = 0; i < N; i++) {
		sk_conn *c;
		ASSERT_OK(sk_connect(loop, addr, NULL, &tc_cbs, &k, &c));
	}
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 20000;
	while (k.closed < N && sk_loop_now(loop) < end)
		ASSERT_OK(sk_loop_run_once(loop, 100));
	ASSERT_EQ(k.done, N);
	sk_threads_stop(th);
	ASSERT_OK(sk_threads_join(th));
	ASSERT_EQ(s.accepted[0] + s.accepted[1], N);
	/* the kernel spread the connections over both threads */
	ASSERT(s.accepted[0] > 0 && s.accepted[1] > 0);
	sk_loop_free(loop);
}

struct pipectx {
	int calls;
	char got[8];
};
static void pipe_cb(sk_io *io, unsigned revents, void *ud)
{
	struct pipectx *c = ud;
	ASSERT(revents & SK_READ);
	/* read one byte per call: level triggering must call again */
	ASSERT_EQ(read(sk_io_fd(io), &c->got[c->calls], 1), 1);
	if (++c->calls == 3)
		ASSERT_OK(sk_io_set(io, 0)); /* stops watching: the loop may end */
}

TEST(io_watcher_level_triggered)
{
	sk_loop *loop = test_loop();
	int p[2];
	ASSERT_OK(pipe(p));
	sk_io *io;
	ASSERT_EQ(sk_io_new(loop, p[0], SK_READ, NULL, NULL, &io), SK_EINVAL);
	ASSERT_EQ(write(p[1], "abcd", 4), 4);
	struct pipectx c = {0};
	ASSERT_OK(sk_io_new(loop, p[0], SK_READ, pipe_cb, &c, &io));
	ASSERT_EQ(sk_loop_alive(loop), 1);
	ASSERT_OK(sk_loop_run(loop)); /* ends once the watcher stops */
	ASSERT_EQ(c.calls, 3);
	ASSERT_MEMEQ(c.got, "abc", 3);
	ASSERT_EQ(sk_loop_alive(loop), 0);
	sk_io_free(io);
	close(p[0]);
	close(p[1]);
	sk_loop_free(loop);
}

TEST_MAIN(TEST_ENTRY(timers_fire_in_deadline_order),
	  TEST_ENTRY(timer_repeat_stop_and_free_in_callback),
	  TEST_ENTRY(timers_many_random_order), TEST_ENTRY(post_from_threads),
	  TEST_ENTRY(stop_from_another_thread), TEST_ENTRY(signal_delivered_on_loop),
	  TEST_ENTRY(threads_reuseport_server), TEST_ENTRY(io_watcher_level_triggered))
