/*
 * src/bt/choker.c - tit-for-tat with an optimistic unchoke (see choker.h).
 */
#include "bt/choker.h"

#include <stdlib.h>

#define NEW_PEER_MS 60000

void bt_choker_init(struct bt_choker *c, unsigned slots, uint64_t seed)
{
	c->slots = slots ? slots : 4;
	c->optimistic = 0;
	c->opt_since = 0;
	c->rng = seed ? seed : 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd(struct bt_choker *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return (uint32_t)(c->rng >> 11);
}

static uint64_t rank_of(const struct bt_choke_peer *p, bool seeding)
{
	if (seeding)
		return p->up_rate;
	/* snubbed peers rank below every other, however fast they were */
	return p->snubbed ? 0 : p->down_rate + 1;
}

/* Index of the best ranked interested peer not yet unchoked, n if none. */
static size_t best(const struct bt_choke_peer *v, size_t n, bool seeding)
{
	size_t b = n;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].interested || v[i].unchoke)
			continue;
		if (b == n || rank_of(&v[i], seeding) > rank_of(&v[b], seeding) ||
		    (rank_of(&v[i], seeding) == rank_of(&v[b], seeding) &&
		     v[i].connected_ms < v[b].connected_ms))
			b = i;
	}
	return b;
}

size_t bt_choker_run(struct bt_choker *c, struct bt_choke_peer *v, size_t n,
		     bool seeding, uint64_t now_ms)
{
	size_t opt = n, unchoked = 0;

	for (size_t i = 0; i < n; i++) {
		v[i].unchoke = false;
		v[i].optimistic = false;
		if (v[i].id == c->optimistic && v[i].interested)
			opt = i;
	}
	bool rotate = opt == n || now_ms - c->opt_since >= BT_CHOKE_OPTIMISTIC_MS;
	/* the current optimistic peer keeps its slot outside the ranking */
	if (!rotate)
		v[opt].unchoke = true;
	for (unsigned k = 0; k < c->slots; k++) {
		size_t b = best(v, n, seeding);
		if (b == n)
			break;
		v[b].unchoke = true;
	}
	if (rotate) {
		/* a weighted draw among the interested peers left choked */
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i].interested && !v[i].unchoke)
				total += now_ms - v[i].connected_ms < NEW_PEER_MS ? 3 : 1;
		opt = n;
		if (total) {
			uint64_t r = rnd(c) % total;
			for (size_t i = 0; i < n && opt == n; i++) {
				if (!v[i].interested || v[i].unchoke)
					continue;
				uint64_t w = now_ms - v[i].connected_ms < NEW_PEER_MS ? 3 : 1;
				if (r < w)
					opt = i;
				else
					r -= w;
			}
		}
		c->optimistic = opt < n ? v[opt].id : 0;
		c->opt_since = now_ms;
		if (opt < n)
			v[opt].unchoke = true;
	}
	if (opt < n)
		v[opt].optimistic = true;
	for (size_t i = 0; i < n; i++)
		unchoked += v[i].unchoke;
	return unchoked;
}
