/*
 * tests/integration/test_dgram.c - datagram sockets over loopback and Unix
 * sockets: round trips, batching, truncation, connected UDP, multicast on
 * lo, and closing or pausing from inside the receive callback.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

/* What a receiver saw. */
struct rx {
	sk_dgram *d;
	int count;
	uint8_t last[2048];
	size_t lastn;
	struct sk_addr from;
	int echo;          /* reply with the same bytes to the sender */
	int close_at;      /* close the socket on this datagram (1-based) */
	int stop_at;       /* recv_stop on this datagram */
	int err;           /* last error callback */
	int nerr;
	int bad;           /* datagrams that failed the content check */
	int seen[1000];    /* burst: sequence numbers received */
	int iter_count;    /* datagrams this loop iteration */
	int iter_max;      /* most datagrams in one iteration */
	int order_ok;      /* sequence numbers arrived in order */
	int next_seq;
	uint8_t firsts[64]; /* first byte of each datagram, in order */
};

static void on_recv(sk_dgram *d, const uint8_t *p, size_t n,
		    const struct sk_addr *from, void *ud)
{
	struct rx *rx = ud;
	ASSERT(rx->d == d);
	rx->count++;
	rx->iter_count++;
	if (rx->iter_count > rx->iter_max)
		rx->iter_max = rx->iter_count;
	rx->lastn = n < sizeof rx->last ? n : sizeof rx->last;
	memcpy(rx->last, p, rx->lastn);
	rx->from = *from;
	if (n > 0 && rx->count <= (int)sizeof rx->firsts)
		rx->firsts[rx->count - 1] = p[0];
	if (rx->echo)
		ASSERT_OK(sk_dgram_send(d, p, n, from));
	if (rx->stop_at && rx->count == rx->stop_at)
		sk_dgram_recv_stop(d);
	if (rx->close_at && rx->count == rx->close_at)
		sk_dgram_close(d);
}

static void on_err(sk_dgram *d, int err, void *ud)
{
	struct rx *rx = ud;
	(void)d;
	rx->err = err;
	rx->nerr++;
}

static sk_dgram *open_rx(sk_loop *loop, const char *addr,
			 const struct sk_dgram_opts *o, struct rx *rx)
{
	sk_dgram *d = NULL;
	int r = sk_dgram_open(loop, addr, o, on_recv, rx, &d);
	if (r < 0)
		FAIL("sk_dgram_open(%s): %s", addr ? addr : "NULL", sk_strerror(r));
	rx->d = d;
	return d;
}

static void run_until_count(sk_loop *loop, struct rx *rx, int want,
			    unsigned ms)
{
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + ms;
	while (rx->count < want) {
		sk_loop_update_time(loop);
		if (sk_loop_now(loop) >= end)
			FAIL("timed out: %d of %d datagrams", rx->count, want);
		rx->iter_count = 0;
		ASSERT_OK(sk_loop_run_once(loop, 50));
	}
}

/* A few iterations where nothing is expected to arrive. */
static void run_idle(sk_loop *loop, int iterations)
{
	for (int i = 0; i < iterations; i++)
		ASSERT_OK(sk_loop_run_once(loop, 20));
}

static void round_trip(const char *bind)
{
	sk_loop *loop = test_loop();
	struct rx srv = {0}, cli = {0};
	struct sk_addr sa, ca;

	srv.echo = 1;
	open_rx(loop, bind, NULL, &srv);
	open_rx(loop, bind, NULL, &cli);
	ASSERT_OK(sk_dgram_local(srv.d, &sa));
	ASSERT_OK(sk_dgram_local(cli.d, &ca));
	ASSERT(sk_addr_port(&sa) != 0);

	ASSERT_OK(sk_dgram_send(cli.d, "hello", 5, &sa));
	run_until_count(loop, &cli, 1, 2000);
	ASSERT_EQ(srv.count, 1);
	ASSERT(sk_addr_equal(&srv.from, &ca)); /* the sender, as it is bound */
	ASSERT(sk_addr_equal(&cli.from, &sa));
	ASSERT_EQ(cli.lastn, 5);
	ASSERT_MEMEQ(cli.last, "hello", 5);

	/* An empty datagram is a datagram too. */
	ASSERT_OK(sk_dgram_send(cli.d, "", 0, &sa));
	run_until_count(loop, &cli, 2, 2000);
	ASSERT_EQ(cli.lastn, 0);

	sk_dgram_close(srv.d);
	sk_dgram_close(cli.d);
	ASSERT_OK(sk_loop_run_once(loop, 0));
	sk_loop_free(loop);
}

TEST(udp4_round_trip)
{
	round_trip("127.0.0.1:0");
}

TEST(udp6_round_trip)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	sk_dgram *d = NULL;
	int r = sk_dgram_open(loop, "[::1]:0", NULL, on_recv, &rx, &d);
	sk_loop_free(loop);
	if (r == SK_EADDRNOTAVAIL || r == SK_EAFNOSUPPORT) {
		fprintf(stderr, "   note: cannot bind [::1] (%s), skipped\n",
			sk_strerror(r));
		return;
	}
	ASSERT_OK(r);
	round_trip("[::1]:0");
}

/* Burst datagrams: 4-byte sequence number, then bytes (seq + i). */
static void fill_seq(uint8_t *m, size_t n, int seq)
{
	memcpy(m, &seq, sizeof seq);
	for (size_t i = sizeof seq; i < n; i++)
		m[i] = (uint8_t)(seq + (int)i);
}

static void on_burst(sk_dgram *d, const uint8_t *p, size_t n,
		     const struct sk_addr *from, void *ud)
{
	struct rx *rx = ud;
	int seq;
	uint8_t want[64];
	(void)d;
	(void)from;
	rx->count++;
	rx->iter_count++;
	if (rx->iter_count > rx->iter_max)
		rx->iter_max = rx->iter_count;
	memcpy(&seq, p, sizeof seq);
	fill_seq(want, sizeof want, seq);
	if (n != sizeof want || seq < 0 || seq >= 1000 || rx->seen[seq] ||
	    memcmp(p, want, n) != 0) {
		rx->bad++;
		return;
	}
	rx->seen[seq] = 1;
}

/* 1,000 datagrams sent before the receiver runs: it must take them in
 * batches, at most 4 batches of 16 per wakeup, and lose (almost) none. */
TEST(burst_batched)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	struct sk_dgram_opts o = {0};
	struct sk_addr to;
	sk_dgram *d = NULL, *tx = NULL;
	uint8_t msg[64];
	int sent = 0;

	o.rcvbuf = 4 << 20;
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", &o, on_burst, &rx, &d));
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	ASSERT_OK(sk_dgram_local(d, &to));
	for (int i = 0; i < 1000; i++) {
		fill_seq(msg, sizeof msg, i);
		int r = sk_dgram_send(tx, msg, sizeof msg, &to);
		if (r == SK_EAGAIN)
			break;
		ASSERT_OK(r);
		sent++;
	}
	ASSERT(sent >= 950);

	/* Collect until everything came or nothing more arrives. */
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 5000;
	int quiet = 0, iterations = 0;
	while (rx.count < sent && quiet < 10) {
		int before = rx.count;
		rx.iter_count = 0;
		ASSERT_OK(sk_loop_run_once(loop, 20));
		iterations++;
		quiet = rx.count == before ? quiet + 1 : 0;
		sk_loop_update_time(loop);
		ASSERT(sk_loop_now(loop) < end);
	}
	ASSERT(rx.count >= 950);
	ASSERT(rx.count <= sent);
	ASSERT_EQ(rx.bad, 0);
	ASSERT(rx.iter_max > 16);  /* more than one batch per wakeup */
	ASSERT(rx.iter_max <= 64); /* fairness cap: 4 batches of 16 */
	ASSERT(iterations >= rx.count / 64);
	ASSERT_EQ(sk_dgram_truncated(d), 0);
	sk_loop_free(loop); /* closes both sockets */
}

/* A content check per datagram, in the callback. */
static void on_seq(sk_dgram *d, const uint8_t *p, size_t n,
		   const struct sk_addr *from, void *ud)
{
	struct rx *rx = ud;
	int seq;
	(void)d;
	(void)from;
	ASSERT(n >= sizeof seq);
	memcpy(&seq, p, sizeof seq);
	for (size_t i = sizeof seq; i < n; i++)
		if (p[i] != (uint8_t)(seq + (int)i))
			rx->bad++;
	if (seq != rx->next_seq)
		rx->order_ok = 0;
	rx->next_seq = seq + 1;
	rx->lastn = n;
	rx->count++;
}

TEST(send_many)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	sk_dgram *d = NULL, *tx = NULL;
	struct sk_addr to;
	static uint8_t bufs[150][200];
	struct sk_dgram_msg msgs[150];
	size_t sent = 0;

	rx.order_ok = 1;
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, on_seq, &rx, &d));
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	ASSERT_OK(sk_dgram_local(d, &to));
	/* more than one sendmmsg chunk, different sizes */
	for (int i = 0; i < 150; i++) {
		size_t n = sizeof(int) + (size_t)(i % 190);
		memcpy(bufs[i], &i, sizeof i);
		for (size_t k = sizeof i; k < n; k++)
			bufs[i][k] = (uint8_t)(i + (int)k);
		msgs[i].p = bufs[i];
		msgs[i].n = n;
		msgs[i].to = &to;
	}
	ASSERT_OK(sk_dgram_send_many(tx, msgs, 150, &sent));
	ASSERT_EQ(sent, 150);
	run_until_count(loop, &rx, 150, 3000);
	ASSERT_EQ(rx.bad, 0);
	ASSERT(rx.order_ok);

	/* connected: no address needed */
	ASSERT_OK(sk_dgram_connect(tx, &to));
	for (int i = 0; i < 3; i++)
		msgs[150 - 3 + i].to = NULL;
	rx.next_seq = 147;
	rx.count = 0;
	ASSERT_OK(sk_dgram_send_many(tx, msgs + 147, 3, &sent));
	ASSERT_EQ(sent, 3);
	run_until_count(loop, &rx, 3, 2000);
	ASSERT(rx.order_ok);

	/* nothing to send is fine */
	ASSERT_OK(sk_dgram_send_many(tx, msgs, 0, &sent));
	ASSERT_EQ(sent, 0);
	sk_dgram_close(d);
	sk_dgram_close(tx);
	sk_loop_free(loop);
}

/* Datagrams longer than max_dgram are dropped and counted, never cut. */
TEST(truncated_dropped)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	struct sk_dgram_opts o = {0};
	sk_dgram *tx = NULL;
	struct sk_addr to;
	uint8_t big[300];

	o.max_dgram = 100;
	o.batch = 4;
	open_rx(loop, "127.0.0.1:0", &o, &rx);
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	ASSERT_OK(sk_dgram_local(rx.d, &to));
	memset(big, 'x', sizeof big);
	ASSERT_OK(sk_dgram_send(tx, big, 50, &to));
	ASSERT_OK(sk_dgram_send(tx, big, 101, &to));
	ASSERT_OK(sk_dgram_send(tx, big, 300, &to));
	ASSERT_OK(sk_dgram_send(tx, "exact", 5, &to));
	ASSERT_OK(sk_dgram_send(tx, big, 100, &to)); /* exactly fits */
	run_until_count(loop, &rx, 3, 2000);
	run_idle(loop, 2);
	ASSERT_EQ(rx.count, 3);
	ASSERT_EQ(rx.lastn, 100);
	ASSERT_EQ(sk_dgram_truncated(rx.d), 2);
	sk_loop_free(loop);
}

TEST(connected_udp)
{
	sk_loop *loop = test_loop();
	struct rx a = {0}, b = {0}, c = {0};
	struct sk_addr aa, ba;

	open_rx(loop, "127.0.0.1:0", NULL, &a);
	open_rx(loop, "127.0.0.1:0", NULL, &b);
	open_rx(loop, "127.0.0.1:0", NULL, &c);
	ASSERT_OK(sk_dgram_local(a.d, &aa));
	ASSERT_OK(sk_dgram_local(b.d, &ba));

	/* unconnected: no peer to send to */
	ASSERT_EQ(sk_dgram_send(a.d, "x", 1, NULL), SK_ENOTCONN);

	ASSERT_OK(sk_dgram_connect(a.d, &ba));
	ASSERT_OK(sk_dgram_send(a.d, "to-b", 4, NULL));
	run_until_count(loop, &b, 1, 2000);
	ASSERT_MEMEQ(b.last, "to-b", 4);
	ASSERT(sk_addr_equal(&b.from, &aa));

	/* c is not a's peer: the kernel drops its datagram; b's arrives */
	ASSERT_OK(sk_dgram_send(c.d, "from-c", 6, &aa));
	ASSERT_OK(sk_dgram_send(b.d, "from-b", 6, &aa));
	run_until_count(loop, &a, 1, 2000);
	run_idle(loop, 2);
	ASSERT_EQ(a.count, 1);
	ASSERT_EQ(a.lastn, 6);
	ASSERT_MEMEQ(a.last, "from-b", 6);

	/* dissolving the association lets everyone in again */
	ASSERT_OK(sk_dgram_connect(a.d, NULL));
	ASSERT_OK(sk_dgram_send(c.d, "again-c", 7, &aa));
	run_until_count(loop, &a, 2, 2000);
	ASSERT_MEMEQ(a.last, "again-c", 7);
	sk_loop_free(loop);
}

/* A connected socket whose peer is gone hears ICMP port unreachable as
 * SK_ECONNREFUSED through the error callback, and keeps working. */
TEST(connected_refused)
{
	sk_loop *loop = test_loop();
	struct rx a = {0}, gone = {0}, b = {0};
	struct sk_addr ga, aa;

	open_rx(loop, "127.0.0.1:0", NULL, &a);
	open_rx(loop, "127.0.0.1:0", NULL, &gone);
	open_rx(loop, "127.0.0.1:0", NULL, &b);
	sk_dgram_on_error(a.d, on_err);
	ASSERT_OK(sk_dgram_local(gone.d, &ga));
	ASSERT_OK(sk_dgram_local(a.d, &aa));
	sk_dgram_close(gone.d);
	ASSERT_OK(sk_dgram_connect(a.d, &ga));
	ASSERT_OK(sk_dgram_send(a.d, "anyone?", 7, NULL));

	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 2000;
	while (a.nerr == 0) {
		ASSERT_OK(sk_loop_run_once(loop, 50));
		sk_loop_update_time(loop);
		if (sk_loop_now(loop) >= end)
			FAIL("no error callback");
	}
	ASSERT_EQ(a.err, SK_ECONNREFUSED);
	ASSERT_EQ(a.count, 0);

	/* still usable after reconnecting */
	struct sk_addr ba;
	ASSERT_OK(sk_dgram_local(b.d, &ba));
	ASSERT_OK(sk_dgram_connect(a.d, &ba));
	ASSERT_OK(sk_dgram_send(b.d, "ok", 2, &aa));
	run_until_count(loop, &a, 1, 2000);
	ASSERT_MEMEQ(a.last, "ok", 2);
	sk_loop_free(loop);
}

static void unix_request_response(const char *srv_addr)
{
	sk_loop *loop = test_loop();
	struct rx srv = {0}, cli = {0};
	struct sk_dgram_opts o = {0};
	struct sk_addr sa;
	char text[SK_ADDR_STRLEN];

	srv.echo = 1;
	open_rx(loop, srv_addr, NULL, &srv);
	o.family = AF_UNIX;
	open_rx(loop, NULL, &o, &cli); /* unbound: autobind */
	ASSERT_OK(sk_addr_parse(srv_addr, &sa));
	ASSERT_OK(sk_dgram_send(cli.d, "ping", 4, &sa));
	run_until_count(loop, &cli, 1, 2000);
	ASSERT_EQ(srv.count, 1);
	ASSERT_EQ(sk_addr_family(&srv.from), AF_UNIX);
	/* the client has a name the server could answer to */
	ASSERT(srv.from.len > sizeof(sa_family_t));
	ASSERT_EQ(cli.lastn, 4);
	ASSERT_MEMEQ(cli.last, "ping", 4);
	ASSERT(sk_addr_format(&cli.from, text, sizeof text) > 0);
	ASSERT_STREQ(text, srv_addr);

	struct sk_addr local;
	ASSERT_OK(sk_dgram_local(srv.d, &local));
	ASSERT(sk_addr_equal(&local, &sa));
	sk_loop_free(loop);
}

TEST(unix_path)
{
	char dir[] = "/tmp/sockit-dgram-XXXXXX";
	char addr[240], path[200];
	struct stat st;

	ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/srv.sock", dir);
	snprintf(addr, sizeof addr, "unix:%s", path);
	unix_request_response(addr);
	/* closing (here: with the loop) removed the socket file */
	ASSERT(stat(path, &st) < 0 && errno == ENOENT);

	/* a path that is taken is an error, not a silent takeover */
	sk_loop *loop = test_loop();
	sk_dgram *a = NULL, *b = NULL;
	ASSERT_OK(sk_dgram_open(loop, addr, NULL, NULL, NULL, &a));
	ASSERT_EQ(sk_dgram_open(loop, addr, NULL, NULL, NULL, &b),
		  SK_EADDRINUSE);
	ASSERT(b == NULL);
	sk_dgram_close(a);
	ASSERT(stat(path, &st) < 0 && errno == ENOENT);
	sk_loop_free(loop);
	ASSERT_OK(rmdir(dir));
}

TEST(unix_abstract)
{
	char addr[100];
	snprintf(addr, sizeof addr, "unix:@sockit-test-dgram-%d", (int)getpid());
	unix_request_response(addr);
}

TEST(multicast_lo)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	struct sk_dgram_opts o = {0};
	sk_dgram *tx = NULL;
	struct sk_addr la, grp;
	char group[32];

	/* a group of our own: other test processes may run at once */
	snprintf(group, sizeof group, "239.255.%d.%d", (int)(getpid() >> 8) & 0xff,
		 (int)getpid() & 0xff);

	o.reuseaddr = 1;
	open_rx(loop, "0.0.0.0:0", &o, &rx);
	/* argument checks */
	ASSERT_EQ(sk_dgram_join(rx.d, "127.0.0.1", NULL), SK_EINVAL);
	ASSERT_EQ(sk_dgram_join(rx.d, "ff02::1", NULL), SK_EAFNOSUPPORT);
	ASSERT_EQ(sk_dgram_join(rx.d, "not-an-ip", NULL), SK_EBADADDR);
	ASSERT(sk_dgram_join(rx.d, group, "no-such-if0") < 0);

	int r = sk_dgram_join(rx.d, group, "127.0.0.1");
	if (r < 0) {
		/* lo without multicast: a clean error code, nothing worse */
		ASSERT(r == -ENODEV || r == SK_EADDRNOTAVAIL || r == -EINVAL);
		fprintf(stderr, "   note: join on lo failed (%s), skipped\n",
			sk_strerror(r));
		sk_loop_free(loop);
		return;
	}
	ASSERT_OK(sk_dgram_local(rx.d, &la));
	ASSERT_OK(sk_addr_from_ip(group, sk_addr_port(&la), &grp));

	/* The sender goes out by lo only (this machine has other routes). */
	o.reuseaddr = 0;
	o.mcast_ttl = 1;
	o.mcast_loop = 1;
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", &o, NULL, NULL, &tx));
	ASSERT_OK(sk_dgram_set_mcast_if(tx, "127.0.0.1"));
	ASSERT_OK(sk_dgram_send(tx, "mc-1", 4, &grp));
	run_until_count(loop, &rx, 1, 2000);
	ASSERT_MEMEQ(rx.last, "mc-1", 4);

	/* after leaving, the group's datagrams no longer arrive */
	ASSERT_OK(sk_dgram_leave(rx.d, group, "127.0.0.1"));
	ASSERT_OK(sk_dgram_send(tx, "mc-2", 4, &grp));
	struct sk_addr direct;
	ASSERT_OK(sk_addr_from_ip("127.0.0.1", sk_addr_port(&la), &direct));
	ASSERT_OK(sk_dgram_send(tx, "direct", 6, &direct));
	run_until_count(loop, &rx, 2, 2000);
	run_idle(loop, 2);
	ASSERT_EQ(rx.count, 2);
	ASSERT_MEMEQ(rx.last, "direct", 6);
	sk_loop_free(loop);
}

TEST(close_in_callback)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	sk_dgram *tx = NULL;
	struct sk_addr to;

	rx.close_at = 1;
	open_rx(loop, "127.0.0.1:0", NULL, &rx);
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	ASSERT_OK(sk_dgram_local(rx.d, &to));
	unsigned alive = sk_loop_alive(loop);
	for (int i = 0; i < 5; i++)
		ASSERT_OK(sk_dgram_send(tx, "x", 1, &to));
	run_until_count(loop, &rx, 1, 2000);
	run_idle(loop, 3);
	ASSERT_EQ(rx.count, 1); /* the rest of the batch was not dispatched */
	ASSERT_EQ(sk_loop_alive(loop), alive - 1);
	sk_dgram_close(tx);
	/* nothing left: run returns */
	ASSERT_OK(sk_loop_run(loop));
	sk_loop_free(loop);
}

/* recv_stop inside the callback keeps the rest of the batch for later. */
TEST(stop_and_resume)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	sk_dgram *tx = NULL;
	struct sk_addr to;
	uint8_t m[64];

	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	unsigned base = sk_loop_alive(loop);
	rx.stop_at = 3;
	open_rx(loop, "127.0.0.1:0", NULL, &rx);
	ASSERT_OK(sk_dgram_local(rx.d, &to));
	for (int i = 0; i < 10; i++) {
		memset(m, i, sizeof m);
		ASSERT_OK(sk_dgram_send(tx, m, sizeof m, &to));
	}
	run_until_count(loop, &rx, 3, 2000);
	run_idle(loop, 3);
	ASSERT_EQ(rx.count, 3);
	ASSERT_EQ(rx.last[0], 2);
	ASSERT_EQ(sk_loop_alive(loop), base); /* paused: not counted */

	/* one more arrives while paused; it must come after the stash */
	memset(m, 10, sizeof m);
	ASSERT_OK(sk_dgram_send(tx, m, sizeof m, &to));
	rx.stop_at = 0;
	sk_dgram_recv_start(rx.d);
	ASSERT_EQ(rx.count, 3); /* not from inside recv_start */
	run_until_count(loop, &rx, 11, 2000);
	run_idle(loop, 2);
	ASSERT_EQ(rx.count, 11);
	for (int i = 0; i < 11; i++)
		ASSERT_EQ(rx.firsts[i], i); /* in order, none lost */
	sk_loop_free(loop);
}

TEST(keeps_loop_alive)
{
	sk_loop *loop = test_loop();
	struct rx rx = {0};
	sk_dgram *tx = NULL;
	unsigned base = sk_loop_alive(loop);

	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, NULL, NULL, &tx));
	ASSERT_EQ(sk_loop_alive(loop), base); /* send-only */
	open_rx(loop, "127.0.0.1:0", NULL, &rx);
	ASSERT_EQ(sk_loop_alive(loop), base + 1);
	sk_dgram_recv_stop(rx.d);
	ASSERT_EQ(sk_loop_alive(loop), base);
	sk_dgram_recv_start(rx.d);
	ASSERT_EQ(sk_loop_alive(loop), base + 1);
	ASSERT(sk_dgram_data(rx.d) == &rx);
	sk_dgram_set_data(rx.d, NULL);
	ASSERT(sk_dgram_data(rx.d) == NULL);
	sk_dgram_set_data(rx.d, &rx);

	/* bad input is an error, not a crash */
	sk_dgram *bad = NULL;
	ASSERT_EQ(sk_dgram_open(loop, "localhost:0", NULL, NULL, NULL, &bad),
		  SK_EBADADDR);
	struct sk_dgram_opts o = {0};
	o.family = 12345;
	ASSERT_EQ(sk_dgram_open(loop, NULL, &o, NULL, NULL, &bad),
		  SK_EAFNOSUPPORT);
	ASSERT(bad == NULL);
	sk_dgram_close(tx);
	sk_dgram_close(rx.d);
	ASSERT_EQ(sk_loop_alive(loop), base);
	sk_loop_free(loop);
}

TEST_MAIN(TEST_ENTRY(udp4_round_trip), TEST_ENTRY(udp6_round_trip),
	  TEST_ENTRY(burst_batched), TEST_ENTRY(send_many),
	  TEST_ENTRY(truncated_dropped), TEST_ENTRY(connected_udp),
	  TEST_ENTRY(connected_refused), TEST_ENTRY(unix_path),
	  TEST_ENTRY(unix_abstract), TEST_ENTRY(multicast_lo),
	  TEST_ENTRY(close_in_callback), TEST_ENTRY(stop_and_resume),
	  TEST_ENTRY(keeps_loop_alive))
