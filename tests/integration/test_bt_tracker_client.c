/*
 * tests/integration/test_bt_tracker_client.c - announcing to trackers:
 * BEP 12 order (a dead first tier, then the next), UDP (BEP 15) and
 * HTTP against the built-in tracker, peers handed over, "completed" and
 * "stopped", backing off when every tracker fails, and a UDP tracker
 * that drops the first packet (the client retransmits).
 */
#include "bt/tracker_client.h"
#include "bt/tracker_srv.h"
#include "test.h"

static sk_loop *loop;
static struct bt_tracker *trk;
static char http_url[64], udp_url[64];

struct who {
	struct bt_metainfo m;
	struct bt_tier tiers[2];
	const char *urls[2][2];
	struct bt_tc *tc;
	uint64_t left;
	struct bt_peer got[8];
	size_t ngot;
	int calls, stopped;
};

static void on_peers(void *ud, const struct bt_peer *v, size_t n)
{
	struct who *w = ud;
	w->calls++;
	for (size_t i = 0; i < n && w->ngot < 8; i++)
		w->got[w->ngot++] = v[i];
}

static void on_stats(void *ud, uint64_t *up, uint64_t *down, uint64_t *left)
{
	struct who *w = ud;
	*up = 0;
	*down = 0;
	*left = w->left;
}

static void on_stopped(void *arg) { ((struct who *)arg)->stopped = 1; }

static void start_tracker(void)
{
	struct bt_tracker_opts o = {.listen = "127.0.0.1:0", .udp = true,
				    .interval = 60};
	loop = test_loop();
	ASSERT_OK(bt_tracker_new(loop, &o, &trk));
	snprintf(http_url, sizeof http_url, "http://127.0.0.1:%u/announce",
		 bt_tracker_port(trk));
	snprintf(udp_url, sizeof udp_url, "udp://127.0.0.1:%u/announce",
		 bt_tracker_port(trk));
}

/* A client with tier 0 = {t0}, tier 1 = {t1} (either may be NULL). */
static void mk(struct who *w, char id, uint16_t port, const char *t0,
	       const char *t1, unsigned retry_ms)
{
	memset(w, 0, sizeof *w);
	memset(w->m.info_hash, 'I', 20);
	w->left = 1000;
	size_t nt = 0;
	const char *t[2] = {t0, t1};
	for (int i = 0; i < 2; i++) {
		if (!t[i])
			continue;
		w->urls[nt][0] = t[i];
		w->tiers[nt].urls = w->urls[nt];
		w->tiers[nt].n = 1;
		nt++;
	}
	w->m.tiers = w->tiers;
	w->m.ntiers = nt;
	struct bt_tc_opts o = {.m = &w->m, .port = port, .bind_ip = "127.0.0.1",
			       .retry_ms = retry_ms, .udp_try_ms = 200,
			       .peers = on_peers, .stats = on_stats, .ud = w};
	memset(o.peer_id, id, 20);
	ASSERT_OK(bt_tc_new(loop, &o, &w->tc));
}

static void run_until(bool (*cond)(void), unsigned ms)
{
	sk_loop_update_time(loop);
	uint64_t end = sk_loop_now(loop) + ms;
	while (!cond()) {
		sk_loop_update_time(loop);
		if (sk_loop_now(loop) >= end)
			FAIL("timed out after %u ms", ms);
		ASSERT_OK(sk_loop_run_once(loop, 20));
	}
}

static uint8_t ih[20];
static size_t want_peers, want_seeds;
static struct who *watched;
static bool peers_are(void) { return bt_tracker_peers(trk, ih) == want_peers; }
static bool seeds_are(void) { return bt_tracker_seeds(trk, ih) == want_seeds; }
static bool got_peers(void) { return watched->ngot > 0; }
static bool stopped(void) { return watched->stopped; }
static bool succeeded(void) { return bt_tc_successes(watched->tc) > 0; }

TEST(tiers_udp_http_events)
{
	struct who a, b;
	start_tracker();
	memset(ih, 'I', 20);
	/* a: a dead HTTP tracker first, the UDP one in the next tier */
	mk(&a, 'a', 7001, "http://127.0.0.1:1/announce", udp_url, 60000);
	bt_tc_start(a.tc);
	watched = &a;
	run_until(succeeded, 5000);
	ASSERT_EQ(bt_tc_successes(a.tc), 1);
	want_peers = 1;
	ASSERT(peers_are());
	/* b: HTTP; it hears of a */
	mk(&b, 'b', 7002, http_url, NULL, 60000);
	bt_tc_start(b.tc);
	watched = &b;
	run_until(got_peers, 5000);
	ASSERT_EQ(b.ngot, 1);
	ASSERT_EQ(b.got[0].port, 7001);
	want_peers = 2;
	ASSERT(peers_are());
	/* a completes: the tracker counts a seeder */
	a.left = 0;
	bt_tc_completed(a.tc);
	want_seeds = 1;
	run_until(seeds_are, 5000);
	/* b stops: it is gone from the tracker, then done is called */
	watched = &b;
	bt_tc_stop(b.tc, 3000, on_stopped, &b);
	run_until(stopped, 5000);
	want_peers = 1;
	ASSERT(peers_are());
	watched = &a;
	bt_tc_stop(a.tc, 3000, on_stopped, &a);
	run_until(stopped, 5000);
	want_peers = 0;
	ASSERT(peers_are());
	bt_tc_free(a.tc);
	bt_tc_free(b.tc);
	bt_tracker_free(trk);
	sk_loop_free(loop);
}

static struct who *failing;
static bool failed_twice(void) { return strstr(bt_tc_last_error(failing->tc), "127.0.0.1:1") != NULL && failing->calls == 0; }

TEST(all_dead_backs_off)
{
	struct who w;
	start_tracker();
	mk(&w, 'w', 7003, "http://127.0.0.1:1/announce", NULL, 100);
	bt_tc_start(w.tc);
	failing = &w;
	run_until(failed_twice, 5000);
	/* it keeps retrying (100 ms, doubling) without ever succeeding */
	for (int i = 0; i < 30; i++)
		ASSERT_OK(sk_loop_run_once(loop, 20));
	ASSERT_EQ(bt_tc_successes(w.tc), 0);
	/* nothing was ever announced: stop is immediate */
	bt_tc_stop(w.tc, 3000, on_stopped, &w);
	ASSERT_EQ(w.stopped, 1);
	bt_tc_free(w.tc);
	bt_tracker_free(trk);
	sk_loop_free(loop);
}

/* ---- a UDP tracker that ignores the first packet of each kind --------------------- */

static int seen_connect, seen_announce;

static void lossy(sk_dgram *d, const uint8_t *p, size_t n,
		  const struct sk_addr *from, void *ud)
{
	struct bt_udp_msg m;
	uint8_t raw[256];
	struct sk_buf out = {raw, 0, 0, sizeof raw, sizeof raw, 0};
	struct bt_peer peer = {{127, 0, 0, 9}, 4, 6999};
	if (bt_udp_req_parse(p, n, &m) < 0)
		return;
	if (m.action == BT_UDP_CONNECT) {
		if (seen_connect++ == 0)
			return;
		ASSERT_OK(bt_udp_connect_resp_write(&out, m.tid, 0x1234));
	} else if (m.action == BT_UDP_ANNOUNCE) {
		ASSERT_EQ(m.conn_id, 0x1234);
		ASSERT_EQ(m.announce.port, 7004);
		ASSERT_EQ(m.announce.event, BT_EVENT_STARTED);
		if (seen_announce++ == 0)
			return;
		ASSERT_OK(bt_udp_announce_resp_write(&out, m.tid, 60, 1, 1, &peer, 1, 4));
	}
	ASSERT_OK(sk_dgram_send(d, out.data, out.len, from));
}

TEST(udp_retransmits)
{
	struct who w;
	sk_dgram *d;
	struct sk_addr a;
	char url[64];
	loop = test_loop();
	ASSERT_OK(sk_dgram_open(loop, "127.0.0.1:0", NULL, lossy, NULL, &d));
	ASSERT_OK(sk_dgram_local(d, &a));
	snprintf(url, sizeof url, "udp://127.0.0.1:%u", sk_addr_port(&a));
	mk(&w, 'u', 7004, url, NULL, 60000);
	bt_tc_start(w.tc);
	watched = &w;
	run_until(got_peers, 5000);
	ASSERT_EQ(seen_connect, 2);
	ASSERT_EQ(seen_announce, 2);
	ASSERT_EQ(w.got[0].port, 6999);
	ASSERT_EQ(w.got[0].ip[3], 9);
	bt_tc_free(w.tc);
	sk_dgram_close(d);
	sk_loop_free(loop);
}

TEST_MAIN(TEST_ENTRY(tiers_udp_http_events), TEST_ENTRY(all_dead_backs_off),
	  TEST_ENTRY(udp_retransmits))
