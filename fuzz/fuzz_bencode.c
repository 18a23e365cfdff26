/*
 * fuzz/fuzz_bencode.c - the strict bencode decoder.
 *
 * Whatever decodes must be canonical, and canonical bencode has exactly
 * one spelling: re-encoding the tree from its fields (integers, string
 * bytes, containers) must give back the input byte for byte.  The tree
 * must be well formed (spans add up, every node's raw bytes inside its
 * parent's), the caller-array decoder must agree with the allocating one,
 * and a document that fits must also decode with trailing bytes allowed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "fuzz.h"

/* Re-encode n from its fields; returns the node after its subtree. */
static const struct bt_bnode *reenc(struct bt_benc *e, const struct bt_bnode *n)
{
	if (n->type == BT_BINT) {
		bt_benc_int(e, n->ival);
	} else if (n->type == BT_BSTR) {
		struct sk_slice s = bt_bstr(n);
		bt_benc_str(e, s.p, s.n);
	} else {
		uint32_t items = 0, span = 1;
		n->type == BT_BLIST ? bt_benc_list(e) : bt_benc_dict(e);
		for (const struct bt_bnode *c = bt_bfirst(n); c; c = bt_bnext(n, c)) {
			CHECK(c->raw >= n->raw &&
			      c->raw + c->raw_len <= n->raw + n->raw_len);
			CHECK(reenc(e, c) == c + c->span);
			items++;
			span += c->span;
		}
		CHECK(span == n->span);
		CHECK(items == (n->type == BT_BDICT ? 2 * n->count : n->count));
		bt_benc_end(e);
	}
	return n + n->span;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_bdoc doc, d2;
	struct bt_blimits lim = {.max_nodes = 1 << 16};
	int r = bt_bdecode(&doc, data, size, &lim);
	if (r < 0) {
		CHECK(r == SK_EPROTO || r == SK_EMSGSIZE);
		CHECK(doc.nodes == NULL && doc.err_off <= size);
		return 0;
	}
	CHECK(doc.used == size && doc.n >= 1);
	CHECK(doc.nodes[0].raw == data && doc.nodes[0].raw_len == size);
	CHECK(doc.nodes[0].span == doc.n);

	struct sk_buf b = SK_BUF_INIT(size + 1);
	struct bt_benc e;
	bt_benc_init(&e, &b);
	CHECK(reenc(&e, bt_broot(&doc)) == doc.nodes + doc.n);
	CHECK(bt_benc_error(&e) == 0);
	CHECK(sk_buf_len(&b) == size && memcmp(sk_buf_data(&b), data, size) == 0);
	sk_buf_free(&b);

	struct bt_bnode *nodes = calloc(doc.n, sizeof *nodes);
	CHECK(nodes);
	CHECK(bt_bdecode_into(&d2, nodes, doc.n, data, size, &lim) == 0);
	CHECK(d2.n == doc.n && memcmp(nodes, doc.nodes, doc.n * sizeof *nodes) == 0);
	if (doc.n > 1)
		CHECK(bt_bdecode_into(&d2, nodes, doc.n - 1, data, size, &lim) ==
		      SK_ENOBUFS);
	free(nodes);

	struct bt_blimits tr = {.max_nodes = 1 << 16, .trailing = true};
	CHECK(bt_bdecode(&d2, data, size, &tr) == 0 && d2.used == size);
	bt_bdoc_free(&d2);
	bt_bdoc_free(&doc);
	return 0;
}
