/*
 * tests/unit/test_bt_storage.c - the disk layer: files created and sized,
 * blocks written across file boundaries (zero-length files included)
 * landing at the right offsets of the right files, reads, incremental
 * piece hashing, read-only mode, and the resume recheck (verified pieces
 * kept, corrupt and missing ones not).
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt/storage.h"
#include "bt/wire.h"
#include "bt_fixture.h"

/* File i's expected bytes are stream bytes [offset, offset + length). */
static void check_file(const char *dir, const struct bt_metainfo *m, size_t i)
{
	char rel[512], path[1024];
	ASSERT(bt_metainfo_file_path(m, i, rel, sizeof rel) > 0);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		FAIL("cannot open %s", path);
	uint64_t k = 0;
	int c;
	while ((c = fgetc(f)) != EOF) {
		if ((uint8_t)c != fx_byte(m->files[i].offset + k))
			FAIL("%s: byte %llu differs", path, (unsigned long long)k);
		k++;
	}
	fclose(f);
	ASSERT_EQ(k, m->files[i].length);
}

/* Write every piece in blocks of `blk` bytes, pieces in a scrambled
 * order. */
static void write_all(struct bt_storage *s, const struct bt_metainfo *m,
		      uint32_t blk)
{
	uint8_t *buf = malloc(m->piece_length);
	for (uint32_t k = 0; k < m->npieces; k++) {
		uint32_t i = (k * 7 + 3) % m->npieces;
		if (m->npieces % 7 == 0)
			i = k;
		uint32_t psz = bt_piece_size(m, i);
		fx_fill(buf, (uint64_t)i * m->piece_length, psz);
		for (uint32_t b = 0; b < psz; b += blk) {
			uint32_t n = psz - b < blk ? psz - b : blk;
			ASSERT_OK(bt_storage_write(s, i, b, buf + b, n));
		}
	}
	free(buf);
}

static const uint64_t sizes[] = {10000, 0, 33000, 1, 0, 20000, 70001};

TEST(multi_file_write_read)
{
	struct bt_metainfo m;
	struct bt_storage s;
	char dir[64];

	fx_torrent(&m, "multi", sizes, 7, true, 16384);
	fx_tmpdir(dir, sizeof dir);
	ASSERT_OK(bt_storage_open(&s, &m, dir, BT_STORAGE_CREATE));
	ASSERT(!s.existed);
	/* every file exists at full length before anything is written */
	for (size_t i = 0; i < m.nfiles; i++) {
		char rel[512], path[1024];
		struct stat st;
		ASSERT(bt_metainfo_file_path(&m, i, rel, sizeof rel) > 0);
		snprintf(path, sizeof path, "%s/%s", dir, rel);
		ASSERT_EQ(stat(path, &st), 0);
		ASSERT_EQ(st.st_size, m.files[i].length);
	}
	/* odd block sizes so blocks straddle files */
	write_all(&s, &m, 5000);
	for (size_t i = 0; i < m.nfiles; i++)
		check_file(dir, &m, i);

	/* reads across boundaries, at odd offsets */
	uint8_t *buf = malloc(m.piece_length), *ref = malloc(m.piece_length);
	for (uint32_t i = 0; i < m.npieces; i++) {
		uint32_t psz = bt_piece_size(&m, i);
		for (uint32_t b = 0; b < psz; b += 3001) {
			uint32_t n = psz - b < 4099 ? psz - b : 4099;
			ASSERT_OK(bt_storage_read(&s, i, b, buf, n));
			fx_fill(ref, (uint64_t)i * m.piece_length + b, n);
			ASSERT_MEMEQ(buf, ref, n);
		}
	}
	/* locate: a range inside one file gives its fd and offset (the same
	 * bytes pread finds there); one across a boundary says so (1) */
	int inside = 0, across = 0;
	for (uint32_t i = 0; i < m.npieces; i++) {
		uint32_t psz = bt_piece_size(&m, i);
		for (uint32_t b = 0; b < psz; b += 3001) {
			uint32_t n = psz - b < 4099 ? psz - b : 4099;
			int fd;
			uint64_t off;
			int r = bt_storage_locate(&s, i, b, n, &fd, &off);
			uint64_t at = (uint64_t)i * m.piece_length + b;
			size_t f = 0;
			while (f + 1 < m.nfiles && m.files[f + 1].offset <= at)
				f++;
			while (m.files[f].length == 0) /* empty files hold nothing */
				f++;
			bool one = at + n <= m.files[f].offset + m.files[f].length;
			ASSERT_EQ(r, one ? 0 : 1);
			if (r == 1) {
				across++;
				continue;
			}
			inside++;
			ASSERT_EQ(off, at - m.files[f].offset);
			ASSERT_EQ(pread(fd, buf, n, (off_t)off), (ssize_t)n);
			fx_fill(ref, at, n);
			ASSERT_MEMEQ(buf, ref, n);
		}
	}
	ASSERT(inside > 10 && across > 2);
	int lfd;
	uint64_t loff;
	ASSERT_EQ(bt_storage_locate(&s, m.npieces, 0, 1, &lfd, &loff), SK_EINVAL);
	ASSERT_EQ(bt_storage_locate(&s, 0, 0, 0, &lfd, &loff), SK_EINVAL);

	/* out of range */
	ASSERT_EQ(bt_storage_read(&s, 0, 0, buf, m.piece_length + 1), SK_EINVAL);
	ASSERT_EQ(bt_storage_read(&s, m.npieces, 0, buf, 1), SK_EINVAL);
	ASSERT_EQ(bt_storage_write(&s, m.npieces - 1, bt_piece_size(&m, m.npieces - 1),
				   buf, 1), SK_EINVAL);

	/* the hash of a piece from any starting point */
	for (uint32_t i = 0; i < m.npieces; i++) {
		uint32_t from = i % 3 == 0 ? 0 : 1234 % bt_piece_size(&m, i);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t md[20], scratch[BT_STORAGE_CHUNK];
		unsigned len;
		ASSERT(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL));
		fx_fill(ref, (uint64_t)i * m.piece_length, from);
		ASSERT(EVP_DigestUpdate(ctx, ref, from));
		ASSERT_OK(bt_storage_hash_rest(&s, i, from, ctx, scratch));
		ASSERT(EVP_DigestFinal_ex(ctx, md, &len));
		ASSERT_MEMEQ(md, bt_piece_hash(&m, i), 20);
		EVP_MD_CTX_free(ctx);
	}
	ASSERT_OK(bt_storage_sync(&s));
	bt_storage_close(&s);
	free(buf);
	free(ref);

	/* read-only reopen: reads work, writes are refused */
	ASSERT_OK(bt_storage_open(&s, &m, dir, BT_STORAGE_READONLY));
	uint8_t one;
	ASSERT_OK(bt_storage_read(&s, 0, 0, &one, 1));
	ASSERT_EQ(one, fx_byte(0));
	ASSERT_EQ(bt_storage_write(&s, 0, 0, &one, 1), SK_EACCES);
	bt_storage_close(&s);

	fx_rmrf(dir);
	bt_metainfo_free(&m);
}

TEST(recheck_keeps_verified_pieces)
{
	struct bt_metainfo m;
	struct bt_storage s;
	char dir[64], path[256];
	uint8_t have[64];
	uint32_t count;

	fx_torrent(&m, "multi", sizes, 7, true, 16384);
	fx_tmpdir(dir, sizeof dir);
	ASSERT_OK(bt_storage_open(&s, &m, dir, BT_STORAGE_CREATE));
	/* nothing written: nothing verified */
	ASSERT_OK(bt_storage_recheck(&s, have, &count, NULL, NULL));
	ASSERT_EQ(count, 0);
	/* half the pieces written */
	uint8_t *buf = malloc(m.piece_length);
	for (uint32_t i = 0; i < m.npieces; i += 2) {
		fx_fill(buf, (uint64_t)i * m.piece_length, bt_piece_size(&m, i));
		ASSERT_OK(bt_storage_write(&s, i, 0, buf, bt_piece_size(&m, i)));
	}
	/* and a piece written all but one byte: must not count */
	uint32_t partial = 1;
	fx_fill(buf, (uint64_t)partial * m.piece_length, m.piece_length);
	ASSERT_OK(bt_storage_write(&s, partial, 0, buf, m.piece_length - 1));
	bt_storage_close(&s);

	ASSERT_OK(bt_storage_open(&s, &m, dir, BT_STORAGE_CREATE));
	ASSERT(s.existed);
	ASSERT_OK(bt_storage_recheck(&s, have, &count, NULL, NULL));
	ASSERT_EQ(count, (m.npieces + 1) / 2);
	for (uint32_t i = 0; i < m.npieces; i++)
		ASSERT_EQ(bt_bit_get(have, i), i % 2 == 0);
	write_all(&s, &m, 16384);
	ASSERT_OK(bt_storage_recheck(&s, have, &count, NULL, NULL));
	ASSERT_EQ(count, m.npieces);
	bt_storage_close(&s);

	/* corrupt one byte of f2 (stream offset 10000 + 100): piece 0 only */
	snprintf(path, sizeof path, "%s/multi/f2", dir);
	int fd = open(path, O_WRONLY);
	ASSERT(fd >= 0);
	ASSERT_EQ(pwrite(fd, "X", 1, 100), 1);
	close(fd);
	/* truncate the last file: the pieces it covers fail */
	snprintf(path, sizeof path, "%s/multi/f6", dir);
	ASSERT_EQ(truncate(path, 100), 0);
	ASSERT_OK(bt_storage_open(&s, &m, dir, 0));
	ASSERT_OK(bt_storage_recheck(&s, have, &count, NULL, NULL));
	ASSERT(!bt_bit_get(have, 0));
	uint32_t first_f6 = (uint32_t)(m.files[6].offset / m.piece_length);
	for (uint32_t i = 1; i < m.npieces; i++)
		ASSERT_EQ(bt_bit_get(have, i), i < first_f6);
	/* and reading beyond a short file is an error, not garbage */
	ASSERT_EQ(bt_storage_read(&s, m.npieces - 1, 0, buf,
				  bt_piece_size(&m, m.npieces - 1)), SK_EPROTO);
	bt_storage_close(&s);
	free(buf);
	fx_rmrf(dir);
	bt_metainfo_free(&m);
}

TEST(single_file_and_errors)
{
	struct bt_metainfo m;
	struct bt_storage s;
	char dir[64], sub[128];
	uint64_t one = 100000;

	fx_torrent(&m, "single.bin", &one, 1, false, 32768);
	fx_tmpdir(dir, sizeof dir);
	/* the download directory is made when missing */
	snprintf(sub, sizeof sub, "%s/a/b", dir);
	ASSERT_OK(bt_storage_open(&s, &m, sub, BT_STORAGE_CREATE | BT_STORAGE_FALLOC));
	write_all(&s, &m, 16384);
	check_file(sub, &m, 0);
	bt_storage_close(&s);
	/* seeding a missing file fails with its name */
	ASSERT(bt_storage_open(&s, &m, dir, BT_STORAGE_READONLY) < 0);
	ASSERT(strstr(s.error, "single.bin") != NULL);
	fx_rmrf(dir);
	bt_metainfo_free(&m);
}

/* Fewer descriptors than files: the cache closes them all to make room
 * (after a sync), reopens on demand, and every byte still lands right. */
TEST(descriptor_cache_bounded)
{
	struct bt_metainfo m;
	struct bt_storage s;
	char dir[64];

	fx_torrent(&m, "fdc", sizes, 7, true, 16384);
	fx_tmpdir(dir, sizeof dir);
	ASSERT_OK(bt_storage_open(&s, &m, dir, BT_STORAGE_CREATE));
	ASSERT(s.fc.nopen <= BT_STORAGE_MAX_FDS);
	s.fc.max = 2; /* white-box: a torrent of many files, in small */
	bt_fdcache_close_all(&s.fc);
	write_all(&s, &m, 5000);
	ASSERT(s.fc.nopen <= 2);
	for (size_t i = 0; i < m.nfiles; i++)
		check_file(dir, &m, i);
	bt_storage_close(&s);

	/* the cache alone: each descriptor is its own file's */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ASSERT(dfd >= 0);
	struct bt_fdcache c;
	ASSERT_OK(bt_fdcache_init(&c, &m, dfd, O_RDONLY, 2));
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < m.nfiles; i++) {
			int fd = bt_fdcache_get(&c, i);
			ASSERT(fd >= 0);
			ASSERT_EQ(bt_fdcache_get(&c, i), fd); /* cached */
			struct stat st;
			ASSERT_EQ(fstat(fd, &st), 0);
			ASSERT_EQ(st.st_size, m.files[i].length);
			ASSERT(c.nopen <= 2);
		}
	/* full: an adopted descriptor is closed, not kept */
	ASSERT(bt_fdcache_full(&c));
	size_t closed_one = SIZE_MAX;
	for (size_t i = 0; i < m.nfiles && closed_one == SIZE_MAX; i++)
		if (c.fds[i] < 0)
			closed_one = i;
	ASSERT(closed_one != SIZE_MAX);
	int extra = dup(dfd);
	bt_fdcache_adopt(&c, closed_one, extra);
	ASSERT_EQ(c.fds[closed_one], -1);
	ASSERT_EQ(fcntl(extra, F_GETFD), -1); /* closed */
	bt_fdcache_free(&c);
	close(dfd);
	fx_rmrf(dir);
	bt_metainfo_free(&m);
}

TEST_MAIN(TEST_ENTRY(descriptor_cache_bounded), TEST_ENTRY(multi_file_write_read), TEST_ENTRY(recheck_keeps_verified_pieces),
	  TEST_ENTRY(single_file_and_errors))
