/*
 * src/cat/acl.h - address lists for --allow/--deny: CIDR blocks matched
 * against a peer's address.  Pure functions, no I/O.
 *
 *   "10.0.0.0/8", "192.168.1.7" (a /32), "::1", "fd00::/8"
 *
 * An IPv4 peer seen through a dual-stack IPv6 socket (::ffff:a.b.c.d)
 * matches IPv4 blocks as a.b.c.d, and IPv6 blocks in its mapped form.
 */
#ifndef SK_CAT_ACL_H
#define SK_CAT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/addr.h"

struct cat_cidr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network address, host bits cleared */
	unsigned bits;     /* prefix length */
};

struct cat_acl {
	struct cat_cidr *v;
	size_t n, cap;
};

/* Parse one block from s[0..n).  Host bits past the prefix are cleared
 * ("10.1.2.3/8" is 10.0.0.0/8).  0, or SK_EBADADDR. */
int cat_cidr_parse(const char *s, size_t n, struct cat_cidr *out);
bool cat_cidr_match(const struct cat_cidr *c, const struct sk_addr *a);

/* Add every block of a list separated by commas and/or blanks.  On a bad
 * item returns SK_EBADADDR and points *bad at it (the list is unchanged);
 * SK_ENOMEM. */
int cat_acl_add(struct cat_acl *acl, const char *list, const char **bad);
bool cat_acl_match(const struct cat_acl *acl, const struct sk_addr *a);
/* The rule for --allow/--deny: allowed when the allow list is empty or
 * matches, and the deny list does not match.  Non-IP peers (Unix sockets)
 * are allowed. */
bool cat_acl_allows(const struct cat_acl *allow, const struct cat_acl *deny,
		    const struct sk_addr *a);
void cat_acl_free(struct cat_acl *acl);

#endif
