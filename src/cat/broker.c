/*
 * src/cat/broker.c - --broker: a chat room.  Every client's input goes to
 * all the other clients, as it arrives (no framing).  Standard input and
 * output take no part.
 *
 * Backpressure is the room's: when any member cannot keep up (its output
 * queue is congested) every member stops being read until it drains, so
 * nothing is dropped and memory stays bounded.  A client that ends its
 * input leaves the room: what was queued for it is still sent, then it is
 * closed.
 */
#include <stdlib.h>
#include <string.h>

#include "cat/cat_int.h"
#include "util/log.h"

struct member {
	struct cat_broker *b;
	struct member *next, **pprev;
	sk_conn *c;
	bool congested;
	bool leaving;
	char name[SK_ADDR_STRLEN];
};

struct cat_broker {
	struct cat_run *run;
	sk_listener *l;
	struct member *head;
	unsigned n, ncongested;
	bool paused;
};

static void set_reading(struct cat_broker *b, bool on)
{
	b->paused = !on;
	for (struct member *m = b->head; m; m = m->next) {
		if (m->leaving)
			continue;
		if (on)
			sk_conn_read_start(m->c);
		else
			sk_conn_read_stop(m->c);
	}
}

static void uncongest(struct member *m)
{
	struct cat_broker *b = m->b;
	if (!m->congested)
		return;
	m->congested = false;
	if (--b->ncongested == 0 && b->paused)
		set_reading(b, true);
}

static void on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	struct member *from = ud;
	struct cat_broker *b = from->b;
	const uint8_t *p = sk_buf_data(in);
	size_t n = in->len;
	for (struct member *m = b->head; m; m = m->next) {
		if (m == from || m->leaving)
			continue;
		(void)sk_conn_write(m->c, p, n); /* failures close m: on_close */
		if (!m->congested && sk_conn_congested(m->c)) {
			m->congested = true;
			b->ncongested++;
		}
	}
	sk_buf_consume(in, n);
	if (b->ncongested && !b->paused)
		set_reading(b, false);
}

static void on_drain(sk_conn *c, void *ud)
{
	uncongest(ud);
}

static void on_eof(sk_conn *c, void *ud)
{
	struct member *m = ud;
	m->leaving = true;
	sk_conn_close(c);
}

static void on_close(sk_conn *c, int err, void *ud)
{
	struct member *m = ud;
	struct cat_broker *b = m->b;
	uncongest(m);
	*m->pprev = m->next;
	if (m->next)
		m->next->pprev = m->pprev;
	b->n--;
	if (err && err != SK_EOF)
		sk_log_info("%s left: %s (%u in the room)", m->name, sk_strerror(err), b->n);
	else
		sk_log_info("%s left (%u in the room)", m->name, b->n);
	free(m);
}

static const struct sk_conn_cbs member_cbs = {
	.on_read = on_read,
	.on_eof = on_eof,
	.on_drain = on_drain,
	.on_close = on_close,
};

static void on_accept(sk_listener *l, sk_conn *c, void *ud)
{
	struct cat_broker *b = ud;
	if (!cat_peer_allowed(b->run, c))
		return;
	struct member *m = calloc(1, sizeof *m);
	if (!m) {
		sk_conn_abort(c);
		return;
	}
	m->b = b;
	m->c = c;
	snprintf(m->name, sizeof m->name, "%s", cat_peer_name(c));
	m->next = b->head;
	if (m->next)
		m->next->pprev = &m->next;
	m->pprev = &b->head;
	b->head = m;
	b->n++;
	sk_conn_set_cbs(c, &member_cbs, m);
	if (b->paused)
		sk_conn_read_stop(c);
	sk_log_info("%s joined (%u in the room)", m->name, b->n);
}

static void on_listen_error(sk_listener *l, int err, void *ud)
{
	if (err == SK_ELIMIT)
		sk_log_info("refused a connection: --max-conns reached");
	else
		sk_log_warn("accept: %s", sk_strerror(err));
}

int cat_broker_start(struct cat_run *run)
{
	char err[CAT_ERRMSG];
	struct cat_broker *b = calloc(1, sizeof *b);
	if (!b) {
		cat_fail(run, "out of memory");
		return -1;
	}
	b->run = run;
	run->broker = b;
	int r = cat_listen(run, &run->o->ep[1], on_accept, b, &b->l, err, sizeof err);
	if (r < 0) {
		cat_fail(run, "%s", err);
		return -1;
	}
	sk_listener_on_error(b->l, on_listen_error);
	return 0;
}

/* Teardown: members' connections go with the loop. */
void cat_broker_free(struct cat_run *run)
{
	struct cat_broker *b = run->broker;
	if (!b)
		return;
	while (b->head) {
		struct member *m = b->head;
		b->head = m->next;
		free(m);
	}
	if (b->l)
		sk_listener_close(b->l);
	free(b);
	run->broker = NULL;
}
