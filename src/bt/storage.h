/*
 * src/bt/storage.h - a torrent's files on disk.
 *
 * The files live under a download directory: bt_metainfo_file_path()
 * names them ("name" for a single file, "name/sub/file" for a multi-file
 * torrent).  Opening creates the missing directories and files and sizes
 * them (sparse with ftruncate, or allocated with posix_fallocate); blocks
 * are then written and read with pwrite/pread at the offsets
 * bt_metainfo_first_span() gives, a block crossing a file boundary being
 * split across the files.  Descriptors are opened on first use and kept,
 * at most BT_STORAGE_MAX_FDS at a time.
 *
 * What is verified is decided elsewhere (the piece hash, checked against
 * the data as read back or as received); the storage only promises that
 * bytes written are the bytes read.  Durability: bt_storage_sync() fsyncs
 * the files written since the last sync; the client calls it when the
 * download completes, on a clean exit and periodically.  A crash of the
 * process loses nothing written (the page cache keeps it); on the next
 * start bt_storage_recheck() hashes what is on disk, so a piece is only
 * ever counted once its bytes on disk match its hash.
 */
#ifndef SK_BT_STORAGE_H
#define SK_BT_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "bt/fdcache.h"
#include "bt/metainfo.h"

#define BT_STORAGE_MAX_FDS 128

enum {
	BT_STORAGE_CREATE = 0x1,   /* create missing files and directories */
	BT_STORAGE_FALLOC = 0x2,   /* posix_fallocate instead of sparse files */
	BT_STORAGE_READONLY = 0x4, /* seeding: never write */
};

struct bt_storage {
	const struct bt_metainfo *m;
	int dirfd;           /* the download directory */
	struct bt_fdcache fc; /* the files' descriptors */
	bool *dirty;         /* written since the last sync */
	unsigned flags;
	bool existed;        /* some file was already there at open */
	char *dir;
	char error[320];
};

/* Open (and with BT_STORAGE_CREATE make and size) the files of m under
 * dir.  On failure s->error says which file and why; the return is
 * -errno or SK_ENOMEM. */
int bt_storage_open(struct bt_storage *s, const struct bt_metainfo *m,
		    const char *dir, unsigned flags);
void bt_storage_close(struct bt_storage *s);

/* Bytes [begin, begin + len) of piece `piece`.  SK_EINVAL when the range
 * is not inside the piece; -errno on I/O errors; SK_EPROTO when a file is
 * shorter than it should be (read). */
int bt_storage_write(struct bt_storage *s, uint32_t piece, uint32_t begin,
		     const void *p, uint32_t len);
int bt_storage_read(struct bt_storage *s, uint32_t piece, uint32_t begin,
		    void *p, uint32_t len);

/* Where bytes [begin, begin + len) of piece `piece` are, when they lie in
 * one file: 0 with *fd (open, owned by the storage) and *off set; 1 when
 * they cross a file boundary (use bt_storage_read); < 0 as for read. */
int bt_storage_locate(struct bt_storage *s, uint32_t piece, uint32_t begin,
		      uint32_t len, int *fd, uint64_t *off);

/* SHA-1 of the piece's bytes from `from` to its end, fed into ctx (an
 * EVP_MD_CTX already initialised for SHA-1 with the bytes before `from`);
 * buf is scratch of at least BT_STORAGE_CHUNK bytes. */
#define BT_STORAGE_CHUNK (64u * 1024)
int bt_storage_hash_rest(struct bt_storage *s, uint32_t piece, uint32_t from,
			 void *ctx, uint8_t *buf);

/* fsync every file written since the last call. */
int bt_storage_sync(struct bt_storage *s);

/* Hash every piece on disk with the multi-core hasher (pread mode,
 * missing data allowed) and set the bits of the pieces that match in
 * have[(npieces + 7) / 8] (cleared first).  *count gets how many.
 * progress may be NULL. */
int bt_storage_recheck(struct bt_storage *s, uint8_t *have, uint32_t *count,
		       void (*progress)(void *arg, uint64_t done, uint64_t total),
		       void *arg);

#endif
