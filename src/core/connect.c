/*
 * connect.c - client connections: resolve the name (c-ares), then try each
 * address in order, each attempt with its own timeout, until one connects
 * (sequential happy-eyeballs fallback).  Also the "ready" step shared with
 * accepted TLS connections, whose handshake deadline lives here too.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEF_CONNECT_TIMEOUT 10000
#define DEF_RESOLVE_TIMEOUT 5000


struct sk__connect {
	struct sk_conn_opts opts;
	char *bind;
	char *sni;
	char host[SK_HOST_MAX + 1];
	uint16_t port;
	struct sk_addr *addrs;
	size_t n, idx;
	sk_timer *timer;
	sk_resolve_req *req;
	int last_err;
};

static void try_next(sk_conn *c);

void sk__connect_stop(sk_conn *c)
{
	struct sk__connect *cx = c->cx;
	if (!cx)
		return;
	if (cx->timer) {
		sk_timer_free(cx->timer);
		cx->timer = NULL;
	}
	if (cx->req) {
		sk_resolve_cancel(cx->req);
		cx->req = NULL;
	}
}

void sk__connect_free(sk_conn *c)
{
	struct sk__connect *cx = c->cx;
	if (!cx)
		return;
	sk__connect_stop(c);
	free(cx->addrs);
	free(cx->bind);
	free(cx->sni);
	free(cx);
	c->cx = NULL;
}

int sk__connect_peer_str(sk_conn *c, char *buf, size_t size)
{
	struct sk__connect *cx = c->cx;
	if (!cx)
		return 0;
	if (cx->n > 0) {
		size_t i = cx->idx < cx->n ? cx->idx : cx->n - 1;
		return sk_addr_format(&cx->addrs[i], buf, size);
	}
	int n = strchr(cx->host, ':') ? snprintf(buf, size, "[%s]:%u", cx->host, cx->port)
				      : snprintf(buf, size, "%s:%u", cx->host, cx->port);
	return n > 0 && (size_t)n < size ? n : 0;
}

/* Connected and, under TLS, handshaken. */
void sk__conn_ready(sk_conn *c)
{
	c->flags &= ~SK__C_TLS_HS;
	sk__connect_stop(c);
	if (c->flags & SK__C_CLOSING) { /* closed by the program meanwhile */
		sk__conn_closed_ready(c);
		return;
	}
	if (c->listener) {
		sk_listener *l = c->listener;
		sk__connect_free(c);
		c->flags |= SK__C_HANDED;
		l->on_accept(l, c, l->ud);
		if (!(c->flags & SK__C_DEAD) && !c->cbs)
			sk_conn_close(c);
		return;
	}
	if (c->cbs && c->cbs->on_open)
		c->cbs->on_open(c, c->ud);
}

static void abandon_attempt(sk_conn *c, int err)
{
	c->cx->last_err = err;
	if (c->io.fd >= 0) {
		sk__io_stop(&c->io);
		close(c->io.fd);
		c->io.fd = -1;
	}
	c->cx->idx++;
}

static void timer_cb(sk_timer *t, void *ud)
{
	sk_conn *c = ud;
	if (c->flags & SK__C_CONNECTING) {
		abandon_attempt(c, SK_ETIMEDOUT);
		try_next(c);
	} else if (c->flags & SK__C_TLS_HS) {
		sk__conn_set_detail(c, "TLS handshake timed out");
		sk__conn_fail(c, SK_ETIMEDOUT);
	}
}

static int arm_timer(sk_conn *c, unsigned ms)
{
	struct sk__connect *cx = c->cx;
	if (!cx->timer) {
		int r = sk_timer_new(c->loop, timer_cb, c, &cx->timer);
		if (r < 0)
			return r;
	}
	sk_timer_start(cx->timer, ms, 0);
	return 0;
}

/* One attempt at cx->addrs[cx->idx]; 0 when it is in progress. */
static int attempt(sk_conn *c, const struct sk_addr *a)
{
	struct sk__connect *cx = c->cx;
	int family = a->u.sa.sa_family;
	int fd = sk__socket(family, SOCK_STREAM);
	if (fd < 0)
		return fd;
	if (cx->bind) {
		struct sk_addr b;
		int r = sk_addr_parse(cx->bind, &b);
		if (r == 0 && b.u.sa.sa_family != family)
			r = SK_EAFNOSUPPORT;
		if (r == 0 && bind(fd, &b.u.sa, b.len) < 0)
			r = sk__errno();
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	sk__conn_set_fd(c, fd, family != AF_UNIX ? &cx->opts : NULL);
	if (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) {
		int r = sk__errno();
		c->io.fd = -1;
		close(fd);
		return r;
	}
	/* Even an immediate success is reported from the loop. */
	c->flags |= SK__C_CONNECTING;
	sk__conn_io_refresh(c);
	unsigned ms = cx->opts.connect_timeout_ms ? cx->opts.connect_timeout_ms
						   : DEF_CONNECT_TIMEOUT;
	return arm_timer(c, ms);
}

static void try_next(sk_conn *c)
{
	struct sk__connect *cx = c->cx;
	while (cx->idx < cx->n) {
		int r = attempt(c, &cx->addrs[cx->idx]);
		if (r == 0)
			return;
		if (r == SK_ENOMEM || r == SK_EMFILE || r == -ENFILE) {
			sk__conn_fail(c, r);
			return;
		}
		abandon_attempt(c, r);
	}
	c->flags &= ~SK__C_CONNECTING;
	sk__conn_fail(c, cx->last_err ? cx->last_err : SK_ECONNREFUSED);
}

void sk__connect_on_io(sk_conn *c, unsigned revents)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		struct sk_addr peer;
		if (sk_conn_peer(c, &peer) < 0)
			return; /* still in progress (a stale wake-up) */
		if (c->cx->timer)
			sk_timer_stop(c->cx->timer);
		if (c->tls) {
			/* The handshake gets the rest of the time budget. */
			sk__conn_start_io(c, true);
			if (!(c->flags & SK__C_DEAD))
				(void)arm_timer(c, c->cx->opts.connect_timeout_ms
							   ? c->cx->opts.connect_timeout_ms
							   : DEF_CONNECT_TIMEOUT);
			if (!(c->flags & SK__C_DEAD)) {
				int r = sk__tls_start(c);
				if (r < 0)
					sk__conn_fail(c, r);
			}
			return;
		}
		sk__conn_start_io(c, true);
		if (!(c->flags & SK__C_DEAD))
			sk__conn_ready(c);
		return;
	}
	abandon_attempt(c, -err);
	try_next(c);
}

static void resolved(int status, const struct sk_addr *addrs, size_t n, void *ud)
{
	sk_conn *c = ud;
	struct sk__connect *cx = c->cx;
	cx->req = NULL;
	if (status < 0) {
		sk__conn_fail(c, status);
		return;
	}
	cx->addrs = malloc(n * sizeof *addrs);
	if (!cx->addrs) {
		sk__conn_fail(c, SK_ENOMEM);
		return;
	}
	memcpy(cx->addrs, addrs, n * sizeof *addrs);
	cx->n = n;
	try_next(c);
}

static int start(sk_loop *loop, const struct sk_hostport *hp,
		 const struct sk_addr *addrs, size_t n,
		 const struct sk_conn_opts *opts, const struct sk_conn_cbs *cbs,
		 void *ud, sk_conn **out)
{
	static const struct sk_conn_opts defaults;
	if (!opts)
		opts = &defaults;
	sk_conn *c;
	int r = sk__conn_new(loop, -1, false, opts, &c);
	if (r < 0)
		return r;
	struct sk__connect *cx = calloc(1, sizeof *cx);
	c->cx = cx;
	if (!cx)
		goto nomem;
	cx->opts = *opts;
	if ((opts->bind && !(cx->bind = strdup(opts->bind))) ||
	    (opts->sni && !(cx->sni = strdup(opts->sni))))
		goto nomem;
	cx->opts.bind = cx->bind;
	cx->opts.sni = cx->sni;
	if (hp) {
		memcpy(cx->host, hp->host, sizeof cx->host);
		cx->port = hp->port;
	}
	c->cbs = cbs;
	c->ud = ud;
	c->flags |= SK__C_CONNECTING;
	if (opts->tls) {
		const char *sni = opts->sni;
		if (!sni && hp && hp->kind != SK_ADDR_UNIX)
			sni = hp->host;
		r = sk__tls_attach(c, opts->tls, false, sni);
		if (r < 0)
			goto fail;
	}
	if (addrs) {
		cx->addrs = malloc(n * sizeof *addrs);
		if (!cx->addrs)
			goto nomem;
		memcpy(cx->addrs, addrs, n * sizeof *addrs);
		cx->n = n;
	} else {
		unsigned ms = opts->resolve_timeout_ms ? opts->resolve_timeout_ms
						       : DEF_RESOLVE_TIMEOUT;
		r = sk_resolve(loop, hp->host, hp->port, opts->family, ms,
			       resolved, c, &cx->req);
		if (r < 0)
			goto fail;
	}
	/* From here on the program hears the outcome through callbacks. */
	c->flags |= SK__C_HANDED;
	if (addrs)
		try_next(c);
	*out = c;
	return 0;
nomem:
	r = SK_ENOMEM;
fail:
	c->flags &= ~SK__C_HANDED;
	sk__conn_fail(c, r);
	return r;
}

int sk_connect(sk_loop *loop, const char *addr, const struct sk_conn_opts *opts,
	       const struct sk_conn_cbs *cbs, void *ud, sk_conn **out)
{
	struct sk_hostport hp;
	if (!addr)
		return SK_EINVAL;
	int r = sk_hostport_parse(addr, strlen(addr), &hp);
	if (r < 0)
		return r;
	if (hp.kind == SK_ADDR_NAME)
		return start(loop, &hp, NULL, 0, opts, cbs, ud, out);
	struct sk_addr a;
	r = sk_addr_parse(addr, &a);
	if (r < 0)
		return r;
	return start(loop, &hp, &a, 1, opts, cbs, ud, out);
}

int sk_connect_addrs(sk_loop *loop, const struct sk_addr *addrs, size_t n,
		     const struct sk_conn_opts *opts, const struct sk_conn_cbs *cbs,
		     void *ud, sk_conn **out)
{
	if (!addrs || n == 0)
		return SK_EINVAL;
	return start(loop, NULL, addrs, n, opts, cbs, ud, out);
}

/* Accepted TLS connections must finish their handshake in time. */
int sk__conn_hs_deadline(sk_conn *c, unsigned ms)
{
	if (!c->cx) {
		c->cx = calloc(1, sizeof *c->cx);
		if (!c->cx)
			return SK_ENOMEM;
	}
	return arm_timer(c, ms);
}
