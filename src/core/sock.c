/* sock.c - small socket helpers shared by connections, listeners, datagrams. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

int sk__errno(void) { return errno ? -errno : SK_EINVAL; }

int sk__socket(int family, int type)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? sk__errno() : fd;
}

int sk__set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return sk__errno();
	return 0;
}

int sk__bind_socket(const struct sk_addr *a, int type, int reuseaddr,
		    int reuseport, int v6only, int *fdout)
{
	int family = a->u.sa.sa_family;
	int fd = sk__socket(family, type);
	if (fd < 0)
		return fd;
	int one = 1, r = 0;
	if (family != AF_UNIX) {
		if (reuseaddr &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
			goto fail;
		if (reuseport &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
			goto fail;
		if (family == AF_INET6) {
			int v = v6only ? 1 : 0;
			if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) < 0)
				goto fail;
		}
	}
	if (bind(fd, &a->u.sa, a->len) < 0)
		goto fail;
	*fdout = fd;
	return 0;
fail:
	r = sk__errno();
	close(fd);
	return r;
}

/* TCP_NODELAY (unless o->no_nodelay) and keepalive.  Set on a listener,
 * they are inherited by every accepted socket (Linux copies them). */
int sk__tcp_opts(int fd, const struct sk_conn_opts *o)
{
	int one = 1;
	if ((!o || !o->no_nodelay) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		return sk__errno();
	if (o && o->keepalive_s > 0) {
		int idle = o->keepalive_s;
		if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0)
			return sk__errno();
	}
	return 0;
}
