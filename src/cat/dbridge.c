/*
 * src/cat/dbridge.c - joins a byte stream and a datagram socket.
 *
 * Stream to socket: every chunk read becomes datagrams of at most `chunk`
 * bytes.  A full socket buffer (SK_EAGAIN: datagrams are not queued) leaves
 * the rest unconsumed in the stream's input, stops reading and retries
 * shortly.  Until a listening socket has heard from a peer there is nobody
 * to send to, so the stream is not read.
 *
 * Socket to stream: each datagram's payload is written to the stream; when
 * the stream's writer is congested, receiving stops until it drains.
 *
 * Peers of a listening socket: without -k the first sender becomes the
 * only peer (the socket is connected to it, like a TCP accept); with -k
 * replies go to whoever sent last.  --allow/--deny filter senders.
 *
 * Datagrams have no end: the join ends at end of the stream's input (after
 * -q, default at once), when the stream closes, or on a socket error when
 * dg_errors_fatal (a client hearing "connection refused").
 */
#include <stdlib.h>
#include <string.h>

#include "cat/cat_int.h"
#include "util/log.h"

#define RETRY_MS 2           /* after SK_EAGAIN on send */
#define UDP_CHUNK 65507      /* the largest UDP payload over IPv4 */
#define UNIX_CHUNK 65536

struct dport {
	struct cat_dbridge *b;
	sk_conn *c;
	bool rd, wr;
	const char *label;
};

struct cat_dbridge {
	sk_loop *loop;
	struct cat_join_cfg cfg;
	unsigned ds;              /* side of the datagram socket */
	sk_dgram *d;
	bool lock;                /* connect to the first sender */
	bool has_peer;
	struct sk_addr peer;      /* where stream bytes go (unconnected socket) */
	bool connected;
	size_t chunk;
	struct dport port[2];     /* [0] reads (and writes if one conn), [1] writes */
	unsigned live;
	bool finishing, in_eof, recv_paused;
	uint64_t bytes[2];
	uint64_t hexoff[2];
	sk_timer *retry, *quit, *end;
	int err;
	char errmsg[CAT_ERRMSG];
	char dname[SK_ADDR_STRLEN + 16];
	cat_join_done_cb done;
	void *ud;
};

static void finish(struct cat_dbridge *b);

static sk_conn *stream_reader(struct cat_dbridge *b)
{
	return b->port[0].rd ? b->port[0].c : NULL;
}

static sk_conn *stream_writer(struct cat_dbridge *b)
{
	return b->port[0].wr ? b->port[0].c : b->port[1].c;
}

/* An error of the datagram socket: "<words> (<its name>)". */
static void set_error(struct cat_dbridge *b, int err)
{
	if (b->err || err == 0)
		return;
	b->err = err;
	snprintf(b->errmsg, sizeof b->errmsg, "%s (%s)", sk_strerror(err), b->dname);
}

/* ---- stream -> datagrams ---------------------------------------------------- */

static void retry_cb(sk_timer *t, void *ud)
{
	struct cat_dbridge *b = ud;
	sk_conn *r = stream_reader(b);
	if (r && !b->finishing)
		sk_conn_read_start(r); /* redelivers what was left */
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct dport *pt = ud;
	struct cat_dbridge *b = pt->b;
	unsigned s = !b->ds;
	if (!b->d || b->finishing) {
		sk_buf_consume(in, in->len);
		return;
	}
	if (!b->has_peer) { /* nobody to send to yet: wait for a datagram */
		sk_conn_read_stop(c);
		return;
	}
	while (in->len) {
		size_t n = in->len < b->chunk ? in->len : b->chunk;
		const struct sk_addr *to = b->connected ? NULL : &b->peer;
		int r = sk_dgram_send(b->d, sk_buf_data(in), n, to);
		if (r == SK_EAGAIN) {
			sk_conn_read_stop(c);
			if (b->retry || sk_timer_new(b->loop, retry_cb, b, &b->retry) == 0)
				sk_timer_start(b->retry, RETRY_MS, 0);
			return;
		}
		if (r < 0) {
			set_error(b, r);
			finish(b);
			return;
		}
		if (b->cfg.hex)
			cat_hexdump(stderr, s == 0 ? '>' : '<', &b->hexoff[s],
				    sk_buf_data(in), n);
		b->bytes[s] += n;
		sk_buf_consume(in, n);
	}
}

static void quit_cb(sk_timer *t, void *ud)
{
	finish(ud);
}

/* End of the stream's input: nothing more to send. */
static void eof_reached(struct cat_dbridge *b)
{
	if (b->in_eof)
		return;
	b->in_eof = true;
	long ms = b->cfg.quit_ms < 0 ? 0 : b->cfg.quit_ms;
	if (ms == 0 || sk_timer_new(b->loop, quit_cb, b, &b->quit) < 0)
		finish(b);
	else
		sk_timer_start(b->quit, (uint64_t)ms, 0);
}

static void on_eof(sk_conn *c, void *ud)
{
	struct dport *pt = ud;
	if (!pt->wr)
		sk_conn_close(c);
	eof_reached(pt->b);
}

static void on_drain(sk_conn *c, void *ud)
{
	struct dport *pt = ud;
	struct cat_dbridge *b = pt->b;
	if (b->d && b->recv_paused) {
		b->recv_paused = false;
		sk_dgram_recv_start(b->d);
	}
}

static void end_cb(sk_timer *t, void *ud)
{
	struct cat_dbridge *b = ud;
	b->done(b->ud, b->err, b->errmsg); /* may free b: last */
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct dport *pt = ud;
	struct cat_dbridge *b = pt->b;
	pt->c = NULL;
	b->live--;
	if (err && err != SK_EOF && !b->err) {
		b->err = err;
		cat_conn_errstr(c, err, pt->label, b->errmsg, sizeof b->errmsg);
	}
	if ((err && err != SK_EOF) || pt->wr)
		finish(b); /* a failure, or nowhere left to deliver datagrams */
	else
		eof_reached(b);
	if (b->live == 0 && !(b->end && sk_timer_active(b->end)))
		b->done(b->ud, b->err, b->errmsg); /* may free b: last */
}

static const struct sk_conn_cbs dbridge_cbs = {
	.on_read = on_read,
	.on_eof = on_eof,
	.on_drain = on_drain,
	.on_close = on_close,
};

/* ---- datagrams -> stream ---------------------------------------------------- */

static bool is_named(const struct sk_addr *a)
{
	if (a->u.sa.sa_family != AF_UNIX)
		return true;
	return a->len > offsetof(struct sockaddr_un, sun_path);
}

static void new_peer(struct cat_dbridge *b, const struct sk_addr *from)
{
	char txt[SK_ADDR_STRLEN];
	if (sk_addr_format(from, txt, sizeof txt) < 0)
		snprintf(txt, sizeof txt, "?");
	if (!is_named(from)) {
		sk_log_warn("datagrams from an unnamed socket: cannot answer");
		return;
	}
	b->peer = *from;
	if (b->lock) {
		int r = sk_dgram_connect(b->d, from);
		if (r < 0) {
			sk_log_warn("cannot fix the peer %s: %s", txt, sk_strerror(r));
			return;
		}
		b->connected = true;
	}
	if (!b->has_peer)
		sk_log_info("datagrams from %s", txt);
	else
		sk_log_debug("now answering %s", txt);
	b->has_peer = true;
	sk_conn *r = stream_reader(b);
	if (r && !b->in_eof)
		sk_conn_read_start(r);
}

void cat_dbridge_recv(sk_dgram *d, const uint8_t *p, size_t n,
		      const struct sk_addr *from, void *ud)
{
	struct cat_dbridge *b = ud;
	if (!b || b->finishing)
		return;
	if (!b->connected) {
		if (!cat_acl_allows(b->cfg.allow, b->cfg.deny, from)) {
			if (sk_log_enabled(SK_LOG_INFO)) {
				char txt[SK_ADDR_STRLEN];
				if (sk_addr_format(from, txt, sizeof txt) > 0)
					sk_log_info("datagram from %s refused (--allow/--deny)", txt);
			}
			return;
		}
		if (!b->has_peer || (!b->lock && !sk_addr_equal(from, &b->peer)))
			new_peer(b, from);
	}
	unsigned s = b->ds;
	b->bytes[s] += n;
	if (b->cfg.hex)
		cat_hexdump(stderr, s == 0 ? '>' : '<', &b->hexoff[s], p, n);
	sk_conn *w = stream_writer(b);
	if (!w || n == 0)
		return;
	(void)sk_conn_write(w, p, n); /* a failure closes w: on_close tells */
	if (sk_conn_congested(w) && !b->recv_paused) {
		b->recv_paused = true;
		sk_dgram_recv_stop(d);
	}
}

static void on_dgram_error(sk_dgram *d, int err, void *ud)
{
	struct cat_dbridge *b = ud;
	if (!b)
		return;
	if (!b->cfg.dg_errors_fatal) {
		sk_log_info("%s: %s", b->dname, sk_strerror(err));
		return;
	}
	set_error(b, err);
	finish(b);
}

/* ---- lifetime --------------------------------------------------------------- */

static void finish(struct cat_dbridge *b)
{
	if (b->finishing)
		return;
	b->finishing = true;
	if (b->d) {
		sk_dgram_close(b->d);
		b->d = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (b->port[i].c)
			sk_conn_close(b->port[i].c);
	/* No connection left to report the end: do it from the loop. */
	if (b->live == 0 && (b->end || sk_timer_new(b->loop, end_cb, b, &b->end) == 0))
		sk_timer_start(b->end, 0, 0);
}

static void attach(struct cat_dbridge *b, struct dport *pt, sk_conn *c, bool rd,
		   bool wr, const char *label)
{
	pt->b = b;
	pt->c = c;
	pt->rd = rd;
	pt->wr = wr;
	pt->label = label;
	if (c) {
		b->live++;
		sk_conn_set_cbs(c, &dbridge_cbs, pt);
	}
}

int cat_dbridge_start(sk_loop *loop, const struct cat_join_cfg *cfg,
		      struct cat_stream *a, struct cat_stream *bs,
		      cat_join_done_cb done, void *ud, struct cat_dbridge **out)
{
	struct cat_dbridge *b = calloc(1, sizeof *b);
	if (!b)
		return SK_ENOMEM;
	b->loop = loop;
	b->cfg = *cfg;
	b->done = done;
	b->ud = ud;
	b->ds = a->dg ? 0 : 1;
	struct cat_stream *ds = b->ds == 0 ? a : bs, *ss = b->ds == 0 ? bs : a;
	b->d = ds->dg;
	ds->dg = NULL;
	snprintf(b->dname, sizeof b->dname, "%s", ds->name);
	b->connected = ds->dg_connected;
	b->has_peer = ds->dg_connected;
	b->lock = cfg->dg_lock;
	struct sk_addr local;
	b->chunk = sk_dgram_local(b->d, &local) == 0 &&
				   sk_addr_family(&local) == AF_UNIX
			   ? UNIX_CHUNK
			   : UDP_CHUNK;
	if (ss->rd && ss->rd == ss->wr) {
		attach(b, &b->port[0], ss->rd, true, true, ss->name);
	} else {
		attach(b, &b->port[0], ss->rd, true, false, "standard input");
		attach(b, &b->port[1], ss->wr, false, true, "standard output");
	}
	ss->rd = ss->wr = NULL;
	sk_dgram_set_data(b->d, b);
	sk_dgram_on_error(b->d, on_dgram_error);
	sk_dgram_recv_start(b->d);
	*out = b;
	sk_conn *r = stream_reader(b);
	if (r && b->has_peer)
		sk_conn_read_start(r);
	else if (!r)
		eof_reached(b); /* nothing to read: as at its end */
	return 0;
}

void cat_dbridge_bytes(const struct cat_dbridge *b, uint64_t bytes[2])
{
	bytes[0] = b->bytes[0];
	bytes[1] = b->bytes[1];
}

void cat_dbridge_free(struct cat_dbridge *b)
{
	if (!b)
		return;
	if (b->d)
		sk_dgram_close(b->d);
	if (b->retry)
		sk_timer_free(b->retry);
	if (b->quit)
		sk_timer_free(b->quit);
	if (b->end)
		sk_timer_free(b->end);
	free(b);
}
