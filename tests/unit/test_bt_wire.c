/*
 * tests/unit/test_bt_wire.c - the peer wire protocol: handshake, every
 * message of BEP 3 and BEP 6, the BEP 10 extended handshake, framing
 * limits and the size checks of each message type.
 */
#include "test.h"

#include "bt/wire.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

TEST(handshake)
{
	struct bt_handshake h, g;
	struct sk_buf b = SK_BUF_INIT(1024);
	memset(&h, 0, sizeof h);
	h.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
	h.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
	fill(h.info_hash, 20, 1);
	fill(h.peer_id, 20, 100);
	ASSERT_OK(bt_handshake_write(&b, &h));
	ASSERT_EQ(sk_buf_len(&b), BT_HANDSHAKE_LEN);
	const uint8_t *p = sk_buf_data(&b);
	ASSERT_EQ(p[0], 19);
	ASSERT_MEMEQ(p + 1, "BitTorrent protocol", 19);
	ASSERT_EQ(p[25], 0x10); /* reserved byte 5 */
	ASSERT_EQ(p[27], 0x04); /* reserved byte 7 */

	/* every prefix short of 68 bytes asks for more */
	for (size_t n = 0; n < BT_HANDSHAKE_LEN; n++) {
		memset(&g, 0, sizeof g);
		ASSERT_EQ(bt_handshake_parse(p, n, &g), 0);
		if (n >= BT_HANDSHAKE_HEAD_LEN)
			ASSERT_MEMEQ(g.info_hash, h.info_hash, 20);
	}
	memset(&g, 0, sizeof g);
	ASSERT_EQ(bt_handshake_parse(p, BT_HANDSHAKE_LEN, &g), 1);
	ASSERT_MEMEQ(&g, &h, sizeof h);
	ASSERT(bt_handshake_fast(&g) && bt_handshake_ext(&g));
	memset(g.reserved, 0, 8);
	ASSERT(!bt_handshake_fast(&g) && !bt_handshake_ext(&g));

	/* a stranger is refused as soon as a byte differs */
	uint8_t bad[BT_HANDSHAKE_LEN];
	memcpy(bad, p, sizeof bad);
	bad[3] = 'x';
	ASSERT_EQ(bt_handshake_parse(bad, 3, &g), 0);
	ASSERT_EQ(bt_handshake_parse(bad, 4, &g), SK_EPROTO);
	ASSERT_EQ(bt_handshake_parse((const uint8_t *)"GET / HTTP/1.1", 14, &g),
		  SK_EPROTO);
	bad[3] = p[3];
	bad[0] = 18;
	ASSERT_EQ(bt_handshake_parse(bad, 1, &g), SK_EPROTO);

	/* a full buffer takes nothing */
	struct sk_buf small = SK_BUF_INIT(60);
	ASSERT_EQ(bt_handshake_write(&small, &h), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&small), 0);
	sk_buf_free(&small);
	sk_buf_free(&b);
}

/* Parse the next message of b and drop it from b. */
static void next(struct sk_buf *b, struct bt_msg *m)
{
	size_t used = 0;
	int r = bt_msg_parse(sk_buf_data(b), sk_buf_len(b), BT_MSG_MAX_DEFAULT, m, &used);
	if (r != 1)
		FAIL("bt_msg_parse: %d", r);
	/* the payload is checked by the caller before the buffer moves on,
	 * so copy what we compare into a static */
	static uint8_t copy[BT_MSG_MAX_DEFAULT];
	if (m->data.n) {
		memcpy(copy, m->data.p, m->data.n);
		m->data.p = copy;
	}
	sk_buf_consume(b, used);
}

TEST(messages_round_trip)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	uint8_t bits[3] = {0xff, 0x0f, 0x80}, block[BT_BLOCK_SIZE];
	fill(block, sizeof block, 9);

	ASSERT_OK(bt_msg_keepalive(&b));
	static const int simple[] = {BT_MSG_CHOKE, BT_MSG_UNCHOKE, BT_MSG_INTERESTED,
				     BT_MSG_NOT_INTERESTED, BT_MSG_HAVE_ALL,
				     BT_MSG_HAVE_NONE};
	for (size_t i = 0; i < 6; i++)
		ASSERT_OK(bt_msg_simple(&b, simple[i]));
	ASSERT_OK(bt_msg_index(&b, BT_MSG_HAVE, 0xdeadbeef));
	ASSERT_OK(bt_msg_index(&b, BT_MSG_SUGGEST, 7));
	ASSERT_OK(bt_msg_index(&b, BT_MSG_ALLOWED_FAST, 8));
	ASSERT_OK(bt_msg_bitfield(&b, bits, 3));
	ASSERT_OK(bt_msg_block(&b, BT_MSG_REQUEST, 1, 16384, 16384));
	ASSERT_OK(bt_msg_block(&b, BT_MSG_CANCEL, 2, 0, 100));
	ASSERT_OK(bt_msg_block(&b, BT_MSG_REJECT, 3, 32768, 5));
	ASSERT_OK(bt_msg_piece(&b, 4, 49152, block, sizeof block));
	ASSERT_OK(bt_msg_port(&b, 6881));
	ASSERT_OK(bt_msg_extended(&b, 3, "d1:xi1ee", 8));
	uint8_t hdr[BT_PIECE_HDR_LEN];
	bt_piece_header(hdr, 5, 0, 3); /* the header alone, the block after it */
	ASSERT_OK(sk_buf_append(&b, hdr, sizeof hdr));
	ASSERT_OK(sk_buf_append(&b, "abc", 3));

	struct bt_msg m;
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_KEEPALIVE);
	for (size_t i = 0; i < 6; i++) {
		next(&b, &m);
		ASSERT_EQ(m.type, simple[i]);
		ASSERT_EQ(m.data.n, 0);
	}
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_HAVE);
	ASSERT_EQ(m.index, 0xdeadbeef);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_SUGGEST);
	ASSERT_EQ(m.index, 7);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_ALLOWED_FAST);
	ASSERT_EQ(m.index, 8);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_BITFIELD);
	ASSERT_EQ(m.data.n, 3);
	ASSERT_MEMEQ(m.data.p, bits, 3);
	ASSERT_OK(bt_bitfield_check(m.data, 17));
	ASSERT(bt_bit_get(m.data.p, 0) && bt_bit_get(m.data.p, 12) &&
	       !bt_bit_get(m.data.p, 11) && bt_bit_get(m.data.p, 16));
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_REQUEST);
	ASSERT(m.index == 1 && m.begin == 16384 && m.length == 16384);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_CANCEL);
	ASSERT(m.index == 2 && m.begin == 0 && m.length == 100);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_REJECT);
	ASSERT(m.index == 3 && m.begin == 32768 && m.length == 5);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_PIECE);
	ASSERT(m.index == 4 && m.begin == 49152 && m.length == sizeof block);
	ASSERT_EQ(m.data.n, sizeof block);
	ASSERT_MEMEQ(m.data.p, block, sizeof block);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_PORT);
	ASSERT_EQ(m.port, 6881);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_EXTENDED);
	ASSERT_EQ(m.ext_id, 3);
	ASSERT_EQ(m.data.n, 8);
	ASSERT_MEMEQ(m.data.p, "d1:xi1ee", 8);
	next(&b, &m);
	ASSERT_EQ(m.type, BT_MSG_PIECE);
	ASSERT(m.index == 5 && m.data.n == 3);
	ASSERT_MEMEQ(m.data.p, "abc", 3);
	ASSERT_EQ(sk_buf_len(&b), 0);
	sk_buf_free(&b);

	ASSERT_STREQ(bt_msg_name(BT_MSG_REJECT), "reject");
	ASSERT_STREQ(bt_msg_name(99), "unknown");
}

/* A message from raw bytes: <len:4> then the rest. */
static int raw(const char *bytes, size_t n, size_t max, struct bt_msg *m,
	       size_t *used)
{
	return bt_msg_parse((const uint8_t *)bytes, n, max, m, used);
}

TEST(framing_and_sizes)
{
	struct bt_msg m;
	size_t used;

	/* need more: nothing, a partial length, a partial payload */
	ASSERT_EQ(raw("", 0, 100, &m, &used), 0);
	ASSERT_EQ(raw("\0\0\0", 3, 100, &m, &used), 0);
	ASSERT_EQ(raw("\0\0\0\5\4\0\0", 7, 100, &m, &used), 0);
	/* too big is known from the length alone */
	ASSERT_EQ(raw("\0\0\0\145", 4, 100, &m, &used), SK_EFRAMETOOBIG);
	ASSERT_EQ(raw("\xff\xff\xff\xff", 4, BT_MSG_MAX_DEFAULT, &m, &used),
		  SK_EFRAMETOOBIG);
	ASSERT_EQ(raw("\0\0\0\144", 4, 100, &m, &used), 0); /* exactly max: wait */
	/* a message followed by the start of the next */
	ASSERT_EQ(raw("\0\0\0\1\2\0\0", 7, 100, &m, &used), 1);
	ASSERT_EQ(used, 5);
	ASSERT_EQ(m.type, BT_MSG_INTERESTED);

	/* wrong payload sizes for known ids */
	ASSERT_EQ(raw("\0\0\0\2\0\0", 6, 100, &m, &used), SK_EPROTO);       /* choke+1 */
	ASSERT_EQ(raw("\0\0\0\4\4\0\0\0", 8, 100, &m, &used), SK_EPROTO);   /* have-1 */
	ASSERT_EQ(raw("\0\0\0\6\4\0\0\0\0\0", 10, 100, &m, &used), SK_EPROTO);
	ASSERT_EQ(raw("\0\0\0\14\6\0\0\0\0\0\0\0\0\0\0\0", 16, 100, &m, &used),
		  SK_EPROTO); /* request with 11 bytes */
	ASSERT_EQ(raw("\0\0\0\10\7\0\0\0\0\0\0\0", 12, 100, &m, &used),
		  SK_EPROTO); /* piece with 7 */
	ASSERT_EQ(raw("\0\0\0\4\11\0\0\0", 8, 100, &m, &used), SK_EPROTO); /* port+1 */
	ASSERT_EQ(raw("\0\0\0\1\5", 5, 100, &m, &used), SK_EPROTO);  /* empty bitfield */
	ASSERT_EQ(raw("\0\0\0\1\24", 5, 100, &m, &used), SK_EPROTO); /* extended, no id */
	ASSERT_EQ(raw("\0\0\0\2\16\0", 6, 100, &m, &used), SK_EPROTO); /* have all+1 */
	/* a piece with an empty block is only odd */
	ASSERT_EQ(raw("\0\0\0\11\7\0\0\0\1\0\0\0\2", 13, 100, &m, &used), 1);
	ASSERT(m.index == 1 && m.begin == 2 && m.data.n == 0);
	/* unknown ids pass through with their payload */
	ASSERT_EQ(raw("\0\0\0\3\143xy", 7, 100, &m, &used), 1);
	ASSERT_EQ(m.type, 99);
	ASSERT_EQ(m.data.n, 2);
	ASSERT_MEMEQ(m.data.p, "xy", 2);
}

TEST(bitfields)
{
	uint8_t bits[2] = {0, 0};
	struct sk_slice s = {bits, 2};
	ASSERT_OK(bt_bitfield_check(s, 16));
	ASSERT_OK(bt_bitfield_check(s, 9));
	ASSERT_EQ(bt_bitfield_check(s, 8), SK_EPROTO);  /* too long */
	ASSERT_EQ(bt_bitfield_check(s, 17), SK_EPROTO); /* too short */
	bt_bit_set(bits, 9);
	ASSERT_EQ(bits[1], 0x40);
	ASSERT_OK(bt_bitfield_check(s, 10));
	ASSERT_EQ(bt_bitfield_check(s, 9), SK_EPROTO);  /* a spare bit set */
	bt_bit_set(bits, 0);
	ASSERT_EQ(bits[0], 0x80);
	ASSERT(bt_bit_get(bits, 0) && !bt_bit_get(bits, 1));

	ASSERT_EQ(bt_msg_max_for(1000), BT_MSG_MAX_DEFAULT);
	ASSERT_EQ(bt_msg_max_for(4000000), 1 + 500000);

	/* a builder that does not fit appends nothing */
	struct sk_buf b = SK_BUF_INIT(20);
	ASSERT_OK(bt_msg_simple(&b, BT_MSG_CHOKE));
	uint8_t big[32] = {0};
	ASSERT_EQ(bt_msg_bitfield(&b, big, sizeof big), SK_ENOBUFS);
	ASSERT_EQ(bt_msg_piece(&b, 0, 0, big, sizeof big), SK_ENOBUFS);
	ASSERT_EQ(bt_msg_extended(&b, 1, big, sizeof big), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&b), 5);
	sk_buf_free(&b);
}

TEST(extension_handshake)
{
	struct bt_ext_handshake h, g;
	memset(&h, 0, sizeof h);
	/* deliberately unsorted: the writer sorts */
	h.m[0] = (struct bt_ext){{(const uint8_t *)"ut_pex", 6}, 2};
	h.m[1] = (struct bt_ext){{(const uint8_t *)"lt_donthave", 11}, 7};
	h.m[2] = (struct bt_ext){{(const uint8_t *)"ut_metadata", 11}, 3};
	h.nm = 3;
	h.port = 51413;
	h.v = (struct sk_slice){(const uint8_t *)"sockit 0.1.0", 12};
	memcpy(h.yourip, "\x7f\0\0\1", 4);
	h.yourip_len = 4;
	h.reqq = 250;
	h.metadata_size = 31337;

	struct sk_buf b = SK_BUF_INIT(4096);
	ASSERT_OK(bt_ext_handshake_write(&b, &h));
	struct bt_msg m;
	size_t used;
	ASSERT_EQ(bt_msg_parse(sk_buf_data(&b), sk_buf_len(&b), 4096, &m, &used), 1);
	ASSERT_EQ(used, sk_buf_len(&b));
	ASSERT_EQ(m.type, BT_MSG_EXTENDED);
	ASSERT_EQ(m.ext_id, 0);
	/* the strict parser accepted it, so the keys were sorted */
	ASSERT_OK(bt_ext_handshake_parse(m.data.p, m.data.n, &g));
	ASSERT_EQ(g.nm, 3);
	ASSERT_EQ(bt_ext_id(&g, "ut_metadata"), 3);
	ASSERT_EQ(bt_ext_id(&g, "ut_pex"), 2);
	ASSERT_EQ(bt_ext_id(&g, "lt_donthave"), 7);
	ASSERT_EQ(bt_ext_id(&g, "ut_holepunch"), 0);
	ASSERT_EQ(g.port, 51413);
	ASSERT_EQ(g.v.n, 12);
	ASSERT_MEMEQ(g.v.p, "sockit 0.1.0", 12);
	ASSERT_EQ(g.yourip_len, 4);
	ASSERT_MEMEQ(g.yourip, "\x7f\0\0\1", 4);
	ASSERT_EQ(g.reqq, 250);
	ASSERT_EQ(g.metadata_size, 31337);
	const char *want = "d1:md11:lt_donthavei7e11:ut_metadatai3e6:ut_pexi2ee"
			   "13:metadata_sizei31337e1:pi51413e4:reqqi250e"
			   "1:v12:sockit 0.1.06:yourip4:\x7f";
	ASSERT_MEMEQ(m.data.p, want, strlen(want));
	sk_buf_free(&b);

	/* fields of the wrong type or out of range are ignored */
	const char *odd = "d1:md1:ai300e1:bi-1e1:c1:x1:di0ee1:pi70000e"
			  "4:reqqi-5e1:vi1e6:yourip3:abce";
	ASSERT_OK(bt_ext_handshake_parse((const uint8_t *)odd, strlen(odd), &g));
	ASSERT_EQ(g.nm, 1); /* only "d" = 0 (disabled) survives */
	ASSERT_EQ(bt_ext_id(&g, "d"), 0);
	ASSERT(g.port == 0 && g.reqq == 0 && g.v.p == NULL && g.yourip_len == 0);
	ASSERT_EQ(g.metadata_size, -1);

	/* not a dict, malformed, too deep: refused */
	ASSERT_EQ(bt_ext_handshake_parse((const uint8_t *)"le", 2, &g), SK_EPROTO);
	ASSERT_EQ(bt_ext_handshake_parse((const uint8_t *)"d1:m", 4, &g), SK_EPROTO);
	const char *deep = "d1:mllllllllllleeeeeeeeeee";
	ASSERT_EQ(bt_ext_handshake_parse((const uint8_t *)deep, strlen(deep), &g),
		  SK_EPROTO);

	/* a full buffer takes nothing */
	struct sk_buf small = SK_BUF_INIT(30);
	ASSERT_EQ(bt_ext_handshake_write(&small, &h), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&small), 0);
	sk_buf_free(&small);
}

TEST(random_streams)
{
	/* arbitrary bytes: every result is consistent and inside the input */
	uint64_t s = 0x2545f4914f6cdd1dull;
	uint8_t buf[256];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(s % sizeof buf);
		for (size_t i = 0; i < n; i++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			buf[i] = (uint8_t)(i < 3 ? s % 2 : s); /* short lengths */
		}
		struct bt_msg m;
		size_t used = 0;
		int r = bt_msg_parse(buf, n, 200, &m, &used);
		ASSERT(r == 0 || r == 1 || r == SK_EPROTO || r == SK_EFRAMETOOBIG);
		if (r == 1) {
			ASSERT(used >= 4 && used <= n);
			if (m.data.n)
				ASSERT(m.data.p >= buf && m.data.p + m.data.n <= buf + used);
		}
	}
}

TEST_MAIN(TEST_ENTRY(handshake), TEST_ENTRY(messages_round_trip),
	  TEST_ENTRY(framing_and_sizes), TEST_ENTRY(bitfields),
	  TEST_ENTRY(extension_handshake), TEST_ENTRY(random_streams))
