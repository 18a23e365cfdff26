/*
 * src/bt/verify.h - checking downloaded pieces on a thread of their own.
 *
 * A leecher spends more CPU on SHA-1 than on anything else; done inline it
 * makes the loop thread the bottleneck of a fast download while the other
 * cores idle.  So the loop thread hands each piece whose blocks are all on
 * disk to bt_verify_submit(); a worker thread reads it back through its own
 * descriptors (the storage's may be closed under it), hashes it and queues
 * the verdict; an eventfd wakes the loop, which calls done(ud, piece,
 * verdict) on the loop thread: BT_VERIFY_OK, BT_VERIFY_BAD (the bytes do
 * not match the hash) or BT_VERIFY_ERROR (they could not be read).
 *
 * The worker only ever reads a piece after the loop thread wrote all of it
 * and before anything writes it again (a piece is not requested while it
 * waits for its verdict), so no lock covers the files.
 */
#ifndef SK_BT_VERIFY_H
#define SK_BT_VERIFY_H

#include <stdint.h>

#include <sockit/sockit.h>

#include "bt/metainfo.h"

enum { BT_VERIFY_ERROR = -1, BT_VERIFY_BAD = 0, BT_VERIFY_OK = 1 };

typedef void (*bt_verify_cb)(void *ud, uint32_t piece, int verdict);

struct bt_verify;

/* Start the worker for torrent m, whose files are under dirfd (borrowed:
 * it must stay open until bt_verify_free).  0, or SK_ENOMEM / -errno. */
int bt_verify_new(sk_loop *loop, const struct bt_metainfo *m, int dirfd,
		  bt_verify_cb done, void *ud, struct bt_verify **out);
/* Queue piece i (each piece at most once until its verdict came). */
int bt_verify_submit(struct bt_verify *v, uint32_t i);
/* Pieces submitted whose verdict has not been delivered yet. */
uint32_t bt_verify_pending(const struct bt_verify *v);
/* Stop and join the worker; verdicts not yet delivered are dropped. */
void bt_verify_free(struct bt_verify *v);

#endif
