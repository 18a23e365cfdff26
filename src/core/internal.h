/*
 * src/core/internal.h - structures and cross-file functions of libsockit.
 * Not installed.  Cross-file internals are prefixed sk__.
 *
 * Ownership in one paragraph: the loop owns every handle made on it.  A
 * handle freed while the loop runs is marked dead (never dispatched again)
 * and its memory is released at the end of the iteration (sk__defer_free),
 * so an event batch that still mentions it is harmless.
 */
#ifndef SOCKIT_INTERNAL_H
#define SOCKIT_INTERNAL_H

#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockit/sockit.h"

#define SK__CONTAINER(ptr, type, member)                                       \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- intrusive doubly linked list ---------------------------------------- */
struct sk__list {
	struct sk__list *next, *prev;
};
static inline void sk__list_init(struct sk__list *l) { l->next = l->prev = l; }
static inline bool sk__list_empty(const struct sk__list *l) { return l->next == l; }
static inline void sk__list_add_tail(struct sk__list *h, struct sk__list *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void sk__list_del(struct sk__list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* ---- fd watchers ----------------------------------------------------------- */
#define SK__IO_DEAD 0x01u     /* freed: never dispatch */
#define SK__IO_EDGE 0x02u     /* internal edge-triggered registration (epoll) */
#define SK__IO_EMBEDDED 0x04u /* part of a larger object: not freed alone */
#define SK__IO_ADDED 0x08u    /* known to the backend */
#define SK__IO_NOREF 0x10u    /* does not keep the loop alive */

/* Extra revents bit from backends: the peer hung up / shut its write side
 * (EPOLLRDHUP, POLLHUP).  A reader must then read until EOF or EAGAIN. */
#define SK__EV_HUP 0x8u

struct sk_io {
	sk_loop *loop;
	sk_io_cb cb;
	void *ud;
	int fd;
	int bidx;          /* backend slot (poll: pollfd index), -1 none */
	uint8_t events;    /* wanted SK_READ|SK_WRITE */
	uint8_t flags;
	uint8_t kevents;   /* what the backend currently has registered */
	uint8_t spare;
};

/* Initialise an embedded watcher (not registered until sk__io_update). */
void sk__io_init(sk_loop *loop, sk_io *io, int fd, sk_io_cb cb, void *ud,
		 unsigned flags);
/* Tell the backend about io->events (0 removes it). */
int sk__io_update(sk_io *io, unsigned events);
/* Remove an embedded watcher from the backend (before close(fd)). */
void sk__io_stop(sk_io *io);
/* Called by backends for each ready watcher. */
static inline void sk__io_dispatch(sk_io *io, unsigned revents)
{
	if (!(io->flags & SK__IO_DEAD) && io->cb)
		io->cb(io, revents, io->ud);
}

/* ---- backends --------------------------------------------------------------
 * A readiness backend implements init/fini/update/wait.  wait() blocks up to
 * timeout_ms (-1 forever) and calls sk__io_dispatch for each ready watcher;
 * it returns the number dispatched or a negative error.
 *
 * A completion backend (io_uring) may also implement the conn_* and
 * listen_* hooks; when conn_start is non-NULL, stream connections use them
 * instead of their readiness watcher once connected.
 */
struct sk__backend {
	const char *name;
	bool edge; /* update() registers SK__IO_EDGE watchers edge-triggered */
	int (*init)(sk_loop *loop);
	void (*fini)(sk_loop *loop);
	int (*update)(sk_loop *loop, sk_io *io, unsigned events);
	int (*wait)(sk_loop *loop, int timeout_ms);
	/* completion-based stream hooks (optional) */
	int (*conn_start)(sk_conn *c);           /* begin receiving */
	void (*conn_flush)(sk_conn *c);          /* c->out has bytes to send */
	void (*conn_read)(sk_conn *c, bool on);  /* pause/resume receiving */
	void (*conn_stop)(sk_conn *c);           /* cancel I/O; fd closes after */
	int (*listen_start)(sk_listener *l);     /* accept (multishot) */
	void (*listen_stop)(sk_listener *l);
};

extern const struct sk__backend sk__backend_epoll;
extern const struct sk__backend sk__backend_poll;
#ifdef SK_HAVE_URING
extern const struct sk__backend sk__backend_uring;
#endif

/* ---- timers ---------------------------------------------------------------- */
struct sk_timer {
	struct sk__list link;  /* loop->timers: freed with the loop */
	sk_loop *loop;
	sk_timer_cb cb;
	void *ud;
	uint64_t deadline;
	uint64_t repeat;
	uint64_t seq;     /* start order: ties fire in start order */
	uint32_t hidx;    /* index in the heap, UINT32_MAX when stopped */
	uint8_t ref;
	uint8_t dead;
};

/* ---- deferred work --------------------------------------------------------- */
struct sk__pending {
	struct sk__list node;
	void (*fn)(struct sk__pending *p);
};
/* Run p->fn at the end of this iteration (or the start of the next);
 * idempotent while queued. */
void sk__pending_add(sk_loop *loop, struct sk__pending *p);
void sk__pending_del(struct sk__pending *p);
static inline void sk__pending_init(struct sk__pending *p,
				    void (*fn)(struct sk__pending *))
{
	sk__list_init(&p->node);
	p->fn = fn;
}

/* Free p (with free()) at the end of the current iteration. */
void sk__defer_free(sk_loop *loop, void *p);

/* ---- the loop -------------------------------------------------------------- */
#define SK__RBUF_SIZE (64 * 1024)

struct sk__post {
	struct sk__post *next;
	void (*fn)(void *);
	void *arg;
};

struct sk_loop {
	const struct sk__backend *be;
	void *bdata;              /* backend state */
	uint64_t now;             /* ms, cached */
	uint64_t wakes;           /* backend waits returned: one per iteration */
	uint64_t sigpipe_wake;    /* conn.c: SIGPIPE's disposition as seen at */
	bool sigpipe_ign;         /* that wake (UINT64_MAX: never looked) */
	unsigned alive;           /* active handles that keep the loop running */
	_Atomic int stop;
	bool running;
	/* timers: binary min-heap on (deadline, seq) */
	sk_timer **heap;
	uint32_t nheap, capheap;
	uint64_t timer_seq;
	struct sk__list timers;   /* every timer not yet freed */
	/* deferred callbacks and frees */
	struct sk__list pending;
	void **graveyard;
	size_t ngrave, capgrave;
	/* every connection and listener, for sk_loop_free */
	struct sk__list conns;
	struct sk__list listeners;
	struct sk__list dgrams;   /* every open sk_dgram (dgram.c) */
	/* cross-thread posts */
	pthread_mutex_t post_mu;
	struct sk__post *post_head, *post_tail;
	int wake_rfd, wake_wfd;   /* eventfd: both the same fd */
	sk_io *wake_io;
	_Atomic unsigned posts_pending;
	/* signals */
	int sig_rfd, sig_wfd;
	sk_io *sig_io;
	struct sk_signal *signals;
	/* shared read buffer for readiness-driven connections */
	uint8_t *rbuf;
	struct sk_buf borrowed;    /* the buffer handed to on_read */
	/* resolver (c-ares), created on first use */
	void *resolver;
	void (*resolver_free)(sk_loop *loop);
	void *data;
};

/* Close every datagram socket still open on the loop (sk_loop_free). */
void sk__dgrams_free_all(sk_loop *loop);
void sk__loop_ref(sk_loop *loop);
void sk__loop_unref(sk_loop *loop);
uint64_t sk__mono_ms(void);

/* ---- sockets --------------------------------------------------------------- */
int sk__socket(int family, int type);         /* nonblocking, cloexec */
int sk__set_nonblock(int fd);
int sk__tcp_opts(int fd, const struct sk_conn_opts *o);
int sk__errno(void);                          /* -errno */
/* Open a listening socket of type (SOCK_STREAM/SOCK_DGRAM) bound to a. */
int sk__bind_socket(const struct sk_addr *a, int type, int reuseaddr,
		    int reuseport, int v6only, int *fdout);

/* ---- connections ------------------------------------------------------------ */
#define SK__C_CONNECTING 0x0001u  /* connect() in progress */
#define SK__C_TLS_HS 0x0002u      /* TLS handshake in progress */
#define SK__C_READ_OFF 0x0004u    /* program stopped reading */
#define SK__C_CLOSING 0x0008u     /* graceful close: draining output */
#define SK__C_SHUT_PENDING 0x0010u /* shutdown(SHUT_WR) once drained */
#define SK__C_SHUT_DONE 0x0020u
#define SK__C_EOF 0x0040u         /* peer sent FIN */
#define SK__C_CONGESTED 0x0080u   /* above high water, on_drain owed */
#define SK__C_DEAD 0x0100u        /* finished: on_close queued or done */
#define SK__C_HANDED 0x0400u      /* the program knows this connection */
#define SK__C_IN_CB 0x0800u       /* inside on_read */
#define SK__C_READ_RETRY 0x1000u  /* readiness edge: read again on pending */
#define SK__C_DRIVER 0x4000u      /* completion backend owns the I/O */
#define SK__C_ABORT 0x8000u       /* close with RST */
#define SK__C_PIPE 0x10000u       /* not a socket: read()/write(), no shutdown */
#define SK__C_FILE 0x20000u       /* regular file: not pollable, always ready */
#define SK__C_NOCLOSE 0x40000u    /* the fd stays open after the end */
#define SK__C_NOREAD 0x80000u     /* write-only: never read */
#define SK__C_COALESCE 0x100000u  /* writes wait for the end of the iteration */
#define SK__C_FLUSH 0x200000u     /* coalesced output waits in pending work */
#define SK__C_EOF_OWED 0x400000u  /* EOF came while reading was off: on_eof
				   * follows the input, when reading resumes */

struct sk__connect;  /* address list, timers, resolver request */
struct sk__tls;      /* OpenSSL state (tls.c) */

/* Optional, rarely needed parts, allocated on first use. */
struct sk__conn_ext {
	char peer_str[SK_ADDR_STRLEN];
	char detail[160];
};

struct sk_conn {
	sk_loop *loop;
	sk_io io;                   /* readiness watcher on the socket */
	const struct sk_conn_cbs *cbs;
	void *ud;
	uint32_t flags;
	int err;                    /* reason given to on_close */
	struct sk_buf *in;          /* unconsumed input, NULL when none */
	struct sk_buf out;          /* queued output (ciphertext under TLS) */
	uint32_t max_in;
	uint32_t need;              /* sk_conn_read_need: on_read waits for it */
	uint32_t high_water, low_water;
	uint32_t drv_ops;           /* completion backend: operations in flight */
	uint32_t out_inflight;      /* bytes the driver took from out, unsent */
	struct sk__pending pend;    /* deferred work: read retry, flush, on_close */
	struct sk__list link;       /* loop->conns */
	sk_listener *listener;      /* accepted from, NULL for client */
	struct sk__connect *cx;     /* client connect state, NULL once open */
	struct sk__tls *tls;        /* NULL for plaintext */
	struct sk__conn_ext *ext;
	void *drv;                  /* completion backend's per-connection state */
};

/* Make a connection around fd (-1: none yet); inet: apply TCP options. */
int sk__conn_new(sk_loop *loop, int fd, bool inet, const struct sk_conn_opts *o,
		 sk_conn **out);
/* Bytes from the transport (plaintext, or ciphertext under TLS). */
void sk__conn_input(sk_conn *c, const uint8_t *p, size_t n);
/* Plaintext for the program: through the borrowed-buffer fast path. */
void sk__conn_deliver(sk_conn *c, const uint8_t *p, size_t n);
void sk__conn_eof(sk_conn *c);
/* End the connection with err (0: the program's own close). */
void sk__conn_fail(sk_conn *c, int err);
/* Completion backend contract for output: when the driver submits a send it
 * takes the bytes out of c->out (e.g. swaps c->out with its own buffer, so
 * c->out's storage never moves under an in-flight send) and adds their count
 * to c->out_inflight.  When n of them have gone out it calls
 * sk__conn_sent(c, n), which subtracts n from out_inflight and does the
 * drain/shutdown/close bookkeeping.  "Drained" means out.len == 0 and
 * out_inflight == 0. */
void sk__conn_sent(sk_conn *c, size_t n);
/* Writes at least this big skip the driver's queue (and its copy) when it
 * has nothing queued or in flight: conn.c sends them at once. */
#define SK__DIRECT_SEND_MIN 8192
/* Completion backend: all driver operations finished; may free now. */
void sk__conn_driver_done(sk_conn *c);
/* Queue raw transport bytes (ciphertext under TLS) and kick the sender. */
int sk__conn_queue_raw(sk_conn *c, const void *p, size_t n);
/* Connected and (if TLS) handshaken: tell the program. */
void sk__conn_ready(sk_conn *c);
struct sk__conn_ext *sk__conn_ext(sk_conn *c);
void sk__conn_set_detail(sk_conn *c, const char *fmt, ...) SK_PRINTF(2, 3);

/* ---- TLS hooks (tls.c) ----------------------------------------------------- */
int sk__tls_attach(sk_conn *c, sk_tls_ctx *ctx, bool server, const char *sni);
void sk__tls_input(sk_conn *c, const uint8_t *p, size_t n); /* ciphertext in */
int sk__tls_write(sk_conn *c, const void *p, size_t n);     /* plaintext out */
int sk__tls_start(sk_conn *c);                               /* begin handshake */
int sk__tls_shutdown(sk_conn *c);                            /* close_notify */
void sk__tls_free(sk_conn *c);
const char *sk__tls_alpn(const sk_conn *c);
/* Plaintext written before the handshake ended, still waiting for it. */
bool sk__tls_holds_plain(const sk_conn *c);
/* The handshake of a connection the program already closed is done: end it
 * once its output (that plaintext, then close_notify) has drained. */
void sk__conn_closed_ready(sk_conn *c);

/* ---- listeners --------------------------------------------------------------- */
struct sk_listener {
	sk_loop *loop;
	sk_io io;
	sk_accept_cb on_accept;
	sk_listen_err_cb on_error;
	void *ud;
	struct sk_listen_opts opts;
	struct sk_addr addr;
	unsigned nconns;
	struct sk__list link;
	bool closed;
	bool unix_path;
	void *drv;
};
/* A connection was accepted (by readiness or completion): wrap and hand it. */
void sk__listener_accepted(sk_listener *l, int fd);
void sk__listener_error(sk_listener *l, int err);
/* A connection of this listener finished. */
void sk__listener_conn_gone(sk_listener *l);

/* ---- cross-file helpers of the core ------------------------------------- */
void sk__conn_start_io(sk_conn *c, bool probe);
void sk__conn_io_refresh(sk_conn *c);
void sk__conn_set_fd(sk_conn *c, int fd, const struct sk_conn_opts *tcp);
void sk__connect_stop(sk_conn *c);
void sk__connect_free(sk_conn *c);
void sk__connect_on_io(sk_conn *c, unsigned revents);
int sk__connect_peer_str(sk_conn *c, char *buf, size_t size);
int sk__conn_hs_deadline(sk_conn *c, unsigned ms);
void sk__conns_free_all(sk_loop *loop);
void sk__listeners_free_all(sk_loop *loop);
void sk__timers_run(sk_loop *loop, unsigned *ncb);
void sk__timers_free_all(sk_loop *loop);
int sk__timers_next(const sk_loop *loop);
void sk__signals_free(sk_loop *loop);

#endif
