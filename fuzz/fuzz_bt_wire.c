/*
 * fuzz/fuzz_bt_wire.c - peer wire parsing.
 *
 * Byte 0 picks the message size limit; the rest is a stream.  It is read
 * as a handshake (a complete one must write back to the same 68 bytes),
 * then as a run of messages: every message of a known type, rebuilt with
 * the builders from its parsed fields, must give back exactly the bytes it
 * was parsed from.  BEP 10 handshakes that parse are written and parsed
 * again and must keep every field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/wire.h"
#include "fuzz.h"

static int rebuild(struct sk_buf *b, const struct bt_msg *m)
{
	switch (m->type) {
	case BT_MSG_KEEPALIVE:
		return bt_msg_keepalive(b);
	case BT_MSG_CHOKE: case BT_MSG_UNCHOKE: case BT_MSG_INTERESTED:
	case BT_MSG_NOT_INTERESTED: case BT_MSG_HAVE_ALL: case BT_MSG_HAVE_NONE:
		return bt_msg_simple(b, m->type);
	case BT_MSG_HAVE: case BT_MSG_SUGGEST: case BT_MSG_ALLOWED_FAST:
		return bt_msg_index(b, m->type, m->index);
	case BT_MSG_REQUEST: case BT_MSG_CANCEL: case BT_MSG_REJECT:
		return bt_msg_block(b, m->type, m->index, m->begin, m->length);
	case BT_MSG_PIECE:
		return bt_msg_piece(b, m->index, m->begin, m->data.p, m->length);
	case BT_MSG_BITFIELD:
		return bt_msg_bitfield(b, m->data.p, m->data.n);
	case BT_MSG_PORT:
		return bt_msg_port(b, m->port);
	case BT_MSG_EXTENDED:
		return bt_msg_extended(b, m->ext_id, m->data.p, m->data.n);
	default:
		return 1; /* unknown: nothing to compare */
	}
}

static bool same_ext(const struct bt_ext_handshake *a,
		     const struct bt_ext_handshake *b)
{
	if (a->nm != b->nm || a->port != b->port || a->reqq != b->reqq ||
	    a->metadata_size != b->metadata_size || a->v.n != b->v.n ||
	    a->yourip_len != b->yourip_len ||
	    memcmp(a->yourip, b->yourip, a->yourip_len) != 0 ||
	    (a->v.n && memcmp(a->v.p, b->v.p, a->v.n) != 0))
		return false;
	for (size_t i = 0; i < a->nm; i++)
		if (a->m[i].id != b->m[i].id || a->m[i].name.n != b->m[i].name.n ||
		    (a->m[i].name.n &&
		     memcmp(a->m[i].name.p, b->m[i].name.p, a->m[i].name.n) != 0))
			return false;
	return true;
}

static void ext_round_trip(const struct bt_msg *m)
{
	struct bt_ext_handshake h, g;
	if (bt_ext_handshake_parse(m->data.p, m->data.n, &h) < 0)
		return;
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	CHECK(bt_ext_handshake_write(&b, &h) == 0);
	struct bt_msg w;
	size_t used;
	CHECK(bt_msg_parse(sk_buf_data(&b), sk_buf_len(&b), 1 << 20, &w, &used) == 1);
	CHECK(used == sk_buf_len(&b) && w.type == BT_MSG_EXTENDED && w.ext_id == 0);
	CHECK(bt_ext_handshake_parse(w.data.p, w.data.n, &g) == 0);
	CHECK(same_ext(&h, &g));
	sk_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = 16 + (size_t)data[0] * 64;
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	struct bt_handshake h;
	int r = bt_handshake_parse(p, n, &h);
	CHECK(r == 0 || r == 1 || r == SK_EPROTO);
	if (r == 1) {
		struct sk_buf b = SK_BUF_INIT(BT_HANDSHAKE_LEN);
		CHECK(bt_handshake_write(&b, &h) == 0);
		CHECK(memcmp(sk_buf_data(&b), p, BT_HANDSHAKE_LEN) == 0);
		sk_buf_free(&b);
	}

	struct bt_msg m;
	size_t used;
	while ((r = bt_msg_parse(p, n, max, &m, &used)) == 1) {
		CHECK(used >= 4 && used <= n && used - 4 <= max);
		if (m.data.n)
			CHECK(m.data.p > p && m.data.p + m.data.n <= p + used);
		struct sk_buf b = SK_BUF_INIT(max + 4);
		int w = rebuild(&b, &m);
		if (w == 0)
			CHECK(sk_buf_len(&b) == used &&
			      memcmp(sk_buf_data(&b), p, used) == 0);
		sk_buf_free(&b);
		if (m.type == BT_MSG_EXTENDED && m.ext_id == 0)
			ext_round_trip(&m);
		if (m.type == BT_MSG_BITFIELD)
			(void)bt_bitfield_check(m.data, (uint32_t)(m.data.n * 8 - (p[0] & 7)));
		p += used;
		n -= used;
	}
	CHECK(r == 0 || r == SK_EPROTO || r == SK_EFRAMETOOBIG);
	return 0;
}
