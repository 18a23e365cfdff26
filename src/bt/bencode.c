/*
 * src/bt/bencode.c - strict bencode decoding into a flat pre-order node
 * array, and encoding into an sk_buf.
 *
 * The decoder is a recursive descent bounded by max_depth (64 frames at
 * most).  bt_bdecode runs it twice: once with no node array, to validate and
 * count, then once into an array of exactly that size, so a document costs
 * one allocation and never a realloc.  Either pass stops at the first
 * error and remembers its offset for the caller's message.
 */
#include "bt/bencode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dec {
	const uint8_t *p;
	size_t n;
	size_t pos;
	struct bt_bnode *nodes; /* NULL: count only */
	size_t cap;             /* nodes available (count mode: max_nodes) */
	size_t count;           /* nodes produced so far */
	unsigned max_depth;
	size_t max_str;
	int full_err; /* the code for running out of nodes */
};

static int dec_value(struct dec *d, unsigned depth);

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Claim the next node index (in count mode only the count moves). */
static int new_node(struct dec *d, size_t *idx)
{
	if (d->count >= d->cap)
		return d->full_err;
	*idx = d->count++;
	return 0;
}

static void set_node(struct dec *d, size_t idx, uint8_t type, size_t start,
		     uint32_t count, int64_t ival)
{
	if (!d->nodes)
		return;
	struct bt_bnode *nd = &d->nodes[idx];
	nd->raw = d->p + start;
	nd->raw_len = (uint32_t)(d->pos - start);
	nd->span = (uint32_t)(d->count - idx);
	nd->count = count;
	nd->type = type;
	nd->ival = ival;
}

/* Digits at d->pos up to the terminator `end`, canonical (no leading zero
 * unless the number is 0), into *v; the magnitude may not exceed lim. */
static int dec_digits(struct dec *d, uint8_t end, uint64_t lim, uint64_t *v)
{
	size_t start = d->pos;
	uint64_t x = 0;

	while (d->pos < d->n && is_digit(d->p[d->pos])) {
		unsigned dig = d->p[d->pos] - '0';
		if (x > (lim - dig) / 10)
			return SK_EPROTO; /* out of range */
		x = x * 10 + dig;
		d->pos++;
	}
	if (d->pos == start || d->pos >= d->n || d->p[d->pos] != end)
		return SK_EPROTO;
	if (d->p[start] == '0' && d->pos - start > 1)
		return SK_EPROTO; /* leading zero */
	d->pos++; /* the terminator */
	*v = x;
	return 0;
}

static int dec_int(struct dec *d)
{
	size_t start = d->pos, idx = 0;
	bool neg = false;
	uint64_t mag;
	int r;

	d->pos++; /* 'i' */
	if (d->pos < d->n && d->p[d->pos] == '-') {
		neg = true;
		d->pos++;
	}
	r = dec_digits(d, 'e', neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &mag);
	if (r == 0 && neg && mag == 0)
		r = SK_EPROTO; /* "-0" */
	if (r < 0) {
		d->pos = start; /* errors point at the value */
		return r;
	}
	if ((r = new_node(d, &idx)) < 0)
		return r;
	int64_t v = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
	set_node(d, idx, BT_BINT, start, 0, v);
	return 0;
}

static int dec_str(struct dec *d, size_t *out_len)
{
	size_t start = d->pos, idx = 0;
	uint64_t len;
	int r;

	if ((r = dec_digits(d, ':', UINT32_MAX, &len)) < 0)
		;
	else if (len > d->n - d->pos)
		r = SK_EPROTO; /* runs past the input */
	else if (len > d->max_str)
		r = SK_EMSGSIZE;
	if (r < 0) {
		d->pos = start;
		return r;
	}
	if ((r = new_node(d, &idx)) < 0)
		return r;
	d->pos += (size_t)len;
	set_node(d, idx, BT_BSTR, start, (uint32_t)len, 0);
	*out_len = (size_t)len;
	return 0;
}

/* Raw-byte order of two strings, a proper prefix first. */
static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* One key of a dict: a string strictly after the previous key. */
static int dec_key(struct dec *d, const uint8_t **prev, size_t *prevn)
{
	size_t kstart = d->pos, kn;
	int r;

	if (!is_digit(d->p[d->pos]))
		return SK_EPROTO; /* keys are strings */
	if ((r = dec_str(d, &kn)) < 0)
		return r;
	const uint8_t *k = d->p + d->pos - kn;
	if (*prev && key_cmp(*prev, *prevn, k, kn) >= 0) {
		d->pos = kstart;
		return SK_EPROTO; /* unsorted or duplicate */
	}
	*prev = k;
	*prevn = kn;
	return 0;
}

static int dec_container(struct dec *d, unsigned depth, bool dict)
{
	size_t start = d->pos, idx = 0;
	const uint8_t *prev = NULL;
	size_t prevn = 0;
	uint32_t items = 0;
	int r;

	if (depth >= d->max_depth)
		return SK_EMSGSIZE;
	if ((r = new_node(d, &idx)) < 0)
		return r;
	d->pos++; /* 'l' or 'd' */
	for (;;) {
		if (d->pos >= d->n)
			return SK_EPROTO;
		if (d->p[d->pos] == 'e')
			break;
		if (dict && (r = dec_key(d, &prev, &prevn)) < 0)
			return r;
		if ((r = dec_value(d, depth + 1)) < 0)
			return r;
		items++;
	}
	d->pos++; /* 'e' */
	set_node(d, idx, dict ? BT_BDICT : BT_BLIST, start, items, 0);
	return 0;
}

static int dec_value(struct dec *d, unsigned depth)
{
	if (d->pos >= d->n)
		return SK_EPROTO;
	uint8_t c = d->p[d->pos];
	if (c == 'i')
		return dec_int(d);
	if (c == 'l')
		return dec_container(d, depth, false);
	if (c == 'd')
		return dec_container(d, depth, true);
	size_t len;
	if (is_digit(c))
		return dec_str(d, &len);
	return SK_EPROTO;
}

static void dec_setup(struct dec *d, const void *p, size_t n,
		      const struct bt_blimits *lim)
{
	memset(d, 0, sizeof *d);
	d->p = p;
	d->n = n;
	d->max_depth = BT_BENC_MAX_DEPTH;
	d->cap = BT_BENC_MAX_NODES;
	d->max_str = SIZE_MAX;
	d->full_err = SK_EMSGSIZE;
	if (!lim)
		return;
	if (lim->max_depth && lim->max_depth < BT_BENC_MAX_DEPTH)
		d->max_depth = lim->max_depth;
	if (lim->max_nodes)
		d->cap = lim->max_nodes;
	if (lim->max_str)
		d->max_str = lim->max_str;
}

/* One pass; doc->used / err_off are set from it. */
static int dec_run(struct dec *d, struct bt_bdoc *doc, bool trailing)
{
	int r = d->n > BT_BENC_MAX_INPUT ? SK_EMSGSIZE : dec_value(d, 0);
	if (r == 0 && !trailing && d->pos != d->n)
		r = SK_EPROTO;
	if (r < 0)
		doc->err_off = d->pos;
	else
		doc->used = d->pos;
	return r;
}

static void doc_reset(struct bt_bdoc *doc)
{
	memset(doc, 0, sizeof *doc);
}

int bt_bdecode(struct bt_bdoc *doc, const void *p, size_t n,
	       const struct bt_blimits *lim)
{
	struct dec d;
	bool trailing = lim && lim->trailing;
	int r;

	doc_reset(doc);
	dec_setup(&d, p, n, lim);
	if ((r = dec_run(&d, doc, trailing)) < 0)
		return r;
	size_t count = d.count;
	struct bt_bnode *nodes = calloc(count, sizeof *nodes);
	if (!nodes)
		return SK_ENOMEM;
	dec_setup(&d, p, n, lim);
	d.nodes = nodes;
	d.cap = count;
	if ((r = dec_run(&d, doc, trailing)) < 0) { /* cannot happen */
		free(nodes);
		return r;
	}
	doc->nodes = nodes;
	doc->n = count;
	doc->owned = true;
	return 0;
}

int bt_bdecode_into(struct bt_bdoc *doc, struct bt_bnode *nodes, size_t cap,
		    const void *p, size_t n, const struct bt_blimits *lim)
{
	struct dec d;
	int r;

	doc_reset(doc);
	dec_setup(&d, p, n, lim);
	d.nodes = nodes;
	if (cap < d.cap) {
		d.cap = cap;
		d.full_err = SK_ENOBUFS;
	}
	if ((r = dec_run(&d, doc, lim && lim->trailing)) < 0)
		return r;
	doc->nodes = nodes;
	doc->n = d.count;
	return 0;
}

void bt_bdoc_free(struct bt_bdoc *doc)
{
	if (doc->owned)
		free(doc->nodes);
	doc_reset(doc);
}

/* ---- lookups -------------------------------------------------------------- */

const struct bt_bnode *bt_bdict_getn(const struct bt_bnode *d, const void *key,
				     size_t keylen)
{
	if (!bt_bis(d, BT_BDICT))
		return NULL;
	for (const struct bt_bnode *k = bt_bfirst(d); k; ) {
		const struct bt_bnode *v = bt_bnext(d, k);
		struct sk_slice ks = bt_bstr(k);
		int c = key_cmp(ks.p, ks.n, key, keylen);
		if (c == 0)
			return v;
		if (c > 0 || !v)
			return NULL; /* sorted: it would have come by now */
		k = bt_bnext(d, v);
	}
	return NULL;
}

const struct bt_bnode *bt_bdict_get(const struct bt_bnode *d, const char *key)
{
	return bt_bdict_getn(d, key, strlen(key));
}

const struct bt_bnode *bt_blist_at(const struct bt_bnode *l, size_t i)
{
	if (!bt_bis(l, BT_BLIST))
		return NULL;
	const struct bt_bnode *c = bt_bfirst(l);
	while (c && i-- > 0)
		c = bt_bnext(l, c);
	return c;
}

int bt_bint(const struct bt_bnode *n, int64_t *out)
{
	if (!bt_bis(n, BT_BINT))
		return SK_EPROTO;
	*out = n->ival;
	return 0;
}

bool bt_bstr_eq(const struct bt_bnode *n, const char *s)
{
	struct sk_slice v = bt_bstr(n);
	size_t sn = strlen(s);
	return v.p && v.n == sn && memcmp(v.p, s, sn) == 0;
}

/* ---- encoding ------------------------------------------------------------- */

static void put(struct bt_benc *e, const void *p, size_t n)
{
	if (e->err == 0)
		e->err = sk_buf_append(e->b, p, n);
}

void bt_benc_int(struct bt_benc *e, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "i%" PRId64 "e", v);
	put(e, tmp, (size_t)n);
}

void bt_benc_str(struct bt_benc *e, const void *p, size_t n)
{
	char tmp[24];
	int hn = snprintf(tmp, sizeof tmp, "%zu:", n);
	put(e, tmp, (size_t)hn);
	put(e, p, n);
}

void bt_benc_cstr(struct bt_benc *e, const char *s)
{
	bt_benc_str(e, s, strlen(s));
}

void bt_benc_list(struct bt_benc *e)
{
	put(e, "l", 1);
}

void bt_benc_dict(struct bt_benc *e)
{
	put(e, "d", 1);
}

void bt_benc_end(struct bt_benc *e)
{
	put(e, "e", 1);
}

void bt_benc_raw(struct bt_benc *e, const void *p, size_t n)
{
	put(e, p, n);
}
