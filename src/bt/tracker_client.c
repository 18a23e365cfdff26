/*
 * src/bt/tracker_client.c - announcing over HTTP(S) and UDP (see
 * tracker_client.h).
 *
 * One announce is in flight at a time.  Its life: begin() parses the URL
 * of the current tracker (or of a redirect) and starts the HTTP or UDP
 * exchange; the exchange ends in succeed() or fail(), both of which first
 * drop whatever sockets, resolutions and timeouts it used (cleanup()).
 * fail() moves to the next tracker in BEP 12 order through a zero-delay
 * timer, so a run of synchronous failures never recurses.
 */
#include "bt/tracker_client.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/app_version.h"
#include "util/log.h"

#define CONN_ID_TTL_MS 60000
#define MAX_REDIRECTS 3

struct tier {
	char **urls;
	size_t n;
};

struct bt_tc {
	sk_loop *loop;
	struct bt_tc_opts o;
	struct tier *tiers;
	size_t ntiers, ti, ui;
	int event, sent_event;
	bool active, stopping;
	unsigned fails, successes;
	uint64_t interval_ms, min_ms, last_ok;
	uint32_t key;
	uint64_t rng;
	sk_timer *sched, *tmo, *deadline;
	/* the announce in flight */
	bool busy;
	sk_conn *c;
	struct sk_buf req, rx;
	char *redirect;
	unsigned redirects;
	sk_resolve_req *rr;
	sk_dgram *d;
	struct sk_addr to;
	uint32_t tid;
	bool udp_connected;
	unsigned tries;
	bool udp_busy;           /* the announce in flight is UDP */
	uint64_t conn_id, conn_id_at;
	const char *udp_url;     /* the tracker d and conn_id belong to */
	sk_tls_ctx *tls;
	void (*done)(void *arg);
	void *done_arg;
	char err[200];
};

static void begin(struct bt_tc *tc);

static uint32_t rnd(struct bt_tc *tc)
{
	tc->rng ^= tc->rng << 13;
	tc->rng ^= tc->rng >> 7;
	tc->rng ^= tc->rng << 17;
	return (uint32_t)(tc->rng >> 16);
}

static const char *cur_url(const struct bt_tc *tc)
{
	return tc->tiers[tc->ti].urls[tc->ui];
}

static void cleanup(struct bt_tc *tc)
{
	if (tc->c) {
		sk_conn_set_cbs(tc->c, NULL, NULL);
		sk_conn_abort(tc->c);
		tc->c = NULL;
	}
	if (tc->rr) {
		sk_resolve_cancel(tc->rr);
		tc->rr = NULL;
	}
	/* the UDP socket stays: its connection id is bound to its address */
	tc->udp_busy = false;
	sk_timer_stop(tc->tmo);
	sk_buf_clear(&tc->req);
	sk_buf_clear(&tc->rx);
	tc->busy = false;
}

static void close_udp(struct bt_tc *tc)
{
	if (tc->d)
		sk_dgram_close(tc->d);
	tc->d = NULL;
	tc->udp_url = NULL;
	tc->conn_id_at = 0;
}

static void finish_stop(struct bt_tc *tc)
{
	void (*done)(void *) = tc->done;
	tc->done = NULL;
	tc->active = false;
	cleanup(tc);
	close_udp(tc);
	sk_timer_stop(tc->sched);
	sk_timer_stop(tc->deadline);
	if (done)
		done(tc->done_arg);
}

static void schedule(struct bt_tc *tc, uint64_t ms)
{
	sk_timer_start(tc->sched, ms, 0);
}

static void fail(struct bt_tc *tc, const char *fmt, ...) SK_PRINTF(2, 3);
static void fail(struct bt_tc *tc, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(tc->err, sizeof tc->err, "%s: %s", cur_url(tc), what);
	sk_log_warn("tracker %s", tc->err);
	if (tc->udp_busy)
		close_udp(tc); /* a fresh socket and connection id next time */
	cleanup(tc);
	free(tc->redirect);
	tc->redirect = NULL;
	tc->redirects = 0;
	if (++tc->ui >= tc->tiers[tc->ti].n) {
		tc->ui = 0;
		tc->ti++;
	}
	if (tc->ti < tc->ntiers) {
		schedule(tc, 0); /* the next tracker, from the loop */
		return;
	}
	tc->ti = 0;
	if (tc->stopping) {
		finish_stop(tc);
		return;
	}
	/* every tracker failed: back off */
	uint64_t wait = tc->o.retry_ms;
	for (unsigned i = 0; i < tc->fails && wait < BT_TC_RETRY_MAX_MS; i++)
		wait *= 2;
	if (wait > BT_TC_RETRY_MAX_MS)
		wait = BT_TC_RETRY_MAX_MS;
	tc->fails++;
	schedule(tc, wait);
}

static void succeed(struct bt_tc *tc, int64_t interval, int64_t min_interval,
		    const struct bt_peer *peers, size_t n)
{
	struct tier *t = &tc->tiers[tc->ti];
	cleanup(tc);
	free(tc->redirect);
	tc->redirect = NULL;
	tc->redirects = 0;
	/* BEP 12: the tracker that answered goes to the front of its tier */
	char *u = t->urls[tc->ui];
	memmove(t->urls + 1, t->urls, tc->ui * sizeof *t->urls);
	t->urls[0] = u;
	tc->ti = tc->ui = 0;
	tc->successes++;
	tc->fails = 0;
	tc->err[0] = '\0';
	tc->last_ok = sk_loop_now(tc->loop);
	sk_log_debug("tracker %s: ok, %zu peers, interval %lld s", u, n,
		     (long long)interval);
	if (tc->stopping) {
		finish_stop(tc);
		return;
	}
	bool pending = tc->event != tc->sent_event; /* "completed" meanwhile */
	tc->event = pending ? tc->event : BT_EVENT_NONE;
	tc->interval_ms = (uint64_t)(interval > 0 ? interval : 1800) * 1000;
	tc->min_ms = min_interval > 0 ? (uint64_t)min_interval * 1000
				       : tc->interval_ms / 4;
	if (tc->min_ms > tc->interval_ms)
		tc->min_ms = tc->interval_ms;
	schedule(tc, pending ? 0 : tc->interval_ms);
	if (n && tc->o.peers)
		tc->o.peers(tc->o.ud, peers, n);
}

static void fill_req(struct bt_tc *tc, struct bt_announce_req *r)
{
	memset(r, 0, sizeof *r);
	memcpy(r->info_hash, tc->o.m->info_hash, 20);
	memcpy(r->peer_id, tc->o.peer_id, 20);
	r->port = tc->o.port;
	if (tc->o.stats)
		tc->o.stats(tc->o.ud, &r->uploaded, &r->downloaded, &r->left);
	r->event = tc->sent_event = tc->event;
	r->numwant = tc->stopping ? 0 : tc->o.numwant;
	r->key = tc->key;
	r->compact = true;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static void http_response(struct bt_tc *tc, struct sk_slice body)
{
	struct bt_announce_resp r;
	struct bt_peer *peers = malloc(BT_TC_MAX_PEERS * sizeof *peers);
	if (!peers) {
		fail(tc, "out of memory");
		return;
	}
	if (bt_announce_resp_parse(body.p, body.n, &r, peers, BT_TC_MAX_PEERS) < 0)
		fail(tc, "not a tracker response");
	else if (r.failure.p)
		fail(tc, "refused: %.*s", (int)(r.failure.n > 120 ? 120 : r.failure.n),
		     (const char *)r.failure.p);
	else
		succeed(tc, r.interval, r.min_interval, peers,
			r.npeers < BT_TC_MAX_PEERS ? r.npeers : BT_TC_MAX_PEERS);
	free(peers);
}

/* Look at what arrived; eof: the server closed. */
static void http_try(struct bt_tc *tc, bool eof)
{
	struct bt_http_resp h;
	struct sk_slice body;
	const uint8_t *p = sk_buf_data(&tc->rx);
	size_t n = sk_buf_len(&tc->rx);
	int r = bt_http_resp_parse(p, n, BT_HTTP_HEAD_MAX, &h);
	if (r == 0) {
		if (eof)
			fail(tc, "closed before a response");
		return;
	}
	if (r < 0) {
		fail(tc, "bad HTTP response");
		return;
	}
	if (h.status >= 300 && h.status < 400 && h.location.n) {
		if (tc->redirects >= MAX_REDIRECTS) {
			fail(tc, "too many redirects");
			return;
		}
		char *loc = strndup((const char *)h.location.p, h.location.n);
		unsigned k = tc->redirects + 1;
		cleanup(tc);
		free(tc->redirect);
		tc->redirect = loc;
		tc->redirects = k;
		if (!loc)
			fail(tc, "out of memory");
		else
			schedule(tc, 0);
		return;
	}
	if (h.status != 200) {
		fail(tc, "HTTP status %d", h.status);
		return;
	}
	r = bt_http_body(&h, p + h.head_len, n - h.head_len, eof, BT_HTTP_BODY_MAX,
			 &body);
	if (r == 0 && eof)
		r = SK_EPROTO;
	if (r < 0)
		fail(tc, "bad HTTP body");
	else if (r == 1)
		http_response(tc, body);
}

static void on_http_open(sk_conn *c, void *ud)
{
	struct bt_tc *tc = ud;
	if (sk_conn_write_buf(c, &tc->req) < 0)
		fail(tc, "cannot send");
}

static void on_http_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct bt_tc *tc = ud;
	if (sk_buf_append(&tc->rx, sk_buf_data(in), sk_buf_len(in)) < 0) {
		fail(tc, "response too large");
		return;
	}
	sk_buf_consume(in, sk_buf_len(in));
	http_try(tc, false);
}

static void on_http_close(sk_conn *c, int err, void *ud)
{
	struct bt_tc *tc = ud;
	char buf[160];
	tc->c = NULL;
	if (err == SK_EOF || err == 0)
		http_try(tc, true);
	else
		fail(tc, "%s", sk_conn_error_string(c, err, buf, sizeof buf));
}

static const struct sk_conn_cbs http_cbs = {
	.on_open = on_http_open,
	.on_read = on_http_read,
	.on_close = on_http_close,
};

static void bind_addr(const struct bt_tc *tc, char *out, size_t cap)
{
	const char *ip = tc->o.bind_ip;
	snprintf(out, cap, strchr(ip, ':') ? "[%s]:0" : "%s:0", ip);
}

static void http_begin(struct bt_tc *tc, const char *url)
{
	struct sk_buf full = SK_BUF_INIT(16384);
	struct bt_url u;
	char host[SK_HOST_MAX + 1], addr[SK_HOST_MAX + 16], bind[80];
	int r = 0;

	if (tc->redirect) {
		r = sk_buf_append_str(&full, url);
	} else {
		struct bt_announce_req ar;
		fill_req(tc, &ar);
		r = bt_announce_url(&full, url, &ar);
		if (r == 0 && tc->o.announce_ip) {
			r = sk_buf_append_str(&full, "&ip=");
			if (r == 0)
				r = bt_pct_encode(&full, tc->o.announce_ip,
						  strlen(tc->o.announce_ip));
		}
	}
	if (r < 0 || bt_url_parse((const char *)sk_buf_data(&full), sk_buf_len(&full),
				  &u) < 0 || u.scheme == BT_URL_UDP ||
	    u.host.n > SK_HOST_MAX) {
		sk_buf_free(&full);
		fail(tc, "bad URL");
		return;
	}
	memcpy(host, u.host.p, u.host.n);
	host[u.host.n] = '\0';
	snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
		 u.port);
	char ua[48];
	snprintf(ua, sizeof ua, "sockit/%s", sk_app_version());
	r = bt_http_get_write(&tc->req, &u, ua);
	sk_buf_free(&full);
	if (r < 0) {
		fail(tc, "request too large");
		return;
	}
	struct sk_conn_opts co = {.connect_timeout_ms = 10000,
				  .max_in = BT_HTTP_BODY_MAX + BT_HTTP_HEAD_MAX};
	if (tc->o.bind_ip) {
		bind_addr(tc, bind, sizeof bind);
		co.bind = bind;
	}
	if (u.scheme == BT_URL_HTTPS) {
		if (!tc->tls && sk_tls_ctx_new(&tc->tls, SK_TLS_CLIENT, NULL) < 0) {
			fail(tc, "TLS: %s", sk_tls_last_error());
			return;
		}
		co.tls = tc->tls;
		co.sni = host;
	}
	sk_timer_start(tc->tmo, BT_TC_HTTP_TIMEOUT_MS, 0);
	r = sk_connect(tc->loop, addr, &co, &http_cbs, tc, &tc->c);
	if (r < 0) {
		tc->c = NULL;
		fail(tc, "connect: %s", sk_strerror(r));
	}
}

/* ---- UDP (BEP 15) ------------------------------------------------------------------ */

static void udp_send(struct bt_tc *tc)
{
	struct bt_announce_req ar;
	int r;
	tc->tid = rnd(tc);
	sk_buf_clear(&tc->req);
	if (!tc->udp_connected) {
		r = bt_udp_connect_write(&tc->req, tc->tid);
	} else {
		fill_req(tc, &ar);
		r = bt_udp_announce_write(&tc->req, tc->conn_id, tc->tid, &ar);
		struct in_addr ip;
		if (r == 0 && tc->o.announce_ip &&
		    inet_pton(AF_INET, tc->o.announce_ip, &ip) == 1 &&
		    sk_buf_len(&tc->req) >= 88)
			memcpy(tc->req.data + tc->req.off + 84, &ip, 4);
	}
	if (r == 0)
		r = sk_dgram_send(tc->d, sk_buf_data(&tc->req), sk_buf_len(&tc->req),
				  &tc->to);
	if (r < 0 && r != SK_EAGAIN) {
		fail(tc, "send: %s", sk_strerror(r));
		return;
	}
	sk_timer_start(tc->tmo, (uint64_t)tc->o.udp_try_ms << tc->tries, 0);
}

static void on_udp(sk_dgram *d, const uint8_t *p, size_t n,
		   const struct sk_addr *from, void *ud)
{
	struct bt_tc *tc = ud;
	struct bt_udp_msg m;
	if (!tc->udp_busy || !sk_addr_equal(from, &tc->to) ||
	    bt_udp_resp_parse(p, n, &m) < 0 || m.tid != tc->tid)
		return; /* not the answer we wait for */
	if (m.action == BT_UDP_ERROR) {
		fail(tc, "refused: %.*s", (int)(m.message.n > 120 ? 120 : m.message.n),
		     (const char *)m.message.p);
	} else if (!tc->udp_connected && m.action == BT_UDP_CONNECT) {
		tc->udp_connected = true;
		tc->conn_id = m.conn_id;
		tc->conn_id_at = sk_loop_now(tc->loop);
		tc->tries = 0;
		udp_send(tc);
	} else if (tc->udp_connected && m.action == BT_UDP_ANNOUNCE) {
		struct bt_peer peers[BT_TC_MAX_PEERS];
		int fam = sk_addr_family(&tc->to) == AF_INET6 ? 6 : 4;
		size_t k = bt_peers_compact(m.peers, fam, peers, BT_TC_MAX_PEERS);
		succeed(tc, m.interval, -1, peers, k < BT_TC_MAX_PEERS ? k : BT_TC_MAX_PEERS);
	}
}

static void on_resolved(int status, const struct sk_addr *addrs, size_t n,
			void *ud)
{
	struct bt_tc *tc = ud;
	char bind[80];
	tc->rr = NULL;
	if (status < 0) {
		fail(tc, "%s", sk_strerror(status));
		return;
	}
	tc->to = addrs[0];
	struct sk_dgram_opts o = {.family = sk_addr_family(&addrs[0])};
	if (tc->o.bind_ip)
		bind_addr(tc, bind, sizeof bind);
	int r = sk_dgram_open(tc->loop, tc->o.bind_ip ? bind : NULL, &o, on_udp, tc,
			      &tc->d);
	if (r < 0) {
		tc->d = NULL;
		fail(tc, "socket: %s", sk_strerror(r));
		return;
	}
	tc->udp_url = cur_url(tc);
	udp_send(tc);
}

static void udp_begin(struct bt_tc *tc, const char *url)
{
	struct bt_url u;
	char host[SK_HOST_MAX + 1];
	if (bt_url_parse(url, strlen(url), &u) < 0 || u.port == 0 ||
	    u.host.n > SK_HOST_MAX) {
		fail(tc, "bad URL");
		return;
	}
	memcpy(host, u.host.p, u.host.n);
	host[u.host.n] = '\0';
	tc->tries = 0;
	tc->udp_busy = true;
	if (tc->d && tc->udp_url == url) { /* the same socket: same id */
		tc->udp_connected = tc->conn_id_at &&
				    sk_loop_now(tc->loop) - tc->conn_id_at < CONN_ID_TTL_MS;
		udp_send(tc);
		return;
	}
	close_udp(tc);
	tc->udp_connected = false;
	int fam = 0;
	if (tc->o.bind_ip)
		fam = strchr(tc->o.bind_ip, ':') ? AF_INET6 : AF_INET;
	int r = sk_resolve(tc->loop, host, u.port, fam, 5000, on_resolved, tc, &tc->rr);
	if (r < 0) {
		tc->rr = NULL;
		fail(tc, "resolve: %s", sk_strerror(r));
	}
}

/* ---- the cycle -------------------------------------------------------------------- */

static void begin(struct bt_tc *tc)
{
	const char *url = tc->redirect ? tc->redirect : cur_url(tc);
	cleanup(tc);
	tc->busy = true;
	if (strncmp(url, "udp://", 6) == 0 && !tc->redirect)
		udp_begin(tc, url);
	else
		http_begin(tc, url);
}

static void on_sched(sk_timer *t, void *ud)
{
	begin(ud);
}

static void on_tmo(sk_timer *t, void *ud)
{
	struct bt_tc *tc = ud;
	if (tc->udp_busy && ++tc->tries < BT_TC_UDP_TRIES) {
		udp_send(tc);
		return;
	}
	fail(tc, "timed out");
}

static void on_deadline(sk_timer *t, void *ud)
{
	finish_stop(ud);
}

int bt_tc_new(sk_loop *loop, const struct bt_tc_opts *o, struct bt_tc **out)
{
	struct bt_tc *tc = calloc(1, sizeof *tc);
	if (!tc)
		return SK_ENOMEM;
	tc->loop = loop;
	tc->o = *o;
	if (!tc->o.numwant)
		tc->o.numwant = 50;
	if (!tc->o.retry_ms)
		tc->o.retry_ms = 15000;
	if (!tc->o.udp_try_ms)
		tc->o.udp_try_ms = BT_TC_UDP_TRY_MS;
	if (getrandom(&tc->rng, sizeof tc->rng, 0) != sizeof tc->rng || !tc->rng)
		tc->rng = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)tc;
	tc->key = rnd(tc);
	sk_buf_init(&tc->req, 64 * 1024);
	sk_buf_init(&tc->rx, BT_HTTP_BODY_MAX + BT_HTTP_HEAD_MAX);
	const struct bt_metainfo *m = o->m;
	int r = SK_ENOMEM;
	tc->tiers = calloc(m->ntiers ? m->ntiers : 1, sizeof *tc->tiers);
	if (!tc->tiers)
		goto err;
	for (size_t i = 0; i < m->ntiers; i++) {
		struct tier *t = &tc->tiers[tc->ntiers];
		if (!m->tiers[i].n)
			continue;
		if (!(t->urls = calloc(m->tiers[i].n, sizeof *t->urls)))
			goto err;
		tc->ntiers++;
		for (size_t k = 0; k < m->tiers[i].n; k++)
			if (!(t->urls[t->n++] = strdup(m->tiers[i].urls[k])))
				goto err;
		for (size_t k = t->n; k > 1; k--) { /* BEP 12: shuffle a tier once */
			size_t j = rnd(tc) % k;
			char *x = t->urls[k - 1];
			t->urls[k - 1] = t->urls[j];
			t->urls[j] = x;
		}
	}
	if ((r = sk_timer_new(loop, on_sched, tc, &tc->sched)) < 0 ||
	    (r = sk_timer_new(loop, on_tmo, tc, &tc->tmo)) < 0 ||
	    (r = sk_timer_new(loop, on_deadline, tc, &tc->deadline)) < 0)
		goto err;
	*out = tc;
	return 0;
err:
	bt_tc_free(tc);
	return r;
}

void bt_tc_start(struct bt_tc *tc)
{
	if (tc->ntiers == 0 || tc->active)
		return;
	tc->active = true;
	tc->event = BT_EVENT_STARTED;
	schedule(tc, 0);
}

void bt_tc_completed(struct bt_tc *tc)
{
	if (!tc->active || tc->stopping)
		return;
	/* "started" not yet through: "completed" would be the first word the
	 * tracker hears, which is fine (it registers the peer as a seed) */
	tc->event = BT_EVENT_COMPLETED;
	if (!tc->busy)
		schedule(tc, 0);
}

void bt_tc_want_peers(struct bt_tc *tc)
{
	if (!tc->active || tc->stopping || tc->busy || !tc->successes)
		return;
	uint64_t since = sk_loop_now(tc->loop) - tc->last_ok;
	schedule(tc, since >= tc->min_ms ? 0 : tc->min_ms - since);
}

void bt_tc_stop(struct bt_tc *tc, unsigned timeout_ms, void (*done)(void *arg),
		void *arg)
{
	tc->done = done;
	tc->done_arg = arg;
	if (!tc->active || tc->successes == 0) {
		finish_stop(tc);
		return;
	}
	cleanup(tc);
	free(tc->redirect);
	tc->redirect = NULL;
	tc->stopping = true;
	tc->event = BT_EVENT_STOPPED;
	tc->ti = tc->ui = 0;
	sk_timer_start(tc->deadline, timeout_ms, 0);
	schedule(tc, 0);
}

unsigned bt_tc_successes(const struct bt_tc *tc) { return tc->successes; }
const char *bt_tc_last_error(const struct bt_tc *tc) { return tc->err; }

void bt_tc_free(struct bt_tc *tc)
{
	if (!tc)
		return;
	if (tc->sched && tc->tmo && tc->deadline)
		cleanup(tc);
	close_udp(tc);
	if (tc->sched)
		sk_timer_free(tc->sched);
	if (tc->tmo)
		sk_timer_free(tc->tmo);
	if (tc->deadline)
		sk_timer_free(tc->deadline);
	size_t cap = tc->o.m->ntiers ? tc->o.m->ntiers : 1;
	for (size_t i = 0; tc->tiers && i < cap; i++) {
		for (size_t k = 0; k < tc->tiers[i].n; k++)
			free(tc->tiers[i].urls[k]);
		free(tc->tiers[i].urls);
	}
	free(tc->tiers);
	free(tc->redirect);
	sk_buf_free(&tc->req);
	sk_buf_free(&tc->rx);
	if (tc->tls)
		sk_tls_ctx_free(tc->tls);
	free(tc);
}
