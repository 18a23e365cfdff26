/*
 * tests/bt_fixture.h - torrents made up on the spot for the BitTorrent
 * tests: the payload is a pure function of the stream offset, so a test
 * can check any byte of any file without keeping a copy.
 */
#ifndef SK_BT_FIXTURE_H
#define SK_BT_FIXTURE_H

#include <openssl/evp.h>
#include <stdio.h>

#include "bt/bencode.h"
#include "bt/metainfo.h"
#include "test.h"

static inline uint8_t fx_byte(uint64_t k)
{
	uint64_t x = (k + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	return (uint8_t)(x >> 56 ^ x >> 29);
}

static inline void fx_fill(uint8_t *p, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = fx_byte(off + i);
}

/*
 * Build and parse a torrent named `name` with nfiles files of the given
 * sizes (multi: a directory torrent with files f0, f1, ...; else one
 * file, sizes[0]).  The caller frees m.
 */
static inline void fx_torrent(struct bt_metainfo *m, const char *name,
			      const uint64_t *sizes, size_t nfiles, bool multi,
			      uint32_t plen)
{
	uint64_t total = 0;
	for (size_t i = 0; i < nfiles; i++)
		total += sizes[i];
	uint32_t np = (uint32_t)((total + plen - 1) / plen);
	uint8_t *hashes = malloc((size_t)np * 20 + 1);
	uint8_t *piece = malloc(plen);
	ASSERT(hashes && piece);
	for (uint32_t i = 0; i < np; i++) {
		uint64_t off = (uint64_t)i * plen;
		size_t n = total - off < plen ? (size_t)(total - off) : plen;
		unsigned len = 20;
		fx_fill(piece, off, n);
		ASSERT(EVP_Digest(piece, n, hashes + 20 * i, &len, EVP_sha1(), NULL));
	}
	struct sk_buf b = SK_BUF_INIT(64u << 20);
	struct bt_benc e;
	bt_benc_init(&e, &b);
	bt_benc_dict(&e);
	bt_benc_cstr(&e, "announce");
	bt_benc_cstr(&e, "http://127.0.0.1:1/announce");
	bt_benc_cstr(&e, "info");
	bt_benc_dict(&e);
	if (multi) {
		bt_benc_cstr(&e, "files");
		bt_benc_list(&e);
		for (size_t i = 0; i < nfiles; i++) {
			char fn[32];
			snprintf(fn, sizeof fn, "f%zu", i);
			bt_benc_dict(&e);
			bt_benc_cstr(&e, "length");
			bt_benc_int(&e, (int64_t)sizes[i]);
			bt_benc_cstr(&e, "path");
			bt_benc_list(&e);
			if (i % 2) /* some in a subdirectory */
				bt_benc_cstr(&e, "sub");
			bt_benc_cstr(&e, fn);
			bt_benc_end(&e);
			bt_benc_end(&e);
		}
		bt_benc_end(&e);
	} else {
		bt_benc_cstr(&e, "length");
		bt_benc_int(&e, (int64_t)total);
	}
	bt_benc_cstr(&e, "name");
	bt_benc_cstr(&e, name);
	bt_benc_cstr(&e, "piece length");
	bt_benc_int(&e, plen);
	bt_benc_cstr(&e, "pieces");
	bt_benc_str(&e, hashes, (size_t)np * 20);
	bt_benc_end(&e);
	bt_benc_end(&e);
	ASSERT_OK(bt_benc_error(&e));
	if (bt_metainfo_parse(m, sk_buf_data(&b), sk_buf_len(&b)) < 0)
		FAIL("fixture torrent: %s", m->error);
	sk_buf_free(&b);
	free(hashes);
	free(piece);
}

/* A fresh empty directory under /tmp; path into buf. */
static inline void fx_tmpdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/sk-bt-XXXXXX");
	ASSERT(mkdtemp(buf) != NULL);
}

static inline void fx_rmrf(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

#endif
