/*
 * tests/unit/test_bt_hasher.c - parallel piece hashing over files on disk:
 * pread and mmap modes, one and several threads, pieces across file
 * boundaries and zero-length files, missing and short files.
 */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "bt/hasher.h"

static const char *names[] = {"a", "b", "c", "d"};
static const uint64_t sizes[] = {40000, 0, 30000, 1};
#define NFILES 4
#define TOTAL 70001

static uint8_t gen_byte(uint64_t k)
{
	return (uint8_t)(k * 2654435761u >> 11);
}

static void make_files(const char *dir)
{
	uint64_t off = 0;
	for (size_t i = 0; i < NFILES; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "wb");
		ASSERT(f != NULL);
		for (uint64_t k = 0; k < sizes[i]; k++)
			fputc(gen_byte(off + k), f);
		off += sizes[i];
		ASSERT_EQ(fclose(f), 0);
	}
}

/* The metainfo fields the hasher reads, filled the way `bt create` does. */
static void layout(struct bt_metainfo *m, struct bt_file *files, uint32_t plen)
{
	memset(m, 0, sizeof *m);
	m->files = files;
	m->nfiles = NFILES;
	for (size_t i = 0; i < NFILES; i++) {
		files[i] = (struct bt_file){names[i], sizes[i], m->total_length, false};
		m->total_length += sizes[i];
	}
	m->piece_length = plen;
	m->npieces = (uint32_t)((m->total_length + plen - 1) / plen);
}

static void expected(const struct bt_metainfo *m, uint32_t i, uint8_t out[20])
{
	uint32_t n = bt_piece_size(m, i);
	uint8_t *buf = malloc(n);
	for (uint32_t j = 0; j < n; j++)
		buf[j] = gen_byte((uint64_t)i * m->piece_length + j);
	ASSERT(EVP_Digest(buf, n, out, NULL, EVP_sha1(), NULL));
	free(buf);
}

struct prog {
	uint64_t last, total;
	int calls;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;
	ASSERT(done >= p->last && done <= total);
	p->last = done;
	p->total = total;
	p->calls++;
}

static int run(struct bt_metainfo *m, const char *dir, unsigned threads,
	       bool mmap_mode, bool missing_ok, uint8_t *out, char *err)
{
	struct prog pr = {0, 0, 0};
	struct bt_hash_job job = {
		.m = m, .root = dir, .threads = threads, .out = out,
		.missing_ok = missing_ok, .use_mmap = mmap_mode,
		.progress = on_progress, .progress_arg = &pr, .progress_ms = 1,
	};
	int r = bt_hash_pieces(&job);
	if (err)
		snprintf(err, 320, "%s", job.error);
	if (r == 0) {
		ASSERT(pr.calls >= 1);
		ASSERT_EQ(pr.last, m->total_length); /* the final report */
		ASSERT(job.threads_used >= 1 && job.threads_used <= m->npieces);
	}
	return r;
}

TEST(all_modes_agree_with_reference)
{
	char dir[] = "/tmp/test_bt_hasher_XXXXXX";
	ASSERT(mkdtemp(dir) != NULL);
	make_files(dir);
	static const uint32_t plens[] = {1000, 16384, 32768, 65536, 1 << 20};
	for (size_t p = 0; p < sizeof plens / sizeof plens[0]; p++) {
		struct bt_metainfo m;
		struct bt_file files[NFILES];
		layout(&m, files, plens[p]);
		uint8_t *out = malloc((size_t)m.npieces * 20), want[20];
		for (int mode = 0; mode <= 1; mode++) {
			for (unsigned t = 1; t <= 3; t += 2) {
				memset(out, 0xee, (size_t)m.npieces * 20);
				ASSERT_OK(run(&m, dir, t, mode, false, out, NULL));
				for (uint32_t i = 0; i < m.npieces; i++) {
					expected(&m, i, want);
					if (memcmp(want, out + 20 * i, 20) != 0)
						FAIL("piece %u of %u, plen %u, mmap %d, "
						     "threads %u", i, m.npieces, plens[p],
						     mode, t);
				}
			}
		}
		free(out);
	}
	for (size_t i = 0; i < NFILES; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

TEST(missing_and_short_files)
{
	char dir[] = "/tmp/test_bt_hasher_XXXXXX", path[256], err[320];
	ASSERT(mkdtemp(dir) != NULL);
	make_files(dir);
	struct bt_metainfo m;
	struct bt_file files[NFILES];
	layout(&m, files, 32768); /* pieces: [a] [a c] [c d] */
	uint8_t out[3 * 20], want[20], zero[20] = {0};

	snprintf(path, sizeof path, "%s/c", dir);
	unlink(path);
	for (int mode = 0; mode <= 1; mode++) {
		ASSERT_EQ(run(&m, dir, 2, mode, false, out, err), SK_ENOENT);
		ASSERT(strstr(err, "c: ") == err);
		ASSERT_OK(run(&m, dir, 2, mode, true, out, NULL));
		expected(&m, 0, want);
		ASSERT_MEMEQ(out, want, 20);
		ASSERT_MEMEQ(out + 20, zero, 20); /* touches c */
		ASSERT_MEMEQ(out + 40, zero, 20);
	}

	/* c back but one byte short */
	FILE *f = fopen(path, "wb");
	ASSERT(f != NULL);
	for (uint64_t k = 0; k + 1 < sizes[2]; k++)
		fputc(gen_byte(40000 + k), f);
	fclose(f);
	for (int mode = 0; mode <= 1; mode++) {
		ASSERT_EQ(run(&m, dir, 1, mode, false, out, err), SK_EPROTO);
		ASSERT(strstr(err, "shorter") != NULL);
	}
	/* a root that is not there */
	ASSERT_EQ(run(&m, "/nonexistent/dir", 1, false, false, out, err), SK_ENOENT);
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

TEST_MAIN(TEST_ENTRY(all_modes_agree_with_reference),
	  TEST_ENTRY(missing_and_short_files))
