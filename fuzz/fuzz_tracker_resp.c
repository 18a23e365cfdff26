/*
 * fuzz/fuzz_tracker_resp.c - everything a tracker or a tracker client
 * parses: bencoded announce and scrape responses, UDP packets (BEP 15) in
 * both directions, HTTP response and request heads, announce query
 * strings, URLs and percent escapes.
 *
 * Invariants: slices stay inside the input, counts are consistent, and
 * what parses survives a write and a second parse (announce peers in
 * compact form, announce queries rebuilt as URLs, UDP requests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/tracker_proto.h"
#include "fuzz.h"

/* A slice that must lie inside the input p[0..n). */
#define inside(s) in_input(p, n, (s))

static void in_input(const uint8_t *p, size_t n, struct sk_slice s)
{
	if (s.n == 0)
		return;
	CHECK(s.p >= p && s.p + s.n <= p + n);
}

static void announce(const uint8_t *p, size_t n)
{
	struct bt_announce_resp r, r2;
	struct bt_peer peers[64], again[64];
	if (bt_announce_resp_parse(p, n, &r, peers, 64) < 0)
		return;
	inside(r.failure);
	inside(r.warning);
	inside(r.tracker_id);
	size_t got = r.npeers < 64 ? r.npeers : 64;
	for (size_t i = 0; i < got; i++)
		CHECK((peers[i].family == 4 || peers[i].family == 6) && peers[i].port);
	if (r.failure.p)
		return;
	/* compact form puts IPv4 first: compare per family */
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	CHECK(bt_announce_resp_write(&b, &r, peers, got, true) == 0);
	CHECK(bt_announce_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &r2, again, 64) == 0);
	CHECK(r2.npeers == got && r2.interval == r.interval &&
	      r2.min_interval == r.min_interval && r2.complete == r.complete &&
	      r2.incomplete == r.incomplete);
	size_t k = 0;
	for (int fam = 4; fam <= 6; fam += 2)
		for (size_t i = 0; i < got; i++)
			if (peers[i].family == fam)
				CHECK(memcmp(&peers[i], &again[k++], sizeof peers[i]) == 0);
	sk_buf_free(&b);
}

static void scrape(const uint8_t *p, size_t n)
{
	struct bt_scrape_entry e[8];
	struct sk_slice failure;
	int k = bt_scrape_resp_parse(p, n, &failure, e, 8);
	CHECK(k >= 0 || k == SK_EPROTO);
	inside(failure);
}

static void udp(const uint8_t *p, size_t n)
{
	struct bt_udp_msg m, m2;
	if (bt_udp_resp_parse(p, n, &m) == 0) {
		inside(m.peers);
		inside(m.entries);
		inside(m.message);
		CHECK(m.entries.n % 12 == 0);
		struct bt_peer peers[8];
		(void)bt_peers_compact(m.peers, 4, peers, 8);
		(void)bt_peers_compact(m.peers, 6, peers, 8);
	}
	if (bt_udp_req_parse(p, n, &m) < 0)
		return;
	inside(m.hashes);
	CHECK(m.hashes.n % 20 == 0 && m.hashes.n <= 20 * BT_UDP_SCRAPE_MAX);
	struct sk_buf b = SK_BUF_INIT(4096);
	if (m.action == BT_UDP_ANNOUNCE) {
		CHECK(bt_udp_announce_write(&b, m.conn_id, m.tid, &m.announce) == 0);
		CHECK(bt_udp_req_parse(sk_buf_data(&b), sk_buf_len(&b), &m2) == 0);
		CHECK(memcmp(&m.announce, &m2.announce, sizeof m.announce) == 0);
	}
	sk_buf_free(&b);
}

static void http(const uint8_t *p, size_t n)
{
	struct bt_http_resp r;
	struct sk_slice body;
	if (bt_http_resp_parse(p, n, 512, &r) == 1) {
		CHECK(r.head_len <= n && r.head_len <= 512);
		inside(r.reason);
		inside(r.location);
		int b = bt_http_body(&r, p + r.head_len, n - r.head_len, true, 256, &body);
		if (b == 1)
			CHECK(body.n <= n - r.head_len);
	}
	struct bt_http_req q;
	if (bt_http_req_parse(p, n, 512, &q) == 1) {
		CHECK(q.head_len <= n);
		inside(q.method);
		inside(q.target);
		inside(q.path);
		inside(q.query);
		struct sk_slice it = q.query, k, v;
		while (bt_query_next(&it, &k, &v) == 1) {
			inside(k);
			inside(v);
		}
	}
}

/* A query that parses must come back the same from bt_announce_url. */
static void query(const uint8_t *p, size_t n)
{
	struct bt_announce_req r, r2;
	if (bt_announce_query_parse((const char *)p, n, &r) < 0)
		return;
	struct sk_buf b = SK_BUF_INIT(4096);
	CHECK(bt_announce_url(&b, "http://t/a", &r) == 0);
	const char *url = (const char *)sk_buf_data(&b);
	const char *q = memchr(url, '?', sk_buf_len(&b));
	CHECK(q);
	CHECK(bt_announce_query_parse(q + 1, sk_buf_len(&b) - (size_t)(q + 1 - url), &r2) == 0);
	CHECK(memcmp(r.info_hash, r2.info_hash, 20) == 0 &&
	      memcmp(r.peer_id, r2.peer_id, 20) == 0 && r.port == r2.port &&
	      r.left == r2.left && r.uploaded == r2.uploaded &&
	      r.downloaded == r2.downloaded && r.event == r2.event &&
	      r.numwant == r2.numwant && r.compact == r2.compact);
	sk_buf_free(&b);
}

static void url(const uint8_t *p, size_t n)
{
	struct bt_url u;
	if (bt_url_parse((const char *)p, n, &u) == 0) {
		inside(u.host);
		CHECK(u.host.n > 0);
		CHECK(u.scheme != BT_URL_UDP || u.port != 0);
	}
	uint8_t out[256];
	int k = bt_pct_decode((const char *)p, n, out, sizeof out);
	CHECK(k <= (int)n && (k >= 0 || k == SK_EPROTO || k == SK_ENOBUFS));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	announce(data, size);
	scrape(data, size);
	udp(data, size);
	http(data, size);
	query(data, size);
	url(data, size);
	return 0;
}
