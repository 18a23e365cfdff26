/*
 * src/bt/metainfo.h - .torrent files (BEP 3 metainfo, version 1), BEP 12
 * multitracker lists, and the mapping between pieces and files.
 *
 * bt_metainfo_parse() takes the bytes of a .torrent, keeps its own copy,
 * checks it and fills a struct bt_metainfo; bt_metainfo_free() releases
 * it.  Everything the struct points at lives until then.  No I/O besides
 * bt_metainfo_load(), which reads a file and parses it.
 *
 * What is checked (anything else gives SK_EPROTO and a message in
 * m->error):
 *  - strict bencode (see bencode.h), a dict at the top with an "info" dict;
 *  - info.name: one safe path component;
 *  - info."piece length": 1 .. BT_PIECE_LENGTH_MAX;
 *  - info.length (single file) xor info.files (a non-empty list of
 *    {length, path}); lengths >= 0, total > 0 and within int64;
 *  - every path component non-empty, not "." or "..", no '/' or NUL: a
 *    torrent can never name a file outside its own directory;
 *  - no two files with the same path, and no file that is also a
 *    directory of another ("a" and "a/b");
 *  - info.pieces: exactly 20 bytes per piece, ceil(total / piece length).
 *
 * The info-hash is SHA-1 over the exact bytes of the info value as they
 * appear in the file (the bencode decoder keeps those bytes), never over a
 * re-encoding.  Unknown keys are ignored (they are inside the hash anyway).
 *
 * The torrent's bytes are one stream: the files in their listed order,
 * back to back.  Piece i covers stream bytes [i * piece_length, +piece
 * length), the last one shorter; bt_metainfo_map() turns a range of a
 * piece into the (file, offset, length) spans the disk layer reads or
 * writes with pread/pwrite.
 */
#ifndef SK_BT_METAINFO_H
#define SK_BT_METAINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/buf.h"
#include "sockit/error.h"

#define BT_HASH_LEN 20
#define BT_PIECE_LENGTH_MAX (1u << 27)   /* 128 MiB */
#define BT_METAINFO_MAX_SIZE (64u << 20) /* biggest .torrent we read */

struct bt_file {
	/* Relative to the torrent's root: for a multi-file torrent the path
	 * inside the directory `name` ("sub/dir/file"), for a single-file
	 * torrent the name itself.  Components are joined with '/'. */
	const char *path;
	uint64_t length;
	uint64_t offset; /* of its first byte in the torrent's stream */
	bool pad;        /* BEP 47 padding file (attr contains 'p') */
};

struct bt_tier {
	const char **urls;
	size_t n;
};

struct bt_metainfo {
	uint8_t info_hash[BT_HASH_LEN];
	const char *name;
	uint64_t total_length;
	uint32_t piece_length;
	uint32_t npieces;
	const uint8_t *pieces; /* npieces * BT_HASH_LEN bytes */
	bool is_private;
	bool multi_file;       /* "files" rather than "length" */
	struct bt_file *files; /* nfiles >= 1, in stream order */
	size_t nfiles;

	/* Trackers: announce-list (BEP 12) when present and usable, else a
	 * single tier holding announce.  `announce` itself may be NULL. */
	const char *announce;
	struct bt_tier *tiers;
	size_t ntiers;

	const char *comment;    /* NULL if absent */
	const char *created_by; /* NULL if absent */
	int64_t creation_date;  /* seconds since the epoch, 0 if absent */
	const char *source;     /* info.source, NULL if absent */

	struct sk_slice info; /* the info value's exact bytes */
	struct sk_slice raw;  /* the whole .torrent */

	char error[160]; /* why parsing failed */

	/* private: storage */
	uint8_t *raw_copy;
	char *strs;
	size_t strs_len, strs_cap;
	const char **urlv;
};

/* Parse p[0..n).  On failure m holds no memory and m->error says why
 * (SK_EPROTO for a malformed or unsafe torrent, SK_EMSGSIZE, SK_ENOMEM). */
int bt_metainfo_parse(struct bt_metainfo *m, const void *p, size_t n);

/* Read and parse a file, or everything readable from fd (a pipe will do),
 * at most BT_METAINFO_MAX_SIZE bytes; I/O errors come back as -errno
 * (SK_EMSGSIZE when bigger) with m->error set too. */
int bt_metainfo_load(struct bt_metainfo *m, const char *path);
int bt_metainfo_load_fd(struct bt_metainfo *m, int fd);

void bt_metainfo_free(struct bt_metainfo *m);

/* Bytes in piece i (the last piece may be short); 0 if i is out of range. */
uint32_t bt_piece_size(const struct bt_metainfo *m, uint32_t i);

/* The SHA-1 of piece i (BT_HASH_LEN bytes); i must be < npieces. */
static inline const uint8_t *bt_piece_hash(const struct bt_metainfo *m,
					   uint32_t i)
{
	return m->pieces + (size_t)i * BT_HASH_LEN;
}

/* Index of the file holding stream byte `off` (off < total_length). */
size_t bt_metainfo_file_at(const struct bt_metainfo *m, uint64_t off);

/* One contiguous piece of a file. */
struct bt_span {
	size_t file;       /* index into m->files */
	uint64_t file_off; /* offset inside that file */
	uint32_t len;
};

/* The first span of stream bytes [off, off + len): the file holding off
 * and how much of the range it holds (zero-length files are skipped).
 * SK_EINVAL when the range is empty or not inside the torrent. */
int bt_metainfo_first_span(const struct bt_metainfo *m, uint64_t off,
			   uint64_t len, struct bt_span *out);

/*
 * The file spans of bytes [begin, begin + len) of piece `piece`, in order,
 * into out[0..max).  Returns the number of spans (zero-length files are
 * skipped, so every span has len > 0), SK_EINVAL when the range is not
 * inside the piece (or len is 0), or SK_ENOBUFS when max is too small.
 * A piece spans at most nfiles files.
 */
int bt_metainfo_map(const struct bt_metainfo *m, uint32_t piece,
		    uint32_t begin, uint32_t len, struct bt_span *out,
		    size_t max);

/* The path of file i relative to the download directory: "name/path" for
 * a multi-file torrent, "name" for a single file.  Into buf[0..cap) with a
 * NUL; the length, or SK_ENOBUFS. */
int bt_metainfo_file_path(const struct bt_metainfo *m, size_t i, char *buf,
			  size_t cap);

/* True if s[0..n) is a safe path component (see the list above). */
bool bt_path_component_ok(const void *s, size_t n);

/* Lower-case hex of p[0..n) into out (2n + 1 bytes with the NUL). */
void bt_hex(const uint8_t *p, size_t n, char *out);

#endif
