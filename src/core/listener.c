/*
 * listener.c - listening sockets: bind, listen, accept in batches, the
 * connection cap, and the EMFILE reserve (libuv's trick: keep one spare fd;
 * when accept() runs out of descriptors, spend it to accept and close the
 * pending connection so the client hears a close instead of hanging and
 * the listener does not spin).
 *
 * A closed listener stays in memory while connections it accepted are alive
 * (they point at it to keep the count); the last one frees it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCEPTS_PER_WAKEUP 64
#define DEF_BACKLOG 511
#define DEF_HS_TIMEOUT 10000


struct lext {
	int spare_fd;
};

static void maybe_free(sk_listener *l)
{
	if (l->closed && l->nconns == 0) {
		sk__list_del(&l->link);
		free(l->drv);
		sk__defer_free(l->loop, l);
	}
}

void sk__listener_conn_gone(sk_listener *l)
{
	l->nconns--;
	maybe_free(l);
}

void sk__listener_error(sk_listener *l, int err)
{
	if (l->on_error)
		l->on_error(l, err, l->ud);
}

void sk__listener_accepted(sk_listener *l, int fd)
{
	if (l->closed) {
		close(fd);
		return;
	}
	if (l->opts.max_conns && l->nconns >= l->opts.max_conns) {
		close(fd);
		sk__listener_error(l, SK_ELIMIT);
		return;
	}
	sk_conn *c;
	/* TCP options were set on the listener: accepted sockets inherit
	 * them, which saves a system call per connection. */
	int r = sk__conn_new(l->loop, fd, false, &l->opts.conn, &c);
	if (r < 0) {
		close(fd);
		sk__listener_error(l, r);
		return;
	}
	c->listener = l;
	l->nconns++;
	if (l->opts.tls) {
		unsigned ms = l->opts.tls_handshake_timeout_ms
				      ? l->opts.tls_handshake_timeout_ms
				      : DEF_HS_TIMEOUT;
		r = sk__tls_attach(c, l->opts.tls, true, NULL);
		if (r == 0)
			r = sk__conn_hs_deadline(c, ms);
		if (r < 0) {
			sk__conn_fail(c, r);
			return;
		}
		sk__conn_start_io(c, false); /* on_accept after the handshake */
		return;
	}
	c->flags |= SK__C_HANDED;
	l->on_accept(l, c, l->ud);
	if (c->flags & SK__C_DEAD)
		return;
	if (!c->cbs) {
		sk_conn_close(c);
		return;
	}
	sk__conn_start_io(c, false);
}

static void emfile_trick(sk_listener *l)
{
	struct lext *x = l->drv;
	if (!x || x->spare_fd < 0)
		return;
	close(x->spare_fd);
	int fd = accept(l->io.fd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	x->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_cb(sk_io *io, unsigned revents, void *ud)
{
	sk_listener *l = ud;
	for (int i = 0; i < ACCEPTS_PER_WAKEUP && !l->closed; i++) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			sk__listener_accepted(l, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		int err = sk__errno();
		if (err == SK_EMFILE || err == -ENFILE)
			emfile_trick(l);
		sk__listener_error(l, err);
		return;
	}
}

/* A unix socket file left by a dead server is removed; a live one is not. */
static int clear_stale_unix(const struct sk_addr *a)
{
	const char *path = a->u.un.sun_path;
	struct stat st;
	if (path[0] == '\0' || stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk__errno();
	int live = connect(fd, &a->u.sa, a->len) == 0;
	close(fd);
	if (live)
		return SK_EADDRINUSE;
	unlink(path);
	return 0;
}

static int parse_listen_addr(const char *addr, struct sk_addr *a)
{
	struct sk_hostport hp;
	int r = sk_hostport_parse(addr, strlen(addr), &hp);
	if (r < 0)
		return r;
	if (hp.kind == SK_ADDR_NAME) {
		/* No blocking lookups here; "localhost" is the one name
		 * every listener config expects to work. */
		if (strcmp(hp.host, "localhost") == 0)
			return sk_addr_from_ip("127.0.0.1", hp.port, a);
		return SK_EBADADDR;
	}
	return sk_addr_parse(addr, a);
}

int sk_listen(sk_loop *loop, const char *addr, const struct sk_listen_opts *opts,
	      sk_accept_cb on_accept, void *ud, sk_listener **out)
{
	static const struct sk_listen_opts defaults;
	if (!addr || !on_accept)
		return SK_EINVAL;
	if (!opts)
		opts = &defaults;
	sk_listener *l = calloc(1, sizeof *l);
	struct lext *x = calloc(1, sizeof *x);
	if (!l || !x) {
		free(l);
		free(x);
		return SK_ENOMEM;
	}
	x->spare_fd = -1;
	l->drv = x;
	int r = parse_listen_addr(addr, &l->addr), fd = -1;
	if (r == 0 && l->addr.u.sa.sa_family == AF_UNIX) {
		l->unix_path = l->addr.u.un.sun_path[0] != '\0';
		r = clear_stale_unix(&l->addr);
	}
	if (r == 0)
		r = sk__bind_socket(&l->addr, SOCK_STREAM, 1, opts->reuseport,
				    opts->v6only, &fd);
	if (r == 0 && l->addr.u.sa.sa_family != AF_UNIX)
		r = sk__tcp_opts(fd, &opts->conn);
	if (r == 0 && listen(fd, opts->backlog > 0 ? opts->backlog : DEF_BACKLOG) < 0)
		r = sk__errno();
	if (r == 0 && l->unix_path && opts->unix_mode &&
	    chmod(l->addr.u.un.sun_path, opts->unix_mode) < 0)
		r = sk__errno();
	if (r == 0) {
		l->addr.len = sizeof l->addr.u;
		if (getsockname(fd, &l->addr.u.sa, &l->addr.len) < 0)
			r = sk__errno();
	}
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		free(x);
		free(l);
		return r;
	}
	l->loop = loop;
	l->on_accept = on_accept;
	l->ud = ud;
	l->opts = *opts;
	x->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sk__io_init(loop, &l->io, fd, accept_cb, l, SK__IO_EMBEDDED);
	if (loop->be->listen_start)
		r = loop->be->listen_start(l);
	else
		r = sk__io_update(&l->io, SK_READ);
	if (r < 0) {
		close(fd);
		if (x->spare_fd >= 0)
			close(x->spare_fd);
		free(x);
		free(l);
		return r;
	}
	sk__list_add_tail(&loop->listeners, &l->link);
	sk__loop_ref(loop);
	*out = l;
	return 0;
}

void sk_listener_on_error(sk_listener *l, sk_listen_err_cb cb) { l->on_error = cb; }

int sk_listener_addr(const sk_listener *l, struct sk_addr *out)
{
	*out = l->addr;
	return 0;
}

uint16_t sk_listener_port(const sk_listener *l) { return sk_addr_port(&l->addr); }
unsigned sk_listener_conns(const sk_listener *l) { return l->nconns; }

void sk_listener_close(sk_listener *l)
{
	if (!l || l->closed)
		return;
	l->closed = true;
	if (l->loop->be->listen_stop)
		l->loop->be->listen_stop(l);
	else
		sk__io_stop(&l->io);
	close(l->io.fd);
	if (l->unix_path)
		unlink(l->addr.u.un.sun_path);
	struct lext *x = l->drv;
	if (x && x->spare_fd >= 0) {
		close(x->spare_fd);
		x->spare_fd = -1;
	}
	sk__loop_unref(l->loop);
	maybe_free(l);
}

void sk__listeners_free_all(sk_loop *loop)
{
	struct sk__list *n = loop->listeners.next;
	while (n != &loop->listeners) {
		sk_listener *l = SK__CONTAINER(n, sk_listener, link);
		n = n->next;
		sk_listener_close(l);
		if (l->nconns) { /* connections were freed already */
			l->nconns = 0;
			maybe_free(l);
		}
	}
}
