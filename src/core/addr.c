/*
 * src/core/addr.c - socket addresses and their text forms.
 *
 * Parsing is done in two steps.  sk_hostport_parse() only splits a string
 * into host and port (or a unix path) and checks the syntax; it never
 * resolves and never allocates.  sk_addr_parsen() then turns numeric hosts
 * and unix paths into a sockaddr with inet_pton() and if_nametoindex().
 * Input comes with an explicit length and may come from a peer, so every
 * step is bounded and an embedded NUL is an error rather than an end.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "sockit/addr.h"
#include "sockit/error.h"

#define UNIX_PREFIX "unix:"
#define UNIX_PREFIX_LEN 5
/* sun_path bytes usable for a pathname (it needs its NUL terminator) and
 * for "@" plus an abstract name (the '@' becomes the leading NUL). */
#define UNIX_SUN_LEN sizeof(((struct sockaddr_un *)0)->sun_path)
#define UNIX_PATH_MAX (UNIX_SUN_LEN - 1)

static size_t unix_limit(const char *path)
{
	return path[0] == '@' ? UNIX_SUN_LEN : UNIX_PATH_MAX;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Exactly 1-5 decimal digits with a value of at most 65535. */
static int parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return SK_EBADADDR;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return SK_EBADADDR;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return SK_EBADADDR;
	*port = (uint16_t)v;
	return 0;
}

/* A zone ("eth0", "lo", "3"): an interface name or index.  Linux names
 * may hold any printable character but '/', ':' and space; also refuse the
 * characters that delimit the zone in our own syntax. */
static bool valid_zone(const char *s, size_t n)
{
	if (n == 0 || n >= IF_NAMESIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || strchr("/:%[]", s[i]) != NULL)
			return false;
	return true;
}

/* An IPv6 literal without brackets, optionally with "%zone". */
static bool valid_ip6(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	const char *pct = memchr(s, '%', n);
	size_t an = pct ? (size_t)(pct - s) : n;

	if (an == 0 || an >= sizeof tmp)
		return false;
	memcpy(tmp, s, an);
	tmp[an] = '\0';
	if (inet_pton(AF_INET6, tmp, &a6) != 1)
		return false;
	return pct == NULL || valid_zone(pct + 1, n - an - 1);
}

static bool valid_ip4(const char *s, size_t n)
{
	char tmp[INET_ADDRSTRLEN + 1];
	struct in_addr a4;

	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, &a4) == 1;
}

/* Loose host name syntax: letters, digits, '-', '.', '_'; no empty label
 * except an optional final dot; not all digits and dots (that would be a
 * malformed IPv4 address, which DNS must not be asked about). */
static bool valid_name(const char *s, size_t n)
{
	bool numeric = true;

	if (n == 0 || n > SK_HOST_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (i > 0 && s[i - 1] == '.')
				return false;
		} else if (is_digit(c)) {
		} else if (is_alnum(c) || c == '-' || c == '_') {
			numeric = false;
		} else {
			return false;
		}
	}
	return !numeric;
}

static void set_host(struct sk_hostport *out, const char *s, size_t n)
{
	memcpy(out->host, s, n);
	out->host[n] = '\0';
}

int sk_hostport_parse(const char *s, size_t n, struct sk_hostport *out)
{
	const char *host, *colon;
	size_t hn;

	memset(out, 0, sizeof *out);
	if (s == NULL || n == 0 || memchr(s, '\0', n) != NULL)
		return SK_EBADADDR;

	if (n >= UNIX_PREFIX_LEN && memcmp(s, UNIX_PREFIX, UNIX_PREFIX_LEN) == 0) {
		/* "unix:/path" or "unix:@abstract"; host keeps the '@'. */
		host = s + UNIX_PREFIX_LEN;
		hn = n - UNIX_PREFIX_LEN;
		if (hn == 0 || hn > unix_limit(host) || (host[0] == '@' && hn == 1))
			return SK_EBADADDR;
		out->kind = SK_ADDR_UNIX;
		set_host(out, host, hn);
		return 0;
	}

	if (s[0] == '[') {
		/* "[v6]:port" or "[v6%zone]:port" */
		const char *rb = memchr(s, ']', n);
		if (rb == NULL || rb + 1 == s + n || rb[1] != ':')
			return SK_EBADADDR;
		host = s + 1;
		hn = (size_t)(rb - host);
		if (memchr(host, '[', hn) != NULL || !valid_ip6(host, hn))
			return SK_EBADADDR;
		colon = rb + 1;
		out->kind = SK_ADDR_INET;
	} else {
		colon = memrchr(s, ':', n);
		if (colon == NULL)
			return SK_EBADADDR; /* no port */
		host = s;
		hn = (size_t)(colon - s);
		if (hn == 0 || (hn == 1 && host[0] == '*')) {
			host = "0.0.0.0";
			hn = 7;
			out->kind = SK_ADDR_INET;
		} else if (valid_ip4(host, hn)) {
			out->kind = SK_ADDR_INET;
		} else if (valid_name(host, hn)) {
			out->kind = SK_ADDR_NAME;
		} else {
			/* includes IPv6 without brackets and stray brackets */
			return SK_EBADADDR;
		}
	}
	if (hn > SK_HOST_MAX ||
	    parse_port(colon + 1, (size_t)(s + n - colon - 1), &out->port) < 0) {
		memset(out, 0, sizeof *out);
		return SK_EBADADDR;
	}
	set_host(out, host, hn);
	return 0;
}

/* ---- numeric addresses ---------------------------------------------------- */

static int fill_unix(struct sk_addr *out, const char *path, size_t n)
{
	struct sockaddr_un *un = &out->u.un;

	if (n == 0 || n > unix_limit(path))
		return SK_EBADADDR;
	un->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/* Abstract: a leading NUL, then exactly the name's bytes. */
		if (n == 1)
			return SK_EBADADDR;
		un->sun_path[0] = '\0';
		memcpy(un->sun_path + 1, path + 1, n - 1);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		memcpy(un->sun_path, path, n);
		un->sun_path[n] = '\0';
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

/* host is NUL-terminated: "1.2.3.4", "::1", "fe80::1%eth0" */
static int fill_ip(struct sk_addr *out, const char *host, uint16_t port)
{
	const char *pct;

	if (strchr(host, ':') == NULL) {
		if (inet_pton(AF_INET, host, &out->u.in4.sin_addr) != 1)
			return SK_EBADADDR;
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_port = htons(port);
		out->len = sizeof out->u.in4;
		return 0;
	}
	pct = strchr(host, '%');
	if (pct != NULL) {
		char tmp[INET6_ADDRSTRLEN + 1];
		size_t an = (size_t)(pct - host);
		unsigned idx;

		if (an >= sizeof tmp || !valid_zone(pct + 1, strlen(pct + 1)))
			return SK_EBADADDR;
		memcpy(tmp, host, an);
		tmp[an] = '\0';
		if (inet_pton(AF_INET6, tmp, &out->u.in6.sin6_addr) != 1)
			return SK_EBADADDR;
		/* An interface name, or else a decimal index. */
		idx = if_nametoindex(pct + 1);
		if (idx == 0) {
			unsigned long v = 0;
			for (const char *z = pct + 1; *z; z++) {
				if (!is_digit(*z) || v > 0xffffffffUL / 10)
					return SK_EBADADDR;
				v = v * 10 + (unsigned long)(*z - '0');
			}
			if (v > 0xffffffffUL)
				return SK_EBADADDR;
			idx = (unsigned)v;
		}
		out->u.in6.sin6_scope_id = idx;
	} else if (inet_pton(AF_INET6, host, &out->u.in6.sin6_addr) != 1) {
		return SK_EBADADDR;
	}
	out->u.in6.sin6_family = AF_INET6;
	out->u.in6.sin6_port = htons(port);
	out->len = sizeof out->u.in6;
	return 0;
}

int sk_addr_parsen(const char *s, size_t n, struct sk_addr *out)
{
	struct sk_hostport hp;
	int r;

	memset(out, 0, sizeof *out);
	if ((r = sk_hostport_parse(s, n, &hp)) < 0)
		return r;
	if (hp.kind == SK_ADDR_UNIX)
		r = fill_unix(out, hp.host, strlen(hp.host));
	else if (hp.kind == SK_ADDR_INET)
		r = fill_ip(out, hp.host, hp.port);
	else
		r = SK_EBADADDR; /* a name: needs the resolver */
	if (r < 0)
		memset(out, 0, sizeof *out);
	return r;
}

int sk_addr_parse(const char *s, struct sk_addr *out)
{
	if (s == NULL) {
		memset(out, 0, sizeof *out);
		return SK_EBADADDR;
	}
	return sk_addr_parsen(s, strlen(s), out);
}

int sk_addr_from_ip(const char *ip, uint16_t port, struct sk_addr *out)
{
	char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	size_t n;
	int r;

	memset(out, 0, sizeof *out);
	if (ip == NULL)
		return SK_EBADADDR;
	n = strlen(ip);
	/* Tolerate "[::1]" as well as "::1". */
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof tmp || memchr(ip, '[', n) || memchr(ip, ']', n))
		return SK_EBADADDR;
	memcpy(tmp, ip, n);
	tmp[n] = '\0';
	if ((r = fill_ip(out, tmp, port)) < 0)
		memset(out, 0, sizeof *out);
	return r;
}

/* ---- formatting --------------------------------------------------------------- */

/* The host part into buf (always NUL-terminated when size > 0); returns
 * the length it needs, or a negative code. */
static int format_host(const struct sk_addr *a, char *buf, size_t size,
		       bool *v6)
{
	char tmp[SK_ADDR_STRLEN];
	size_t n = 0;

	*v6 = false;
	switch (a->u.sa.sa_family) {
	case AF_INET:
		if (inet_ntop(AF_INET, &a->u.in4.sin_addr, tmp, sizeof tmp) == NULL)
			return SK_EINVAL;
		n = strlen(tmp);
		break;
	case AF_INET6: {
		char ifn[IF_NAMESIZE];
		uint32_t sid = a->u.in6.sin6_scope_id;

		*v6 = true;
		if (inet_ntop(AF_INET6, &a->u.in6.sin6_addr, tmp, sizeof tmp) == NULL)
			return SK_EINVAL;
		n = strlen(tmp);
		if (sid != 0) {
			int k;
			if (if_indextoname(sid, ifn) != NULL)
				k = snprintf(tmp + n, sizeof tmp - n, "%%%s", ifn);
			else
				k = snprintf(tmp + n, sizeof tmp - n, "%%%u",
					     (unsigned)sid);
			if (k < 0 || (size_t)k >= sizeof tmp - n)
				return SK_EINVAL;
			n += (size_t)k;
		}
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = &a->u.un;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t pl = a->len > off ? a->len - off : 0;

		if (pl > sizeof un->sun_path)
			pl = sizeof un->sun_path;
		if (pl > 0 && un->sun_path[0] == '\0') {
			/* Abstract: '@' then the name; show any NUL inside
			 * as '@' too, as ss(8) does. */
			tmp[0] = '@';
			for (size_t i = 1; i < pl; i++)
				tmp[i] = un->sun_path[i] ? un->sun_path[i] : '@';
			n = pl;
		} else {
			n = strnlen(un->sun_path, pl);
			memcpy(tmp, un->sun_path, n);
		}
		tmp[n] = '\0';
		break;
	}
	default:
		return SK_EAFNOSUPPORT;
	}
	if (size > 0) {
		size_t c = n < size ? n : size - 1;
		memcpy(buf, tmp, c);
		buf[c] = '\0';
	}
	return (int)n;
}

int sk_addr_format_ip(const struct sk_addr *a, char *buf, size_t size)
{
	bool v6;
	int n = format_host(a, buf, size, &v6);

	if (n < 0)
		return n;
	return (size_t)n < size ? n : SK_ENOBUFS;
}

int sk_addr_format(const struct sk_addr *a, char *buf, size_t size)
{
	char host[SK_ADDR_STRLEN];
	bool v6;
	int n, k;

	if ((n = format_host(a, host, sizeof host, &v6)) < 0)
		return n;
	if (a->u.sa.sa_family == AF_UNIX)
		k = snprintf(buf, size, UNIX_PREFIX "%s", host);
	else
		k = snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", host,
			     (unsigned)sk_addr_port(a));
	if (k < 0)
		return SK_EINVAL;
	return (size_t)k < size ? k : SK_ENOBUFS;
}

/* ---- accessors -------------------------------------------------------------- */

int sk_addr_family(const struct sk_addr *a)
{
	return a->u.sa.sa_family;
}

uint16_t sk_addr_port(const struct sk_addr *a)
{
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return ntohs(a->u.in4.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	default:
		return 0;
	}
}

void sk_addr_set_port(struct sk_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in4.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

/* The meaningful bytes of a unix address: a pathname up to its NUL, or an
 * abstract name's exact length (NULs included). */
static size_t unix_path_len(const struct sk_addr *a)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t pl = a->len > off ? a->len - off : 0;

	if (pl > sizeof a->u.un.sun_path)
		pl = sizeof a->u.un.sun_path;
	if (pl > 0 && a->u.un.sun_path[0] != '\0')
		pl = strnlen(a->u.un.sun_path, pl);
	return pl;
}

bool sk_addr_equal(const struct sk_addr *a, const struct sk_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return a->u.in4.sin_port == b->u.in4.sin_port &&
		       a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
	case AF_INET6:
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
			      sizeof a->u.in6.sin6_addr) == 0;
	case AF_UNIX: {
		size_t na = unix_path_len(a), nb = unix_path_len(b);
		return na == nb && memcmp(a->u.un.sun_path, b->u.un.sun_path, na) == 0;
	}
	default:
		return a->len == b->len && a->len <= sizeof a->u &&
		       memcmp(&a->u, &b->u, a->len) == 0;
	}
}

bool sk_addr_is_loopback(const struct sk_addr *a)
{
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return (ntohl(a->u.in4.sin_addr.s_addr) >> 24) == 127;
	case AF_INET6: {
		const struct in6_addr *x = &a->u.in6.sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(x))
			return true;
		return IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127;
	}
	case AF_UNIX:
		return true; /* local to this machine by definition */
	default:
		return false;
	}
}
