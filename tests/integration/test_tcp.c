/*
 * test_tcp.c - stream connections over loopback TCP and Unix sockets, on
 * the backend named by SOCKIT_BACKEND: echo integrity, many clients,
 * half-close both ways, resets, refused and timed-out connects,
 * backpressure and the buffer limits.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "internal.h"
#include <netinet/tcp.h>

/* White-box: the socket under a connection (tests only). */
static int sk_io_fd_of_conn_for_test(sk_conn *c) { return c->io.fd; }

/* ---- an echo server ------------------------------------------------------- */

struct server {
	sk_listener *l;
	int accepted, closed, last_err;
	int eofs;
	bool abort_on_read;   /* reset the connection at the first input */
	bool hold_input;      /* never consume: for the max_in limit */
	bool reply_on_eof;    /* half-close test: answer after the client's FIN */
	size_t received;
	char reply[64];
};

static void srv_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct server *s = ud;
	s->received += in->len;
	if (s->abort_on_read) {
		sk_conn_abort(c);
		return;
	}
	if (s->hold_input)
		return;
	if (s->reply_on_eof) {
		sk_buf_consume(in, in->len);
		return;
	}
	ASSERT_OK(sk_conn_write_buf(c, in));
	if (sk_conn_congested(c))
		sk_conn_read_stop(c);
}
static void srv_drain(sk_conn *c, void *ud) { sk_conn_read_start(c); }
static void srv_eof(sk_conn *c, void *ud)
{
	struct server *s = ud;
	s->eofs++;
	if (s->reply_on_eof)
		ASSERT_OK(sk_conn_write(c, s->reply, strlen(s->reply)));
	sk_conn_close(c);
}
static void srv_close(sk_conn *c, int err, void *ud)
{
	struct server *s = ud;
	s->closed++;
	s->last_err = err;
}
static const struct sk_conn_cbs srv_cbs = {
	.on_read = srv_read, .on_eof = srv_eof, .on_drain = srv_drain,
	.on_close = srv_close};

static void srv_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct server *s = ud;
	struct sk_addr a;
	s->accepted++;
	/* accepted TCP sockets carry TCP_NODELAY (inherited from the listener) */
	if (sk_conn_local(c, &a) == 0 && sk_addr_family(&a) != AF_UNIX) {
		int v = 0;
		socklen_t len = sizeof v;
		ASSERT_OK(getsockopt(sk_io_fd_of_conn_for_test(c), IPPROTO_TCP,
				     TCP_NODELAY, &v, &len));
		ASSERT_EQ(v, 1);
	}
	sk_conn_set_cbs(c, &srv_cbs, s);
}

static void server_start(sk_loop *loop, struct server *s, const char *addr,
			 const struct sk_listen_opts *o)
{
	ASSERT_OK(sk_listen(loop, addr, o, srv_accept, s, &s->l));
}

static void server_addr(struct server *s, char *buf, size_t n)
{
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(s->l, &a));
	ASSERT(sk_addr_format(&a, buf, n) > 0);
}

/* ---- a client that sends a payload and collects what comes back -------- */

struct client {
	uint8_t *send;
	size_t nsend, sent_off;
	struct sk_buf got;
	bool opened, eof;
	int closed, err;
	bool shutdown_after_send;
	bool chunked; /* write in random chunk sizes */
	unsigned seed;
	char errstr[200];
};

static void cli_pump(sk_conn *c, struct client *k)
{
	while (k->sent_off < k->nsend && !sk_conn_congested(c)) {
		size_t n = k->nsend - k->sent_off;
		if (k->chunked) {
			k->seed = k->seed * 1103515245u + 12345u;
			size_t m = 1 + (k->seed >> 8) % 65536;
			if (m < n)
				n = m;
		}
		ASSERT_OK(sk_conn_write(c, k->send + k->sent_off, n));
		k->sent_off += n;
	}
	if (k->sent_off == k->nsend && k->shutdown_after_send) {
		k->shutdown_after_send = false;
		ASSERT_OK(sk_conn_shutdown(c));
	}
}
static void cli_open(sk_conn *c, void *ud)
{
	struct client *k = ud;
	k->opened = true;
	cli_pump(c, k);
}
static void cli_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct client *k = ud;
	ASSERT_OK(sk_buf_append(&k->got, sk_buf_data(in), in->len));
	sk_buf_consume(in, in->len);
}
static void cli_drain(sk_conn *c, void *ud) { cli_pump(c, ud); }
static void cli_eof(sk_conn *c, void *ud)
{
	struct client *k = ud;
	k->eof = true;
	sk_conn_close(c);
}
static void cli_close(sk_conn *c, int err, void *ud)
{
	struct client *k = ud;
	k->closed++;
	k->err = err;
	sk_conn_error_string(c, err, k->errstr, sizeof k->errstr);
}
static const struct sk_conn_cbs cli_cbs = {
	.on_open = cli_open, .on_read = cli_read, .on_eof = cli_eof,
	.on_drain = cli_drain, .on_close = cli_close};

static void client_init(struct client *k, size_t n)
{
	memset(k, 0, sizeof *k);
	sk_buf_init(&k->got, 64u << 20);
	k->nsend = n;
	k->send = malloc(n ? n : 1);
	ASSERT(k->send);
	for (size_t i = 0; i < n; i++)
		k->send[i] = (uint8_t)(i * 7 + i / 251);
}
static void client_free(struct client *k)
{
	free(k->send);
	sk_buf_free(&k->got);
}

/* Run until the client saw everything echoed and its connection ended. */
static void echo_roundtrip(sk_loop *loop, const char *addr, size_t n, bool chunked)
{
	struct client k;
	client_init(&k, n);
	k.chunked = chunked;
	k.seed = 42;
	k.shutdown_after_send = true;
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 20000);
	ASSERT(k.opened);
	ASSERT(k.eof);
	ASSERT_EQ(k.err, 0);
	ASSERT_EQ(k.got.len, n);
	ASSERT_MEMEQ(sk_buf_data(&k.got), k.send, n);
	client_free(&k);
}

TEST(echo_1mib_random_chunks)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	server_start(loop, &s, "127.0.0.1:0", NULL);
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	echo_roundtrip(loop, addr, 1u << 20, true);
	test_run_until(loop, &s.closed, 5000);
	ASSERT_EQ(s.eofs, 1);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

TEST(echo_ipv6)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	if (sk_listen(loop, "[::1]:0", NULL, srv_accept, &s, &s.l) < 0) {
		fprintf(stderr, "   ::1 unavailable here, skipped\n");
		sk_loop_free(loop);
		return;
	}
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	ASSERT(strncmp(addr, "[::1]:", 6) == 0);
	echo_roundtrip(loop, addr, 100000, true);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

TEST(unix_stream_path_and_abstract)
{
	sk_loop *loop = test_loop();
	char dir[] = "/tmp/sockit-test-XXXXXX", addr[200];
	ASSERT(mkdtemp(dir));
	snprintf(addr, sizeof addr, "unix:%s/echo.sock", dir);
	struct server s = {0};
	server_start(loop, &s, addr, NULL);
	echo_roundtrip(loop, addr, 300000, true);
	sk_listener_close(s.l);
	/* the socket file is removed with the listener */
	ASSERT(access(addr + 5, F_OK) != 0);
	rmdir(dir);

	struct server a = {0};
	snprintf(addr, sizeof addr, "unix:@sockit-test-%d", (int)getpid());
	server_start(loop, &a, addr, NULL);
	echo_roundtrip(loop, addr, 5000, false);
	sk_listener_close(a.l);
	sk_loop_free(loop);
}

/* ---- many clients at once -------------------------------------------------- */

struct many {
	int done, failed;
	int open;
};
struct one {
	struct many *m;
	char msg[32];
	size_t got;
};
static void many_open(sk_conn *c, void *ud)
{
	struct one *o = ud;
	ASSERT_OK(sk_conn_write(c, o->msg, strlen(o->msg)));
}
static void many_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct one *o = ud;
	size_t len = strlen(o->msg);
	ASSERT(o->got + in->len <= len);
	ASSERT_MEMEQ(sk_buf_data(in), o->msg + o->got, in->len);
	o->got += in->len;
	sk_buf_consume(in, in->len);
	if (o->got == len)
		sk_conn_close(c);
}
static void many_close(sk_conn *c, int err, void *ud)
{
	struct one *o = ud;
	if (err == 0 && o->got == strlen(o->msg))
		o->m->done++;
	else
		o->m->failed++;
}
static const struct sk_conn_cbs many_cbs = {
	.on_open = many_open, .on_read = many_read, .on_close = many_close};

TEST(clients_1000_concurrent)
{
	enum { N = 1000 };
	struct rlimit rl;
	ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 2 * N + 64) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
		ASSERT(rl.rlim_cur >= 2 * N + 64);
	}
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct sk_listen_opts lo = {.backlog = 4096};
	server_start(loop, &s, "127.0.0.1:0", &lo);
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	struct many m = {0};
	static struct one ones[N];
	for (int i = 0; i < N; i++) {
		ones[i].m = &m;
		ones[i].got = 0;
		snprintf(ones[i].msg, sizeof ones[i].msg, "hello from %d\n", i);
		sk_conn *c;
		ASSERT_OK(sk_connect(loop, addr, NULL, &many_cbs, &ones[i], &c));
	}
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 30000;
	while (m.done + m.failed < N && sk_loop_now(loop) < end)
		ASSERT_OK(sk_loop_run_once(loop, 100));
	ASSERT_EQ(m.failed, 0);
	ASSERT_EQ(m.done, N);
	ASSERT_EQ(s.accepted, N);
	while (s.closed < N && sk_loop_now(loop) < end)
		ASSERT_OK(sk_loop_run_once(loop, 100));
	ASSERT_EQ(s.closed, N);
	ASSERT_EQ(sk_listener_conns(s.l), 0);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- half-close ---------------------------------------------------------------- */

TEST(half_close_client_first)
{
	/* The client sends and shuts its side; the server sees all the data,
	 * then EOF, and can still answer; the client reads the answer. */
	sk_loop *loop = test_loop();
	struct server s = {.reply_on_eof = true};
	strcpy(s.reply, "got it\n");
	server_start(loop, &s, "127.0.0.1:0", NULL);
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	struct client k;
	client_init(&k, 70000);
	k.shutdown_after_send = true;
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 10000);
	ASSERT_EQ(s.received, 70000);
	ASSERT_EQ(s.eofs, 1);
	ASSERT(k.eof);
	ASSERT_EQ(k.got.len, strlen("got it\n"));
	ASSERT_MEMEQ(sk_buf_data(&k.got), "got it\n", k.got.len);
	client_free(&k);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

struct hc_server {
	sk_listener *l;
	struct sk_buf got;
	int eof_seen_by_client_first;
	int closed, err;
};
static void hc_srv_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct hc_server *h = ud;
	ASSERT_OK(sk_buf_append(&h->got, sk_buf_data(in), in->len));
	sk_buf_consume(in, in->len);
}
static void hc_srv_eof(sk_conn *c, void *ud) { sk_conn_close(c); }
static void hc_srv_close(sk_conn *c, int err, void *ud)
{
	struct hc_server *h = ud;
	h->closed++;
	h->err = err;
}
static const struct sk_conn_cbs hc_srv_cbs = {
	.on_read = hc_srv_read, .on_eof = hc_srv_eof, .on_close = hc_srv_close};
static void hc_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &hc_srv_cbs, ud);
	ASSERT_OK(sk_conn_write(c, "question\n", 9));
	ASSERT_OK(sk_conn_shutdown(c));
	/* writing after the shutdown is refused */
	ASSERT_EQ(sk_conn_write(c, "x", 1), SK_EPIPE);
}
/* The client answers on EOF, then closes. */
static void hc_cli_eof(sk_conn *c, void *ud)
{
	struct client *k = ud;
	k->eof = true;
	ASSERT_EQ(k->got.len, 9);
	ASSERT_OK(sk_conn_write(c, "answer\n", 7));
	sk_conn_close(c);
}
static const struct sk_conn_cbs hc_cli_cbs = {
	.on_read = cli_read, .on_eof = hc_cli_eof, .on_close = cli_close};

TEST(half_close_server_first)
{
	sk_loop *loop = test_loop();
	struct hc_server h = {0};
	sk_buf_init(&h.got, 1024);
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, hc_accept, &h, &h.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(h.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct client k;
	client_init(&k, 0);
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &hc_cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 10000);
	test_run_until(loop, &h.closed, 10000);
	ASSERT(k.eof);
	ASSERT_EQ(k.err, 0);
	ASSERT_EQ(h.got.len, 7);
	ASSERT_MEMEQ(sk_buf_data(&h.got), "answer\n", 7);
	sk_buf_free(&h.got);
	client_free(&k);
	sk_listener_close(h.l);
	sk_loop_free(loop);
}

/* ---- close before the connection is open ---------------------------------------- */

struct sink {
	sk_listener *l;
	struct sk_buf got;
	int closed, err, eof;
};
static void sink_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct sink *k = ud;
	ASSERT_OK(sk_buf_append(&k->got, sk_buf_data(in), in->len));
	sk_buf_consume(in, in->len);
}
static void sink_eof(sk_conn *c, void *ud)
{
	((struct sink *)ud)->eof++;
	sk_conn_close(c);
}
static void sink_close(sk_conn *c, int err, void *ud)
{
	struct sink *k = ud;
	k->closed++;
	k->err = err;
}
static const struct sk_conn_cbs sink_cbs = {
	.on_read = sink_read, .on_eof = sink_eof, .on_close = sink_close};
static void sink_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &sink_cbs, ud);
}

struct early {
	int opened, closed, err;
};
static void early_open(sk_conn *c, void *ud) { ((struct early *)ud)->opened++; }
static void early_close(sk_conn *c, int err, void *ud)
{
	struct early *e = ud;
	e->closed++;
	e->err = err;
}
static const struct sk_conn_cbs early_cbs = {.on_open = early_open, .on_close = early_close};

TEST(close_while_connecting_sends_queue)
{
	/* write + close right after sk_connect: the bytes still arrive (by
	 * address, and by a name that must be resolved first) */
	sk_loop *loop = test_loop();
	const char *targets[] = {"127.0.0.1", "localhost"};
	for (size_t t = 0; t < 2; t++) {
		struct sink k = {0};
		sk_buf_init(&k.got, 1u << 20);
		ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, sink_accept, &k, &k.l));
		char addr[64];
		snprintf(addr, sizeof addr, "%s:%u", targets[t], sk_listener_port(k.l));
		struct early e = {0};
		struct sk_conn_opts o = {.family = AF_INET};
		sk_conn *c;
		ASSERT_OK(sk_connect(loop, addr, &o, &early_cbs, &e, &c));
		ASSERT_OK(sk_conn_write(c, "hello, early\n", 13));
		sk_conn_close(c);
		test_run_until(loop, &e.closed, 10000);
		test_run_until(loop, &k.closed, 10000);
		ASSERT_EQ(e.err, 0);
		ASSERT_EQ(e.opened, 0); /* the program closed it: no on_open */
		ASSERT_EQ(k.eof, 1);
		ASSERT_EQ(k.got.len, 13);
		ASSERT_MEMEQ(sk_buf_data(&k.got), "hello, early\n", 13);
		sk_buf_free(&k.got);
		sk_listener_close(k.l);
	}
	sk_loop_free(loop);
}

/* ---- failures ------------------------------------------------------------------- */

TEST(peer_reset_mid_stream)
{
	sk_loop *loop = test_loop();
	struct server s = {.abort_on_read = true};
	server_start(loop, &s, "127.0.0.1:0", NULL);
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	struct client k;
	client_init(&k, 8u << 20); /* keeps streaming while the reset lands */
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 10000);
	ASSERT(k.err == SK_ECONNRESET || k.err == SK_EPIPE);
	ASSERT(strstr(k.errstr, addr) != NULL);
	if (k.err == SK_ECONNRESET)
		ASSERT(strstr(k.errstr, "connection reset by peer") != NULL);
	fprintf(stderr, "   client saw: %s\n", k.errstr);
	client_free(&k);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

TEST(connect_refused)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	server_start(loop, &s, "127.0.0.1:0", NULL);
	char addr[SK_ADDR_STRLEN], want[300];
	server_addr(&s, addr, sizeof addr);
	sk_listener_close(s.l); /* nothing listens there now */
	struct client k;
	client_init(&k, 10);
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 5000);
	ASSERT(!k.opened);
	ASSERT_EQ(k.err, SK_ECONNREFUSED);
	snprintf(want, sizeof want, "connection refused (%s)", addr);
	ASSERT_STREQ(k.errstr, want);
	client_free(&k);
	sk_loop_free(loop);
}

TEST(connect_timeout_backlog_full)
{
	/* A listener that never accepts, with its backlog filled: the kernel
	 * drops further SYNs, so a connect can only time out. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sk_addr a;
	ASSERT_OK(sk_addr_parse("127.0.0.1:0", &a));
	ASSERT_OK(bind(lfd, &a.u.sa, a.len));
	ASSERT_OK(listen(lfd, 0));
	a.len = sizeof a.u;
	ASSERT_OK(getsockname(lfd, &a.u.sa, &a.len));
	int fill[8];
	for (int i = 0; i < 8; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], &a.u.sa, a.len);
	}
	usleep(100000);
	sk_loop *loop = test_loop();
	char addr[SK_ADDR_STRLEN];
	sk_addr_format(&a, addr, sizeof addr);
	struct client k;
	client_init(&k, 10);
	struct sk_conn_opts o = {.connect_timeout_ms = 300};
	sk_conn *c;
	sk_loop_update_time(loop);
	uint64_t t0 = sk_loop_now(loop);
	ASSERT_OK(sk_connect(loop, addr, &o, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 5000);
	uint64_t took = sk_loop_now(loop) - t0;
	ASSERT_EQ(k.err, SK_ETIMEDOUT);
	ASSERT(took >= 290 && took < 3000);
	ASSERT(strstr(k.errstr, "timed out") != NULL);
	client_free(&k);
	sk_loop_free(loop);
	for (int i = 0; i < 8; i++)
		close(fill[i]);
	close(lfd);
}

TEST(resolve_localhost_and_fall_back)
{
	/* "localhost" goes through c-ares (/etc/hosts); if ::1 comes first
	 * it is refused (we listen on 127.0.0.1 only) and the next address
	 * is tried. */
	sk_loop *loop = test_loop();
	struct server s = {0};
	server_start(loop, &s, "127.0.0.1:0", NULL);
	char addr[64];
	snprintf(addr, sizeof addr, "localhost:%u", sk_listener_port(s.l));
	echo_roundtrip(loop, addr, 1000, false);
	ASSERT_EQ(s.accepted, 1);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

/* ---- backpressure and limits ------------------------------------------------------ */

struct bp {
	sk_listener *l;
	sk_conn *srv;
	size_t total, written, max_queue, hw;
	int congested, drains, closed, err;
};
static void bp_pump(sk_conn *c, struct bp *b)
{
	static uint8_t chunk[65536];
	while (b->written < b->total && !sk_conn_congested(c)) {
		size_t n = b->total - b->written < sizeof chunk ? b->total - b->written
								: sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)((b->written + i) % 251);
		ASSERT_OK(sk_conn_write(c, chunk, n));
		b->written += n;
		if (sk_conn_out_len(c) > b->max_queue)
			b->max_queue = sk_conn_out_len(c);
	}
	if (sk_conn_congested(c))
		b->congested++;
	if (b->written == b->total)
		sk_conn_close(c);
}
static void bp_drain(sk_conn *c, void *ud)
{
	struct bp *b = ud;
	b->drains++;
	ASSERT(sk_conn_out_len(c) <= b->hw / 4);
	bp_pump(c, b);
}
static void bp_close(sk_conn *c, int err, void *ud)
{
	struct bp *b = ud;
	b->closed++;
	b->err = err;
}
static const struct sk_conn_cbs bp_cbs = {.on_drain = bp_drain, .on_close = bp_close};
static void bp_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct bp *b = ud;
	b->srv = c;
	sk_conn_set_cbs(c, &bp_cbs, b);
	bp_pump(c, b);
}

struct slow {
	size_t got;
	bool bad;
	int closed;
	sk_timer *t;
	sk_conn *c;
};
static void slow_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct slow *s = ud;
	const uint8_t *p = sk_buf_data(in);
	for (size_t i = 0; i < in->len; i++)
		if (p[i] != (uint8_t)((s->got + i) % 251))
			s->bad = true;
	s->got += in->len;
	sk_buf_consume(in, in->len);
}
static void slow_close(sk_conn *c, int err, void *ud) { ((struct slow *)ud)->closed++; }
static void slow_eof(sk_conn *c, void *ud) { sk_conn_close(c); }
static const struct sk_conn_cbs slow_cbs = {
	.on_read = slow_read, .on_eof = slow_eof, .on_close = slow_close};
static void slow_resume(sk_timer *t, void *ud)
{
	struct slow *s = ud;
	sk_conn_read_start(s->c);
}

TEST(backpressure_slow_reader)
{
	sk_loop *loop = test_loop();
	struct bp b = {.total = 32u << 20, .hw = 256 * 1024};
	struct sk_listen_opts lo = {.conn = {.high_water = 256 * 1024}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo, bp_accept, &b, &b.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(b.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct slow s = {0};
	ASSERT_OK(sk_connect(loop, addr, NULL, &slow_cbs, &s, &s.c));
	sk_conn_read_stop(s.c); /* a reader that does not read for a while */
	ASSERT_OK(sk_timer_new(loop, slow_resume, &s, &s.t));
	sk_timer_start(s.t, 300, 0);
	test_run_until(loop, &s.closed, 30000);
	ASSERT(!s.bad);
	ASSERT_EQ(s.got, b.total);
	ASSERT(b.congested > 0);
	ASSERT(b.drains > 0);
	/* memory stayed bounded by the high-water mark plus one write */
	ASSERT(b.max_queue <= b.hw + 65536);
	test_run_until(loop, &b.closed, 5000);
	ASSERT_EQ(b.err, 0);
	sk_timer_free(s.t);
	sk_listener_close(b.l);
	sk_loop_free(loop);
}

struct lim {
	sk_listener *l;
	int closed, err;
};
static void lim_close(sk_conn *c, int err, void *ud)
{
	struct lim *x = ud;
	x->closed++;
	x->err = err;
}
static void lim_read(sk_conn *c, struct sk_buf *in, void *ud) { /* hold it */ }
static const struct sk_conn_cbs lim_cbs = {.on_read = lim_read, .on_close = lim_close};
static void lim_accept(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &lim_cbs, ud);
}
static void lim_accept_writer(sk_listener *l, sk_conn *c, void *ud)
{
	sk_conn_set_cbs(c, &lim_cbs, ud);
	static uint8_t big[1 << 16];
	int r = 0;
	/* Nobody reads: the queue grows to max_out, then the write fails. */
	for (int i = 0; i < 1000 && r == 0; i++)
		r = sk_conn_write(c, big, sizeof big);
	ASSERT_EQ(r, SK_ENOBUFS);
	ASSERT_EQ(sk_conn_write(c, big, 1), SK_ENOBUFS);
}

TEST(limit_max_in_and_max_out)
{
	sk_loop *loop = test_loop();
	/* max_in: a program that never consumes cannot be made to buffer
	 * more than max_in; the connection ends with SK_ENOBUFS. */
	struct lim x = {0};
	struct sk_listen_opts lo = {.conn = {.max_in = 64 * 1024}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo, lim_accept, &x, &x.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(x.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct client k;
	client_init(&k, 1u << 20);
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &x.closed, 10000);
	ASSERT_EQ(x.err, SK_ENOBUFS);
	test_run_until(loop, &k.closed, 10000);
	client_free(&k);
	sk_listener_close(x.l);

	/* max_out: writes beyond the cap are refused and end the connection. */
	struct lim y = {0};
	struct sk_listen_opts lo2 = {.conn = {.max_out = 1u << 20}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo2, lim_accept_writer, &y, &y.l));
	ASSERT_OK(sk_listener_addr(y.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct slow s = {0};
	ASSERT_OK(sk_connect(loop, addr, NULL, &slow_cbs, &s, &s.c));
	sk_conn_read_stop(s.c);
	test_run_until(loop, &y.closed, 10000);
	ASSERT_EQ(y.err, SK_ENOBUFS);
	sk_conn_abort(s.c);
	test_run_until(loop, &s.closed, 5000);
	sk_listener_close(y.l);
	sk_loop_free(loop);
}

TEST(listener_max_conns)
{
	sk_loop *loop = test_loop();
	struct server s = {0};
	struct sk_listen_opts lo = {.max_conns = 2};
	server_start(loop, &s, "127.0.0.1:0", &lo);
	char addr[SK_ADDR_STRLEN];
	server_addr(&s, addr, sizeof addr);
	struct client k[3];
	sk_conn *c[3];
	for (int i = 0; i < 3; i++) {
		client_init(&k[i], 0);
		ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k[i], &c[i]));
	}
	/* the third is accepted by the kernel, then closed by the cap */
	while (!(k[0].closed + k[1].closed + k[2].closed))
		ASSERT_OK(sk_loop_run_once(loop, 100));
	ASSERT_EQ(s.accepted, 2);
	ASSERT_EQ(sk_listener_conns(s.l), 2);
	for (int i = 0; i < 3; i++)
		if (!k[i].closed)
			sk_conn_close(c[i]);
	for (int i = 0; i < 3; i++)
		test_run_until(loop, &k[i].closed, 5000);
	test_run_until(loop, &s.closed, 5000);
	for (int i = 0; i < 3; i++)
		client_free(&k[i]);
	sk_listener_close(s.l);
	sk_loop_free(loop);
}

TEST(graceful_close_drains_queue)
{
	/* close() right after a large write still delivers every byte. */
	sk_loop *loop = test_loop();
	struct bp b = {.total = 8u << 20, .hw = 64u << 20};
	struct sk_listen_opts lo = {.conn = {.high_water = 64u << 20, .max_out = 128u << 20}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo, bp_accept, &b, &b.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(b.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct slow s = {0};
	ASSERT_OK(sk_connect(loop, addr, NULL, &slow_cbs, &s, &s.c));
	test_run_until(loop, &s.closed, 20000);
	ASSERT(!s.bad);
	ASSERT_EQ(s.got, b.total);
	test_run_until(loop, &b.closed, 5000);
	ASSERT_EQ(b.err, 0);
	sk_listener_close(b.l);
	sk_loop_free(loop);
}

/* ---- write coalescing ---------------------------------------------------- */

struct coal {
	sk_listener *l;
	int queued_after_write;
	struct lim srv;
};
static void coal_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct coal *x = ud;
	sk_conn_set_cbs(c, &lim_cbs, &x->srv);
	char line[32];
	for (int i = 0; i < 100; i++) {
		int n = snprintf(line, sizeof line, "message %03d\n", i);
		ASSERT_OK(sk_conn_write(c, line, (size_t)n));
	}
	/* nothing went out yet: it leaves once, after this iteration */
	x->queued_after_write = (int)sk_conn_out_len(c);
	sk_conn_close(c);
}

TEST(coalesced_writes)
{
	sk_loop *loop = test_loop();
	struct coal x = {0};
	struct sk_listen_opts lo = {.conn = {.coalesce = 1}};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo, coal_accept, &x, &x.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(x.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct client k;
	client_init(&k, 0);
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, &k, &c));
	test_run_until(loop, &k.closed, 5000);
	test_run_until(loop, &x.srv.closed, 5000);
	ASSERT_EQ(x.srv.err, 0);
	ASSERT_EQ(x.queued_after_write, 100 * 12);
	ASSERT_EQ(k.got.len, 100 * 12);
	ASSERT_MEMEQ(sk_buf_data(&k.got), "message 000\nmessage 001\n", 24);
	ASSERT_MEMEQ(sk_buf_data(&k.got) + 99 * 12, "message 099\n", 12);
	client_free(&k);
	sk_listener_close(x.l);
	sk_loop_free(loop);
}

/* ---- partial messages: topped up, the rest of a read borrowed --------------- */

/* Frames of 4-byte big-endian length + bytes (31 * frame + i) & 0xff, 1 to
 * 40,000 bytes long, so nearly every read ends inside one. */
#define NF_FRAMES 300
struct nf {
	sk_listener *l;
	struct lim srv;
	bool hint;            /* client calls sk_conn_read_need */
	size_t need;          /* last hint given */
	int frames, bad, short_calls, closed, err, eofs;
	int partial;          /* a call left a partial frame behind */
	int borrowed_after;   /* calls on a borrowed buffer after that */
	int owned_calls;
};
static size_t nf_len(int i) { return 1 + (size_t)((i * 7919u) % 40000u); }
static void nf_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct nf *x = ud;
	sk_conn_set_cbs(c, &lim_cbs, &x->srv);
	uint8_t *f = malloc(4 + 40000);
	ASSERT(f != NULL);
	for (int i = 0; i < NF_FRAMES; i++) {
		size_t n = nf_len(i);
		f[0] = (uint8_t)(n >> 24), f[1] = (uint8_t)(n >> 16);
		f[2] = (uint8_t)(n >> 8), f[3] = (uint8_t)n;
		for (size_t j = 0; j < n; j++)
			f[4 + j] = (uint8_t)(31u * (unsigned)i + j);
		ASSERT_OK(sk_conn_write(c, f, 4 + n));
	}
	free(f);
	sk_conn_close(c);
}
static void nf_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct nf *x = ud;
	if (in->len < x->need)
		x->short_calls++;
	if (in->flags & SK_BUF_BORROWED) {
		if (x->partial)
			x->borrowed_after++;
	} else {
		x->owned_calls++;
	}
	x->need = 0;
	for (;;) {
		const uint8_t *d = sk_buf_data(in);
		if (in->len < 4) {
			if (x->hint)
				sk_conn_read_need(c, x->need = 4);
			break;
		}
		size_t n = (size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3];
		if (in->len < 4 + n) {
			if (x->hint)
				sk_conn_read_need(c, x->need = 4 + n);
			break;
		}
		if (n != nf_len(x->frames))
			x->bad++;
		for (size_t j = 0; j < n; j++)
			if (d[4 + j] != (uint8_t)(31u * (unsigned)x->frames + j)) {
				x->bad++;
				break;
			}
		x->frames++;
		sk_buf_consume(in, 4 + n);
	}
	if (in->len)
		x->partial++;
}
static void nf_eof(sk_conn *c, void *ud) { ((struct nf *)ud)->eofs++; sk_conn_close(c); }
static void nf_close(sk_conn *c, int err, void *ud)
{
	struct nf *x = ud;
	x->closed++;
	x->err = err;
}
static const struct sk_conn_cbs nf_cbs = {.on_read = nf_read, .on_eof = nf_eof, .on_close = nf_close};

static void need_run(sk_loop *loop, struct nf *x)
{
	struct sk_listen_opts lo = {0};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", &lo, nf_accept, x, &x->l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(x->l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, NULL, &nf_cbs, x, &c));
	test_run_until(loop, &x->closed, 10000);
	test_run_until(loop, &x->srv.closed, 5000);
	sk_listener_close(x->l);
}

/* A hint past max_in counts as max_in: the program gets to see the full
 * buffer (and may give up on the message) before the limit ends it. */
struct bigneed {
	size_t seen_max;
	int calls, closed, err;
};
static void big_accept(sk_listener *l, sk_conn *c, void *ud)
{
	static uint8_t junk[200000];
	struct lim *x = ud;
	sk_conn_set_cbs(c, &lim_cbs, x);
	ASSERT_OK(sk_conn_write(c, "\x00\x10\x00\x00", 4)); /* 1 MiB follows */
	ASSERT_OK(sk_conn_write(c, junk, sizeof junk));
}
static void big_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct bigneed *b = ud;
	b->calls++;
	if (in->len > b->seen_max)
		b->seen_max = in->len;
	sk_conn_read_need(c, 4 + ((size_t)1 << 20));
}
static void big_close(sk_conn *c, int err, void *ud)
{
	struct bigneed *b = ud;
	b->closed++;
	b->err = err;
}
static const struct sk_conn_cbs big_cbs = {.on_read = big_read, .on_close = big_close};

TEST(read_need_past_max_in)
{
	sk_loop *loop = test_loop();
	struct lim srv = {0};
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, big_accept, &srv, &srv.l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(srv.l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	struct bigneed b = {0};
	struct sk_conn_opts co = {.max_in = 100000}; /* not a read's size */
	sk_conn *c;
	ASSERT_OK(sk_connect(loop, addr, &co, &big_cbs, &b, &c));
	test_run_until(loop, &b.closed, 10000);
	ASSERT_EQ(b.err, SK_ENOBUFS);
	/* it saw a full buffer (a completion backend's read may hand over
	 * one buffer of more) before the limit ended the connection */
	ASSERT(b.seen_max >= 100000);
	sk_listener_close(srv.l);
	test_run_until(loop, &srv.closed, 5000);
	sk_loop_free(loop);
}

TEST(read_need_tops_up_partial_messages)
{
	sk_loop *loop = test_loop();
	struct nf x = {.hint = true};
	need_run(loop, &x);
	ASSERT_EQ(x.err, 0);
	ASSERT_EQ(x.eofs, 1);
	ASSERT_EQ(x.frames, NF_FRAMES);
	ASSERT_EQ(x.bad, 0);
	/* never called with less than it asked for */
	ASSERT_EQ(x.short_calls, 0);
	/* reads kept ending inside frames, yet the stream went back to
	 * borrowed buffers after them instead of copying on for good */
	ASSERT(x.partial > 10);
	ASSERT(x.borrowed_after > x.partial / 2);

	/* without a hint: the same bytes, topped up blindly */
	struct nf y = {.hint = false};
	need_run(loop, &y);
	ASSERT_EQ(y.err, 0);
	ASSERT_EQ(y.frames, NF_FRAMES);
	ASSERT_EQ(y.bad, 0);
	ASSERT(y.partial > 10);
	ASSERT(y.borrowed_after > 0);
	sk_loop_free(loop);
}

/* ---- file bytes: sendfile while nothing is queued, pread behind ---------------- */

struct wf {
	sk_listener *l;
	int fd;
	size_t blocks, blk, first_out;
	int bad_fd_err, short_err;
	bool short_file; /* ask for bytes past the end of the file */
	bool congested;
	struct lim srv;
};
static void wf_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct wf *w = ud;
	char hdr[32];
	sk_conn_set_cbs(c, &lim_cbs, &w->srv);
	if (w->short_file) {
		w->short_err = sk_conn_write_file(c, "HDR|", 4, w->fd,
						  w->blocks * w->blk - 5, 10);
		return; /* the connection failed with it */
	}
	for (size_t i = 0; i < w->blocks; i++) {
		snprintf(hdr, sizeof hdr, "BLOCK%06zu|", i);
		ASSERT_OK(sk_conn_write_file(c, hdr, 12, w->fd, i * w->blk, w->blk));
		if (i == 0)
			w->first_out = sk_conn_out_len(c);
	}
	/* 4 MiB are more than the socket takes at once */
	w->congested = sk_conn_congested(c);
	/* a bad descriptor before any byte went out: an error, nothing else */
	w->bad_fd_err = sk_conn_write_file(c, NULL, 0, -1, 0, 10);
	sk_conn_close(c);
}

static void write_file_run(sk_loop *loop, struct wf *w, struct client *k)
{
	ASSERT_OK(sk_listen(loop, "127.0.0.1:0", NULL, wf_accept, w, &w->l));
	char addr[SK_ADDR_STRLEN];
	struct sk_addr a;
	ASSERT_OK(sk_listener_addr(w->l, &a));
	sk_addr_format(&a, addr, sizeof addr);
	sk_conn *c;
	client_init(k, 0);
	ASSERT_OK(sk_connect(loop, addr, NULL, &cli_cbs, k, &c));
	test_run_until(loop, &k->closed, 20000);
	test_run_until(loop, &w->srv.closed, 5000);
	sk_listener_close(w->l);
}

TEST(write_file_sendfile_and_queue)
{
	sk_loop *loop = test_loop();
	const size_t blocks = 64, blk = 65536;
	char path[] = "/tmp/sockit-wf-XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	unlink(path);
	struct client src;
	client_init(&src, blocks * blk);
	ASSERT_EQ(write(fd, src.send, src.nsend), (ssize_t)src.nsend);
	struct sigaction old;
	ASSERT_OK(sigaction(SIGPIPE, NULL, &old));
	/* SIGPIPE ignored: sendfile until the socket is full, then pread;
	 * left alone: pread only (sendfile could raise SIGPIPE). */
	for (int ignore = 1; ignore >= 0; ignore--) {
		signal(SIGPIPE, ignore ? SIG_IGN : SIG_DFL);
		struct wf w = {.fd = fd, .blocks = blocks, .blk = blk};
		struct client k;
		write_file_run(loop, &w, &k);
		ASSERT_EQ(w.srv.err, 0);
		ASSERT_EQ(w.bad_fd_err, SK_EBADF);
		ASSERT(w.congested);
		if (ignore)
			ASSERT(w.first_out < blk); /* part of block 0 left at once */
		else
			ASSERT(w.first_out >= blk); /* all of block 0 was queued */
		ASSERT(k.eof);
		ASSERT_EQ(k.got.len, blocks * (12 + blk));
		const uint8_t *g = sk_buf_data(&k.got);
		char hdr[32];
		for (size_t i = 0; i < blocks; i++, g += 12 + blk) {
			snprintf(hdr, sizeof hdr, "BLOCK%06zu|", i);
			ASSERT_MEMEQ(g, hdr, 12);
			ASSERT_MEMEQ(g + 12, src.send + i * blk, blk);
		}
		client_free(&k);

		/* a file shorter than asked: SK_EIO, and the connection (whose
		 * stream now lacks bytes) ends with it */
		struct wf s = {.fd = fd, .blocks = blocks, .blk = blk, .short_file = true};
		write_file_run(loop, &s, &k);
		ASSERT_EQ(s.short_err, SK_EIO);
		ASSERT_EQ(s.srv.err, SK_EIO);
		ASSERT(k.got.len <= 4 + 5);
		client_free(&k);
	}
	ASSERT_OK(sigaction(SIGPIPE, &old, NULL));
	client_free(&src);
	close(fd);
	sk_loop_free(loop);
}

/* ---- descriptors that are not sockets --------------------------------------- */

TEST(fd_pipe_file_and_devnull)
{
	sk_loop *loop = test_loop();
	/* a pipe: 1 MiB through a write-only and a read-only connection */
	int p[2];
	ASSERT_OK(pipe(p));
	struct client k;
	client_init(&k, 1u << 20);
	sk_conn *w, *r;
	struct slow none = {0};
	ASSERT_OK(sk_conn_open_fd(loop, p[0], SK_FD_READONLY, NULL, &cli_cbs, &k, &r));
	ASSERT_OK(sk_conn_open_fd(loop, p[1], SK_FD_WRITEONLY, NULL, &slow_cbs, &none, &w));
	ASSERT_EQ(sk_conn_write(r, "x", 1), SK_EPIPE); /* read-only */
	ASSERT_OK(sk_conn_write(w, k.send, k.nsend));
	ASSERT_OK(sk_conn_shutdown(w)); /* closes the write end once drained */
	test_run_until(loop, &k.closed, 10000);
	ASSERT(k.eof);
	ASSERT_EQ(k.got.len, k.nsend);
	ASSERT_MEMEQ(sk_buf_data(&k.got), k.send, k.nsend);
	test_run_until(loop, &none.closed, 5000);

	/* a regular file is read to its end */
	char path[] = "/tmp/sockit-fd-XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	unlink(path);
	ASSERT_EQ(write(fd, k.send, 300000), 300000);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	struct client f;
	client_init(&f, 0);
	ASSERT_OK(sk_conn_open_fd(loop, fd, 0, NULL, &cli_cbs, &f, &r));
	test_run_until(loop, &f.closed, 10000);
	ASSERT(f.eof);
	ASSERT_EQ(f.got.len, 300000);
	ASSERT_MEMEQ(sk_buf_data(&f.got), k.send, 300000);

	/* /dev/null: at once end of file (epoll cannot watch it) */
	struct client d;
	client_init(&d, 0);
	fd = open("/dev/null", O_RDONLY);
	ASSERT_OK(sk_conn_open_fd(loop, fd, 0, NULL, &cli_cbs, &d, &r));
	test_run_until(loop, &d.closed, 5000);
	ASSERT(d.eof);
	ASSERT_EQ(d.got.len, 0);
	client_free(&k);
	client_free(&f);
	client_free(&d);
	sk_loop_free(loop);
}

TEST_MAIN(TEST_ENTRY(read_need_past_max_in), TEST_ENTRY(read_need_tops_up_partial_messages), TEST_ENTRY(fd_pipe_file_and_devnull), TEST_ENTRY(close_while_connecting_sends_queue), TEST_ENTRY(write_file_sendfile_and_queue), TEST_ENTRY(coalesced_writes), TEST_ENTRY(echo_1mib_random_chunks), TEST_ENTRY(echo_ipv6),
	  TEST_ENTRY(unix_stream_path_and_abstract),
	  TEST_ENTRY(clients_1000_concurrent), TEST_ENTRY(half_close_client_first),
	  TEST_ENTRY(half_close_server_first), TEST_ENTRY(peer_reset_mid_stream),
	  TEST_ENTRY(connect_refused), TEST_ENTRY(connect_timeout_backlog_full),
	  TEST_ENTRY(resolve_localhost_and_fall_back),
	  TEST_ENTRY(backpressure_slow_reader), TEST_ENTRY(limit_max_in_and_max_out),
	  TEST_ENTRY(listener_max_conns), TEST_ENTRY(graceful_close_drains_queue))
