/*
 * tests/integration/test_conn_eof.c - the end of a connection's input and
 * the end of a loop, on every backend:
 *  - on_eof never comes while the program has stopped reading; it follows
 *    the bytes still held once reading resumes (a relay that paused for
 *    backpressure must not shut its output before forwarding them);
 *  - sk_loop_run() returns when a deferred on_close ends the last handle.
 */
#include <sys/socket.h>

#include "test.h"

struct st {
	sk_loop *loop;
	sk_timer *t;
	char got[64];
	size_t n;
	int reads, eofs, closes;
	int eof_while_stopped;
	int stopped;
	int eof_after_bytes; /* bytes seen when on_eof came */
	int done;
};

static void t_resume(sk_timer *t, void *ud)
{
	sk_conn *c = ud;
	struct st *s = sk_conn_data(c);
	s->stopped = 0;
	sk_conn_read_start(c);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct st *s = ud;
	s->reads++;
	if (s->reads == 1) {
		/* Pause without taking anything, as a congested relay does. */
		s->stopped = 1;
		sk_conn_read_stop(c);
		sk_timer_start(s->t, 100, 0);
		return;
	}
	size_t k = in->len < sizeof s->got - s->n ? in->len : sizeof s->got - s->n;
	memcpy(s->got + s->n, sk_buf_data(in), k);
	s->n += k;
	sk_buf_consume(in, in->len);
}

static void on_eof(sk_conn *c, void *ud)
{
	struct st *s = ud;
	s->eofs++;
	if (s->stopped)
		s->eof_while_stopped = 1;
	s->eof_after_bytes = (int)s->n;
	sk_conn_close(c);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct st *s = ud;
	s->closes++;
	s->done = 1;
}

static const struct sk_conn_cbs cbs = {
	.on_read = on_read, .on_eof = on_eof, .on_close = on_close};

TEST(eof_waits_for_read_start)
{
	struct st s = {0};
	int sv[2];
	sk_conn *c;
	s.loop = test_loop();
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_OK(sk_conn_open_fd(s.loop, sv[0], 0, NULL, &cbs, &s, &c));
	ASSERT_OK(sk_timer_new(s.loop, t_resume, c, &s.t));
	/* Bytes and the end arrive together, before the loop looks. */
	ASSERT_EQ(write(sv[1], "hello", 5), 5);
	ASSERT_EQ(shutdown(sv[1], SHUT_WR), 0);
	test_run_until(s.loop, &s.done, 5000);
	ASSERT_EQ(s.eof_while_stopped, 0);
	ASSERT_EQ(s.eofs, 1);
	ASSERT_EQ(s.n, 5);
	ASSERT_EQ(s.eof_after_bytes, 5);
	ASSERT_MEMEQ(s.got, "hello", 5);
	ASSERT_EQ(s.closes, 1);
	sk_timer_free(s.t);
	sk_loop_free(s.loop);
	close(sv[1]);
}

/* The end arrives, with more bytes, while reading is stopped: an
 * edge-triggered backend reports it once, to a connection that is not
 * reading.  After read_start the bytes and then the end must come. */
struct late {
	sk_loop *loop;
	sk_conn *c;
	int peer;
	sk_timer *t;
	int step;
	char got[16];
	size_t n;
	int eof, done;
};

static void late_step(sk_timer *t, void *ud)
{
	struct late *l = ud;
	if (l->step == 1) {
		/* Stopped: now bytes and FIN arrive; give the backend an
		 * iteration or two to report them. */
		ASSERT_EQ(write(l->peer, "bcd", 3), 3);
		ASSERT_EQ(shutdown(l->peer, SHUT_WR), 0);
		l->step = 2;
		sk_timer_start(t, 100, 0);
	} else {
		l->step = 3;
		sk_conn_read_start(l->c);
	}
}

static void late_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct late *l = ud;
	size_t k = in->len < sizeof l->got - l->n ? in->len : sizeof l->got - l->n;
	memcpy(l->got + l->n, sk_buf_data(in), k);
	l->n += k;
	sk_buf_consume(in, in->len);
	if (l->step == 0) {
		l->step = 1;
		sk_conn_read_stop(c);
		sk_timer_start(l->t, 50, 0);
	}
}

static void late_eof(sk_conn *c, void *ud)
{
	struct late *l = ud;
	ASSERT_EQ(l->step, 3);
	l->eof = 1;
	sk_conn_close(c);
}

static void late_close(sk_conn *c, int err, void *ud)
{
	((struct late *)ud)->done = 1;
}

TEST(eof_that_came_while_stopped)
{
	static const struct sk_conn_cbs lcbs = {
		.on_read = late_read, .on_eof = late_eof, .on_close = late_close};
	struct late l = {0};
	int sv[2];
	l.loop = test_loop();
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	l.peer = sv[1];
	ASSERT_OK(sk_timer_new(l.loop, late_step, &l, &l.t));
	ASSERT_OK(sk_conn_open_fd(l.loop, sv[0], 0, NULL, &lcbs, &l, &l.c));
	ASSERT_EQ(write(sv[1], "a", 1), 1);
	test_run_until(l.loop, &l.done, 5000);
	ASSERT_EQ(l.eof, 1);
	ASSERT_EQ(l.n, 4);
	ASSERT_MEMEQ(l.got, "abcd", 4);
	sk_timer_free(l.t);
	sk_loop_free(l.loop);
	close(sv[1]);
}

static void count_close(sk_conn *c, int err, void *ud)
{
	int *n = ud;
	*n += err == SK_EOF ? 1 : 100;
}

static const struct sk_conn_cbs quiet = {.on_close = count_close};

struct opener {
	sk_loop *loop;
	int fd;         /* a pipe at end of file */
	int closes;
	sk_conn *c;
};

/* Runs while the backend dispatches: the connection's first read, its
 * EOF and its close then happen in the pending work that ends this
 * iteration, and on_close at the start of the next one, after which
 * nothing is alive and the loop must not wait for ever. */
static void open_now(sk_io *io, unsigned revents, void *ud)
{
	struct opener *o = ud;
	sk_io_free(io);
	/* No on_eof: the library closes it with SK_EOF. */
	ASSERT_OK(sk_conn_open_fd(o->loop, o->fd, 0, NULL, &quiet, &o->closes,
				  &o->c));
}

TEST(run_returns_after_deferred_close)
{
	struct opener o = {0};
	int eof[2], ready[2];
	sk_io *io;
	o.loop = test_loop();
	ASSERT_EQ(pipe(eof), 0);
	ASSERT_EQ(pipe(ready), 0);
	close(eof[1]);
	o.fd = eof[0];
	ASSERT_EQ(write(ready[1], "x", 1), 1);
	ASSERT_OK(sk_io_new(o.loop, ready[0], SK_READ, open_now, &o, &io));
	alarm(5); /* a hang here is the bug */
	ASSERT_OK(sk_loop_run(o.loop));
	alarm(0);
	ASSERT_EQ(o.closes, 1);
	ASSERT_EQ(sk_loop_alive(o.loop), 0);
	sk_loop_free(o.loop);
	close(ready[0]);
	close(ready[1]);
}

TEST_MAIN(TEST_ENTRY(eof_waits_for_read_start),
	  TEST_ENTRY(eof_that_came_while_stopped),
	  TEST_ENTRY(run_returns_after_deferred_close))
