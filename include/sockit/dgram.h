/*
 * sockit/dgram.h - datagram sockets: UDP over IPv4/IPv6 and Unix datagrams.
 *
 * Datagrams are received in batches (recvmmsg on Linux) and handed to the
 * callback one by one with the sender's address.  Sends go straight to the
 * socket: a full socket buffer gives SK_EAGAIN (datagrams are not queued).
 */
#ifndef SOCKIT_DGRAM_H
#define SOCKIT_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "common.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_dgram sk_dgram;

typedef void (*sk_dgram_recv_cb)(sk_dgram *d, const uint8_t *p, size_t n,
				 const struct sk_addr *from, void *ud);
/* Optional: an error on the socket (e.g. SK_ECONNREFUSED on connected UDP
 * after an ICMP port unreachable). */
typedef void (*sk_dgram_err_cb)(sk_dgram *d, int err, void *ud);

struct sk_dgram_opts {
	int reuseaddr;     /* SO_REUSEADDR (needed for multicast receivers) */
	int reuseport;     /* SO_REUSEPORT */
	int broadcast;     /* SO_BROADCAST */
	int v6only;
	int family;        /* with bind == NULL: AF_INET (default) or AF_INET6 or AF_UNIX */
	size_t max_dgram;  /* receive size per datagram (default 65536) */
	unsigned batch;    /* datagrams per receive call (default 16, max 64) */
	int mcast_loop;    /* 1: multicast loopback on, -1: off, 0: default (on) */
	int mcast_ttl;     /* >0: multicast TTL / hop limit */
	int rcvbuf;        /* >0: SO_RCVBUF in bytes (capped by net.core.rmem_max) */
	int sndbuf;        /* >0: SO_SNDBUF in bytes */
};

/* Open a datagram socket bound to bind_addr ("127.0.0.1:0", "[::1]:0",
 * "unix:/path", "unix:@name", or NULL for an unbound socket of
 * opts->family; an unbound Unix socket gets an autobind name so that its
 * peers can answer).  With cb NULL the socket only sends and does not keep
 * the loop alive.  A Unix path it bound is unlinked when it closes; a path
 * that exists already is SK_EADDRINUSE. */
SK_EXPORT SK_NODISCARD int sk_dgram_open(sk_loop *loop, const char *bind_addr,
					 const struct sk_dgram_opts *opts,
					 sk_dgram_recv_cb cb, void *ud,
					 sk_dgram **out);
SK_EXPORT void sk_dgram_on_error(sk_dgram *d, sk_dgram_err_cb cb);
/* to == NULL sends to the connected peer. */
SK_EXPORT int sk_dgram_send(sk_dgram *d, const void *p, size_t n,
			    const struct sk_addr *to);

struct sk_dgram_msg {
	const void *p;
	size_t n;
	const struct sk_addr *to; /* NULL: connected peer */
};
/* Send many at once (sendmmsg on Linux); *sent is how many went out. */
SK_EXPORT int sk_dgram_send_many(sk_dgram *d, const struct sk_dgram_msg *msgs,
				 size_t n, size_t *sent);
/* Fix the peer: sends without an address go there, and only its datagrams
 * are received.  peer NULL dissolves the association (the local address
 * stays as it was). */
SK_EXPORT int sk_dgram_connect(sk_dgram *d, const struct sk_addr *peer);
/* Multicast membership; iface is a local IPv4 address or an interface name
 * (IPv6), NULL for the default. */
SK_EXPORT int sk_dgram_join(sk_dgram *d, const char *group, const char *iface);
SK_EXPORT int sk_dgram_leave(sk_dgram *d, const char *group, const char *iface);
/* The interface outgoing multicast datagrams leave by (a local IPv4 address
 * or an interface name; for IPv6 an interface name or index).  Without it
 * the routing table picks one. */
SK_EXPORT int sk_dgram_set_mcast_if(sk_dgram *d, const char *iface);
SK_EXPORT int sk_dgram_local(const sk_dgram *d, struct sk_addr *out);
/* Datagrams dropped because they were longer than max_dgram (never
 * delivered cut short). */
SK_EXPORT uint64_t sk_dgram_truncated(const sk_dgram *d);
SK_EXPORT void sk_dgram_recv_stop(sk_dgram *d);
SK_EXPORT void sk_dgram_recv_start(sk_dgram *d);
SK_EXPORT void sk_dgram_set_data(sk_dgram *d, void *ud);
SK_EXPORT void *sk_dgram_data(const sk_dgram *d);
SK_EXPORT void sk_dgram_close(sk_dgram *d);

#ifdef __cplusplus
}
#endif
#endif
