/*
 * sockit/resolve.h - asynchronous name resolution (c-ares) inside the loop.
 *
 * Names are looked up in /etc/hosts, then with the DNS servers of
 * /etc/resolv.conf.  Process-wide knob, read when a loop makes its resolver
 * (on its first lookup of a name): the environment variable
 * SOCKIT_RESOLV_SERVERS, e.g. "127.0.0.1:53" or "10.0.0.1,[::1]:5353",
 * replaces the servers of /etc/resolv.conf.
 */
#ifndef SOCKIT_RESOLVE_H
#define SOCKIT_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "common.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_resolve_req sk_resolve_req;

/* status 0: addrs[0..n) in the resolver's preferred order (n >= 1); else
 * SK_EDNS (no such name), SK_ENODATA (no address of that family),
 * SK_ETIMEDOUT.  addrs is valid during the callback only. */
typedef void (*sk_resolve_cb)(int status, const struct sk_addr *addrs, size_t n,
			      void *ud);

/* Resolve host (a name or a numeric address) for port.  family: 0, AF_INET
 * or AF_INET6.  timeout_ms 0: 5 s.  The callback always runs from the loop,
 * never from inside this call.  The request keeps the loop alive. */
SK_EXPORT SK_NODISCARD int sk_resolve(sk_loop *loop, const char *host,
				      uint16_t port, int family,
				      unsigned timeout_ms, sk_resolve_cb cb,
				      void *ud, sk_resolve_req **out);
/* The callback will not be called.  Only before it has run. */
SK_EXPORT void sk_resolve_cancel(sk_resolve_req *req);

#ifdef __cplusplus
}
#endif
#endif
