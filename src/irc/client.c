/*
 * src/irc/client.c - the ircd's I/O layer: listeners, accepted
 * connections, line framing, flood control, send queues, timers and the
 * connection limits.  Everything protocol goes to server.c through
 * irc_server_line(); this file only moves bytes and enforces budgets.
 *
 * Budgets, per connection:
 * - lines: at most lines_per_wakeup lines per read callback; the rest
 *   waits for the next loop iteration (sk_conn_read_stop/start asks the
 *   library to deliver the buffered input again), so one busy client
 *   cannot starve the others.
 * - flood: a token bucket in milliseconds of credit, refilled at
 *   flood_rate commands per second up to flood_burst; each command costs
 *   its penalty.  Out of credit, the connection's input waits (it is still
 *   read, so a client that keeps pushing past recvq is disconnected with
 *   "Excess Flood").  Operators are exempt.
 * - send queue: a write that would take the queue past sendq is refused,
 *   and the server quits the client with "Max SendQ exceeded".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc/daemon.h"
#include "sockit/tls.h"
#include "util/log.h"

#define LINGER_MS 10000       /* a closing peer that never reads: abort */
#define FLOOD_TICK_MS 50

struct ircd_ip {
	struct irc_hnode h;
	unsigned n;
	char ip[64];
};

int64_t ircd_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Warnings a peer can trigger at will (refused connections, accept
 * errors): at most one a second, with a count of the ones skipped. */
static void warn_limited(struct ircd *d, const char *fmt, ...) SK_PRINTF(2, 3);
static void warn_limited(struct ircd *d, const char *fmt, ...)
{
	uint64_t now = sk_loop_now(d->loop);
	if (d->warn_at && now - d->warn_at < 1000) {
		d->warn_dropped++;
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (d->warn_dropped)
		sk_log_warn("%s (and %u more like it)", msg, d->warn_dropped);
	else
		sk_log_warn("%s", msg);
	d->warn_at = now ? now : 1;
	d->warn_dropped = 0;
}

static void set_time(struct ircd *d)
{
	irc_server_set_time(d->srv, sk_loop_now(d->loop), ircd_wall_ms());
}

/* ---- the sink ----------------------------------------------------------------- */

static struct ircd_conn **wait_list(struct ircd *d, uint8_t wait)
{
	return wait == IC_THROTTLE ? &d->throttled : &d->yielded;
}

/* Take ic off its wait list (throttled or yielded). */
static void unwait(struct ircd_conn *ic)
{
	if (ic->wait == IC_RUN)
		return;
	struct ircd_conn **head = wait_list(ic->d, ic->wait);
	if (ic->wprev)
		ic->wprev->wnext = ic->wnext;
	else
		*head = ic->wnext;
	if (ic->wnext)
		ic->wnext->wprev = ic->wprev;
	ic->wnext = ic->wprev = NULL;
	ic->wait = IC_RUN;
}

static void set_wait(struct ircd_conn *ic, uint8_t wait)
{
	unwait(ic);
	struct ircd_conn **head = wait_list(ic->d, wait);
	ic->wait = wait;
	ic->wnext = *head;
	if (*head)
		(*head)->wprev = ic;
	*head = ic;
}

static int sink_write(void *ctx, const void *p, size_t n)
{
	struct ircd_conn *ic = ctx;
	if (!ic->conn)
		return 0;
	if (sk_conn_out_len(ic->conn) + n > ic->d->srv->cfg->sendq)
		return SK_ENOBUFS;
	int r = sk_conn_write(ic->conn, p, n);
	/* Other errors (the peer is gone) end in on_close, not here. */
	return r == SK_ENOBUFS ? r : 0;
}

static void sink_close(void *ctx, bool graceful)
{
	struct ircd_conn *ic = ctx;
	ic->cl = NULL;
	unwait(ic);
	if (!ic->conn)
		return;
	ic->closing = true;
	ic->closing_since = sk_loop_now(ic->d->loop);
	if (graceful)
		sk_conn_close(ic->conn);
	else
		sk_conn_abort(ic->conn);
}

static const struct irc_sink_ops sink_ops = {sink_write, sink_close};

/* ---- input ------------------------------------------------------------------------ */

static void refill(struct ircd_conn *ic, uint64_t now)
{
	struct irc_client *c = ic->cl;
	const struct irc_config *cfg = ic->d->srv->cfg;
	int64_t cap = (int64_t)cfg->flood_burst * 1000;
	if (now > c->tokens_at_ms) {
		c->tokens_ms += (int64_t)(now - c->tokens_at_ms) * cfg->flood_rate;
		c->tokens_at_ms = now;
	}
	if (c->tokens_ms > cap)
		c->tokens_ms = cap;
}

static bool flood_exempt(const struct ircd_conn *ic)
{
	return ic->d->srv->cfg->flood_rate == 0 ||
	       (ic->cl->umodes & IRC_UMODE_O);
}

static void throttle(struct ircd_conn *ic)
{
	struct ircd *d = ic->d;
	set_wait(ic, IC_THROTTLE);
	if (!sk_timer_active(d->flood))
		sk_timer_start(d->flood, FLOOD_TICK_MS, FLOOD_TICK_MS);
}

/* Fairness: stop reading until the next loop iteration, so the kernel
 * holds a fast sender back instead of our buffer growing. */
static void yield(struct ircd_conn *ic)
{
	struct ircd *d = ic->d;
	sk_conn_read_stop(ic->conn);
	set_wait(ic, IC_YIELD);
	if (!sk_timer_active(d->resume))
		sk_timer_start(d->resume, 0, 0);
}

/* Ask the library to hand over the buffered input again. */
static void redeliver(struct ircd_conn *ic)
{
	sk_conn_read_stop(ic->conn);
	sk_conn_read_start(ic->conn);
}

static void read_lines(struct ircd_conn *ic, struct sk_buf *in)
{
	struct ircd *d = ic->d;
	struct irc_server *s = d->srv;
	const struct irc_config *cfg = s->cfg;
	if (ic->wait == IC_THROTTLE) {
		/* Still reading while out of credit: past recvq, it is a
		 * flood, not a burst. */
		if (in->len > cfg->recvq + IRC_CLIENT_FRAME_MAX) {
			irc_client_kill(s, ic->cl, "Excess Flood");
			sk_buf_consume(in, in->len);
		}
		return; /* the flood timer resumes it */
	}
	if (ic->wait == IC_YIELD)
		return; /* the resume timer comes first */
	set_time(d);
	uint64_t now = sk_loop_now(d->loop);
	for (unsigned budget = cfg->lines_per_wakeup; ; budget--) {
		if (ic->discarding) {
			const void *nl = memchr(sk_buf_data(in), '\n', in->len);
			if (!nl) {
				sk_buf_consume(in, in->len);
				return;
			}
			sk_buf_consume(in, (size_t)((const uint8_t *)nl -
						    sk_buf_data(in)) + 1);
			ic->discarding = false;
		}
		if (in->len == 0)
			return;
		if (budget == 0) {
			yield(ic);
			return;
		}
		if (!flood_exempt(ic)) {
			refill(ic, now);
			if (ic->cl->tokens_ms <= 0) {
				throttle(ic);
				return;
			}
		}
		struct sk_slice line;
		size_t used;
		int r = sk_buf_line(in, IRC_CLIENT_FRAME_MAX, &line, &used);
		if (r == 0)
			return;
		unsigned cost = 1000;
		int res;
		if (r < 0) {
			ic->discarding = true;
			irc_client_too_long(s, ic->cl);
			res = ic->cl && !(ic->cl->flags & IRC_CF_DEAD) ? IRC_CONTINUE
								      : IRC_CLOSED;
		} else {
			res = irc_server_line(s, ic->cl, (const char *)line.p,
					      line.n, &cost);
			sk_buf_consume(in, used);
		}
		if (res == IRC_CLOSED || !ic->cl)
			return;
		ic->cl->tokens_ms -= cost;
	}
}

static void on_read(sk_conn *conn, struct sk_buf *in, void *ud)
{
	struct ircd_conn *ic = ud;
	if (!ic || !ic->cl) {
		sk_buf_consume(in, in->len);
		return;
	}
	struct irc_server *s = ic->d->srv;
	read_lines(ic, in);
	/* The channel messages of this read go out together. */
	irc_server_flush(s);
	irc_server_reap(s);
	(void)conn;
}

static const char *close_reason(int err, char *buf, size_t n)
{
	if (err == 0 || err == SK_EOF)
		return "Connection closed";
	if (err == SK_ENOBUFS)
		return "Max SendQ exceeded";
	snprintf(buf, n, "%s", sk_strerror(err));
	return buf;
}

static void ip_release(struct ircd *d, struct ircd_conn *ic)
{
	if (!ic->ip)
		return;
	if (--ic->ip->n == 0) {
		irc_htab_del(&d->ips, &ic->ip->h);
		free(ic->ip);
	}
	ic->ip = NULL;
}

static void on_close(sk_conn *conn, int err, void *ud)
{
	struct ircd_conn *ic = ud;
	if (!ic)
		return;
	struct ircd *d = ic->d;
	ic->conn = NULL;
	if (ic->cl) {
		char buf[128];
		set_time(d);
		struct irc_client *c = ic->cl;
		ic->cl = NULL;
		unwait(ic);
		irc_client_gone(d->srv, c, close_reason(err, buf, sizeof buf));
	}
	unwait(ic);
	ip_release(d, ic);
	if (ic->prev)
		ic->prev->next = ic->next;
	else
		d->conns = ic->next;
	if (ic->next)
		ic->next->prev = ic->prev;
	d->nconns--;
	free(ic);
	if (d->stopping && d->nconns == 0)
		sk_loop_stop(d->loop);
}

static void on_eof(sk_conn *conn, void *ud)
{
	struct ircd_conn *ic = ud;
	if (ic && ic->cl) {
		set_time(ic->d);
		irc_client_kill(ic->d->srv, ic->cl, "Client closed connection");
	} else {
		sk_conn_close(conn);
	}
}

static const struct sk_conn_cbs conn_cbs = {
	.on_read = on_read,
	.on_eof = on_eof,
	.on_close = on_close,
};

/* A connection refused before it became a client. */
static void refuse(sk_conn *conn, const char *ip, const char *why)
{
	char line[256];
	int n = snprintf(line, sizeof line, "ERROR :Closing Link: %s (%s)\r\n",
			 *ip ? ip : "localhost", why);
	sk_conn_set_cbs(conn, &conn_cbs, NULL);
	if (n > 0)
		(void)sk_conn_write(conn, line, (size_t)n);
	sk_conn_close(conn);
}

static struct ircd_ip *ip_take(struct ircd *d, const char *ip)
{
	struct irc_hnode *h = irc_htab_find(&d->ips, ip, strlen(ip));
	struct ircd_ip *e = h ? IRC_CONTAINER(h, struct ircd_ip, h) : NULL;
	if (!e) {
		if (!(e = calloc(1, sizeof *e)))
			return NULL;
		snprintf(e->ip, sizeof e->ip, "%s", ip);
		e->h.key = e->ip;
		irc_htab_add(&d->ips, &e->h);
	}
	e->n++;
	return e;
}

static void on_accept(sk_listener *l, sk_conn *conn, void *ud)
{
	struct ircd *d = ud;
	const struct irc_config *cfg = d->srv->cfg;
	struct sk_addr a;
	char ip[64] = "";
	if (sk_conn_peer(conn, &a) == 0 && sk_addr_family(&a) != AF_UNIX)
		(void)sk_addr_format_ip(&a, ip, sizeof ip);
	if (d->stopping) {
		refuse(conn, ip, "Server shutting down");
		return;
	}
	if (d->nconns >= cfg->max_clients) {
		warn_limited(d, "refusing %s: server full (%u clients)",
			     *ip ? ip : "unix", d->nconns);
		refuse(conn, ip, "Server is full");
		return;
	}
	struct ircd_ip *e = NULL;
	if (*ip) {
		struct irc_hnode *h = irc_htab_find(&d->ips, ip, strlen(ip));
		e = h ? IRC_CONTAINER(h, struct ircd_ip, h) : NULL;
		if (cfg->max_per_ip && e && e->n >= cfg->max_per_ip) {
			refuse(conn, ip, "Too many connections from your IP");
			return;
		}
		if (!(e = ip_take(d, ip))) {
			refuse(conn, ip, "Out of memory");
			return;
		}
	}
	struct ircd_conn *ic = calloc(1, sizeof *ic);
	struct irc_client *cl = NULL;
	set_time(d);
	if (!ic || irc_client_new(d->srv, &sink_ops, ic, ip,
				  sk_conn_is_tls(conn), &cl) < 0) {
		free(ic);
		if (e && --e->n == 0) {
			irc_htab_del(&d->ips, &e->h);
			free(e);
		}
		refuse(conn, ip, "Out of memory");
		return;
	}
	ic->d = d;
	ic->conn = conn;
	ic->cl = cl;
	ic->ip = e;
	ic->next = d->conns;
	if (d->conns)
		d->conns->prev = ic;
	d->conns = ic;
	d->nconns++;
	sk_conn_set_cbs(conn, &conn_cbs, ic);
	(void)l;
}

static void on_listen_error(sk_listener *l, int err, void *ud)
{
	(void)l;
	warn_limited(ud, "accept: %s", sk_strerror(err));
}

/* ---- listeners --------------------------------------------------------------------- */

static int listen_one(struct ircd *d, const char *addr, bool tls)
{
	const struct irc_config *cfg = d->srv->cfg;
	struct sk_listen_opts lo;
	memset(&lo, 0, sizeof lo);
	lo.backlog = 1024;
	lo.unix_mode = cfg->unix_mode;
	lo.tls = tls ? d->tls : NULL;
	lo.conn.coalesce = 1;
	lo.conn.max_out = cfg->sendq + 8192;
	lo.conn.high_water = cfg->sendq + 4096;
	lo.conn.max_in = cfg->recvq + IRC_CLIENT_FRAME_MAX + 256 * 1024;
	sk_listener **v = realloc(d->listeners,
				  (d->nlisteners + 1) * sizeof *v);
	if (!v)
		return SK_ENOMEM;
	d->listeners = v;
	sk_listener *l;
	int r = sk_listen(d->loop, addr, &lo, on_accept, d, &l);
	if (r < 0) {
		sk_log_error("cannot listen on %s: %s", addr, sk_strerror(r));
		return r;
	}
	sk_listener_on_error(l, on_listen_error);
	v[d->nlisteners++] = l;
	struct sk_addr a;
	char text[SK_ADDR_STRLEN] = "?";
	if (sk_listener_addr(l, &a) == 0)
		(void)sk_addr_format(&a, text, sizeof text);
	sk_log_info("listening on %s%s", text, tls ? " (TLS)" : "");
	return 0;
}

int ircd_listen_all(struct ircd *d)
{
	const struct irc_config *cfg = d->srv->cfg;
	int r;
	if (cfg->ntls_listen) {
		struct sk_tls_opts to = {.cert_file = cfg->tls_cert,
					 .key_file = cfg->tls_key};
		r = sk_tls_ctx_new(&d->tls, SK_TLS_SERVER, &to);
		if (r < 0) {
			sk_log_error("TLS certificate %s / key %s: %s",
				     cfg->tls_cert, cfg->tls_key,
				     sk_tls_last_error());
			return r;
		}
	}
	for (size_t i = 0; i < cfg->nlisten; i++)
		if ((r = listen_one(d, cfg->listen[i], false)) < 0)
			return r;
	for (size_t i = 0; i < cfg->ntls_listen; i++)
		if ((r = listen_one(d, cfg->tls_listen[i], true)) < 0)
			return r;
	return 0;
}

void ircd_close_listeners(struct ircd *d)
{
	for (size_t i = 0; i < d->nlisteners; i++)
		sk_listener_close(d->listeners[i]);
	free(d->listeners);
	d->listeners = NULL;
	d->nlisteners = 0;
}

/* ---- timers --------------------------------------------------------------------------- */

static void on_tick(sk_timer *t, void *ud)
{
	struct ircd *d = ud;
	(void)t;
	set_time(d);
	irc_server_tick(d->srv);
	uint64_t now = sk_loop_now(d->loop);
	for (struct ircd_conn *ic = d->conns; ic; ic = ic->next) {
		if (!ic->conn)
			continue;
		if (ic->closing && now >= ic->closing_since &&
		    now - ic->closing_since > LINGER_MS)
			sk_conn_abort(ic->conn);
		else
			sk_conn_trim(ic->conn); /* idle clients hold no buffer */
	}
}

static void on_flood_tick(sk_timer *t, void *ud)
{
	struct ircd *d = ud;
	uint64_t now = sk_loop_now(d->loop);
	struct ircd_conn *ic = d->throttled, *next;
	for (; ic; ic = next) {
		next = ic->wnext;
		if (!ic->cl) {
			unwait(ic);
			continue;
		}
		refill(ic, now);
		if (ic->cl->tokens_ms > 0 || flood_exempt(ic)) {
			unwait(ic);
			redeliver(ic);
		}
	}
	if (!d->throttled)
		sk_timer_stop(t);
}

static void on_resume(sk_timer *t, void *ud)
{
	struct ircd *d = ud;
	(void)t;
	while (d->yielded) {
		struct ircd_conn *ic = d->yielded;
		unwait(ic);
		if (ic->conn)
			sk_conn_read_start(ic->conn);
	}
}

int ircd_timers_start(struct ircd *d)
{
	int r = sk_timer_new(d->loop, on_tick, d, &d->tick);
	if (r < 0)
		return r;
	r = sk_timer_new(d->loop, on_flood_tick, d, &d->flood);
	if (r < 0)
		return r;
	r = sk_timer_new(d->loop, on_resume, d, &d->resume);
	if (r < 0)
		return r;
	sk_timer_start(d->tick, 1000, 1000);
	return 0;
}

static void on_stop_deadline(sk_timer *t, void *ud)
{
	struct ircd *d = ud;
	(void)t;
	for (struct ircd_conn *ic = d->conns; ic; ic = ic->next)
		if (ic->conn)
			sk_conn_abort(ic->conn);
	sk_loop_stop(d->loop);
}

void ircd_shutdown(struct ircd *d, const char *reason)
{
	if (d->stopping)
		return;
	d->stopping = true;
	sk_log_info("shutting down: %s (%u connections)", reason, d->nconns);
	ircd_close_listeners(d);
	set_time(d);
	irc_server_shutdown(d->srv, reason);
	if (d->tick)
		sk_timer_stop(d->tick);
	if (d->flood)
		sk_timer_stop(d->flood);
	if (d->nconns == 0) {
		sk_loop_stop(d->loop);
		return;
	}
	if (sk_timer_new(d->loop, on_stop_deadline, d, &d->stop_timer) == 0)
		sk_timer_start(d->stop_timer, 3000, 0);
	else
		sk_loop_stop(d->loop);
}

void ircd_free_io(struct ircd *d)
{
	ircd_close_listeners(d);
	if (d->tick)
		sk_timer_free(d->tick);
	if (d->flood)
		sk_timer_free(d->flood);
	if (d->stop_timer)
		sk_timer_free(d->stop_timer);
	if (d->resume)
		sk_timer_free(d->resume);
	d->tick = d->flood = d->stop_timer = d->resume = NULL;
	/* Connections still open are freed with the loop, without callbacks:
	 * release what they hold here. */
	while (d->conns) {
		struct ircd_conn *ic = d->conns;
		d->conns = ic->next;
		ip_release(d, ic);
		free(ic);
	}
	d->nconns = 0;
	irc_htab_free(&d->ips);
	if (d->tls) {
		sk_tls_ctx_free(d->tls);
		d->tls = NULL;
	}
}
