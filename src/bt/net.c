/*
 * src/bt/net.c - the sockets of a torrent (see client.h): the listener,
 * outgoing connections, feeding the sessions, rate limits, candidates.
 *
 * Rate limits are token buckets refilled every 100 ms (fast_tick) with a
 * burst of half a second.  Upload: blocks are produced only while the
 * bucket holds tokens (and the connection's queue is below its high
 * water mark, so a slow reader never makes us read the disk ahead of
 * it).  Download: reading from a connection stops once the bucket is
 * empty and starts again at the refill; the request pipeline follows the
 * measured rate, so a limited peer is not flooded with requests either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/client.h"
#include "util/log.h"

#define HIGH_WATER (1u << 20)
#define FAST_TICK_MS 100
#define CONNECTS_PER_TICK 8
#define MAX_KNOWN 2000

static void peer_unlink(struct bt_pconn *pc)
{
	pc->prev->next = pc->next;
	pc->next->prev = pc->prev;
	pc->cl->npeers--;
}

static void known_done(struct bt_client *cl, struct bt_pconn *pc, bool worked)
{
	struct bt_known *k = pc->known;
	if (!k)
		return;
	k->connected = false;
	if (worked) {
		k->fails = 0;
		if (k->next_try < cl->sw.now + 30000)
			k->next_try = cl->sw.now + 30000;
	} else {
		uint64_t wait = 3000ull << (k->fails < 7 ? k->fails : 7);
		k->fails++;
		k->next_try = cl->sw.now + wait;
	}
	pc->known = NULL;
}

void bt_net_drop(struct bt_pconn *pc, const char *why)
{
	if (pc->closing)
		return;
	pc->closing = true;
	sk_log_debug("peer %s: %s", pc->name, why ? why : "closed");
	known_done(pc->cl, pc, pc->s.state == BT_PS_ACTIVE);
	bt_psess_free(&pc->s);
	if (pc->c) {
		if (sk_conn_out_len(pc->c) > 65536)
			sk_conn_abort(pc->c);
		else
			sk_conn_close(pc->c);
	}
}

void bt_net_flush(struct bt_pconn *pc)
{
	if (pc->closing || !pc->open || !sk_buf_len(&pc->s.out))
		return;
	if (sk_conn_write_buf(pc->c, &pc->s.out) < 0)
		bt_net_drop(pc, "cannot send");
}

void bt_net_serve(struct bt_pconn *pc)
{
	struct bt_client *cl = pc->cl;
	if (pc->closing || !pc->open || !bt_psess_pending(&pc->s) ||
	    sk_conn_congested(pc->c))
		return;
	size_t out = sk_conn_out_len(pc->c);
	size_t budget = out < HIGH_WATER ? HIGH_WATER - out : 1;
	if (cl->up.rate) {
		if (cl->up.tokens <= 0)
			return;
		if ((uint64_t)cl->up.tokens < budget)
			budget = (size_t)cl->up.tokens;
	}
	size_t n = bt_psess_serve(&pc->s, budget);
	cl->uploaded += n;
	if (cl->up.rate)
		cl->up.tokens -= (int64_t)n;
	bt_net_flush(pc);
}

/* ---- connection callbacks ---------------------------------------------------------- */

static void on_open(sk_conn *c, void *ud)
{
	struct bt_pconn *pc = ud;
	pc->cl->sw.now = sk_loop_now(pc->cl->loop);
	pc->open = true;
	sk_log_debug("peer %s: connected", pc->name);
	bt_net_flush(pc);
}

/* The whole length of the partial message at the head of in (0: none, or
 * still in the handshake): the library completes it from the next read and
 * hands the rest of that read over without copying it. */
static size_t partial_need(const struct bt_pconn *pc, const struct sk_buf *in)
{
	size_t n = sk_buf_len(in);
	if (n == 0 || pc->s.state != BT_PS_ACTIVE)
		return 0;
	if (n < 4)
		return 4;
	const uint8_t *d = sk_buf_data(in);
	return 4 + ((size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3]);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct bt_pconn *pc = ud;
	struct bt_client *cl = pc->cl;
	cl->sw.now = sk_loop_now(cl->loop);
	if (pc->closing) {
		sk_buf_consume(in, sk_buf_len(in));
		return;
	}
	size_t before = sk_buf_len(in);
	int r = bt_psess_feed(&pc->s, in);
	if (cl->down.rate) {
		cl->down.tokens -= (int64_t)(before - sk_buf_len(in));
		if (cl->down.tokens <= 0 && !pc->read_paused) {
			pc->read_paused = true;
			sk_conn_read_stop(c);
		}
	}
	if (r < 0) {
		bt_net_flush(pc);
		bt_net_drop(pc, pc->s.why);
		return;
	}
	size_t need = partial_need(pc, in);
	if (need)
		sk_conn_read_need(c, need);
	bt_net_serve(pc);
	bt_net_flush(pc);
}

static void on_drain(sk_conn *c, void *ud)
{
	struct bt_pconn *pc = ud;
	pc->cl->sw.now = sk_loop_now(pc->cl->loop);
	bt_net_serve(pc);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct bt_pconn *pc = ud;
	struct bt_client *cl = pc->cl;
	cl->sw.now = sk_loop_now(cl->loop);
	if (!pc->closing) {
		char buf[160];
		pc->closing = true;
		sk_log_debug("peer %s: %s", pc->name,
			     sk_conn_error_string(c, err, buf, sizeof buf));
		known_done(cl, pc, pc->s.state == BT_PS_ACTIVE);
		bt_psess_free(&pc->s);
	}
	peer_unlink(pc);
	free(pc);
}

static const struct sk_conn_cbs peer_cbs = {
	.on_open = on_open,
	.on_read = on_read,
	.on_drain = on_drain,
	.on_close = on_close,
};

static void conn_opts(const struct bt_client *cl, struct sk_conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_in = 2 * cl->sw.msg_max + (256u << 10);
	o->high_water = HIGH_WATER;
	/* on_drain once the queue is empty: blocks then leave by sendfile
	 * again instead of being copied in behind queued bytes */
	o->low_water = 1;
	o->connect_timeout_ms = 5000;
	o->bind = cl->bind[0] ? cl->bind : NULL;
}

static struct bt_pconn *pconn_new(struct bt_client *cl, const struct sk_addr *a,
				  bool outgoing)
{
	struct bt_pconn *pc = calloc(1, sizeof *pc);
	if (!pc)
		return NULL;
	pc->cl = cl;
	pc->addr = *a;
	if (sk_addr_format(a, pc->name, sizeof pc->name) < 0)
		snprintf(pc->name, sizeof pc->name, "?");
	if (bt_psess_init(&pc->s, &cl->sw, cl->next_id++, outgoing) < 0) {
		bt_psess_free(&pc->s);
		free(pc);
		return NULL;
	}
	if (cl->next_id == 0)
		cl->next_id = 1;
	pc->next = &cl->peers;
	pc->prev = cl->peers.prev;
	cl->peers.prev->next = pc;
	cl->peers.prev = pc;
	cl->npeers++;
	return pc;
}

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct bt_client *cl = ud;
	struct sk_addr a;
	cl->sw.now = sk_loop_now(cl->loop);
	if (cl->stopping || cl->npeers >= cl->o.max_peers + 5 ||
	    sk_conn_peer(c, &a) < 0 || bt_client_banned(cl, &a)) {
		sk_conn_abort(c);
		return;
	}
	struct bt_pconn *pc = pconn_new(cl, &a, false);
	if (!pc) {
		sk_conn_abort(c);
		return;
	}
	pc->c = c;
	pc->open = true;
	sk_conn_set_cbs(c, &peer_cbs, pc);
	sk_log_debug("peer %s: accepted", pc->name);
}

static void connect_to(struct bt_client *cl, struct bt_known *k)
{
	struct sk_conn_opts o;
	struct bt_pconn *pc = pconn_new(cl, &k->addr, true);
	if (!pc)
		return;
	conn_opts(cl, &o);
	pc->known = k;
	k->connected = true;
	int r = sk_connect_addrs(cl->loop, &k->addr, 1, &o, &peer_cbs, pc, &pc->c);
	if (r < 0) {
		sk_log_debug("peer %s: %s", pc->name, sk_strerror(r));
		known_done(cl, pc, false);
		bt_psess_free(&pc->s);
		peer_unlink(pc);
		free(pc);
	}
}

void bt_net_connect_more(struct bt_client *cl)
{
	unsigned started = 0;
	if (cl->stopping || !cl->l)
		return;
	for (size_t i = 0; i < cl->nknown && cl->npeers < cl->o.max_peers &&
			   started < CONNECTS_PER_TICK; i++) {
		struct bt_known *k = &cl->known[i];
		if (k->connected || k->self || k->next_try > cl->sw.now ||
		    bt_client_banned(cl, &k->addr))
			continue;
		connect_to(cl, k);
		started++;
	}
}

static void add_known(struct bt_client *cl, const struct sk_addr *a)
{
	if (sk_addr_equal(a, &cl->self) || cl->nknown >= MAX_KNOWN)
		return;
	for (size_t i = 0; i < cl->nknown; i++)
		if (sk_addr_equal(&cl->known[i].addr, a))
			return;
	if (cl->nknown == cl->capknown) {
		/* known[] moves: repoint the connections that refer to it */
		size_t cap = cl->capknown ? 2 * cl->capknown : 32;
		struct bt_known *old = cl->known;
		struct bt_known *v = malloc(cap * sizeof *v);
		if (!v)
			return;
		/* Not realloc: the old pointers are rebased while still valid. */
		if (cl->nknown)
			memcpy(v, old, cl->nknown * sizeof *v);
		BT_FOREACH_PEER(cl, pc, nx)
			if (pc->known)
				pc->known = v + (pc->known - old);
		free(old);
		cl->known = v;
		cl->capknown = cap;
	}
	struct bt_known *k = &cl->known[cl->nknown++];
	memset(k, 0, sizeof *k);
	k->addr = *a;
}

void bt_net_add_peers(struct bt_client *cl, const struct bt_peer *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sk_addr a;
		bt_peer_to_addr(&v[i], &a);
		add_known(cl, &a);
	}
	bt_net_connect_more(cl);
}

int bt_net_add_peer_str(struct bt_client *cl, const char *s)
{
	struct sk_addr a;
	int r = sk_addr_parse(s, &a);
	if (r < 0 || (sk_addr_family(&a) != AF_INET && sk_addr_family(&a) != AF_INET6))
		return SK_EBADADDR;
	add_known(cl, &a);
	return 0;
}

/* ---- timers, tracker glue --------------------------------------------------------- */

static void refill(struct bt_bucket *b)
{
	if (!b->rate)
		return;
	b->tokens += (int64_t)(b->rate * FAST_TICK_MS / 1000);
	if (b->tokens > (int64_t)(b->rate / 2))
		b->tokens = (int64_t)(b->rate / 2);
}

void bt_net_fast_tick(struct bt_client *cl)
{
	refill(&cl->up);
	refill(&cl->down);
	BT_FOREACH_PEER(cl, pc, nx) {
		if (pc->closing)
			continue;
		if (pc->read_paused && cl->down.tokens > 0) {
			pc->read_paused = false;
			sk_conn_read_start(pc->c);
		}
		if (cl->up.rate)
			bt_net_serve(pc);
	}
}

static void on_fast_tick(sk_timer *t, void *ud)
{
	struct bt_client *cl = ud;
	cl->sw.now = sk_loop_now(cl->loop);
	bt_net_fast_tick(cl);
}

static void on_tick(sk_timer *t, void *ud)
{
	struct bt_client *cl = ud;
	cl->sw.now = sk_loop_now(cl->loop);
	bt_client_second(cl);
}

static void on_choke_tick(sk_timer *t, void *ud)
{
	struct bt_client *cl = ud;
	cl->sw.now = sk_loop_now(cl->loop);
	bt_client_choke_round(cl);
}

static void tc_peers(void *ud, const struct bt_peer *v, size_t n)
{
	struct bt_client *cl = ud;
	cl->sw.now = sk_loop_now(cl->loop);
	bt_net_add_peers(cl, v, n);
}

static void tc_stats(void *ud, uint64_t *up, uint64_t *down, uint64_t *left)
{
	struct bt_client *cl = ud;
	*up = cl->uploaded;
	*down = cl->downloaded;
	*left = bt_picker_left(&cl->pk);
}

int bt_net_start(struct bt_client *cl)
{
	struct sk_listen_opts lo = {.max_conns = cl->o.max_peers + 16};
	conn_opts(cl, &lo.conn);
	lo.conn.bind = NULL;
	int r = sk_listen(cl->loop, cl->o.listen, &lo, on_accept, cl, &cl->l);
	if (r < 0) {
		cl->l = NULL;
		return r;
	}
	sk_listener_addr(cl->l, &cl->self);
	cl->sw.port = sk_listener_port(cl->l);
	/* outgoing sockets leave from the listening IP (unless it is "any") */
	char ip[SK_ADDR_STRLEN], name[SK_ADDR_STRLEN];
	if (sk_addr_format_ip(&cl->self, ip, sizeof ip) > 0 && strcmp(ip, "0.0.0.0") &&
	    strcmp(ip, "::")) {
		snprintf(cl->bind_ip, sizeof cl->bind_ip, "%s", ip);
		snprintf(cl->bind, sizeof cl->bind,
			 strchr(ip, ':') ? "[%s]:0" : "%s:0", ip);
	}
	sk_addr_format(&cl->self, name, sizeof name);
	sk_log_info("listening on %s for %s (%u pieces of %u KiB)", name, cl->m.name,
		    cl->m.npieces, cl->m.piece_length / 1024);
	if ((r = sk_timer_new(cl->loop, on_fast_tick, cl, &cl->fast_tick)) < 0 ||
	    (r = sk_timer_new(cl->loop, on_tick, cl, &cl->tick)) < 0 ||
	    (r = sk_timer_new(cl->loop, on_choke_tick, cl, &cl->choke_tick)) < 0)
		return r;
	sk_timer_start(cl->fast_tick, FAST_TICK_MS, FAST_TICK_MS);
	sk_timer_start(cl->tick, 1000, 1000);
	sk_timer_start(cl->choke_tick, BT_CHOKE_ROUND_MS, BT_CHOKE_ROUND_MS);

	struct bt_tc_opts to = {
		.m = &cl->m, .port = cl->sw.port,
		.bind_ip = cl->bind_ip[0] ? cl->bind_ip : NULL,
		.announce_ip = cl->o.announce_ip,
		.peers = tc_peers, .stats = tc_stats, .ud = cl,
	};
	memcpy(to.peer_id, cl->sw.peer_id, 20);
	if (cl->m.ntiers) {
		if ((r = bt_tc_new(cl->loop, &to, &cl->tc)) < 0)
			return r;
		bt_tc_start(cl->tc);
	} else if (cl->nknown == 0) {
		sk_log_warn("the torrent names no tracker and no --peers were given");
	}
	bt_net_connect_more(cl);
	return 0;
}

void bt_net_stop(struct bt_client *cl)
{
	if (cl->l)
		sk_listener_close(cl->l);
	cl->l = NULL;
	sk_timer **t[3] = {&cl->fast_tick, &cl->tick, &cl->choke_tick};
	for (int i = 0; i < 3; i++)
		if (*t[i]) {
			sk_timer_free(*t[i]);
			*t[i] = NULL;
		}
	BT_FOREACH_PEER(cl, pc, nx) {
		if (!pc->closing) {
			known_done(cl, pc, false);
			bt_psess_free(&pc->s);
		}
		if (pc->c) {
			sk_conn_set_cbs(pc->c, NULL, NULL);
			sk_conn_close(pc->c);
		}
		peer_unlink(pc);
		free(pc);
	}
}
