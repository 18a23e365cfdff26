/*
 * src/cat/session.c - one run of `sockit cat`: open the first endpoint,
 * and for each stream it yields (one connection, or every client of a
 * listener) a session that opens the other endpoint and joins the two.
 *
 * The first endpoint is a listener if there is one (each client is a
 * session), else the network endpoint (so a program starts only once its
 * connection is up), else A.  Without -k the listener closes after its
 * first client.  With -k clients are served concurrently, except that
 * standard input and output can serve one session at a time: later clients
 * wait, held, in arrival order.
 */
#include <stdlib.h>
#include <string.h>

#include "cat/cat_int.h"
#include "util/log.h"

struct cat_session {
	struct cat_run *run;
	struct cat_session *next, **pprev;
	bool queued;            /* waiting for stdio */
	bool uses_stdio;
	struct cat_stream *st[2];
	struct cat_opener *op;  /* opening the second endpoint */
	struct cat_pump *pump;
	struct cat_dbridge *bridge;
};

static void session_open(struct cat_session *s);

static void report_bytes(struct cat_session *s)
{
	uint64_t b[2] = {0, 0};
	if (s->pump)
		cat_pump_bytes(s->pump, b);
	else if (s->bridge)
		cat_dbridge_bytes(s->bridge, b);
	else
		return;
	const struct cat_stream *net = s->st[s->run->o->relay ? 0 : 1];
	if (s->run->o->relay)
		sk_log_info("closed %s: %llu bytes A to B, %llu bytes B to A",
			    net->name, (unsigned long long)b[0],
			    (unsigned long long)b[1]);
	else
		sk_log_info("closed %s: sent %llu bytes, received %llu bytes",
			    net->name, (unsigned long long)b[0],
			    (unsigned long long)b[1]);
}

static void start_queued(struct cat_run *run)
{
	for (struct cat_session *s = run->sessions; s; s = s->next) {
		if (s->queued) {
			session_open(s);
			return;
		}
	}
}

static void session_free(struct cat_session *s)
{
	cat_open_cancel(s->op);
	cat_pump_free(s->pump);
	cat_dbridge_free(s->bridge);
	cat_stream_discard(s->st[0]);
	cat_stream_discard(s->st[1]);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	s->run->nsessions--;
	free(s);
}

/* The session is over (err 0: cleanly). */
static void session_end(struct cat_session *s, int err, const char *msg)
{
	struct cat_run *run = s->run;
	bool stdio = s->uses_stdio;
	report_bytes(s);
	if (err && !run->o->keep)
		cat_fail(run, "%s", msg);
	else if (err)
		sk_log_warn("%s", msg);
	session_free(s);
	if (stdio) {
		run->stdio_busy = false;
		start_queued(run);
	}
}

static void joined_done(void *ud, int err, const char *msg)
{
	session_end(ud, err, msg);
}

static void session_lost(void *ud, struct cat_stream *st, int err, const char *msg)
{
	session_end(ud, err == SK_EOF ? 0 : err, msg);
}

static void join(struct cat_session *s)
{
	const struct cat_opts *o = s->run->o;
	struct cat_stream **st = s->st;
	struct cat_join_cfg cfg = {
		.hex = o->hex,
		.quit_ms = o->quit_ms,
		/* -q counts from the end of our input; a relay's from either. */
		.quit_mask = o->relay ? 3u : 1u,
		.allow = &o->allow,
		.deny = &o->deny,
	};
	/* Someone at a terminal is done when the peer is: like ncat. */
	for (unsigned i = 0; i < 2; i++)
		if (st[i]->tty_in)
			cfg.eof_ends_mask |= 1u << !i;
	int r;
	if (st[0]->dg || st[1]->dg) {
		const struct cat_stream *d = st[0]->dg ? st[0] : st[1];
		cfg.dg_errors_fatal = !d->dg_listen;
		cfg.dg_lock = d->dg_listen && !o->keep;
		r = cat_dbridge_start(s->run->loop, &cfg, st[0], st[1], joined_done,
				      s, &s->bridge);
	} else {
		r = cat_pump_start(s->run->loop, &cfg, st[0], st[1], joined_done, s,
				   &s->pump);
	}
	if (r < 0)
		session_end(s, r, sk_strerror(r));
}

static void second_opened(void *ud, struct cat_stream *st, int err, const char *msg)
{
	struct cat_session *s = ud;
	s->op = NULL;
	if (err) {
		session_end(s, err, msg);
		return;
	}
	s->st[!s->run->first] = st;
	st->lost = session_lost;
	st->lost_ud = s;
	join(s);
}

static void session_open(struct cat_session *s)
{
	struct cat_run *run = s->run;
	const struct cat_ep *ep = &run->o->ep[!run->first];
	char err[CAT_ERRMSG], what[CAT_ERRMSG];
	s->queued = false;
	sk_log_debug("%s: opening %s", s->st[run->first]->name,
		     cat_ep_describe(ep, what, sizeof what));
	if (ep->kind == CAT_EP_STDIO) {
		run->stdio_busy = true;
		s->uses_stdio = true;
	}
	int r = cat_open(run, ep, second_opened, s, &s->op, err, sizeof err);
	if (r < 0)
		session_end(s, r, err);
}

static void session_new(struct cat_run *run, struct cat_stream *st)
{
	struct cat_session *s = calloc(1, sizeof *s);
	if (!s) {
		cat_stream_discard(st);
		sk_log_warn("out of memory: connection dropped");
		return;
	}
	s->run = run;
	s->next = run->sessions;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &run->sessions;
	run->sessions = s;
	run->nsessions++;
	s->st[run->first] = st;
	st->lost = session_lost;
	st->lost_ud = s;
	if (run->o->ep[!run->first].kind == CAT_EP_STDIO && run->stdio_busy) {
		s->queued = true; /* its turn comes when stdio is free */
		sk_log_debug("%s waits for the session before it", st->name);
		return;
	}
	session_open(s);
}

/* ---- the first endpoint ------------------------------------------------------ */

bool cat_peer_allowed(struct cat_run *run, sk_conn *c)
{
	struct sk_addr a;
	const struct cat_opts *o = run->o;
	if ((!o->allow.n && !o->deny.n) || sk_conn_peer(c, &a) < 0 ||
	    cat_acl_allows(&o->allow, &o->deny, &a))
		return true;
	sk_log_info("refused %s (--allow/--deny)", sk_conn_peer_str(c));
	sk_conn_abort(c);
	return false;
}

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct cat_run *run = ud;
	if (!cat_peer_allowed(run, c))
		return;
	if (run->stopping || (!run->o->keep && run->served > 0)) {
		sk_conn_close(c); /* a late TLS handshake of a one-shot listener */
		return;
	}
	run->served++;
	sk_log_info("connection from %s", cat_peer_name(c));
	if (!run->o->keep) {
		sk_listener_close(l);
		run->listener = NULL;
	}
	struct cat_stream *st = cat_stream_accepted(c);
	if (!st) {
		sk_conn_abort(c);
		return;
	}
	session_new(run, st);
}

static void on_listen_error(sk_listener *l, int err, void *ud)
{
	if (err == SK_ELIMIT)
		sk_log_info("refused a connection: --max-conns reached");
	else
		sk_log_warn("accept: %s", sk_strerror(err));
}

static void first_opened(void *ud, struct cat_stream *st, int err, const char *msg)
{
	struct cat_run *run = ud;
	run->first_op = NULL;
	if (err) {
		cat_fail(run, "%s", msg);
		return;
	}
	if (run->o->zero) {
		sk_log_info("%s is open", st->name);
		cat_stream_discard(st);
		return;
	}
	run->served++;
	session_new(run, st);
}

static int pick_first(const struct cat_opts *o)
{
	for (int i = 0; i < 2; i++)
		if (o->ep[i].kind == CAT_EP_NET && o->ep[i].listen)
			return i;
	for (int i = 0; i < 2; i++)
		if (o->ep[i].kind == CAT_EP_NET)
			return i;
	return 0;
}

/* -s ADDR may leave out the port. */
static int set_source(struct cat_run *run)
{
	const char *s = run->o->source;
	struct sk_addr a;
	if (!s)
		return 0;
	if (sk_addr_parse(s, &a) == 0) {
		run->source = s;
		return 0;
	}
	snprintf(run->source_buf, sizeof run->source_buf,
		 strchr(s, ':') ? "[%s]:0" : "%s:0", s);
	if (sk_addr_parse(run->source_buf, &a) < 0) {
		cat_fail(run, "-s: '%s' is not a numeric address", s);
		return -1;
	}
	run->source = run->source_buf;
	return 0;
}

int cat_run_start(struct cat_run *run)
{
	const struct cat_opts *o = run->o;
	char err[CAT_ERRMSG];
	int r;
	if (set_source(run) < 0 || cat_tls_setup(run) < 0)
		return -1;
	if (o->broker)
		return cat_broker_start(run);
	run->first = pick_first(o);
	const struct cat_ep *ep = &o->ep[run->first];
	if (ep->kind == CAT_EP_NET && ep->listen && !ep->dgram) {
		r = cat_listen(run, ep, on_accept, run, &run->listener, err, sizeof err);
		if (r == 0)
			sk_listener_on_error(run->listener, on_listen_error);
	} else {
		r = cat_open(run, ep, first_opened, run, &run->first_op, err, sizeof err);
	}
	if (r < 0) {
		cat_fail(run, "%s", err);
		return -1;
	}
	return 0;
}

/* After the loop stopped early (a signal): release what is ours; the
 * connections go with the loop, without callbacks. */
void cat_run_free(struct cat_run *run)
{
	cat_open_cancel(run->first_op);
	run->first_op = NULL;
	while (run->sessions)
		session_free(run->sessions);
	if (run->listener) {
		sk_listener_close(run->listener);
		run->listener = NULL;
	}
	cat_broker_free(run);
	cat_exec_free(run);
}
