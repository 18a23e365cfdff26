/*
 * src/irc/htab.h - an intrusive hash table of names compared under an IRC
 * case mapping (nicks, channels, connection counts by address).
 *
 * The node lives inside the object it indexes and points at the object's
 * own copy of its name, so the table allocates nothing but its bucket
 * array.  The hash is irc_hash() (SipHash) with a key drawn per table, so a
 * user choosing names cannot pile them into one bucket.  The bucket array
 * doubles when the table is fuller than one entry per bucket and never
 * shrinks (a server's peak is what it must be able to hold anyway).
 *
 * Ownership: the table never frees nodes; whoever inserted a node removes
 * it before freeing the object.  The key string must stay unchanged while
 * the node is in the table (rename = remove, change, insert).
 */
#ifndef SK_IRC_HTAB_H
#define SK_IRC_HTAB_H

#include <stddef.h>
#include <stdint.h>

#include "irc/casemap.h"

struct irc_hnode {
	struct irc_hnode *next;
	const char *key; /* NUL-terminated, owned by the containing object */
	uint64_t hash;
};

struct irc_htab {
	struct irc_hnode **b;
	size_t mask;     /* buckets - 1 (0 with no buckets yet) */
	size_t n;        /* entries */
	enum irc_casemap cm;
	uint64_t key[2];
};

/* An empty table under cm, with a fresh random key.  Never fails: the
 * buckets are allocated on the first insert. */
void irc_htab_init(struct irc_htab *t, enum irc_casemap cm);
void irc_htab_free(struct irc_htab *t); /* the buckets only */

/* The node whose key equals name[0..n) under the table's casemap. */
struct irc_hnode *irc_htab_find(const struct irc_htab *t, const char *name,
				size_t n);

/* Insert nd (nd->key set by the caller; it must not be in the table).
 * 0 or SK_ENOMEM (when growing fails the node still goes in: only the
 * chains get longer). */
int irc_htab_add(struct irc_htab *t, struct irc_hnode *nd);

/* Remove nd if it is in the table. */
void irc_htab_del(struct irc_htab *t, struct irc_hnode *nd);

/* Change the casemap (a rehash reload): every node is rehashed.  Two keys
 * that become equal both stay; lookups then find one of them. */
void irc_htab_recase(struct irc_htab *t, enum irc_casemap cm);

#define IRC_CONTAINER(ptr, type, member)                                       \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
