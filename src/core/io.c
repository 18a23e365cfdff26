/*
 * io.c - fd watchers.  A watcher with events != 0 keeps the loop alive
 * (unless marked NOREF).  Frees are deferred to the end of the iteration.
 */
#include "internal.h"

#include <stdlib.h>

static bool counts(const sk_io *io)
{
	return io->events != 0 && !(io->flags & (SK__IO_NOREF | SK__IO_DEAD));
}

void sk__io_init(sk_loop *loop, sk_io *io, int fd, sk_io_cb cb, void *ud,
		 unsigned flags)
{
	io->loop = loop;
	io->cb = cb;
	io->ud = ud;
	io->fd = fd;
	io->bidx = -1;
	io->events = 0;
	io->kevents = 0;
	io->flags = (uint8_t)flags;
}

int sk__io_update(sk_io *io, unsigned events)
{
	bool before = counts(io);
	unsigned old = io->events;
	io->events = (uint8_t)(events & (SK_READ | SK_WRITE));
	int r = io->loop->be->update(io->loop, io, old);
	if (r < 0) {
		io->events = (uint8_t)old;
		return r;
	}
	bool after = counts(io);
	if (!(io->flags & SK__IO_EMBEDDED)) {
		if (after && !before)
			sk__loop_ref(io->loop);
		else if (before && !after)
			sk__loop_unref(io->loop);
	}
	return 0;
}

void sk__io_stop(sk_io *io)
{
	if (io->fd >= 0 && (io->events || (io->flags & SK__IO_ADDED)))
		(void)sk__io_update(io, 0);
	io->flags |= SK__IO_DEAD;
}

int sk_io_new(sk_loop *loop, int fd, unsigned events, sk_io_cb cb, void *ud,
	      sk_io **out)
{
	if (fd < 0 || !cb)
		return SK_EINVAL;
	sk_io *io = malloc(sizeof *io);
	if (!io)
		return SK_ENOMEM;
	sk__io_init(loop, io, fd, cb, ud, 0);
	if (events) {
		int r = sk__io_update(io, events);
		if (r < 0) {
			free(io);
			return r;
		}
	}
	*out = io;
	return 0;
}

int sk_io_set(sk_io *io, unsigned events)
{
	if (io->flags & SK__IO_DEAD)
		return SK_EBADF;
	return sk__io_update(io, events);
}

unsigned sk_io_events(const sk_io *io) { return io->events; }
int sk_io_fd(const sk_io *io) { return io->fd; }

void sk_io_free(sk_io *io)
{
	if (!io || (io->flags & SK__IO_DEAD))
		return;
	sk__io_stop(io);
	sk__defer_free(io->loop, io);
}
