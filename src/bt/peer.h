/*
 * src/bt/peer.h - one peer connection's protocol state, apart from I/O.
 *
 * A session holds no descriptor.  The connection layer hands it the bytes
 * that arrived (bt_psess_feed), and sends whatever the session appended to
 * p->out; timers call bt_psess_tick and bt_psess_rates.  Everything the
 * peer says is checked here: the handshake (info-hash, reserved bits),
 * which messages may come when (a bitfield or have-all/none, a later one
 * replacing the first as aria2 needs,
 * fast messages only when both sides set the fast bit), indexes and block
 * ranges, and bounded queues (requests from the peer beyond
 * BT_PSESS_MAX_IN are refused).  A violation makes feed return an error
 * with the reason in p->why; the connection layer then drops the peer.
 *
 * What the sessions of one torrent share is a struct bt_swarm: the
 * metainfo, the piece picker, our peer id, and callbacks into the torrent
 * for what is not one peer's business (storing and verifying blocks,
 * reading blocks to upload, accepting a handshake).  A callback may ask to
 * drop the peer (returning < 0) but must not free the session: the
 * connection layer does that after feed returns.
 *
 * Requests we send are pipelined: the number kept outstanding follows the
 * peer's download rate (about BT_PSESS_QUEUE_SECONDS of data, at least
 * BT_PSESS_MIN_QUEUE, at most what the peer said it queues (BEP 10 reqq)
 * and bt_swarm.max_queue).
 */
#ifndef SK_BT_PEER_H
#define SK_BT_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/wire.h"

#define BT_PSESS_MAX_IN 512         /* requests from a peer we queue */
#define BT_PSESS_MIN_QUEUE 16
#define BT_PSESS_QUEUE_SECONDS 3
#define BT_PSESS_ALLOWED_MAX 32     /* allowed-fast pieces remembered */
#define BT_PSESS_HANDSHAKE_MS 15000 /* for the peer's handshake */
#define BT_PSESS_IDLE_MS 150000     /* nothing at all received */
#define BT_PSESS_KEEPALIVE_MS 90000 /* nothing sent */
#define BT_PSESS_SNUB_MS 30000      /* requests out, no block */

struct bt_psess;

struct bt_swarm_ops {
	/* The peer's handshake is in (p->remote): 0 to go on, < 0 to refuse
	 * it (our own peer id, already connected, banned...; set p->why). */
	int (*handshake)(void *ud, struct bt_psess *p);
	/* Read block b of a piece we have into out (b->len bytes). */
	int (*read)(void *ud, const struct bt_block *b, uint8_t *out);
	/* A block the picker wanted arrived (picked: BT_PICK_STORED or
	 * BT_PICK_COMPLETE); < 0 drops the peer. */
	int (*block)(void *ud, struct bt_psess *p, const struct bt_block *b,
		     const uint8_t *data, int picked);
	/* The peer became interested in us or stopped being so. */
	void (*interest)(void *ud, struct bt_psess *p);
	/* Optional: send the piece message (hdr, its 13 bytes, then block b)
	 * on the connection itself, after what p->out holds, e.g. straight
	 * from the file.  1: sent, go on; 2: sent, but the connection is full
	 * (stop serving until it drains); 0: not this way (the block is read
	 * into p->out instead); < 0: cannot be read (it is rejected). */
	int (*send)(void *ud, struct bt_psess *p, const struct bt_block *b,
		    const uint8_t *hdr);
};

struct bt_swarm {
	const struct bt_metainfo *m;
	struct bt_picker *pk;
	uint8_t peer_id[20];
	uint16_t port;          /* our listening port (BEP 10 "p") */
	size_t msg_max;         /* longest message accepted */
	uint32_t max_queue;     /* requests we keep out to one peer */
	bool corrupt_uploads;   /* TEST ONLY: flip a byte of every block sent */
	uint64_t now;           /* milliseconds, kept current by the caller */
	const struct bt_swarm_ops *ops;
	void *ud;
};

struct bt_outreq {
	struct bt_block b;
	uint64_t t; /* when it was sent */
};

enum { BT_PS_HANDSHAKE = 0, BT_PS_ACTIVE = 1 };

struct bt_psess {
	struct bt_swarm *sw;
	uint32_t id; /* the picker's name for this peer, never 0 */
	uint8_t state;
	bool outgoing;
	bool fast, ext;     /* both sides set the bit */
	bool am_choking, am_interested, peer_choking, peer_interested;
	bool seed;          /* the peer has every piece */
	bool counted_seed;  /* in the picker as a seed (else by its bits) */
	bool first_seen;    /* the peer declared pieces (bitfield, have...) */
	bool snubbed;
	struct bt_handshake remote;
	uint8_t *bits;      /* the peer's pieces */
	uint32_t nbits;

	struct bt_outreq *rq; /* our requests, in the order sent (a FIFO) */
	size_t rq_off, nrq, caprq;
	struct bt_block *in;  /* the peer's requests, a FIFO */
	size_t in_off, nin, capin;
	uint32_t allowed[BT_PSESS_ALLOWED_MAX];
	size_t nallowed;
	uint8_t *allowed_bits;

	uint32_t reqq;       /* the peer's queue size (BEP 10), 0 unknown */
	uint32_t boost;      /* slow start: blocks delivered so far */
	uint16_t peer_port;  /* its listening port (BEP 10 "p"), 0 unknown */
	char client[48];     /* BEP 10 "v", printable */

	uint64_t down_total, up_total; /* payload bytes */
	uint64_t down_acc, up_acc;     /* since the last bt_psess_rates */
	uint64_t down_rate, up_rate;   /* bytes per second, smoothed */
	uint64_t wasted;               /* bytes received we had no use for */
	uint64_t connected, last_rx, last_tx, last_block;

	struct sk_buf out; /* bytes to send */
	char why[128];     /* why the session failed */
};

/* Start a session; an outgoing one queues our handshake at once (an
 * incoming one answers the peer's).  0 or SK_ENOMEM. */
int bt_psess_init(struct bt_psess *p, struct bt_swarm *sw, uint32_t id,
		  bool outgoing);
/* Give every outstanding request and the peer's pieces back to the
 * picker and free the session's memory. */
void bt_psess_free(struct bt_psess *p);

/* Bytes from the peer: consumes what forms whole messages.  0, or < 0
 * with p->why when the peer must be dropped. */
int bt_psess_feed(struct bt_psess *p, struct sk_buf *in);
/* Once a second or so: handshake/idle timeouts (< 0: drop), keep-alives,
 * snubbing (requests given back to the picker), more requests. */
int bt_psess_tick(struct bt_psess *p);
/* Update the smoothed rates; dt_ms since the last call. */
void bt_psess_rates(struct bt_psess *p, uint64_t dt_ms);

/* Queue requests up to the pipeline depth. */
void bt_psess_fill(struct bt_psess *p);
/* Answer queued requests with piece messages, about `budget` bytes at
 * most (at least one block when budget > 0).  Returns the payload bytes. */
size_t bt_psess_serve(struct bt_psess *p, size_t budget);
/* Requests from the peer waiting for bt_psess_serve. */
static inline size_t bt_psess_pending(const struct bt_psess *p)
{
	return p->nin;
}

void bt_psess_choke(struct bt_psess *p, bool choke);
/* We have piece i now: tell the peer, and re-think our interest. */
void bt_psess_have(struct bt_psess *p, uint32_t i);
void bt_psess_update_interest(struct bt_psess *p);
/* We got block b from someone else (endgame): cancel ours.  True if
 * there was one. */
bool bt_psess_cancel(struct bt_psess *p, const struct bt_block *b);

#endif
