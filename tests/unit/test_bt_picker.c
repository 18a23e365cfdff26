/*
 * tests/unit/test_bt_picker.c - the piece picker: rarest first, started
 * pieces first (own, then orphans), stealing, endgame duplicates, hash
 * failures (contributors, exclusive retry), allowed-fast restriction, and
 * a randomised swarm that checks the block invariants at every step.
 */
#include "bt/picker.h"
#include "bt/wire.h"
#include "test.h"

#define BLK BT_BLOCK_SIZE

static void setbits(uint8_t *bits, size_t nbytes, const char *pattern)
{
	memset(bits, 0, nbytes);
	for (uint32_t i = 0; pattern[i]; i++)
		if (pattern[i] == '1')
			bt_bit_set(bits, i);
}

/* Recount every partial piece and compare with its counters. */
static void check_invariants(const struct bt_picker *p)
{
	for (size_t k = 0; k < p->nparts; k++) {
		const struct bt_partial *pp = &p->parts[k];
		uint32_t nfree = 0, nrecv = 0;
		for (uint32_t b = 0; b < pp->nblocks; b++) {
			nfree += pp->req[b] == 0 && !pp->got[b];
			nrecv += pp->got[b];
		}
		ASSERT_EQ(pp->nfree, nfree);
		ASSERT_EQ(pp->nrecv, nrecv);
		ASSERT_EQ(p->slot[pp->index], (int32_t)k);
		ASSERT(!bt_picker_has(p, pp->index));
	}
}

TEST(geometry)
{
	struct bt_picker p;
	ASSERT_EQ(bt_picker_init(&p, 3, 4 * BLK, 12 * BLK + 1), SK_EINVAL);
	ASSERT_EQ(bt_picker_init(&p, 3, 4 * BLK, 8 * BLK), SK_EINVAL);
	ASSERT_OK(bt_picker_init(&p, 3, 4 * BLK, 8 * BLK + 100));
	ASSERT_EQ(bt_picker_piece_size(&p, 2), 100);
	ASSERT_EQ(bt_picker_left(&p), 8 * BLK + 100);
	bt_picker_set_have(&p, 2);
	ASSERT_EQ(bt_picker_left(&p), 8 * BLK);
	bt_picker_set_have(&p, 0);
	ASSERT_EQ(bt_picker_left(&p), 4 * BLK);
	ASSERT(!bt_picker_done(&p));

	/* the last block of the short piece, and bad blocks */
	struct bt_block out[8];
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 8), 4);
	struct bt_block bad = {1, 100, BLK};
	ASSERT_EQ(bt_picker_received(&p, 1, &bad), SK_EINVAL);
	bad.begin = 0;
	bad.len = BLK - 1;
	ASSERT_EQ(bt_picker_received(&p, 1, &bad), SK_EINVAL);
	bad.piece = 7;
	ASSERT_EQ(bt_picker_received(&p, 1, &bad), SK_EINVAL);
	/* a block of a piece we have: unwanted, not an error */
	struct bt_block had = {0, 0, BLK};
	ASSERT_EQ(bt_picker_received(&p, 1, &had), BT_PICK_UNWANTED);
	bt_picker_free(&p);

	ASSERT_OK(bt_picker_init(&p, 2, 4 * BLK, 4 * BLK + 5));
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 8), 5);
	int last = -1;
	for (int i = 0; i < 5; i++)
		if (out[i].piece == 1)
			last = i;
	ASSERT(last >= 0);
	ASSERT_EQ(out[last].len, 5);
	ASSERT_EQ(out[last].begin, 0);
	bt_picker_free(&p);
}

TEST(rarest_first)
{
	struct bt_picker p;
	uint8_t a[1], b[1], c[1];
	struct bt_block out[16];

	ASSERT_OK(bt_picker_init(&p, 8, BLK, 8 * BLK));
	setbits(a, 1, "11111111");
	setbits(b, 1, "11110110");
	setbits(c, 1, "11100110");
	bt_picker_add_bits(&p, a);
	bt_picker_add_bits(&p, b);
	bt_picker_add_bits(&p, c);
	/* A alone has 4 and 7, then 3 (two peers) */
	ASSERT_EQ(bt_picker_pick(&p, 1, a, NULL, NULL, NULL, out, 2), 2);
	ASSERT((out[0].piece == 4 && out[1].piece == 7) ||
	       (out[0].piece == 7 && out[1].piece == 4));
	ASSERT_EQ(bt_picker_pick(&p, 1, a, NULL, NULL, NULL, out, 1), 1);
	ASSERT_EQ(out[0].piece, 3);
	/* C never gets what it does not have */
	size_t n = bt_picker_pick(&p, 3, c, NULL, NULL, NULL, out, 16);
	ASSERT_EQ(n, 5);
	for (size_t i = 0; i < n; i++)
		ASSERT(bt_bit_get(c, out[i].piece));
	check_invariants(&p);

	/* have messages move availability */
	bt_picker_free(&p);
	ASSERT_OK(bt_picker_init(&p, 4, BLK, 4 * BLK));
	setbits(a, 1, "1111");
	bt_picker_add_bits(&p, a);
	bt_picker_add_bits(&p, a);
	bt_picker_add_have(&p, 0);
	bt_picker_add_have(&p, 1);
	bt_picker_add_have(&p, 3);
	ASSERT_EQ(bt_picker_pick(&p, 1, a, NULL, NULL, NULL, out, 1), 1);
	ASSERT_EQ(out[0].piece, 2);
	/* a seed counts nowhere in avail but can be asked for anything */
	bt_picker_add_seed(&p);
	/* the three other pieces, then (endgame: nothing left to start) a
	 * second request for peer 1's block */
	ASSERT_EQ(bt_picker_pick(&p, 2, NULL, NULL, NULL, NULL, out, 16), 4);
	ASSERT_EQ(out[3].piece, 2);
	bt_picker_remove_bits(&p, a);
	ASSERT_EQ(p.avail[2], 1);
	bt_picker_free(&p);
}

TEST(started_pieces_first)
{
	struct bt_picker p;
	struct bt_block out[16];

	ASSERT_OK(bt_picker_init(&p, 10, 4 * BLK, 40 * BLK));
	/* peer 1 starts a piece: takes two of its four blocks */
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 2), 2);
	uint32_t first = out[0].piece;
	ASSERT_EQ(out[1].piece, first);
	/* asking again, it continues its own piece before anything new */
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 2), 2);
	ASSERT_EQ(out[0].piece, first);
	ASSERT_EQ(out[1].piece, first);
	/* peer 2 gets a piece of its own, not peer 1's */
	ASSERT_EQ(bt_picker_pick(&p, 2, NULL, NULL, NULL, NULL, out, 1), 1);
	uint32_t second = out[0].piece;
	ASSERT(second != first);
	/* peer 1 leaves with two blocks received and two requests lost */
	struct bt_block got0 = {first, 0, BLK}, got1 = {first, BLK, BLK};
	struct bt_block lost2 = {first, 2 * BLK, BLK}, lost3 = {first, 3 * BLK, BLK};
	bt_picker_unrequest(&p, &got0);
	ASSERT_EQ(bt_picker_received(&p, 1, &got0), BT_PICK_STORED);
	bt_picker_unrequest(&p, &got1);
	ASSERT_EQ(bt_picker_received(&p, 1, &got1), BT_PICK_STORED);
	bt_picker_unrequest(&p, &lost2);
	bt_picker_unrequest(&p, &lost3);
	bt_picker_peer_gone(&p, 1);
	check_invariants(&p);
	/* peer 3 finishes the orphan before starting anything */
	ASSERT_EQ(bt_picker_pick(&p, 3, NULL, NULL, NULL, NULL, out, 3), 3);
	ASSERT_EQ(out[0].piece, first);
	ASSERT_EQ(out[0].begin, 2 * BLK);
	ASSERT_EQ(out[1].piece, first);
	ASSERT_EQ(out[1].begin, 3 * BLK);
	ASSERT(out[2].piece != first && out[2].piece != second);
	ASSERT_EQ(bt_picker_partial(&p, first)->owner, 3);
	/* peer 4, which only has peer 2's piece, helps with it */
	uint8_t only2[2];
	memset(only2, 0, sizeof only2);
	bt_bit_set(only2, second);
	ASSERT_EQ(bt_picker_pick(&p, 4, only2, NULL, NULL, NULL, out, 16), 3);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(out[i].piece, second);
	check_invariants(&p);
	bt_picker_free(&p);
}

static bool excl_piece0(void *ud, const struct bt_block *b)
{
	(void)ud;
	return b->piece == 0 && b->begin == 0;
}

TEST(endgame)
{
	struct bt_picker p;
	struct bt_block out[16];

	ASSERT_OK(bt_picker_init(&p, 2, 2 * BLK, 4 * BLK));
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 16), 4);
	struct bt_block last = out[3]; /* what peer 1 will send last */
	ASSERT(bt_picker_endgame(&p));
	/* peer 2 gets duplicates, but not the one it says it has out */
	size_t n = bt_picker_pick(&p, 2, NULL, NULL, excl_piece0, NULL, out, 16);
	ASSERT_EQ(n, 3);
	/* ... from the end of peer 1's pipe, where a copy can win the race */
	ASSERT_EQ(out[0].piece, last.piece);
	ASSERT_EQ(out[0].begin, last.begin);
	for (size_t i = 0; i < n; i++)
		ASSERT(!(out[i].piece == 0 && out[i].begin == 0));
	/* max_dup (2) reached: nothing more for peer 3 but piece 0 block 0 */
	n = bt_picker_pick(&p, 3, NULL, NULL, NULL, NULL, out, 16);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(out[0].piece, 0);
	ASSERT_EQ(out[0].begin, 0);
	/* the first copy wins; the second is unwanted */
	struct bt_block b = {1, 0, BLK};
	bt_picker_unrequest(&p, &b);
	ASSERT_EQ(bt_picker_received(&p, 2, &b), BT_PICK_STORED);
	bt_picker_unrequest(&p, &b);
	ASSERT_EQ(bt_picker_received(&p, 1, &b), BT_PICK_UNWANTED);
	struct bt_block b2 = {1, BLK, BLK};
	bt_picker_unrequest(&p, &b2);
	ASSERT_EQ(bt_picker_received(&p, 1, &b2), BT_PICK_COMPLETE);
	check_invariants(&p);
	bt_picker_verified(&p, 1);
	ASSERT(bt_picker_has(&p, 1));
	ASSERT(!bt_picker_partial(&p, 1));
	check_invariants(&p);
	bt_picker_free(&p);
}

TEST(hash_failure)
{
	struct bt_picker p;
	struct bt_block out[16];
	uint32_t who[8];

	ASSERT_OK(bt_picker_init(&p, 4, 2 * BLK, 8 * BLK));
	/* a piece all from peer 1 fails: peer 1 is named, no exclusivity */
	ASSERT_EQ(bt_picker_pick(&p, 1, NULL, NULL, NULL, NULL, out, 2), 2);
	uint32_t a = out[0].piece;
	for (int i = 0; i < 2; i++) {
		bt_picker_unrequest(&p, &out[i]);
		ASSERT(bt_picker_received(&p, 1, &out[i]) > 0);
	}
	ASSERT_EQ(bt_picker_failed(&p, a, who, 8), 1);
	ASSERT_EQ(who[0], 1);
	const struct bt_partial *pa = bt_picker_partial(&p, a);
	ASSERT(pa && !pa->exclusive && pa->nfree == 2 && pa->nrecv == 0);
	ASSERT_EQ(pa->owner, 0);
	check_invariants(&p);

	/* a piece from two peers fails: both named, retried exclusively */
	ASSERT_EQ(bt_picker_pick(&p, 2, NULL, NULL, NULL, NULL, out, 2), 2);
	ASSERT_EQ(out[0].piece, a); /* the orphan first */
	bt_picker_unrequest(&p, &out[0]);
	bt_picker_unrequest(&p, &out[1]);
	ASSERT(bt_picker_received(&p, 2, &out[0]) > 0);
	ASSERT_EQ(bt_picker_received(&p, 3, &out[1]), BT_PICK_COMPLETE);
	ASSERT_EQ(bt_picker_failed(&p, a, who, 8), 2);
	ASSERT((who[0] == 2 && who[1] == 3) || (who[0] == 3 && who[1] == 2));
	ASSERT(bt_picker_partial(&p, a)->exclusive);
	/* peer 4 adopts it (as an orphan) and then it is only peer 4's */
	ASSERT_EQ(bt_picker_pick(&p, 4, NULL, NULL, NULL, NULL, out, 1), 1);
	ASSERT_EQ(out[0].piece, a);
	uint8_t onlya[1] = {0};
	bt_bit_set(onlya, a);
	ASSERT_EQ(bt_picker_pick(&p, 5, onlya, NULL, NULL, NULL, out, 4), 0);
	ASSERT_EQ(bt_picker_pick(&p, 4, onlya, NULL, NULL, NULL, out, 4), 1);
	check_invariants(&p);
	bt_picker_free(&p);
}

TEST(allowed_fast_only)
{
	struct bt_picker p;
	struct bt_block out[16];
	uint8_t only[2] = {0, 0};

	ASSERT_OK(bt_picker_init(&p, 12, BLK, 12 * BLK));
	bt_bit_set(only, 9);
	bt_bit_set(only, 10);
	size_t n = bt_picker_pick(&p, 1, NULL, only, NULL, NULL, out, 16);
	ASSERT_EQ(n, 2);
	ASSERT(out[0].piece == 9 || out[0].piece == 10);
	ASSERT(out[1].piece == 9 || out[1].piece == 10);
	ASSERT(bt_picker_interesting(&p, only));
	bt_picker_set_have(&p, 9);
	bt_picker_set_have(&p, 10);
	ASSERT(!bt_picker_interesting(&p, only));
	ASSERT(bt_picker_interesting(&p, NULL));
	bt_picker_free(&p);
}

/* Random swarm: 6 peers with random bitfields (one a seed), random
 * arrivals, rejections, departures and a few hash failures, until done. */
TEST(random_swarm)
{
	struct bt_picker p;
	enum { NP = 37, NPEERS = 6 };
	uint8_t bits[NPEERS][(NP + 7) / 8];
	struct bt_block q[NPEERS][64];
	size_t nq[NPEERS] = {0};
	uint64_t rng = 42;
#define R() (rng = rng * 6364136223846793005ULL + 1442695040888963407ULL, (uint32_t)(rng >> 33))

	ASSERT_OK(bt_picker_init(&p, NP, 3 * BLK + 77, (uint64_t)(NP - 1) * (3 * BLK + 77) + 5));
	memset(bits, 0, sizeof bits);
	for (int k = 0; k < NPEERS; k++) {
		for (uint32_t i = 0; i < NP; i++)
			if (k == 0 || R() % 3 == 0)
				bt_bit_set(bits[k], i);
		bt_picker_add_bits(&p, bits[k]);
	}
	unsigned steps = 0, fails = 0;
	while (!bt_picker_done(&p)) {
		ASSERT(++steps < 200000);
		int k = (int)(R() % NPEERS);
		uint32_t peer = (uint32_t)k + 1;
		unsigned act = R() % 10;
		if (act < 3 && nq[k] < 64) {
			nq[k] += bt_picker_pick(&p, peer, bits[k], NULL, NULL, NULL,
						q[k] + nq[k], 64 - nq[k]);
		} else if (act < 8 && nq[k]) {
			size_t j = R() % nq[k];
			struct bt_block b = q[k][j];
			q[k][j] = q[k][--nq[k]];
			bt_picker_unrequest(&p, &b);
			if (act == 7)
				continue; /* rejected */
			int r = bt_picker_received(&p, peer, &b);
			ASSERT(r >= 0);
			if (r == BT_PICK_COMPLETE) {
				uint32_t who[8];
				if (R() % 8 == 0 && fails < 20) {
					fails++;
					ASSERT(bt_picker_failed(&p, b.piece, who, 8) >= 1);
				} else {
					bt_picker_verified(&p, b.piece);
				}
			}
		} else if (act == 9 && k != 0) {
			/* the peer drops its requests and leaves (and returns) */
			for (size_t j = 0; j < nq[k]; j++)
				bt_picker_unrequest(&p, &q[k][j]);
			nq[k] = 0;
			bt_picker_peer_gone(&p, peer);
		}
		check_invariants(&p);
	}
	ASSERT_EQ(p.nparts, 0);
	ASSERT_EQ(bt_picker_left(&p), 0);
	bt_picker_free(&p);
#undef R
}

TEST_MAIN(TEST_ENTRY(geometry), TEST_ENTRY(rarest_first),
	  TEST_ENTRY(started_pieces_first), TEST_ENTRY(endgame),
	  TEST_ENTRY(hash_failure), TEST_ENTRY(allowed_fast_only),
	  TEST_ENTRY(random_swarm))
