/*
 * src/bt/wire.c - peer wire messages: parsing and building.
 *
 * The parser reads the 4-byte length first and refuses an over-long
 * message before any of its payload has arrived; then it checks that a
 * known id has exactly the payload size its type defines.  The builders
 * reserve the whole message in the sk_buf, fill it and commit, so they
 * append all or nothing.
 */
#include "bt/wire.h"

#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       p[3];
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* ---- handshake ----------------------------------------------------------- */

int bt_handshake_parse(const uint8_t *p, size_t n, struct bt_handshake *h)
{
	static const char head[] = "\023" BT_PROTOCOL; /* 20 bytes and a NUL */
	size_t k = n < 20 ? n : 20;

	if (memcmp(p, head, k) != 0)
		return SK_EPROTO;
	if (n >= BT_HANDSHAKE_HEAD_LEN) {
		memcpy(h->reserved, p + 20, 8);
		memcpy(h->info_hash, p + 28, 20);
	}
	if (n < BT_HANDSHAKE_LEN)
		return 0;
	memcpy(h->peer_id, p + 48, 20);
	return 1;
}

int bt_handshake_write(struct sk_buf *b, const struct bt_handshake *h)
{
	uint8_t *p;
	int r = sk_buf_reserve(b, BT_HANDSHAKE_LEN, &p);
	if (r < 0)
		return r;
	p[0] = 19;
	memcpy(p + 1, BT_PROTOCOL, 19);
	memcpy(p + 20, h->reserved, 8);
	memcpy(p + 28, h->info_hash, 20);
	memcpy(p + 48, h->peer_id, 20);
	sk_buf_commit(b, BT_HANDSHAKE_LEN);
	return 0;
}

/* ---- parsing ---------------------------------------------------------------- */

/* The payload size a known id must have: exact, or a minimum when *exact
 * comes back false.  -1 for ids we do not know. */
static long payload_size(int id, bool *exact)
{
	*exact = true;
	switch (id) {
	case BT_MSG_CHOKE: case BT_MSG_UNCHOKE: case BT_MSG_INTERESTED:
	case BT_MSG_NOT_INTERESTED: case BT_MSG_HAVE_ALL: case BT_MSG_HAVE_NONE:
		return 0;
	case BT_MSG_HAVE: case BT_MSG_SUGGEST: case BT_MSG_ALLOWED_FAST:
		return 4;
	case BT_MSG_REQUEST: case BT_MSG_CANCEL: case BT_MSG_REJECT:
		return 12;
	case BT_MSG_PORT:
		return 2;
	case BT_MSG_PIECE:
		*exact = false;
		return 8; /* index, begin; an empty block is odd but harmless */
	case BT_MSG_BITFIELD: case BT_MSG_EXTENDED:
		*exact = false;
		return 1;
	default:
		return -1;
	}
}

static void fill_fields(struct bt_msg *m, const uint8_t *q, size_t len)
{
	switch (m->type) {
	case BT_MSG_HAVE: case BT_MSG_SUGGEST: case BT_MSG_ALLOWED_FAST:
		m->index = get32(q);
		break;
	case BT_MSG_REQUEST: case BT_MSG_CANCEL: case BT_MSG_REJECT:
		m->index = get32(q);
		m->begin = get32(q + 4);
		m->length = get32(q + 8);
		break;
	case BT_MSG_PIECE:
		m->index = get32(q);
		m->begin = get32(q + 4);
		m->data.p = q + 8;
		m->data.n = len - 8;
		m->length = (uint32_t)(len - 8);
		break;
	case BT_MSG_PORT:
		m->port = (uint16_t)(q[0] << 8 | q[1]);
		break;
	case BT_MSG_EXTENDED:
		m->ext_id = q[0];
		m->data.p = q + 1;
		m->data.n = len - 1;
		break;
	default: /* bitfield, unknown ids, no-payload messages */
		m->data.p = q;
		m->data.n = len;
		break;
	}
}

int bt_msg_parse(const uint8_t *p, size_t n, size_t max, struct bt_msg *m,
		 size_t *used)
{
	if (n < 4)
		return 0;
	uint32_t len = get32(p);
	if (len > max)
		return SK_EFRAMETOOBIG;
	if (n - 4 < len)
		return 0;
	memset(m, 0, sizeof *m);
	*used = 4 + (size_t)len;
	if (len == 0) {
		m->type = BT_MSG_KEEPALIVE;
		return 1;
	}
	m->type = p[4];
	bool exact;
	long want = payload_size(m->type, &exact);
	size_t plen = len - 1;
	if (want >= 0 && (exact ? plen != (size_t)want : plen < (size_t)want))
		return SK_EPROTO;
	fill_fields(m, p + 5, plen);
	return 1;
}

const char *bt_msg_name(int type)
{
	switch (type) {
	case BT_MSG_KEEPALIVE: return "keep-alive";
	case BT_MSG_CHOKE: return "choke";
	case BT_MSG_UNCHOKE: return "unchoke";
	case BT_MSG_INTERESTED: return "interested";
	case BT_MSG_NOT_INTERESTED: return "not interested";
	case BT_MSG_HAVE: return "have";
	case BT_MSG_BITFIELD: return "bitfield";
	case BT_MSG_REQUEST: return "request";
	case BT_MSG_PIECE: return "piece";
	case BT_MSG_CANCEL: return "cancel";
	case BT_MSG_PORT: return "port";
	case BT_MSG_SUGGEST: return "suggest";
	case BT_MSG_HAVE_ALL: return "have all";
	case BT_MSG_HAVE_NONE: return "have none";
	case BT_MSG_REJECT: return "reject";
	case BT_MSG_ALLOWED_FAST: return "allowed fast";
	case BT_MSG_EXTENDED: return "extended";
	default: return "unknown";
	}
}

size_t bt_msg_max_for(uint32_t npieces)
{
	size_t bf = 1 + ((size_t)npieces + 7) / 8;
	return bf > BT_MSG_MAX_DEFAULT ? bf : BT_MSG_MAX_DEFAULT;
}

int bt_bitfield_check(struct sk_slice bits, uint32_t npieces)
{
	size_t want = ((size_t)npieces + 7) / 8;
	if (bits.n != want)
		return SK_EPROTO;
	unsigned spare = (unsigned)(want * 8 - npieces);
	if (spare && (bits.p[want - 1] & ((1u << spare) - 1)))
		return SK_EPROTO;
	return 0;
}

/* ---- builders --------------------------------------------------------------- */

/* Reserve a whole message: length, id, `fields` bytes of fixed fields and
 * `extra` bytes of data; *p points just after the id.  The caller fills
 * and commits 5 + fields + extra bytes. */
static int msg_begin(struct sk_buf *b, int type, size_t fields, size_t extra,
		     uint8_t **p)
{
	size_t len = 1 + fields + extra;
	if (len > UINT32_MAX)
		return SK_EMSGSIZE;
	int r = sk_buf_reserve(b, 4 + len, p);
	if (r < 0)
		return r;
	*p = put32(*p, (uint32_t)len);
	*(*p)++ = (uint8_t)type;
	return 0;
}

int bt_msg_keepalive(struct sk_buf *b)
{
	static const uint8_t zero[4];
	return sk_buf_append(b, zero, 4);
}

int bt_msg_simple(struct sk_buf *b, int type)
{
	uint8_t *p;
	int r = msg_begin(b, type, 0, 0, &p);
	if (r == 0)
		sk_buf_commit(b, 5);
	return r;
}

int bt_msg_index(struct sk_buf *b, int type, uint32_t index)
{
	uint8_t *p;
	int r = msg_begin(b, type, 4, 0, &p);
	if (r < 0)
		return r;
	put32(p, index);
	sk_buf_commit(b, 9);
	return 0;
}

int bt_msg_block(struct sk_buf *b, int type, uint32_t index, uint32_t begin,
		 uint32_t length)
{
	uint8_t *p;
	int r = msg_begin(b, type, 12, 0, &p);
	if (r < 0)
		return r;
	put32(put32(put32(p, index), begin), length);
	sk_buf_commit(b, 17);
	return 0;
}

int bt_msg_bitfield(struct sk_buf *b, const uint8_t *bits, size_t nbytes)
{
	uint8_t *p;
	int r = msg_begin(b, BT_MSG_BITFIELD, 0, nbytes, &p);
	if (r < 0)
		return r;
	if (nbytes)
		memcpy(p, bits, nbytes);
	sk_buf_commit(b, 5 + nbytes);
	return 0;
}

void bt_piece_header(uint8_t hdr[BT_PIECE_HDR_LEN], uint32_t index,
		     uint32_t begin, uint32_t len)
{
	put32(hdr, 9 + len);
	hdr[4] = BT_MSG_PIECE;
	put32(put32(hdr + 5, index), begin);
}

int bt_msg_piece(struct sk_buf *b, uint32_t index, uint32_t begin,
		 const void *block, uint32_t len)
{
	uint8_t *p;
	int r = msg_begin(b, BT_MSG_PIECE, 8, len, &p);
	if (r < 0)
		return r;
	p = put32(put32(p, index), begin);
	if (len)
		memcpy(p, block, len);
	sk_buf_commit(b, 13 + (size_t)len);
	return 0;
}

int bt_msg_port(struct sk_buf *b, uint16_t port)
{
	uint8_t *p;
	int r = msg_begin(b, BT_MSG_PORT, 2, 0, &p);
	if (r < 0)
		return r;
	p[0] = (uint8_t)(port >> 8);
	p[1] = (uint8_t)port;
	sk_buf_commit(b, 7);
	return 0;
}

int bt_msg_extended(struct sk_buf *b, uint8_t ext_id, const void *payload,
		    size_t len)
{
	uint8_t *p;
	int r = msg_begin(b, BT_MSG_EXTENDED, 1, len, &p);
	if (r < 0)
		return r;
	*p++ = ext_id;
	if (len)
		memcpy(p, payload, len);
	sk_buf_commit(b, 6 + len);
	return 0;
}

/* ---- BEP 10 handshake ---------------------------------------------------------- */

#define EXT_NODES 256 /* a handshake is small; more nodes is abuse */

static void ext_parse_m(const struct bt_bnode *m, struct bt_ext_handshake *h)
{
	if (!bt_bis(m, BT_BDICT))
		return; /* a list would walk as if it had keys */
	for (const struct bt_bnode *k = bt_bfirst(m); k; ) {
		const struct bt_bnode *v = bt_bnext(m, k);
		int64_t id;
		if (h->nm < BT_EXT_MAX && bt_bint(v, &id) == 0 && id >= 0 &&
		    id <= 255) {
			h->m[h->nm].name = bt_bstr(k);
			h->m[h->nm].id = (uint8_t)id;
			h->nm++;
		}
		k = bt_bnext(m, v);
	}
}

int bt_ext_handshake_parse(const uint8_t *p, size_t n,
			   struct bt_ext_handshake *h)
{
	struct bt_bnode nodes[EXT_NODES];
	struct bt_blimits lim = {.max_depth = 8};
	struct bt_bdoc doc;
	int64_t v;

	memset(h, 0, sizeof *h);
	h->metadata_size = -1;
	if (bt_bdecode_into(&doc, nodes, EXT_NODES, p, n, &lim) < 0)
		return SK_EPROTO;
	const struct bt_bnode *d = bt_broot(&doc);
	if (!bt_bis(d, BT_BDICT))
		return SK_EPROTO;
	ext_parse_m(bt_bdict_get(d, "m"), h);
	if (bt_bint(bt_bdict_get(d, "p"), &v) == 0 && v > 0 && v <= 65535)
		h->port = (uint16_t)v;
	h->v = bt_bstr(bt_bdict_get(d, "v"));
	struct sk_slice ip = bt_bstr(bt_bdict_get(d, "yourip"));
	if (ip.n == 4 || ip.n == 16) {
		memcpy(h->yourip, ip.p, ip.n);
		h->yourip_len = ip.n;
	}
	if (bt_bint(bt_bdict_get(d, "reqq"), &v) == 0 && v > 0 && v <= UINT32_MAX)
		h->reqq = (uint32_t)v;
	if (bt_bint(bt_bdict_get(d, "metadata_size"), &v) == 0 && v >= 0)
		h->metadata_size = v;
	return 0;
}

uint8_t bt_ext_id(const struct bt_ext_handshake *h, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < h->nm; i++)
		if (h->m[i].name.n == n && memcmp(h->m[i].name.p, name, n) == 0)
			return h->m[i].id;
	return 0;
}

static int ext_cmp(const void *a, const void *b)
{
	const struct bt_ext *x = a, *y = b;
	size_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
	int c = n ? memcmp(x->name.p, y->name.p, n) : 0;
	if (c)
		return c;
	return x->name.n < y->name.n ? -1 : x->name.n > y->name.n;
}

static void ext_write_dict(struct bt_benc *e, const struct bt_ext_handshake *h)
{
	struct bt_ext m[BT_EXT_MAX];
	size_t nm = h->nm < BT_EXT_MAX ? h->nm : BT_EXT_MAX;

	memcpy(m, h->m, nm * sizeof *m);
	qsort(m, nm, sizeof *m, ext_cmp);
	bt_benc_dict(e);
	bt_benc_cstr(e, "m");
	bt_benc_dict(e);
	for (size_t i = 0; i < nm; i++) {
		if (i > 0 && ext_cmp(&m[i - 1], &m[i]) == 0)
			continue; /* a key appears once */
		bt_benc_str(e, m[i].name.p, m[i].name.n);
		bt_benc_int(e, m[i].id);
	}
	bt_benc_end(e);
	if (h->metadata_size >= 0) {
		bt_benc_cstr(e, "metadata_size");
		bt_benc_int(e, h->metadata_size);
	}
	if (h->port) {
		bt_benc_cstr(e, "p");
		bt_benc_int(e, h->port);
	}
	if (h->reqq) {
		bt_benc_cstr(e, "reqq");
		bt_benc_int(e, h->reqq);
	}
	if (h->v.p) {
		bt_benc_cstr(e, "v");
		bt_benc_str(e, h->v.p, h->v.n);
	}
	if (h->yourip_len == 4 || h->yourip_len == 16) {
		bt_benc_cstr(e, "yourip");
		bt_benc_str(e, h->yourip, h->yourip_len);
	}
	bt_benc_end(e);
}

/* Encoded straight into b behind a placeholder header that is patched
 * afterwards; on failure b is cut back to where it was. */
int bt_ext_handshake_write(struct sk_buf *b, const struct bt_ext_handshake *h)
{
	static const uint8_t hdr[6] = {0, 0, 0, 0, BT_MSG_EXTENDED, 0};
	size_t start = sk_buf_len(b);
	struct bt_benc e;
	int r = sk_buf_append(b, hdr, sizeof hdr);

	if (r < 0)
		return r;
	bt_benc_init(&e, b);
	ext_write_dict(&e, h);
	r = bt_benc_error(&e);
	size_t len = sk_buf_len(b) - start - 4;
	if (r == 0 && len > UINT32_MAX)
		r = SK_EMSGSIZE;
	if (r < 0) {
		b->len = start;
		return r;
	}
	put32(b->data + b->off + start, (uint32_t)len);
	return 0;
}
