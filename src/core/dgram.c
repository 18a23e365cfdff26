/*
 * src/core/dgram.c - datagram sockets: UDP over IPv4/IPv6 and Unix datagrams.
 *
 * Receiving: one level-triggered read watcher per socket.  A wakeup reads
 * with recvmmsg(2) in batches of opts.batch datagrams into buffers of
 * max_dgram bytes that were allocated once, together with the socket, and
 * hands them to the callback one by one.  At most ROUNDS batches are read
 * per wakeup so that one busy socket cannot starve the rest of the loop;
 * level triggering brings us back for the remainder.
 *
 * A datagram longer than max_dgram arrives with MSG_TRUNC: it is dropped
 * and counted (sk_dgram_truncated), never delivered cut short.
 *
 * Lifetimes: sk_dgram_close() may run inside the socket's own callback, in
 * the middle of a batch.  The struct and its buffers (one allocation) are
 * released with sk__defer_free at the end of the iteration, so the batch
 * loop can still look at d->closed after the callback returns, and the
 * bytes the callback was given stay readable until it returns.
 *
 * If receiving is stopped in the middle of a batch, the datagrams already
 * read stay in the buffers ("the stash") and are delivered first, from a
 * pending callback, when receiving starts again.
 *
 * Sending goes straight to the socket with MSG_DONTWAIT: nothing is queued,
 * a full socket buffer is SK_EAGAIN.
 *
 * Errors the kernel reports on the socket (ICMP port unreachable on a
 * connected UDP socket shows up as ECONNREFUSED on the next receive) go to
 * the error callback; the socket stays usable.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_DGRAM 65536u
#define MAX_MAX_DGRAM (16u * 1024 * 1024)
#define DEFAULT_BATCH 16u
#define MAX_BATCH 64u
#define ROUNDS 4        /* batches read per wakeup, for fairness */
#define SEND_CHUNK 64u  /* datagrams per sendmmsg call */

struct sk_dgram {
	sk_loop *loop;
	sk_io *io;
	int fd;
	int family;
	sk_dgram_recv_cb cb;
	sk_dgram_err_cb ecb;
	void *ud;
	bool recv_on;     /* the program wants datagrams */
	bool closed;
	bool unlink_path; /* bound to a filesystem path: remove it on close */
	bool in_dispatch; /* inside the batch loop (on_io or the stash) */
	unsigned batch;
	size_t max_dgram;
	uint64_t truncated;
	/* datagrams read but not delivered: msgs[stash_next .. stash_n) */
	unsigned stash_next, stash_n;
	struct sk__pending pend; /* delivers the stash after recv_start */
	struct sk__list link;    /* loop->dgrams */
	struct sk_addr path;     /* the bound path, for unlink */
	struct sk_addr bound;    /* IP: local address before connect, if any */
	/* carved out of the same allocation, after the struct */
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *names;
	uint8_t *bufs;
};

static size_t align16(size_t n)
{
	return (n + 15u) & ~(size_t)15u;
}

/* One allocation: the struct, then the batch arrays, then the buffers. */
static struct sk_dgram *dgram_alloc(unsigned batch, size_t max_dgram)
{
	size_t off_msgs = align16(sizeof(struct sk_dgram));
	size_t off_iov = off_msgs + align16(batch * sizeof(struct mmsghdr));
	size_t off_names = off_iov + align16(batch * sizeof(struct iovec));
	size_t off_bufs =
		off_names + align16(batch * sizeof(struct sockaddr_storage));
	if (max_dgram > (SIZE_MAX - off_bufs) / batch)
		return NULL;
	char *mem = calloc(1, off_bufs + batch * max_dgram);
	if (!mem)
		return NULL;
	struct sk_dgram *d = (struct sk_dgram *)(void *)mem;
	d->msgs = (struct mmsghdr *)(void *)(mem + off_msgs);
	d->iov = (struct iovec *)(void *)(mem + off_iov);
	d->names = (struct sockaddr_storage *)(void *)(mem + off_names);
	d->bufs = (uint8_t *)(mem + off_bufs);
	d->batch = batch;
	d->max_dgram = max_dgram;
	for (unsigned i = 0; i < batch; i++) {
		d->iov[i].iov_base = d->bufs + (size_t)i * max_dgram;
		d->iov[i].iov_len = max_dgram;
		d->msgs[i].msg_hdr.msg_iov = &d->iov[i];
		d->msgs[i].msg_hdr.msg_iovlen = 1;
		d->msgs[i].msg_hdr.msg_name = &d->names[i];
	}
	return d;
}

static int set_int(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof v) < 0)
		return -errno;
	return 0;
}

static int apply_opts(int fd, int family, const struct sk_dgram_opts *o)
{
	int r = 0;
	if (o->reuseaddr && (r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)))
		return r;
	if (o->reuseport && (r = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)))
		return r;
	if (o->rcvbuf > 0 && (r = set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf)))
		return r;
	if (o->sndbuf > 0 && (r = set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf)))
		return r;
	if (family == AF_UNIX)
		return 0;
	if (o->broadcast && (r = set_int(fd, SOL_SOCKET, SO_BROADCAST, 1)))
		return r;
	if (family == AF_INET6) {
		if (o->v6only &&
		    (r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)))
			return r;
		if (o->mcast_loop &&
		    (r = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP,
				 o->mcast_loop > 0)))
			return r;
		if (o->mcast_ttl > 0 &&
		    (r = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS,
				 o->mcast_ttl)))
			return r;
		return 0;
	}
	if (o->mcast_loop &&
	    (r = set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, o->mcast_loop > 0)))
		return r;
	if (o->mcast_ttl > 0 &&
	    (r = set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, o->mcast_ttl)))
		return r;
	return 0;
}

static bool is_unix_path(const struct sk_addr *a)
{
	return a->u.sa.sa_family == AF_UNIX &&
	       a->len > offsetof(struct sockaddr_un, sun_path) &&
	       a->u.un.sun_path[0] != '\0';
}

/* Bind to a, or for an unbound Unix socket ask the kernel for an abstract
 * name (autobind): without a name the server could not reply. */
static int do_bind(struct sk_dgram *d, const struct sk_addr *a)
{
	if (a) {
		if (bind(d->fd, &a->u.sa, a->len) < 0)
			return -errno;
		if (is_unix_path(a)) {
			d->path = *a;
			d->unlink_path = true;
		}
		return 0;
	}
	if (d->family == AF_UNIX) {
		struct sockaddr_un un;
		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		if (bind(d->fd, (struct sockaddr *)&un, sizeof(sa_family_t)) < 0)
			return -errno;
	}
	return 0;
}

static void on_io(sk_io *io, unsigned revents, void *ud);
static void stash_pending(struct sk__pending *p);

int sk_dgram_open(sk_loop *loop, const char *bind_addr,
		  const struct sk_dgram_opts *opts, sk_dgram_recv_cb cb,
		  void *ud, sk_dgram **out)
{
	struct sk_dgram_opts o;
	struct sk_addr a;
	int family, r;

	if (!loop || !out)
		return SK_EINVAL;
	*out = NULL;
	if (opts)
		o = *opts;
	else
		memset(&o, 0, sizeof o);
	if (bind_addr) {
		if ((r = sk_addr_parse(bind_addr, &a)) < 0)
			return r;
		family = a.u.sa.sa_family;
	} else {
		family = o.family ? o.family : AF_INET;
	}
	if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
		return SK_EAFNOSUPPORT;
	unsigned batch = o.batch ? o.batch : DEFAULT_BATCH;
	if (batch > MAX_BATCH)
		batch = MAX_BATCH;
	size_t max_dgram = o.max_dgram ? o.max_dgram : DEFAULT_MAX_DGRAM;
	if (max_dgram > MAX_MAX_DGRAM)
		return SK_EINVAL;

	struct sk_dgram *d = dgram_alloc(batch, max_dgram);
	if (!d)
		return SK_ENOMEM;
	d->loop = loop;
	d->family = family;
	d->cb = cb;
	d->ud = ud;
	d->recv_on = cb != NULL;
	sk__pending_init(&d->pend, stash_pending);
	sk__list_init(&d->link);
	d->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0) {
		r = -errno;
		free(d);
		return r;
	}
	if ((r = apply_opts(d->fd, family, &o)) < 0 ||
	    (r = do_bind(d, bind_addr ? &a : NULL)) < 0)
		goto fail;
	r = sk_io_new(loop, d->fd, d->recv_on ? SK_READ : 0, on_io, d, &d->io);
	if (r < 0)
		goto fail;
	sk__list_add_tail(&loop->dgrams, &d->link);
	*out = d;
	return 0;
fail:
	if (d->unlink_path)
		unlink(d->path.u.un.sun_path);
	close(d->fd);
	free(d);
	return r;
}

void sk_dgram_on_error(sk_dgram *d, sk_dgram_err_cb cb)
{
	d->ecb = cb;
}

static void report(struct sk_dgram *d, int err)
{
	if (d->ecb && !d->closed)
		d->ecb(d, err, d->ud);
}

/* Hand msgs[stash_next .. stash_n) to the program, stopping as soon as it
 * closes the socket or stops receiving (the rest stays stashed). */
static void deliver(struct sk_dgram *d)
{
	while (d->stash_next < d->stash_n) {
		if (d->closed || !d->recv_on)
			return;
		unsigned i = d->stash_next++;
		struct mmsghdr *m = &d->msgs[i];
		if (m->msg_hdr.msg_flags & MSG_TRUNC) {
			d->truncated++;
			continue;
		}
		struct sk_addr from;
		socklen_t fl = m->msg_hdr.msg_namelen;
		if (fl > sizeof from.u)
			fl = sizeof from.u;
		memset(&from, 0, sizeof from);
		memcpy(&from.u, &d->names[i], fl);
		if (fl < sizeof(sa_family_t)) {
			/* an unnamed Unix peer */
			from.u.sa.sa_family = (sa_family_t)d->family;
			fl = sizeof(sa_family_t);
		}
		from.len = fl;
		d->cb(d, d->iov[i].iov_base, m->msg_len, &from, d->ud);
	}
}

/* Errors that belong to the socket, not to this wakeup: report, go on. */
static bool soft_error(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EMSGSIZE:
	case EPROTO:
	case ENOPROTOOPT:
	case ECONNRESET:
		return true;
	}
	return false;
}

static void on_io(sk_io *io, unsigned revents, void *ud)
{
	struct sk_dgram *d = ud;
	(void)io;
	(void)revents;
	d->in_dispatch = true;
	deliver(d); /* a stash left from before, if any */
	for (int round = 0; round < ROUNDS; round++) {
		if (d->closed || !d->recv_on || d->stash_next < d->stash_n)
			break;
		for (unsigned i = 0; i < d->batch; i++) {
			d->msgs[i].msg_hdr.msg_namelen = sizeof d->names[i];
			d->msgs[i].msg_hdr.msg_flags = 0;
			d->msgs[i].msg_len = 0;
		}
		int n = recvmmsg(d->fd, d->msgs, d->batch, MSG_DONTWAIT, NULL);
		if (n < 0) {
			int err = errno;
			if (err == EINTR)
				continue;
			if (err == EAGAIN || err == EWOULDBLOCK)
				break;
			report(d, -err);
			if (soft_error(err))
				continue;
			break;
		}
		d->stash_next = 0;
		d->stash_n = (unsigned)n;
		deliver(d);
		if ((unsigned)n < d->batch)
			break; /* drained */
	}
	d->in_dispatch = false;
}

static void stash_pending(struct sk__pending *p)
{
	struct sk_dgram *d = SK__CONTAINER(p, struct sk_dgram, pend);
	if (d->closed || d->in_dispatch)
		return;
	d->in_dispatch = true;
	deliver(d);
	d->in_dispatch = false;
}

int sk_dgram_send(sk_dgram *d, const void *p, size_t n,
		  const struct sk_addr *to)
{
	if (d->closed)
		return SK_EBADF;
	ssize_t r;
	do {
		r = sendto(d->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL,
			   to ? &to->u.sa : NULL, to ? to->len : 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EWOULDBLOCK)
			return SK_EAGAIN;
		if (errno == EDESTADDRREQ)
			return SK_ENOTCONN;
		return -errno;
	}
	return 0;
}

int sk_dgram_send_many(sk_dgram *d, const struct sk_dgram_msg *msgs, size_t n,
		       size_t *sent)
{
	struct mmsghdr mh[SEND_CHUNK];
	struct iovec iov[SEND_CHUNK];
	size_t done = 0;
	int r = 0;

	if (sent)
		*sent = 0;
	if (d->closed)
		return SK_EBADF;
	while (done < n) {
		unsigned k = n - done < SEND_CHUNK ? (unsigned)(n - done) : SEND_CHUNK;
		memset(mh, 0, sizeof(mh[0]) * k);
		for (unsigned i = 0; i < k; i++) {
			const struct sk_dgram_msg *m = &msgs[done + i];
			iov[i].iov_base = (void *)(uintptr_t)m->p;
			iov[i].iov_len = m->n;
			mh[i].msg_hdr.msg_iov = &iov[i];
			mh[i].msg_hdr.msg_iovlen = 1;
			if (m->to) {
				mh[i].msg_hdr.msg_name =
					(void *)(uintptr_t)&m->to->u.sa;
				mh[i].msg_hdr.msg_namelen = m->to->len;
			}
		}
		int got = sendmmsg(d->fd, mh, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = errno == EWOULDBLOCK ? SK_EAGAIN
			    : errno == EDESTADDRREQ ? SK_ENOTCONN : -errno;
			break;
		}
		done += (size_t)got;
		/* a short count: the next call reports why (or sends more) */
	}
	if (sent)
		*sent = done;
	return r;
}

/* peer NULL dissolves the association.  Linux then also drops a port the
 * kernel chose (bind to port 0, or autobind): the socket is given back the
 * address it had before it was connected, so its peers can still reach it. */
int sk_dgram_connect(sk_dgram *d, const struct sk_addr *peer)
{
	struct sk_addr now;

	if (d->closed)
		return SK_EBADF;
	if (peer) {
		if (d->family != AF_UNIX && d->bound.len == 0 &&
		    sk_dgram_local(d, &d->bound) == 0 &&
		    sk_addr_port(&d->bound) == 0)
			d->bound.len = 0; /* not bound yet: nothing to keep */
		if (connect(d->fd, &peer->u.sa, peer->len) < 0)
			return -errno;
		return 0;
	}
	struct sockaddr sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNSPEC;
	if (connect(d->fd, &sa, sizeof sa) < 0)
		return -errno;
	if (d->bound.len && sk_dgram_local(d, &now) == 0 &&
	    sk_addr_port(&now) == 0 &&
	    bind(d->fd, &d->bound.u.sa, d->bound.len) < 0)
		return -errno;
	return 0;
}

/* iface: NULL, a local IPv4 address, or an interface name. */
static int mcast_v4(struct sk_dgram *d, const struct in_addr *grp,
		    const char *iface, bool join)
{
	struct ip_mreqn mr;
	memset(&mr, 0, sizeof mr);
	mr.imr_multiaddr = *grp;
	if (iface && inet_pton(AF_INET, iface, &mr.imr_address) != 1) {
		unsigned idx = if_nametoindex(iface);
		if (idx == 0)
			return -ENODEV;
		mr.imr_ifindex = (int)idx;
	}
	if (setsockopt(d->fd, IPPROTO_IP,
		       join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
		       sizeof mr) < 0)
		return -errno;
	return 0;
}

/* An interface name or its index as a number; -ENODEV if there is none. */
static int if_index(const char *iface)
{
	char *end;
	unsigned long v = strtoul(iface, &end, 10);
	if (*iface >= '0' && *iface <= '9' && *end == '\0' && v <= INT32_MAX)
		return (int)v;
	unsigned idx = if_nametoindex(iface);
	return idx == 0 || idx > INT32_MAX ? -ENODEV : (int)idx;
}

/* iface: NULL or an interface name (or its index as a number). */
static int mcast_v6(struct sk_dgram *d, const struct in6_addr *grp,
		    const char *iface, bool join)
{
	struct ipv6_mreq mr;
	memset(&mr, 0, sizeof mr);
	mr.ipv6mr_multiaddr = *grp;
	if (iface) {
		int idx = if_index(iface);
		if (idx < 0)
			return idx;
		mr.ipv6mr_interface = (unsigned)idx;
	}
	if (setsockopt(d->fd, IPPROTO_IPV6,
		       join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr,
		       sizeof mr) < 0)
		return -errno;
	return 0;
}

static int membership(struct sk_dgram *d, const char *group,
		      const char *iface, bool join)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (d->closed)
		return SK_EBADF;
	if (!group)
		return SK_EINVAL;
	/* Linux by default hands a wildcard-bound socket the datagrams of
	 * every group anyone on the host joined (IP_MULTICAST_ALL); a socket
	 * that joins groups should hear only its own.  Older kernels lack the
	 * IPv6 option: that is not worth failing for. */
	if (inet_pton(AF_INET, group, &a4) == 1) {
		if (d->family != AF_INET)
			return SK_EAFNOSUPPORT;
		if (!IN_MULTICAST(ntohl(a4.s_addr)))
			return SK_EINVAL;
		if (join)
			(void)set_int(d->fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
		return mcast_v4(d, &a4, iface, join);
	}
	if (inet_pton(AF_INET6, group, &a6) == 1) {
		if (d->family != AF_INET6)
			return SK_EAFNOSUPPORT;
		if (!IN6_IS_ADDR_MULTICAST(&a6))
			return SK_EINVAL;
#ifdef IPV6_MULTICAST_ALL
		if (join)
			(void)set_int(d->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
		return mcast_v6(d, &a6, iface, join);
	}
	return SK_EBADADDR;
}

int sk_dgram_join(sk_dgram *d, const char *group, const char *iface)
{
	return membership(d, group, iface, true);
}

int sk_dgram_leave(sk_dgram *d, const char *group, const char *iface)
{
	return membership(d, group, iface, false);
}

int sk_dgram_set_mcast_if(sk_dgram *d, const char *iface)
{
	if (d->closed)
		return SK_EBADF;
	if (!iface)
		return SK_EINVAL;
	if (d->family == AF_INET) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof mr);
		if (inet_pton(AF_INET, iface, &mr.imr_address) != 1 &&
		    (mr.imr_ifindex = (int)if_nametoindex(iface)) == 0)
			return -ENODEV;
		if (setsockopt(d->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
			       sizeof mr) < 0)
			return -errno;
		return 0;
	}
	if (d->family == AF_INET6) {
		int idx = if_index(iface);
		if (idx < 0)
			return idx;
		if (setsockopt(d->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
			       sizeof idx) < 0)
			return -errno;
		return 0;
	}
	return SK_EAFNOSUPPORT;
}

int sk_dgram_local(const sk_dgram *d, struct sk_addr *out)
{
	if (d->closed)
		return SK_EBADF;
	memset(out, 0, sizeof *out);
	socklen_t len = sizeof out->u;
	if (getsockname(d->fd, &out->u.sa, &len) < 0)
		return -errno;
	out->len = len;
	return 0;
}

uint64_t sk_dgram_truncated(const sk_dgram *d)
{
	return d->truncated;
}

void sk_dgram_recv_stop(sk_dgram *d)
{
	if (d->closed || !d->recv_on)
		return;
	d->recv_on = false;
	sk__pending_del(&d->pend);
	int r = sk_io_set(d->io, 0);
	if (r < 0)
		report(d, r);
}

void sk_dgram_recv_start(sk_dgram *d)
{
	if (d->closed || d->recv_on || !d->cb)
		return;
	d->recv_on = true;
	int r = sk_io_set(d->io, SK_READ);
	if (r < 0)
		report(d, r);
	/* Datagrams read before the stop go first, from the loop.  Inside
	 * the batch loop they are simply delivered by it. */
	if (d->stash_next < d->stash_n && !d->in_dispatch)
		sk__pending_add(d->loop, &d->pend);
}

void sk_dgram_set_data(sk_dgram *d, void *ud)
{
	d->ud = ud;
}

void *sk_dgram_data(const sk_dgram *d)
{
	return d->ud;
}

void sk_dgram_close(sk_dgram *d)
{
	if (!d || d->closed)
		return;
	d->closed = true;
	d->recv_on = false;
	sk__pending_del(&d->pend);
	sk__list_del(&d->link);
	sk_io_free(d->io);
	d->io = NULL;
	close(d->fd);
	d->fd = -1;
	if (d->unlink_path)
		unlink(d->path.u.un.sun_path);
	/* the batch loop, or the program's callback, may still be running */
	sk__defer_free(d->loop, d);
}

void sk__dgrams_free_all(sk_loop *loop)
{
	while (!sk__list_empty(&loop->dgrams))
		sk_dgram_close(SK__CONTAINER(loop->dgrams.next, struct sk_dgram,
					     link));
}
