/*
 * src/irc/daemon.h - the ircd process: the loop, listeners, connections
 * and signals around one struct irc_server (client.c, ircd_main.c).
 *
 * Each accepted connection gets a struct ircd_conn, which is the sink
 * context of its irc_client.  The connection owns the ircd_conn: it is
 * freed in on_close.  The irc_client is the server's: when the server lets
 * go of it (sink close) ic->cl becomes NULL and the connection finishes
 * closing on its own; when the connection ends first, on_close hands the
 * client back with irc_client_gone().
 */
#ifndef SK_IRC_DAEMON_H
#define SK_IRC_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "irc/htab.h"
#include "irc/server.h"
#include "sockit/sockit.h"

struct ircd_ip;

/* Why a connection's input waits. */
enum {
	IC_RUN = 0,       /* lines are handled as they come */
	IC_YIELD,         /* used its lines for this turn: reading paused
			   * until the next loop iteration (fairness) */
	IC_THROTTLE,      /* out of flood credit: still read (so a flood past
			   * recvq is caught), handled when credit returns */
};

struct ircd_conn {
	struct ircd *d;
	sk_conn *conn;
	struct irc_client *cl;       /* NULL once the server let go */
	struct ircd_ip *ip;          /* per-address count, NULL: not counted */
	struct ircd_conn *next, *prev;   /* d->conns */
	struct ircd_conn *wnext, *wprev; /* d->throttled or d->yielded */
	uint64_t closing_since;      /* loop time the close began */
	bool closing;                /* the server let go: draining, then closed */
	uint8_t wait;                /* IC_RUN, IC_YIELD or IC_THROTTLE */
	bool discarding;             /* skipping the rest of an over-long line */
};

struct ircd {
	sk_loop *loop;
	struct irc_server *srv;
	sk_listener **listeners;
	size_t nlisteners;
	sk_tls_ctx *tls;
	sk_timer *tick;              /* every second: timeouts */
	sk_timer *flood;             /* while anyone is throttled */
	sk_timer *resume;            /* next iteration: yielded conns read on */
	sk_signal *sig[3];           /* SIGTERM, SIGINT, SIGHUP */
	sk_timer *stop_timer;        /* shutdown deadline */
	struct ircd_conn *conns;
	struct ircd_conn *throttled;
	struct ircd_conn *yielded;
	unsigned nconns;
	struct irc_htab ips;
	bool stopping;
	uint64_t warn_at;            /* last rate-limited warning (loop ms) */
	unsigned warn_dropped;       /* warnings suppressed since */
	/* for SIGHUP: how the config was made */
	const char *config_path;
	char **overrides;            /* "key=value", in order */
	size_t noverrides;
	bool listen_override;
};

/* client.c */
int ircd_listen_all(struct ircd *d);
void ircd_close_listeners(struct ircd *d);
int ircd_timers_start(struct ircd *d);
void ircd_shutdown(struct ircd *d, const char *reason);
void ircd_free_io(struct ircd *d);
/* Wall clock in milliseconds. */
int64_t ircd_wall_ms(void);

#endif
