/*
 * backend_poll.c - portable poll(2).  Every watcher is level-triggered and
 * registered for exactly what it wants (SK__IO_EDGE is ignored).  Watchers
 * sit in a dense pollfd array; removal swaps the last one into the hole.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

struct pl {
	struct pollfd *pfd;
	sk_io **io;
	size_t n, cap;
};

static int pl_init(sk_loop *loop)
{
	struct pl *pl = calloc(1, sizeof *pl);
	if (!pl)
		return SK_ENOMEM;
	loop->bdata = pl;
	return 0;
}

static void pl_fini(sk_loop *loop)
{
	struct pl *pl = loop->bdata;
	free(pl->pfd);
	free(pl->io);
	free(pl);
}

static short to_poll(unsigned ev)
{
	return (short)(((ev & SK_READ) ? POLLIN | POLLRDHUP : 0) |
		       ((ev & SK_WRITE) ? POLLOUT : 0));
}

static int pl_update(sk_loop *loop, sk_io *io, unsigned old)
{
	struct pl *pl = loop->bdata;
	if (io->events == 0) {
		if (io->bidx < 0)
			return 0;
		size_t i = (size_t)io->bidx, last = --pl->n;
		if (i != last) {
			pl->pfd[i] = pl->pfd[last];
			pl->io[i] = pl->io[last];
			pl->io[i]->bidx = (int)i;
		}
		io->bidx = -1;
		io->flags &= (uint8_t)~SK__IO_ADDED;
		return 0;
	}
	if (io->bidx < 0) {
		if (pl->n == pl->cap) {
			size_t cap = pl->cap ? pl->cap * 2 : 64;
			struct pollfd *p = realloc(pl->pfd, cap * sizeof *p);
			if (!p)
				return SK_ENOMEM;
			pl->pfd = p;
			sk_io **q = realloc(pl->io, cap * sizeof *q);
			if (!q)
				return SK_ENOMEM;
			pl->io = q;
			pl->cap = cap;
		}
		io->bidx = (int)pl->n++;
		pl->io[io->bidx] = io;
		pl->pfd[io->bidx].fd = io->fd;
		pl->pfd[io->bidx].revents = 0;
		io->flags |= SK__IO_ADDED;
	}
	pl->pfd[io->bidx].events = to_poll(io->events);
	return 0;
}

static int pl_wait(sk_loop *loop, int timeout_ms)
{
	struct pl *pl = loop->bdata;
	int n = poll(pl->pfd, (nfds_t)pl->n, timeout_ms);
	if (n <= 0)
		return n < 0 && errno != EINTR ? sk__errno() : 0;
	/* Callbacks may add (appended past `end`) or remove (swap) watchers;
	 * a watcher moved into an already visited slot waits one round,
	 * which level triggering makes harmless. */
	size_t end = pl->n;
	int done = 0;
	for (size_t i = 0; i < end && i < pl->n; i++) {
		short e = pl->pfd[i].revents;
		if (!e)
			continue;
		pl->pfd[i].revents = 0;
		unsigned rev = 0;
		if (e & (POLLIN | POLLPRI))
			rev |= SK_READ;
		if (e & POLLOUT)
			rev |= SK_WRITE;
		if (e & (POLLRDHUP | POLLHUP))
			rev |= SK__EV_HUP | SK_READ;
		if (e & (POLLERR | POLLHUP | POLLNVAL))
			rev |= SK_ERROR;
		sk__io_dispatch(pl->io[i], rev);
		done++;
	}
	return done;
}

const struct sk__backend sk__backend_poll = {
	.name = "poll",
	.edge = false,
	.init = pl_init,
	.fini = pl_fini,
	.update = pl_update,
	.wait = pl_wait,
};
