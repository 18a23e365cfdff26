/*
 * src/bt/bencode.h - bencode (BEP 3): a strict decoder into a flat node
 * tree, and an encoder that appends to an sk_buf.
 *
 * Decoding is pure: no I/O, no global state, and at most one allocation
 * (bt_bdecode), or none at all when the caller brings the node array
 * (bt_bdecode_into).  The decoder accepts only canonical bencode, the one
 * encoding of a value, because a .torrent's info-hash is taken over the
 * bytes as they are and two spellings of the same value would hash
 * differently:
 *
 *	integers  i<digits>e with no leading zeros, no "-0", no "+", no
 *	          empty digits, within int64
 *	strings   <len>:<bytes>, the length without leading zeros and within
 *	          the input
 *	dicts     keys are strings, strictly ascending as raw bytes (so also
 *	          unique)
 *	nesting   at most BT_BENC_MAX_DEPTH (or the caller's lower limit)
 *
 * The tree.  Nodes sit in one array in pre-order (a container, then its
 * children); each node knows how many nodes its subtree holds (`span`), so
 * the first child of n is n + 1 and the sibling after n is n + n->span.  A
 * dict's children alternate key, value.  Every node keeps a pointer to its
 * exact encoded bytes in the input (`raw`, `raw_len`): a .torrent's
 * info-hash is SHA-1 over the raw bytes of its "info" value.  Nodes point
 * into the input, so the input must outlive them; nothing is copied.
 *
 *	struct bt_bdoc doc;
 *	if (bt_bdecode(&doc, p, n, NULL) < 0) ...;
 *	const struct bt_bnode *info = bt_bdict_get(bt_broot(&doc), "info");
 *	int64_t plen;
 *	if (bt_bint(bt_bdict_get(info, "piece length"), &plen) < 0) ...;
 *	bt_bdoc_free(&doc);
 *
 *	for (const struct bt_bnode *c = bt_bfirst(list); c; c = bt_bnext(list, c))
 *		...;
 *
 * Encoding: struct bt_benc wraps an sk_buf and remembers the first error,
 * so a writer makes a run of calls and checks once at the end.  Dict keys
 * must be written in ascending order by the caller; the encoder does not
 * sort.
 */
#ifndef SK_BT_BENCODE_H
#define SK_BT_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/buf.h"
#include "sockit/error.h"

#define BT_BENC_MAX_DEPTH 64          /* containers nested in containers */
#define BT_BENC_MAX_NODES (1u << 22)  /* default node budget per document */
#define BT_BENC_MAX_INPUT 0xffffffffu /* offsets and lengths fit 32 bits */

enum bt_btype {
	BT_BINT = 1,
	BT_BSTR = 2,
	BT_BLIST = 3,
	BT_BDICT = 4,
};

struct bt_bnode {
	const uint8_t *raw; /* the encoded value, inside the input */
	uint32_t raw_len;
	uint32_t span;  /* nodes in this subtree, this one included */
	uint32_t count; /* list: items; dict: pairs; string: byte length */
	uint8_t type;   /* enum bt_btype */
	int64_t ival;   /* integer value (BT_BINT) */
};

/* Limits; a NULL pointer or a zero field means the default. */
struct bt_blimits {
	unsigned max_depth; /* <= BT_BENC_MAX_DEPTH */
	size_t max_nodes;   /* BT_BENC_MAX_NODES */
	size_t max_str;     /* longest string; default: no limit but the input */
	bool trailing;      /* allow bytes after the value (see doc->used) */
};

struct bt_bdoc {
	struct bt_bnode *nodes; /* nodes[0] is the root */
	size_t n;               /* nodes in use */
	size_t used;            /* input bytes the value took */
	size_t err_off;         /* on failure: where the input went wrong */
	bool owned;             /* nodes came from bt_bdecode */
};

/*
 * Decode p[0..n) into one freshly allocated node array (exactly as many
 * nodes as the value has: the decoder validates and counts first, then
 * fills).  0 on success; on failure doc holds no memory and doc->err_off
 * says where:
 *	SK_EPROTO    malformed, truncated, non-canonical, or trailing bytes
 *	SK_EMSGSIZE  deeper, longer or bigger than the limits
 *	SK_ENOMEM
 */
int bt_bdecode(struct bt_bdoc *doc, const void *p, size_t n,
	       const struct bt_blimits *lim);

/* The same into the caller's nodes[0..cap): SK_ENOBUFS when they are too
 * few (nothing is allocated; doc->nodes = nodes, bt_bdoc_free is a no-op). */
int bt_bdecode_into(struct bt_bdoc *doc, struct bt_bnode *nodes, size_t cap,
		    const void *p, size_t n, const struct bt_blimits *lim);

void bt_bdoc_free(struct bt_bdoc *doc);

static inline const struct bt_bnode *bt_broot(const struct bt_bdoc *doc)
{
	return doc->n ? &doc->nodes[0] : NULL;
}

/* ---- walking the tree ------------------------------------------------------
 * Every accessor takes NULL and answers NULL (or an error), so lookups can
 * be chained and checked once. */

static inline bool bt_bis(const struct bt_bnode *n, enum bt_btype t)
{
	return n && n->type == t;
}

/* First child of a list or dict (a dict's first key), NULL if none. */
static inline const struct bt_bnode *bt_bfirst(const struct bt_bnode *c)
{
	if (!c || (c->type != BT_BLIST && c->type != BT_BDICT) || c->span < 2)
		return NULL;
	return c + 1;
}

/* The child after `child` inside container c, NULL at the end. */
static inline const struct bt_bnode *bt_bnext(const struct bt_bnode *c,
					      const struct bt_bnode *child)
{
	const struct bt_bnode *n = child + child->span;
	return n < c + c->span ? n : NULL;
}

/* The value stored under key in dict d (NULL if d is not a dict or the key
 * is absent).  The keys are sorted, so the scan stops early. */
const struct bt_bnode *bt_bdict_get(const struct bt_bnode *d, const char *key);
const struct bt_bnode *bt_bdict_getn(const struct bt_bnode *d, const void *key,
				     size_t keylen);

/* Item i of a list, NULL when out of range (O(i)). */
const struct bt_bnode *bt_blist_at(const struct bt_bnode *l, size_t i);

/* A string's bytes (n->count of them); {NULL, 0} for non-strings. */
static inline struct sk_slice bt_bstr(const struct bt_bnode *n)
{
	struct sk_slice s = {NULL, 0};
	if (bt_bis(n, BT_BSTR)) {
		s.p = n->raw + n->raw_len - n->count;
		s.n = n->count;
	}
	return s;
}

/* The integer in *out; SK_EPROTO if n is absent or not an integer. */
int bt_bint(const struct bt_bnode *n, int64_t *out);

/* True if string n equals the C string s. */
bool bt_bstr_eq(const struct bt_bnode *n, const char *s);

/* ---- encoding ---------------------------------------------------------- */

struct bt_benc {
	struct sk_buf *b;
	int err; /* the first failure (SK_ENOBUFS when b->max is reached) */
};

static inline void bt_benc_init(struct bt_benc *e, struct sk_buf *b)
{
	e->b = b;
	e->err = 0;
}

void bt_benc_int(struct bt_benc *e, int64_t v);
void bt_benc_str(struct bt_benc *e, const void *p, size_t n);
void bt_benc_cstr(struct bt_benc *e, const char *s);
void bt_benc_list(struct bt_benc *e); /* 'l': items follow, then _end */
void bt_benc_dict(struct bt_benc *e); /* 'd': key, value, ..., then _end */
void bt_benc_end(struct bt_benc *e);
/* Bytes that are already bencode (e.g. a node's raw bytes). */
void bt_benc_raw(struct bt_benc *e, const void *p, size_t n);

/* 0, or the first error any call met. */
static inline int bt_benc_error(const struct bt_benc *e) { return e->err; }

#endif
