/*
 * src/bt/choker.h - who we upload to (BEP 3 choking).
 *
 * Tit-for-tat: every round (the caller runs one every 10 s) the interested
 * peers are ranked and the best `slots` of them are unchoked, the rest
 * choked.  While downloading, the rank is how fast a peer uploads to us
 * (a snubbed peer, one that stopped sending, ranks last); while seeding,
 * how fast it downloads from us, so the upload goes where it moves
 * fastest.  One more slot is the optimistic unchoke: a random interested
 * peer outside the top, kept for 30 s and then rotated, so newcomers get
 * a chance to show what they give (a peer connected in the last minute is
 * three times as likely to be chosen).
 *
 * Pure: the caller passes the peers and the time, and applies the
 * decisions (v[i].unchoke) by sending choke/unchoke where they changed.
 */
#ifndef SK_BT_CHOKER_H
#define SK_BT_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BT_CHOKE_ROUND_MS 10000
#define BT_CHOKE_OPTIMISTIC_MS 30000

struct bt_choke_peer {
	uint32_t id;           /* never 0 */
	bool interested;       /* the peer wants our pieces */
	bool snubbed;          /* sent us nothing for a long time */
	uint64_t down_rate;    /* bytes/s it sends us */
	uint64_t up_rate;      /* bytes/s we send it */
	uint64_t connected_ms; /* when it connected */
	bool unchoke;          /* out: unchoke it */
	bool optimistic;       /* out: it holds the optimistic slot */
};

struct bt_choker {
	unsigned slots;       /* regular unchokes (default 4) */
	uint32_t optimistic;  /* peer id in the optimistic slot, 0 none */
	uint64_t opt_since;   /* when it was chosen */
	uint64_t rng;
};

void bt_choker_init(struct bt_choker *c, unsigned slots, uint64_t seed);

/* One round over v[0..n) at time now_ms.  Returns how many are to be
 * unchoked. */
size_t bt_choker_run(struct bt_choker *c, struct bt_choke_peer *v, size_t n,
		     bool seeding, uint64_t now_ms);

#endif
