/*
 * conn.c - buffered stream connections: input delivery, the output queue
 * with high/low water marks, half-close, graceful and abortive close.
 *
 * Transport drivers:
 *  - readiness (epoll, poll): the connection's own sk_io.  Under epoll it is
 *    registered once, edge-triggered, for IN|OUT|RDHUP; we read until a
 *    short read / EAGAIN and write until EAGAIN.  Under poll it is level
 *    triggered and we ask for exactly what we want.
 *  - completion (io_uring): loop->be->conn_* hooks do the I/O and call
 *    back sk__conn_input / sk__conn_eof / sk__conn_fail / sk__conn_sent.
 * Input reaches the program through the loop's borrowed buffer (no copy)
 * unless the program left bytes unconsumed last time; only then does the
 * connection own an input buffer (c->in), and it is freed once empty.
 *
 * Connecting (sk_connect) is in connect.c; TLS in tls.c.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEF_MAX_IN (1u << 20)
#define DEF_MAX_OUT (64u << 20)
#define DEF_HIGH (1u << 20)
#define READS_PER_WAKEUP 16     /* fairness: then yield to other fds */
#define KEEP_OUT_STORAGE 65536  /* larger idle output storage is released */


static void conn_io_cb(sk_io *io, unsigned revents, void *ud);
static void conn_pending_cb(struct sk__pending *p);
static void after_drain(sk_conn *c);
static void finish(sk_conn *c);
static void eof_notify(sk_conn *c);

/* ---- raw I/O: sockets use recv/send (MSG_NOSIGNAL), others read/write --- */

static ssize_t raw_read(sk_conn *c, void *p, size_t n)
{
	if (c->flags & SK__C_PIPE)
		return read(c->io.fd, p, n);
	return recv(c->io.fd, p, n, 0);
}

static ssize_t raw_write(sk_conn *c, const void *p, size_t n)
{
	if (c->flags & SK__C_PIPE)
		return write(c->io.fd, p, n);
	return send(c->io.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* ---- creation -------------------------------------------------------------- */

static uint32_t clamp32(size_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void apply_limits(sk_conn *c, size_t max_in, size_t max_out,
			 size_t high, size_t low)
{
	if (max_in)
		c->max_in = clamp32(max_in);
	if (max_out)
		c->out.max = max_out;
	if (high)
		c->high_water = clamp32(high);
	if (low)
		c->low_water = clamp32(low);
	if (c->high_water > c->out.max)
		c->high_water = clamp32(c->out.max);
	if (c->low_water >= c->high_water)
		c->low_water = c->high_water / 4;
}

static void set_tcp_opts(sk_conn *c, const struct sk_conn_opts *o)
{
	(void)sk__tcp_opts(c->io.fd, o); /* best effort: options, not errors */
}

int sk__conn_new(sk_loop *loop, int fd, bool inet, const struct sk_conn_opts *o,
		 sk_conn **out)
{
	sk_conn *c = calloc(1, sizeof *c);
	if (!c)
		return SK_ENOMEM;
	c->loop = loop;
	sk__io_init(loop, &c->io, fd, conn_io_cb, c,
		    SK__IO_EMBEDDED | (loop->be->edge ? SK__IO_EDGE : 0));
	sk_buf_init(&c->out, DEF_MAX_OUT);
	c->max_in = DEF_MAX_IN;
	c->high_water = DEF_HIGH;
	c->low_water = DEF_HIGH / 4;
	if (o) {
		apply_limits(c, o->max_in, o->max_out, o->high_water, o->low_water);
		if (o->coalesce)
			c->flags |= SK__C_COALESCE;
	}
	sk__pending_init(&c->pend, conn_pending_cb);
	sk__list_add_tail(&loop->conns, &c->link);
	sk__loop_ref(loop);
	if (fd >= 0 && inet)
		set_tcp_opts(c, o);
	*out = c;
	return 0;
}

/* What the readiness watcher should be asked for (level backends). */
static unsigned wanted(const sk_conn *c)
{
	unsigned ev = 0;
	if (c->flags & SK__C_CONNECTING)
		return SK_WRITE;
	if (!(c->flags & (SK__C_READ_OFF | SK__C_EOF | SK__C_NOREAD)))
		ev |= SK_READ;
	if (c->out.len)
		ev |= SK_WRITE;
	return ev;
}

static void io_refresh(sk_conn *c)
{
	if (c->flags & (SK__C_DEAD | SK__C_DRIVER) || c->io.fd < 0)
		return;
	if (c->flags & SK__C_FILE) {
		/* Regular files are always ready: read from pending work. */
		if (wanted(c) & SK_READ) {
			c->flags |= SK__C_READ_RETRY;
			sk__pending_add(c->loop, &c->pend);
		}
		return;
	}
	int r = 0;
	if (c->io.flags & SK__IO_EDGE) {
		/* Edge: registered once for everything. */
		if (!(c->io.flags & SK__IO_ADDED))
			r = sk__io_update(&c->io, SK_READ | SK_WRITE);
	} else {
		unsigned ev = wanted(c);
		if (ev != c->io.events)
			r = sk__io_update(&c->io, ev);
	}
	if (r == -EPERM) {
		/* Not pollable (a regular file, /dev/null under epoll). */
		c->flags |= SK__C_FILE;
		io_refresh(c);
	} else if (r < 0) {
		sk__conn_fail(c, r);
	}
}

/* Connected (accepted, or connect() finished): start the transport.
 * probe: look at the socket once (a client's edge was used up by connect). */
void sk__conn_start_io(sk_conn *c, bool probe)
{
	c->flags &= ~SK__C_CONNECTING;
	if (c->loop->be->conn_start && !(c->flags & (SK__C_PIPE | SK__C_FILE))) {
		if (c->io.flags & SK__IO_ADDED)
			(void)sk__io_update(&c->io, 0);
		c->flags |= SK__C_DRIVER;
		int r = c->loop->be->conn_start(c);
		if (r < 0) {
			sk__conn_fail(c, r);
			return;
		}
		if (c->out.len)
			c->loop->be->conn_flush(c);
		return;
	}
	io_refresh(c);
	/* A new registration reports what is already there; a client's was
	 * made while connecting, so look once (and flush what was queued). */
	if (probe) {
		c->flags |= SK__C_READ_RETRY;
		sk__pending_add(c->loop, &c->pend);
	}
}

/* ---- input ----------------------------------------------------------------- */

static void free_in(sk_conn *c)
{
	if (c->in) {
		sk_buf_free(c->in);
		free(c->in);
		c->in = NULL;
	}
}

/* Call on_read with buf, then keep what was left in c->in. */
static void call_on_read(sk_conn *c, struct sk_buf *buf)
{
	c->need = 0;
	c->flags |= SK__C_IN_CB;
	if (c->cbs && c->cbs->on_read)
		c->cbs->on_read(c, buf, c->ud);
	else
		sk_buf_consume(buf, buf->len);
	c->flags &= ~SK__C_IN_CB;
	if (buf == &c->loop->borrowed) {
		struct sk_buf b = *buf;
		sk_buf_init(buf, 0);
		if (b.len == 0 || (c->flags & SK__C_DEAD)) {
			sk_buf_free(&b);
			return;
		}
		/* Unconsumed input: the connection keeps its own copy. */
		c->in = malloc(sizeof *c->in);
		if (!c->in) {
			sk_buf_free(&b);
			sk__conn_fail(c, SK_ENOMEM);
			return;
		}
		*c->in = b;
		c->in->max = c->max_in;
		if (sk_buf_own(c->in) < 0) {
			free_in(c);
			sk__conn_fail(c, SK_ENOMEM);
		}
		return;
	}
	if (c->in && c->in->len == 0)
		free_in(c);
}

void sk_conn_read_need(sk_conn *c, size_t n)
{
	c->need = n > c->max_in ? c->max_in : (uint32_t)n;
}

#define TOPUP_MIN 4096u /* without a hint: first top-up, then doubled */

/* Bytes are held from an earlier read and on_read is live.  Rather than
 * copy all of p behind them (and, as reads rarely end on a message
 * boundary, every byte read after them, for as long as the stream lasts),
 * copy only what completes the held message: the program's hint, or
 * TOPUP_MIN doubling while on_read takes none of it.  Once on_read has
 * used up every byte held from before p, the rest of p goes out borrowed.
 * c->in is always a suffix of (bytes held before) + p[0, appended). */
static void deliver_topup(sk_conn *c, const uint8_t *p, size_t n)
{
	size_t appended = 0, step = TOPUP_MIN;
	while (appended < n) {
		size_t held = c->in->len;
		size_t t = c->need > held ? c->need - held : step;
		if (t > n - appended)
			t = n - appended;
		if (held + t > c->max_in || sk_buf_append(c->in, p + appended, t) < 0) {
			sk__conn_fail(c, SK_ENOBUFS);
			return;
		}
		appended += t;
		if (c->need > c->in->len)
			continue; /* p ran out: the loop ends, the bytes wait */
		call_on_read(c, c->in);
		if (c->flags & SK__C_DEAD)
			return;
		size_t left = c->in ? c->in->len : 0;
		if (left <= appended) { /* nothing from before p is left */
			free_in(c);
			sk__conn_deliver(c, p + (appended - left), n - (appended - left));
			return;
		}
		if (c->flags & SK__C_READ_OFF) { /* keep the rest, unseen */
			sk__conn_deliver(c, p + appended, n - appended);
			return;
		}
		if (left == held + t && step < ((size_t)1 << 30))
			step *= 2; /* on_read took nothing: it needs more */
	}
}

void sk__conn_deliver(sk_conn *c, const uint8_t *p, size_t n)
{
	if (c->flags & SK__C_DEAD || n == 0)
		return;
	/* (A completion driver's bytes read ahead of a read_start keep the
	 * plain path below: they may exceed max_in.) */
	bool retry = (c->flags & SK__C_DRIVER) && (c->flags & SK__C_READ_RETRY);
	if (c->in && c->in->len && !retry &&
	    !(c->flags & (SK__C_READ_OFF | SK__C_IN_CB))) {
		deliver_topup(c, p, n);
		return;
	}
	if (c->in || n < c->need || (c->flags & (SK__C_READ_OFF | SK__C_IN_CB))) {
		/* Bytes already waiting (or the program is not reading, or
		 * this is a nested delivery): append behind them. */
		if (!c->in) {
			c->in = malloc(sizeof *c->in);
			if (!c->in) {
				sk__conn_fail(c, SK_ENOMEM);
				return;
			}
			sk_buf_init(c->in, c->max_in);
		}
		/* A completion driver may still hand over bytes the kernel
		 * had read before a read_stop reached it (at most its
		 * buffer pool), also after a read_start until the program
		 * has seen what waited: they cannot be unread, so keep
		 * them even over the limit. */
		bool ahead = (c->flags & SK__C_DRIVER) &&
			     (c->flags & (SK__C_READ_OFF | SK__C_READ_RETRY));
		if (ahead && c->in->len + n > c->in->max)
			c->in->max = c->in->len + n;
		if ((!ahead && c->in->len + n > c->max_in) ||
		    sk_buf_append(c->in, p, n) < 0) {
			sk__conn_fail(c, SK_ENOBUFS);
			return;
		}
		if ((c->flags & (SK__C_READ_OFF | SK__C_IN_CB)) ||
		    c->in->len < c->need)
			return;
		call_on_read(c, c->in);
		return;
	}
	struct sk_buf *b = &c->loop->borrowed;
	b->data = (uint8_t *)p;
	b->off = 0;
	b->len = n;
	b->cap = 0;
	b->max = c->max_in > n ? c->max_in : n;
	b->flags = SK_BUF_BORROWED;
	call_on_read(c, b);
}

void sk__conn_input(sk_conn *c, const uint8_t *p, size_t n)
{
	if (c->tls)
		sk__tls_input(c, p, n);
	else
		sk__conn_deliver(c, p, n);
}

void sk__conn_eof(sk_conn *c)
{
	if (c->flags & (SK__C_DEAD | SK__C_EOF))
		return;
	if (c->flags & SK__C_TLS_HS) {
		/* No TLS session yet: a failed connection, not an EOF (the
		 * program has not seen on_open). */
		sk__conn_set_detail(c, "connection closed during TLS handshake");
		sk__conn_fail(c, SK_EOF);
		return;
	}
	c->flags |= SK__C_EOF;
	io_refresh(c);
	if (c->flags & SK__C_CLOSING)
		return; /* already draining towards the end */
	if (c->flags & SK__C_READ_OFF) {
		/* The program paused its input (a completion backend's recv,
		 * or TLS records still undecrypted, can report the end
		 * meanwhile): the end must come after that input. */
		c->flags |= SK__C_EOF_OWED;
		return;
	}
	eof_notify(c);
}

static void eof_notify(sk_conn *c)
{
	if (c->cbs && c->cbs->on_eof) {
		c->cbs->on_eof(c, c->ud);
		return;
	}
	c->err = SK_EOF;
	sk_conn_close(c);
}

/* Readiness: read until a short read, EAGAIN, EOF or the fairness cap. */
static void read_fd(sk_conn *c, bool hup)
{
	sk_loop *loop = c->loop;
	if (!loop->rbuf) {
		loop->rbuf = malloc(SK__RBUF_SIZE);
		if (!loop->rbuf) {
			sk__conn_fail(c, SK_ENOMEM);
			return;
		}
	}
	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		if (c->flags & (SK__C_DEAD | SK__C_READ_OFF | SK__C_EOF |
				SK__C_NOREAD))
			return;
		ssize_t n = raw_read(c, loop->rbuf, SK__RBUF_SIZE);
		if (n > 0) {
			sk__conn_input(c, loop->rbuf, (size_t)n);
			/* A short read drained the socket; new data raises a
			 * new edge.  Unless the peer hung up in this same
			 * edge: then read on to see the EOF. */
			if ((size_t)n < SK__RBUF_SIZE && !hup &&
			    !(c->flags & SK__C_FILE))
				return;
			continue;
		}
		if (n == 0) {
			sk__conn_eof(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		sk__conn_fail(c, sk__errno());
		return;
	}
	/* Still more: come back after the others had their turn. */
	c->flags |= SK__C_READ_RETRY;
	sk__pending_add(loop, &c->pend);
}

/* ---- output ---------------------------------------------------------------- */

static bool drained(const sk_conn *c)
{
	return c->out.len == 0 && c->out_inflight == 0;
}

static void do_shutdown(sk_conn *c)
{
	c->flags &= ~SK__C_SHUT_PENDING;
	c->flags |= SK__C_SHUT_DONE;
	if (c->flags & SK__C_PIPE) {
		/* A pipe has no half-close: the write side ends with the fd. */
		if (c->flags & SK__C_NOREAD)
			sk_conn_close(c);
		return;
	}
	if (shutdown(c->io.fd, SHUT_WR) < 0 && errno != ENOTCONN)
		sk__conn_fail(c, sk__errno());
}

/* The queue got shorter: wake a paused writer, finish a pending close. */
static void after_drain(sk_conn *c)
{
	if (c->flags & SK__C_DEAD)
		return;
	if (drained(c)) {
		if (c->out.cap > KEEP_OUT_STORAGE)
			sk_buf_free(&c->out);
		/* Closed during a TLS handshake with plaintext waiting (see
		 * sk_conn_close): the handshake's own records drained, the
		 * end comes after it, from sk__conn_closed_ready(). */
		if ((c->flags & (SK__C_CLOSING | SK__C_TLS_HS | SK__C_READ_OFF)) ==
		    (SK__C_CLOSING | SK__C_TLS_HS))
			return;
		if (c->flags & SK__C_CLOSING) {
			finish(c);
			return;
		}
		if (c->flags & SK__C_SHUT_PENDING)
			do_shutdown(c);
	}
	size_t q = c->out.len + c->out_inflight;
	if ((c->flags & SK__C_CONGESTED) && q <= c->low_water) {
		c->flags &= ~SK__C_CONGESTED;
		if (c->cbs && c->cbs->on_drain && !(c->flags & SK__C_CLOSING))
			c->cbs->on_drain(c, c->ud);
	}
}

static void flush_fd(sk_conn *c)
{
	while (c->out.len) {
		ssize_t n = raw_write(c, sk_buf_data(&c->out), c->out.len);
		if (n > 0) {
			sk_buf_consume(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		sk__conn_fail(c, sk__errno());
		return;
	}
	if (c->out.len == 0)
		io_refresh(c);
	after_drain(c);
}

void sk__conn_sent(sk_conn *c, size_t n)
{
	c->out_inflight = n >= c->out_inflight ? 0 : c->out_inflight - (uint32_t)n;
	after_drain(c);
}

/* Output was queued: get it moving. */
static void kick_output(sk_conn *c)
{
	if (c->flags & SK__C_DRIVER) {
		c->loop->be->conn_flush(c);
	} else if (c->flags & SK__C_CONNECTING) {
		/* flushed once connected */
	} else if (c->flags & SK__C_COALESCE) {
		/* Sent from pending work, after this iteration's events. */
		c->flags |= SK__C_FLUSH;
		sk__pending_add(c->loop, &c->pend);
	} else {
		io_refresh(c);
	}
}

int sk__conn_queue_raw(sk_conn *c, const void *p, size_t n)
{
	if (c->flags & SK__C_DEAD)
		return c->err < 0 ? c->err : SK_EPIPE;
	if (n == 0)
		return 0;
	const uint8_t *b = p;
	bool ready = !(c->flags & (SK__C_DRIVER | SK__C_CONNECTING));
	/* A completion driver sends small writes in its next batch, but a
	 * big one costs less sent now than copied into the queue first
	 * (safe only while the driver has no send in flight). */
	bool direct = (ready && !(c->flags & SK__C_COALESCE)) ||
		      ((c->flags & SK__C_DRIVER) && n >= SK__DIRECT_SEND_MIN &&
		       c->out_inflight == 0);
	if (direct && c->out.len == 0 && c->io.fd >= 0) {
		/* Fast path: nothing queued, try the socket right away. */
		ssize_t s = raw_write(c, b, n);
		if (s < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				int err = sk__errno();
				sk__conn_fail(c, err);
				return err;
			}
			s = 0;
		}
		b += s;
		n -= (size_t)s;
		if (n == 0)
			return 0;
	}
	if (c->out.len + c->out_inflight + n > c->out.max ||
	    sk_buf_append(&c->out, b, n) < 0) {
		sk__conn_fail(c, SK_ENOBUFS);
		return SK_ENOBUFS;
	}
	if (c->out.len + c->out_inflight >= c->high_water)
		c->flags |= SK__C_CONGESTED;
	kick_output(c);
	return 0;
}

void sk_conn_set_coalesce(sk_conn *c, bool on)
{
	if (on) {
		c->flags |= SK__C_COALESCE;
		return;
	}
	c->flags &= ~SK__C_COALESCE;
	if (c->out.len && !(c->flags & (SK__C_DRIVER | SK__C_CONNECTING))) {
		c->flags |= SK__C_FLUSH;
		sk__pending_add(c->loop, &c->pend);
	}
}

int sk_conn_write(sk_conn *c, const void *p, size_t n)
{
	if (c->flags & SK__C_DEAD)
		return c->err < 0 ? c->err : SK_EPIPE;
	if (c->flags & (SK__C_CLOSING | SK__C_SHUT_PENDING | SK__C_SHUT_DONE))
		return SK_EPIPE;
	if (c->tls)
		return sk__tls_write(c, p, n);
	return sk__conn_queue_raw(c, p, n);
}

int sk_conn_printf(sk_conn *c, const char *fmt, ...)
{
	char stackbuf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SK_EINVAL;
	if ((size_t)n < sizeof stackbuf)
		return sk_conn_write(c, stackbuf, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return SK_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = sk_conn_write(c, big, (size_t)n);
	free(big);
	return r;
}

/* pread exactly n bytes at off: 0, -errno, or SK_EIO for a short file. */
static int pread_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t k = pread(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sk__errno();
		if (k == 0)
			return SK_EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* The part of a file write the socket did not take at once: read it into
 * the queue (or, under TLS, through the record layer). */
static int queue_file(sk_conn *c, int fd, uint64_t off, size_t len)
{
	uint8_t *q;
	int r;
	if (len == 0)
		return 0;
	if (c->tls) { /* through the record layer, a record's worth at a time */
		uint8_t chunk[16384];
		while (len) {
			size_t k = len < sizeof chunk ? len : sizeof chunk;
			if ((r = pread_all(fd, chunk, k, off)) < 0 ||
			    (r = sk__tls_write(c, chunk, k)) < 0)
				return r;
			off += k;
			len -= k;
		}
		return 0;
	}
	if (c->out.len + c->out_inflight + len > c->out.max ||
	    sk_buf_reserve(&c->out, len, &q) < 0)
		return SK_ENOBUFS;
	if ((r = pread_all(fd, q, len, off)) < 0)
		return r;
	sk_buf_commit(&c->out, len);
	if (c->out.len + c->out_inflight >= c->high_water)
		c->flags |= SK__C_CONGESTED;
	kick_output(c);
	return 0;
}

/* sendfile(2) has no MSG_NOSIGNAL: on a reset socket it raises SIGPIPE.
 * The library never touches the process's signals, so it takes that path
 * only while the program ignores SIGPIPE itself.  The answer is kept for
 * one loop iteration: a program that changes the disposition does so from
 * a callback, and a write of many blocks then costs one sigaction(). */
static bool sigpipe_ignored(sk_loop *loop)
{
	if (loop->sigpipe_wake != loop->wakes) {
		struct sigaction sa;
		loop->sigpipe_ign = sigaction(SIGPIPE, NULL, &sa) == 0 &&
				    sa.sa_handler == SIG_IGN;
		loop->sigpipe_wake = loop->wakes;
	}
	return loop->sigpipe_ign;
}

int sk_conn_write_file(sk_conn *c, const void *hdr, size_t hn, int fd,
		       uint64_t off, size_t len)
{
	if (c->flags & SK__C_DEAD)
		return c->err < 0 ? c->err : SK_EPIPE;
	if (c->flags & (SK__C_CLOSING | SK__C_SHUT_PENDING | SK__C_SHUT_DONE))
		return SK_EPIPE;
	const uint8_t *h = hdr;
	size_t total = hn + len;
	bool full = false; /* the socket pushed back */
	/* Zero copy only with nothing ahead in the queue, nothing in flight
	 * (a completion backend's send), plaintext, and a socket. */
	bool zc = !c->tls && c->io.fd >= 0 && c->out.len == 0 &&
		  c->out_inflight == 0 &&
		  !(c->flags & (SK__C_CONNECTING | SK__C_PIPE | SK__C_FILE)) &&
		  sigpipe_ignored(c->loop);
	while (zc && hn) {
		ssize_t k = send(c->io.fd, h, hn,
				 MSG_NOSIGNAL | MSG_DONTWAIT | (len ? MSG_MORE : 0));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			int err = sk__errno();
			sk__conn_fail(c, err);
			return err;
		}
		if (k <= 0)
			zc = false, full = true;
		else
			h += k, hn -= (size_t)k;
	}
	while (zc && len) {
		off_t o = (off_t)off;
		ssize_t k = sendfile(c->io.fd, fd, &o, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			zc = false, full = true;
		} else if (k < 0 && (errno == EINVAL || errno == ENOSYS ||
				     errno == EOVERFLOW)) {
			zc = false; /* this fd cannot: the rest through the queue */
		} else if (k < 0 && errno == EBADF) {
			zc = false; /* fd is not readable: pread will say so */
		} else if (k < 0) { /* the socket failed */
			int err = sk__errno();
			sk__conn_fail(c, err);
			return err;
		} else if (k == 0) { /* the file is shorter than len */
			sk__conn_fail(c, SK_EIO);
			return SK_EIO;
		} else {
			off += (uint64_t)k;
			len -= (size_t)k;
		}
	}
	int r = 0;
	if (hn && (r = c->tls ? sk__tls_write(c, h, hn) : sk__conn_queue_raw(c, h, hn)) == 0)
		hn = 0;
	if (r == 0)
		r = queue_file(c, fd, off, len);
	/* The socket is full: the writer waits for on_drain rather than pile
	 * up copies behind it, and then finds the queue empty again. */
	if (r == 0 && full)
		c->flags |= SK__C_CONGESTED;
	/* Once part of the message is out, the stream cannot go on without
	 * the rest. */
	if (r < 0 && hn + len < total && !(c->flags & SK__C_DEAD))
		sk__conn_fail(c, r);
	return r;
}

int sk_conn_write_buf(sk_conn *c, struct sk_buf *src)
{
	if (src->len == 0)
		return 0;
	bool plain = !c->tls && !(c->flags & (SK__C_DEAD | SK__C_CLOSING |
					       SK__C_SHUT_PENDING | SK__C_SHUT_DONE));
	if (!plain || c->out.len || (src->flags & SK_BUF_BORROWED)) {
		int r = sk_conn_write(c, sk_buf_data(src), src->len);
		sk_buf_consume(src, src->len);
		return r;
	}
	/* Nothing queued and src owns its storage: send what the socket
	 * takes now, then adopt the rest without copying it. */
	if (!(c->flags & (SK__C_DRIVER | SK__C_CONNECTING | SK__C_COALESCE)) &&
	    c->io.fd >= 0) {
		ssize_t s = raw_write(c, sk_buf_data(src), src->len);
		if (s < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			int err = sk__errno();
			sk_buf_consume(src, src->len);
			sk__conn_fail(c, err);
			return err;
		}
		if (s > 0)
			sk_buf_consume(src, (size_t)s);
		if (src->len == 0)
			return 0;
	}
	if (c->out_inflight + src->len > c->out.max) {
		sk_buf_consume(src, src->len);
		sk__conn_fail(c, SK_ENOBUFS);
		return SK_ENOBUFS;
	}
	size_t max = c->out.max;
	int r = sk_buf_move(&c->out, src);
	c->out.max = max;
	if (r < 0) {
		sk__conn_fail(c, r);
		return r;
	}
	if (c->out.len + c->out_inflight >= c->high_water)
		c->flags |= SK__C_CONGESTED;
	kick_output(c);
	return 0;
}

bool sk_conn_congested(const sk_conn *c)
{
	return (c->flags & SK__C_CONGESTED) != 0;
}

size_t sk_conn_out_len(const sk_conn *c)
{
	return c->out.len + c->out_inflight;
}

void sk_conn_trim(sk_conn *c)
{
	if (!(c->flags & SK__C_DEAD) && drained(c) && c->out.cap)
		sk_buf_free(&c->out);
}

/* ---- the readiness watcher --------------------------------------------------- */

static void conn_io_cb(sk_io *io, unsigned revents, void *ud)
{
	sk_conn *c = ud;
	if (c->flags & SK__C_DEAD)
		return;
	if (c->flags & SK__C_CONNECTING) {
		sk__connect_on_io(c, revents);
		return;
	}
	if ((revents & (SK_WRITE | SK_ERROR)) && c->out.len)
		flush_fd(c);
	if (c->flags & SK__C_DEAD)
		return;
	if (revents & (SK_READ | SK_ERROR)) {
		if (c->flags & SK__C_READ_OFF) {
			/* Edge-triggered: remember to look again on resume. */
			c->flags |= SK__C_READ_RETRY;
			return;
		}
		read_fd(c, (revents & (SK__EV_HUP | SK_ERROR)) != 0);
	}
}

/* ---- pending work: retries, and the deferred on_close ---------------------- */

static void conn_free(sk_conn *c)
{
	sk__list_del(&c->link);
	sk__pending_del(&c->pend);
	free_in(c);
	sk_buf_free(&c->out);
	if (c->tls)
		sk__tls_free(c);
	sk__connect_free(c);
	free(c->ext);
	if (c->listener)
		sk__listener_conn_gone(c->listener);
	sk__loop_unref(c->loop);
	sk__defer_free(c->loop, c);
}

static void conn_pending_cb(struct sk__pending *p)
{
	sk_conn *c = SK__CONTAINER(p, sk_conn, pend);
	if (c->flags & SK__C_DEAD) {
		if (c->flags & SK__C_HANDED) {
			c->flags &= ~SK__C_HANDED;
			if (c->cbs && c->cbs->on_close)
				c->cbs->on_close(c, c->err, c->ud);
		}
		if (c->drv_ops == 0)
			conn_free(c);
		return;
	}
	if (c->flags & SK__C_FLUSH) {
		c->flags &= ~SK__C_FLUSH;
		if (c->out.len && c->io.fd >= 0 && !(c->flags & SK__C_DRIVER))
			flush_fd(c);
		if (c->flags & SK__C_DEAD)
			return;
	}
	if (c->flags & SK__C_READ_RETRY) {
		c->flags &= ~SK__C_READ_RETRY;
		/* output first: a client's queue waits for this look after
		 * its connect, whether or not it reads (an edge is spent) */
		if (!(c->flags & SK__C_DRIVER) && c->io.fd >= 0 && c->out.len)
			flush_fd(c);
		if (c->flags & (SK__C_DEAD | SK__C_READ_OFF))
			return;
		if (c->in && c->in->len && c->in->len >= c->need)
			call_on_read(c, c->in);
		if (c->tls && !(c->flags & SK__C_DEAD))
			sk__tls_input(c, NULL, 0);
		if ((c->flags & SK__C_EOF_OWED) &&
		    !(c->flags & (SK__C_DEAD | SK__C_READ_OFF))) {
			c->flags &= ~SK__C_EOF_OWED;
			eof_notify(c);
			return;
		}
		if (!(c->flags & (SK__C_DEAD | SK__C_DRIVER)) && c->io.fd >= 0) {
			/* Read to EAGAIN, not to a short read: an edge that
			 * came while reading was off is spent, and the FIN
			 * it may have announced raises no new one. */
			if (!(c->flags & SK__C_DEAD))
				read_fd(c, true);
		}
	}
}

void sk__conn_driver_done(sk_conn *c)
{
	if ((c->flags & SK__C_DEAD) && !(c->flags & SK__C_HANDED) &&
	    sk__list_empty(&c->pend.node) && c->drv_ops == 0)
		conn_free(c);
}

/* The end: stop I/O, close the fd, queue on_close. */
static void finish(sk_conn *c)
{
	if (c->flags & SK__C_DEAD)
		return;
	/* Keep the peer's name for the error words while the fd is open
	 * (not for an ordinary end: that would cost every connection a
	 * system call and an allocation). */
	if (c->err != 0 && c->err != SK_EOF && (c->flags & SK__C_HANDED))
		(void)sk_conn_peer_str(c);
	c->flags |= SK__C_DEAD;
	c->flags &= ~(SK__C_READ_RETRY | SK__C_CONGESTED | SK__C_FLUSH);
	if (c->cx)
		sk__connect_stop(c);
	if (c->io.fd >= 0) {
		if ((c->flags & SK__C_ABORT) && !(c->flags & SK__C_PIPE)) {
			struct linger lg = {1, 0};
			setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		if (c->flags & SK__C_DRIVER)
			c->loop->be->conn_stop(c);
		else
			sk__io_stop(&c->io);
		if (!(c->flags & SK__C_NOCLOSE))
			close(c->io.fd);
		c->io.fd = -1;
	}
	sk__pending_add(c->loop, &c->pend);
}

void sk__conn_fail(sk_conn *c, int err)
{
	if (c->flags & SK__C_DEAD)
		return;
	c->err = err;
	finish(c);
}

void sk_conn_close(sk_conn *c)
{
	if (c->flags & (SK__C_DEAD | SK__C_CLOSING))
		return;
	if ((c->flags & SK__C_TLS_HS) && sk__tls_holds_plain(c)) {
		/* What the program wrote waits for the handshake: let it
		 * finish (reading on, for the peer's handshake records), send
		 * that, then close_notify; sk__conn_closed_ready() ends it. */
		c->flags |= SK__C_CLOSING;
		(void)sk__tls_shutdown(c); /* remembered until the handshake ends */
		return;
	}
	c->flags |= SK__C_CLOSING | SK__C_READ_OFF;
	if (c->tls && !(c->flags & SK__C_TLS_HS))
		(void)sk__tls_shutdown(c);
	if (c->flags & SK__C_DEAD)
		return;
	/* Still connecting with bytes queued: they go out once connected
	 * (or the connect fails, and on_close says so). */
	if (drained(c) || (c->io.fd < 0 && !(c->flags & SK__C_CONNECTING))) {
		finish(c);
		return;
	}
	if (c->flags & SK__C_DRIVER)
		c->loop->be->conn_read(c, false);
	else
		io_refresh(c);
}

void sk__conn_closed_ready(sk_conn *c)
{
	c->flags |= SK__C_READ_OFF;
	if (c->flags & SK__C_DRIVER)
		c->loop->be->conn_read(c, false);
	else
		io_refresh(c);
	if (drained(c))
		finish(c);
}

void sk_conn_abort(sk_conn *c)
{
	if (c->flags & SK__C_DEAD)
		return;
	c->flags |= SK__C_ABORT;
	c->err = 0;
	finish(c);
}

int sk_conn_shutdown(sk_conn *c)
{
	if (c->flags & SK__C_DEAD)
		return SK_EPIPE;
	if (c->flags & (SK__C_SHUT_PENDING | SK__C_SHUT_DONE | SK__C_CLOSING))
		return 0;
	c->flags |= SK__C_SHUT_PENDING;
	if (c->tls && !(c->flags & SK__C_TLS_HS))
		(void)sk__tls_shutdown(c);
	if (!(c->flags & SK__C_CONNECTING) && drained(c) && c->io.fd >= 0)
		do_shutdown(c);
	return 0;
}

void sk_conn_read_stop(sk_conn *c)
{
	if (c->flags & (SK__C_DEAD | SK__C_READ_OFF))
		return;
	c->flags |= SK__C_READ_OFF;
	if (c->flags & SK__C_DRIVER)
		c->loop->be->conn_read(c, false);
	else
		io_refresh(c);
}

void sk_conn_read_start(sk_conn *c)
{
	if (!(c->flags & SK__C_READ_OFF) ||
	    (c->flags & (SK__C_DEAD | SK__C_CLOSING)))
		return;
	c->flags &= ~SK__C_READ_OFF;
	if (c->flags & SK__C_DRIVER)
		c->loop->be->conn_read(c, true);
	else
		io_refresh(c);
	/* Deliver what waited, and (edge) look at the socket again. */
	c->flags |= SK__C_READ_RETRY;
	sk__pending_add(c->loop, &c->pend);
}

/* ---- accessors ---------------------------------------------------------------- */

void sk_conn_set_cbs(sk_conn *c, const struct sk_conn_cbs *cbs, void *ud)
{
	c->cbs = cbs;
	c->ud = ud;
}

void sk_conn_set_data(sk_conn *c, void *ud) { c->ud = ud; }
void *sk_conn_data(const sk_conn *c) { return c->ud; }
sk_loop *sk_conn_loop(const sk_conn *c) { return c->loop; }
bool sk_conn_is_tls(const sk_conn *c) { return c->tls != NULL; }
const char *sk_conn_alpn(const sk_conn *c)
{
	return c->tls ? sk__tls_alpn(c) : NULL;
}

void sk_conn_set_limits(sk_conn *c, size_t max_in, size_t max_out,
			size_t high_water, size_t low_water)
{
	apply_limits(c, max_in, max_out, high_water, low_water);
	if (c->in && max_in)
		c->in->max = c->max_in;
}

int sk_conn_set_nodelay(sk_conn *c, bool on)
{
	int v = on;
	if (setsockopt(c->io.fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
		return sk__errno();
	return 0;
}

int sk_conn_set_keepalive(sk_conn *c, int idle_s)
{
	int on = idle_s > 0;
	if (setsockopt(c->io.fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0)
		return sk__errno();
	if (on && setsockopt(c->io.fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s,
			     sizeof idle_s) < 0)
		return sk__errno();
	return 0;
}

int sk_conn_peer(const sk_conn *c, struct sk_addr *out)
{
	out->len = sizeof out->u;
	if (c->io.fd < 0 || getpeername(c->io.fd, &out->u.sa, &out->len) < 0)
		return c->io.fd < 0 ? SK_ENOTCONN : sk__errno();
	return 0;
}

int sk_conn_local(const sk_conn *c, struct sk_addr *out)
{
	out->len = sizeof out->u;
	if (c->io.fd < 0 || getsockname(c->io.fd, &out->u.sa, &out->len) < 0)
		return c->io.fd < 0 ? SK_ENOTCONN : sk__errno();
	return 0;
}

struct sk__conn_ext *sk__conn_ext(sk_conn *c)
{
	if (!c->ext)
		c->ext = calloc(1, sizeof *c->ext);
	return c->ext;
}


const char *sk_conn_peer_str(sk_conn *c)
{
	struct sk__conn_ext *x = sk__conn_ext(c);
	if (!x)
		return "?";
	if (x->peer_str[0])
		return x->peer_str;
	struct sk_addr a;
	if (sk_conn_peer(c, &a) == 0 &&
	    sk_addr_format(&a, x->peer_str, sizeof x->peer_str) > 0)
		return x->peer_str;
	if (sk__connect_peer_str(c, x->peer_str, sizeof x->peer_str) > 0)
		return x->peer_str;
	return "?";
}

void sk__conn_set_detail(sk_conn *c, const char *fmt, ...)
{
	struct sk__conn_ext *x = sk__conn_ext(c);
	if (!x)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof x->detail, fmt, ap);
	va_end(ap);
}

const char *sk_conn_error_detail(const sk_conn *c)
{
	return c->ext ? c->ext->detail : "";
}

const char *sk_conn_error_string(sk_conn *c, int err, char *buf, size_t size)
{
	const char *d = sk_conn_error_detail(c);
	snprintf(buf, size, "%s%s%s (%s)", sk_strerror(err), *d ? ": " : "", d,
		 sk_conn_peer_str(c));
	return buf;
}

/* ---- loop teardown -------------------------------------------------------------- */

void sk__conns_free_all(sk_loop *loop)
{
	while (!sk__list_empty(&loop->conns)) {
		sk_conn *c = SK__CONTAINER(loop->conns.next, sk_conn, link);
		c->flags &= ~SK__C_HANDED; /* no callbacks at teardown */
		finish(c);
		c->drv_ops = 0;
		conn_free(c);
	}
}

void sk__conn_io_refresh(sk_conn *c) { io_refresh(c); }

/* Put a (new) socket under the connection; a previous one is closed. */
void sk__conn_set_fd(sk_conn *c, int fd, const struct sk_conn_opts *tcp)
{
	sk__io_init(c->loop, &c->io, fd, conn_io_cb, c,
		    SK__IO_EMBEDDED | (c->loop->be->edge ? SK__IO_EDGE : 0));
	if (tcp)
		set_tcp_opts(c, tcp);
}

int sk_conn_open_fd(sk_loop *loop, int fd, unsigned flags,
		    const struct sk_conn_opts *opts, const struct sk_conn_cbs *cbs,
		    void *ud, sk_conn **out)
{
	struct stat st;
	int type = 0;
	socklen_t tlen = sizeof type;
	if (fd < 0 || fstat(fd, &st) < 0)
		return SK_EBADF;
	bool sock = S_ISSOCK(st.st_mode) &&
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0;
	if (sock && type != SOCK_STREAM)
		return SK_EINVAL;
	int r = sk__set_nonblock(fd);
	if (r < 0 && !S_ISREG(st.st_mode))
		return r;
	sk_conn *c;
	bool inet = false;
	if (sock) {
		struct sk_addr a;
		a.len = sizeof a.u;
		inet = getsockname(fd, &a.u.sa, &a.len) == 0 &&
		       a.u.sa.sa_family != AF_UNIX;
	}
	r = sk__conn_new(loop, fd, inet, opts, &c);
	if (r < 0)
		return r;
	if (!sock)
		c->flags |= SK__C_PIPE;
	if (S_ISREG(st.st_mode))
		c->flags |= SK__C_FILE;
	if (flags & SK_FD_NOCLOSE)
		c->flags |= SK__C_NOCLOSE;
	if (flags & SK_FD_WRITEONLY)
		c->flags |= SK__C_NOREAD;
	if (flags & SK_FD_READONLY)
		c->flags |= SK__C_SHUT_DONE; /* writes are refused */
	c->cbs = cbs;
	c->ud = ud;
	c->flags |= SK__C_HANDED;
	sk__conn_start_io(c, true);
	*out = c;
	return 0;
}
