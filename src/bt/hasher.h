/*
 * src/bt/hasher.h - SHA-1 of every piece of a torrent's data, on all
 * cores.  Used by `bt create`, and meant for checking data already on disk
 * before seeding (with missing_ok).
 *
 * The job reads the files of a struct bt_metainfo (only files, nfiles,
 * piece_length, npieces and total_length are used, so a creator can fill
 * those by hand) below a root directory: file i is root/files[i].path.
 * Workers take batches of consecutive pieces from a shared counter (so a
 * slow disk region does not leave the other cores idle), read them with
 * pread into a small per-thread buffer and hash them with OpenSSL's EVP
 * SHA-1.  The calling thread only waits and reports progress.
 */
#ifndef SK_BT_HASHER_H
#define SK_BT_HASHER_H

#include <stdbool.h>
#include <stdint.h>

#include "bt/metainfo.h"

#define BT_HASH_ERROR_LEN 320

struct bt_hash_job {
	const struct bt_metainfo *m;
	const char *root;  /* directory the file paths are relative to */
	unsigned threads;  /* 0: one per online CPU */
	uint8_t *out;      /* m->npieces * BT_HASH_LEN bytes */
	/* true: a piece that cannot be read in full (missing or short file)
	 * gets an all-zero hash instead of failing the job */
	bool missing_ok;
	/* true: hash straight from mmap()ed windows of the files instead of
	 * pread() into a buffer: no copy, ~8% less CPU, but a file truncated
	 * by someone else *during* the run kills the process with SIGBUS.
	 * Right for `bt create` on the user's own files, not for a
	 * long-running client. */
	bool use_mmap;
	/* Called on the calling thread about every progress_ms (and once at
	 * the end) with the bytes hashed so far; may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	unsigned progress_ms; /* 0: 250 */
	/* out */
	unsigned threads_used;
	char error[BT_HASH_ERROR_LEN];
};

/* 0, or a negative code with job->error set (a file that cannot be opened
 * or read, a file shorter than its length, no memory, no threads). */
int bt_hash_pieces(struct bt_hash_job *job);

#endif
