/*
 * src/bt/picker.h - which blocks to ask which peer for.
 *
 * The picker knows, for every piece, whether we have it (verified), how
 * many connected peers have it (availability), and for the pieces being
 * downloaded ("partial" pieces) the state of each 16 KiB block: how many
 * requests are out for it, whether it has arrived, and which peer sent it.
 * Peers are named by a number the caller gives (never 0).
 *
 * Order of choice for one peer, each step only among pieces the peer has:
 *  1. blocks of partial pieces this peer started (piece affinity: a piece
 *     from one peer is finished quickly and, if its hash fails, the
 *     culprit is known);
 *  2. blocks of partial pieces nobody owns any more (their peer left, or
 *     they are being retried after a hash failure): finishing started
 *     pieces comes before starting new ones;
 *  3. a new piece, the rarest first (fewest peers have it; ties broken at
 *     random so that peers do not all start on the same piece);
 *  4. free blocks of other peers' partial pieces, except "exclusive" ones
 *     (a piece that failed its hash with several contributors is retried
 *     from a single peer, so the next failure names the bad one);
 *  5. endgame, once no piece is left to start: blocks already requested
 *     from someone else (at most max_dup requests per block); the caller
 *     cancels the duplicates when a copy arrives.
 *
 * Pure: no I/O, no clock.  The random tie-break uses a seed kept in the
 * struct, so tests are deterministic.
 */
#ifndef SK_BT_PICKER_H
#define SK_BT_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/error.h"

struct bt_block {
	uint32_t piece, begin, len;
};

struct bt_partial {
	uint32_t index;
	uint32_t nblocks;
	uint32_t nfree;    /* neither requested nor received */
	uint32_t nrecv;
	uint32_t owner;    /* the peer that started it, 0 for none */
	bool exclusive;    /* only its owner may fetch it */
	uint8_t *req;      /* per block: outstanding requests (saturating) */
	uint8_t *got;      /* per block: received */
	uint32_t *from;    /* per block: who sent it */
};

struct bt_picker {
	uint32_t npieces;
	uint32_t piece_len, last_len;
	uint32_t nblocks; /* blocks in a full piece */
	uint16_t *avail;  /* peers with a bitfield that have the piece */
	uint32_t seeds;   /* peers that have every piece (not in avail) */
	uint8_t *have;    /* verified pieces, wire bit order */
	uint32_t nhave;
	int32_t *slot;    /* piece -> index in parts, -1 when not partial */
	struct bt_partial *parts;
	size_t nparts, capparts;
	unsigned max_dup; /* endgame: requests per block (default 2) */
	uint64_t rng;
};

/* Blocks of BT_BLOCK_SIZE (16 KiB), the last of a piece shorter. */
int bt_picker_init(struct bt_picker *p, uint32_t npieces, uint32_t piece_len,
		   uint64_t total_len);
void bt_picker_free(struct bt_picker *p);

static inline bool bt_picker_has(const struct bt_picker *p, uint32_t i)
{
	return (p->have[i >> 3] >> (7 - (i & 7))) & 1;
}
static inline bool bt_picker_done(const struct bt_picker *p)
{
	return p->nhave == p->npieces;
}
uint32_t bt_picker_piece_size(const struct bt_picker *p, uint32_t i);
/* Bytes of the pieces we do not have. */
uint64_t bt_picker_left(const struct bt_picker *p);

/* A piece known good without downloading it (the resume recheck). */
void bt_picker_set_have(struct bt_picker *p, uint32_t i);

/* Availability.  bits is a peer's bitfield ((npieces + 7) / 8 bytes). */
void bt_picker_add_bits(struct bt_picker *p, const uint8_t *bits);
void bt_picker_remove_bits(struct bt_picker *p, const uint8_t *bits);
void bt_picker_add_have(struct bt_picker *p, uint32_t i);
void bt_picker_add_seed(struct bt_picker *p);
void bt_picker_remove_seed(struct bt_picker *p);

/* Does a peer with bits (NULL: it has everything) have a piece we lack? */
bool bt_picker_interesting(const struct bt_picker *p, const uint8_t *bits);

/*
 * Up to max blocks for peer `peer` into out, marked requested.  bits: the
 * peer's pieces (NULL when it has them all); only: when not NULL, a set of
 * pieces to restrict the choice to (allowed-fast pieces while choked).
 * exclude(ud, block), when given, vetoes blocks the peer already has
 * requests out for (endgame).  Returns the count.
 */
size_t bt_picker_pick(struct bt_picker *p, uint32_t peer, const uint8_t *bits,
		      const uint8_t *only,
		      bool (*exclude)(void *ud, const struct bt_block *b),
		      void *ud, struct bt_block *out, size_t max);

/* A request for b is no longer out (rejected, cancelled, choked, the peer
 * left) without the block having arrived. */
void bt_picker_unrequest(struct bt_picker *p, const struct bt_block *b);

enum {
	BT_PICK_UNWANTED = 0, /* not needed (have it, not partial, a dup) */
	BT_PICK_STORED = 1,   /* a block we needed */
	BT_PICK_COMPLETE = 2, /* ... and it was the piece's last one */
};
/* Block b arrived from peer (one of its requests, if any, is done).
 * SK_EINVAL when b is not a whole block of a piece. */
int bt_picker_received(struct bt_picker *p, uint32_t peer,
		       const struct bt_block *b);

/* The piece passed its hash: it is ours. */
void bt_picker_verified(struct bt_picker *p, uint32_t i);
/* The piece failed its hash: every block is wanted again.  The peers that
 * sent its blocks go to out[0..max) (each once); returns how many. */
size_t bt_picker_failed(struct bt_picker *p, uint32_t i, uint32_t *out,
			size_t max);

/* The peer left: the pieces it owned are orphans now. */
void bt_picker_peer_gone(struct bt_picker *p, uint32_t peer);

/* No piece left to start: every missing piece is partial. */
bool bt_picker_endgame(const struct bt_picker *p);

/* The partial state of piece i, NULL when it is not partial. */
const struct bt_partial *bt_picker_partial(const struct bt_picker *p, uint32_t i);

#endif
