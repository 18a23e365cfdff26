/*
 * src/bt/client.h - one torrent being downloaded and seeded: the parts of
 * `sockit bt get` / `sockit bt seed` and how they share state.
 *
 *   torrent.c  the swarm's logic: storage, picker, verification of every
 *              piece (incremental SHA-1 while blocks arrive in order),
 *              HAVE broadcasts, strikes and bans, the choking round,
 *              completion and seeding limits, statistics
 *   net.c      sockets: the peer listener, outgoing connections (bound
 *              to the listen IP), the connection callbacks that feed the
 *              sessions, upload/download rate limits, candidate peers
 *   get.c      the commands: options, signals, the progress line, exit
 *
 * Everything runs on one loop thread.  A peer connection (struct
 * bt_pconn) owns a protocol session (peer.h); closing it gives the
 * session's requests back to the picker at once, and the memory goes when
 * the connection's on_close has run.
 */
#ifndef SK_BT_CLIENT_H
#define SK_BT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bt/choker.h"
#include "bt/metainfo.h"
#include "bt/peer.h"
#include "bt/picker.h"
#include "bt/storage.h"
#include "bt/tracker_client.h"
#include "sockit/sockit.h"

/* Exit codes of `bt get` and `bt seed` (also in their --help). */
enum {
	BT_EXIT_OK = 0,         /* complete (and seeding limits reached or stopped) */
	BT_EXIT_ERROR = 1,      /* runtime error: torrent, disk, listen address */
	BT_EXIT_USAGE = 2,
	BT_EXIT_INCOMPLETE = 3, /* stopped by a signal before the download completed */
	BT_EXIT_BADDATA = 4,    /* seed: the data on disk does not match the torrent */
};

struct bt_client_opts {
	const char *torrent;
	const char *dir;          /* download directory (".") */
	const char *listen;       /* peer listener IP:PORT (0.0.0.0:6881) */
	const char *announce_ip;  /* address given to the tracker */
	const char *on_complete;  /* shell command run when the download completes */
	uint64_t max_down, max_up; /* bytes/s, 0: unlimited */
	unsigned max_peers;       /* connections (default 50) */
	unsigned slots;           /* upload slots (default 4) */
	double seed_ratio;        /* stop seeding at this ratio, < 0: never */
	int64_t seed_time;        /* seconds of seeding, < 0: until stopped */
	bool seed_only;           /* `bt seed`: the data must be complete */
	bool falloc;              /* allocate files fully */
	bool corrupt_uploads;     /* TEST ONLY: corrupt every block we upload */
	bool no_progress;
	unsigned progress_ms;     /* progress line period */
};

struct bt_pconn {
	struct bt_client *cl;
	struct bt_psess s;
	sk_conn *c;
	struct sk_addr addr;
	char name[SK_ADDR_STRLEN];
	struct bt_known *known;   /* the candidate this came from, if any */
	unsigned strikes;         /* shares of failed pieces */
	bool open;                /* connected (outgoing: on_open ran) */
	bool closing;
	bool read_paused;         /* download rate limit */
	struct bt_pconn *prev, *next;
};

/* A peer address we may connect to (from trackers or --peers). */
struct bt_known {
	struct sk_addr addr;
	uint64_t next_try;
	unsigned fails;
	bool connected, self;
};

struct bt_bucket {
	uint64_t rate;   /* bytes per second, 0: unlimited */
	int64_t tokens;
};

struct bt_verify; /* verify.h */

struct bt_client {
	sk_loop *loop;
	struct bt_client_opts o;
	struct bt_metainfo m;
	struct bt_storage st;
	struct bt_picker pk;
	struct bt_swarm sw;
	struct bt_choker ch;
	struct bt_tc *tc;
	struct bt_verify *verify; /* piece checks on a thread; NULL when seeding */

	struct bt_pconn peers;    /* list head */
	unsigned npeers;
	uint32_t next_id;
	struct bt_known *known;
	size_t nknown, capknown;
	struct sk_addr *banned;
	size_t nbanned, capbanned;

	sk_listener *l;
	char bind[SK_ADDR_STRLEN]; /* "IP:0" for outgoing sockets, "" any */
	char bind_ip[SK_ADDR_STRLEN];
	struct sk_addr self;       /* our listening address */
	sk_timer *fast_tick, *tick, *choke_tick, *stop_timer;
	struct bt_bucket up, down;
	uint64_t last_rates, last_progress, last_sync, last_want;

	/* statistics */
	uint64_t downloaded, uploaded;      /* payload, this run */
	uint64_t pieces_fetched, bad_pieces, pieces_resumed;
	uint64_t started_ms, completed_ms, seeding_since;
	bool complete, stopping;
	int exit_code;
	pid_t hook_pid;           /* --on-complete still running */
};

/* torrent.c */
int bt_client_init(struct bt_client *cl, sk_loop *loop,
		   const struct bt_client_opts *o);
void bt_client_free(struct bt_client *cl);
void bt_client_stop(struct bt_client *cl, int exit_code);
void bt_client_choke_round(struct bt_client *cl);
void bt_client_second(struct bt_client *cl);
bool bt_client_banned(const struct bt_client *cl, const struct sk_addr *a);
extern const struct bt_swarm_ops bt_client_ops;

/* net.c */
int bt_net_start(struct bt_client *cl);
void bt_net_stop(struct bt_client *cl);
void bt_net_add_peers(struct bt_client *cl, const struct bt_peer *v, size_t n);
int bt_net_add_peer_str(struct bt_client *cl, const char *addr);
void bt_net_connect_more(struct bt_client *cl);
void bt_net_drop(struct bt_pconn *pc, const char *why);
void bt_net_flush(struct bt_pconn *pc);
void bt_net_serve(struct bt_pconn *pc);
void bt_net_fast_tick(struct bt_client *cl);

#define BT_FOREACH_PEER(cl, pc, nx)                                             \
	for (struct bt_pconn *pc = (cl)->peers.next, *nx = pc->next;           \
	     pc != &(cl)->peers; pc = nx, nx = pc->next)

#endif
