/*
 * src/cat/pump.c - joins two byte streams both ways.
 *
 * Each side is a reader and a writer: one connection for a socket, two
 * for standard input and output.  Bytes read on one side are handed to the
 * other side's writer with sk_conn_write_buf (no copy when the writer can
 * take them at once or adopt the buffer).  Backpressure: when the writer is
 * congested the reader stops, and resumes in the writer's on_drain.
 *
 * Half-close: end of input on one side shuts down the other side's writer
 * (FIN on a socket, close on a pipe) and the other direction carries on.
 * The join ends when both directions have ended, when a quit timer (-q)
 * fires, when an end of input marked in eof_ends_mask arrives, or on the
 * first error.  Ending closes every connection gracefully (queued output is
 * still sent); `done` runs once the last on_close has come.
 */
#include <stdlib.h>
#include <string.h>

#include "cat/cat_int.h"
#include "util/log.h"

struct port {
	struct cat_pump *p;
	sk_conn *c;        /* NULL: none, or closed */
	unsigned side;     /* 0 (A) or 1 (B) */
	bool rd, wr;       /* its roles */
	const char *label; /* for messages when the peer has no address */
};

struct cat_pump {
	sk_loop *loop;
	struct cat_join_cfg cfg;
	struct port port[4]; /* side s: [2s] reads (and writes if one conn),
			      * [2s+1] writes when it is a separate conn */
	bool ended[2];       /* no more bytes will come from side s */
	uint64_t bytes[2];   /* moved from side s to the other */
	uint64_t hexoff[2];
	unsigned live;       /* ports with an open connection */
	bool finishing;
	int err;
	char errmsg[CAT_ERRMSG];
	sk_timer *quit;
	cat_join_done_cb done;
	void *ud;
};

static void finish(struct cat_pump *p);

static struct port *writer(struct cat_pump *p, unsigned side)
{
	struct port *pt = &p->port[2 * side];
	return pt->wr ? pt : &p->port[2 * side + 1];
}

static sk_conn *reader(struct cat_pump *p, unsigned side)
{
	struct port *pt = &p->port[2 * side];
	return pt->rd ? pt->c : NULL;
}

static void record_error(struct cat_pump *p, sk_conn *c, int err,
			 const char *label)
{
	if (p->err || err == 0 || err == SK_EOF)
		return;
	p->err = err;
	cat_conn_errstr(c, err, label, p->errmsg, sizeof p->errmsg);
}

static void quit_cb(sk_timer *t, void *ud)
{
	struct cat_pump *p = ud;
	sk_log_debug("quitting after end of input (-q)");
	finish(p);
}

static void start_quit(struct cat_pump *p)
{
	if (p->cfg.quit_ms == 0) {
		finish(p);
		return;
	}
	if (!p->quit && sk_timer_new(p->loop, quit_cb, p, &p->quit) < 0) {
		finish(p); /* no timer: quit now rather than never */
		return;
	}
	if (!sk_timer_active(p->quit))
		sk_timer_start(p->quit, (uint64_t)p->cfg.quit_ms, 0);
}

/* No more bytes will come from side s. */
static void dir_end(struct cat_pump *p, unsigned s)
{
	if (p->ended[s])
		return;
	p->ended[s] = true;
	struct port *w = writer(p, !s);
	if (w->c)
		(void)sk_conn_shutdown(w->c); /* refused only when closing */
	if (p->finishing)
		return;
	if ((p->ended[0] && p->ended[1]) || (p->cfg.eof_ends_mask & (1u << s)))
		finish(p);
	else if (p->cfg.quit_ms >= 0 && (p->cfg.quit_mask & (1u << s)))
		start_quit(p);
}

static void finish(struct cat_pump *p)
{
	if (p->finishing)
		return;
	p->finishing = true;
	if (p->quit)
		sk_timer_stop(p->quit);
	for (int i = 0; i < 4; i++)
		if (p->port[i].c)
			sk_conn_close(p->port[i].c);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct port *pt = ud;
	struct cat_pump *p = pt->p;
	unsigned s = pt->side;
	p->bytes[s] += in->len;
	if (p->cfg.hex)
		cat_hexdump(stderr, s == 0 ? '>' : '<', &p->hexoff[s],
			    sk_buf_data(in), in->len);
	sk_conn *w = writer(p, !s)->c;
	if (!w) { /* nobody to give it to (the writer closed): discard */
		sk_buf_consume(in, in->len);
		return;
	}
	/* A failure closes w; its on_close brings the error. */
	(void)sk_conn_write_buf(w, in);
	if (sk_conn_congested(w))
		sk_conn_read_stop(c);
}

static void on_drain(sk_conn *c, void *ud)
{
	struct port *pt = ud;
	struct cat_pump *p = pt->p;
	unsigned from = !pt->side;
	sk_conn *r = reader(p, from);
	if (r && !p->ended[from] && !p->finishing)
		sk_conn_read_start(r);
}

static void on_eof(sk_conn *c, void *ud)
{
	struct port *pt = ud;
	struct cat_pump *p = pt->p;
	if (!pt->wr)
		sk_conn_close(c); /* a read-only connection has nothing left */
	dir_end(p, pt->side);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct port *pt = ud;
	struct cat_pump *p = pt->p;
	bool failed = err != 0 && err != SK_EOF;
	pt->c = NULL;
	p->live--;
	record_error(p, c, err, pt->label);
	if (failed)
		finish(p);
	if (pt->rd)
		dir_end(p, pt->side);
	if (p->live == 0) {
		if (p->quit)
			sk_timer_stop(p->quit);
		p->done(p->ud, p->err, p->errmsg); /* may free p: last */
	}
}

static const struct sk_conn_cbs pump_cbs = {
	.on_read = on_read,
	.on_eof = on_eof,
	.on_drain = on_drain,
	.on_close = on_close,
};

static void attach(struct cat_pump *p, struct port *pt, sk_conn *c, unsigned side,
		   bool rd, bool wr, const char *label)
{
	pt->p = p;
	pt->c = c;
	pt->side = side;
	pt->rd = rd;
	pt->wr = wr;
	pt->label = label;
	if (c) {
		p->live++;
		sk_conn_set_cbs(c, &pump_cbs, pt);
	}
}

static void attach_side(struct cat_pump *p, unsigned s, struct cat_stream *st)
{
	if (st->rd && st->rd == st->wr) {
		attach(p, &p->port[2 * s], st->rd, s, true, true, st->name);
		return;
	}
	attach(p, &p->port[2 * s], st->rd, s, true, false,
	       st->rd ? "standard input" : st->name);
	attach(p, &p->port[2 * s + 1], st->wr, s, false, true,
	       st->wr ? "standard output" : st->name);
}

int cat_pump_start(sk_loop *loop, const struct cat_join_cfg *cfg,
		   struct cat_stream *a, struct cat_stream *b,
		   cat_join_done_cb done, void *ud, struct cat_pump **out)
{
	struct cat_pump *p = calloc(1, sizeof *p);
	if (!p)
		return SK_ENOMEM;
	p->loop = loop;
	p->cfg = *cfg;
	p->done = done;
	p->ud = ud;
	attach_side(p, 0, a);
	attach_side(p, 1, b);
	*out = p;
	/* From here on the connections are the pump's. */
	a->rd = a->wr = b->rd = b->wr = NULL;
	for (unsigned s = 0; s < 2; s++) {
		sk_conn *r = reader(p, s);
		if (r)
			sk_conn_read_start(r);
	}
	for (unsigned s = 0; s < 2 && !p->finishing; s++)
		if (!reader(p, s))
			dir_end(p, s);
	return 0;
}

void cat_pump_bytes(const struct cat_pump *p, uint64_t bytes[2])
{
	bytes[0] = p->bytes[0];
	bytes[1] = p->bytes[1];
}

void cat_pump_free(struct cat_pump *p)
{
	if (!p)
		return;
	if (p->quit)
		sk_timer_free(p->quit);
	free(p);
}
