/*
 * backend_uring.c - Linux io_uring: the ring, fd watchers and the wait.
 * Connections, listeners and the receive buffers are in uring_stream.c.
 *
 * The point of this backend is fewer system calls per message.  Each loop
 * iteration makes one io_uring_enter that submits everything queued since
 * the last one (sends, poll and recv re-arms, cancels) and waits for
 * completions; the fast path makes no other system call.
 *
 *  - Streams (the conn_* hooks): one multishot recv per connection on a
 *    ring of provided buffers shared by the whole loop, and at most one
 *    send in flight per connection.  Output is sent just before the next
 *    submit, so all the writes of an iteration go in one send.  The send
 *    takes c->out's storage (the bytes must not move while the kernel may
 *    still read them) and leaves c->out empty for new writes, which go
 *    out in one send when the current one completes.  (conn.c sends
 *    writes of SK__DIRECT_SEND_MIN bytes or more itself when nothing is
 *    queued: for those a copy into the queue costs more than the system
 *    call.)
 *  - Listeners: multishot accept.
 *  - Plain fd watchers: single-shot POLL_ADD re-armed after each dispatch
 *    while the watcher still wants events.  Arming a poll checks the
 *    condition at once, so this is exactly level-triggered.
 *
 * Naming operations.  The CQE of a cancelled operation can arrive several
 * iterations after its owner was freed.  A connection is not freed before
 * its last CQE (c->drv_ops counts them; sk__conn_driver_done), so its
 * operations carry the sk_conn pointer.  Watchers and listeners have no
 * such hold: their operations carry a slot index plus a generation, and a
 * CQE whose generation is not the slot's current one is stale.
 *
 * Closing.  A request in flight holds a reference to its file, so close()
 * alone would leave the socket open (no FIN, a listener still accepting).
 * Stopping anything with a request in flight therefore cancels it and
 * settles at once (one extra enter), before the owner closes the fd; the
 * common end of a connection, the peer's EOF, has nothing in flight and
 * costs nothing.
 *
 * Buffers.  On kernels with incremental buffer consumption (6.12) a few
 * large buffers (16 x 128 KiB) are shared by all connections, each recv
 * taking only the bytes it needs, so a thousand 64-byte messages use 64
 * KiB, not a thousand buffers.  Otherwise more, smaller buffers are used
 * whole.  The bytes are only lent to sk__conn_input; conn.c copies what
 * the program leaves unconsumed, so the buffer goes back to the kernel
 * after the batch.  An idle connection holds no memory here.  Input the
 * kernel had already read when the program called sk_conn_read_stop is
 * still handed over (conn.c keeps it as read-ahead).
 *
 * Threads.  The ring is made SINGLE_ISSUER|DEFER_TASKRUN (completions run
 * only when we wait for them: batched, no interruptions) and disabled; it
 * is enabled by the first wait, so it belongs to the thread that runs the
 * loop, which need not be the one that made it (sk_threads).  Older
 * kernels get COOP_TASKRUN or nothing; kernels before 6.3 get epoll.
 */
#include "uring.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* ---- submission -------------------------------------------------------------- */

/* Enable the ring on this thread: from now on only it may submit. */
static int ur_enable(struct ur *u)
{
	if (u->enabled)
		return 0;
	if (u->disabled_at_init) {
		int r = io_uring_register(u->ring.ring_fd,
					  IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		if (r < 0)
			return r;
	}
	u->enabled = true;
	u->owner = pthread_self();
	/* Saves an fd lookup per enter.  At most 16 per thread: optional. */
	if (io_uring_register_ring_fd(&u->ring) == 1)
		u->regfd = true;
	return 0;
}

static int ur_submit(struct ur *u)
{
	int r = ur_enable(u);
	if (r < 0)
		return r;
	r = io_uring_submit(&u->ring);
	u->epoch++;
	return r;
}

/* Submit, and run the completions this makes (and any others pending).
 * A cancelled request lets go of its file only when its completion runs,
 * which with DEFER_TASKRUN is at the next enter that gets events; the fd
 * is only really closed (FIN sent, listener gone) after that. */
void sk__ur_settle(struct ur *u)
{
	if (ur_enable(u) < 0)
		return;
	(void)io_uring_submit_and_get_events(&u->ring);
	u->epoch++;
}

/* An SQE, submitting what is queued if the ring is full.  NULL only if
 * the kernel refuses submissions. */
struct io_uring_sqe *sk__ur_sqe(struct ur *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		(void)ur_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Queue a cancel of the operation named ud (no CQE unless it fails, and a
 * failure means there was nothing left to cancel). */
void sk__ur_cancel(struct ur *u, uint64_t ud)
{
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, K_NONE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* ---- slots ------------------------------------------------------------------- */

uint32_t sk__ur_slot_get(struct ur *u, void *obj)
{
	if (u->free_slot == SLOT_NONE) {
		uint32_t n = u->nslots ? u->nslots * 2 : 64;
		struct ur_slot *s = realloc(u->slots, n * sizeof *s);
		if (!s)
			return SLOT_NONE;
		for (uint32_t i = u->nslots; i < n; i++) {
			s[i].obj = NULL;
			s[i].gen = 0;
			s[i].armed = 0;
			s[i].mask = 0;
			s[i].next = i + 1 < n ? i + 1 : SLOT_NONE;
		}
		u->free_slot = u->nslots;
		u->slots = s;
		u->nslots = n;
	}
	uint32_t idx = u->free_slot;
	struct ur_slot *s = &u->slots[idx];
	u->free_slot = s->next;
	s->obj = obj;
	s->armed = 0;
	s->mask = 0;
	return idx;
}

/* Forget whatever the slot had in flight: its CQEs become stale. */
void sk__ur_slot_disarm(struct ur *u, uint32_t idx, unsigned kind)
{
	struct ur_slot *s = &u->slots[idx];
	if (s->armed)
		sk__ur_cancel(u, UD_SLOT(idx, s->gen, kind));
	s->armed = 0;
	s->gen = (s->gen + 1) & UD_GEN_MASK;
}

void sk__ur_slot_put(struct ur *u, uint32_t idx)
{
	struct ur_slot *s = &u->slots[idx];
	s->obj = NULL;
	s->gen = (s->gen + 1) & UD_GEN_MASK;
	s->next = u->free_slot;
	u->free_slot = idx;
}

/* The slot's object if ud is its current operation, else NULL. */
void *sk__ur_slot_current(struct ur *u, uint64_t ud)
{
	uint32_t idx = UD_IDX(ud);
	if (idx >= u->nslots)
		return NULL;
	struct ur_slot *s = &u->slots[idx];
	if (!s->obj || !s->armed || s->gen != UD_GEN(ud))
		return NULL;
	return s->obj;
}

/* ---- fd watchers ---------------------------------------------------------- */

static int poll_arm(struct ur *u, uint32_t idx, unsigned events)
{
	struct ur_slot *s = &u->slots[idx];
	sk_io *io = s->obj;
	struct io_uring_sqe *sqe = sk__ur_sqe(u);
	if (!sqe)
		return SK_ENOMEM;
	unsigned mask = ((events & SK_READ) ? POLLIN | POLLRDHUP : 0) |
			((events & SK_WRITE) ? POLLOUT : 0);
	s->gen = (s->gen + 1) & UD_GEN_MASK;
	io_uring_prep_poll_add(sqe, io->fd, mask);
	io_uring_sqe_set_data64(sqe, UD_SLOT(idx, s->gen, K_POLL));
	s->armed = 1;
	s->mask = (uint8_t)events;
	io->kevents = (uint8_t)events;
	return 0;
}

static int ur_update(sk_loop *loop, sk_io *io, unsigned old)
{
	struct ur *u = sk__ur(loop);
	unsigned ev = io->events & (SK_READ | SK_WRITE);
	(void)old;
	if (ev == 0) {
		if (io->bidx >= 0) {
			bool armed = u->slots[io->bidx].armed;
			sk__ur_slot_disarm(u, (uint32_t)io->bidx, K_POLL);
			sk__ur_slot_put(u, (uint32_t)io->bidx);
			io->bidx = -1;
			/* The owner may close the fd next (sk__io_stop): a
			 * poll still in flight would keep the file open
			 * (a UDP port bound, a connect going on), and a
			 * queued poll would name the next file to get the
			 * number.  See sk__ur_conn_stop. */
			if (armed)
				sk__ur_settle(u);
		}
		io->flags &= (uint8_t)~SK__IO_ADDED;
		io->kevents = 0;
		return 0;
	}
	if (io->bidx < 0) {
		uint32_t idx = sk__ur_slot_get(u, io);
		if (idx == SLOT_NONE)
			return SK_ENOMEM;
		io->bidx = (int)idx;
	}
	uint32_t idx = (uint32_t)io->bidx;
	struct ur_slot *s = &u->slots[idx];
	io->flags |= SK__IO_ADDED;
	if (s->armed && s->mask == ev)
		return 0;
	/* Changed interest: replace the poll (the old one's CQE, if it has
	 * already fired, is stale by generation and dropped). */
	sk__ur_slot_disarm(u, idx, K_POLL);
	int r = poll_arm(u, idx, ev);
	if (r < 0) {
		sk__ur_slot_put(u, idx);
		io->bidx = -1;
		io->flags &= (uint8_t)~SK__IO_ADDED;
		io->kevents = 0;
	}
	return r;
}

static unsigned poll_revents(int res)
{
	if (res < 0)
		return SK_ERROR; /* e.g. EBADF: the fd is gone */
	unsigned rev = 0;
	if (res & (POLLIN | POLLPRI))
		rev |= SK_READ;
	if (res & POLLOUT)
		rev |= SK_WRITE;
	if (res & (POLLRDHUP | POLLHUP))
		rev |= SK__EV_HUP | SK_READ;
	if (res & (POLLERR | POLLHUP))
		rev |= SK_ERROR;
	return rev;
}

static int on_poll(struct ur *u, const struct ur_cqe *e)
{
	sk_io *io = sk__ur_slot_current(u, e->ud);
	if (!io)
		return 0;
	uint32_t idx = UD_IDX(e->ud);
	u->slots[idx].armed = 0;
	io->kevents = 0;
	sk__io_dispatch(io, poll_revents(e->res));
	/* Level-triggered: look again while the watcher still wants events
	 * (unless the callback already re-armed or removed it; the slot
	 * array may have moved).  A failed poll (bad fd) is reported once:
	 * re-arming it would fail again at once, forever. */
	struct ur_slot *s = &u->slots[idx];
	if (e->res >= 0 && s->obj == io && !s->armed &&
	    !(io->flags & SK__IO_DEAD) && (io->events & (SK_READ | SK_WRITE))) {
		if (poll_arm(u, idx, io->events & (SK_READ | SK_WRITE)) < 0)
			sk__io_dispatch(io, SK_ERROR);
	}
	return 1;
}

/* ---- the loop ------------------------------------------------------------------ */

static int dispatch(struct ur *u, const struct ur_cqe *e)
{
	switch (UD_KIND(e->ud)) {
	case K_POLL:
		return on_poll(u, e);
	case K_ACCEPT:
		return sk__ur_on_accept(u, e);
	case K_ACCEPT_WAIT:
		return sk__ur_on_accept_wait(u, e);
	case K_RECV:
		return sk__ur_on_recv(u, e);
	case K_SEND:
		return sk__ur_on_send(u, e);
	default:
		return 0;
	}
}

/* Handle the completions that are ready.  They are copied out and the CQ
 * slots released before any callback runs, so callbacks may submit freely;
 * the number of rounds is bounded so a busy loop still comes back to its
 * timers. */
static int reap(struct ur *u)
{
	struct io_uring_cqe *cqes[UR_BATCH];
	int n = 0;
	for (int round = 0; round < UR_CQ_ENTRIES / UR_BATCH; round++) {
		unsigned got = io_uring_peek_batch_cqe(&u->ring, cqes, UR_BATCH);
		if (got == 0)
			break;
		for (unsigned i = 0; i < got; i++) {
			u->batch[i].ud = cqes[i]->user_data;
			u->batch[i].res = cqes[i]->res;
			u->batch[i].flags = cqes[i]->flags;
		}
		io_uring_cq_advance(&u->ring, got);
		for (unsigned i = 0; i < got; i++)
			n += dispatch(u, &u->batch[i]);
		sk__ur_pool_publish(u);
		if (got < UR_BATCH)
			break;
	}
	return n;
}

static int ur_wait(sk_loop *loop, int timeout_ms)
{
	struct ur *u = sk__ur(loop);
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	int r = ur_enable(u);
	if (r < 0)
		return r;
	sk__ur_flush_queued(u);
	sk__ur_pool_publish(u);
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	/* One enter: submit the queue, wait for one completion or the
	 * timeout.  Completions already waiting need no wait. */
	r = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, tsp, NULL);
	u->epoch++;
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN &&
	    r != -EBUSY)
		return r;
	return reap(u);
}

static int ur_init(sk_loop *loop)
{
	/* Best first; a kernel that refuses a flag gets the next set. */
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			IORING_SETUP_R_DISABLED,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct ur *u = calloc(1, sizeof *u);
	if (!u)
		return SK_ENOMEM;
	int r = -EINVAL;
	for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof p);
		p.flags = tries[i] | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
		p.cq_entries = UR_CQ_ENTRIES;
		r = io_uring_queue_init_params(UR_SQ_ENTRIES, &u->ring, &p);
		if (r == 0) {
			u->disabled_at_init = (p.flags & IORING_SETUP_R_DISABLED) != 0;
			break;
		}
		if (r != -EINVAL)
			break;
	}
	if (r < 0) {
		free(u);
		return SK_EBACKEND; /* not here (seccomp, sysctl, old kernel) */
	}
	/* We need the timeout argument to enter (5.11), multishot accept
	 * (5.19) and multishot recv (6.0); a kernel that can register the
	 * ring fd for register calls (6.3) has them all. */
	if (!(u->ring.features & IORING_FEAT_EXT_ARG) ||
	    !(u->ring.features & UR_FEAT_REG_REG_RING)) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return SK_EBACKEND;
	}
	u->free_slot = SLOT_NONE;
	loop->bdata = u;
	return 0;
}

static void ur_fini(sk_loop *loop)
{
	struct ur *u = sk__ur(loop);
	/* A registered ring fd lives in its thread's table: only that
	 * thread may unregister it (another thread's entry at the same
	 * index could be a different ring).  If that thread is gone its
	 * table went with it. */
	if (u->regfd && !pthread_equal(u->owner, pthread_self()))
		u->ring.int_flags &= (uint8_t)~1u; /* liburing INT_FLAG_REG_RING */
	io_uring_queue_exit(&u->ring);
	sk__ur_stream_fini(u);
	free(u->slots);
	free(u);
	loop->bdata = NULL;
}

const struct sk__backend sk__backend_uring = {
	.name = "uring",
	.edge = false,
	.init = ur_init,
	.fini = ur_fini,
	.update = ur_update,
	.wait = ur_wait,
	.conn_start = sk__ur_conn_start,
	.conn_flush = sk__ur_conn_flush,
	.conn_read = sk__ur_conn_read,
	.conn_stop = sk__ur_conn_stop,
	.listen_start = sk__ur_listen_start,
	.listen_stop = sk__ur_listen_stop,
};
