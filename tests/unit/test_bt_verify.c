/*
 * test_bt_verify.c - piece checks on the worker thread: verdicts for good
 * pieces, a damaged one and one that cannot be read back, delivered on the
 * loop thread, over a multi-file torrent whose pieces straddle files.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "bt/storage.h"
#include "bt/verify.h"
#include "bt_fixture.h"

struct seen {
	int verdict[64];
	int count, want;
	int done; /* count reached want */
	pthread_t loop_thread;
	bool wrong_thread;
};

static void on_verdict(void *ud, uint32_t piece, int verdict)
{
	struct seen *s = ud;
	if (!pthread_equal(pthread_self(), s->loop_thread))
		s->wrong_thread = true;
	ASSERT(piece < 64);
	s->verdict[piece] = verdict;
	if (++s->count == s->want)
		s->done = 1;
}

static const uint64_t sizes[] = {10000, 0, 33000, 1, 20000, 70001};

TEST(verdicts_on_the_loop_thread)
{
	struct bt_metainfo m;
	struct bt_storage st;
	char dir[64];
	fx_torrent(&m, "multi", sizes, 6, true, 16384);
	ASSERT(m.npieces <= 64);
	fx_tmpdir(dir, sizeof dir);
	ASSERT_OK(bt_storage_open(&st, &m, dir, BT_STORAGE_CREATE));
	uint8_t *buf = malloc(m.piece_length);
	for (uint32_t i = 0; i < m.npieces; i++) {
		uint32_t n = bt_piece_size(&m, i);
		fx_fill(buf, (uint64_t)i * m.piece_length, n);
		if (i == 2)
			buf[n / 2] ^= 1; /* one damaged piece */
		ASSERT_OK(bt_storage_write(&st, i, 0, buf, n));
	}

	sk_loop *loop = test_loop();
	struct seen s = {.want = (int)m.npieces, .loop_thread = pthread_self()};
	for (uint32_t i = 0; i < 64; i++)
		s.verdict[i] = 99;
	struct bt_verify *v;
	ASSERT_OK(bt_verify_new(loop, &m, st.dirfd, on_verdict, &s, &v));
	for (uint32_t i = 0; i < m.npieces; i++)
		ASSERT_OK(bt_verify_submit(v, i));
	ASSERT_EQ(bt_verify_pending(v), m.npieces);
	ASSERT_EQ(bt_verify_submit(v, m.npieces), SK_EINVAL);
	test_run_until(loop, &s.done, 10000);
	ASSERT(!s.wrong_thread);
	ASSERT_EQ(bt_verify_pending(v), 0u);
	for (uint32_t i = 0; i < m.npieces; i++)
		ASSERT_EQ(s.verdict[i], i == 2 ? BT_VERIFY_BAD : BT_VERIFY_OK);

	/* the last file shrinks under it: its pieces cannot be read back */
	char rel[256], path[512];
	ASSERT(bt_metainfo_file_path(&m, m.nfiles - 1, rel, sizeof rel) > 0);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	ASSERT_EQ(truncate(path, 100), 0);
	s.count = s.done = 0;
	s.want = 1;
	ASSERT_OK(bt_verify_submit(v, m.npieces - 1));
	test_run_until(loop, &s.done, 10000);
	ASSERT_EQ(s.verdict[m.npieces - 1], BT_VERIFY_ERROR);

	/* freed with work still queued: the worker stops, nothing leaks */
	for (uint32_t i = 0; i < m.npieces; i++)
		ASSERT_OK(bt_verify_submit(v, i));
	bt_verify_free(v);
	sk_loop_free(loop);
	bt_storage_close(&st);
	fx_rmrf(dir);
	free(buf);
	bt_metainfo_free(&m);
}

TEST_MAIN(TEST_ENTRY(verdicts_on_the_loop_thread))
