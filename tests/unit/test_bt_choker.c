/*
 * tests/unit/test_bt_choker.c - tit-for-tat: the fastest uploaders to us
 * get the regular slots, one optimistic slot rotates every 30 s among the
 * others (newcomers favoured), seeding ranks by how fast peers download
 * from us, uninterested peers stay choked, snubbed peers rank last.
 */
#include "bt/choker.h"
#include "test.h"

static void mk(struct bt_choke_peer *v, size_t n)
{
	memset(v, 0, n * sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i].id = (uint32_t)i + 1;
		v[i].interested = true;
		v[i].down_rate = 1000 * (i + 1); /* peer i+1 gives i+1 KB/s */
		v[i].up_rate = 1000 * (n - i);   /* and takes n-i KB/s */
	}
}

static size_t opt_index(const struct bt_choke_peer *v, size_t n)
{
	size_t k = n, cnt = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].optimistic) {
			k = i;
			cnt++;
		}
	ASSERT(cnt <= 1);
	return k;
}

TEST(tit_for_tat)
{
	struct bt_choker c;
	struct bt_choke_peer v[8];

	bt_choker_init(&c, 3, 7);
	mk(v, 8);
	ASSERT_EQ(bt_choker_run(&c, v, 8, false, 100000), 4);
	/* the three fastest uploaders to us: peers 8, 7, 6 */
	ASSERT(v[7].unchoke && v[6].unchoke && v[5].unchoke);
	size_t o = opt_index(v, 8);
	ASSERT(o < 5);
	ASSERT(v[o].unchoke);
	for (size_t i = 0; i < 5; i++)
		ASSERT_EQ(v[i].unchoke, i == o);

	/* 10 s later peer 1 became the fastest: it takes a regular slot,
	 * the optimistic peer keeps its slot */
	uint32_t opt_id = v[o].id;
	v[0].down_rate = 1000000;
	ASSERT_EQ(bt_choker_run(&c, v, 8, false, 110000), 4);
	ASSERT(v[0].unchoke);
	ASSERT(v[7].unchoke && v[6].unchoke);
	if (opt_id != 1) {
		ASSERT_EQ(v[opt_index(v, 8)].id, opt_id);
		ASSERT(!v[5].unchoke);
	}

	/* an uninterested peer is never unchoked, however fast */
	v[7].interested = false;
	bt_choker_run(&c, v, 8, false, 120000);
	ASSERT(!v[7].unchoke);

	/* a snubbed peer ranks last */
	v[0].snubbed = true;
	v[7].interested = true;
	bt_choker_run(&c, v, 8, false, 125000);
	ASSERT(v[7].unchoke && v[6].unchoke && v[5].unchoke);
	ASSERT(!v[0].unchoke || v[0].optimistic);
}

TEST(optimistic_rotates)
{
	struct bt_choker c;
	struct bt_choke_peer v[10];
	uint32_t seen[11] = {0};

	bt_choker_init(&c, 2, 12345);
	mk(v, 10);
	uint64_t now = 1000000;
	bt_choker_run(&c, v, 10, false, now);
	uint32_t first = v[opt_index(v, 10)].id;
	/* kept for 30 s */
	for (int k = 1; k <= 2; k++) {
		bt_choker_run(&c, v, 10, false, now + 10000 * (uint64_t)k);
		ASSERT_EQ(v[opt_index(v, 10)].id, first);
	}
	/* then rotated, over time reaching many peers, never a top one */
	for (int k = 3; k < 300; k += 3) {
		bt_choker_run(&c, v, 10, false, now + 10000 * (uint64_t)k);
		size_t o = opt_index(v, 10);
		ASSERT(o < 8);
		seen[v[o].id]++;
	}
	unsigned distinct = 0;
	for (int i = 1; i <= 10; i++)
		distinct += seen[i] != 0;
	ASSERT(distinct >= 5);

	/* the optimistic peer losing interest frees the slot at once */
	bt_choker_run(&c, v, 10, false, now + 3000000);
	size_t o = opt_index(v, 10);
	v[o].interested = false;
	bt_choker_run(&c, v, 10, false, now + 3001000);
	ASSERT(!v[o].unchoke);
	ASSERT(opt_index(v, 10) < 10);
}

TEST(newcomers_favoured)
{
	struct bt_choker c;
	struct bt_choke_peer v[6];
	unsigned fresh = 0, rounds = 0;

	bt_choker_init(&c, 1, 99);
	mk(v, 6);
	uint64_t now = 10000000;
	for (size_t i = 0; i < 6; i++)
		v[i].connected_ms = i == 0 ? now - 1000 : 0; /* peer 1 is new */
	for (int k = 0; k < 300; k++) {
		for (size_t i = 0; i < 6; i++)
			if (i == 0)
				v[i].connected_ms = now + 30000 * (uint64_t)k - 1000;
		bt_choker_run(&c, v, 6, false, now + 30000 * (uint64_t)k);
		size_t o = opt_index(v, 6);
		ASSERT(o < 6);
		rounds++;
		fresh += v[o].id == 1;
	}
	/* weight 3 among 1 + 3 + 1 + 1 + 1 (peer 6 holds the regular slot):
	 * 3/7 of the draws, far above the 1/5 of a fair draw */
	ASSERT(fresh * 100 / rounds > 30);
}

TEST(seeding_favours_fast_downloaders)
{
	struct bt_choker c;
	struct bt_choke_peer v[6];

	bt_choker_init(&c, 2, 5);
	mk(v, 6);
	bt_choker_run(&c, v, 6, true, 50000);
	/* up_rate is highest for peers 1 and 2 */
	ASSERT(v[0].unchoke && v[1].unchoke);
	size_t o = opt_index(v, 6);
	ASSERT(o >= 2 && o < 6);
	for (size_t i = 2; i < 6; i++)
		ASSERT_EQ(v[i].unchoke, i == o);
	/* nobody interested: nobody unchoked */
	for (size_t i = 0; i < 6; i++)
		v[i].interested = false;
	ASSERT_EQ(bt_choker_run(&c, v, 6, true, 90000), 0);
	ASSERT_EQ(opt_index(v, 6), 6);
	/* no peers at all */
	ASSERT_EQ(bt_choker_run(&c, v, 0, true, 100000), 0);
}

TEST_MAIN(TEST_ENTRY(tit_for_tat), TEST_ENTRY(optimistic_rotates),
	  TEST_ENTRY(newcomers_favoured), TEST_ENTRY(seeding_favours_fast_downloaders))
