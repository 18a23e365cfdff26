/*
 * src/cat/cat_int.h - the pieces of `sockit cat` and how they fit.
 *
 * Every run joins two endpoints, A and B, both ways.  Plain `sockit cat`
 * is a relay whose A is standard input/output (or a program, -e/-c) and
 * whose B is the network endpoint named on the command line; `sockit cat
 * relay A B` names both.  The files:
 *
 *   opts.c      command line -> struct cat_opts (pure; unit-tested)
 *   acl.c       --allow/--deny CIDR lists (pure; unit-tested)
 *   hexdump.c   --hex formatting (pure; unit-tested)
 *   endpoint.c  opening an endpoint into a struct cat_stream: connect,
 *               listen for one client, datagram socket, stdio, program
 *   session.c   the run: the first endpoint (often a listener), then per
 *               client a session that opens the other endpoint and joins
 *   pump.c      joins two byte streams (sk_conn) with backpressure and
 *               half-close
 *   dbridge.c   joins a byte stream and a datagram socket
 *   broker.c    --broker: every client's input goes to all the others
 *   exec.c      -e/-c: the child process on a socketpair, reaped through
 *               the loop (pidfd, or SIGCHLD)
 *   cat.c       cat_main: options, loop, signals, exit code
 *
 * A stream that is not joined yet is "held": its connections do not read
 * (sk_conn_read_stop) and only their end is reported, to st->lost.
 */
#ifndef SK_CAT_INT_H
#define SK_CAT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cat/acl.h"
#include "sockit/sockit.h"

#define CAT_EXIT_OK 0
#define CAT_EXIT_ERR 1
#define CAT_EXIT_USAGE 2

#define CAT_ERRMSG 320 /* room for a message naming a cause and a peer */

/* ---- endpoints ------------------------------------------------------------- */

enum cat_ep_kind {
	CAT_EP_STDIO = 1, /* standard input and output */
	CAT_EP_EXEC,      /* a program on a socketpair */
	CAT_EP_NET        /* a socket: TCP, UDP, Unix stream or datagram */
};

struct cat_ep {
	enum cat_ep_kind kind;
	bool listen;       /* NET: wait for a peer instead of connecting */
	bool dgram;        /* NET: UDP or Unix datagram */
	bool tls;          /* NET stream: TLS over it */
	bool unix_sock;    /* NET: a Unix socket (addr is "unix:...") */
	bool any_host;     /* NET listen: no address given, all interfaces */
	uint16_t port;     /* NET inet */
	char host[SK_HOST_MAX + 1]; /* NET inet: name or numeric address */
	char addr[SK_HOST_MAX + 16]; /* "h:p", "[v6]:p" or "unix:path" */
	const char *cmd;   /* EXEC: the command (points into argv) */
	bool shell;        /* EXEC: run cmd with /bin/sh -c */
};

/* Parse a relay endpoint ("tcp:host:port", "unix-listen:/p", "stdio", ...;
 * see docs/cat.md).  On error returns -1 with a message in err. */
int cat_ep_parse(const char *spec, struct cat_ep *ep, char *err, size_t errsz);
/* A network endpoint from `sockit cat`'s positional arguments: host may be
 * NULL when listening on all interfaces; a host "unix:..." has no port. */
int cat_ep_net(struct cat_ep *ep, const char *host, const char *port,
	       bool listen, bool dgram, char *err, size_t errsz);
/* Short text for logs: "stdio", "exec:cmd", "tcp:1.2.3.4:80", ... */
const char *cat_ep_describe(const struct cat_ep *ep, char *buf, size_t size);

/* ---- options --------------------------------------------------------------- */

struct cat_opts {
	bool relay;          /* `sockit cat relay A B` */
	bool listen;         /* -l */
	bool keep;           /* -k: serve clients after the first */
	bool broker;         /* --broker */
	bool zero;           /* -z: only check that the port is open */
	bool hex;            /* --hex: dump traffic on stderr */
	bool tls_insecure;
	int verbose;         /* -v count */
	int family;          /* -4/-6: AF_INET, AF_INET6, 0 */
	unsigned connect_ms; /* -w: per-address connect timeout (0: default) */
	long quit_ms;        /* -q: quit this long after EOF (-1: never) */
	unsigned max_conns;  /* --max-conns (0: no cap) */
	const char *source;  /* -s: local address to connect from */
	const char *tls_ca, *tls_cert, *tls_key, *tls_alpn, *tls_sni;
	struct cat_acl allow, deny;
	struct cat_ep ep[2]; /* A, B */
};

/* Parse argv (argv[0] is "cat").  Returns -1 when the program should run,
 * otherwise the exit code (0 after --help, 2 after a usage error, whose
 * message is already on stderr). */
int cat_opts_parse(int argc, char **argv, struct cat_opts *o);
void cat_opts_free(struct cat_opts *o);
/* "1", "0.5", "250ms", "2s" -> milliseconds; -1 if malformed. */
long cat_parse_duration(const char *s);

/* ---- streams: an endpoint once open -------------------------------------- */

struct cat_child;
struct cat_stream;
typedef void (*cat_lost_cb)(void *ud, struct cat_stream *st, int err,
			    const char *msg);

struct cat_stream {
	sk_conn *rd, *wr;         /* byte stream (the same conn for a socket) */
	sk_dgram *dg;             /* or a datagram socket */
	bool dg_connected;        /* dg has a fixed peer */
	bool dg_listen;           /* dg waits for peers (replies go to them) */
	bool tty_in;              /* rd is a terminal */
	struct cat_child *child;  /* EXEC: the program (NULL once reaped) */
	cat_lost_cb lost;         /* a held connection ended */
	void *lost_ud;
	char name[SK_ADDR_STRLEN + 16];
};

/* ---- the run ------------------------------------------------------------- */

struct cat_session;
struct cat_opener;
struct cat_broker;
struct cat_exec;

struct cat_run {
	sk_loop *loop;
	const struct cat_opts *o;
	int first;                     /* endpoint opened first (0: A, 1: B) */
	sk_tls_ctx *tls_client, *tls_server;
	sk_listener *listener;         /* the first endpoint's, if it listens */
	struct cat_opener *first_op;   /* the first endpoint, while opening */
	struct cat_session *sessions;  /* live sessions, oldest first */
	unsigned nsessions, served;
	bool stdio_busy;               /* a session has stdio (one at a time) */
	bool stopping;
	struct cat_broker *broker;
	struct cat_exec *exec;
	const char *source;            /* -s as "ip:port" (port 0 added) */
	char source_buf[SK_HOST_MAX + 16];
	int exit_code;
};

/* The run failed: "sockit cat: <msg>" on stderr (the first one only) and
 * exit status 1. */
void cat_fail(struct cat_run *run, const char *fmt, ...) SK_PRINTF(2, 3);
/* The peer's address as text; "unix client" for an unnamed Unix socket. */
const char *cat_peer_name(sk_conn *c);
/* "<words>[: detail] (<peer or label>)" for an error on a connection. */
const char *cat_conn_errstr(sk_conn *c, int err, const char *label,
			    char *buf, size_t size);

/* session.c */
int cat_run_start(struct cat_run *run);
void cat_run_free(struct cat_run *run);   /* after the loop stopped */
bool cat_peer_allowed(struct cat_run *run, sk_conn *c);

/* endpoint.c */
typedef void (*cat_open_cb)(void *ud, struct cat_stream *st, int err,
			    const char *msg);
/* Open ep (not a listener of the first endpoint: those are cat_listen's).
 * cb runs exactly once, always from the loop, unless cancelled. */
int cat_open(struct cat_run *run, const struct cat_ep *ep, cat_open_cb cb,
	     void *ud, struct cat_opener **out, char *err, size_t errsz);
void cat_open_cancel(struct cat_opener *op);
/* Listen on a stream endpoint. */
int cat_listen(struct cat_run *run, const struct cat_ep *ep,
	       sk_accept_cb on_accept, void *ud, sk_listener **out, char *err,
	       size_t errsz);
/* Wrap an accepted connection as a held stream. */
struct cat_stream *cat_stream_accepted(sk_conn *c);
/* Hold conn c as part of st (no reading; its end goes to st->lost). */
void cat_stream_hold(struct cat_stream *st, sk_conn *c);
/* Close what a stream still has, without further callbacks, and free it. */
void cat_stream_discard(struct cat_stream *st);
int cat_tls_setup(struct cat_run *run);

/* exec.c */
int cat_exec_spawn(struct cat_run *run, const char *cmd, bool shell,
		   struct cat_stream *st, char *err, size_t errsz);
/* The session is over: give the child a moment, then SIGTERM, SIGKILL. */
void cat_child_release(struct cat_child *ch);
void cat_exec_free(struct cat_run *run);

/* broker.c */
int cat_broker_start(struct cat_run *run);
void cat_broker_free(struct cat_run *run);

/* ---- joining two streams (pump.c, dbridge.c) ------------------------------ */

struct cat_join_cfg {
	bool hex;
	long quit_ms;           /* after EOF from a side in quit_mask (-1 never) */
	unsigned quit_mask;     /* bit s: EOF from side s starts the quit clock */
	unsigned eof_ends_mask; /* bit s: EOF from side s ends the join */
	bool dg_errors_fatal;   /* dbridge: a socket error ends the join */
	bool dg_lock;           /* dbridge: the first sender is the only peer */
	const struct cat_acl *allow, *deny; /* dbridge: datagram senders */
};

/* err is 0 for a clean end, else the first error with its message. */
typedef void (*cat_join_done_cb)(void *ud, int err, const char *msg);

struct cat_pump;
/* Join stream sides a (side 0) and b (side 1): their connections get the
 * pump's callbacks and start reading. */
int cat_pump_start(sk_loop *loop, const struct cat_join_cfg *cfg,
		   struct cat_stream *a, struct cat_stream *b,
		   cat_join_done_cb done, void *ud, struct cat_pump **out);
void cat_pump_bytes(const struct cat_pump *p, uint64_t bytes[2]);
/* Releases the pump; its connections are the loop's (teardown) or closed. */
void cat_pump_free(struct cat_pump *p);

struct cat_dbridge;
/* Join a byte stream and a datagram stream; side numbers as in the pump. */
int cat_dbridge_start(sk_loop *loop, const struct cat_join_cfg *cfg,
		      struct cat_stream *a, struct cat_stream *b,
		      cat_join_done_cb done, void *ud, struct cat_dbridge **out);
void cat_dbridge_bytes(const struct cat_dbridge *b, uint64_t bytes[2]);
void cat_dbridge_free(struct cat_dbridge *b);
/* The receive callback every datagram stream is opened with; it does
 * nothing until a bridge owns the socket. */
void cat_dbridge_recv(sk_dgram *d, const uint8_t *p, size_t n,
		      const struct sk_addr *from, void *ud);

/* ---- hex dumps (hexdump.c) ------------------------------------------------ */

#define CAT_HEXLINE 96
/* One `hexdump -C` style line of up to 16 bytes, with a direction mark:
 * "> 00000010  68 65 6c 6c 6f 0a   ...   |hello.|\n".  Returns its length. */
size_t cat_hexdump_line(char *out, char mark, uint64_t off, const uint8_t *p,
			size_t n);
/* Dump p[0..n) to f as lines starting at *off; advances *off. */
void cat_hexdump(FILE *f, char mark, uint64_t *off, const uint8_t *p, size_t n);

#endif
