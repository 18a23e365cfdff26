/*
 * tests/unit/test_bt_metainfo.c - .torrent parsing: torrents made by
 * mktorrent 1.1 (info-hash computed independently with Python's hashlib,
 * piece hashes recomputed here from the same generated data), BEP 12 tier
 * lists, every safety rejection, and the piece/file offset mapping across
 * multi-file boundaries.
 */
#include "test.h"

#include <openssl/evp.h>

#include "bt/bencode.h"
#include "bt/metainfo.h"

/*
 * Made with, from the data of gen_byte():
 *   mktorrent -d -l 15 -a http://a.example/ann,http://b.example/ann \
 *       -a udp://c.example:6969/announce -c "unit test" single.bin
 *       (100000 bytes)
 *   mktorrent -d -p -l 15 -a http://t.example:8080/announce multi
 *       (multi/a 40000, multi/b/c 0, multi/b/d 30000, multi/e 1 bytes,
 *        the stream in that order)
 */
static const uint8_t single_torrent[] = {
	0x64, 0x38, 0x3a, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65, 0x32,
	0x30, 0x3a, 0x68, 0x74, 0x74, 0x70, 0x3a, 0x2f, 0x2f, 0x61, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2f, 0x61, 0x6e, 0x6e, 0x31, 0x33,
	0x3a, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65, 0x2d, 0x6c, 0x69,
	0x73, 0x74, 0x6c, 0x6c, 0x32, 0x30, 0x3a, 0x68, 0x74, 0x74, 0x70, 0x3a,
	0x2f, 0x2f, 0x61, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2f,
	0x61, 0x6e, 0x6e, 0x32, 0x30, 0x3a, 0x68, 0x74, 0x74, 0x70, 0x3a, 0x2f,
	0x2f, 0x62, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2f, 0x61,
	0x6e, 0x6e, 0x65, 0x6c, 0x32, 0x39, 0x3a, 0x75, 0x64, 0x70, 0x3a, 0x2f,
	0x2f, 0x63, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x3a, 0x36,
	0x39, 0x36, 0x39, 0x2f, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65,
	0x65, 0x65, 0x37, 0x3a, 0x63, 0x6f, 0x6d, 0x6d, 0x65, 0x6e, 0x74, 0x39,
	0x3a, 0x75, 0x6e, 0x69, 0x74, 0x20, 0x74, 0x65, 0x73, 0x74, 0x31, 0x30,
	0x3a, 0x63, 0x72, 0x65, 0x61, 0x74, 0x65, 0x64, 0x20, 0x62, 0x79, 0x31,
	0x33, 0x3a, 0x6d, 0x6b, 0x74, 0x6f, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x20,
	0x31, 0x2e, 0x31, 0x34, 0x3a, 0x69, 0x6e, 0x66, 0x6f, 0x64, 0x36, 0x3a,
	0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x69, 0x31, 0x30, 0x30, 0x30, 0x30,
	0x30, 0x65, 0x34, 0x3a, 0x6e, 0x61, 0x6d, 0x65, 0x31, 0x30, 0x3a, 0x73,
	0x69, 0x6e, 0x67, 0x6c, 0x65, 0x2e, 0x62, 0x69, 0x6e, 0x31, 0x32, 0x3a,
	0x70, 0x69, 0x65, 0x63, 0x65, 0x20, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68,
	0x69, 0x33, 0x32, 0x37, 0x36, 0x38, 0x65, 0x36, 0x3a, 0x70, 0x69, 0x65,
	0x63, 0x65, 0x73, 0x38, 0x30, 0x3a, 0x52, 0x2a, 0x55, 0xec, 0x03, 0x1e,
	0xb1, 0x71, 0x26, 0x70, 0xf1, 0x04, 0x56, 0xe9, 0xbe, 0xa6, 0xba, 0x8e,
	0x4f, 0x62, 0x54, 0xd5, 0xa7, 0x71, 0x44, 0xe6, 0xac, 0x9d, 0x01, 0xa7,
	0xaf, 0x0e, 0x66, 0x2d, 0xe7, 0xe4, 0x7b, 0xca, 0xf0, 0x16, 0x52, 0x2a,
	0x55, 0xec, 0x03, 0x1e, 0xb1, 0x71, 0x26, 0x70, 0xf1, 0x04, 0x56, 0xe9,
	0xbe, 0xa6, 0xba, 0x8e, 0x4f, 0x62, 0xd1, 0x55, 0xff, 0x2f, 0xaa, 0xce,
	0x15, 0x07, 0xf6, 0xa3, 0x87, 0x71, 0x8c, 0xa9, 0x74, 0xdd, 0x3a, 0xf0,
	0x06, 0x7b, 0x65, 0x65,
};
static const uint8_t multi_torrent[] = {
	0x64, 0x38, 0x3a, 0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65, 0x33,
	0x30, 0x3a, 0x68, 0x74, 0x74, 0x70, 0x3a, 0x2f, 0x2f, 0x74, 0x2e, 0x65,
	0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x3a, 0x38, 0x30, 0x38, 0x30, 0x2f,
	0x61, 0x6e, 0x6e, 0x6f, 0x75, 0x6e, 0x63, 0x65, 0x31, 0x30, 0x3a, 0x63,
	0x72, 0x65, 0x61, 0x74, 0x65, 0x64, 0x20, 0x62, 0x79, 0x31, 0x33, 0x3a,
	0x6d, 0x6b, 0x74, 0x6f, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x20, 0x31, 0x2e,
	0x31, 0x34, 0x3a, 0x69, 0x6e, 0x66, 0x6f, 0x64, 0x35, 0x3a, 0x66, 0x69,
	0x6c, 0x65, 0x73, 0x6c, 0x64, 0x36, 0x3a, 0x6c, 0x65, 0x6e, 0x67, 0x74,
	0x68, 0x69, 0x34, 0x30, 0x30, 0x30, 0x30, 0x65, 0x34, 0x3a, 0x70, 0x61,
	0x74, 0x68, 0x6c, 0x31, 0x3a, 0x61, 0x65, 0x65, 0x64, 0x36, 0x3a, 0x6c,
	0x65, 0x6e, 0x67, 0x74, 0x68, 0x69, 0x30, 0x65, 0x34, 0x3a, 0x70, 0x61,
	0x74, 0x68, 0x6c, 0x31, 0x3a, 0x62, 0x31, 0x3a, 0x63, 0x65, 0x65, 0x64,
	0x36, 0x3a, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x69, 0x33, 0x30, 0x30,
	0x30, 0x30, 0x65, 0x34, 0x3a, 0x70, 0x61, 0x74, 0x68, 0x6c, 0x31, 0x3a,
	0x62, 0x31, 0x3a, 0x64, 0x65, 0x65, 0x64, 0x36, 0x3a, 0x6c, 0x65, 0x6e,
	0x67, 0x74, 0x68, 0x69, 0x31, 0x65, 0x34, 0x3a, 0x70, 0x61, 0x74, 0x68,
	0x6c, 0x31, 0x3a, 0x65, 0x65, 0x65, 0x65, 0x34, 0x3a, 0x6e, 0x61, 0x6d,
	0x65, 0x35, 0x3a, 0x6d, 0x75, 0x6c, 0x74, 0x69, 0x31, 0x32, 0x3a, 0x70,
	0x69, 0x65, 0x63, 0x65, 0x20, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x69,
	0x33, 0x32, 0x37, 0x36, 0x38, 0x65, 0x36, 0x3a, 0x70, 0x69, 0x65, 0x63,
	0x65, 0x73, 0x36, 0x30, 0x3a, 0x52, 0x2a, 0x55, 0xec, 0x03, 0x1e, 0xb1,
	0x71, 0x26, 0x70, 0xf1, 0x04, 0x56, 0xe9, 0xbe, 0xa6, 0xba, 0x8e, 0x4f,
	0x62, 0x54, 0xd5, 0xa7, 0x71, 0x44, 0xe6, 0xac, 0x9d, 0x01, 0xa7, 0xaf,
	0x0e, 0x66, 0x2d, 0xe7, 0xe4, 0x7b, 0xca, 0xf0, 0x16, 0xd5, 0x90, 0x1d,
	0x89, 0x01, 0x45, 0x89, 0x76, 0x70, 0xc5, 0xf8, 0x48, 0x11, 0x28, 0x17,
	0x6b, 0xc4, 0x96, 0x8f, 0xee, 0x37, 0x3a, 0x70, 0x72, 0x69, 0x76, 0x61,
	0x74, 0x65, 0x69, 0x31, 0x65, 0x65, 0x65,
};

#define SINGLE_HASH "579d8231186c5e1be3646504f61d63f17fa5fdb8"
#define MULTI_HASH "0e8206d1f2544cb075e8ecde8591f68fc575ba62"

/* Byte k of a test torrent's stream. */
static uint8_t gen_byte(uint64_t k)
{
	return (uint8_t)((k * 31 + (k >> 8)) & 0xff);
}

/* Check every piece hash against SHA-1 of the generated stream. */
static void check_pieces(const struct bt_metainfo *m)
{
	uint8_t *buf = malloc(m->piece_length), md[20];
	for (uint32_t i = 0; i < m->npieces; i++) {
		uint32_t n = bt_piece_size(m, i);
		for (uint32_t j = 0; j < n; j++)
			buf[j] = gen_byte((uint64_t)i * m->piece_length + j);
		ASSERT(EVP_Digest(buf, n, md, NULL, EVP_sha1(), NULL));
		ASSERT_MEMEQ(md, bt_piece_hash(m, i), 20);
	}
	free(buf);
}

static void check_hash(const struct bt_metainfo *m, const char *hex)
{
	char got[41];
	bt_hex(m->info_hash, 20, got);
	ASSERT_STREQ(got, hex);
	/* and it is the hash of the info slice */
	uint8_t md[20];
	ASSERT(EVP_Digest(m->info.p, m->info.n, md, NULL, EVP_sha1(), NULL));
	ASSERT_MEMEQ(md, m->info_hash, 20);
}

TEST(mktorrent_single)
{
	struct bt_metainfo m;
	ASSERT_OK(bt_metainfo_parse(&m, single_torrent, sizeof single_torrent));
	check_hash(&m, SINGLE_HASH);
	ASSERT_STREQ(m.name, "single.bin");
	ASSERT_EQ(m.total_length, 100000);
	ASSERT_EQ(m.piece_length, 32768);
	ASSERT_EQ(m.npieces, 4);
	ASSERT_EQ(bt_piece_size(&m, 3), 100000 - 3 * 32768);
	ASSERT_EQ(bt_piece_size(&m, 4), 0);
	ASSERT(!m.multi_file && !m.is_private);
	ASSERT_EQ(m.nfiles, 1);
	ASSERT_STREQ(m.files[0].path, "single.bin");
	ASSERT_EQ(m.files[0].length, 100000);
	ASSERT_STREQ(m.announce, "http://a.example/ann");
	ASSERT_EQ(m.ntiers, 2);
	ASSERT_EQ(m.tiers[0].n, 2);
	ASSERT_STREQ(m.tiers[0].urls[0], "http://a.example/ann");
	ASSERT_STREQ(m.tiers[0].urls[1], "http://b.example/ann");
	ASSERT_EQ(m.tiers[1].n, 1);
	ASSERT_STREQ(m.tiers[1].urls[0], "udp://c.example:6969/announce");
	ASSERT_STREQ(m.comment, "unit test");
	ASSERT_STREQ(m.created_by, "mktorrent 1.1");
	ASSERT_EQ(m.creation_date, 0);
	ASSERT(m.source == NULL);
	check_pieces(&m);
	char path[64];
	ASSERT_EQ(bt_metainfo_file_path(&m, 0, path, sizeof path), 10);
	ASSERT_STREQ(path, "single.bin");
	bt_metainfo_free(&m);
}

TEST(mktorrent_multi)
{
	struct bt_metainfo m;
	ASSERT_OK(bt_metainfo_parse(&m, multi_torrent, sizeof multi_torrent));
	check_hash(&m, MULTI_HASH);
	ASSERT_STREQ(m.name, "multi");
	ASSERT(m.multi_file && m.is_private);
	ASSERT_EQ(m.total_length, 70001);
	ASSERT_EQ(m.npieces, 3);
	ASSERT_EQ(m.nfiles, 4);
	static const char *paths[] = {"a", "b/c", "b/d", "e"};
	static const uint64_t lens[] = {40000, 0, 30000, 1};
	static const uint64_t offs[] = {0, 40000, 40000, 70000};
	for (size_t i = 0; i < 4; i++) {
		ASSERT_STREQ(m.files[i].path, paths[i]);
		ASSERT_EQ(m.files[i].length, lens[i]);
		ASSERT_EQ(m.files[i].offset, offs[i]);
	}
	ASSERT_EQ(m.ntiers, 1); /* no announce-list: announce is the tier */
	ASSERT_STREQ(m.tiers[0].urls[0], "http://t.example:8080/announce");
	check_pieces(&m);
	char path[64];
	ASSERT_EQ(bt_metainfo_file_path(&m, 2, path, sizeof path), 9);
	ASSERT_STREQ(path, "multi/b/d");
	ASSERT_EQ(bt_metainfo_file_path(&m, 2, path, 5), SK_ENOBUFS);
	bt_metainfo_free(&m);
}

static void span_is(const struct bt_span *s, size_t file, uint64_t off,
		    uint32_t len)
{
	ASSERT_EQ(s->file, file);
	ASSERT_EQ(s->file_off, off);
	ASSERT_EQ(s->len, len);
}

TEST(map_across_files)
{
	struct bt_metainfo m;
	struct bt_span s[4];
	ASSERT_OK(bt_metainfo_parse(&m, multi_torrent, sizeof multi_torrent));

	ASSERT_EQ(bt_metainfo_map(&m, 0, 0, 32768, s, 4), 1);
	span_is(&s[0], 0, 0, 32768);
	/* piece 1: the end of a, (b/c is empty), the start of b/d */
	ASSERT_EQ(bt_metainfo_map(&m, 1, 0, 32768, s, 4), 2);
	span_is(&s[0], 0, 32768, 7232);
	span_is(&s[1], 2, 0, 25536);
	/* the last piece: the rest of b/d and all of e */
	ASSERT_EQ(bt_metainfo_map(&m, 2, 0, 4465, s, 4), 2);
	span_is(&s[0], 2, 25536, 4464);
	span_is(&s[1], 3, 0, 1);
	/* a block inside one file, one ending exactly on a boundary */
	ASSERT_EQ(bt_metainfo_map(&m, 1, 16384, 16384, s, 4), 1);
	span_is(&s[0], 2, 9152, 16384);
	ASSERT_EQ(bt_metainfo_map(&m, 1, 0, 7232, s, 4), 1);
	span_is(&s[0], 0, 32768, 7232);
	ASSERT_EQ(bt_metainfo_map(&m, 2, 4464, 1, s, 4), 1);
	span_is(&s[0], 3, 0, 1);

	ASSERT_EQ(bt_metainfo_map(&m, 1, 0, 32768, s, 1), SK_ENOBUFS);
	ASSERT_EQ(bt_metainfo_map(&m, 2, 0, 4466, s, 4), SK_EINVAL);
	ASSERT_EQ(bt_metainfo_map(&m, 2, 4465, 1, s, 4), SK_EINVAL);
	ASSERT_EQ(bt_metainfo_map(&m, 0, 0, 0, s, 4), SK_EINVAL);
	ASSERT_EQ(bt_metainfo_map(&m, 3, 0, 1, s, 4), SK_EINVAL);
	ASSERT_EQ(bt_metainfo_map(&m, 0, UINT32_MAX, 2, s, 4), SK_EINVAL);

	ASSERT_EQ(bt_metainfo_file_at(&m, 0), 0);
	ASSERT_EQ(bt_metainfo_file_at(&m, 39999), 0);
	ASSERT_EQ(bt_metainfo_file_at(&m, 40000), 2);
	ASSERT_EQ(bt_metainfo_file_at(&m, 70000), 3);
	bt_metainfo_free(&m);
}

/* ---- hand-made torrents ------------------------------------------------------ */

/* d<top>4:infod<pre>4:name<name>12:piece lengthi<plen>e6:pieces<np*20>
 * <post>ee, parsed into m. */
static int build(struct bt_metainfo *m, const char *top, const char *pre,
		 const char *name, long long plen, long long np, const char *post)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	ASSERT_OK(sk_buf_appendf(&b, "d%s4:infod%s4:name%zu:%s12:piece lengthi%llde"
				 "6:pieces%lld:", top, pre, strlen(name), name,
				 plen, np * 20));
	for (long long i = 0; i < np * 20; i++)
		ASSERT_OK(sk_buf_append(&b, "x", 1));
	ASSERT_OK(sk_buf_appendf(&b, "%see", post));
	int r = bt_metainfo_parse(m, sk_buf_data(&b), sk_buf_len(&b));
	sk_buf_free(&b);
	return r;
}

static void rejected(const char *why, const char *top, const char *pre,
		     const char *name, long long plen, long long np,
		     const char *post)
{
	struct bt_metainfo m;
	int r = build(&m, top, pre, name, plen, np, post);
	if (r >= 0)
		FAIL("accepted a torrent with %s", why);
	ASSERT(m.error[0] != '\0');
	ASSERT(m.files == NULL && m.raw_copy == NULL);
}

#define ANN "8:announce14:http://t/annce"
#define ONE "6:lengthi10e"
#define FILES(x) "5:filesl" x "e"
#define F(len, path) "d6:lengthi" #len "e4:pathl" path "ee"

TEST(rejections)
{
	struct bt_metainfo m;
	ASSERT_OK(build(&m, ANN, ONE, "ok", 4, 3, ""));
	bt_metainfo_free(&m);
	ASSERT_OK(build(&m, ANN, FILES(F(5, "1:a") F(5, "1:b1:c")), "ok", 4, 3, ""));
	bt_metainfo_free(&m);

	/* path traversal and unsafe names */
	rejected("'..' in a path", ANN, FILES(F(10, "2:..1:a")), "ok", 4, 3, "");
	rejected("'.' in a path", ANN, FILES(F(10, "1:.1:a")), "ok", 4, 3, "");
	rejected("'/' in a component", ANN, FILES(F(10, "3:a/b")), "ok", 4, 3, "");
	rejected("an absolute component", ANN, FILES(F(10, "5:/etc1:x")), "ok", 4, 3, "");
	rejected("an empty component", ANN, FILES(F(10, "0:1:a")), "ok", 4, 3, "");
	rejected("an empty path", ANN, FILES(F(10, "")), "ok", 4, 3, "");
	rejected("name '..'", ANN, ONE, "..", 4, 3, "");
	rejected("name with '/'", ANN, ONE, "a/b", 4, 3, "");
	rejected("an empty name", ANN, ONE, "", 4, 3, "");
	rejected("a path that is not a list", ANN, FILES("d6:lengthi10e4:path1:ae"),
		 "ok", 4, 3, "");
	/* conflicting files */
	rejected("the same path twice", ANN, FILES(F(5, "1:a") F(5, "1:a")), "ok", 4, 3, "");
	rejected("a file that is a directory", ANN, FILES(F(5, "1:a") F(5, "1:a1:b")),
		 "ok", 4, 3, "");
	rejected("a directory that is a file", ANN,
		 FILES(F(4, "1:a1:b") F(3, "3:a.b") F(3, "1:a")), "ok", 4, 3, "");
	/* sizes */
	rejected("a negative length", ANN, "6:lengthi-1e", "ok", 4, 1, "");
	rejected("a negative file length", ANN, FILES(F(-5, "1:a") F(15, "1:b")), "ok", 4,
		 3, "");
	rejected("no data", ANN, "6:lengthi0e", "ok", 4, 0, "");
	rejected("too few pieces", ANN, ONE, "ok", 4, 2, "");
	rejected("too many pieces", ANN, ONE, "ok", 4, 4, "");
	rejected("piece length 0", ANN, ONE, "ok", 0, 3, "");
	rejected("a negative piece length", ANN, ONE, "ok", -4, 3, "");
	rejected("a huge piece length", ANN, ONE, "ok", 1LL << 40, 1, "");
	rejected("an overflowing total", ANN,
		 FILES(F(9223372036854775807, "1:a") F(1, "1:b")), "ok", 4, 1, "");
	/* structure */
	rejected("length and files", ANN, FILES(F(10, "1:a")) "6:lengthi10e", "ok", 4, 3, "");
	rejected("neither length nor files", ANN, "", "ok", 4, 3, "");
	rejected("an empty file list", ANN, "5:filesle", "ok", 4, 3, "");
	rejected("unsorted keys (non-canonical)", ANN, "", "ok", 4, 3, "6:lengthi10e");

	static const char *raw[] = {
		"", "de", "le", "d4:infoi1ee", "d4:infodee",
		("d4:infod6:lengthi1e4:name1:a12:piece lengthi1e6:pieces20:"
		 "xxxxxxxxxxxxxxxxxxxxeeJUNK"),
	};
	for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
		ASSERT_EQ(bt_metainfo_parse(&m, raw[i], strlen(raw[i])), SK_EPROTO);
		ASSERT(m.error[0]);
	}

	ASSERT(bt_path_component_ok("a", 1));
	ASSERT(bt_path_component_ok("...", 3));
	ASSERT(bt_path_component_ok(".hidden", 7));
	ASSERT(!bt_path_component_ok("a\0b", 3));
	ASSERT(!bt_path_component_ok("..", 2));
	ASSERT(!bt_path_component_ok("", 0));
}

TEST(trackers_and_extras)
{
	struct bt_metainfo m;
	/* announce-list wins; unusable entries and empty tiers are dropped */
	ASSERT_OK(build(&m, "8:announce5:http1" "13:announce-listll5:http2i3ee"
			"lel5:http40:ee7:comment2:hi10:created by1:x"
			"13:creation datei1700000000e",
			ONE, "n", 4, 3, "6:source3:SRC"));
	ASSERT_STREQ(m.announce, "http1");
	ASSERT_EQ(m.ntiers, 2);
	ASSERT_EQ(m.tiers[0].n, 1);
	ASSERT_STREQ(m.tiers[0].urls[0], "http2");
	ASSERT_EQ(m.tiers[1].n, 1);
	ASSERT_STREQ(m.tiers[1].urls[0], "http4");
	ASSERT_STREQ(m.comment, "hi");
	ASSERT_STREQ(m.created_by, "x");
	ASSERT_EQ(m.creation_date, 1700000000);
	ASSERT_STREQ(m.source, "SRC");
	bt_metainfo_free(&m);

	/* an announce-list with nothing usable falls back to announce */
	ASSERT_OK(build(&m, "8:announce5:http113:announce-listlli1eee", ONE, "n", 4,
			3, ""));
	ASSERT_EQ(m.ntiers, 1);
	ASSERT_STREQ(m.tiers[0].urls[0], "http1");
	bt_metainfo_free(&m);

	/* no trackers at all is still a torrent (magnet/DHT style) */
	ASSERT_OK(build(&m, "", ONE, "n", 4, 3, "7:privatei1e"));
	ASSERT_EQ(m.ntiers, 0);
	ASSERT(m.announce == NULL && m.is_private);
	bt_metainfo_free(&m);

	/* unknown keys inside info are kept in the hash: the hash is over
	 * the exact bytes, so adding one changes it */
	struct bt_metainfo a, b;
	ASSERT_OK(build(&a, "", ONE, "n", 4, 3, ""));
	ASSERT_OK(build(&b, "", ONE, "n", 4, 3, "3:zzzi1e"));
	ASSERT(memcmp(a.info_hash, b.info_hash, 20) != 0);
	ASSERT_EQ(b.info.n, a.info.n + 8);
	uint8_t md[20];
	ASSERT(EVP_Digest(b.info.p, b.info.n, md, NULL, EVP_sha1(), NULL));
	ASSERT_MEMEQ(md, b.info_hash, 20);
	bt_metainfo_free(&a);
	bt_metainfo_free(&b);

	/* BEP 47 padding files are flagged */
	ASSERT_OK(build(&m, "", FILES(F(3, "1:a") "d4:attr1:p6:lengthi5e4:pathl4:.pad1:5ee"
				      F(2, "1:b")), "n", 4, 3, ""));
	ASSERT(!m.files[0].pad && m.files[1].pad && !m.files[2].pad);
	bt_metainfo_free(&m);
}

/* The file holding stream byte x, by brute force. */
static size_t ref_file(const struct bt_metainfo *m, uint64_t x)
{
	for (size_t f = 0; f < m->nfiles; f++)
		if (x >= m->files[f].offset && x - m->files[f].offset < m->files[f].length)
			return f;
	FAIL("byte %llu in no file", (unsigned long long)x);
}

static void check_map(const struct bt_metainfo *m, uint32_t piece,
		      uint32_t begin, uint32_t len)
{
	struct bt_span s[64];
	int k = bt_metainfo_map(m, piece, begin, len, s, 64);
	ASSERT(k > 0);
	uint64_t x = (uint64_t)piece * m->piece_length + begin, total = 0;
	for (int i = 0; i < k; i++) {
		ASSERT(s[i].len > 0);
		ASSERT_EQ(s[i].file, ref_file(m, x));
		ASSERT_EQ(m->files[s[i].file].offset + s[i].file_off, x);
		ASSERT(s[i].file_off + s[i].len <= m->files[s[i].file].length);
		/* a span never stops early inside a file */
		if (i + 1 < k)
			ASSERT_EQ(s[i].file_off + s[i].len, m->files[s[i].file].length);
		x += s[i].len;
		total += s[i].len;
	}
	ASSERT_EQ(total, len);
}

TEST(map_random_layouts)
{
	uint64_t rng = 88172645463325252ull;
	for (int round = 0; round < 200; round++) {
		struct sk_buf files = SK_BUF_INIT(1 << 20);
		uint64_t total = 0;
		size_t nf = 1 + (size_t)(rng % 12);
		ASSERT_OK(sk_buf_append_str(&files, "5:filesl"));
		for (size_t i = 0; i < nf; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			uint64_t len = rng % 4 == 0 ? 0 : rng % 3000;
			total += len;
			ASSERT_OK(sk_buf_appendf(&files, "d6:lengthi%llue4:pathl2:f%ce"
						 "e", (unsigned long long)len,
						 (char)('a' + i)));
		}
		if (total == 0) {
			sk_buf_free(&files);
			continue;
		}
		ASSERT_OK(sk_buf_append(&files, "e", 2)); /* and a NUL */
		long long plen = 1 + (long long)(rng % 1500);
		long long np = ((long long)total + plen - 1) / plen;
		struct bt_metainfo m;
		ASSERT_OK(build(&m, "", (const char *)sk_buf_data(&files), "r", plen, np, ""));
		sk_buf_free(&files);
		ASSERT_EQ(m.total_length, total);
		for (uint32_t p = 0; p < m.npieces; p++) {
			uint32_t sz = bt_piece_size(&m, p);
			check_map(&m, p, 0, sz);
			uint32_t b = (uint32_t)(rng % sz);
			check_map(&m, p, b, sz - b);
			check_map(&m, p, b, 1);
		}
		bt_metainfo_free(&m);
	}
}

TEST(load_from_file)
{
	char path[] = "/tmp/test_bt_metainfo_XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, multi_torrent, sizeof multi_torrent),
		  (long long)sizeof multi_torrent);
	close(fd);
	struct bt_metainfo m;
	ASSERT_OK(bt_metainfo_load(&m, path));
	check_hash(&m, MULTI_HASH);
	bt_metainfo_free(&m);
	unlink(path);
	ASSERT_EQ(bt_metainfo_load(&m, path), SK_ENOENT);
	ASSERT(strstr(m.error, "no such file") || m.error[0]);
	ASSERT_EQ(bt_metainfo_load(&m, "/tmp"), -EISDIR);
	ASSERT(m.error[0]);
}

TEST_MAIN(TEST_ENTRY(mktorrent_single), TEST_ENTRY(mktorrent_multi),
	  TEST_ENTRY(map_across_files), TEST_ENTRY(rejections),
	  TEST_ENTRY(trackers_and_extras), TEST_ENTRY(map_random_layouts),
	  TEST_ENTRY(load_from_file))
