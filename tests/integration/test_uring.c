/*
 * test_uring.c - the situations a completion backend finds hard, run on
 * every backend (SOCKIT_BACKEND): many connections sharing the receive
 * buffers, bursts that outrun them, sends the kernel cannot finish at once
 * while more is written, close and abort with operations in flight
 * (the peer must see FIN/RST at once), pausing reading, fd watchers whose
 * fd number is reused, and freeing a loop with I/O in flight.
 *
 * The far side is often a plain blocking-free socket driven by the test,
 * so what the peer sees is checked without the library in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

/* ---- helpers ------------------------------------------------------------------ */

static uint8_t pattern(size_t i, unsigned salt)
{
	return (uint8_t)(i * 131u + i / 509u + salt * 7u);
}

/* A nonblocking raw TCP client connected to port (the connect completes
 * in the background; loopback accepts it into the backlog at once). */
static int raw_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	ASSERT(r == 0 || errno == EINPROGRESS);
	return fd;
}

/* A peer that reads nothing keeps at most this much in its window (a
 * fixed buffer turns off autotuning; much smaller would leave a window
 * below one loopback MSS and stall in zero-window probes). */
static void small_rcvbuf(int fd)
{
	int n = 256 * 1024;
	ASSERT_OK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n));
}

/* More than the kernel buffers of one connection hold. */
static uint8_t big[16u << 20];

/* Wait (without running any loop) until fd is readable; 1 if so. */
static int readable_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

/* ---- an echo server that can also hold, close or abort -------------------- */

struct server {
	sk_listener *l;
	sk_conn *last;
	int accepted, closed, reads;
	int last_err;
	bool no_read;          /* read_stop at accept */
	bool close_on_read;    /* graceful close at the first input */
	bool sink;             /* consume without echoing */
	size_t received;
};

static void srv_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct server *s = ud;
	s->reads++;
	s->received += in->len;
	if (s->close_on_read) {
		sk_buf_consume(in, in->len);
		sk_conn_close(c);
		return;
	}
	if (s->sink) {
		sk_buf_consume(in, in->len);
		return;
	}
	ASSERT_OK(sk_conn_write_buf(c, in));
	if (sk_conn_congested(c))
		sk_conn_read_stop(c);
}
static void srv_drain(sk_conn *c, void *ud) { sk_conn_read_start(c); }
static void srv_close(sk_conn *c, int err, void *ud)
{
	struct server *s = ud;
	s->closed++;
	s->last_err = err;
	if (s->last == c)
		s->last = NULL;
}
static const struct sk_conn_cbs srv_cbs = {
	.on_read = srv_read, .on_drain = srv_drain, .on_close = srv_close};

static void srv_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct server *s = ud;
	s->accepted++;
	s->last = c;
	sk_conn_set_cbs(c, &srv_cbs, s);
	if (s->no_read)
		sk_conn_read_stop(c);
}

static uint16_t server_start(sk_loop *loop, struct server *s)
{
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, srv_accept, s, &s->l));
	return sk_listener_port(s->l);
}

static void run_until_accepted(sk_loop *loop, struct server *s, int n)
{
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 5000;
	while (s->accepted < n) {
		ASSERT(sk_loop_now(loop) < end);
		ASSERT_OK(sk_loop_run_once(loop, 20));
		sk_loop_update_time(loop);
	}
}

/* ---- many library clients, ping-pong of varied sizes -------------------------- */

enum { PP_CONNS = 400, PP_ROUNDS = 8 };

struct ppcli {
	unsigned idx, round;
	size_t want, got;
	int *done;
	uint8_t msg[4096];
};

static void pp_send(sk_conn *c, struct ppcli *k)
{
	k->want = 1 + (k->idx * 977u + k->round * 131u) % sizeof k->msg;
	for (size_t i = 0; i < k->want; i++)
		k->msg[i] = pattern(i, k->idx + k->round);
	k->got = 0;
	ASSERT_OK(sk_conn_write(c, k->msg, k->want));
}
static void pp_open(sk_conn *c, void *ud) { pp_send(c, ud); }
static void pp_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct ppcli *k = ud;
	ASSERT(k->got + in->len <= k->want);
	ASSERT_MEMEQ(sk_buf_data(in), k->msg + k->got, in->len);
	k->got += in->len;
	sk_buf_consume(in, in->len);
	if (k->got < k->want)
		return;
	if (++k->round == PP_ROUNDS) {
		sk_conn_close(c);
		return;
	}
	pp_send(c, k);
}
static void pp_close(sk_conn *c, int err, void *ud)
{
	struct ppcli *k = ud;
	ASSERT_EQ(err, 0);
	ASSERT_EQ(k->round, PP_ROUNDS);
	(*k->done)++;
}
static const struct sk_conn_cbs pp_cbs = {
	.on_open = pp_open, .on_read = pp_read, .on_close = pp_close};

TEST(many_conns_pingpong)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	struct ppcli *k = calloc(PP_CONNS, sizeof *k);
	ASSERT(k);
	int done = 0;
	for (unsigned i = 0; i < PP_CONNS; i++) {
		sk_conn *c;
		k[i].idx = i;
		k[i].done = &done;
		ASSERT_OK(sk_connect(loop, addr, NULL, &pp_cbs, &k[i], &c));
	}
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 20000;
	while (done < PP_CONNS || s.closed < PP_CONNS) {
		ASSERT(sk_loop_now(loop) < end);
		ASSERT_OK(sk_loop_run_once(loop, 50));
	}
	ASSERT_EQ(s.accepted, PP_CONNS);
	sk_listener_close(s.l);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	ASSERT_EQ(sk_loop_alive(loop), 0);
	free(k);
	sk_loop_free(loop);
}

/* ---- a burst from many raw peers at once ---------------------------------------
 * Every peer writes its whole payload before the server loop runs, so the
 * first wait finds far more bytes than any receive buffer pool holds. */

enum { BURST_PEERS = 32, BURST_BYTES = 192 * 1024 };

struct peer {
	int fd;
	size_t woff, roff;
	unsigned salt;
};

static void peer_pump(struct peer *p, size_t total)
{
	uint8_t buf[16384];
	while (p->woff < total) {
		size_t n = total - p->woff < sizeof buf ? total - p->woff : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(p->woff + i, p->salt);
		ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0) {
			ASSERT(errno == EAGAIN || errno == ENOTCONN);
			break;
		}
		p->woff += (size_t)w;
	}
	for (;;) {
		ssize_t r = recv(p->fd, buf, sizeof buf, 0);
		if (r < 0) {
			ASSERT(errno == EAGAIN || errno == ENOTCONN);
			break;
		}
		ASSERT(r > 0);
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(p->roff + (size_t)i, p->salt))
				FAIL("peer %u: byte %zu differs", p->salt,
				     p->roff + (size_t)i);
		p->roff += (size_t)r;
	}
}

TEST(burst_outruns_buffers)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	struct peer p[BURST_PEERS];
	for (unsigned i = 0; i < BURST_PEERS; i++) {
		p[i] = (struct peer){.fd = raw_connect(port), .salt = i + 1};
	}
	run_until_accepted(loop, &s, BURST_PEERS);
	for (unsigned i = 0; i < BURST_PEERS; i++)
		peer_pump(&p[i], BURST_BYTES);
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 20000;
	for (;;) {
		size_t left = 0;
		for (unsigned i = 0; i < BURST_PEERS; i++) {
			peer_pump(&p[i], BURST_BYTES);
			left += BURST_BYTES - p[i].roff;
		}
		if (left == 0)
			break;
		ASSERT(sk_loop_now(loop) < end);
		ASSERT_OK(sk_loop_run_once(loop, 5));
	}
	ASSERT_EQ(s.received, (size_t)BURST_PEERS * BURST_BYTES);
	for (unsigned i = 0; i < BURST_PEERS; i++)
		close(p[i].fd);
	test_run_until(loop, &s.closed, 5000);
	while (s.closed < BURST_PEERS)
		ASSERT_OK(sk_loop_run_once(loop, 20));
	ASSERT_EQ(s.last_err, SK_EOF);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- read_stop/read_start under a fast stream, with a small max_in -------------
 * A completion backend has read ahead when read_stop reaches it; that
 * input must be kept (not count as the program hoarding input). */

TEST(backpressure_cycles_small_max_in)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct sk_listen_opts o = {.conn = {.max_in = 16 * 1024,
					    .high_water = 64 * 1024}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &o, srv_accept, &s, &s.l));
	struct peer p = {.fd = raw_connect(sk_listener_port(s.l)), .salt = 5};
	run_until_accepted(loop, &s, 1);
	const size_t total = 48u << 20;
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 30000;
	while (p.roff < total) {
		ASSERT(sk_loop_now(loop) < end);
		peer_pump(&p, total);
		ASSERT_OK(sk_loop_run_once(loop, 1));
		ASSERT_EQ(s.closed, 0);
	}
	close(p.fd);
	test_run_until(loop, &s.closed, 5000);
	ASSERT_EQ(s.last_err, SK_EOF);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- many small writes per iteration keep their order ------------------------- */

static void bytewise_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct server *s = ud;
	s->received += in->len;
	/* one write per byte, some of them while a send is in flight */
	for (size_t i = 0; i < in->len; i++)
		ASSERT_OK(sk_conn_write(c, sk_buf_data(in) + i, 1));
	sk_buf_consume(in, in->len);
}
static const struct sk_conn_cbs bytewise_cbs = {.on_read = bytewise_read,
						.on_close = srv_close};

TEST(small_writes_keep_order)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	struct peer p = {.fd = raw_connect(port), .salt = 3};
	run_until_accepted(loop, &s, 1);
	sk_conn_set_cbs(s.last, &bytewise_cbs, &s);
	const size_t total = 512 * 1024;
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 20000;
	while (p.roff < total) {
		ASSERT(sk_loop_now(loop) < end);
		peer_pump(&p, total);
		ASSERT_OK(sk_loop_run_once(loop, 1));
	}
	ASSERT_EQ(s.received, total);
	close(p.fd);
	test_run_until(loop, &s.closed, 5000);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- a peer that does not read: sends stay in flight while more is written ---- */

struct pusher {
	size_t total, queued;
	int drains, closed, err;
};

static void push_more(sk_conn *c, struct pusher *ps)
{
	uint8_t buf[8192];
	while (ps->queued < ps->total && !sk_conn_congested(c)) {
		size_t n = ps->total - ps->queued;
		/* odd sizes, some below the direct-send threshold */
		size_t m = 1 + (ps->queued * 7 + 3) % sizeof buf;
		if (n > m)
			n = m;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(ps->queued + i, 9);
		ASSERT_OK(sk_conn_write(c, buf, n));
		ps->queued += n;
	}
}
static void push_drain(sk_conn *c, void *ud)
{
	struct pusher *ps = ud;
	ps->drains++;
	push_more(c, ps);
}
static void push_close(sk_conn *c, int err, void *ud)
{
	struct pusher *ps = ud;
	ps->closed++;
	ps->err = err;
}
static const struct sk_conn_cbs push_cbs = {.on_drain = push_drain,
					    .on_close = push_close};

TEST(slow_reader_sends_in_flight)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	int fd = raw_connect(port);
	small_rcvbuf(fd);
	run_until_accepted(loop, &s, 1);
	sk_conn *c = s.last;
	struct pusher ps = {.total = 12u << 20};
	sk_conn_set_cbs(c, &push_cbs, &ps);
	sk_conn_set_limits(c, 0, 0, 256 * 1024, 64 * 1024);
	push_more(c, &ps);
	ASSERT(sk_conn_congested(c));
	/* Nobody reads: the queue stays put, the loop stays responsive. */
	for (int i = 0; i < 5; i++)
		ASSERT_OK(sk_loop_run_once(loop, 10));
	ASSERT(sk_conn_out_len(c) > 0);
	/* Now read it all, in order, while the server refills. */
	uint8_t buf[65536];
	size_t got = 0;
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 20000;
	while (got < ps.total) {
		ASSERT(sk_loop_now(loop) < end);
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0) {
			ASSERT_EQ(errno, EAGAIN);
			ASSERT_OK(sk_loop_run_once(loop, 1));
			continue;
		}
		ASSERT(r > 0);
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(got + (size_t)i, 9))
				FAIL("byte %zu differs", got + (size_t)i);
		got += (size_t)r;
		ASSERT_OK(sk_loop_run_once(loop, 0));
	}
	ASSERT(ps.drains > 0);
	ASSERT_EQ(sk_conn_out_len(c), 0);
	close(fd);
	test_run_until(loop, &ps.closed, 5000);
	ASSERT_EQ(ps.err, SK_EOF);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- ending a connection with operations in flight ------------------------------ */

TEST(abort_with_send_in_flight)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	int fd = raw_connect(port);
	small_rcvbuf(fd);
	run_until_accepted(loop, &s, 1);
	sk_conn *c = s.last;
	ASSERT_OK(sk_conn_write(c, big, sizeof big));
	for (int i = 0; i < 3; i++)
		ASSERT_OK(sk_loop_run_once(loop, 5));
	ASSERT(sk_conn_out_len(c) > 0); /* the peer reads nothing */
	sk_conn_abort(c);
	/* The peer sees the reset without the loop running again. */
	ASSERT(readable_within(fd, 2000));
	uint8_t buf[65536];
	ssize_t r;
	do
		r = recv(fd, buf, sizeof buf, 0);
	while (r > 0);
	ASSERT(r < 0);
	ASSERT_EQ(errno, ECONNRESET);
	test_run_until(loop, &s.closed, 5000);
	ASSERT_EQ(s.last_err, 0);
	close(fd);
	sk_listener_close(s.l);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	ASSERT_EQ(sk_loop_alive(loop), 0);
	sk_loop_free(loop);
}

TEST(close_while_receiving_sends_fin_now)
{
	sk_loop *loop = test_loop();
	struct server s = {.close_on_read = true};
	uint16_t port = server_start(loop, &s);
	int fd = raw_connect(port);
	run_until_accepted(loop, &s, 1);
	ASSERT_EQ(send(fd, "x", 1, MSG_NOSIGNAL), 1);
	test_run_until(loop, &s.reads, 5000);
	/* sk_conn_close ran inside on_read (a recv was armed): the FIN must
	 * be out before the loop runs again. */
	ASSERT(readable_within(fd, 2000));
	char b;
	ASSERT_EQ(recv(fd, &b, 1, 0), 0);
	test_run_until(loop, &s.closed, 5000);
	ASSERT_EQ(s.last_err, 0);
	close(fd);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

TEST(listener_close_stops_accepting_now)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	ASSERT_OK(sk_loop_run_once(loop, 0)); /* the accept is armed */
	sk_listener_close(s.l);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0);
	ASSERT_EQ(errno, ECONNREFUSED);
	close(fd);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	ASSERT_EQ(s.accepted, 0);
	sk_loop_free(loop);
}

/* ---- pausing input --------------------------------------------------------------- */

TEST(read_stop_holds_input_until_start)
{
	sk_loop *loop = test_loop();
	struct server s = {.no_read = true, .sink = true};
	uint16_t port = server_start(loop, &s);
	int fd = raw_connect(port);
	run_until_accepted(loop, &s, 1);
	ASSERT_EQ(send(fd, "hello", 5, MSG_NOSIGNAL), 5);
	for (int i = 0; i < 10; i++)
		ASSERT_OK(sk_loop_run_once(loop, 5));
	ASSERT_EQ(s.reads, 0);
	/* stop again while stopped, start, stop, start: input arrives once */
	sk_conn_read_stop(s.last);
	sk_conn_read_start(s.last);
	sk_conn_read_stop(s.last);
	ASSERT_OK(sk_loop_run_once(loop, 5));
	ASSERT_EQ(s.reads, 0);
	sk_conn_read_start(s.last);
	test_run_until(loop, &s.reads, 5000);
	ASSERT_EQ(s.received, 5);
	ASSERT_EQ(send(fd, "world!", 6, MSG_NOSIGNAL), 6);
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 5000;
	while (s.received < 11) {
		ASSERT(sk_loop_now(loop) < end);
		ASSERT_OK(sk_loop_run_once(loop, 20));
	}
	close(fd);
	test_run_until(loop, &s.closed, 5000);
	ASSERT_EQ(s.last_err, SK_EOF);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- fd watchers: stale events after free, fd numbers reused -------------------- */

struct wctx {
	int calls;
	unsigned last;
};
static void w_cb(sk_io *io, unsigned revents, void *ud)
{
	struct wctx *w = ud;
	w->calls++;
	w->last = revents;
}
static void w_dead_cb(sk_io *io, unsigned revents, void *ud)
{
	FAIL("callback of a freed watcher (revents %u)", revents);
}

TEST(watcher_fd_reuse_and_toggle)
{
	sk_loop *loop = test_loop();
	int p[2];
	ASSERT_OK(pipe2(p, O_NONBLOCK | O_CLOEXEC));
	sk_io *a;
	ASSERT_OK(sk_io_new(loop, p[0], SK_READ, w_dead_cb, NULL, &a));
	ASSERT_OK(sk_loop_run_once(loop, 0)); /* armed, nothing to read */
	ASSERT_EQ(write(p[1], "z", 1), 1);     /* ready now... */
	sk_io_free(a);                         /* ...but freed first */
	close(p[0]);
	close(p[1]);
	int q[2];
	ASSERT_OK(pipe2(q, O_NONBLOCK | O_CLOEXEC)); /* likely the same numbers */
	struct wctx w = {0};
	sk_io *b;
	ASSERT_OK(sk_io_new(loop, q[0], SK_READ, w_cb, &w, &b));
	for (int i = 0; i < 5; i++)
		ASSERT_OK(sk_loop_run_once(loop, 2));
	ASSERT_EQ(w.calls, 0);
	ASSERT_EQ(write(q[1], "y", 1), 1);
	test_run_until(loop, &w.calls, 2000);
	ASSERT(w.last & SK_READ);
	/* level-triggered: unread data reports again */
	int before = w.calls;
	ASSERT_OK(sk_loop_run_once(loop, 100));
	ASSERT(w.calls > before);
	/* change interest back and forth; only what is wanted is reported */
	ASSERT_OK(sk_io_set(b, 0));
	before = w.calls;
	for (int i = 0; i < 3; i++)
		ASSERT_OK(sk_loop_run_once(loop, 2));
	ASSERT_EQ(w.calls, before);
	ASSERT_OK(sk_io_set(b, SK_WRITE));
	ASSERT_OK(sk_io_set(b, SK_READ));
	ASSERT_OK(sk_io_set(b, SK_READ));
	for (int i = 0; i < 100 && w.calls == before; i++)
		ASSERT_OK(sk_loop_run_once(loop, 20));
	ASSERT(w.calls > before);
	ASSERT(w.last & SK_READ);
	/* the write end: a watcher for writability on it */
	struct wctx ww = {0};
	sk_io *c;
	ASSERT_OK(sk_io_new(loop, q[1], SK_WRITE, w_cb, &ww, &c));
	test_run_until(loop, &ww.calls, 2000);
	ASSERT(ww.last & SK_WRITE);
	sk_io_free(c);
	sk_io_free(b);
	close(q[0]);
	close(q[1]);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	sk_loop_free(loop);
}

/* ---- freeing a loop with everything in flight ------------------------------------ */

TEST(loop_free_with_io_in_flight)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	uint16_t port = server_start(loop, &s);
	int fds[8];
	for (int i = 0; i < 8; i++) {
		fds[i] = raw_connect(port);
		small_rcvbuf(fds[i]);
	}
	run_until_accepted(loop, &s, 8);
	ASSERT_OK(sk_conn_write(s.last, big, sizeof big)); /* stuck in flight */
	ASSERT_OK(sk_loop_run_once(loop, 5));
	sk_loop_free(loop); /* no callbacks, no leaks (ASan), no crash */
	for (int i = 0; i < 8; i++) {
		/* every connection ends: EOF or reset */
		ASSERT(readable_within(fds[i], 5000));
		close(fds[i]);
	}
}

TEST_MAIN(TEST_ENTRY(many_conns_pingpong), TEST_ENTRY(burst_outruns_buffers),
	  TEST_ENTRY(backpressure_cycles_small_max_in),
	  TEST_ENTRY(small_writes_keep_order),
	  TEST_ENTRY(slow_reader_sends_in_flight),
	  TEST_ENTRY(abort_with_send_in_flight),
	  TEST_ENTRY(close_while_receiving_sends_fin_now),
	  TEST_ENTRY(listener_close_stops_accepting_now),
	  TEST_ENTRY(read_stop_holds_input_until_start),
	  TEST_ENTRY(watcher_fd_reuse_and_toggle),
	  TEST_ENTRY(loop_free_with_io_in_flight))
