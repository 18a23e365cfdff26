/*
 * src/core/uring.h - what backend_uring.c (the ring, fd watchers, the wait)
 * and uring_stream.c (receive buffers, connections, listeners) share.
 * Private to those two files; only built with liburing (SK_HAVE_URING).
 */
#ifndef SOCKIT_URING_H
#define SOCKIT_URING_H

#include "internal.h"

#include <liburing.h>

/* Newer than liburing 2.3's headers. */
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1U << 4)
#endif
#define UR_PBUF_RING_INC 2 /* IOU_PBUF_RING_INC (6.12) */
#define UR_FEAT_REG_REG_RING (1U << 13) /* IORING_FEAT_REG_REG_RING (6.3) */

#define UR_SQ_ENTRIES 256
#define UR_CQ_ENTRIES 4096
#define UR_BATCH 64       /* CQEs copied out per peek */

/* ---- naming operations ----------------------------------------------------
 * user_data: kind in the low 3 bits.  Pointer kinds: the rest is the
 * sk_conn (8-byte aligned).  Slot kinds: slot index in the high 32 bits,
 * generation in bits 3..31.  0 is "nothing to do" (cancels, closes). */
enum {
	K_NONE = 0,
	K_POLL,         /* slot: fd watcher */
	K_ACCEPT,       /* slot: listener */
	K_ACCEPT_WAIT,  /* slot: listener pausing after EMFILE and the like */
	K_RECV,         /* conn */
	K_SEND,         /* conn */
};
#define UD_KIND(ud) ((unsigned)((ud) & 7u))
#define UD_GEN_MASK 0x1fffffffu
#define UD_SLOT(idx, gen, kind)                                                \
	(((uint64_t)(idx) << 32) | ((uint64_t)((gen) & UD_GEN_MASK) << 3) | (kind))
#define UD_IDX(ud) ((uint32_t)((ud) >> 32))
#define UD_GEN(ud) ((uint32_t)((ud) >> 3) & UD_GEN_MASK)
#define UD_CONN(c, kind) ((uint64_t)(uintptr_t)(c) | (kind))
#define UD_PTR(ud) ((sk_conn *)(uintptr_t)((ud) & ~(uint64_t)7))

struct ur_slot {
	void *obj;       /* sk_io or sk_listener; NULL when free */
	uint32_t gen;    /* generation of the current operation */
	uint32_t next;   /* free list */
	uint8_t armed;   /* an operation of generation gen is in flight */
	uint8_t mask;    /* poll: SK_READ|SK_WRITE armed; accept: pausing */
};
#define SLOT_NONE UINT32_MAX

/* A send in flight: the bytes taken from c->out. */
struct ur_tx {
	struct sk_buf buf;
	struct ur_tx *next;      /* free list */
	struct ur_tx *all_next;  /* every record, for fini */
};

/* A CQE copied out of the ring. */
struct ur_cqe {
	uint64_t ud;
	int32_t res;
	uint32_t flags;
};

struct ur {
	struct io_uring ring;
	bool enabled;           /* IORING_SETUP_R_DISABLED lifted */
	bool disabled_at_init;
	bool regfd;             /* ring fd registered by owner */
	pthread_t owner;        /* the thread that enabled the ring */
	uint32_t epoch;         /* submissions so far */
	/* slots */
	struct ur_slot *slots;
	uint32_t nslots, free_slot;
	/* provided buffers (uring_stream.c) */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	uint32_t *boff;         /* incremental: bytes used of each buffer */
	unsigned nbufs, bufsz, bmask, bpending;
	bool binc, bready;
	size_t brsize, bsize;
	/* send records, and connections whose output waits for the next
	 * submit (uring_stream.c) */
	struct ur_tx *tx_free, *tx_all;
	sk_conn **fq;
	uint32_t nfq, capfq;
	struct ur_cqe batch[UR_BATCH];
};

static inline struct ur *sk__ur(sk_loop *loop) { return loop->bdata; }

/* ---- backend_uring.c ------------------------------------------------------- */
/* An SQE, submitting what is queued if the ring is full.  NULL only if
 * the kernel refuses submissions. */
struct io_uring_sqe *sk__ur_sqe(struct ur *u);
/* Queue a cancel of the operation named ud. */
void sk__ur_cancel(struct ur *u, uint64_t ud);
/* Submit now and run pending completions (before the caller closes an fd). */
void sk__ur_settle(struct ur *u);
uint32_t sk__ur_slot_get(struct ur *u, void *obj);      /* SLOT_NONE: no memory */
void sk__ur_slot_disarm(struct ur *u, uint32_t idx, unsigned kind);
void sk__ur_slot_put(struct ur *u, uint32_t idx);
void *sk__ur_slot_current(struct ur *u, uint64_t ud);   /* NULL: stale */

/* ---- uring_stream.c ------------------------------------------------------- */
void sk__ur_pool_publish(struct ur *u);
void sk__ur_flush_queued(struct ur *u);
void sk__ur_stream_fini(struct ur *u);
int sk__ur_on_recv(struct ur *u, const struct ur_cqe *e);
int sk__ur_on_send(struct ur *u, const struct ur_cqe *e);
int sk__ur_on_accept(struct ur *u, const struct ur_cqe *e);
int sk__ur_on_accept_wait(struct ur *u, const struct ur_cqe *e);
int sk__ur_conn_start(sk_conn *c);
void sk__ur_conn_flush(sk_conn *c);
void sk__ur_conn_read(sk_conn *c, bool on);
void sk__ur_conn_stop(sk_conn *c);
int sk__ur_listen_start(sk_listener *l);
void sk__ur_listen_stop(sk_listener *l);

#endif
