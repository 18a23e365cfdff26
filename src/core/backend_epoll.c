/*
 * backend_epoll.c - Linux epoll.
 *
 * Plain watchers are level-triggered and registered for exactly what they
 * want.  Connection watchers (SK__IO_EDGE) are registered once, for
 * IN|OUT|RDHUP edge-triggered, and never modified: the steady state of a
 * connection costs no epoll_ctl at all (the connection code tracks what it
 * wants itself).  Events for a watcher freed earlier in the same batch are
 * dropped by the DEAD flag; its memory lives until the iteration ends.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct ep {
	int fd;
	struct epoll_event ev[MAX_EVENTS];
};

static int ep_init(sk_loop *loop)
{
	struct ep *ep = malloc(sizeof *ep);
	if (!ep)
		return SK_ENOMEM;
	ep->fd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->fd < 0) {
		int r = sk__errno();
		free(ep);
		return r;
	}
	loop->bdata = ep;
	return 0;
}

static void ep_fini(sk_loop *loop)
{
	struct ep *ep = loop->bdata;
	close(ep->fd);
	free(ep);
}

static int ep_update(sk_loop *loop, sk_io *io, unsigned old)
{
	struct ep *ep = loop->bdata;
	struct epoll_event ev = {0};
	int op;
	ev.data.ptr = io;
	if (io->events == 0) {
		if (!(io->flags & SK__IO_ADDED))
			return 0;
		/* Ignore errors: the fd may be closed already by its owner. */
		epoll_ctl(ep->fd, EPOLL_CTL_DEL, io->fd, &ev);
		io->flags &= (uint8_t)~SK__IO_ADDED;
		io->kevents = 0;
		return 0;
	}
	if (io->flags & SK__IO_EDGE) {
		if (io->flags & SK__IO_ADDED)
			return 0;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		op = EPOLL_CTL_ADD;
	} else {
		if ((io->flags & SK__IO_ADDED) && io->kevents == io->events)
			return 0;
		ev.events = ((io->events & SK_READ) ? EPOLLIN | EPOLLRDHUP : 0) |
			    ((io->events & SK_WRITE) ? EPOLLOUT : 0);
		op = (io->flags & SK__IO_ADDED) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	}
	if (epoll_ctl(ep->fd, op, io->fd, &ev) < 0)
		return sk__errno();
	io->flags |= SK__IO_ADDED;
	io->kevents = io->events;
	return 0;
}

static int ep_wait(sk_loop *loop, int timeout_ms)
{
	struct ep *ep = loop->bdata;
	int n = epoll_wait(ep->fd, ep->ev, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : sk__errno();
	for (int i = 0; i < n; i++) {
		sk_io *io = ep->ev[i].data.ptr;
		uint32_t e = ep->ev[i].events;
		unsigned rev = 0;
		if (e & (EPOLLIN | EPOLLPRI))
			rev |= SK_READ;
		if (e & EPOLLOUT)
			rev |= SK_WRITE;
		if (e & (EPOLLRDHUP | EPOLLHUP))
			rev |= SK__EV_HUP | SK_READ;
		if (e & (EPOLLERR | EPOLLHUP))
			rev |= SK_ERROR;
		sk__io_dispatch(io, rev);
	}
	return n;
}

const struct sk__backend sk__backend_epoll = {
	.name = "epoll",
	.edge = true,
	.init = ep_init,
	.fini = ep_fini,
	.update = ep_update,
	.wait = ep_wait,
};
