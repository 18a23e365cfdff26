/*
 * tests/integration/test_bt_tracker.c - the built-in tracker over loopback:
 * HTTP announce (compact, dict, peers6, numwant, events, ip=), scrape,
 * bad requests and oversized heads, keep-alive, peer expiry, and BEP 15
 * over UDP.
 */
#include <arpa/inet.h>

#include "bt/tracker_proto.h"
#include "bt/tracker_srv.h"
#include "test.h"

static sk_loop *loop;
static struct bt_tracker *trk;
static uint16_t port;

static void start(unsigned interval)
{
	struct bt_tracker_opts o = {.listen = "127.0.0.1:0", .udp = true,
				    .interval = interval};
	loop = test_loop();
	ASSERT_OK(bt_tracker_new(loop, &o, &trk));
	port = bt_tracker_port(trk);
	ASSERT(port != 0);
}

static void stop(void)
{
	bt_tracker_free(trk);
	sk_loop_free(loop);
}

/* ---- a one-shot HTTP client ------------------------------------------------------ */

struct hget {
	const char *req;
	struct sk_buf raw;
	int done;
};

static void hg_open(sk_conn *c, void *ud)
{
	struct hget *g = ud;
	ASSERT_OK(sk_conn_write(c, g->req, strlen(g->req)));
}

static void hg_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct hget *g = ud;
	ASSERT_OK(sk_buf_append(&g->raw, sk_buf_data(in), sk_buf_len(in)));
	sk_buf_consume(in, sk_buf_len(in));
}

static void hg_close(sk_conn *c, int err, void *ud)
{
	((struct hget *)ud)->done = 1;
}

static const struct sk_conn_cbs hg_cbs = {
	.on_open = hg_open, .on_read = hg_read, .on_close = hg_close};

/* Send raw request bytes, wait for the server to close; raw reply in g. */
static void http_raw(const char *req, struct hget *g)
{
	char addr[32];
	sk_conn *c;
	memset(g, 0, sizeof *g);
	sk_buf_init(&g->raw, 1u << 20);
	g->req = req;
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	ASSERT_OK(sk_connect(loop, addr, NULL, &hg_cbs, g, &c));
	test_run_until(loop, &g->done, 5000);
}

/* GET target; the status and the body (into body). */
static int http_get(const char *target, struct sk_buf *body)
{
	char req[2048];
	struct hget g;
	struct bt_http_resp r;
	struct sk_slice b;
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: t\r\n\r\n", target);
	http_raw(req, &g);
	ASSERT_EQ(bt_http_resp_parse(sk_buf_data(&g.raw), sk_buf_len(&g.raw),
				     8192, &r), 1);
	ASSERT_EQ(bt_http_body(&r, sk_buf_data(&g.raw) + r.head_len,
			       sk_buf_len(&g.raw) - r.head_len, true, 1u << 20, &b), 1);
	sk_buf_clear(body);
	ASSERT_OK(sk_buf_append(body, b.p, b.n));
	sk_buf_free(&g.raw);
	return r.status;
}

static void mkreq(struct bt_announce_req *r, char ih, char id, uint16_t p,
		  uint64_t left, int event)
{
	memset(r, 0, sizeof *r);
	memset(r->info_hash, ih, 20);
	memset(r->peer_id, id, 20);
	r->port = p;
	r->left = left;
	r->event = event;
	r->numwant = -1;
	r->compact = true;
}

/* Announce r (plus extra query text) and parse the answer. */
static void http_announce(const struct bt_announce_req *r, const char *extra,
			  struct bt_announce_resp *resp, struct bt_peer *peers,
			  size_t max)
{
	struct sk_buf url = SK_BUF_INIT(4096), body = SK_BUF_INIT(1u << 20);
	ASSERT_OK(bt_announce_url(&url, "/announce", r));
	if (extra)
		ASSERT_OK(sk_buf_append_str(&url, extra));
	ASSERT_OK(sk_buf_append(&url, "", 1));
	ASSERT_EQ(http_get((const char *)sk_buf_data(&url), &body), 200);
	ASSERT_OK(bt_announce_resp_parse(sk_buf_data(&body), sk_buf_len(&body),
					 resp, peers, max));
	sk_buf_free(&url);
	sk_buf_free(&body);
}

static bool has_peer(const struct bt_peer *v, size_t n, const char *ip,
		     uint16_t p)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? 6 : 4;
	ASSERT_EQ(inet_pton(fam == 6 ? AF_INET6 : AF_INET, ip, a), 1);
	for (size_t i = 0; i < n; i++)
		if (v[i].family == fam && v[i].port == p &&
		    memcmp(v[i].ip, a, fam == 6 ? 16 : 4) == 0)
			return true;
	return false;
}

TEST(announce_compact_and_events)
{
	struct bt_announce_req r;
	struct bt_announce_resp a;
	struct bt_peer pv[16];
	uint8_t ih[20];

	start(300);
	memset(ih, 'H', 20);
	mkreq(&r, 'H', 'a', 6001, 100, BT_EVENT_STARTED);
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT(!a.failure.p);
	ASSERT_EQ(a.interval, 300);
	ASSERT_EQ(a.npeers, 0);
	ASSERT_EQ(a.incomplete, 1);
	ASSERT_EQ(a.complete, 0);

	mkreq(&r, 'H', 'b', 6002, 100, BT_EVENT_STARTED);
	http_announce(&r, "&ip=127.0.0.2", &a, pv, 16);
	ASSERT_EQ(a.npeers, 1);
	ASSERT(has_peer(pv, 1, "127.0.0.1", 6001));
	ASSERT_EQ(a.incomplete, 2);

	/* the first one sees the second at the address it claimed */
	mkreq(&r, 'H', 'a', 6001, 100, BT_EVENT_NONE);
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 1);
	ASSERT(has_peer(pv, 1, "127.0.0.2", 6002));

	/* b completes: a seeder now, and counted as downloaded */
	mkreq(&r, 'H', 'b', 6002, 0, BT_EVENT_COMPLETED);
	http_announce(&r, "&ip=127.0.0.2", &a, pv, 16);
	ASSERT_EQ(a.complete, 1);
	ASSERT_EQ(a.incomplete, 1);
	ASSERT_EQ(a.npeers, 1); /* a is a leecher: a seeder still gets it */

	/* a third one, a seeder: seeders are not sent to seeders */
	mkreq(&r, 'H', 'c', 6003, 0, BT_EVENT_STARTED);
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 1);
	ASSERT(has_peer(pv, 1, "127.0.0.1", 6001));

	/* numwant limits the list */
	mkreq(&r, 'H', 'd', 6004, 5, BT_EVENT_STARTED);
	r.numwant = 2;
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 2);
	r.numwant = 0;
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 0);
	ASSERT_EQ(bt_tracker_peers(trk, ih), 4);

	/* stopped removes the peer */
	mkreq(&r, 'H', 'd', 6004, 5, BT_EVENT_STOPPED);
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(bt_tracker_peers(trk, ih), 3);
	ASSERT_EQ(a.incomplete, 1);

	/* scrape: this swarm and an unknown one */
	struct sk_buf url = SK_BUF_INIT(4096), body = SK_BUF_INIT(1u << 20);
	uint8_t hs[2][20];
	memset(hs[0], 'H', 20);
	memset(hs[1], 'Z', 20);
	ASSERT_OK(bt_scrape_url(&url, "/announce", (const uint8_t(*)[20])hs, 2));
	ASSERT_OK(sk_buf_append(&url, "", 1));
	ASSERT_EQ(http_get((const char *)sk_buf_data(&url), &body), 200);
	struct bt_scrape_entry e[4];
	struct sk_slice fail;
	ASSERT_EQ(bt_scrape_resp_parse(sk_buf_data(&body), sk_buf_len(&body),
				       &fail, e, 4), 2);
	ASSERT_MEMEQ(e[0].info_hash, hs[0], 20);
	ASSERT_EQ(e[0].complete, 2);
	ASSERT_EQ(e[0].incomplete, 1);
	ASSERT_EQ(e[0].downloaded, 1);
	ASSERT_EQ(e[1].complete, 0);
	sk_buf_free(&url);
	sk_buf_free(&body);
	stop();
}

TEST(dict_and_ipv6_peers)
{
	struct bt_announce_req r;
	struct bt_announce_resp a;
	struct bt_peer pv[16];

	start(300);
	mkreq(&r, 'D', 'a', 7001, 1, BT_EVENT_STARTED);
	http_announce(&r, "&ip=%3A%3A1", &a, pv, 16);
	mkreq(&r, 'D', 'b', 7002, 1, BT_EVENT_STARTED);
	http_announce(&r, "&ip=127.0.0.5", &a, pv, 16);
	/* compact: the IPv6 peer comes in peers6 */
	mkreq(&r, 'D', 'c', 7003, 1, BT_EVENT_STARTED);
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 2);
	ASSERT(has_peer(pv, 2, "::1", 7001));
	ASSERT(has_peer(pv, 2, "127.0.0.5", 7002));
	/* dict form */
	r.compact = false;
	http_announce(&r, NULL, &a, pv, 16);
	ASSERT_EQ(a.npeers, 2);
	ASSERT(has_peer(pv, 2, "::1", 7001));
	ASSERT(has_peer(pv, 2, "127.0.0.5", 7002));
	stop();
}

TEST(bad_requests)
{
	struct sk_buf body = SK_BUF_INIT(1u << 20);
	struct hget g;
	struct bt_announce_resp a;
	struct bt_peer pv[1];

	start(300);
	/* no peer_id/port: a tracker failure, not an HTTP error */
	ASSERT_EQ(http_get("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa", &body), 200);
	ASSERT_OK(bt_announce_resp_parse(sk_buf_data(&body), sk_buf_len(&body),
					 &a, pv, 1));
	ASSERT(a.failure.p != NULL);
	ASSERT_EQ(http_get("/nothing", &body), 404);
	ASSERT_EQ(bt_tracker_swarms(trk), 0);

	/* malformed request line */
	http_raw("BLAH\r\n\r\n", &g);
	ASSERT(sk_buf_len(&g.raw) > 12);
	ASSERT(memcmp(sk_buf_data(&g.raw), "HTTP/1.1 400", 12) == 0);
	sk_buf_free(&g.raw);

	/* a head that never ends is cut at the bound */
	static char big[3 * BT_TRACKER_HEAD_MAX];
	memset(big, 'x', sizeof big - 1);
	memcpy(big, "GET /announce?", 14);
	http_raw(big, &g);
	ASSERT(sk_buf_len(&g.raw) > 12);
	ASSERT(memcmp(sk_buf_data(&g.raw), "HTTP/1.1 431", 12) == 0);
	sk_buf_free(&g.raw);

	/* keep-alive: two requests on one connection, then close */
	http_raw("GET /scrape HTTP/1.1\r\nHost: t\r\n\r\n"
		 "GET /scrape HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &g);
	struct bt_http_resp hr;
	ASSERT_EQ(bt_http_resp_parse(sk_buf_data(&g.raw), sk_buf_len(&g.raw),
				     8192, &hr), 1);
	ASSERT_EQ(hr.status, 200);
	size_t second = hr.head_len + (size_t)hr.content_length;
	ASSERT(sk_buf_len(&g.raw) > second);
	ASSERT_EQ(bt_http_resp_parse(sk_buf_data(&g.raw) + second,
				     sk_buf_len(&g.raw) - second, 8192, &hr), 1);
	ASSERT_EQ(hr.status, 200);
	sk_buf_free(&g.raw);
	sk_buf_free(&body);
	stop();
}

TEST(peers_expire)
{
	struct bt_announce_req r;
	struct bt_announce_resp a;
	struct bt_peer pv[1];
	uint8_t ih[20];

	start(1); /* peers live two intervals: 2 s */
	memset(ih, 'E', 20);
	mkreq(&r, 'E', 'a', 8001, 1, BT_EVENT_STARTED);
	http_announce(&r, NULL, &a, pv, 1);
	ASSERT_EQ(bt_tracker_peers(trk, ih), 1);
	ASSERT_EQ(bt_tracker_swarms(trk), 1);
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + 6000;
	while (bt_tracker_swarms(trk) != 0) {
		ASSERT(sk_loop_now(loop) < end);
		ASSERT_OK(sk_loop_run_once(loop, 100));
	}
	ASSERT_EQ(bt_tracker_peers(trk, ih), 0);
	stop();
}

/* ---- UDP ------------------------------------------------------------------------ */

struct ureply {
	uint8_t p[2048];
	size_t n;
	int got;
};

static void on_udp(sk_dgram *d, const uint8_t *p, size_t n,
		   const struct sk_addr *from, void *ud)
{
	struct ureply *u = ud;
	if (n > sizeof u->p)
		n = sizeof u->p;
	memcpy(u->p, p, n);
	u->n = n;
	u->got = 1;
}

static void udp_roundtrip(sk_dgram *d, struct sk_buf *req, struct ureply *u,
			  struct bt_udp_msg *m)
{
	struct sk_addr to;
	ASSERT_OK(sk_addr_from_ip("127.0.0.1", port, &to));
	u->got = 0;
	ASSERT_OK(sk_dgram_send(d, sk_buf_data(req), sk_buf_len(req), &to));
	sk_buf_clear(req);
	test_run_until(loop, &u->got, 5000);
	ASSERT_OK(bt_udp_resp_parse(u->p, u->n, m));
}

TEST(udp_tracker)
{
	sk_dgram *d;
	struct ureply u;
	struct bt_udp_msg m;
	struct sk_buf b = SK_BUF_INIT(4096);
	struct bt_announce_req r;

	start(300);
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, on_udp, &u, &d));
	ASSERT_OK(bt_udp_connect_write(&b, 77));
	udp_roundtrip(d, &b, &u, &m);
	ASSERT_EQ(m.action, BT_UDP_CONNECT);
	ASSERT_EQ(m.tid, 77);
	uint64_t cid = m.conn_id;

	/* a wrong connection id is an error */
	mkreq(&r, 'U', 'a', 9001, 10, BT_EVENT_STARTED);
	ASSERT_OK(bt_udp_announce_write(&b, cid ^ 1, 78, &r));
	udp_roundtrip(d, &b, &u, &m);
	ASSERT_EQ(m.action, BT_UDP_ERROR);

	ASSERT_OK(bt_udp_announce_write(&b, cid, 79, &r));
	udp_roundtrip(d, &b, &u, &m);
	ASSERT_EQ(m.action, BT_UDP_ANNOUNCE);
	ASSERT_EQ(m.tid, 79);
	ASSERT_EQ(m.interval, 300);
	ASSERT_EQ(m.leechers, 1);
	ASSERT_EQ(m.peers.n, 0);

	/* a second peer (over HTTP) shows up in the UDP answer */
	struct bt_announce_resp a;
	struct bt_peer pv1[1];
	mkreq(&r, 'U', 'b', 9002, 0, BT_EVENT_STARTED);
	http_announce(&r, NULL, &a, pv1, 1);
	mkreq(&r, 'U', 'a', 9001, 10, BT_EVENT_NONE);
	ASSERT_OK(bt_udp_announce_write(&b, cid, 80, &r));
	udp_roundtrip(d, &b, &u, &m);
	ASSERT_EQ(m.seeders, 1);
	ASSERT_EQ(m.peers.n, 6);
	struct bt_peer pv[2];
	ASSERT_EQ(bt_peers_compact(m.peers, 4, pv, 2), 1);
	ASSERT(has_peer(pv, 1, "127.0.0.1", 9002));

	uint8_t hs[1][20];
	memset(hs[0], 'U', 20);
	ASSERT_OK(bt_udp_scrape_write(&b, cid, 81, (const uint8_t(*)[20])hs, 1));
	udp_roundtrip(d, &b, &u, &m);
	ASSERT_EQ(m.action, BT_UDP_SCRAPE);
	struct bt_scrape_entry e;
	bt_udp_scrape_entry(&m, 0, &e);
	ASSERT_EQ(e.complete, 1);
	ASSERT_EQ(e.incomplete, 1);

	sk_dgram_close(d);
	sk_buf_free(&b);
	stop();
}

TEST_MAIN(TEST_ENTRY(announce_compact_and_events), TEST_ENTRY(dict_and_ipv6_peers),
	  TEST_ENTRY(bad_requests), TEST_ENTRY(peers_expire),
	  TEST_ENTRY(udp_tracker))
