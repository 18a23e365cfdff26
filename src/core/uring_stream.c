/*
 * uring_stream.c - the io_uring backend's completion hooks: the provided
 * receive buffers, connections (multishot recv, one send in flight) and
 * listeners (multishot accept).  See backend_uring.c for the whole design.
 */
#include "internal.h"

#ifdef SK_HAVE_URING /* the file is globbed into every build */
#include "uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define UR_BGID 0         /* our only buffer group */
/* Incremental buffers: few and large (a stream recv fills one). */
#define UR_INC_NBUFS 16
#define UR_INC_BUFSZ (128 * 1024)
/* Whole buffers: one per recv, so more of them. */
#define UR_FULL_NBUFS 512
#define UR_FULL_BUFSZ (8 * 1024)
#define UR_MAX_SEND (1u << 30)
#define UR_SEND_FLAGS (MSG_NOSIGNAL | MSG_WAITALL)

/* Per-connection state lives in fields the readiness watcher does not use
 * once the connection is driven by us: c->io.spare holds these flags and
 * c->io.bidx the submission epoch of the last SQE queued for the fd. */
#define CF_RECV 0x01u    /* multishot recv in flight */
#define CF_RCANCEL 0x02u /* ... and being cancelled */
#define CF_SEND 0x04u    /* send in flight (c->drv is its record) */
#define CF_STOP 0x08u    /* conn_stop: only waiting for the last CQEs */
#define CF_FLUSHQ 0x10u  /* in u->fq (c->drv holds index + 1) */

/* ---- provided buffers ------------------------------------------------------ */

static void pool_free(struct ur *u)
{
	if (u->br)
		munmap(u->br, u->brsize);
	if (u->bufs)
		munmap(u->bufs, u->bsize);
	free(u->boff);
	u->br = NULL;
	u->bufs = NULL;
	u->boff = NULL;
	u->bready = false;
}

static void pool_add(struct ur *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->bufsz, u->bufsz,
			      (unsigned short)bid, (int)u->bmask,
			      (int)u->bpending++);
}

/* Hand the buffers recycled since the last call back to the kernel. */
void sk__ur_pool_publish(struct ur *u)
{
	if (u->bpending) {
		io_uring_buf_ring_advance(u->br, (int)u->bpending);
		u->bpending = 0;
	}
}

static int pool_try(struct ur *u, bool inc, bool populate)
{
	u->binc = inc;
	u->nbufs = inc ? UR_INC_NBUFS : UR_FULL_NBUFS;
	u->bufsz = inc ? UR_INC_BUFSZ : UR_FULL_BUFSZ;
	u->bmask = u->nbufs - 1;
	u->brsize = u->nbufs * sizeof(struct io_uring_buf);
	u->bsize = (size_t)u->nbufs * u->bufsz;
	u->br = mmap(NULL, u->brsize, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED) {
		u->br = NULL;
		return SK_ENOMEM;
	}
	u->bufs = mmap(NULL, u->bsize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0),
		       -1, 0);
	if (u->bufs == MAP_FAILED) {
		u->bufs = NULL;
		pool_free(u);
		return SK_ENOMEM;
	}
	if (inc) {
		u->boff = calloc(u->nbufs, sizeof *u->boff);
		if (!u->boff) {
			pool_free(u);
			return SK_ENOMEM;
		}
	}
	io_uring_buf_ring_init(u->br);
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof reg);
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = u->nbufs;
	reg.bgid = UR_BGID;
	reg.pad = inc ? UR_PBUF_RING_INC : 0; /* the flags field in newer headers */
	int r = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (r < 0) {
		pool_free(u);
		return r;
	}
	u->bpending = 0;
	for (unsigned i = 0; i < u->nbufs; i++)
		pool_add(u, i);
	sk__ur_pool_publish(u);
	u->bready = true;
	return 0;
}

/* The receive buffers, made on first use.  A listener pre-faults them, so
 * a server pays for its pages up front rather than on its first
 * connections. */
static int pool_init(struct ur *u, bool populate)
{
	if (u->bready)
		return 0;
	int r = pool_try(u, true, populate);
	if (r == SK_EINVAL)
		r = pool_try(u, false, populate);
	return r < 0 ? r : 0;
}

/* The bytes of a recv completion (res > 0). */
static const uint8_t *pool_data(struct ur *u, const struct ur_cqe *e)
{
	unsigned bid = e->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= u->nbufs)
		return NULL;
	const uint8_t *p = u->bufs + (size_t)bid * u->bufsz;
	return u->binc ? p + u->boff[bid] : p;
}

/* After the bytes were used: give the buffer back if the kernel is done
 * with it.  Not before: a submit made from the callback (ring full) could
 * otherwise hand it to a recv while the program still reads it.  It
 * reaches the kernel with the next sk__ur_pool_publish, after the batch. */
static void pool_release(struct ur *u, const struct ur_cqe *e)
{
	unsigned bid = e->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= u->nbufs)
		return;
	if (u->binc) {
		if (e->flags & IORING_CQE_F_BUF_MORE) {
			u->boff[bid] += (uint32_t)e->res;
			return;
		}
		u->boff[bid] = 0;
	}
	pool_add(u, bid);
}

/* A recv that ended without data may still have consumed a whole buffer
 * (never an incremental one: no bytes, nothing used). */
static void pool_drop(struct ur *u, const struct ur_cqe *e)
{
	if (!(e->flags & IORING_CQE_F_BUFFER) || u->binc)
		return;
	unsigned bid = e->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid < u->nbufs)
		pool_add(u, bid);
}

/* ---- connections ----------------------------------------------------------- */

static unsigned cflags(const sk_conn *c) { return c->io.spare; }
static void cset(sk_conn *c, unsigned f) { c->io.spare |= (uint8_t)f; }
static void cclr(sk_conn *c, unsigned f) { c->io.spare &= (uint8_t)~f; }

/* Mark that an SQE naming c's fd is queued and not yet submitted. */
static void queued(struct ur *u, sk_conn *c) { c->io.bidx = (int)u->epoch; }

static bool want_recv(const sk_conn *c)
{
	return !(cflags(c) & CF_STOP) &&
	       !(c->flags & (SK__C_READ_OFF | SK__C_EOF | SK__C_DEAD));
}

static int recv_arm(struct ur *u, sk_conn *c)
{
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe)
		return SK_ENOMEM;
	io_uring_prep_recv_multishot(sqe, c->io.fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UR_BGID;
	io_uring_sqe_set_data64(sqe, UD_CONN(c, K_RECV));
	c->drv_ops++;
	cset(c, CF_RECV);
	queued(u, c);
	return 0;
}

static struct ur_tx *tx_get(struct ur *u)
{
	struct ur_tx *t = u->tx_free;
	if (t) {
		u->tx_free = t->next;
		return t;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->all_next = u->tx_all;
	u->tx_all = t;
	return t;
}

/* The send is over: its storage goes (a later write allocates afresh, so
 * an idle connection holds nothing); the record is kept for reuse. */
static void tx_put(struct ur *u, sk_conn *c)
{
	struct ur_tx *t = c->drv;
	c->drv = NULL;
	sk_buf_free(&t->buf);
	t->next = u->tx_free;
	u->tx_free = t;
}

static void send_submit(struct ur *u, sk_conn *c)
{
	struct ur_tx *t = c->drv;
	size_t n = t->buf.len < UR_MAX_SEND ? t->buf.len : UR_MAX_SEND;
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe) {
		tx_put(u, c);
		sk__conn_fail(c, SK_ENOMEM);
		return;
	}
	/* MSG_WAITALL: the kernel finishes a short send itself, so one CQE
	 * per buffer unless the connection fails. */
	io_uring_prep_send(sqe, c->io.fd, sk_buf_data(&t->buf), n,
			   UR_SEND_FLAGS);
	io_uring_sqe_set_data64(sqe, UD_CONN(c, K_SEND));
	c->drv_ops++;
	cset(c, CF_SEND);
	queued(u, c);
}

/* Take all of c->out into a send.  c->out keeps its limit and starts over
 * empty, so writes made while the send is in flight never move its bytes. */
static void send_start(struct ur *u, sk_conn *c)
{
	struct ur_tx *t = tx_get(u);
	if (!t) {
		sk__conn_fail(c, SK_ENOMEM);
		return;
	}
	t->buf = c->out;
	sk_buf_init(&c->out, t->buf.max);
	c->out_inflight += (uint32_t)t->buf.len;
	c->drv = t;
	send_submit(u, c);
}

/* Output is queued: send it with the next submit, together with whatever
 * else is written before then (one send per connection and iteration, not
 * one per write).  While a send is in flight its completion does this. */
void sk__ur_conn_flush(sk_conn *c)
{
	struct ur *u = sk__ur(c->loop);
	if ((cflags(c) & (CF_SEND | CF_STOP | CF_FLUSHQ)) || c->out.len == 0 ||
	    (c->flags & SK__C_DEAD))
		return;
	if (u->nfq == u->capfq) {
		uint32_t n = u->capfq ? u->capfq * 2 : 64;
		sk_conn **q = realloc(u->fq, n * sizeof *q);
		if (!q) {
			send_start(u, c); /* no room to wait: send now */
			return;
		}
		u->fq = q;
		u->capfq = n;
	}
	u->fq[u->nfq++] = c;
	c->drv = (void *)(uintptr_t)u->nfq;
	cset(c, CF_FLUSHQ);
}

/* Just before a submit: turn the queued output into sends. */
void sk__ur_flush_queued(struct ur *u)
{
	/* Sends started here never queue again (CF_SEND), so the array
	 * does not grow under us. */
	for (uint32_t i = 0; i < u->nfq; i++) {
		sk_conn *c = u->fq[i];
		if (!c)
			continue; /* stopped meanwhile */
		cclr(c, CF_FLUSHQ);
		c->drv = NULL;
		if (c->out.len && !(c->flags & SK__C_DEAD))
			send_start(u, c);
	}
	u->nfq = 0;
}

/* A stopped connection leaves the queue (it may be freed before the next
 * submit). */
static void fq_remove(struct ur *u, sk_conn *c)
{
	if (!(cflags(c) & CF_FLUSHQ))
		return;
	uintptr_t i = (uintptr_t)c->drv;
	if (i >= 1 && i <= u->nfq && u->fq[i - 1] == c)
		u->fq[i - 1] = NULL;
	cclr(c, CF_FLUSHQ);
	c->drv = NULL;
}

int sk__ur_conn_start(sk_conn *c)
{
	struct ur *u = sk__ur(c->loop);
	int r = pool_init(u, false);
	if (r < 0)
		return r;
	c->io.spare = 0;
	c->io.bidx = (int)(u->epoch - 1);
	c->drv = NULL;
	if (want_recv(c))
		return recv_arm(u, c);
	return 0;
}

void sk__ur_conn_read(sk_conn *c, bool on)
{
	struct ur *u = sk__ur(c->loop);
	unsigned f = cflags(c);
	if (f & CF_STOP)
		return;
	if (!on) {
		/* Cancel now, not at the next wait: until the cancel runs
		 * the kernel goes on reading into our buffers, and all of
		 * that must still be handed to conn.c (read-ahead). */
		if ((f & CF_RECV) && !(f & CF_RCANCEL)) {
			sk__ur_cancel(u, UD_CONN(c, K_RECV));
			cset(c, CF_RCANCEL);
			sk__ur_settle(u);
		}
		return;
	}
	/* A recv being cancelled is re-armed by its last CQE. */
	if (!(f & CF_RECV) && want_recv(c) && recv_arm(u, c) < 0)
		sk__conn_fail(c, SK_ENOMEM);
}

/* conn.c closes the fd right after this returns.  Two things must happen
 * first: an SQE still queued for the fd must be submitted (later it would
 * name whatever file gets that number next), and operations in flight
 * must be cancelled and completed, or they would keep the socket open
 * (no FIN, no RST) after close().  Both need an enter now, but only when
 * something is in flight: a connection ended by the peer's EOF has
 * nothing left and costs nothing. */
void sk__ur_conn_stop(sk_conn *c)
{
	struct ur *u = sk__ur(c->loop);
	unsigned f = cflags(c);
	bool enter = c->io.bidx == (int)u->epoch;
	if (f & CF_STOP)
		return;
	fq_remove(u, c);
	cset(c, CF_STOP);
	if ((f & CF_RECV) && !(f & CF_RCANCEL)) {
		sk__ur_cancel(u, UD_CONN(c, K_RECV));
		enter = true;
	}
	if (f & CF_RCANCEL)
		enter = true;
	if (f & CF_SEND) {
		sk__ur_cancel(u, UD_CONN(c, K_SEND));
		enter = true;
	}
	if (enter)
		sk__ur_settle(u);
}

/* An operation of c ended: the last one of a stopped connection lets
 * conn.c free it. */
static void op_done(sk_conn *c)
{
	c->drv_ops--;
	if (c->drv_ops == 0 && (cflags(c) & CF_STOP))
		sk__conn_driver_done(c);
}

int sk__ur_on_recv(struct ur *u, const struct ur_cqe *e)
{
	sk_conn *c = UD_PTR(e->ud);
	bool more = (e->flags & IORING_CQE_F_MORE) != 0;
	bool live = !(cflags(c) & CF_STOP) && !(c->flags & SK__C_DEAD);
	int n = 0;
	if (!more)
		cclr(c, CF_RECV | CF_RCANCEL);
	if (e->res > 0) {
		const uint8_t *p = pool_data(u, e);
		if (live && p) {
			sk__conn_input(c, p, (size_t)e->res);
			n = 1;
		}
		pool_release(u, e);
	} else {
		pool_drop(u, e);
		if (live && e->res == 0) {
			sk__conn_eof(c);
			n = 1;
		} else if (live && e->res != -ENOBUFS && e->res != -ECANCELED) {
			/* ENOBUFS: the buffers ran out for a moment; the
			 * recv is re-armed below. */
			sk__conn_fail(c, e->res);
			n = 1;
		}
	}
	if (!more) {
		if (!(cflags(c) & CF_RECV) && want_recv(c) && e->res != 0 &&
		    recv_arm(u, c) < 0)
			sk__conn_fail(c, SK_ENOMEM);
		op_done(c);
	}
	return n;
}

int sk__ur_on_send(struct ur *u, const struct ur_cqe *e)
{
	sk_conn *c = UD_PTR(e->ud);
	struct ur_tx *t = c->drv;
	cclr(c, CF_SEND);
	if ((cflags(c) & CF_STOP) || (c->flags & SK__C_DEAD)) {
		tx_put(u, c);
		op_done(c);
		return 0;
	}
	if (e->res < 0) {
		tx_put(u, c);
		c->drv_ops--;
		sk__conn_fail(c, e->res == -ECANCELED ? SK_ECANCELED : e->res);
		return 1;
	}
	size_t n = (size_t)e->res;
	sk_buf_consume(&t->buf, n);
	c->drv_ops--;
	if (t->buf.len)
		send_submit(u, c);  /* the rest of a send cut short */
	else
		tx_put(u, c);
	/* May write more (flush), close (stop), or finish a graceful close. */
	sk__conn_sent(c, n);
	sk__ur_conn_flush(c); /* what was written meanwhile */
	if (c->drv_ops == 0 && (cflags(c) & CF_STOP))
		sk__conn_driver_done(c);
	return 1;
}

/* ---- listeners ---------------------------------------------------------------- */

static int accept_arm(struct ur *u, uint32_t idx)
{
	struct ur_slot *s = &u->slots[idx];
	sk_listener *l = s->obj;
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe)
		return SK_ENOMEM;
	s->gen = (s->gen + 1) & UD_GEN_MASK;
	io_uring_prep_multishot_accept(sqe, l->io.fd, NULL, NULL,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UD_SLOT(idx, s->gen, K_ACCEPT));
	s->armed = 1;
	s->mask = 0;
	return 0;
}

/* Out of fds or memory: accepting again at once would fail again at once.
 * Wait a little (a kernel timeout, no timer of ours), then re-arm. */
static int accept_pause(struct ur *u, uint32_t idx)
{
	static struct __kernel_timespec ts = {0, 100 * 1000 * 1000};
	struct ur_slot *s = &u->slots[idx];
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe)
		return SK_ENOMEM;
	s->gen = (s->gen + 1) & UD_GEN_MASK;
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, UD_SLOT(idx, s->gen, K_ACCEPT_WAIT));
	s->armed = 1;
	s->mask = 1;
	return 0;
}

int sk__ur_listen_start(sk_listener *l)
{
	struct ur *u = sk__ur(l->loop);
	int r = pool_init(u, true);
	if (r < 0)
		return r;
	uint32_t idx = sk__ur_slot_get(u, l);
	if (idx == SLOT_NONE)
		return SK_ENOMEM;
	/* l->drv is listener.c's; the unused readiness slot field is ours. */
	l->io.bidx = (int)idx;
	r = accept_arm(u, idx);
	if (r < 0) {
		sk__ur_slot_put(u, idx);
		l->io.bidx = -1;
	}
	return r;
}

void sk__ur_listen_stop(sk_listener *l)
{
	struct ur *u = sk__ur(l->loop);
	if (l->io.bidx < 0)
		return;
	uint32_t idx = (uint32_t)l->io.bidx;
	/* The caller closes the fd next: see sk__ur_conn_stop.  A listener
	 * whose accept outlived close() would go on taking connections. */
	sk__ur_slot_disarm(u, idx, u->slots[idx].mask ? K_ACCEPT_WAIT : K_ACCEPT);
	sk__ur_slot_put(u, idx);
	sk__ur_settle(u);
	l->io.bidx = -1;
}

/* Errors that concern one connection only: accept the next one at once.
 * Anything else (out of fds or memory, a broken listening socket) would
 * fail again at once. */
static bool accept_retry_now(int err)
{
	return err >= 0 || err == -ECONNABORTED || err == -EINTR ||
	       err == -EAGAIN || err == -EPROTO || err == -EPERM ||
	       err == -ECANCELED;
}

int sk__ur_on_accept(struct ur *u, const struct ur_cqe *e)
{
	sk_listener *l = sk__ur_slot_current(u, e->ud);
	bool more = (e->flags & IORING_CQE_F_MORE) != 0;
	if (!l) {
		/* Stopped already: nobody wants this connection. */
		if (e->res >= 0)
			close(e->res);
		return 0;
	}
	uint32_t idx = UD_IDX(e->ud);
	if (!more)
		u->slots[idx].armed = 0;
	if (e->res >= 0)
		sk__listener_accepted(l, e->res);
	else if (e->res != -ECANCELED)
		sk__listener_error(l, e->res);
	/* Still listening (the callbacks may have closed it)? */
	struct ur_slot *s = &u->slots[idx];
	if (!more && s->obj == l && !s->armed) {
		int r = accept_retry_now(e->res) ? accept_arm(u, idx)
						 : accept_pause(u, idx);
		if (r < 0)
			sk__listener_error(l, r);
	}
	return 1;
}

int sk__ur_on_accept_wait(struct ur *u, const struct ur_cqe *e)
{
	if (!sk__ur_slot_current(u, e->ud))
		return 0;
	uint32_t idx = UD_IDX(e->ud);
	u->slots[idx].armed = 0;
	if (accept_arm(u, idx) < 0)
		sk__listener_error(u->slots[idx].obj, SK_ENOMEM);
	return 0;
}

/* The loop is going: the buffers and every send record (a connection
 * freed at teardown may still point at one). */
void sk__ur_stream_fini(struct ur *u)
{
	free(u->fq);
	pool_free(u);
	while (u->tx_all) {
		struct ur_tx *t = u->tx_all;
		u->tx_all = t->all_next;
		sk_buf_free(&t->buf);
		free(t);
	}
}

#else
typedef int sk__uring_stream_unused; /* ISO C wants something here */
#endif /* SK_HAVE_URING */
