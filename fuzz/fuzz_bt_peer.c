/*
 * fuzz/fuzz_bt_peer.c - the peer session state machine (src/bt/peer.c)
 * with arbitrary bytes from the remote peer.
 *
 * A small torrent (9 pieces of 32 KiB, the last one short) and a real
 * piece picker; the torrent side (storage, verification) is played by
 * the callbacks below.  Input:
 *	byte 0  bit 0: prepend a valid handshake (bit 1: with the fast bit,
 *	        bit 2: with the extension bit); bit 3: we dialled out
 *	byte 1  the pieces we have (bit i: piece i, for i < 8)
 *	then    records: <op> <len> <len bytes>; op % 8 picks what happens
 *	        before the bytes are fed: nothing, time passes (tick), serve,
 *	        choke, unchoke, refresh interest, rates, a piece becomes ours
 * Invariants checked after every step: everything the session wrote is a
 * well-formed handshake followed by well-formed messages; the picker's
 * block counters match its blocks; queues stay within their bounds.  At
 * the end the session is freed and the picker must hold no request and
 * no availability from it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/peer.h"
#include "fuzz.h"

#define NPIECES 9
#define PLEN (32u * 1024)
#define TOTAL ((uint64_t)(NPIECES - 1) * PLEN + 5000)

struct host {
	struct bt_picker pk;
	uint8_t verdict; /* bit k: the k-th completed piece fails its hash */
	unsigned completed;
};

static int op_handshake(void *ud, struct bt_psess *p)
{
	(void)ud;
	if (p->remote.peer_id[0] == 'X') {
		snprintf(p->why, sizeof p->why, "refused");
		return -1;
	}
	return 0;
}

static int op_read(void *ud, const struct bt_block *b, uint8_t *out)
{
	struct host *h = ud;
	CHECK(bt_picker_has(&h->pk, b->piece));
	CHECK(b->len > 0 && b->len <= BT_BLOCK_MAX);
	CHECK((uint64_t)b->begin + b->len <= bt_picker_piece_size(&h->pk, b->piece));
	memset(out, (int)b->piece, b->len);
	return b->begin == 0 && b->piece == 3 ? -1 : 0; /* a read error too */
}

static int op_block(void *ud, struct bt_psess *p, const struct bt_block *b,
		    const uint8_t *data, int picked)
{
	struct host *h = ud;
	(void)p;
	(void)data;
	CHECK(picked == BT_PICK_STORED || picked == BT_PICK_COMPLETE);
	CHECK(b->len > 0 && b->len <= BT_BLOCK_SIZE && b->begin % BT_BLOCK_SIZE == 0);
	if (picked == BT_PICK_COMPLETE) {
		uint32_t who[4];
		if ((h->verdict >> (h->completed++ & 7)) & 1) {
			CHECK(bt_picker_failed(&h->pk, b->piece, who, 4) >= 1);
			return -1; /* the host bans the sender */
		}
		bt_picker_verified(&h->pk, b->piece);
	}
	return 0;
}

static void op_interest(void *ud, struct bt_psess *p)
{
	(void)ud;
	(void)p;
}

/* no .send: every block goes through op_read into the session's queue */
static const struct bt_swarm_ops ops = {
	.handshake = op_handshake, .read = op_read, .block = op_block,
	.interest = op_interest,
};

static void check_picker(const struct bt_picker *pk)
{
	for (size_t k = 0; k < pk->nparts; k++) {
		const struct bt_partial *pp = &pk->parts[k];
		uint32_t nfree = 0, nrecv = 0;
		for (uint32_t b = 0; b < pp->nblocks; b++) {
			nfree += pp->req[b] == 0 && !pp->got[b];
			nrecv += pp->got[b];
		}
		CHECK(pp->nfree == nfree && pp->nrecv == nrecv);
		CHECK(pk->slot[pp->index] == (int32_t)k);
	}
}

/* Everything written so far must parse; consume it. */
static void check_output(struct bt_psess *p, bool *hs_seen)
{
	struct sk_buf *o = &p->out;
	if (!*hs_seen && sk_buf_len(o) >= BT_HANDSHAKE_LEN) {
		struct bt_handshake h;
		CHECK(bt_handshake_parse(sk_buf_data(o), sk_buf_len(o), &h) == 1);
		CHECK(memcmp(h.info_hash, p->sw->m->info_hash, 20) == 0);
		sk_buf_consume(o, BT_HANDSHAKE_LEN);
		*hs_seen = true;
	}
	if (!*hs_seen)
		return;
	struct bt_msg m;
	size_t used;
	int r;
	while ((r = bt_msg_parse(sk_buf_data(o), sk_buf_len(o), 1u << 20, &m,
				 &used)) == 1) {
		if (m.type == BT_MSG_REQUEST || m.type == BT_MSG_CANCEL ||
		    m.type == BT_MSG_REJECT || m.type == BT_MSG_HAVE)
			CHECK(m.index < NPIECES);
		sk_buf_consume(o, used);
	}
	CHECK(r == 0 && sk_buf_len(o) == 0); /* only whole messages */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bt_metainfo m;
	struct host h;
	struct bt_swarm sw;
	struct bt_psess p;
	struct sk_buf in = SK_BUF_INIT(1u << 20);
	bool hs_seen = false;

	if (size < 3)
		return 0;
	memset(&m, 0, sizeof m);
	memset(m.info_hash, 0xab, 20);
	m.npieces = NPIECES;
	m.piece_length = PLEN;
	m.total_length = TOTAL;
	memset(&h, 0, sizeof h);
	if (bt_picker_init(&h.pk, NPIECES, PLEN, TOTAL) < 0)
		abort();
	for (uint32_t i = 0; i < 8; i++)
		if ((data[1] >> i) & 1)
			bt_picker_set_have(&h.pk, i);
	h.verdict = data[2];
	memset(&sw, 0, sizeof sw);
	sw.m = &m;
	sw.pk = &h.pk;
	memset(sw.peer_id, 'S', 20);
	sw.port = 6881;
	sw.msg_max = bt_msg_max_for(NPIECES);
	sw.max_queue = 40;
	sw.now = 1000000;
	sw.ops = &ops;
	sw.ud = &h;
	if (bt_psess_init(&p, &sw, 7, data[0] & 8) < 0)
		abort();
	if (data[0] & 1) {
		struct bt_handshake hs;
		memset(&hs, 0, sizeof hs);
		if (data[0] & 2)
			hs.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
		if (data[0] & 4)
			hs.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
		memcpy(hs.info_hash, m.info_hash, 20);
		memset(hs.peer_id, 'P', 20);
		if (bt_handshake_write(&in, &hs) < 0)
			abort();
	}
	const uint8_t *q = data + 3, *end = data + size;
	bool dead = false;
	while (q < end && !dead) {
		uint8_t op = *q++;
		size_t len = q < end ? *q++ : 0;
		if (len > (size_t)(end - q))
			len = (size_t)(end - q);
		switch (op % 8) {
		case 1:
			sw.now += 1000u * (op >> 3) * (op >> 3);
			dead = bt_psess_tick(&p) < 0;
			break;
		case 2:
			bt_psess_serve(&p, (size_t)(op >> 3) * 4096);
			break;
		case 3:
			bt_psess_choke(&p, true);
			break;
		case 4:
			bt_psess_choke(&p, false);
			break;
		case 5:
			bt_psess_update_interest(&p);
			break;
		case 6:
			bt_psess_rates(&p, 1 + (op >> 3) * 100);
			break;
		case 7:
			if (!bt_picker_has(&h.pk, (op >> 3) % NPIECES)) {
				bt_picker_set_have(&h.pk, (op >> 3) % NPIECES);
				bt_psess_have(&p, (op >> 3) % NPIECES);
			}
			break;
		default:
			break;
		}
		if (!dead && sk_buf_append(&in, q, len) == 0)
			dead = bt_psess_feed(&p, &in) < 0;
		q += len;
		if (dead)
			CHECK(p.why[0] != '\0');
		check_output(&p, &hs_seen);
		check_picker(&h.pk);
		CHECK(p.nin <= BT_PSESS_MAX_IN);
		CHECK(p.nrq <= 40);
		CHECK(p.nbits <= NPIECES);
	}
	bt_psess_free(&p);
	check_picker(&h.pk);
	for (size_t k = 0; k < h.pk.nparts; k++) {
		CHECK(h.pk.parts[k].owner != 7);
		for (uint32_t b = 0; b < h.pk.parts[k].nblocks; b++)
			CHECK(h.pk.parts[k].req[b] == 0);
	}
	for (uint32_t i = 0; i < NPIECES; i++)
		CHECK(h.pk.avail[i] == 0);
	CHECK(h.pk.seeds == 0);
	bt_picker_free(&h.pk);
	sk_buf_free(&in);
	return 0;
}
