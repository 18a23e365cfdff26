/*
 * sockit/conn.h - stream connections (TCP, Unix, and TLS over either) and
 * listeners.
 *
 * A connection is buffered both ways.  Input arrives in on_read as a
 * struct sk_buf: consume what you use (sk_buf_consume), leave the rest, and
 * it is still there, followed by new bytes, at the next on_read.  Output is
 * queued by sk_conn_write(); the library sends it as the socket allows.
 *
 * Backpressure: when the output queue reaches the high-water mark,
 * sk_conn_congested() turns true; stop producing (for a relay:
 * sk_conn_read_stop() on the source).  on_drain is called once the queue has
 * fallen to the low-water mark.  The queue can never exceed max_out: a write
 * that would is refused with SK_ENOBUFS and the connection is closed with
 * that error.  Input held unconsumed beyond max_in closes the connection
 * with SK_ENOBUFS too.
 *
 * Lifetime: on_close is the last callback, exactly once, for every
 * connection that was handed to the program (by sk_connect's out parameter
 * or by on_accept); the connection's memory is released right after it
 * returns.  err is 0 when the program closed it, or why it ended:
 * SK_EOF (closed by peer), SK_ECONNRESET, SK_ECONNREFUSED, SK_ETIMEDOUT,
 * SK_EHOSTUNREACH, SK_ENOBUFS, SK_ECERT, ...  sk_conn_error_string() gives
 * the words with the peer, e.g. "connection reset by peer (127.0.0.1:6667)".
 * on_close never runs inside a call the program made (sk_conn_close,
 * sk_conn_write...): it is deferred to the loop.
 */
#ifndef SOCKIT_CONN_H
#define SOCKIT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "common.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_conn sk_conn;
typedef struct sk_listener sk_listener;
typedef struct sk_tls_ctx sk_tls_ctx;

struct sk_conn_cbs {
	/* sk_connect only: connected (and TLS handshake done). */
	void (*on_open)(sk_conn *c, void *ud);
	/* New input is in `in`; consume what you use. */
	void (*on_read)(sk_conn *c, struct sk_buf *in, void *ud);
	/* The peer shut its write side (half-close).  You may keep writing;
	 * call sk_conn_shutdown() or sk_conn_close() when done.  If NULL the
	 * connection is closed gracefully with SK_EOF. */
	void (*on_eof)(sk_conn *c, void *ud);
	/* The output queue fell to the low-water mark after reaching the high one. */
	void (*on_drain)(sk_conn *c, void *ud);
	/* Last callback; see the lifetime rule above. */
	void (*on_close)(sk_conn *c, int err, void *ud);
};

/* Options for one connection.  Zero means "the default". */
struct sk_conn_opts {
	size_t max_in;        /* unconsumed input cap (default 1 MiB) */
	size_t max_out;       /* output queue cap (default 64 MiB) */
	size_t high_water;    /* congestion starts (default 1 MiB) */
	size_t low_water;     /* on_drain at or below (default high/4) */
	int no_nodelay;       /* 1: leave Nagle on (TCP_NODELAY is the default) */
	int keepalive_s;      /* >0: TCP keepalive idle seconds */
	unsigned connect_timeout_ms; /* per attempt (default 10 s) */
	unsigned resolve_timeout_ms; /* name resolution (default 5 s) */
	int family;           /* AF_INET/AF_INET6 to restrict resolution; 0 any */
	const char *bind;     /* local address to bind before connecting */
	sk_tls_ctx *tls;      /* non-NULL: TLS over this connection */
	const char *sni;      /* TLS server name; default: the host connected to */
	int coalesce;         /* 1: queue writes and send them once per loop
			       * iteration: one system call for many small
			       * messages to the same peer (chat fan-out) */
};

/* Connect to addr (see addr.h; names are resolved with c-ares and every
 * address is tried in order until one connects).  On success *out is the
 * connection and exactly one of on_open or on_close follows.  On failure
 * (bad address, no memory) nothing is called. */
SK_EXPORT SK_NODISCARD int sk_connect(sk_loop *loop, const char *addr,
				      const struct sk_conn_opts *opts,
				      const struct sk_conn_cbs *cbs, void *ud,
				      sk_conn **out);

/* Connect to already resolved addresses, tried in order. */
SK_EXPORT SK_NODISCARD int sk_connect_addrs(sk_loop *loop,
					    const struct sk_addr *addrs, size_t n,
					    const struct sk_conn_opts *opts,
					    const struct sk_conn_cbs *cbs,
					    void *ud, sk_conn **out);

/* Wrap an open descriptor as a connection: a connected socket, a pipe, a
 * terminal or a regular file (standard input and output, a socketpair to a
 * child process...).  It becomes non-blocking.  Flags: SK_FD_NOCLOSE keeps
 * the fd open after the end; SK_FD_WRITEONLY never reads it (e.g. stdout);
 * SK_FD_READONLY never writes it.  For a non-socket, half-close closes the
 * descriptor (the reader then sees end of file).  No on_open follows: the
 * connection is ready when this returns.  Writing to a pipe whose reader
 * has gone raises SIGPIPE unless the program ignores it (sockets never do). */
#define SK_FD_NOCLOSE 0x1u
#define SK_FD_WRITEONLY 0x2u
#define SK_FD_READONLY 0x4u
SK_EXPORT SK_NODISCARD int sk_conn_open_fd(sk_loop *loop, int fd, unsigned flags,
					   const struct sk_conn_opts *opts,
					   const struct sk_conn_cbs *cbs, void *ud,
					   sk_conn **out);

/* Set or replace the callbacks (the struct must outlive the connection). */
SK_EXPORT void sk_conn_set_cbs(sk_conn *c, const struct sk_conn_cbs *cbs, void *ud);
SK_EXPORT void sk_conn_set_data(sk_conn *c, void *ud);
SK_EXPORT void *sk_conn_data(const sk_conn *c);
SK_EXPORT sk_loop *sk_conn_loop(const sk_conn *c);

/* Queue bytes.  0, or SK_ENOBUFS (over max_out: the connection is then
 * closing with that error), SK_EPIPE (already closing or shut down). */
SK_EXPORT int sk_conn_write(sk_conn *c, const void *p, size_t n);
SK_EXPORT int sk_conn_printf(sk_conn *c, const char *fmt, ...) SK_PRINTF(2, 3);
/* Queue all of src, leaving it empty; avoids a copy when possible. */
SK_EXPORT int sk_conn_write_buf(sk_conn *c, struct sk_buf *src);

/* Queue hn bytes of hdr (may be 0), then len bytes of file fd from offset
 * off.  With nothing queued ahead of them on a plaintext socket they go
 * out through sendfile(2), from the page cache without a copy through user
 * space; what the socket does not take now (and everything under TLS or
 * behind queued bytes) is read with pread into the queue.  sendfile(2)
 * cannot suppress SIGPIPE, so that path is taken only while the program
 * ignores SIGPIPE (signal(SIGPIPE, SIG_IGN)); otherwise pread is used.
 * The disposition is looked up once per loop iteration: set it before
 * the first write of an iteration, not between two.
 * When the socket pushed back, the connection counts as congested until
 * its queue is down to low water (on_drain then): a writer that stops at
 * sk_conn_congested() and goes on in on_drain keeps finding the queue
 * empty, so its bytes keep leaving without a copy (low_water 0 for that).
 * The file's bytes must not change until sent.  0, or as sk_conn_write, or a read error of
 * fd (SK_EIO: the file is shorter than off + len; SK_EBADF): a failure
 * after any byte of hdr went out also closes the connection with it. */
SK_EXPORT int sk_conn_write_file(sk_conn *c, const void *hdr, size_t hn, int fd,
				 uint64_t off, size_t len);

SK_EXPORT bool sk_conn_congested(const sk_conn *c);
/* Turn write coalescing (see sk_conn_opts.coalesce) on or off. */
SK_EXPORT void sk_conn_set_coalesce(sk_conn *c, bool on);
SK_EXPORT size_t sk_conn_out_len(const sk_conn *c);
/* Give back the storage of an empty output queue.  Servers holding many
 * mostly idle connections call it now and then (say once a second): an
 * idle connection then costs no buffer memory, while a busy one keeps its
 * storage between writes.  No effect while bytes are queued. */
SK_EXPORT void sk_conn_trim(sk_conn *c);

/* Stop/resume delivering input (for backpressure on a relay).  The end of
 * input is input too: on_eof never comes while reading is stopped; it
 * follows the bytes still held, after sk_conn_read_start(). */
SK_EXPORT void sk_conn_read_stop(sk_conn *c);
SK_EXPORT void sk_conn_read_start(sk_conn *c);

/* Called from on_read when it left a partial message: on_read cannot go
 * on before the input holds n bytes (its message's whole length), so it is
 * not called again with fewer (on_eof still comes at the end of input).
 * The next read then completes the message from its first bytes and hands
 * the rest over without copying it, where the bytes held would otherwise
 * be copied along with everything read behind them.  Cleared at the next
 * on_read; n above max_in counts as max_in.  Without a hint the library
 * tops up by a few KiB, doubling while on_read takes nothing. */
SK_EXPORT void sk_conn_read_need(sk_conn *c, size_t n);

/* Half-close: send FIN once the queue has drained; reading goes on. */
SK_EXPORT int sk_conn_shutdown(sk_conn *c);
/* Graceful close: stop reading, send what is queued, then close.
 * on_close(0) follows.  Also before the connection is open: what was
 * written goes out once the connect (and TLS handshake) is done, without
 * on_open; if that fails, on_close says why. */
SK_EXPORT void sk_conn_close(sk_conn *c);
/* Abortive close: drop the queue and reset the connection (RST).
 * on_close(0) follows. */
SK_EXPORT void sk_conn_abort(sk_conn *c);

SK_EXPORT int sk_conn_peer(const sk_conn *c, struct sk_addr *out);
SK_EXPORT int sk_conn_local(const sk_conn *c, struct sk_addr *out);
/* Peer address as text (cached; "?" if unknown). */
SK_EXPORT const char *sk_conn_peer_str(sk_conn *c);

SK_EXPORT int sk_conn_set_nodelay(sk_conn *c, bool on);
SK_EXPORT int sk_conn_set_keepalive(sk_conn *c, int idle_s);
/* Change the limits of a live connection (0 keeps the current value). */
SK_EXPORT void sk_conn_set_limits(sk_conn *c, size_t max_in, size_t max_out,
				  size_t high_water, size_t low_water);

/* Extra words about the last error, e.g. the certificate verification
 * reason ("self-signed certificate"); "" if none. */
SK_EXPORT const char *sk_conn_error_detail(const sk_conn *c);
/* "<sk_strerror(err)>[: detail] (<peer>)" into buf; returns buf. */
SK_EXPORT const char *sk_conn_error_string(sk_conn *c, int err, char *buf,
					   size_t size);

SK_EXPORT bool sk_conn_is_tls(const sk_conn *c);
/* Negotiated ALPN protocol, or NULL. */
SK_EXPORT const char *sk_conn_alpn(const sk_conn *c);

/* ---- listeners ------------------------------------------------------------ */

struct sk_listen_opts {
	int backlog;          /* default 511 */
	int reuseport;        /* 1: SO_REUSEPORT (one listener per thread) */
	int v6only;           /* 1: IPv6 listener takes IPv6 only */
	unsigned max_conns;   /* 0: no cap; beyond it new connections are closed */
	unsigned unix_mode;   /* chmod for a unix path listener (0: leave) */
	sk_tls_ctx *tls;      /* non-NULL: a TLS listener (handshake before on_accept) */
	unsigned tls_handshake_timeout_ms; /* default 10 s */
	struct sk_conn_opts conn; /* options for every accepted connection */
};

/* The program must call sk_conn_set_cbs() on c from inside on_accept, or
 * close it. */
typedef void (*sk_accept_cb)(sk_listener *l, sk_conn *c, void *ud);
/* Optional: a connection refused by max_conns (or an accept failure such
 * as EMFILE); err says why.  For logging. */
typedef void (*sk_listen_err_cb)(sk_listener *l, int err, void *ud);

/* Listen on addr ("127.0.0.1:0" picks a free port, "unix:/path" removes a
 * stale socket file first).  Accepts in batches. */
SK_EXPORT SK_NODISCARD int sk_listen(sk_loop *loop, const char *addr,
				     const struct sk_listen_opts *opts,
				     sk_accept_cb on_accept, void *ud,
				     sk_listener **out);
SK_EXPORT void sk_listener_on_error(sk_listener *l, sk_listen_err_cb cb);
SK_EXPORT int sk_listener_addr(const sk_listener *l, struct sk_addr *out);
SK_EXPORT uint16_t sk_listener_port(const sk_listener *l);
SK_EXPORT unsigned sk_listener_conns(const sk_listener *l); /* open now */
/* Stop listening; connections already accepted live on. */
SK_EXPORT void sk_listener_close(sk_listener *l);

#ifdef __cplusplus
}
#endif
#endif
