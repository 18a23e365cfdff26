/*
 * src/bt/wire.h - the peer wire protocol: the handshake and messages of
 * BEP 3, the Fast Extension (BEP 6) and the extension protocol (BEP 10).
 *
 * Pure functions over bytes, no allocation, no global state.  A peer
 * session holds no fd: the connection layer feeds it bytes, it parses them
 * with these functions and appends its answers to an output sk_buf.
 *
 *	// after the handshake
 *	struct bt_msg msg;
 *	size_t used;
 *	int r;
 *	while ((r = bt_msg_parse(sk_buf_data(in), sk_buf_len(in), max,
 *				 &msg, &used)) == 1) {
 *		handle(&msg);            // msg.data points into `in`
 *		sk_buf_consume(in, used);
 *	}
 *	if (r < 0) drop the peer;    // too big or malformed
 *
 * Every builder appends one whole message or, failing (SK_ENOBUFS when the
 * buffer's max is reached), nothing.
 *
 * Integers on the wire are big-endian.  Whether a peer may send a given
 * message (fast messages only after both set the fast bit, bitfield only
 * first, ...) is for the session to decide: the parser checks the shape
 * of one message, not the conversation.
 */
#ifndef SK_BT_WIRE_H
#define SK_BT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/buf.h"
#include "sockit/error.h"

/* ---- handshake --------------------------------------------------------------
 * <19>"BitTorrent protocol"<reserved:8><info_hash:20><peer_id:20>: 68
 * bytes.  The first 48 (through the info-hash) are enough for a listener
 * to pick the torrent before it answers.
 */
#define BT_PROTOCOL "BitTorrent protocol"
#define BT_HANDSHAKE_LEN 68
#define BT_HANDSHAKE_HEAD_LEN 48

/* Reserved bits: byte index and mask. */
#define BT_RESERVED_EXT_BYTE 5 /* BEP 10 extension protocol */
#define BT_RESERVED_EXT_BIT 0x10
#define BT_RESERVED_FAST_BYTE 7 /* BEP 6 fast extension */
#define BT_RESERVED_FAST_BIT 0x04
#define BT_RESERVED_DHT_BYTE 7 /* BEP 5 */
#define BT_RESERVED_DHT_BIT 0x01

struct bt_handshake {
	uint8_t reserved[8];
	uint8_t info_hash[20];
	uint8_t peer_id[20];
};

/*
 * Parse a handshake at the front of p[0..n): 1 when all 68 bytes are there
 * (h filled), 0 when more are needed, SK_EPROTO as soon as the bytes
 * present cannot be a BitTorrent handshake (so a stranger is dropped
 * without waiting for 68 bytes).  With n >= BT_HANDSHAKE_HEAD_LEN and a
 * result of 0, h->reserved and h->info_hash are already filled.
 */
int bt_handshake_parse(const uint8_t *p, size_t n, struct bt_handshake *h);
int bt_handshake_write(struct sk_buf *b, const struct bt_handshake *h);

static inline bool bt_handshake_fast(const struct bt_handshake *h)
{
	return h->reserved[BT_RESERVED_FAST_BYTE] & BT_RESERVED_FAST_BIT;
}
static inline bool bt_handshake_ext(const struct bt_handshake *h)
{
	return h->reserved[BT_RESERVED_EXT_BYTE] & BT_RESERVED_EXT_BIT;
}

/* ---- messages ---------------------------------------------------------------
 * <length:4><id:1><payload>; a length of 0 is a keep-alive.
 */
enum bt_msg_type {
	BT_MSG_KEEPALIVE = -1, /* no id on the wire */
	BT_MSG_CHOKE = 0,
	BT_MSG_UNCHOKE = 1,
	BT_MSG_INTERESTED = 2,
	BT_MSG_NOT_INTERESTED = 3,
	BT_MSG_HAVE = 4,     /* index */
	BT_MSG_BITFIELD = 5, /* data: the bits, high bit of byte 0 = piece 0 */
	BT_MSG_REQUEST = 6,  /* index, begin, length */
	BT_MSG_PIECE = 7,    /* index, begin, data: the block */
	BT_MSG_CANCEL = 8,   /* index, begin, length */
	BT_MSG_PORT = 9,     /* port (BEP 5 DHT) */
	BT_MSG_SUGGEST = 13,      /* BEP 6: index */
	BT_MSG_HAVE_ALL = 14,     /* BEP 6 */
	BT_MSG_HAVE_NONE = 15,    /* BEP 6 */
	BT_MSG_REJECT = 16,       /* BEP 6: index, begin, length */
	BT_MSG_ALLOWED_FAST = 17, /* BEP 6: index */
	BT_MSG_EXTENDED = 20,     /* BEP 10: ext_id, data: the payload */
};

#define BT_BLOCK_SIZE (16u * 1024)   /* what we request and serve */
#define BT_BLOCK_MAX (128u * 1024)   /* the largest request we accept */
/* A good default message limit: a 16 KiB block plus its header, room for
 * bitfields of up to ~256k pieces and for BEP 10 / ut_metadata messages. */
#define BT_MSG_MAX_DEFAULT (BT_BLOCK_SIZE + 32u * 1024)

struct bt_msg {
	int type; /* enum bt_msg_type, or an unknown id (0..255) */
	uint32_t index, begin, length;
	uint16_t port;
	uint8_t ext_id;       /* BT_MSG_EXTENDED: 0 = the BEP 10 handshake */
	struct sk_slice data; /* bitfield, block, extended or unknown payload */
};

/*
 * The message at the front of p[0..n): 1 with *m and *used (the bytes to
 * consume) when it is all there, 0 when more bytes are needed, or
 *	SK_EFRAMETOOBIG  its length exceeds max (known from the first 4
 *	                 bytes, so a peer cannot make us buffer it)
 *	SK_EPROTO        a known id with the wrong payload size
 * Unknown ids parse fine (type = the id, data = the payload): BEP 3 lets a
 * peer ignore what it does not understand.
 */
int bt_msg_parse(const uint8_t *p, size_t n, size_t max, struct bt_msg *m,
		 size_t *used);

/* A readable name for a type ("have", "reject", ...; "unknown"). */
const char *bt_msg_name(int type);

/* A message limit suited to a torrent of npieces pieces: the default, or
 * more when its bitfield alone would not fit. */
size_t bt_msg_max_for(uint32_t npieces);

/* Check a bitfield for npieces pieces: ceil(npieces / 8) bytes, the spare
 * bits at the end clear.  0 or SK_EPROTO. */
int bt_bitfield_check(struct sk_slice bits, uint32_t npieces);

static inline bool bt_bit_get(const uint8_t *bits, uint32_t i)
{
	return (bits[i >> 3] >> (7 - (i & 7))) & 1;
}
static inline void bt_bit_set(uint8_t *bits, uint32_t i)
{
	bits[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
}

/* ---- builders ---------------------------------------------------------------- */

int bt_msg_keepalive(struct sk_buf *b);
/* choke, unchoke, interested, not interested, have all, have none */
int bt_msg_simple(struct sk_buf *b, int type);
/* have, suggest, allowed fast */
int bt_msg_index(struct sk_buf *b, int type, uint32_t index);
/* request, cancel, reject */
int bt_msg_block(struct sk_buf *b, int type, uint32_t index, uint32_t begin,
		 uint32_t length);
int bt_msg_bitfield(struct sk_buf *b, const uint8_t *bits, size_t nbytes);
int bt_msg_piece(struct sk_buf *b, uint32_t index, uint32_t begin,
		 const void *block, uint32_t len);
/* Only the 13-byte header of a piece message with a len-byte block (len
 * at most a block, so 9 + len fits); the caller appends or sends the block
 * itself right after. */
#define BT_PIECE_HDR_LEN 13
void bt_piece_header(uint8_t hdr[BT_PIECE_HDR_LEN], uint32_t index,
		     uint32_t begin, uint32_t len);
int bt_msg_port(struct sk_buf *b, uint16_t port);
int bt_msg_extended(struct sk_buf *b, uint8_t ext_id, const void *payload,
		    size_t len);

/* ---- BEP 10 extension handshake ----------------------------------------------
 * The payload of extended message 0: a bencoded dict
 *	m             {name: local id (1..255), ...}; 0 disables a name
 *	p             listening port
 *	v             client name and version
 *	yourip        the receiver's address as the sender sees it (4 or 16)
 *	reqq          how many outstanding requests the sender queues
 *	metadata_size (BEP 9) size of the info dict
 * Parsed strings are slices into the payload, which must outlive h.
 */
#define BT_EXT_MAX 16 /* extensions remembered from one handshake */

struct bt_ext {
	struct sk_slice name;
	uint8_t id;
};

struct bt_ext_handshake {
	struct bt_ext m[BT_EXT_MAX];
	size_t nm;
	uint16_t port;        /* 0 if absent */
	struct sk_slice v;    /* {NULL, 0} if absent */
	uint8_t yourip[16];
	size_t yourip_len;    /* 0, 4 or 16 */
	uint32_t reqq;        /* 0 if absent */
	int64_t metadata_size; /* -1 if absent */
};

/* 0, or SK_EPROTO for a payload that is not a bencoded dict (a field of
 * the wrong type or out of range is ignored, as BEP 10 asks). */
int bt_ext_handshake_parse(const uint8_t *p, size_t n,
			   struct bt_ext_handshake *h);

/* The id a peer gave an extension name, 0 if it has none. */
uint8_t bt_ext_id(const struct bt_ext_handshake *h, const char *name);

/* Append a whole extended message 0 carrying h (names in h->m need not be
 * sorted; the writer sorts them as bencode requires). */
int bt_ext_handshake_write(struct sk_buf *b, const struct bt_ext_handshake *h);

#endif
