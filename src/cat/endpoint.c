/*
 * src/cat/endpoint.c - opening an endpoint into a held stream: standard
 * input and output, a program, a connection (resolved, tried address by
 * address, TLS), a listener waiting for one client, a datagram socket.
 * Also the TLS contexts, including the ephemeral self-signed certificate.
 *
 * An opener reports through its callback exactly once, always from the
 * loop (a zero timer for what is ready at once), unless it is cancelled.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cat/cat_int.h"
#include "util/log.h"

struct cat_opener {
	struct cat_run *run;
	const struct cat_ep *ep;
	cat_open_cb cb;
	void *ud;
	struct cat_stream *st;  /* being built */
	sk_conn *conn;          /* connecting */
	sk_listener *lst;       /* waiting for one client */
	sk_resolve_req *req;    /* resolving a datagram peer */
	sk_timer *now;          /* reports a result that was ready at once */
	int err;
	char msg[CAT_ERRMSG];
};

/* ---- held streams ------------------------------------------------------------ */

static const struct sk_conn_cbs orphan_cbs; /* all NULL: closes quietly */

static void hold_on_read(sk_conn *c, struct sk_buf *in, void *ud)
{
	/* Not reading; anything that arrives waits in `in` for the join. */
}

static void hold_on_close(sk_conn *c, int err, void *ud)
{
	struct cat_stream *st = ud;
	char msg[CAT_ERRMSG];
	const char *label = c == st->rd ? st->name : "standard output";
	if (st->rd == c)
		st->rd = NULL;
	if (st->wr == c)
		st->wr = NULL;
	cat_conn_errstr(c, err ? err : SK_EOF, label, msg, sizeof msg);
	if (st->lost)
		st->lost(st->lost_ud, st, err ? err : SK_EOF, msg);
}

static const struct sk_conn_cbs hold_cbs = {
	.on_read = hold_on_read,
	.on_close = hold_on_close,
};

void cat_stream_hold(struct cat_stream *st, sk_conn *c)
{
	sk_conn_set_cbs(c, &hold_cbs, st);
	sk_conn_read_stop(c);
}

struct cat_stream *cat_stream_accepted(sk_conn *c)
{
	struct cat_stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	snprintf(st->name, sizeof st->name, "%s", cat_peer_name(c));
	st->rd = st->wr = c;
	cat_stream_hold(st, c);
	return st;
}

void cat_stream_discard(struct cat_stream *st)
{
	if (!st)
		return;
	sk_conn *cs[2] = {st->rd, st->wr != st->rd ? st->wr : NULL};
	for (int i = 0; i < 2; i++) {
		if (cs[i]) {
			sk_conn_set_cbs(cs[i], &orphan_cbs, NULL);
			sk_conn_close(cs[i]);
		}
	}
	if (st->dg)
		sk_dgram_close(st->dg);
	cat_child_release(st->child);
	free(st);
}

/* ---- the opener's lifetime ------------------------------------------------- */

static void opener_free(struct cat_opener *op)
{
	if (op->conn) {
		sk_conn_set_cbs(op->conn, &orphan_cbs, NULL);
		sk_conn_close(op->conn);
	}
	if (op->lst)
		sk_listener_close(op->lst);
	if (op->req)
		sk_resolve_cancel(op->req);
	if (op->now)
		sk_timer_free(op->now);
	cat_stream_discard(op->st);
	free(op);
}

/* The outcome (op->st, or op->err and op->msg): tell, then free op. */
static void complete(struct cat_opener *op)
{
	struct cat_stream *st = op->err ? NULL : op->st;
	if (st)
		op->st = NULL;
	op->cb(op->ud, st, op->err, op->msg);
	opener_free(op);
}

static void now_cb(sk_timer *t, void *ud)
{
	complete(ud);
}

static int fail(struct cat_opener *op, int err, const char *fmt, ...) SK_PRINTF(3, 4);
static int fail(struct cat_opener *op, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof op->msg, fmt, ap);
	va_end(ap);
	op->err = err;
	return err;
}

void cat_open_cancel(struct cat_opener *op)
{
	if (op)
		opener_free(op);
}

/* ---- stdio ---------------------------------------------------------------- */

static int open_stdio(struct cat_opener *op)
{
	sk_loop *loop = op->run->loop;
	struct cat_stream *st = op->st;
	struct stat s0, s1;
	int r;
	snprintf(st->name, sizeof st->name, "stdio");
	st->tty_in = isatty(0);
	/* A socket on both (inetd, socat's EXEC): one connection, so
	 * half-close is a real shutdown. */
	if (fstat(0, &s0) == 0 && fstat(1, &s1) == 0 && S_ISSOCK(s0.st_mode) &&
	    s0.st_dev == s1.st_dev && s0.st_ino == s1.st_ino) {
		r = sk_conn_open_fd(loop, 0, SK_FD_NOCLOSE, NULL, NULL, NULL, &st->rd);
		if (r < 0)
			return fail(op, r, "standard input: %s", sk_strerror(r));
		cat_stream_hold(st, st->rd);
		st->wr = st->rd;
		return 0;
	}
	r = sk_conn_open_fd(loop, 0, SK_FD_NOCLOSE | SK_FD_READONLY, NULL, NULL,
			    NULL, &st->rd);
	if (r < 0)
		return fail(op, r, "standard input: %s", sk_strerror(r));
	cat_stream_hold(st, st->rd);
	r = sk_conn_open_fd(loop, 1, SK_FD_NOCLOSE | SK_FD_WRITEONLY, NULL, NULL,
			    NULL, &st->wr);
	if (r < 0)
		return fail(op, r, "standard output: %s", sk_strerror(r));
	cat_stream_hold(st, st->wr);
	return 0;
}

/* ---- stream connections ------------------------------------------------------- */

static void conn_open(sk_conn *c, void *ud)
{
	struct cat_opener *op = ud;
	struct cat_stream *st = op->st;
	op->conn = NULL;
	snprintf(st->name, sizeof st->name, "%s", sk_conn_peer_str(c));
	st->rd = st->wr = c;
	cat_stream_hold(st, c);
	if (!sk_conn_is_tls(c))
		sk_log_info("connected to %s", st->name);
	else if (sk_conn_alpn(c))
		sk_log_info("connected to %s (TLS, ALPN %s)", st->name, sk_conn_alpn(c));
	else
		sk_log_info("connected to %s (TLS)", st->name);
	complete(op);
}

static void conn_close(sk_conn *c, int err, void *ud)
{
	struct cat_opener *op = ud;
	op->conn = NULL;
	op->err = err ? err : SK_ECONNABORTED;
	cat_conn_errstr(c, op->err, op->ep->addr, op->msg, sizeof op->msg);
	complete(op);
}

static const struct sk_conn_cbs connect_cbs = {
	.on_open = conn_open,
	.on_close = conn_close,
};

/* -4/-6 against a numeric address. */
static int check_family(struct cat_opener *op)
{
	struct sk_addr a;
	int fam = op->run->o->family;
	if (fam && !op->ep->unix_sock && sk_addr_parse(op->ep->addr, &a) == 0 &&
	    sk_addr_family(&a) != fam)
		return fail(op, SK_EAFNOSUPPORT, "%s is not an IPv%c address",
			    op->ep->host, fam == AF_INET ? '4' : '6');
	return 0;
}

static int open_connect(struct cat_opener *op)
{
	const struct cat_opts *o = op->run->o;
	struct sk_conn_opts co = {
		.connect_timeout_ms = o->connect_ms,
		.family = o->family,
		.bind = op->ep->unix_sock ? NULL : op->run->source,
		.tls = op->ep->tls ? op->run->tls_client : NULL,
		.sni = o->tls_sni,
	};
	int r = check_family(op);
	if (r < 0)
		return r;
	r = sk_connect(op->run->loop, op->ep->addr, &co, &connect_cbs, op, &op->conn);
	if (r < 0)
		return fail(op, r, "%s (%s)", sk_strerror(r), op->ep->addr);
	return 1; /* in progress */
}

/* ---- a listener for one client (the second endpoint of a relay) ------------- */

static void accept_one(sk_listener *l, sk_conn *c, void *ud)
{
	struct cat_opener *op = ud;
	if (!cat_peer_allowed(op->run, c))
		return;
	sk_log_info("connection from %s", cat_peer_name(c));
	sk_listener_close(op->lst);
	op->lst = NULL;
	struct cat_stream *st = op->st;
	snprintf(st->name, sizeof st->name, "%s", cat_peer_name(c));
	st->rd = st->wr = c;
	cat_stream_hold(st, c);
	if (op->now || sk_timer_new(op->run->loop, now_cb, op, &op->now) == 0) {
		sk_timer_start(op->now, 0, 0); /* not from inside on_accept */
		return;
	}
	op->err = SK_ENOMEM;
	complete(op);
}

int cat_listen(struct cat_run *run, const struct cat_ep *ep, sk_accept_cb on_accept,
	       void *ud, sk_listener **out, char *err, size_t errsz)
{
	const struct cat_opts *o = run->o;
	struct sk_listen_opts lo = {
		.max_conns = o->max_conns,
		.tls = ep->tls ? run->tls_server : NULL,
	};
	char addr[SK_HOST_MAX + 16];
	int r;
	if (ep->any_host && o->family != AF_INET) {
		snprintf(addr, sizeof addr, "[::]:%u", ep->port);
		lo.v6only = o->family == AF_INET6;
		r = sk_listen(run->loop, addr, &lo, on_accept, ud, out);
		if (r == 0 || o->family == AF_INET6 ||
		    (r != SK_EAFNOSUPPORT && r != SK_EADDRNOTAVAIL))
			goto done;
	}
	if (ep->any_host)
		snprintf(addr, sizeof addr, "0.0.0.0:%u", ep->port);
	else
		snprintf(addr, sizeof addr, "%s", ep->addr);
	r = sk_listen(run->loop, addr, &lo, on_accept, ud, out);
done:
	if (r < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", addr, sk_strerror(r));
		return r;
	}
	struct sk_addr a;
	char txt[SK_ADDR_STRLEN];
	if (sk_listener_addr(*out, &a) == 0 && sk_addr_format(&a, txt, sizeof txt) > 0)
		sk_log_info("listening on %s%s", txt, ep->tls ? " (TLS)" : "");
	return 0;
}

static int open_listen_one(struct cat_opener *op)
{
	char err[CAT_ERRMSG];
	int r = cat_listen(op->run, op->ep, accept_one, op, &op->lst, err, sizeof err);
	if (r < 0)
		return fail(op, r, "%s", err);
	return 1;
}

/* ---- datagram sockets ----------------------------------------------------- */

static int dgram_ready(struct cat_opener *op, const char *bind,
		       const struct sk_dgram_opts *dopts, const struct sk_addr *peer)
{
	struct cat_stream *st = op->st;
	int r = sk_dgram_open(op->run->loop, bind, dopts, cat_dbridge_recv, NULL,
			      &st->dg);
	if (r < 0)
		return fail(op, r, "cannot open a datagram socket%s%s: %s",
			    bind ? " on " : "", bind ? bind : "", sk_strerror(r));
	sk_dgram_recv_stop(st->dg); /* until a bridge owns it */
	if (peer) {
		if ((r = sk_dgram_connect(st->dg, peer)) < 0)
			return fail(op, r, "%s (%s)", sk_strerror(r), op->ep->addr);
		st->dg_connected = true;
		if (sk_addr_format(peer, st->name, sizeof st->name) < 0)
			snprintf(st->name, sizeof st->name, "%.*s",
				 (int)sizeof st->name - 1, op->ep->addr);
	} else {
		st->dg_listen = true;
		struct sk_addr a;
		if (sk_dgram_local(st->dg, &a) == 0 &&
		    sk_addr_format(&a, st->name, sizeof st->name) > 0)
			sk_log_info("listening on %s (datagrams)", st->name);
	}
	return 0;
}

static int dgram_client(struct cat_opener *op, const struct sk_addr *peer)
{
	struct sk_dgram_opts dopts = {.family = sk_addr_family(peer)};
	const char *bind = op->ep->unix_sock ? NULL : op->run->source;
	if (bind) {
		struct sk_addr b;
		if (sk_addr_parse(bind, &b) == 0 && sk_addr_family(&b) != dopts.family)
			return fail(op, SK_EAFNOSUPPORT, "-s %s: not the family of %s",
				    bind, op->ep->addr);
	}
	return dgram_ready(op, bind, &dopts, peer);
}

static void resolved(int status, const struct sk_addr *addrs, size_t n, void *ud)
{
	struct cat_opener *op = ud;
	op->req = NULL;
	if (status < 0)
		fail(op, status, "%s (%s)", sk_strerror(status), op->ep->addr);
	else
		(void)dgram_client(op, &addrs[0]);
	complete(op);
}

static int open_dgram(struct cat_opener *op)
{
	const struct cat_ep *ep = op->ep;
	int fam = op->run->o->family;
	struct sk_addr a;
	if (ep->listen) {
		struct sk_dgram_opts dopts = {.v6only = fam == AF_INET6};
		char bind[SK_HOST_MAX + 16];
		if (!ep->any_host)
			return dgram_ready(op, ep->addr, &dopts, NULL);
		snprintf(bind, sizeof bind, fam == AF_INET ? "0.0.0.0:%u" : "[::]:%u",
			 ep->port);
		int r = dgram_ready(op, bind, &dopts, NULL);
		if (r == SK_EAFNOSUPPORT && fam == 0) {
			op->err = 0;
			snprintf(bind, sizeof bind, "0.0.0.0:%u", ep->port);
			r = dgram_ready(op, bind, &dopts, NULL);
		}
		return r;
	}
	if (sk_addr_parse(ep->addr, &a) == 0) {
		int r = check_family(op);
		return r < 0 ? r : dgram_client(op, &a);
	}
	int r = sk_resolve(op->run->loop, ep->host, ep->port, fam, 0, resolved, op,
			   &op->req);
	if (r < 0)
		return fail(op, r, "%s (%s)", sk_strerror(r), ep->addr);
	return 1;
}

/* ---- open ------------------------------------------------------------------- */

int cat_open(struct cat_run *run, const struct cat_ep *ep, cat_open_cb cb,
	     void *ud, struct cat_opener **out, char *err, size_t errsz)
{
	struct cat_opener *op = calloc(1, sizeof *op);
	if (!op || !(op->st = calloc(1, sizeof *op->st))) {
		free(op);
		snprintf(err, errsz, "out of memory");
		return SK_ENOMEM;
	}
	op->run = run;
	op->ep = ep;
	op->cb = cb;
	op->ud = ud;
	int r;
	if (ep->kind == CAT_EP_STDIO)
		r = open_stdio(op);
	else if (ep->kind == CAT_EP_EXEC)
		r = cat_exec_spawn(run, ep->cmd, ep->shell, op->st, op->msg,
				   sizeof op->msg);
	else if (ep->dgram)
		r = open_dgram(op);
	else if (ep->listen)
		r = open_listen_one(op);
	else
		r = open_connect(op);
	if (r == 0) /* ready now: report from the loop */
		r = sk_timer_new(run->loop, now_cb, op, &op->now);
	if (r < 0) {
		snprintf(err, errsz, "%s", op->msg[0] ? op->msg : sk_strerror(r));
		opener_free(op);
		return r;
	}
	if (op->now)
		sk_timer_start(op->now, 0, 0);
	*out = op;
	return 0;
}

/* ---- TLS contexts -------------------------------------------------------------- */

/* A throw-away certificate, so that `sockit cat -l --tls` just works; the
 * fingerprint lets the client's user check what they connect to. */
static int ephemeral_cert(struct cat_run *run, const struct cat_ep *ep,
			  struct sk_tls_opts *to)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], cert[300], key[300], fp[SK_TLS_FP_STRLEN];
	const char *cn = ep->any_host || ep->unix_sock ? "localhost" : ep->host;
	snprintf(dir, sizeof dir, "%s/sockit-cat.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		cat_fail(run, "TLS: cannot make a temporary directory: %s",
			 sk_strerror(-errno));
		return -1;
	}
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	int r = sk_tls_write_selfsigned(cn, cert, key, 30);
	if (r == 0 && sk_tls_cert_fingerprint(cert, fp, sizeof fp) < 0)
		snprintf(fp, sizeof fp, "?");
	if (r == 0) {
		to->cert_file = cert;
		to->key_file = key;
		r = sk_tls_ctx_new(&run->tls_server, SK_TLS_SERVER, to);
	}
	unlink(cert);
	unlink(key);
	rmdir(dir);
	if (r < 0) {
		cat_fail(run, "TLS: %s", sk_tls_last_error());
		return -1;
	}
	fprintf(stderr, "sockit cat: TLS certificate: ephemeral, self-signed for %s, "
			"SHA-256 fingerprint %s\n", cn, fp);
	return 0;
}

int cat_tls_setup(struct cat_run *run)
{
	const struct cat_opts *o = run->o;
	for (int i = 0; i < 2; i++) {
		const struct cat_ep *ep = &o->ep[i];
		if (!ep->tls)
			continue;
		struct sk_tls_opts to = {.alpn = o->tls_alpn};
		int r;
		if (ep->listen && !run->tls_server) {
			if (!o->tls_cert) {
				if (ephemeral_cert(run, ep, &to) < 0)
					return -1;
				continue;
			}
			to.cert_file = o->tls_cert;
			to.key_file = o->tls_key;
			r = sk_tls_ctx_new(&run->tls_server, SK_TLS_SERVER, &to);
		} else if (!ep->listen && !run->tls_client) {
			to.ca_file = o->tls_ca;
			to.insecure = o->tls_insecure;
			r = sk_tls_ctx_new(&run->tls_client, SK_TLS_CLIENT, &to);
		} else {
			continue;
		}
		if (r < 0) {
			cat_fail(run, "TLS: %s", sk_tls_last_error());
			return -1;
		}
	}
	return 0;
}
