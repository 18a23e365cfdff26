/*
 * src/core/resolve.c - asynchronous name resolution with c-ares.
 *
 * One c-ares channel per loop, made on the first name lookup and kept in
 * loop->resolver (loop->resolver_free releases it with the loop).  c-ares
 * tells us about its sockets through ARES_OPT_SOCK_STATE_CB; each gets an
 * embedded fd watcher, and one timer follows ares_timeout() to drive c-ares'
 * own retransmissions.  Neither keeps the loop alive: a request does that
 * (sk__loop_ref) until its callback has run or it was cancelled.
 *
 * Results never reach the program from inside c-ares or from inside
 * sk_resolve(): c-ares may answer synchronously (from /etc/hosts, or on an
 * error), so the c-ares callback only stores the outcome and queues the
 * request on the loop's pending list, which delivers it.  Numeric hosts
 * skip c-ares and take the same pending path.
 *
 * A request's own timeout and sk_resolve_cancel() cannot stop one c-ares
 * query (ares_cancel stops every query on the channel), so they mark the
 * request done and leave its memory to the c-ares callback that will still
 * come (at the latest from ares_destroy, as ARES_EDESTRUCTION).
 *
 * Knob, read when the channel is made: SOCKIT_RESOLV_SERVERS, a list in
 * ares_set_servers_ports_csv() form ("127.0.0.1:53,[::1]:53"), replaces the
 * servers of /etc/resolv.conf.  The tests use it to keep queries on
 * loopback.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <ares.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000u

struct asock {
	sk_io io; /* embedded, SK__IO_NOREF */
	struct resolver *r;
	struct asock *next;
};

struct resolver {
	sk_loop *loop;
	ares_channel ch;      /* NULL until the first name lookup */
	sk_timer *timer;      /* c-ares' timeouts; does not keep the loop alive */
	struct asock *socks;  /* sockets c-ares has open */
	struct sk__list reqs; /* every request not yet freed */
	bool destroying;
};

struct sk_resolve_req {
	struct resolver *r;
	sk_resolve_cb cb;
	void *ud;
	sk_timer *timer;         /* the request's own timeout */
	struct sk__pending pend; /* delivers the outcome */
	struct sk__list link;    /* r->reqs */
	uint16_t port;
	int family;
	int status;
	struct sk_addr *addrs;
	size_t n;
	bool ares_busy; /* c-ares still owes us its callback */
	bool done;      /* delivered, timed out or cancelled */
};

/* ---- c-ares sockets and timer ---------------------------------------------- */

static void rearm(struct resolver *r)
{
	struct timeval tv;

	if (!r->ch || r->destroying)
		return;
	if (!ares_timeout(r->ch, NULL, &tv)) {
		sk_timer_stop(r->timer);
		return;
	}
	uint64_t ms = (uint64_t)tv.tv_sec * 1000u +
		      ((uint64_t)tv.tv_usec + 999u) / 1000u;
	sk_timer_start(r->timer, ms, 0);
}

static void on_sock(sk_io *io, unsigned revents, void *ud)
{
	struct asock *s = ud;
	struct resolver *r = s->r;
	ares_socket_t fd = io->fd;
	/* An error or hang-up is for c-ares to discover by reading. */
	ares_socket_t rfd = revents & (SK_READ | SK_ERROR) ? fd : ARES_SOCKET_BAD;
	ares_socket_t wfd = revents & SK_WRITE ? fd : ARES_SOCKET_BAD;

	ares_process_fd(r->ch, rfd, wfd); /* may close s: its memory is deferred */
	rearm(r);
}

static void on_ares_timer(sk_timer *t, void *ud)
{
	struct resolver *r = ud;
	(void)t;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

static void sock_gone(struct resolver *r, struct asock *s)
{
	/* Also right for sk_loop_free, which calls resolver_free while the
	 * backend is still up and buries deferred frees afterwards. */
	sk__io_stop(&s->io);
	/* an event batch of this iteration may still name the watcher */
	sk__defer_free(r->loop, s);
}

/* c-ares opened, changed or is about to close one of its sockets. */
static void sock_state(void *data, ares_socket_t fd, int readable,
		       int writable)
{
	struct resolver *r = data;
	struct asock **pp = &r->socks, *s;

	while ((s = *pp) && s->io.fd != fd)
		pp = &s->next;
	if (!readable && !writable) {
		if (s) {
			*pp = s->next;
			sock_gone(r, s);
		}
		return;
	}
	if (r->destroying)
		return;
	if (!s) {
		/* On failure c-ares never hears back and the request
		 * times out: there is no way to refuse a socket. */
		if (!(s = calloc(1, sizeof *s)))
			return;
		s->r = r;
		sk__io_init(r->loop, &s->io, fd, on_sock, s,
			    SK__IO_EMBEDDED | SK__IO_NOREF);
		s->next = r->socks;
		r->socks = s;
	}
	(void)sk__io_update(&s->io, (readable ? SK_READ : 0u) |
					    (writable ? SK_WRITE : 0u));
}

/* ---- the resolver ----------------------------------------------------------- */

static void req_free(struct sk_resolve_req *q)
{
	sk__list_del(&q->link);
	free(q->addrs);
	free(q);
}

static void resolver_free(sk_loop *loop)
{
	struct resolver *r = loop->resolver;

	if (!r)
		return;
	r->destroying = true;
	/* Runs every outstanding c-ares callback (ARES_EDESTRUCTION) and
	 * closes c-ares' sockets through sock_state(). */
	if (r->ch)
		ares_destroy(r->ch);
	while (r->socks) {
		struct asock *s = r->socks;
		r->socks = s->next;
		sock_gone(r, s);
	}
	while (!sk__list_empty(&r->reqs)) {
		struct sk_resolve_req *q =
			SK__CONTAINER(r->reqs.next, struct sk_resolve_req, link);
		sk__pending_del(&q->pend);
		if (q->timer)
			sk_timer_free(q->timer);
		req_free(q);
	}
	if (r->timer)
		sk_timer_free(r->timer);
	free(r);
	loop->resolver = NULL;
}

static struct resolver *resolver_get(sk_loop *loop)
{
	struct resolver *r = loop->resolver;

	if (r)
		return r;
	if (!(r = calloc(1, sizeof *r)))
		return NULL;
	r->loop = loop;
	sk__list_init(&r->reqs);
	loop->resolver = r;
	loop->resolver_free = resolver_free;
	return r;
}

static int channel_open(struct resolver *r)
{
	struct ares_options o;
	int st;

	if (r->ch)
		return 0;
	if (!r->timer) {
		int e = sk_timer_new(r->loop, on_ares_timer, r, &r->timer);
		if (e < 0)
			return e;
		sk_timer_set_ref(r->timer, false);
	}
	memset(&o, 0, sizeof o);
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	st = ares_init_options(&r->ch, &o, ARES_OPT_SOCK_STATE_CB);
	if (st != ARES_SUCCESS) {
		r->ch = NULL;
		return st == ARES_ENOMEM ? SK_ENOMEM : SK_EDNS;
	}
	const char *servers = getenv("SOCKIT_RESOLV_SERVERS");
	if (servers && *servers &&
	    ares_set_servers_ports_csv(r->ch, servers) != ARES_SUCCESS) {
		ares_destroy(r->ch);
		r->ch = NULL;
		return SK_EINVAL;
	}
	return 0;
}

/* ---- requests ----------------------------------------------------------------- */

static int map_status(int st)
{
	switch (st) {
	case ARES_ENODATA:
		return SK_ENODATA;
	case ARES_ETIMEOUT:
		return SK_ETIMEDOUT;
	case ARES_ENOMEM:
		return SK_ENOMEM;
	default: /* ARES_ENOTFOUND, ARES_ECONNREFUSED, ARES_ESERVFAIL, ... */
		return SK_EDNS;
	}
}

static bool same_ip(const struct sk_addr *a, const struct sk_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
	return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
		      sizeof a->u.in6.sin6_addr) == 0 &&
	       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
}

/* c-ares' answer into q->addrs (its order, duplicates dropped). */
static int take_result(struct sk_resolve_req *q, const struct ares_addrinfo *ai)
{
	size_t cap = 0;
	const struct ares_addrinfo_node *nd;

	for (nd = ai ? ai->nodes : NULL; nd; nd = nd->ai_next)
		cap++;
	if (cap == 0)
		return SK_ENODATA;
	if (!(q->addrs = calloc(cap, sizeof *q->addrs)))
		return SK_ENOMEM;
	for (nd = ai->nodes; nd; nd = nd->ai_next) {
		struct sk_addr a;
		size_t want = nd->ai_family == AF_INET ? sizeof a.u.in4
			      : nd->ai_family == AF_INET6 ? sizeof a.u.in6 : 0;
		if (want == 0 || (q->family && nd->ai_family != q->family) ||
		    !nd->ai_addr || nd->ai_addrlen < want)
			continue;
		memset(&a, 0, sizeof a);
		memcpy(&a.u, nd->ai_addr, want);
		a.len = (socklen_t)want;
		if (nd->ai_family == AF_INET)
			a.u.in4.sin_port = htons(q->port);
		else
			a.u.in6.sin6_port = htons(q->port);
		size_t i;
		for (i = 0; i < q->n && !same_ip(&q->addrs[i], &a); i++)
			;
		if (i == q->n)
			q->addrs[q->n++] = a;
	}
	return q->n ? 0 : SK_ENODATA;
}

static void on_ares(void *arg, int status, int timeouts,
		    struct ares_addrinfo *res)
{
	struct sk_resolve_req *q = arg;
	(void)timeouts;

	q->ares_busy = false;
	if (q->r->destroying) {
		/* resolver_free releases the request */
		ares_freeaddrinfo(res);
		return;
	}
	if (q->done) {
		/* timed out or cancelled: we only kept the memory for this */
		ares_freeaddrinfo(res);
		req_free(q);
		return;
	}
	q->status = status == ARES_SUCCESS ? take_result(q, res)
					   : map_status(status);
	ares_freeaddrinfo(res);
	if (q->timer) {
		sk_timer_free(q->timer);
		q->timer = NULL;
	}
	/* maybe still inside sk_resolve() or ares_process_fd(): defer */
	sk__pending_add(q->r->loop, &q->pend);
}

static void deliver(struct sk__pending *p)
{
	struct sk_resolve_req *q = SK__CONTAINER(p, struct sk_resolve_req, pend);

	if (q->done)
		return;
	q->done = true;
	sk__loop_unref(q->r->loop);
	q->cb(q->status, q->status == 0 ? q->addrs : NULL,
	      q->status == 0 ? q->n : 0, q->ud);
	req_free(q);
}

static void on_req_timeout(sk_timer *t, void *ud)
{
	struct sk_resolve_req *q = ud;

	if (q->done)
		return;
	q->done = true;
	sk_timer_free(t);
	q->timer = NULL;
	sk__loop_unref(q->r->loop);
	q->cb(SK_ETIMEDOUT, NULL, 0, q->ud);
	/* c-ares still holds q as its argument (ares_busy): on_ares frees it */
	if (!q->ares_busy)
		req_free(q);
}

/* "1.2.3.4", "::1", "[::1]", "fe80::1%eth0": no lookup needed.
 * Returns 1 if host is numeric (a filled), 0 if it is a name. */
static int numeric_host(const char *host, uint16_t port, struct sk_addr *a)
{
	char tmp[SK_HOST_MAX + 1];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		host = tmp;
	}
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, host, &a->u.in4.sin_addr) == 1) {
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_port = htons(port);
		a->len = sizeof a->u.in4;
		return 1;
	}
	if (inet_pton(AF_INET6, host, &a->u.in6.sin6_addr) == 1) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		a->len = sizeof a->u.in6;
		return 1;
	}
	if (strchr(host, ':') && sk_addr_from_ip(host, port, a) == 0)
		return 1; /* with a zone */
	return 0;
}

int sk_resolve(sk_loop *loop, const char *host, uint16_t port, int family,
	       unsigned timeout_ms, sk_resolve_cb cb, void *ud,
	       sk_resolve_req **out)
{
	struct sk_addr a;
	struct resolver *r;
	struct sk_resolve_req *q;
	int e;

	if (out)
		*out = NULL;
	if (!loop || !host || !cb)
		return SK_EINVAL;
	if (family != 0 && family != AF_INET && family != AF_INET6)
		return SK_EAFNOSUPPORT;
	if (host[0] == '\0' || strlen(host) > SK_HOST_MAX)
		return SK_EINVAL;
	if (!(r = resolver_get(loop)))
		return SK_ENOMEM;
	if (!(q = calloc(1, sizeof *q)))
		return SK_ENOMEM;
	q->r = r;
	q->cb = cb;
	q->ud = ud;
	q->port = port;
	q->family = family;
	sk__pending_init(&q->pend, deliver);
	sk__list_init(&q->link);

	if (numeric_host(host, port, &a)) {
		if (family && a.u.sa.sa_family != family) {
			q->status = SK_ENODATA;
		} else if ((q->addrs = malloc(sizeof a))) {
			q->addrs[0] = a;
			q->n = 1;
		} else {
			free(q);
			return SK_ENOMEM;
		}
		sk__list_add_tail(&r->reqs, &q->link);
		sk__loop_ref(loop);
		sk__pending_add(loop, &q->pend);
		if (out)
			*out = q;
		return 0;
	}

	if ((e = channel_open(r)) < 0 ||
	    (e = sk_timer_new(loop, on_req_timeout, q, &q->timer)) < 0) {
		free(q);
		return e;
	}
	sk_timer_set_ref(q->timer, false); /* the request's ref is enough */
	sk_timer_start(q->timer, timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS,
		       0);
	sk__list_add_tail(&r->reqs, &q->link);
	sk__loop_ref(loop);
	if (out)
		*out = q;

	struct ares_addrinfo_hints hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family ? family : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No service: c-ares would look "0" up in /etc/services and fail;
	 * the port is set on each result instead. */
	q->ares_busy = true;
	ares_getaddrinfo(r->ch, host, NULL, &hints, on_ares, q);
	rearm(r);
	return 0;
}

void sk_resolve_cancel(sk_resolve_req *q)
{
	if (!q || q->done)
		return;
	q->done = true;
	sk__loop_unref(q->r->loop);
	sk__pending_del(&q->pend);
	if (q->timer) {
		sk_timer_free(q->timer);
		q->timer = NULL;
	}
	if (!q->ares_busy)
		req_free(q);
}
