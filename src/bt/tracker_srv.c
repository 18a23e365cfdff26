/*
 * src/bt/tracker_srv.c - the built-in tracker (see tracker_srv.h) and the
 * `sockit bt tracker` command.
 *
 * Swarms sit in an array sorted by info-hash (binary search); the peers of
 * a swarm in an unsorted array searched by peer id.  Both are bounded by
 * the options, so the linear parts stay small.  Seeders (left = 0) are
 * counted as they change so complete/incomplete cost nothing per request.
 *
 * A peer list for an announce is a random window of the swarm: start at a
 * random index and walk round, skipping the asker itself, and seeders when
 * the asker is a seeder too (they have nothing to trade).
 *
 * UDP connection ids (BEP 15) are a keyed mix of the client's address and
 * the current minute, so the tracker keeps no per-client state for them;
 * an id from the previous minute is still accepted (two minutes of life,
 * as the BEP asks).  The key is random per process; the mix is not a
 * cryptographic MAC, which is acceptable for a tracker meant for one
 * network.
 */
#include "bt/tracker_srv.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bt/bt.h"
#include "bt/tracker_proto.h"
#include "util/log.h"

#define IDLE_MS 15000 /* an HTTP connection with nothing to say */
#define SCRAPE_MAX 256

struct tpeer {
	uint8_t id[20];
	struct bt_peer addr;
	uint64_t left;
	uint64_t seen; /* loop ms of the last announce */
};

struct swarm {
	uint8_t ih[20];
	struct tpeer *p;
	size_t n, cap;
	size_t seeds;
	uint64_t completed; /* "downloaded" in scrapes */
};

struct hconn {
	struct bt_tracker *t;
	sk_conn *c;
	uint64_t last;
	struct hconn *prev, *next;
};

struct bt_tracker {
	sk_loop *loop;
	struct bt_tracker_opts o;
	sk_listener *l;
	sk_dgram *udp;
	sk_timer *sweep;
	struct swarm **sw;
	size_t nsw, capsw;
	struct hconn conns; /* list head */
	uint64_t secret;
	uint64_t rng;
};

/* ---- small helpers ----------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint32_t rnd(struct bt_tracker *t)
{
	t->rng = t->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)mix64(t->rng);
}

static int cmp_ih(const uint8_t *a, const struct swarm *s)
{
	return memcmp(a, s->ih, 20);
}

/* Index of ih in the sorted array, or where it would go (*found false). */
static size_t swarm_pos(const struct bt_tracker *t, const uint8_t *ih, bool *found)
{
	size_t lo = 0, hi = t->nsw;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_ih(ih, t->sw[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static struct swarm *swarm_find(const struct bt_tracker *t, const uint8_t *ih)
{
	bool found;
	size_t i = swarm_pos(t, ih, &found);
	return found ? t->sw[i] : NULL;
}

static struct swarm *swarm_get(struct bt_tracker *t, const uint8_t *ih)
{
	bool found;
	size_t i = swarm_pos(t, ih, &found);
	if (found)
		return t->sw[i];
	if (t->nsw >= t->o.max_swarms)
		return NULL;
	if (t->nsw == t->capsw) {
		size_t cap = t->capsw ? 2 * t->capsw : 16;
		struct swarm **v = realloc(t->sw, cap * sizeof *v);
		if (!v)
			return NULL;
		t->sw = v;
		t->capsw = cap;
	}
	struct swarm *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	memcpy(s->ih, ih, 20);
	memmove(t->sw + i + 1, t->sw + i, (t->nsw - i) * sizeof *t->sw);
	t->sw[i] = s;
	t->nsw++;
	return s;
}

static void swarm_drop(struct bt_tracker *t, size_t i)
{
	free(t->sw[i]->p);
	free(t->sw[i]);
	memmove(t->sw + i, t->sw + i + 1, (t->nsw - i - 1) * sizeof *t->sw);
	t->nsw--;
}

static void peer_remove(struct swarm *s, size_t i)
{
	if (s->p[i].left == 0)
		s->seeds--;
	s->p[i] = s->p[--s->n];
}

/* ---- announce, shared by HTTP and UDP ------------------------------------------ */

struct ann_result {
	struct bt_peer peers[256];
	size_t n;
	size_t seeds, leechers;
	const char *failure;
};

static void pick_peers(struct bt_tracker *t, struct swarm *s,
		       const uint8_t *self, bool self_seed, int32_t numwant,
		       struct ann_result *res)
{
	size_t want = numwant < 0 ? t->o.numwant : (size_t)numwant;
	if (want > t->o.numwant_max)
		want = t->o.numwant_max;
	if (want > sizeof res->peers / sizeof res->peers[0])
		want = sizeof res->peers / sizeof res->peers[0];
	if (s->n == 0 || want == 0)
		return;
	size_t start = rnd(t) % s->n;
	for (size_t k = 0; k < s->n && res->n < want; k++) {
		const struct tpeer *p = &s->p[(start + k) % s->n];
		if (memcmp(p->id, self, 20) == 0 || (self_seed && p->left == 0))
			continue;
		res->peers[res->n++] = p->addr;
	}
}

static void announce(struct bt_tracker *t, const struct bt_announce_req *r,
		     const struct bt_peer *addr, struct ann_result *res)
{
	memset(res, 0, sizeof *res);
	struct swarm *s = r->event == BT_EVENT_STOPPED ? swarm_find(t, r->info_hash)
						       : swarm_get(t, r->info_hash);
	if (!s) {
		if (r->event != BT_EVENT_STOPPED)
			res->failure = "tracker full: too many torrents";
		return;
	}
	size_t i;
	for (i = 0; i < s->n; i++)
		if (memcmp(s->p[i].id, r->peer_id, 20) == 0)
			break;
	if (r->event == BT_EVENT_STOPPED) {
		if (i < s->n)
			peer_remove(s, i);
		goto counts;
	}
	if (i == s->n) {
		if (s->n >= t->o.max_peers) {
			res->failure = "tracker full: too many peers";
			return;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			struct tpeer *v = realloc(s->p, cap * sizeof *v);
			if (!v) {
				res->failure = "tracker out of memory";
				return;
			}
			s->p = v;
			s->cap = cap;
		}
		memcpy(s->p[i].id, r->peer_id, 20);
		s->p[i].left = 1; /* counted as a leecher until told otherwise */
		s->n++;
	}
	struct tpeer *p = &s->p[i];
	bool was_seed = p->left == 0, is_seed = r->left == 0;
	if (r->event == BT_EVENT_COMPLETED && !was_seed)
		s->completed++;
	s->seeds += (size_t)is_seed - (size_t)was_seed;
	p->left = r->left;
	p->addr = *addr;
	p->addr.port = r->port;
	p->seen = sk_loop_now(t->loop);
	pick_peers(t, s, r->peer_id, is_seed, r->numwant, res);
counts:
	res->seeds = s->seeds;
	res->leechers = s->n - s->seeds;
}

static void scrape_entry(const struct bt_tracker *t, const uint8_t *ih,
			 struct bt_scrape_entry *e)
{
	const struct swarm *s = swarm_find(t, ih);
	memcpy(e->info_hash, ih, 20);
	e->complete = s ? (int64_t)s->seeds : 0;
	e->incomplete = s ? (int64_t)(s->n - s->seeds) : 0;
	e->downloaded = s ? (int64_t)s->completed : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const struct bt_scrape_entry *)a)->info_hash,
		      ((const struct bt_scrape_entry *)b)->info_hash, 20);
}

/* ---- HTTP -------------------------------------------------------------------------- */

static void respond(struct hconn *h, int status, const char *reason,
		    const struct sk_buf *body, bool keep)
{
	sk_conn_printf(h->c,
		       "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		       "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
		       status, reason, sk_buf_len(body), keep ? "keep-alive" : "close");
	sk_conn_write(h->c, sk_buf_data(body), sk_buf_len(body));
}

/* The "ip" parameter when it is a numeric address (then it replaces the
 * source address; the port stays the announced one). */
static void query_ip(struct sk_slice q, struct bt_peer *addr)
{
	struct sk_slice k, v;
	while (bt_query_next(&q, &k, &v)) {
		char buf[64];
		int n;
		if (k.n != 2 || memcmp(k.p, "ip", 2) != 0 ||
		    (n = bt_pct_decode((const char *)v.p, v.n, (uint8_t *)buf,
				       sizeof buf - 1)) <= 0)
			continue;
		buf[n] = '\0';
		uint8_t ip[16];
		if (inet_pton(AF_INET, buf, ip) == 1) {
			memcpy(addr->ip, ip, 4);
			addr->family = 4;
		} else if (inet_pton(AF_INET6, buf, ip) == 1) {
			memcpy(addr->ip, ip, 16);
			addr->family = 6;
		}
	}
}

static void http_announce(struct hconn *h, const struct bt_http_req *rq,
			  struct sk_buf *body)
{
	struct bt_tracker *t = h->t;
	struct bt_announce_req r;
	struct bt_announce_resp out;
	struct ann_result *res = malloc(sizeof *res);
	struct sk_addr sa;
	struct bt_peer addr;

	memset(&out, 0, sizeof out);
	out.interval = out.min_interval = out.complete = out.incomplete = -1;
	if (!res) {
		out.failure.p = (const uint8_t *)"tracker out of memory";
		goto write;
	}
	if (bt_announce_query_parse((const char *)rq->query.p, rq->query.n, &r) < 0) {
		out.failure.p = (const uint8_t *)
			"bad announce: info_hash, peer_id and port are required";
		goto write;
	}
	if (sk_conn_peer(h->c, &sa) < 0 || bt_peer_from_addr(&addr, &sa) < 0)
		memset(&addr, 0, sizeof addr);
	query_ip(rq->query, &addr);
	if (addr.family == 0) {
		out.failure.p = (const uint8_t *)"no peer address";
		goto write;
	}
	announce(t, &r, &addr, res);
	if (res->failure) {
		out.failure.p = (const uint8_t *)res->failure;
		goto write;
	}
	out.interval = t->o.interval;
	out.min_interval = t->o.min_interval;
	out.complete = (int64_t)res->seeds;
	out.incomplete = (int64_t)res->leechers;
	sk_log_debug("tracker: announce from %s event %d left %llu: %zu peers",
		     sk_conn_peer_str(h->c), r.event, (unsigned long long)r.left,
		     res->n);
write:
	if (out.failure.p)
		out.failure.n = strlen((const char *)out.failure.p);
	if (bt_announce_resp_write(body, &out, res ? res->peers : NULL,
				   res ? res->n : 0, res ? r.compact : true) < 0)
		sk_buf_clear(body);
	free(res);
}

static void http_scrape(struct hconn *h, const struct bt_http_req *rq,
			struct sk_buf *body)
{
	struct bt_tracker *t = h->t;
	struct bt_scrape_entry *e = calloc(SCRAPE_MAX, sizeof *e);
	struct sk_slice q = rq->query, k, v;
	size_t n = 0;

	if (!e)
		return;
	while (bt_query_next(&q, &k, &v) && n < SCRAPE_MAX) {
		uint8_t ih[20];
		if (k.n == 9 && memcmp(k.p, "info_hash", 9) == 0 &&
		    bt_pct_decode((const char *)v.p, v.n, ih, sizeof ih) == 20)
			scrape_entry(t, ih, &e[n++]);
	}
	if (n == 0) /* no hash named: every swarm (up to the cap) */
		for (size_t i = 0; i < t->nsw && n < SCRAPE_MAX; i++)
			scrape_entry(t, t->sw[i]->ih, &e[n++]);
	qsort(e, n, sizeof *e, cmp_entry);
	size_t u = 0; /* a hash asked for twice is one dict key */
	for (size_t i = 0; i < n; i++)
		if (u == 0 || memcmp(e[u - 1].info_hash, e[i].info_hash, 20) != 0)
			e[u++] = e[i];
	if (bt_scrape_resp_write(body, e, u) < 0)
		sk_buf_clear(body);
	free(e);
}

static void body_str(struct sk_buf *b, const char *s)
{
	if (sk_buf_append_str(b, s) < 0)
		sk_buf_clear(b);
}

static void hconn_close(struct hconn *h)
{
	if (h->c)
		sk_conn_close(h->c);
}

/* One complete request head at the front of `in`: 1 handled (keep
 * reading), 0 need more, -1 closing. */
static int http_one(struct hconn *h, struct sk_buf *in)
{
	struct bt_http_req rq;
	struct sk_buf body = SK_BUF_INIT(1u << 20);
	int r = bt_http_req_parse(sk_buf_data(in), sk_buf_len(in),
				  BT_TRACKER_HEAD_MAX, &rq);
	if (r == 0)
		return 0;
	if (r < 0) {
		bool big = r == SK_EMSGSIZE;
		body_str(&body, big ? "request head too large\n"
						   : "bad request\n");
		respond(h, big ? 431 : 400, big ? "Request Header Fields Too Large"
						: "Bad Request", &body, false);
		sk_buf_free(&body);
		hconn_close(h);
		return -1;
	}
	bool keep = rq.keep_alive;
	int status = 200;
	if (rq.method.n != 3 || memcmp(rq.method.p, "GET", 3) != 0) {
		status = 405;
		keep = false;
		body_str(&body, "only GET\n");
	} else if (rq.path.n == 9 && memcmp(rq.path.p, "/announce", 9) == 0) {
		http_announce(h, &rq, &body);
	} else if (rq.path.n == 7 && memcmp(rq.path.p, "/scrape", 7) == 0) {
		http_scrape(h, &rq, &body);
	} else {
		status = 404;
		body_str(&body, "not found: try /announce or /scrape\n");
	}
	if (status == 200 && sk_buf_len(&body) == 0)
		status = 500;
	respond(h, status, status == 200 ? "OK" : status == 404 ? "Not Found"
			   : status == 405 ? "Method Not Allowed" : "Error",
		&body, keep);
	sk_buf_free(&body);
	sk_buf_consume(in, rq.head_len);
	if (!keep) {
		hconn_close(h);
		return -1;
	}
	return 1;
}

static void on_http_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct hconn *h = ud;
	h->last = sk_loop_now(h->t->loop);
	while (sk_buf_len(in) && http_one(h, in) == 1)
		;
}

static void on_http_close(sk_conn *c, int err, void *ud)
{
	struct hconn *h = ud;
	h->prev->next = h->next;
	h->next->prev = h->prev;
	free(h);
}

static const struct sk_conn_cbs http_cbs = {
	.on_read = on_http_read,
	.on_close = on_http_close,
};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct bt_tracker *t = ud;
	struct hconn *h = calloc(1, sizeof *h);
	if (!h) {
		sk_conn_abort(c);
		return;
	}
	h->t = t;
	h->c = c;
	h->last = sk_loop_now(t->loop);
	h->next = t->conns.next;
	h->prev = &t->conns;
	t->conns.next->prev = h;
	t->conns.next = h;
	sk_conn_set_cbs(c, &http_cbs, h);
}

/* ---- UDP (BEP 15) ---------------------------------------------------------------- */

static uint64_t conn_id(const struct bt_tracker *t, const struct sk_addr *a,
			uint64_t minute)
{
	uint64_t x = mix64(t->secret ^ minute);
	const uint8_t *p = (const uint8_t *)&a->u;
	for (socklen_t i = 0; i < a->len; i++)
		x = mix64(x ^ p[i]);
	return x;
}

static bool conn_id_ok(const struct bt_tracker *t, const struct sk_addr *a,
		       uint64_t id)
{
	uint64_t minute = sk_loop_now(t->loop) / 60000;
	return id == conn_id(t, a, minute) || id == conn_id(t, a, minute - 1);
}

static void udp_announce(struct bt_tracker *t, const struct bt_udp_msg *m,
			 const struct sk_addr *from, struct sk_buf *out)
{
	struct bt_peer addr;
	struct ann_result *res = malloc(sizeof *res);
	if (!res || bt_peer_from_addr(&addr, from) < 0) {
		free(res);
		return;
	}
	if (m->ip && addr.family == 4)
		memcpy(addr.ip, &(uint32_t){htonl(m->ip)}, 4);
	announce(t, &m->announce, &addr, res);
	int fam = sk_addr_family(from) == AF_INET6 &&
				  !IN6_IS_ADDR_V4MAPPED(&from->u.in6.sin6_addr)
			  ? 6 : 4;
	if (res->failure)
		(void)bt_udp_error_write(out, m->tid, res->failure);
	else
		(void)bt_udp_announce_resp_write(out, m->tid, t->o.interval,
						 (uint32_t)res->leechers,
						 (uint32_t)res->seeds,
						 res->peers, res->n, fam);
	free(res);
}

static void on_udp(sk_dgram *d, const uint8_t *p, size_t n,
		   const struct sk_addr *from, void *ud)
{
	struct bt_tracker *t = ud;
	struct bt_udp_msg m;
	uint8_t raw[8 + 12 * BT_UDP_SCRAPE_MAX + 20 + 18 * 256];
	struct sk_buf out = {raw, 0, 0, sizeof raw, sizeof raw, 0};

	if (bt_udp_req_parse(p, n, &m) < 0)
		return; /* not ours to answer: no amplification of junk */
	if (m.action == BT_UDP_CONNECT) {
		(void)bt_udp_connect_resp_write(
			&out, m.tid, conn_id(t, from, sk_loop_now(t->loop) / 60000));
	} else if (!conn_id_ok(t, from, m.conn_id)) {
		(void)bt_udp_error_write(&out, m.tid, "bad connection id");
	} else if (m.action == BT_UDP_ANNOUNCE) {
		udp_announce(t, &m, from, &out);
	} else {
		struct bt_scrape_entry e[BT_UDP_SCRAPE_MAX];
		size_t k = m.hashes.n / 20;
		for (size_t i = 0; i < k; i++)
			scrape_entry(t, m.hashes.p + 20 * i, &e[i]);
		(void)bt_udp_scrape_resp_write(&out, m.tid, e, k);
	}
	if (out.len)
		(void)sk_dgram_send(d, out.data, out.len, from);
}

/* ---- expiry ------------------------------------------------------------------------ */

static void on_sweep(sk_timer *tm, void *ud)
{
	struct bt_tracker *t = ud;
	uint64_t now = sk_loop_now(t->loop);
	uint64_t ttl = 2ull * t->o.interval * 1000;
	for (size_t i = t->nsw; i-- > 0;) {
		struct swarm *s = t->sw[i];
		for (size_t j = s->n; j-- > 0;)
			if (now - s->p[j].seen > ttl)
				peer_remove(s, j);
		if (s->n == 0)
			swarm_drop(t, i);
	}
	for (struct hconn *h = t->conns.next, *nx; h != &t->conns; h = nx) {
		nx = h->next;
		if (now - h->last > IDLE_MS)
			hconn_close(h);
	}
}

/* ---- life ------------------------------------------------------------------------- */

int bt_tracker_new(sk_loop *loop, const struct bt_tracker_opts *o,
		   struct bt_tracker **out)
{
	struct bt_tracker *t = calloc(1, sizeof *t);
	if (!t)
		return SK_ENOMEM;
	t->loop = loop;
	t->o = *o;
	if (!t->o.listen)
		t->o.listen = "127.0.0.1:6969";
	if (!t->o.interval)
		t->o.interval = 300;
	if (!t->o.min_interval)
		t->o.min_interval = t->o.interval / 2 ? t->o.interval / 2 : 1;
	if (!t->o.numwant)
		t->o.numwant = 50;
	if (!t->o.numwant_max)
		t->o.numwant_max = 200;
	if (!t->o.max_swarms)
		t->o.max_swarms = 10000;
	if (!t->o.max_peers)
		t->o.max_peers = 10000;
	t->conns.next = t->conns.prev = &t->conns;
	if (getrandom(&t->secret, sizeof t->secret, 0) != sizeof t->secret)
		t->secret = (uint64_t)(uintptr_t)t ^ sk_loop_now(loop);
	t->rng = t->secret ^ 0x5bd1e995;

	struct sk_listen_opts lo = {.max_conns = 1024};
	lo.conn.max_in = BT_TRACKER_HEAD_MAX * 2;
	lo.conn.max_out = 4u << 20;
	int r = sk_listen(loop, t->o.listen, &lo, on_accept, t, &t->l);
	if (r == 0 && t->o.udp) {
		struct sk_addr a;
		char addr[SK_ADDR_STRLEN];
		r = sk_listener_addr(t->l, &a);
		if (r == 0 && (r = sk_addr_format(&a, addr, sizeof addr)) > 0)
			r = sk_dgram_open(loop, addr, NULL, on_udp, t, &t->udp);
	}
	if (r >= 0)
		r = sk_timer_new(loop, on_sweep, t, &t->sweep);
	if (r < 0) {
		bt_tracker_free(t);
		return r;
	}
	uint64_t every = t->o.interval * 1000ull / 2;
	if (every > 30000)
		every = 30000;
	if (every < 500)
		every = 500;
	sk_timer_start(t->sweep, every, every);
	*out = t;
	return 0;
}

uint16_t bt_tracker_port(const struct bt_tracker *t)
{
	return sk_listener_port(t->l);
}

size_t bt_tracker_swarms(const struct bt_tracker *t) { return t->nsw; }

size_t bt_tracker_peers(const struct bt_tracker *t, const uint8_t ih[20])
{
	const struct swarm *s = swarm_find(t, ih);
	return s ? s->n : 0;
}

size_t bt_tracker_seeds(const struct bt_tracker *t, const uint8_t ih[20])
{
	const struct swarm *s = swarm_find(t, ih);
	return s ? s->seeds : 0;
}

void bt_tracker_free(struct bt_tracker *t)
{
	if (!t)
		return;
	for (struct hconn *h = t->conns.next, *nx; h != &t->conns; h = nx) {
		nx = h->next;
		sk_conn_set_cbs(h->c, NULL, NULL);
		sk_conn_abort(h->c);
		free(h);
	}
	t->conns.next = t->conns.prev = &t->conns;
	if (t->l)
		sk_listener_close(t->l);
	if (t->udp)
		sk_dgram_close(t->udp);
	if (t->sweep)
		sk_timer_free(t->sweep);
	while (t->nsw)
		swarm_drop(t, t->nsw - 1);
	free(t->sw);
	free(t);
}

/* ---- the command ------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sockit bt tracker [--listen IP:PORT] [--udp] [--interval S]\n"
		"A BitTorrent tracker in memory: HTTP announce (compact, peers6 and\n"
		"dict peer lists) and scrape at http://IP:PORT/announce and /scrape.\n"
		"\n"
		"  -l, --listen IP:PORT  address to serve on (default 127.0.0.1:6969;\n"
		"                        port 0 picks a free one)\n"
		"  -u, --udp             also serve UDP trackers (BEP 15) there\n"
		"  -i, --interval S      announce interval given to clients (300)\n"
		"      --numwant N       peers per answer by default (50, max 200)\n"
		"\n"
		"The first line on stdout is the announce URL.  Peers are forgotten\n"
		"two intervals after their last announce.  SIGINT/SIGTERM stop it.\n"
		"Exit codes: 0 stopped by a signal, 1 runtime error (cannot listen),\n"
		"2 usage error.\n");
}

static void on_stop(sk_signal *s, int signum, void *ud)
{
	sk_log_info("tracker: signal %d, stopping", signum);
	sk_loop_stop(ud);
}

int bt_cmd_tracker(int argc, char **argv)
{
	static const struct option longs[] = {
		{"listen", required_argument, NULL, 'l'},
		{"udp", no_argument, NULL, 'u'},
		{"interval", required_argument, NULL, 'i'},
		{"numwant", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct bt_tracker_opts o = {0};
	int c;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:ui:n:h", longs, NULL)) != -1) {
		unsigned long v = 0;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			o.listen = optarg;
			break;
		case 'u':
			o.udp = true;
			break;
		case 'i':
		case 'n':
			v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 86400) {
				fprintf(stderr, "sockit bt tracker: bad number '%s'\n",
					optarg);
				return 2;
			}
			if (c == 'i')
				o.interval = (unsigned)v;
			else
				o.numwant = (unsigned)v;
			break;
		default:
			fprintf(stderr, "sockit bt tracker: %s '%s' (see --help)\n",
				c == ':' ? "option needs a value" : "unknown option",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sockit bt tracker: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}

	sk_loop *loop;
	struct bt_tracker *t = NULL;
	sk_signal *sig[2] = {NULL, NULL};
	int r = sk_loop_new(&loop, NULL);
	if (r < 0) {
		fprintf(stderr, "sockit bt tracker: event loop: %s\n", sk_strerror(r));
		return 1;
	}
	r = bt_tracker_new(loop, &o, &t);
	if (r < 0) {
		fprintf(stderr, "sockit bt tracker: cannot listen on %s: %s\n",
			o.listen ? o.listen : "127.0.0.1:6969", sk_strerror(r));
		sk_loop_free(loop);
		return 1;
	}
	if (sk_signal_new(loop, SIGINT, on_stop, loop, &sig[0]) < 0 ||
	    sk_signal_new(loop, SIGTERM, on_stop, loop, &sig[1]) < 0)
		sk_log_warn("tracker: cannot watch signals");
	struct sk_addr a;
	char ip[SK_ADDR_STRLEN];
	if (sk_listener_addr(t->l, &a) == 0 && sk_addr_format(&a, ip, sizeof ip) > 0) {
		printf("http://%s/announce\n", ip);
		if (o.udp)
			printf("udp://%s/announce\n", ip);
		fflush(stdout);
		sk_log_info("tracker: serving http://%s/announce%s", ip,
			    o.udp ? " and udp" : "");
	}
	r = sk_loop_run(loop);
	bt_stop_signals_free(sig);
	bt_tracker_free(t);
	sk_loop_free(loop);
	return r < 0 ? 1 : 0;
}
