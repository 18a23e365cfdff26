/*
 * tests/unit/test_bt_tracker_proto.c - tracker URLs and percent encoding,
 * HTTP announce and scrape (both sides), UDP tracker packets (BEP 15),
 * and the small HTTP/1.x parsers.
 */
#include "test.h"

#include <arpa/inet.h>

#include "bt/tracker_proto.h"

static struct sk_slice S(const char *s)
{
	return (struct sk_slice){(const uint8_t *)s, strlen(s)};
}

static void slice_is(struct sk_slice s, const char *want)
{
	size_t n = strlen(want);
	if (s.n != n || (n && memcmp(s.p, want, n) != 0))
		FAIL("slice \"%.*s\" != \"%s\"", (int)s.n, (const char *)s.p, want);
}

static void buf_is(const struct sk_buf *b, const char *want)
{
	slice_is(sk_buf_slice(b), want);
}

/* ---- URLs and encoding --------------------------------------------------------- */

static void url_ok(const char *s, int scheme, const char *host, unsigned port,
		   const char *target)
{
	struct bt_url u;
	int r = bt_url_parse(s, strlen(s), &u);
	if (r < 0)
		FAIL("bt_url_parse(%s): %d", s, r);
	ASSERT_EQ(u.scheme, scheme);
	slice_is(u.host, host);
	ASSERT_EQ(u.port, port);
	slice_is(u.target, target);
}

TEST(urls)
{
	url_ok("http://t.example/announce", BT_URL_HTTP, "t.example", 80, "/announce");
	url_ok("HTTPS://t.example/a?k=1#frag", BT_URL_HTTPS, "t.example", 443, "/a?k=1");
	url_ok("http://t:8080", BT_URL_HTTP, "t", 8080, "/");
	url_ok("http://t?x", BT_URL_HTTP, "t", 80, "?x");
	url_ok("udp://tracker.example:6969/announce", BT_URL_UDP, "tracker.example",
	       6969, "/announce");
	url_ok("udp://[2001:db8::1]:6969", BT_URL_UDP, "2001:db8::1", 6969, "/");
	url_ok("http://[::1]/ann", BT_URL_HTTP, "::1", 80, "/ann");

	static const char *bad[] = {
		"ftp://t/a", "http://", "http:///a", "http://:80/", "http://t:0/",
		"http://t:65536/", "http://t:/a", "http://t:12a/", "http://u@t/a",
		"udp://t/announce", "http://t/a b", "http://[::1/", "http://[]:80/",
		"http://[::1]x/", "t/announce", "",
	};
	struct bt_url u;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (bt_url_parse(bad[i], strlen(bad[i]), &u) != SK_EINVAL)
			FAIL("accepted URL '%s'", bad[i]);
}

TEST(percent_encoding)
{
	/* the classic example of the BitTorrent specification wiki */
	static const uint8_t hash[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
					 0xf1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
					 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
	struct sk_buf b = SK_BUF_INIT(4096);
	ASSERT_OK(bt_pct_encode(&b, hash, 20));
	buf_is(&b, "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A");
	sk_buf_clear(&b);
	ASSERT_OK(bt_pct_encode(&b, "aZ09-._~ /?&=+%", 15));
	buf_is(&b, "aZ09-._~%20%2F%3F%26%3D%2B%25");

	/* every byte value survives a round trip */
	uint8_t all[256], back[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	sk_buf_clear(&b);
	ASSERT_OK(bt_pct_encode(&b, all, 256));
	ASSERT_EQ(bt_pct_decode((const char *)sk_buf_data(&b), sk_buf_len(&b), back,
				sizeof back), 256);
	ASSERT_MEMEQ(all, back, 256);
	sk_buf_free(&b);

	uint8_t out[8];
	ASSERT_EQ(bt_pct_decode("a%2b+%7E", 8, out, sizeof out), 4);
	ASSERT_MEMEQ(out, "a++~", 4); /* '+' stays '+' */
	ASSERT_EQ(bt_pct_decode("%", 1, out, 8), SK_EPROTO);
	ASSERT_EQ(bt_pct_decode("%4", 2, out, 8), SK_EPROTO);
	ASSERT_EQ(bt_pct_decode("%zz", 3, out, 8), SK_EPROTO);
	ASSERT_EQ(bt_pct_decode("%4g", 3, out, 8), SK_EPROTO);
	ASSERT_EQ(bt_pct_decode("abc", 3, out, 2), SK_ENOBUFS);

	struct sk_slice q = S("a=1&&b&c=&=d"), k, v;
	ASSERT_EQ(bt_query_next(&q, &k, &v), 1);
	slice_is(k, "a");
	slice_is(v, "1");
	ASSERT_EQ(bt_query_next(&q, &k, &v), 1);
	slice_is(k, "b");
	slice_is(v, "");
	ASSERT_EQ(bt_query_next(&q, &k, &v), 1);
	slice_is(k, "c");
	slice_is(v, "");
	ASSERT_EQ(bt_query_next(&q, &k, &v), 1);
	slice_is(k, "");
	slice_is(v, "d");
	ASSERT_EQ(bt_query_next(&q, &k, &v), 0);
}

/* ---- HTTP announce --------------------------------------------------------------- */

static void sample_req(struct bt_announce_req *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 20; i++) {
		r->info_hash[i] = (uint8_t)(i * 13 + 200);
		r->peer_id[i] = (uint8_t)("-SK0100-abcdefghijkl"[i]);
	}
	r->port = 51413;
	r->uploaded = 1;
	r->downloaded = 1ull << 40;
	r->left = 123456789;
	r->event = BT_EVENT_STARTED;
	r->numwant = 50;
	r->key = 0xa1b2c3d4;
	r->compact = true;
}

TEST(announce_url_round_trip)
{
	struct bt_announce_req r, g;
	struct sk_buf b = SK_BUF_INIT(4096);
	sample_req(&r);
	ASSERT_OK(bt_announce_url(&b, "http://t.example/announce", &r));
	const char *url = (const char *)sk_buf_data(&b);
	const char *q = memchr(url, '?', sk_buf_len(&b));
	ASSERT(q != NULL);
	ASSERT(strncmp(url, "http://t.example/announce?info_hash=%C8%D5", 42) == 0);
	ASSERT(memmem(url, sk_buf_len(&b), "&peer_id=-SK0100-abcdefghijkl&port=51413", 40));
	ASSERT(memmem(url, sk_buf_len(&b), "&event=started", 14));
	ASSERT(memmem(url, sk_buf_len(&b), "&key=A1B2C3D4", 13));
	size_t qn = sk_buf_len(&b) - (size_t)(q + 1 - url);
	ASSERT_OK(bt_announce_query_parse(q + 1, qn, &g));
	ASSERT_MEMEQ(g.info_hash, r.info_hash, 20);
	ASSERT_MEMEQ(g.peer_id, r.peer_id, 20);
	ASSERT_EQ(g.port, r.port);
	ASSERT(g.uploaded == 1 && g.downloaded == 1ull << 40 && g.left == 123456789);
	ASSERT_EQ(g.event, BT_EVENT_STARTED);
	ASSERT_EQ(g.numwant, 50);
	ASSERT_EQ(g.key, 0xa1b2c3d4);
	ASSERT(g.compact && !g.no_peer_id);

	/* a base with a query gets '&'; no event, default numwant */
	sk_buf_clear(&b);
	r.event = BT_EVENT_NONE;
	r.numwant = -1;
	ASSERT_OK(bt_announce_url(&b, "http://t/a.php?passkey=xyz", &r));
	ASSERT(strncmp((const char *)sk_buf_data(&b),
		       "http://t/a.php?passkey=xyz&info_hash=", 37) == 0);
	ASSERT(!memmem(sk_buf_data(&b), sk_buf_len(&b), "event", 5));
	ASSERT(!memmem(sk_buf_data(&b), sk_buf_len(&b), "numwant", 7));
	/* a full buffer is left as it was */
	struct sk_buf small = SK_BUF_INIT(60);
	ASSERT_OK(sk_buf_append_str(&small, "keep"));
	ASSERT_EQ(bt_announce_url(&small, "http://t/a", &r), SK_ENOBUFS);
	buf_is(&small, "keep");
	sk_buf_free(&small);
	sk_buf_free(&b);

	/* the tracker side refuses what it cannot use */
	const char *h20 = "info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb";
	char q2[256];
	snprintf(q2, sizeof q2, "%s&port=1&event=stopped&compact=1&left=5", h20);
	ASSERT_OK(bt_announce_query_parse(q2, strlen(q2), &g));
	ASSERT(g.event == BT_EVENT_STOPPED && g.compact && g.left == 5 && g.numwant == -1);
	static const char *bad[] = {
		"port=1&peer_id=bbbbbbbbbbbbbbbbbbbb",                  /* no hash */
		"info_hash=short&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1",
		"info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb",
		"info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=0",
		"info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=65536",
		"info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=-1",
		"info_hash=aaaaaaaaaaaaaaaaaaa%&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1",
		("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1"
		 "&uploaded=99999999999999999999"),
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (bt_announce_query_parse(bad[i], strlen(bad[i]), &g) != SK_EPROTO)
			FAIL("accepted query '%s'", bad[i]);
}

static struct bt_peer peer4(const char *ip, uint16_t port)
{
	struct bt_peer p;
	memset(&p, 0, sizeof p);
	p.family = 4;
	p.port = port;
	ASSERT_EQ(inet_pton(AF_INET, ip, p.ip), 1);
	return p;
}

static struct bt_peer peer6(const char *ip, uint16_t port)
{
	struct bt_peer p;
	memset(&p, 0, sizeof p);
	p.family = 6;
	p.port = port;
	ASSERT_EQ(inet_pton(AF_INET6, ip, p.ip), 1);
	return p;
}

TEST(announce_response)
{
	struct bt_peer in[3] = {peer4("10.0.0.1", 6881), peer6("2001:db8::7", 51413),
				peer4("192.168.1.2", 1)};
	struct bt_announce_resp r, g;
	struct bt_peer out[8];
	memset(&r, 0, sizeof r);
	r.interval = 1800;
	r.min_interval = 60;
	r.complete = 5;
	r.incomplete = 7;
	r.warning = S("careful");
	r.tracker_id = S("tid");
	r.failure.p = NULL;

	for (int compact = 0; compact <= 1; compact++) {
		struct sk_buf b = SK_BUF_INIT(4096);
		ASSERT_OK(bt_announce_resp_write(&b, &r, in, 3, compact));
		ASSERT_OK(bt_announce_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &g,
						 out, 8));
		ASSERT(g.failure.p == NULL);
		ASSERT(g.interval == 1800 && g.min_interval == 60);
		ASSERT(g.complete == 5 && g.incomplete == 7);
		slice_is(g.warning, "careful");
		slice_is(g.tracker_id, "tid");
		ASSERT_EQ(g.npeers, 3);
		/* compact: IPv4 in "peers" first, then "peers6" */
		const struct bt_peer *want[3] = {&in[0], compact ? &in[2] : &in[1],
						 compact ? &in[1] : &in[2]};
		for (int i = 0; i < 3; i++) {
			ASSERT_EQ(out[i].family, want[i]->family);
			ASSERT_EQ(out[i].port, want[i]->port);
			ASSERT_MEMEQ(out[i].ip, want[i]->ip, out[i].family == 6 ? 16 : 4);
		}
		/* room for one: the count is still all of them */
		ASSERT_OK(bt_announce_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &g,
						 out, 1));
		ASSERT_EQ(g.npeers, 3);
		sk_buf_free(&b);
	}

	/* refusal */
	struct sk_buf b = SK_BUF_INIT(4096);
	r.failure = S("unregistered torrent");
	ASSERT_OK(bt_announce_resp_write(&b, &r, in, 3, true));
	buf_is(&b, "d14:failure reason20:unregistered torrente");
	ASSERT_OK(bt_announce_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &g, out, 8));
	slice_is(g.failure, "unregistered torrent");
	ASSERT(g.interval == -1 && g.npeers == 0);
	sk_buf_free(&b);

	/* dict peers naming hosts are skipped; odd compact tails ignored;
	 * port 0 dropped */
	static const char mixed[] = "d8:intervali900e5:peersld2:ip9:127.0.0.14:porti80eed2:ip"
			    "11:example.com4:porti81eed2:ip3:::14:porti82eed2:ip"
			    "9:127.0.0.14:porti0eee6:peers620:"
			    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0\0e";
	size_t mn = sizeof mixed - 1;
	ASSERT_OK(bt_announce_resp_parse((const uint8_t *)mixed, mn, &g, out, 8));
	ASSERT_EQ(g.npeers, 2);
	ASSERT(out[0].family == 4 && out[0].port == 80);
	ASSERT(out[1].family == 6 && out[1].port == 82);
	/* the ::1 in peers6 has port 0 and the tail is 2 bytes short: both gone */

	const char *junk[] = {"le", "d3:fooi1ee", "d8:intervali5e", "i1e", "<html>"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		ASSERT_EQ(bt_announce_resp_parse((const uint8_t *)junk[i], strlen(junk[i]),
						 &g, out, 8), SK_EPROTO);
}

TEST(scrape)
{
	uint8_t h[2][20];
	memset(h[0], 'A', 20);
	memset(h[1], 0xff, 20);
	struct sk_buf b = SK_BUF_INIT(4096);
	ASSERT_OK(bt_scrape_url(&b, "http://t/announce", (const uint8_t(*)[20])h, 1));
	buf_is(&b, "http://t/scrape?info_hash=AAAAAAAAAAAAAAAAAAAA");
	sk_buf_clear(&b);
	ASSERT_OK(bt_scrape_url(&b, "http://t/x/announce.php?pk=1",
				(const uint8_t(*)[20])h, 2));
	buf_is(&b, "http://t/x/scrape.php?pk=1&info_hash=AAAAAAAAAAAAAAAAAAAA"
		   "&info_hash=%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF%FF"
		   "%FF%FF");
	sk_buf_clear(&b);
	ASSERT_EQ(bt_scrape_url(&b, "http://t/a", (const uint8_t(*)[20])h, 1), SK_ENOTSUP);
	ASSERT_EQ(bt_scrape_url(&b, "http://t/announce/x", (const uint8_t(*)[20])h, 1),
		  SK_ENOTSUP);
	ASSERT_EQ(bt_scrape_url(&b, "http://t/a?x=/announce", (const uint8_t(*)[20])h, 1),
		  SK_ENOTSUP);
	ASSERT_EQ(sk_buf_len(&b), 0);

	struct bt_scrape_entry e[2] = {{.complete = 1, .downloaded = 2, .incomplete = 3},
				       {.complete = 4, .downloaded = -1, .incomplete = 6}};
	memcpy(e[0].info_hash, h[0], 20);
	memcpy(e[1].info_hash, h[1], 20);
	ASSERT_OK(bt_scrape_resp_write(&b, e, 2));
	struct bt_scrape_entry g[2];
	struct sk_slice failure;
	ASSERT_EQ(bt_scrape_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &failure, g, 2), 2);
	ASSERT(failure.p == NULL);
	ASSERT_MEMEQ(g[1].info_hash, h[1], 20);
	ASSERT(g[0].complete == 1 && g[0].downloaded == 2 && g[0].incomplete == 3);
	ASSERT(g[1].complete == 4 && g[1].downloaded == -1 && g[1].incomplete == 6);
	ASSERT_EQ(bt_scrape_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &failure, g, 1), 2);
	sk_buf_free(&b);

	const char *f = "d14:failure reason4:nopee";
	ASSERT_EQ(bt_scrape_resp_parse((const uint8_t *)f, strlen(f), &failure, g, 2), 0);
	slice_is(failure, "nope");
	ASSERT_EQ(bt_scrape_resp_parse((const uint8_t *)"de", 2, &failure, g, 2), SK_EPROTO);
	ASSERT_EQ(bt_scrape_resp_parse((const uint8_t *)"d5:filesi1ee", 12, &failure, g, 2),
		  SK_EPROTO);
}

/* ---- UDP (BEP 15) ----------------------------------------------------------------- */

TEST(udp_connect_and_errors)
{
	struct sk_buf b = SK_BUF_INIT(4096);
	struct bt_udp_msg m;
	ASSERT_OK(bt_udp_connect_write(&b, 0x01020304));
	ASSERT_EQ(sk_buf_len(&b), 16);
	ASSERT_MEMEQ(sk_buf_data(&b), "\0\0\x04\x17\x27\x10\x19\x80\0\0\0\0\1\2\3\4", 16);
	ASSERT_OK(bt_udp_req_parse(sk_buf_data(&b), 16, &m));
	ASSERT(m.action == BT_UDP_CONNECT && m.tid == 0x01020304);
	ASSERT_EQ(bt_udp_req_parse(sk_buf_data(&b), 15, &m), SK_EPROTO);
	uint8_t wrong[16];
	memcpy(wrong, sk_buf_data(&b), 16);
	wrong[7] ^= 1;
	ASSERT_EQ(bt_udp_req_parse(wrong, 16, &m), SK_EPROTO); /* not the magic */
	wrong[7] ^= 1;
	wrong[11] = 9;
	ASSERT_EQ(bt_udp_req_parse(wrong, 16, &m), SK_EPROTO); /* unknown action */

	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_connect_resp_write(&b, 77, 0x1122334455667788ull));
	ASSERT_OK(bt_udp_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT(m.action == BT_UDP_CONNECT && m.tid == 77);
	ASSERT(m.conn_id == 0x1122334455667788ull);
	ASSERT_EQ(bt_udp_resp_parse(sk_buf_data(&b), 15, &m), SK_EPROTO);

	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_error_write(&b, 78, "go away"));
	ASSERT_OK(bt_udp_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT(m.action == BT_UDP_ERROR && m.tid == 78);
	slice_is(m.message, "go away");
	ASSERT_EQ(bt_udp_resp_parse(sk_buf_data(&b), 7, &m), SK_EPROTO);
	ASSERT_EQ(bt_udp_resp_parse((const uint8_t *)"\0\0\0\7\0\0\0\0", 8, &m), SK_EPROTO);
	sk_buf_free(&b);
}

TEST(udp_announce_and_scrape)
{
	struct bt_announce_req r;
	struct bt_udp_msg m;
	struct sk_buf b = SK_BUF_INIT(4096);
	sample_req(&r);
	r.event = BT_EVENT_COMPLETED;
	r.numwant = -1;
	ASSERT_OK(bt_udp_announce_write(&b, 0xabcdef0123456789ull, 5, &r));
	ASSERT_EQ(sk_buf_len(&b), 98);
	ASSERT_OK(bt_udp_req_parse(sk_buf_data(&b), 98, &m));
	ASSERT(m.action == BT_UDP_ANNOUNCE && m.tid == 5);
	ASSERT(m.conn_id == 0xabcdef0123456789ull);
	ASSERT_MEMEQ(m.announce.info_hash, r.info_hash, 20);
	ASSERT_MEMEQ(m.announce.peer_id, r.peer_id, 20);
	ASSERT(m.announce.downloaded == r.downloaded && m.announce.left == r.left &&
	       m.announce.uploaded == r.uploaded);
	ASSERT_EQ(m.announce.event, BT_EVENT_COMPLETED);
	ASSERT_EQ(m.announce.key, r.key);
	ASSERT_EQ(m.announce.numwant, -1);
	ASSERT_EQ(m.announce.port, 51413);
	ASSERT_EQ(m.ip, 0);
	ASSERT_EQ(bt_udp_req_parse(sk_buf_data(&b), 97, &m), SK_EPROTO);

	/* response: only peers of the packet's family */
	struct bt_peer in[3] = {peer4("10.1.2.3", 1000), peer6("fe80::1", 2000),
				peer4("10.9.9.9", 3000)};
	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_announce_resp_write(&b, 5, 1800, 3, 9, in, 3, 4));
	ASSERT_EQ(sk_buf_len(&b), 20 + 2 * 6);
	ASSERT_OK(bt_udp_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT(m.action == BT_UDP_ANNOUNCE && m.interval == 1800 && m.leechers == 3 &&
	       m.seeders == 9);
	struct bt_peer out[4];
	ASSERT_EQ(bt_peers_compact(m.peers, 4, out, 4), 2);
	ASSERT(out[0].port == 1000 && out[1].port == 3000);
	ASSERT_MEMEQ(out[1].ip, in[2].ip, 4);
	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_announce_resp_write(&b, 5, 1800, 3, 9, in, 3, 6));
	ASSERT_EQ(sk_buf_len(&b), 20 + 18);
	ASSERT_OK(bt_udp_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT_EQ(bt_peers_compact(m.peers, 6, out, 4), 1);
	ASSERT_MEMEQ(out[0].ip, in[1].ip, 16);
	ASSERT_EQ(bt_udp_resp_parse(sk_buf_data(&b), 19, &m), SK_EPROTO);

	/* scrape */
	uint8_t h[3][20];
	for (int i = 0; i < 3; i++)
		memset(h[i], 'a' + i, 20);
	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_scrape_write(&b, 42, 6, (const uint8_t(*)[20])h, 3));
	ASSERT_OK(bt_udp_req_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT(m.action == BT_UDP_SCRAPE && m.conn_id == 42 && m.hashes.n == 60);
	ASSERT_MEMEQ(m.hashes.p + 40, h[2], 20);
	ASSERT_EQ(bt_udp_scrape_write(&b, 42, 6, (const uint8_t(*)[20])h, 0), SK_EINVAL);
	ASSERT_EQ(bt_udp_req_parse(sk_buf_data(&b), 35, &m), SK_EPROTO);

	struct bt_scrape_entry e[2] = {{.complete = 1, .downloaded = 2, .incomplete = 3},
				       {.complete = -1, .downloaded = 5, .incomplete = 6}};
	sk_buf_clear(&b);
	ASSERT_OK(bt_udp_scrape_resp_write(&b, 6, e, 2));
	ASSERT_OK(bt_udp_resp_parse(sk_buf_data(&b), sk_buf_len(&b), &m));
	ASSERT(m.action == BT_UDP_SCRAPE && m.entries.n == 24);
	struct bt_scrape_entry g;
	bt_udp_scrape_entry(&m, 1, &g);
	ASSERT(g.complete == 0 && g.downloaded == 5 && g.incomplete == 6);
	sk_buf_free(&b);
}

TEST(peer_addresses)
{
	struct bt_peer p = peer6("::ffff:1.2.3.4", 99), q;
	struct sk_addr a;
	char text[SK_ADDR_STRLEN];
	bt_peer_to_addr(&p, &a);
	ASSERT_OK(sk_addr_format(&a, text, sizeof text));
	ASSERT_STREQ(text, "[::ffff:1.2.3.4]:99");
	ASSERT_OK(bt_peer_from_addr(&q, &a)); /* mapped becomes IPv4 */
	ASSERT(q.family == 4 && q.port == 99);
	ASSERT_MEMEQ(q.ip, "\1\2\3\4", 4);
	bt_peer_to_addr(&q, &a);
	ASSERT_OK(sk_addr_format(&a, text, sizeof text));
	ASSERT_STREQ(text, "1.2.3.4:99");
	ASSERT_OK(sk_addr_parse("unix:/tmp/x", &a));
	ASSERT_EQ(bt_peer_from_addr(&q, &a), SK_EAFNOSUPPORT);
}

/* ---- HTTP/1.x ------------------------------------------------------------------------ */

static int resp(const char *s, size_t max, struct bt_http_resp *r)
{
	return bt_http_resp_parse((const uint8_t *)s, strlen(s), max, r);
}

TEST(http_response)
{
	struct bt_http_resp r;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length:  5 \r\n\r\nd1:xe+more";
	ASSERT_EQ(resp(ok, 8192, &r), 1);
	ASSERT(r.status == 200 && r.minor == 1 && r.content_length == 5 && !r.chunked);
	slice_is(r.reason, "OK");
	ASSERT_EQ(r.head_len, strlen(ok) - 10);
	struct sk_slice body;
	const uint8_t *rest = (const uint8_t *)ok + r.head_len;
	ASSERT_EQ(bt_http_body(&r, rest, 3, false, 100, &body), 0);
	ASSERT_EQ(bt_http_body(&r, rest, 3, true, 100, &body), SK_EPROTO);
	ASSERT_EQ(bt_http_body(&r, rest, 10, false, 100, &body), 1);
	slice_is(body, "d1:xe");
	ASSERT_EQ(bt_http_body(&r, rest, 10, false, 4, &body), SK_EMSGSIZE);

	/* every prefix of the head asks for more */
	for (size_t n = 0; n < r.head_len; n++)
		ASSERT_EQ(bt_http_resp_parse((const uint8_t *)ok, n, 8192, &r), 0);

	/* LF-only, no reason, close-delimited body, a redirect */
	ASSERT_EQ(resp("HTTP/1.0 302\nLocation: http://x/\n\n", 8192, &r), 1);
	ASSERT(r.status == 302 && r.minor == 0 && r.content_length == -1);
	slice_is(r.location, "http://x/");
	ASSERT_EQ(bt_http_body(&r, (const uint8_t *)"abc", 3, false, 100, &body), 0);
	ASSERT_EQ(bt_http_body(&r, (const uint8_t *)"abc", 3, true, 100, &body), 1);
	slice_is(body, "abc");
	ASSERT_EQ(bt_http_body(&r, (const uint8_t *)"abc", 3, false, 2, &body),
		  SK_EMSGSIZE);
	ASSERT_EQ(resp("HTTP/1.1 204 No Content\r\n\r\n", 8192, &r), 1);
	ASSERT_EQ(bt_http_body(&r, (const uint8_t *)"", 0, false, 100, &body), 1);
	ASSERT_EQ(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		       8192, &r), 1);
	ASSERT(r.chunked);
	ASSERT_EQ(bt_http_body(&r, (const uint8_t *)"", 0, false, 100, &body),
		  SK_ENOTSUP);

	/* same Content-Length twice is fine, different ones are not */
	ASSERT_EQ(resp("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n",
		       8192, &r), 1);
	static const char *bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 099 X\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (resp(bad[i], 8192, &r) != SK_EPROTO)
			FAIL("accepted response head: %s", bad[i]);
	/* a head that never ends within the bound */
	ASSERT_EQ(resp("HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40, &r),
		  SK_EMSGSIZE);
	ASSERT_EQ(resp("HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, &r),
		  0);
}

TEST(http_get_request)
{
	struct bt_url u;
	struct sk_buf b = SK_BUF_INIT(4096);
	const char *url = "http://t.example/announce?info_hash=%12x";
	ASSERT_OK(bt_url_parse(url, strlen(url), &u));
	ASSERT_OK(bt_http_get_write(&b, &u, "sockit/0.1.0"));
	buf_is(&b, "GET /announce?info_hash=%12x HTTP/1.0\r\nHost: t.example\r\n"
		   "User-Agent: sockit/0.1.0\r\nAccept-Encoding: identity\r\n"
		   "Connection: close\r\n\r\n");
	sk_buf_clear(&b);
	url = "http://[::1]:6969/a";
	ASSERT_OK(bt_url_parse(url, strlen(url), &u));
	ASSERT_OK(bt_http_get_write(&b, &u, "x"));
	ASSERT(memmem(sk_buf_data(&b), sk_buf_len(&b), "\r\nHost: [::1]:6969\r\n", 20));

	/* and the tracker side reads it back */
	struct bt_http_req q;
	ASSERT_EQ(bt_http_req_parse(sk_buf_data(&b), sk_buf_len(&b), 8192, &q), 1);
	slice_is(q.method, "GET");
	slice_is(q.path, "/a");
	slice_is(q.query, "");
	ASSERT(q.minor == 0 && !q.keep_alive && q.head_len == sk_buf_len(&b));
	sk_buf_free(&b);
}

static int req(const char *s, struct bt_http_req *r)
{
	return bt_http_req_parse((const uint8_t *)s, strlen(s), 8192, r);
}

TEST(http_request)
{
	struct bt_http_req r;
	ASSERT_EQ(req("GET /announce?info_hash=%AA&port=1 HTTP/1.1\r\nHost: t\r\n\r\nX", &r),
		  1);
	slice_is(r.target, "/announce?info_hash=%AA&port=1");
	slice_is(r.path, "/announce");
	slice_is(r.query, "info_hash=%AA&port=1");
	ASSERT(r.minor == 1 && r.keep_alive);
	ASSERT_EQ(r.head_len, strlen("GET /announce?info_hash=%AA&port=1 HTTP/1.1\r\n"
				     "Host: t\r\n\r\n"));
	ASSERT_EQ(req("GET /scrape HTTP/1.1\r\nConnection: close\r\n\r\n", &r), 1);
	ASSERT(!r.keep_alive);
	ASSERT_EQ(req("GET /a? HTTP/1.0\nConnection: Keep-Alive\n\n", &r), 1);
	ASSERT(r.keep_alive && r.minor == 0);
	slice_is(r.query, "");
	ASSERT_EQ(req("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r), 1);

	ASSERT_EQ(req("GET /a HTTP/1.1\r\nHost: t\r\n", &r), 0); /* not yet */
	ASSERT_EQ(req("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &r),
		  SK_ENOTSUP);
	ASSERT_EQ(req("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
		  SK_ENOTSUP);
	static const char *bad[] = {
		"GET /a\r\n\r\n", "GET a HTTP/1.1\r\n\r\n", "GET  /a HTTP/1.1\r\n\r\n",
		"GET /a HTTP/1.1 \r\n\r\n", "GET /a HTTP/3\r\n\r\n", "G(T /a HTTP/1.1\r\n\r\n",
		"GET /a\tb HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1\r\nx\r\n\r\n",
		" GET /a HTTP/1.1\r\n\r\n", "\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (req(bad[i], &r) != SK_EPROTO)
			FAIL("accepted request head: %s", bad[i]);
	char big[200];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	ASSERT_EQ(bt_http_req_parse((const uint8_t *)big, sizeof big, 100, &r), SK_EMSGSIZE);
}

TEST_MAIN(TEST_ENTRY(urls), TEST_ENTRY(percent_encoding),
	  TEST_ENTRY(announce_url_round_trip), TEST_ENTRY(announce_response),
	  TEST_ENTRY(scrape), TEST_ENTRY(udp_connect_and_errors),
	  TEST_ENTRY(udp_announce_and_scrape), TEST_ENTRY(peer_addresses),
	  TEST_ENTRY(http_response), TEST_ENTRY(http_get_request),
	  TEST_ENTRY(http_request))
