/*
 * sockit/addr.h - socket addresses and their text forms.
 *
 * Text forms accepted everywhere an address is asked for:
 *   1.2.3.4:80        IPv4
 *   [::1]:80          IPv6 (brackets required with a port; a zone "%eth0" allowed)
 *   host.name:80      a name (resolved asynchronously by sk_connect)
 *   *:80 or :80       any IPv4 address (0.0.0.0), for listeners
 *   [::]:80           any IPv6 address
 *   unix:/path/sock   a Unix domain socket path
 *   unix:@name        a Linux abstract Unix socket
 */
#ifndef SOCKIT_ADDR_H
#define SOCKIT_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* Longest text sk_addr_format() produces (a full sun_path plus "unix:"). */
#define SK_ADDR_STRLEN 120
#define SK_HOST_MAX 255

enum sk_addr_kind {
	SK_ADDR_INET = 1, /* numeric IPv4/IPv6 with port */
	SK_ADDR_NAME = 2, /* host name with port: needs resolving */
	SK_ADDR_UNIX = 3  /* unix:path or unix:@abstract */
};

/* The pieces of an address string, before any resolution. */
struct sk_hostport {
	enum sk_addr_kind kind;
	char host[SK_HOST_MAX + 1]; /* name, numeric host, or unix path */
	uint16_t port;
};

/* Split s[0..n) into host and port (or a unix path).  No resolution.
 * SK_EBADADDR on malformed input (missing port, port > 65535, bad
 * brackets, over-long host or path, embedded NUL). */
SK_EXPORT int sk_hostport_parse(const char *s, size_t n, struct sk_hostport *out);

/* Parse a numeric address or a unix address into *out (no names).
 * SK_EBADADDR when s is malformed or names a host. */
SK_EXPORT int sk_addr_parse(const char *s, struct sk_addr *out);
SK_EXPORT int sk_addr_parsen(const char *s, size_t n, struct sk_addr *out);

/* Build an address from a numeric host and a port. */
SK_EXPORT int sk_addr_from_ip(const char *ip, uint16_t port, struct sk_addr *out);

/* Text form ("1.2.3.4:80", "[::1]:80", "unix:/p", "unix:@n") into buf;
 * returns the length, or SK_ENOBUFS if size is too small. */
SK_EXPORT int sk_addr_format(const struct sk_addr *a, char *buf, size_t size);

/* Just the host part ("1.2.3.4", "::1", "/path"). */
SK_EXPORT int sk_addr_format_ip(const struct sk_addr *a, char *buf, size_t size);

SK_EXPORT int sk_addr_family(const struct sk_addr *a); /* AF_INET, AF_INET6, AF_UNIX */
SK_EXPORT uint16_t sk_addr_port(const struct sk_addr *a); /* 0 for unix */
SK_EXPORT void sk_addr_set_port(struct sk_addr *a, uint16_t port);
SK_EXPORT bool sk_addr_equal(const struct sk_addr *a, const struct sk_addr *b);
SK_EXPORT bool sk_addr_is_loopback(const struct sk_addr *a);

#ifdef __cplusplus
}
#endif
#endif
