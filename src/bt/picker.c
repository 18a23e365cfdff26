/*
 * src/bt/picker.c - block selection (see picker.h).
 *
 * Invariants, for every partial piece:
 *	nfree = blocks with req == 0 and !got
 *	nrecv = blocks with got
 * and a piece is partial (slot >= 0) exactly while it is being fetched:
 * from its first pick to its hash check.
 */
#include "bt/picker.h"

#include <stdlib.h>
#include <string.h>

#include "bt/wire.h"

static bool bit(const uint8_t *bits, uint32_t i)
{
	return (bits[i >> 3] >> (7 - (i & 7))) & 1;
}

static uint32_t rnd(struct bt_picker *p)
{
	uint64_t x = (p->rng += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)(x ^ (x >> 31));
}

int bt_picker_init(struct bt_picker *p, uint32_t npieces, uint32_t piece_len,
		   uint64_t total_len)
{
	memset(p, 0, sizeof *p);
	if (npieces == 0 || piece_len == 0 ||
	    total_len > (uint64_t)npieces * piece_len ||
	    total_len <= (uint64_t)(npieces - 1) * piece_len)
		return SK_EINVAL;
	p->npieces = npieces;
	p->piece_len = piece_len;
	p->last_len = (uint32_t)(total_len - (uint64_t)(npieces - 1) * piece_len);
	p->nblocks = (piece_len + BT_BLOCK_SIZE - 1) / BT_BLOCK_SIZE;
	p->avail = calloc(npieces, sizeof *p->avail);
	p->have = calloc((npieces + 7) / 8, 1);
	p->slot = malloc((size_t)npieces * sizeof *p->slot);
	p->max_dup = 2;
	p->rng = 0x853c49e6748fea9bULL ^ npieces;
	if (!p->avail || !p->have || !p->slot) {
		bt_picker_free(p);
		return SK_ENOMEM;
	}
	for (uint32_t i = 0; i < npieces; i++)
		p->slot[i] = -1;
	return 0;
}

static void part_free(struct bt_partial *pp)
{
	free(pp->req);
	free(pp->got);
	free(pp->from);
}

void bt_picker_free(struct bt_picker *p)
{
	for (size_t i = 0; i < p->nparts; i++)
		part_free(&p->parts[i]);
	free(p->parts);
	free(p->avail);
	free(p->have);
	free(p->slot);
	memset(p, 0, sizeof *p);
}

uint32_t bt_picker_piece_size(const struct bt_picker *p, uint32_t i)
{
	return i + 1 == p->npieces ? p->last_len : i < p->npieces ? p->piece_len : 0;
}

static uint32_t block_len(const struct bt_picker *p, uint32_t piece, uint32_t b)
{
	uint32_t psz = bt_picker_piece_size(p, piece);
	uint32_t off = b * BT_BLOCK_SIZE;
	return psz - off < BT_BLOCK_SIZE ? psz - off : BT_BLOCK_SIZE;
}

uint64_t bt_picker_left(const struct bt_picker *p)
{
	uint64_t left = (uint64_t)(p->npieces - p->nhave) * p->piece_len;
	if (!bt_picker_has(p, p->npieces - 1))
		left -= p->piece_len - p->last_len;
	return left;
}

static void remove_part(struct bt_picker *p, uint32_t i)
{
	int32_t s = p->slot[i];
	if (s < 0)
		return;
	part_free(&p->parts[s]);
	p->slot[i] = -1;
	if ((size_t)s != p->nparts - 1) {
		p->parts[s] = p->parts[p->nparts - 1];
		p->slot[p->parts[s].index] = s;
	}
	p->nparts--;
}

void bt_picker_set_have(struct bt_picker *p, uint32_t i)
{
	if (i >= p->npieces || bt_picker_has(p, i))
		return;
	remove_part(p, i);
	bt_bit_set(p->have, i);
	p->nhave++;
}

void bt_picker_verified(struct bt_picker *p, uint32_t i)
{
	bt_picker_set_have(p, i);
}

/* ---- availability ------------------------------------------------------------ */

void bt_picker_add_bits(struct bt_picker *p, const uint8_t *bits)
{
	for (uint32_t i = 0; i < p->npieces; i++)
		if (bit(bits, i) && p->avail[i] < UINT16_MAX)
			p->avail[i]++;
}

void bt_picker_remove_bits(struct bt_picker *p, const uint8_t *bits)
{
	for (uint32_t i = 0; i < p->npieces; i++)
		if (bit(bits, i) && p->avail[i] > 0)
			p->avail[i]--;
}

void bt_picker_add_have(struct bt_picker *p, uint32_t i)
{
	if (i < p->npieces && p->avail[i] < UINT16_MAX)
		p->avail[i]++;
}

void bt_picker_add_seed(struct bt_picker *p) { p->seeds++; }

void bt_picker_remove_seed(struct bt_picker *p)
{
	if (p->seeds)
		p->seeds--;
}

bool bt_picker_interesting(const struct bt_picker *p, const uint8_t *bits)
{
	if (!bits)
		return p->nhave < p->npieces;
	size_t nb = ((size_t)p->npieces + 7) / 8;
	for (size_t k = 0; k < nb; k++)
		if (bits[k] & ~p->have[k])
			return true;
	return false;
}

/* ---- picking ------------------------------------------------------------------- */

struct pick_ctx {
	struct bt_picker *p;
	uint32_t peer;
	const uint8_t *bits, *only;
	bool (*exclude)(void *ud, const struct bt_block *b);
	void *ud;
	struct bt_block *out;
	size_t n, max;
};

static bool peer_has(const struct pick_ctx *c, uint32_t i)
{
	return (!c->bits || bit(c->bits, i)) && (!c->only || bit(c->only, i));
}

static void emit(struct pick_ctx *c, struct bt_partial *pp, uint32_t b)
{
	struct bt_block *o = &c->out[c->n++];
	o->piece = pp->index;
	o->begin = b * BT_BLOCK_SIZE;
	o->len = block_len(c->p, pp->index, b);
}

static void take_free(struct pick_ctx *c, struct bt_partial *pp)
{
	for (uint32_t b = 0; b < pp->nblocks && pp->nfree && c->n < c->max; b++) {
		if (pp->req[b] || pp->got[b])
			continue;
		pp->req[b] = 1;
		pp->nfree--;
		emit(c, pp, b);
	}
}

/* Endgame copies are taken from the end: a peer sends what was asked of
 * it in order, so its last blocks are the ones that arrive last, and a
 * copy of those from another peer is the one that saves time; a copy of
 * the next block in its pipe arrives after it (or with it: both are sent,
 * the cancel comes too late) and is pure waste. */
static void take_dup(struct pick_ctx *c, struct bt_partial *pp)
{
	for (uint32_t b = pp->nblocks; b-- > 0 && c->n < c->max; ) {
		if (pp->got[b] || pp->req[b] == 0 || pp->req[b] >= c->p->max_dup)
			continue;
		struct bt_block blk = {pp->index, b * BT_BLOCK_SIZE,
				       block_len(c->p, pp->index, b)};
		if (c->exclude && c->exclude(c->ud, &blk))
			continue;
		bool again = false; /* picked for this peer in this very call */
		for (size_t j = 0; j < c->n && !again; j++)
			again = c->out[j].piece == blk.piece &&
				c->out[j].begin == blk.begin;
		if (again)
			continue;
		pp->req[b]++;
		c->out[c->n++] = blk;
	}
}

/* The rarest piece the peer has that nobody has started; -1 if none. */
static int64_t rarest(struct pick_ctx *c)
{
	struct bt_picker *p = c->p;
	uint32_t start = rnd(p) % p->npieces;
	int64_t best = -1;
	uint32_t best_avail = UINT32_MAX;
	for (uint32_t k = 0; k < p->npieces; k++) {
		uint32_t i = start + k < p->npieces ? start + k : start + k - p->npieces;
		if (p->slot[i] >= 0 || p->avail[i] >= best_avail ||
		    bt_picker_has(p, i) || !peer_has(c, i))
			continue;
		best = i;
		best_avail = p->avail[i];
		if (best_avail == 0)
			break; /* only this peer has it: none rarer */
	}
	return best;
}

static struct bt_partial *start_piece(struct bt_picker *p, uint32_t i,
				      uint32_t owner)
{
	if (p->nparts == p->capparts) {
		size_t cap = p->capparts ? 2 * p->capparts : 16;
		struct bt_partial *v = realloc(p->parts, cap * sizeof *v);
		if (!v)
			return NULL;
		p->parts = v;
		p->capparts = cap;
	}
	struct bt_partial *pp = &p->parts[p->nparts];
	memset(pp, 0, sizeof *pp);
	pp->index = i;
	pp->nblocks = (bt_picker_piece_size(p, i) + BT_BLOCK_SIZE - 1) / BT_BLOCK_SIZE;
	pp->nfree = pp->nblocks;
	pp->owner = owner;
	pp->req = calloc(pp->nblocks, 1);
	pp->got = calloc(pp->nblocks, 1);
	pp->from = calloc(pp->nblocks, sizeof *pp->from);
	if (!pp->req || !pp->got || !pp->from) {
		part_free(pp);
		return NULL;
	}
	p->slot[i] = (int32_t)p->nparts++;
	return pp;
}

size_t bt_picker_pick(struct bt_picker *p, uint32_t peer, const uint8_t *bits,
		      const uint8_t *only,
		      bool (*exclude)(void *ud, const struct bt_block *b),
		      void *ud, struct bt_block *out, size_t max)
{
	struct pick_ctx c = {p, peer, bits, only, exclude, ud, out, 0, max};
	size_t k;

	if (bt_picker_done(p))
		return 0;
	/* 1. our own pieces; 2. orphans, which we adopt */
	for (k = 0; k < p->nparts && c.n < max; k++)
		if (p->parts[k].owner == peer && peer_has(&c, p->parts[k].index))
			take_free(&c, &p->parts[k]);
	for (k = 0; k < p->nparts && c.n < max; k++) {
		struct bt_partial *pp = &p->parts[k];
		if (pp->owner != 0 || pp->nfree == 0 || !peer_has(&c, pp->index))
			continue;
		pp->owner = peer;
		take_free(&c, pp);
	}
	/* 3. new pieces, rarest first */
	while (c.n < max) {
		int64_t i = rarest(&c);
		struct bt_partial *pp;
		if (i < 0 || !(pp = start_piece(p, (uint32_t)i, peer)))
			break;
		take_free(&c, pp);
	}
	/* 4. help with other peers' pieces */
	for (k = 0; k < p->nparts && c.n < max; k++) {
		struct bt_partial *pp = &p->parts[k];
		if (pp->owner != peer && !pp->exclusive && pp->nfree &&
		    peer_has(&c, pp->index))
			take_free(&c, pp);
	}
	/* 5. endgame */
	if (c.n < max && bt_picker_endgame(p))
		for (k = p->nparts; k-- > 0 && c.n < max; ) {
			struct bt_partial *pp = &p->parts[k];
			if ((!pp->exclusive || pp->owner == peer) &&
			    peer_has(&c, pp->index))
				take_dup(&c, pp);
		}
	return c.n;
}

bool bt_picker_endgame(const struct bt_picker *p)
{
	return p->npieces - p->nhave == p->nparts;
}

/* The partial piece and block index of b; NULL when b is not a whole
 * block of a partial piece (*bad when it is not a block at all). */
static struct bt_partial *locate(struct bt_picker *p, const struct bt_block *b,
				 uint32_t *blk, bool *bad)
{
	*bad = false;
	if (b->piece >= p->npieces || b->begin % BT_BLOCK_SIZE != 0 ||
	    b->begin >= bt_picker_piece_size(p, b->piece) ||
	    b->len != block_len(p, b->piece, b->begin / BT_BLOCK_SIZE)) {
		*bad = true;
		return NULL;
	}
	int32_t s = p->slot[b->piece];
	if (s < 0)
		return NULL;
	*blk = b->begin / BT_BLOCK_SIZE;
	return &p->parts[s];
}

void bt_picker_unrequest(struct bt_picker *p, const struct bt_block *b)
{
	uint32_t k;
	bool bad;
	struct bt_partial *pp = locate(p, b, &k, &bad);
	if (!pp || pp->req[k] == 0)
		return;
	if (pp->req[k] < UINT8_MAX)
		pp->req[k]--;
	if (pp->req[k] == 0 && !pp->got[k])
		pp->nfree++;
}

int bt_picker_received(struct bt_picker *p, uint32_t peer,
		       const struct bt_block *b)
{
	uint32_t k;
	bool bad;
	struct bt_partial *pp = locate(p, b, &k, &bad);
	if (bad)
		return SK_EINVAL;
	if (!pp || pp->got[k])
		return BT_PICK_UNWANTED;
	if (pp->req[k] == 0)
		pp->nfree--;
	pp->got[k] = 1;
	pp->from[k] = peer;
	pp->nrecv++;
	return pp->nrecv == pp->nblocks ? BT_PICK_COMPLETE : BT_PICK_STORED;
}

size_t bt_picker_failed(struct bt_picker *p, uint32_t i, uint32_t *out,
			size_t max)
{
	if (i >= p->npieces || p->slot[i] < 0)
		return 0;
	struct bt_partial *pp = &p->parts[p->slot[i]];
	size_t n = 0, all = 0;
	for (uint32_t b = 0; b < pp->nblocks; b++) {
		uint32_t who = pp->from[b];
		if (who == 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = out[j] == who;
		if (!seen) {
			all++;
			if (n < max)
				out[n++] = who;
		}
	}
	pp->nfree = 0;
	for (uint32_t b = 0; b < pp->nblocks; b++) {
		pp->got[b] = 0;
		pp->from[b] = 0;
		pp->nfree += pp->req[b] == 0;
	}
	pp->nrecv = 0;
	pp->owner = 0;
	pp->exclusive = all > 1;
	return n;
}

void bt_picker_peer_gone(struct bt_picker *p, uint32_t peer)
{
	for (size_t k = 0; k < p->nparts; k++)
		if (p->parts[k].owner == peer)
			p->parts[k].owner = 0;
}

const struct bt_partial *bt_picker_partial(const struct bt_picker *p, uint32_t i)
{
	return i < p->npieces && p->slot[i] >= 0 ? &p->parts[p->slot[i]] : NULL;
}
