/*
 * src/bt/peer.c - one peer's protocol state (see peer.h).
 *
 * Output goes to p->out with the wire.h builders; a builder that fails
 * (the buffer's cap, 64 MiB, reached: a peer that does not read) sets
 * p->why, and the session fails at the next feed or tick.
 *
 * Our requests are a FIFO in rq[rq_off .. rq_off + nrq): blocks mostly
 * arrive in the order asked, so the one that came is nearly always at the
 * front and leaves it in O(1).
 */
#include "bt/peer.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/app_version.h"

#define OUT_MAX (64u << 20)
#define IN_QUEUE_ADVERTISED 500 /* our BEP 10 reqq */

static int failf(struct bt_psess *p, const char *why)
{
	snprintf(p->why, sizeof p->why, "%s", why);
	return SK_EPROTO;
}

/* Builders append all or nothing; a failure leaves a note for later. */
static void sent(struct bt_psess *p, int r)
{
	if (r < 0 && !p->why[0])
		snprintf(p->why, sizeof p->why, "output queue full");
	p->last_tx = p->sw->now;
}

static uint32_t npieces(const struct bt_psess *p)
{
	return p->sw->m->npieces;
}

int bt_psess_init(struct bt_psess *p, struct bt_swarm *sw, uint32_t id,
		  bool outgoing)
{
	memset(p, 0, sizeof *p);
	p->sw = sw;
	p->id = id;
	p->outgoing = outgoing;
	p->am_choking = p->peer_choking = true;
	p->connected = p->last_rx = p->last_tx = p->last_block = sw->now;
	sk_buf_init(&p->out, OUT_MAX);
	p->bits = calloc(((size_t)npieces(p) + 7) / 8, 1);
	if (!p->bits)
		return SK_ENOMEM;
	if (outgoing) {
		struct bt_handshake h;
		memset(&h, 0, sizeof h);
		h.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
		h.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
		memcpy(h.info_hash, sw->m->info_hash, 20);
		memcpy(h.peer_id, sw->peer_id, 20);
		sent(p, bt_handshake_write(&p->out, &h));
	}
	return 0;
}

static void drop_requests(struct bt_psess *p, bool cancel)
{
	for (size_t i = 0; i < p->nrq; i++) {
		const struct bt_block *b = &p->rq[p->rq_off + i].b;
		if (cancel)
			sent(p, bt_msg_block(&p->out, BT_MSG_CANCEL, b->piece,
					     b->begin, b->len));
		bt_picker_unrequest(p->sw->pk, b);
	}
	p->nrq = p->rq_off = 0;
}

void bt_psess_free(struct bt_psess *p)
{
	if (!p->sw)
		return;
	drop_requests(p, false);
	if (p->counted_seed)
		bt_picker_remove_seed(p->sw->pk);
	else if (p->bits && p->state == BT_PS_ACTIVE)
		bt_picker_remove_bits(p->sw->pk, p->bits);
	bt_picker_peer_gone(p->sw->pk, p->id);
	free(p->bits);
	free(p->rq);
	free(p->in);
	free(p->allowed_bits);
	sk_buf_free(&p->out);
	memset(p, 0, sizeof *p);
}

/* ---- interest, choking, have ----------------------------------------------------- */

void bt_psess_update_interest(struct bt_psess *p)
{
	if (p->state != BT_PS_ACTIVE)
		return;
	bool want = bt_picker_interesting(p->sw->pk, p->seed ? NULL : p->bits);
	if (want == p->am_interested)
		return;
	p->am_interested = want;
	sent(p, bt_msg_simple(&p->out, want ? BT_MSG_INTERESTED
					    : BT_MSG_NOT_INTERESTED));
	if (!want)
		drop_requests(p, true);
}

void bt_psess_choke(struct bt_psess *p, bool choke)
{
	if (p->state != BT_PS_ACTIVE || p->am_choking == choke)
		return;
	p->am_choking = choke;
	sent(p, bt_msg_simple(&p->out, choke ? BT_MSG_CHOKE : BT_MSG_UNCHOKE));
	if (!choke)
		return;
	/* BEP 6: a choked fast peer hears "rejected" for every request we
	 * drop (we grant no allowed-fast pieces) */
	for (size_t i = 0; p->fast && i < p->nin; i++) {
		const struct bt_block *b = &p->in[p->in_off + i];
		sent(p, bt_msg_block(&p->out, BT_MSG_REJECT, b->piece, b->begin, b->len));
	}
	p->in_off = p->nin = 0;
}

void bt_psess_have(struct bt_psess *p, uint32_t i)
{
	if (p->state != BT_PS_ACTIVE)
		return;
	sent(p, bt_msg_index(&p->out, BT_MSG_HAVE, i));
	bt_psess_update_interest(p);
}

/* ---- our requests ------------------------------------------------------------------- */

static ptrdiff_t find_rq(const struct bt_psess *p, const struct bt_block *b)
{
	if (!p->nrq)
		return -1;
	const struct bt_outreq *q = p->rq + p->rq_off;
	for (size_t i = 0; i < p->nrq; i++)
		if (q[i].b.piece == b->piece && q[i].b.begin == b->begin &&
		    q[i].b.len == b->len)
			return (ptrdiff_t)i;
	return -1;
}

static void remove_rq(struct bt_psess *p, size_t i)
{
	struct bt_outreq *q = p->rq + p->rq_off;
	if (i == 0)
		p->rq_off++;
	else
		memmove(q + i, q + i + 1, (p->nrq - i - 1) * sizeof *q);
	if (--p->nrq == 0)
		p->rq_off = 0;
}

static bool have_out(void *ud, const struct bt_block *b)
{
	return find_rq(ud, b) >= 0;
}

static uint32_t queue_target(const struct bt_psess *p)
{
	uint64_t t = p->down_rate * BT_PSESS_QUEUE_SECONDS / BT_BLOCK_SIZE;
	uint32_t cap = p->sw->max_queue ? p->sw->max_queue : 500;
	if (p->reqq && p->reqq < cap)
		cap = p->reqq;
	if (p->snubbed) /* one request at a time until it delivers again */
		return 1;
	/* slow start: until the rate is measured, every block delivered
	 * lets one more request out */
	if (t < p->boost)
		t = p->boost;
	if (t < BT_PSESS_MIN_QUEUE)
		t = BT_PSESS_MIN_QUEUE;
	return t > cap ? cap : (uint32_t)t;
}

void bt_psess_fill(struct bt_psess *p)
{
	const uint8_t *only = NULL;
	struct bt_block blk[64];

	if (p->state != BT_PS_ACTIVE || !p->am_interested || p->why[0])
		return;
	if (p->peer_choking) {
		if (!p->fast || !p->nallowed)
			return;
		only = p->allowed_bits;
	}
	uint32_t target = queue_target(p);
	while (p->nrq < target) {
		size_t want = target - p->nrq;
		if (want > 64)
			want = 64;
		if (p->rq_off + p->nrq + want > p->caprq && p->rq_off) {
			memmove(p->rq, p->rq + p->rq_off, p->nrq * sizeof *p->rq);
			p->rq_off = 0;
		}
		if (p->nrq + want > p->caprq) {
			size_t cap = p->caprq ? 2 * p->caprq : 64;
			while (cap < p->nrq + want)
				cap *= 2;
			struct bt_outreq *v = realloc(p->rq, cap * sizeof *v);
			if (!v)
				return;
			p->rq = v;
			p->caprq = cap;
		}
		size_t n = bt_picker_pick(p->sw->pk, p->id, p->seed ? NULL : p->bits,
					  only, have_out, p, blk, want);
		for (size_t i = 0; i < n; i++) {
			p->rq[p->rq_off + p->nrq].b = blk[i];
			p->rq[p->rq_off + p->nrq].t = p->sw->now;
			p->nrq++;
			sent(p, bt_msg_block(&p->out, BT_MSG_REQUEST, blk[i].piece,
					     blk[i].begin, blk[i].len));
		}
		if (n < want)
			break;
	}
}

bool bt_psess_cancel(struct bt_psess *p, const struct bt_block *b)
{
	ptrdiff_t i = find_rq(p, b);
	if (i < 0)
		return false;
	remove_rq(p, (size_t)i);
	bt_picker_unrequest(p->sw->pk, b);
	sent(p, bt_msg_block(&p->out, BT_MSG_CANCEL, b->piece, b->begin, b->len));
	return true;
}

/* ---- the peer's requests ---------------------------------------------------------- */

static int queue_in(struct bt_psess *p, const struct bt_block *b)
{
	if (p->in_off + p->nin == p->capin) {
		if (p->in_off) {
			memmove(p->in, p->in + p->in_off, p->nin * sizeof *p->in);
			p->in_off = 0;
		} else {
			size_t cap = p->capin ? 2 * p->capin : 32;
			struct bt_block *v = realloc(p->in, cap * sizeof *v);
			if (!v)
				return SK_ENOMEM;
			p->in = v;
			p->capin = cap;
		}
	}
	p->in[p->in_off + p->nin++] = *b;
	return 0;
}

static void reject(struct bt_psess *p, const struct bt_block *b)
{
	if (p->fast)
		sent(p, bt_msg_block(&p->out, BT_MSG_REJECT, b->piece, b->begin, b->len));
}

static int on_request(struct bt_psess *p, const struct bt_msg *m)
{
	struct bt_block b = {m->index, m->begin, m->length};
	if (m->index >= npieces(p))
		return failf(p, "request for a piece that does not exist");
	uint32_t psz = bt_piece_size(p->sw->m, m->index);
	if (m->length == 0 || m->length > BT_BLOCK_MAX || m->begin >= psz ||
	    m->length > psz - m->begin)
		return failf(p, "request outside the piece");
	if (p->am_choking || !bt_picker_has(p->sw->pk, m->index) ||
	    p->nin >= BT_PSESS_MAX_IN) {
		reject(p, &b);
		return 0;
	}
	return queue_in(p, &b) < 0 ? failf(p, "out of memory") : 0;
}

static void on_cancel(struct bt_psess *p, const struct bt_msg *m)
{
	for (size_t i = 0; i < p->nin; i++) {
		struct bt_block *b = &p->in[p->in_off + i];
		if (b->piece != m->index || b->begin != m->begin || b->len != m->length)
			continue;
		reject(p, b); /* BEP 6: a cancelled request gets an answer */
		memmove(b, b + 1, (p->nin - i - 1) * sizeof *b);
		p->nin--;
		return;
	}
}

size_t bt_psess_serve(struct bt_psess *p, size_t budget)
{
	size_t done = 0;
	while (p->nin && done < budget && !p->am_choking && !p->why[0]) {
		struct bt_block b = p->in[p->in_off];
		uint8_t *q;
		p->in_off++;
		if (--p->nin == 0)
			p->in_off = 0;
		if (p->sw->ops->send && !p->sw->corrupt_uploads) {
			uint8_t h[BT_PIECE_HDR_LEN];
			bt_piece_header(h, b.piece, b.begin, b.len);
			int r = p->sw->ops->send(p->sw->ud, p, &b, h);
			if (r < 0) {
				reject(p, &b);
				continue;
			}
			if (r > 0) {
				p->last_tx = p->sw->now;
				p->up_total += b.len;
				p->up_acc += b.len;
				done += b.len;
				if (r == 2)
					break;
				continue;
			}
		}
		if (sk_buf_reserve(&p->out, BT_PIECE_HDR_LEN + (size_t)b.len, &q) < 0) {
			sent(p, SK_ENOBUFS);
			break;
		}
		bt_piece_header(q, b.piece, b.begin, b.len);
		if (p->sw->ops->read(p->sw->ud, &b, q + BT_PIECE_HDR_LEN) < 0) {
			reject(p, &b);
			continue;
		}
		if (p->sw->corrupt_uploads)
			q[BT_PIECE_HDR_LEN + b.len / 2] ^= 0x5a;
		sk_buf_commit(&p->out, BT_PIECE_HDR_LEN + (size_t)b.len);
		p->last_tx = p->sw->now;
		p->up_total += b.len;
		p->up_acc += b.len;
		done += b.len;
	}
	return done;
}

/* ---- incoming messages --------------------------------------------------------- */

static void count_bits(struct bt_psess *p)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < npieces(p); i++)
		n += bt_bit_get(p->bits, i);
	p->nbits = n;
	p->seed = n == npieces(p);
}

static int on_first(struct bt_psess *p, const struct bt_msg *m)
{
	struct bt_picker *pk = p->sw->pk;
	size_t nb = ((size_t)npieces(p) + 7) / 8;
	if (m->type != BT_MSG_BITFIELD && !p->fast)
		return failf(p, "fast message without the fast extension");
	if (m->type == BT_MSG_BITFIELD && bt_bitfield_check(m->data, npieces(p)) < 0)
		return failf(p, "bad bitfield");
	/* BEP 3 wants the bitfield first and once; aria2 sends have-none,
	 * haves, then a bitfield.  A late one replaces what we knew. */
	if (p->first_seen) {
		if (p->counted_seed)
			bt_picker_remove_seed(pk);
		else
			bt_picker_remove_bits(pk, p->bits);
		p->counted_seed = p->seed = false;
	}
	memset(p->bits, 0, nb);
	p->nbits = 0;
	if (m->type == BT_MSG_BITFIELD) {
		memcpy(p->bits, m->data.p, nb);
		count_bits(p);
	} else if (m->type == BT_MSG_HAVE_ALL) {
		for (uint32_t i = 0; i < npieces(p); i++)
			bt_bit_set(p->bits, i);
		p->nbits = npieces(p);
		p->seed = true;
	}
	/* a peer with everything counts as a seed (cheap to add and remove),
	 * the others piece by piece */
	if (p->seed) {
		bt_picker_add_seed(pk);
		p->counted_seed = true;
	} else if (p->nbits) {
		bt_picker_add_bits(pk, p->bits);
	}
	bt_psess_update_interest(p);
	return 0;
}

static int on_have(struct bt_psess *p, uint32_t i)
{
	if (i >= npieces(p))
		return failf(p, "have for a piece that does not exist");
	if (bt_bit_get(p->bits, i))
		return 0;
	bt_bit_set(p->bits, i);
	p->nbits++;
	p->seed = p->nbits == npieces(p);
	if (!p->counted_seed)
		bt_picker_add_have(p->sw->pk, i);
	if (!p->am_interested && !bt_picker_has(p->sw->pk, i))
		bt_psess_update_interest(p);
	return 0;
}

static int on_piece(struct bt_psess *p, const struct bt_msg *m)
{
	struct bt_block b = {m->index, m->begin, (uint32_t)m->data.n};
	if (m->index >= npieces(p))
		return failf(p, "block of a piece that does not exist");
	ptrdiff_t k = find_rq(p, &b);
	if (k >= 0) {
		remove_rq(p, (size_t)k);
		bt_picker_unrequest(p->sw->pk, &b);
	}
	p->down_total += b.len;
	p->down_acc += b.len;
	p->last_block = p->sw->now;
	p->snubbed = false;
	if (k >= 0 && p->boost < UINT16_MAX)
		p->boost++;
	int r = bt_picker_received(p->sw->pk, p->id, &b);
	if (r <= 0) { /* not a block we can use (a late duplicate...) */
		p->wasted += b.len;
		return 0;
	}
	return p->sw->ops->block(p->sw->ud, p, &b, m->data.p, r);
}

static void on_reject(struct bt_psess *p, const struct bt_msg *m)
{
	struct bt_block b = {m->index, m->begin, m->length};
	ptrdiff_t k = find_rq(p, &b);
	if (k < 0)
		return;
	remove_rq(p, (size_t)k);
	bt_picker_unrequest(p->sw->pk, &b);
}

static void on_allowed_fast(struct bt_psess *p, uint32_t i)
{
	if (i >= npieces(p) || p->nallowed >= BT_PSESS_ALLOWED_MAX)
		return;
	if (!p->allowed_bits &&
	    !(p->allowed_bits = calloc(((size_t)npieces(p) + 7) / 8, 1)))
		return;
	if (bt_bit_get(p->allowed_bits, i))
		return;
	bt_bit_set(p->allowed_bits, i);
	p->allowed[p->nallowed++] = i;
}

static void on_extended(struct bt_psess *p, const struct bt_msg *m)
{
	struct bt_ext_handshake h;
	if (m->ext_id != 0 || bt_ext_handshake_parse(m->data.p, m->data.n, &h) < 0)
		return; /* extensions we did not announce, or junk: ignored */
	p->reqq = h.reqq;
	p->peer_port = h.port;
	size_t n = h.v.n < sizeof p->client - 1 ? h.v.n : sizeof p->client - 1;
	for (size_t i = 0; i < n; i++)
		p->client[i] = isprint(h.v.p[i]) ? (char)h.v.p[i] : '?';
	p->client[n] = '\0';
}

static int on_message(struct bt_psess *p, const struct bt_msg *m)
{
	/* The pieces are declared once, before any HAVE; other messages
	 * may come first (clients send the BEP 10 handshake, even allowed
	 * fast or interested, before their bitfield). */
	bool first = m->type == BT_MSG_BITFIELD || m->type == BT_MSG_HAVE_ALL ||
		     m->type == BT_MSG_HAVE_NONE || m->type == BT_MSG_HAVE;
	bool fast_only = m->type == BT_MSG_SUGGEST || m->type == BT_MSG_HAVE_ALL ||
			 m->type == BT_MSG_HAVE_NONE || m->type == BT_MSG_REJECT ||
			 m->type == BT_MSG_ALLOWED_FAST;
	if (fast_only && !p->fast)
		return failf(p, "fast message without the fast extension");
	int r = 0;
	switch (m->type) {
	case BT_MSG_BITFIELD:
	case BT_MSG_HAVE_ALL:
	case BT_MSG_HAVE_NONE:
		r = on_first(p, m);
		break;
	case BT_MSG_CHOKE:
		p->peer_choking = true;
		if (!p->fast) /* the requests are void; fast peers reject them */
			drop_requests(p, false);
		break;
	case BT_MSG_UNCHOKE:
		p->peer_choking = false;
		break;
	case BT_MSG_INTERESTED:
	case BT_MSG_NOT_INTERESTED:
		if (p->peer_interested != (m->type == BT_MSG_INTERESTED)) {
			p->peer_interested = m->type == BT_MSG_INTERESTED;
			if (p->sw->ops->interest)
				p->sw->ops->interest(p->sw->ud, p);
		}
		break;
	case BT_MSG_HAVE:
		r = on_have(p, m->index);
		break;
	case BT_MSG_REQUEST:
		r = on_request(p, m);
		break;
	case BT_MSG_PIECE:
		r = on_piece(p, m);
		break;
	case BT_MSG_CANCEL:
		on_cancel(p, m);
		break;
	case BT_MSG_REJECT:
		on_reject(p, m);
		break;
	case BT_MSG_ALLOWED_FAST:
		on_allowed_fast(p, m->index);
		break;
	case BT_MSG_EXTENDED:
		on_extended(p, m);
		break;
	default: /* keep-alive, port, suggest, unknown ids */
		break;
	}
	if (first)
		p->first_seen = true;
	return r;
}

/* ---- the handshake ------------------------------------------------------------------ */

static void send_opening(struct bt_psess *p)
{
	struct bt_picker *pk = p->sw->pk;
	if (!p->outgoing) {
		struct bt_handshake h;
		memset(&h, 0, sizeof h);
		h.reserved[BT_RESERVED_FAST_BYTE] |= BT_RESERVED_FAST_BIT;
		h.reserved[BT_RESERVED_EXT_BYTE] |= BT_RESERVED_EXT_BIT;
		memcpy(h.info_hash, p->sw->m->info_hash, 20);
		memcpy(h.peer_id, p->sw->peer_id, 20);
		sent(p, bt_handshake_write(&p->out, &h));
	}
	if (p->fast && pk->nhave == 0)
		sent(p, bt_msg_simple(&p->out, BT_MSG_HAVE_NONE));
	else if (p->fast && bt_picker_done(pk))
		sent(p, bt_msg_simple(&p->out, BT_MSG_HAVE_ALL));
	else if (pk->nhave)
		sent(p, bt_msg_bitfield(&p->out, pk->have, ((size_t)pk->npieces + 7) / 8));
	if (p->ext) {
		struct bt_ext_handshake eh;
		char v[64];
		memset(&eh, 0, sizeof eh);
		snprintf(v, sizeof v, "sockit %s", sk_app_version());
		eh.v.p = (const uint8_t *)v;
		eh.v.n = strlen(v);
		eh.port = p->sw->port;
		eh.reqq = IN_QUEUE_ADVERTISED;
		eh.metadata_size = -1;
		sent(p, bt_ext_handshake_write(&p->out, &eh));
	}
}

static int feed_handshake(struct bt_psess *p, struct sk_buf *in)
{
	int r = bt_handshake_parse(sk_buf_data(in), sk_buf_len(in), &p->remote);
	if (r < 0)
		return failf(p, "not a BitTorrent handshake");
	if (sk_buf_len(in) >= BT_HANDSHAKE_HEAD_LEN &&
	    memcmp(p->remote.info_hash, p->sw->m->info_hash, 20) != 0)
		return failf(p, "handshake for another torrent");
	if (r == 0)
		return 0;
	sk_buf_consume(in, BT_HANDSHAKE_LEN);
	p->fast = bt_handshake_fast(&p->remote);
	p->ext = bt_handshake_ext(&p->remote);
	if (p->sw->ops->handshake && p->sw->ops->handshake(p->sw->ud, p) < 0) {
		if (!p->why[0])
			failf(p, "handshake refused");
		return SK_EPROTO;
	}
	p->state = BT_PS_ACTIVE;
	send_opening(p);
	return 1;
}

int bt_psess_feed(struct bt_psess *p, struct sk_buf *in)
{
	struct bt_msg m;
	size_t used;
	int r;

	if (p->why[0])
		return SK_EPROTO;
	if (sk_buf_len(in))
		p->last_rx = p->sw->now;
	if (p->state == BT_PS_HANDSHAKE && (r = feed_handshake(p, in)) <= 0)
		return r;
	while ((r = bt_msg_parse(sk_buf_data(in), sk_buf_len(in), p->sw->msg_max,
				 &m, &used)) == 1) {
		r = on_message(p, &m);
		sk_buf_consume(in, used);
		if (r < 0 || p->why[0])
			return r < 0 ? r : SK_EPROTO;
	}
	if (r < 0)
		return failf(p, r == SK_EFRAMETOOBIG ? "message too long"
						     : "malformed message");
	bt_psess_fill(p);
	return p->why[0] ? SK_EPROTO : 0;
}

/* ---- time ------------------------------------------------------------------------- */

int bt_psess_tick(struct bt_psess *p)
{
	uint64_t now = p->sw->now;
	if (p->why[0])
		return SK_EPROTO;
	if (p->state == BT_PS_HANDSHAKE) {
		if (now - p->connected > BT_PSESS_HANDSHAKE_MS)
			return failf(p, "no handshake");
		return 0;
	}
	if (now - p->last_rx > BT_PSESS_IDLE_MS)
		return failf(p, "idle");
	if (now - p->last_tx > BT_PSESS_KEEPALIVE_MS)
		sent(p, bt_msg_keepalive(&p->out));
	/* requests out and nothing back for a long time: let other peers
	 * have those blocks */
	if (p->nrq && now - p->last_block > BT_PSESS_SNUB_MS &&
	    now - p->rq[p->rq_off].t > BT_PSESS_SNUB_MS) {
		p->snubbed = true;
		p->boost = 0;
		drop_requests(p, true);
		bt_picker_peer_gone(p->sw->pk, p->id);
	}
	bt_psess_fill(p);
	return p->why[0] ? SK_EPROTO : 0;
}

void bt_psess_rates(struct bt_psess *p, uint64_t dt_ms)
{
	if (dt_ms == 0)
		return;
	uint64_t d = p->down_acc * 1000 / dt_ms, u = p->up_acc * 1000 / dt_ms;
	/* weight the new sample 1/2: quick to follow, not too jumpy */
	p->down_rate = (p->down_rate + d) / 2;
	p->up_rate = (p->up_rate + u) / 2;
	p->down_acc = p->up_acc = 0;
}
