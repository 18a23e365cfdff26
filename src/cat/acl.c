/*
 * src/cat/acl.c - CIDR blocks and the --allow/--deny rule.
 */
#include "cat/acl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "sockit/error.h"

static void clear_host_bits(struct cat_cidr *c)
{
	unsigned len = c->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = c->bits > i * 8 ? c->bits - i * 8 : 0;
		if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int cat_cidr_parse(const char *s, size_t n, struct cat_cidr *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = memchr(s, '/', n);
	size_t iplen = slash ? (size_t)(slash - s) : n;
	if (iplen == 0 || iplen >= sizeof ip)
		return SK_EBADADDR;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, ip, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, out->addr) == 1)
		out->family = AF_INET6;
	else
		return SK_EBADADDR;
	unsigned max = out->family == AF_INET ? 32 : 128;
	out->bits = max;
	if (slash) {
		const char *p = slash + 1, *end = s + n;
		unsigned bits = 0;
		if (p == end || end - p > 3)
			return SK_EBADADDR;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return SK_EBADADDR;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return SK_EBADADDR;
		out->bits = bits;
	}
	clear_host_bits(out);
	return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, net, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[whole] & mask) == net[whole];
}

static bool is_v4_mapped(const struct in6_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->s6_addr, pfx, sizeof pfx) == 0;
}

bool cat_cidr_match(const struct cat_cidr *c, const struct sk_addr *a)
{
	int fam = a->u.sa.sa_family;
	if (fam == AF_INET) {
		if (c->family == AF_INET)
			return prefix_equal((const uint8_t *)&a->u.in4.sin_addr,
					    c->addr, c->bits);
		/* An IPv6 block sees an IPv4 peer in its mapped form. */
		uint8_t m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		memcpy(m + 12, &a->u.in4.sin_addr, 4);
		return prefix_equal(m, c->addr, c->bits);
	}
	if (fam == AF_INET6) {
		const struct in6_addr *v6 = &a->u.in6.sin6_addr;
		if (c->family == AF_INET6)
			return prefix_equal(v6->s6_addr, c->addr, c->bits);
		return is_v4_mapped(v6) &&
		       prefix_equal(v6->s6_addr + 12, c->addr, c->bits);
	}
	return false;
}

static int push(struct cat_acl *acl, const struct cat_cidr *c)
{
	if (acl->n == acl->cap) {
		size_t cap = acl->cap ? acl->cap * 2 : 4;
		struct cat_cidr *v = realloc(acl->v, cap * sizeof *v);
		if (!v)
			return SK_ENOMEM;
		acl->v = v;
		acl->cap = cap;
	}
	acl->v[acl->n++] = *c;
	return 0;
}

int cat_acl_add(struct cat_acl *acl, const char *list, const char **bad)
{
	static const char seps[] = ", \t\n";
	size_t n0 = acl->n;
	const char *p = list;
	int r = 0;
	for (;;) {
		p += strspn(p, seps);
		if (*p == '\0')
			break;
		size_t len = strcspn(p, seps);
		struct cat_cidr c;
		r = cat_cidr_parse(p, len, &c);
		if (r == 0)
			r = push(acl, &c);
		if (r < 0) {
			if (bad)
				*bad = p;
			acl->n = n0;
			return r;
		}
		p += len;
	}
	if (acl->n == n0) { /* an empty list is a mistake, not "nobody" */
		if (bad)
			*bad = list;
		return SK_EBADADDR;
	}
	return 0;
}

bool cat_acl_match(const struct cat_acl *acl, const struct sk_addr *a)
{
	for (size_t i = 0; i < acl->n; i++)
		if (cat_cidr_match(&acl->v[i], a))
			return true;
	return false;
}

bool cat_acl_allows(const struct cat_acl *allow, const struct cat_acl *deny,
		    const struct sk_addr *a)
{
	int fam = a->u.sa.sa_family;
	if (fam != AF_INET && fam != AF_INET6)
		return true;
	if (allow && allow->n && !cat_acl_match(allow, a))
		return false;
	return !(deny && cat_acl_match(deny, a));
}

void cat_acl_free(struct cat_acl *acl)
{
	free(acl->v);
	acl->v = NULL;
	acl->n = acl->cap = 0;
}
