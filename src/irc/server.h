/*
 * src/irc/server.h - the IRC server's state machine: clients, channels,
 * command dispatch and replies, with no sockets in sight.
 *
 * The I/O layer (client.c) owns connections; for each one it creates a
 * client here with a *sink*, the two functions through which the server
 * writes bytes to that client and asks for it to be closed.  Production
 * sinks queue on an sk_conn; tests and the fuzz target append to a buffer.
 * Input goes the other way: one line at a time, through irc_server_line().
 * Time comes in through irc_server_set_time(), so a test can drive
 * timeouts without waiting.
 *
 * Lifetimes:
 * - A client lives from irc_client_new() until it quits (QUIT, KILL, a
 *   timeout, a full send queue, or irc_client_gone() when its connection
 *   ended).  Quitting tells the sink to close (once) and *then* frees the
 *   client at the next reap point: the end of irc_server_line(),
 *   irc_server_tick() and the other entry points.  So inside one command
 *   every client pointer stays valid; across calls, hold the client only
 *   while its sink has not been closed.
 * - A send that would overflow a client's send queue never frees anything
 *   on the spot: the client is queued for "Max SendQ exceeded" and quits at
 *   the reap point, so fan-out loops never see the member list change.
 * - Channels live while they have members.
 */
#ifndef SK_IRC_SERVER_H
#define SK_IRC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc/casemap.h"
#include "irc/config.h"
#include "irc/htab.h"
#include "irc/modes.h"
#include "irc/proto.h"
#include "sockit/buf.h"

#define IRC_VERSION "sockit-ircd-0.1"

/* Handler results (ngircd's CONNECTED/DISCONNECTED). */
enum { IRC_CONTINUE = 0, IRC_CLOSED = 1 };

struct irc_sink_ops {
	/* Queue n bytes for the client.  <0 when they cannot be queued
	 * (the send queue is full): the server then quits the client. */
	int (*write)(void *ctx, const void *p, size_t n);
	/* The server is done with the client; called exactly once.  graceful:
	 * send what is queued first (the ERROR line).  After this call the
	 * server never uses ctx again. */
	void (*close)(void *ctx, bool graceful);
};

/* ---- capabilities (IRCv3) ------------------------------------------------ */
enum {
	IRC_CAP_MESSAGE_TAGS = 1u << 0,
	IRC_CAP_SERVER_TIME = 1u << 1,
	IRC_CAP_ECHO_MESSAGE = 1u << 2,
	IRC_CAP_MULTI_PREFIX = 1u << 3,
	IRC_CAP_USERHOST_IN_NAMES = 1u << 4,
	IRC_CAP_AWAY_NOTIFY = 1u << 5,
	IRC_CAP_ACCOUNT_NOTIFY = 1u << 6,
	IRC_CAP_EXTENDED_JOIN = 1u << 7,
	IRC_CAP_INVITE_NOTIFY = 1u << 8,
	IRC_CAP_CAP_NOTIFY = 1u << 9,
	IRC_CAP_SETNAME = 1u << 10,
	IRC_CAP_BATCH = 1u << 11,
	IRC_CAP_LABELED_RESPONSE = 1u << 12,
	IRC_CAP_STANDARD_REPLIES = 1u << 13,
	IRC_CAP_CHGHOST = 1u << 14,
	IRC_CAP_EXTENDED_MONITOR = 1u << 15,
};

/* ---- clients ---------------------------------------------------------------- */
enum {
	IRC_CF_NICK = 1u << 0,     /* NICK given (nick is in the table) */
	IRC_CF_USER = 1u << 1,     /* USER given */
	IRC_CF_CAPNEG = 1u << 2,   /* CAP LS/REQ before registering: wait
				    * for CAP END */
	IRC_CF_REG = 1u << 3,      /* registered (001 sent) */
	IRC_CF_PASS = 1u << 4,     /* the right PASS was given */
	IRC_CF_DEAD = 1u << 5,     /* quit: no more output, freed at reap */
	IRC_CF_PINGED = 1u << 6,   /* the server's PING is unanswered */
	IRC_CF_KILLQ = 1u << 7,    /* queued to quit at the reap point */
	IRC_CF_TLS = 1u << 8,      /* connected over TLS */
	IRC_CF_BADPASS = 1u << 9,  /* a wrong PASS was given */
	IRC_CF_CAP302 = 1u << 10,  /* CAP LS 302 (or later) seen */
};

enum {
	IRC_UMODE_I = 1u << 0,     /* invisible */
	IRC_UMODE_O = 1u << 1,     /* operator */
	IRC_UMODE_W = 1u << 2,     /* receives WALLOPS */
	IRC_UMODE_B = 1u << 3,     /* a bot (BOT=B) */
};

#define IRC_MONITOR_MAX 100        /* MONITOR= */

struct irc_watch;

struct irc_member;

struct irc_client {
	struct irc_hnode hnick;      /* in srv->nicks while IRC_CF_NICK */
	struct irc_client *next, *prev; /* srv->clients */
	struct irc_client *kill_next; /* srv->killq */
	uint64_t id;                 /* unique for the server's lifetime */
	const struct irc_sink_ops *sink;
	void *sink_ctx;
	uint32_t flags;              /* IRC_CF_* */
	uint32_t caps;               /* IRC_CAP_* enabled */
	uint32_t mark;               /* fan-out de-duplication (srv->mark) */
	uint16_t umodes;             /* IRC_UMODE_* */
	uint16_t nchans;
	struct irc_member *chans;    /* memberships, newest first */
	char nick[IRC_NICKLEN_MAX + 1];
	char user[IRC_USERLEN_MAX + 2]; /* with the '~' of "no ident" */
	char host[IRC_HOSTLEN_MAX + 1]; /* the peer's address as text ("0::1"
					 * for "::1", "localhost" for a Unix
					 * socket): no reverse DNS */
	char *realname;
	char *away;                  /* NULL: here */
	char *kill_reason;           /* why it is on the kill queue */
	char *oper_name;             /* the oper block used */
	int64_t signon;              /* wall clock, seconds */
	uint64_t last_msg_ms;        /* monotonic: last PRIVMSG (WHOIS idle) */
	uint64_t last_seen_ms;       /* monotonic: last line (ping timer) */
	uint64_t created_ms;
	int64_t tokens_ms;           /* flood bucket, in ms of credit */
	uint64_t tokens_at_ms;       /* when the bucket was last refilled */
	uint64_t oper_fail_ms;       /* last failed OPER: the next waits */
	uint8_t npass;               /* PASS commands seen (hashing costs) */
	uint64_t *invites;           /* channels this client was invited to,
				      * by channel id */
	uint32_t ninvites;
	uint32_t nwatch;
	struct irc_watch **watch;    /* MONITORed nicks (monitor.c) */
};

/* A client is "registered" once 001 went out. */
static inline bool irc_client_registered(const struct irc_client *c)
{
	return (c->flags & IRC_CF_REG) != 0;
}

/* ---- channels --------------------------------------------------------------
 * The mode letters, as RPL_ISUPPORT CHANMODES announces them. */
#define IRC_CHANMODES "beI,k,l,Cimnst"

enum {
	IRC_CMODE_I = 1u << 0,     /* invite only */
	IRC_CMODE_M = 1u << 1,     /* moderated */
	IRC_CMODE_N = 1u << 2,     /* no external messages */
	IRC_CMODE_S = 1u << 3,     /* secret */
	IRC_CMODE_T = 1u << 4,     /* topic settable by ops only */
	IRC_CMODE_K = 1u << 5,     /* key set (chan->key) */
	IRC_CMODE_L = 1u << 6,     /* limit set (chan->limit) */
	IRC_CMODE_C = 1u << 7,     /* no CTCP but ACTION */
};

enum {
	IRC_PFX_V = 1u << 0,       /* voice (+) */
	IRC_PFX_O = 1u << 1,       /* operator (@) */
};

struct irc_member {
	struct irc_client *cl;
	struct irc_chan *ch;
	struct irc_member *cnext, *cprev; /* the client's list */
	uint32_t idx;                /* position in ch->mem */
	uint8_t pfx;                 /* IRC_PFX_* */
};

struct irc_listent {
	char *mask;
	char *setter;
	int64_t when;
};

struct irc_list {
	struct irc_listent *v;
	uint32_t n, cap;
};

struct irc_chan {
	struct irc_hnode hname;      /* in srv->chans */
	struct irc_chan *next, *prev; /* srv->chanlist (creation order) */
	uint64_t id;
	uint32_t modes;              /* IRC_CMODE_* */
	uint32_t limit;
	char *key;
	char *topic, *topic_who;
	int64_t topic_time, created;
	struct irc_member **mem;     /* members, unordered */
	uint32_t nmem, capmem;
	struct irc_list bans, excepts, invex;
	char name[];
};

/* ---- whowas ---------------------------------------------------------------- */
struct irc_whowas {
	char nick[IRC_NICKLEN_MAX + 1];
	char user[IRC_USERLEN_MAX + 2];
	char host[IRC_HOSTLEN_MAX + 1];
	char *realname;
	int64_t when;
};

/* ---- channel message batches ---------------------------------------------
 * Consecutive PRIVMSG/NOTICEs from one client to one channel, within one
 * read, are fanned out together: one queue append per member for the whole
 * run instead of one per message.  Any other output, command or membership
 * change flushes the batch first, so every client still sees every line in
 * the order the server made them.
 */
struct irc_batchmsg {
	uint32_t off, len;           /* the body in batch.out[0] */
	uint32_t toff, tlen;         /* client tags in batch.ctags */
	char time[28];
	char msgid[28];
};

struct irc_chanbatch {
	struct irc_chan *ch;         /* NULL: nothing pending */
	struct irc_client *from;
	struct sk_buf out[4];        /* the lines, per tag variant */
	bool built[4];
	struct irc_batchmsg *msgs;
	size_t n, cap;
	struct sk_buf ctags;
};

/* ---- the server ------------------------------------------------------------ */
#define IRC_ISUPPORT_LINES 4

struct irc_server {
	struct irc_config *cfg;      /* owned */
	struct irc_modespec chanspec; /* CHANMODES/PREFIX as announced */
	struct irc_htab nicks, chans;
	struct irc_htab watches;     /* MONITORed nicks (monitor.c) */
	const struct irc_cmd **cmds; /* every command, sorted by name */
	size_t ncmds;
	struct irc_client *clients;  /* every client, newest first */
	struct irc_chan *chanlist;
	struct irc_client *killq;    /* clients to quit at the reap point */
	struct irc_client *graveyard; /* quit, freed at the reap point */
	uint64_t next_id;
	uint32_t mark;
	unsigned nclients, nunknown, ninvisible, nopers, nchans;
	unsigned max_clients_seen;
	struct irc_whowas *whowas;   /* ring of cfg->whowas */
	size_t whowas_n, whowas_pos, whowas_cap;
	char *isupport[IRC_ISUPPORT_LINES]; /* "TOKEN TOKEN ..." per 005 line */
	size_t nisupport;
	char created[64];            /* RPL_CREATED text */
	int64_t started;             /* wall clock, seconds */
	/* time, set by the driver */
	uint64_t now_ms;             /* monotonic */
	int64_t wall_ms;             /* realtime */
	char timestamp[32];          /* server-time of wall_ms */
	int64_t timestamp_ms;
	/* scratch for formatting lines */
	struct sk_buf line, tags;
	/* labeled-response: output to label_cl is captured while a labeled
	 * command runs, then sent as ACK, one labeled line, or a batch */
	struct irc_client *label_cl;
	char label[72];
	struct sk_buf capture;
	unsigned capture_lines;
	unsigned batch_seq;
	char msgid_pfx[12];          /* random per server start */
	uint64_t msgid_seq;
	bool in_dispatch;
	bool shutting_down;
	bool batching;               /* the I/O layer calls irc_server_flush()
				      * after each read; else every line is
				      * flushed on its own */
	struct irc_chanbatch batch;
	/* REHASH: the daemon reloads its config file (NULL: none). */
	int (*rehash)(void *ud, char *err, size_t errsz);
	void *rehash_ud;
};

/* ---- lifecycle (server.c) ------------------------------------------------- */

/* A server on cfg (ownership passes to the server, also on failure).
 * 0 or SK_ENOMEM/SK_EINVAL. */
int irc_server_new(struct irc_config *cfg, struct irc_server **out);
/* Frees every client (closing each sink without a word) and channel. */
void irc_server_free(struct irc_server *s);
/* Replace the config (SIGHUP).  Ownership of cfg passes to the server. */
int irc_server_reconfigure(struct irc_server *s, struct irc_config *cfg);
void irc_server_set_time(struct irc_server *s, uint64_t mono_ms,
			 int64_t wall_ms);

/* A new connection.  ip: the peer's address as text ("127.0.0.1", "::1";
 * "" for a Unix socket).  0 or SK_ENOMEM. */
int irc_client_new(struct irc_server *s, const struct irc_sink_ops *sink,
		   void *ctx, const char *ip, bool tls, struct irc_client **out);

/* One input line (without CR/LF).  Returns IRC_CONTINUE or IRC_CLOSED (the
 * client quit during the line: it must not be used any more). *cost gets
 * the flood penalty of the command in milliseconds of credit. */
int irc_server_line(struct irc_server *s, struct irc_client *c,
		    const char *line, size_t n, unsigned *cost);

/* A line longer than the framing limit arrived (the I/O layer skips it):
 * 417 ERR_INPUTTOOLONG. */
void irc_client_too_long(struct irc_server *s, struct irc_client *c);

/* The connection ended under the server (peer closed, reset...).  The
 * sink's close is not called; the client quits with reason. */
void irc_client_gone(struct irc_server *s, struct irc_client *c,
		     const char *reason);

/* Quit a client from outside a command (flood, timeouts): like a QUIT
 * with reason, then the sink closes. */
void irc_client_kill(struct irc_server *s, struct irc_client *c,
		     const char *reason);

/* Timers: registration and ping timeouts.  Call about once a second. */
void irc_server_tick(struct irc_server *s);

/* Shutdown: every client gets "ERROR :Closing Link: ... (reason)" and its
 * sink is closed. */
void irc_server_shutdown(struct irc_server *s, const char *reason);

/* Send the pending channel batch (see struct irc_chanbatch). */
void irc_server_flush(struct irc_server *s);

/* Quit queued clients and free the dead.  Every entry point above calls
 * it; the I/O layer calls it after writing on its own. */
void irc_server_reap(struct irc_server *s);

/* ---- internals shared by the command files --------------------------------- */

/* Command table entry flags. */
enum {
	IRC_CMD_REG = 1u << 0,       /* needs registration (else 451) */
	IRC_CMD_OPER = 1u << 1,      /* needs +o (else 481) */
	IRC_CMD_ANY = 1u << 2,       /* also before registration */
	IRC_CMD_BATCH = 1u << 3,     /* may join a channel batch (no flush) */
};

typedef int (*irc_cmd_fn)(struct irc_server *s, struct irc_client *c,
			  struct irc_msg *m);

struct irc_cmd {
	const char *name;
	irc_cmd_fn fn;
	uint8_t min_params;
	uint8_t flags;
	uint16_t penalty_ms;         /* flood credit the command costs */
};

/* Each command file exports its table. */
extern const struct irc_cmd irc_cmds_login[], irc_cmds_channel[],
	irc_cmds_mode[], irc_cmds_msg[], irc_cmds_info[], irc_cmds_who[],
	irc_cmds_oper[], irc_cmds_caps[], irc_cmds_monitor[], irc_cmds_help[];

/* Quit c now (inside a command): QUIT to its channels, whowas, ERROR
 * "Closing Link", sink close.  The memory is freed at the reap point. */
void irc_quit(struct irc_server *s, struct irc_client *c, const char *reason,
	      bool error_line);
/* Queue c to quit at the reap point (safe inside any loop). */
void irc_kill_later(struct irc_server *s, struct irc_client *c,
		    const char *reason);

struct irc_client *irc_find_nick(struct irc_server *s, const char *nick,
				 size_t n);
struct irc_chan *irc_find_chan(struct irc_server *s, const char *name,
			       size_t n);
/* Change (or set for the first time) a client's nick in the table. */
int irc_set_nick(struct irc_server *s, struct irc_client *c, const char *nick,
		 size_t n);
/* Try to finish registration (NICK, USER, CAP END): welcome burst. */
int irc_try_register(struct irc_server *s, struct irc_client *c);

/* Channels (server.c). */
struct irc_chan *irc_chan_new(struct irc_server *s, const char *name,
			      size_t n);
struct irc_member *irc_chan_join(struct irc_server *s, struct irc_chan *ch,
				 struct irc_client *c, uint8_t pfx);
/* Free ch if it has no members. */
void irc_chan_gc(struct irc_server *s, struct irc_chan *ch);
/* Remove a membership; frees the channel when it empties. */
void irc_chan_leave(struct irc_server *s, struct irc_member *m);
struct irc_member *irc_member_of(const struct irc_client *c,
				 const struct irc_chan *ch);
bool irc_chan_is_banned(struct irc_server *s, struct irc_chan *ch,
			struct irc_client *c);
bool irc_list_match(struct irc_server *s, const struct irc_list *l,
		    const struct irc_client *c);
bool irc_client_invited(const struct irc_client *c, const struct irc_chan *ch);
void irc_client_uninvite(struct irc_client *c, const struct irc_chan *ch);
void irc_whowas_add(struct irc_server *s, const struct irc_client *c);

/* nick!user@host of c into buf (size >= 160). */
const char *irc_prefix(const struct irc_client *c, char *buf, size_t n);
#define IRC_PREFIX_MAX (IRC_NICKLEN_MAX + IRC_USERLEN_MAX + IRC_HOSTLEN_MAX + 8)

/* ---- output (send.c) ----------------------------------------------------------
 * Every byte to a client goes through irc_send_tb(): it applies the
 * labeled-response capture and turns a full send queue into a queued
 * "Max SendQ exceeded" quit.
 */
void irc_send_tb(struct irc_server *s, struct irc_client *c, const char *tags,
		 size_t tn, const char *body, size_t bn);

/* A line with a source, formatted with printf: "CMD params" after
 * ":source ".  The time tag is added per the client's caps. */
void irc_sendf(struct irc_server *s, struct irc_client *c, const char *source,
	       const char *fmt, ...) SK_PRINTF(4, 5);
/* A numeric from the server to c: "<code> <nick> " + fmt. */
void irc_num(struct irc_server *s, struct irc_client *c, int code,
	     const char *fmt, ...) SK_PRINTF(4, 5);
/* FAIL/WARN/NOTE standard reply: to clients with standard-replies; others
 * get fallback_code (a numeric, 0 for none) with the description. */
void irc_std_reply(struct irc_server *s, struct irc_client *c,
		   const char *type, const char *command, const char *code,
		   const char *context, const char *desc);
/* A server NOTICE to c. */
void irc_notice(struct irc_server *s, struct irc_client *c, const char *fmt,
		...) SK_PRINTF(3, 4);

/* One message fanned out to many clients, formatted once per tag variant
 * (none, time, client tags, both). */
struct irc_bcast {
	struct irc_server *s;
	const char *body;            /* ":src CMD ...\r\n" */
	size_t blen;
	const char *ctags;           /* client tags (escaped, no '@'), or NULL */
	size_t clen;
	struct sk_buf pre[4];        /* "@...  " prefixes per variant */
	bool built[4];
	bool tagged;                 /* a message: msgid and client tags go
				      * to message-tags clients */
	bool bot;                    /* from a +B client: the "bot" tag */
	char msgid[32];
	uint32_t need_caps;          /* only clients with all of these */
	uint32_t skip_caps;          /* not to clients with any of these */
};

/* Format a broadcast body; 0, or <0 when it cannot be formatted. */
int irc_bcast_init(struct irc_bcast *b, struct irc_server *s,
		   const char *ctags, size_t clen, const char *source,
		   const char *fmt, ...) SK_PRINTF(6, 7);
void irc_bcast_to(struct irc_bcast *b, struct irc_client *c);
/* Bypass the labeled capture: the copy of a message a client sends to
 * itself is a delivery, not a response (the echo is the response). */
void irc_bcast_direct(struct irc_bcast *b, struct irc_client *c);
void irc_send_direct(struct irc_server *s, struct irc_client *c,
		     const char *tags, size_t tn, const char *body, size_t bn);
/* To every member of ch except `except` (NULL: none). */
void irc_bcast_chan(struct irc_bcast *b, struct irc_chan *ch,
		    struct irc_client *except);
/* To c and to everyone sharing a channel with c, once each.  self: also
 * to c itself. */
void irc_bcast_common(struct irc_bcast *b, struct irc_client *c, bool self);
void irc_bcast_free(struct irc_bcast *b);

/* Queue one channel message from `from` (source: its prefix) into the
 * batch; a batch for another channel or sender is flushed first. */
void irc_batch_add(struct irc_server *s, struct irc_client *from,
		   struct irc_chan *ch, const char *ctags, size_t clen,
		   const char *source, const char *fmt, ...) SK_PRINTF(7, 8);

/* The current server-time text ("2024-05-01T12:00:00.000Z"). */
const char *irc_server_time(struct irc_server *s);

/* Labeled responses: begin capturing output to c for label, and end
 * (send ACK / the line / a batch).  dispatch does this. */
void irc_label_begin(struct irc_server *s, struct irc_client *c,
		     const char *label, size_t n);
void irc_label_end(struct irc_server *s);

/* ---- helpers used by several command files ---------------------------------- */

/* The prefix characters of a membership ("@", "@+" with multi-prefix). */
const char *irc_member_prefix(const struct irc_member *m, bool multi,
			      char buf[4]);
/* Channel modes as "+ntk key" for RPL_CHANNELMODEIS (with arguments when
 * show_args). */
void irc_chan_modestr(const struct irc_chan *ch, bool show_args, char *buf,
		      size_t n);
/* User modes "+iw". */
void irc_umode_str(const struct irc_client *c, char *buf, size_t n);
/* Send the NAMES reply for one channel (353s and 366). */
void irc_send_names(struct irc_server *s, struct irc_client *c,
		    struct irc_chan *ch);
void irc_send_lusers(struct irc_server *s, struct irc_client *c);
void irc_send_motd(struct irc_server *s, struct irc_client *c);
void irc_send_isupport(struct irc_server *s, struct irc_client *c);
/* Send the topic of ch (332 + 333, or 331 when none and `none`). */
void irc_send_topic(struct irc_server *s, struct irc_client *c,
		    struct irc_chan *ch, bool none);
/* The IRC_CAP_* bit of a capability name, 0 if unknown (caps.c). */
uint32_t irc_cap_bit(const char *name, size_t n);
/* Validate and copy a parameter (C string into buf); false if too long. */
bool irc_param(const struct irc_msg *m, size_t i, char *buf, size_t n);
/* A membership's channel visible to viewer (not +s, or viewer a member). */
bool irc_chan_visible(const struct irc_chan *ch, const struct irc_client *viewer);
/* Does c share a channel with other? */
bool irc_share_chan(const struct irc_client *c, const struct irc_client *other);
/* MONITOR (monitor.c): tell watchers that c came online (registered, or
 * took a new nick) or that nick went offline; drop c's own watches (on
 * quit); and deliver a broadcast that irc_bcast_common() just sent to the
 * extended-monitor watchers it did not reach. */
void irc_monitor_online(struct irc_server *s, struct irc_client *c);
void irc_monitor_offline(struct irc_server *s, const char *nick);
void irc_monitor_drop(struct irc_server *s, struct irc_client *c);
void irc_monitor_extend(struct irc_bcast *b, struct irc_client *c);
/* Is s[0..n) valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF)? */
bool irc_utf8_valid(const char *s, size_t n);
/* Rebuild RPL_ISUPPORT after a config change. */
int irc_isupport_build(struct irc_server *s);

#endif
