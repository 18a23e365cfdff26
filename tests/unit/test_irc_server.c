/*
 * tests/unit/test_irc_server.c - the IRC server's state machine driven
 * through buffer sinks: no sockets, time set by hand.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "irc/numerics.h"
#include "irc/server.h"
#include "test.h"

struct fake {
	struct sk_buf out;
	struct irc_client *cl;
	bool closed, graceful;
};

static int fake_write(void *ctx, const void *p, size_t n)
{
	struct fake *f = ctx;
	return sk_buf_append(&f->out, p, n);
}

static void fake_close(void *ctx, bool graceful)
{
	struct fake *f = ctx;
	f->closed = true;
	f->graceful = graceful;
	f->cl = NULL;
}

static const struct irc_sink_ops fake_ops = {fake_write, fake_close};

#define MAXF 16
static struct fake fakes[MAXF];
static size_t nfakes;
static uint64_t now_ms = 1000000;

static struct irc_server *server_with(void (*tweak)(struct irc_config *))
{
	struct irc_config *cfg = malloc(sizeof *cfg);
	ASSERT(cfg);
	ASSERT_OK(irc_config_defaults(cfg));
	char err[128];
	ASSERT_OK(irc_config_set(cfg, "server_name", "irc.test", err, sizeof err));
	if (tweak)
		tweak(cfg);
	struct irc_server *s;
	ASSERT_OK(irc_server_new(cfg, &s));
	irc_server_set_time(s, now_ms, 1700000000000);
	nfakes = 0;
	return s;
}

static void server_done(struct irc_server *s)
{
	irc_server_free(s);
	for (size_t i = 0; i < nfakes; i++)
		sk_buf_free(&fakes[i].out);
	nfakes = 0;
}

static struct fake *connect_fake(struct irc_server *s, size_t sendq)
{
	ASSERT(nfakes < MAXF);
	struct fake *f = &fakes[nfakes++];
	memset(f, 0, sizeof *f);
	sk_buf_init(&f->out, sendq ? sendq : 1 << 20);
	ASSERT_OK(irc_client_new(s, &fake_ops, f, "127.0.0.1", false, &f->cl));
	return f;
}

static int sendl(struct irc_server *s, struct fake *f, const char *fmt, ...)
	SK_PRINTF(3, 4);
static int sendl(struct irc_server *s, struct fake *f, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ASSERT(f->cl);
	unsigned cost;
	return irc_server_line(s, f->cl, line, (size_t)n, &cost);
}

/* The output so far as a C string (the buffer stays as it is). */
static const char *out(struct fake *f)
{
	static char buf[1 << 16];
	size_t n = sk_buf_len(&f->out) < sizeof buf - 1 ? sk_buf_len(&f->out)
							: sizeof buf - 1;
	memcpy(buf, sk_buf_data(&f->out), n);
	buf[n] = '\0';
	return buf;
}

static bool has(struct fake *f, const char *needle)
{
	return strstr(out(f), needle) != NULL;
}

#define ASSERT_HAS(f, s)                                                       \
	do {                                                                   \
		if (!has((f), (s)))                                            \
			FAIL("missing \"%s\" in output:\n%s", (s), out(f));   \
	} while (0)
#define ASSERT_HASNT(f, s)                                                     \
	do {                                                                   \
		if (has((f), (s)))                                             \
			FAIL("unexpected \"%s\" in output:\n%s", (s), out(f)); \
	} while (0)

static void clear(struct fake *f) { sk_buf_clear(&f->out); }

static struct fake *user(struct irc_server *s, const char *nick)
{
	struct fake *f = connect_fake(s, 0);
	sendl(s, f, "NICK %s", nick);
	sendl(s, f, "USER u 0 * :Real Name");
	ASSERT_HAS(f, " 001 ");
	clear(f);
	return f;
}

/* ---- registration ------------------------------------------------------------ */

TEST(register_plain)
{
	struct irc_server *s = server_with(NULL);
	struct fake *f = connect_fake(s, 0);
	sendl(s, f, "NICK alice");
	ASSERT_EQ(sk_buf_len(&f->out), 0);
	sendl(s, f, "USER al 0 * :Alice A");
	ASSERT_HAS(f, ":irc.test 001 alice :Welcome to the SockitNet IRC Network "
		      "alice!~al@127.0.0.1\r\n");
	ASSERT_HAS(f, ":irc.test 004 alice irc.test ");
	ASSERT_HAS(f, " 005 alice ");
	ASSERT_HAS(f, "CASEMAPPING=rfc1459");
	ASSERT_HAS(f, "PREFIX=(ov)@+");
	ASSERT_HAS(f, "NICKLEN=30");
	ASSERT_HAS(f, ":irc.test 251 alice :There are 1 users and 0 invisible");
	ASSERT_HAS(f, " 376 alice :End of /MOTD command\r\n");
	ASSERT(irc_client_registered(f->cl));
	clear(f);
	sendl(s, f, "USER again 0 * :x");
	ASSERT_HAS(f, " 462 alice :");
	server_done(s);
}

TEST(register_cap)
{
	struct irc_server *s = server_with(NULL);
	struct fake *f = connect_fake(s, 0);
	sendl(s, f, "CAP LS 302");
	ASSERT_HAS(f, "CAP * LS :");
	ASSERT_HAS(f, "labeled-response");
	sendl(s, f, "NICK bob");
	sendl(s, f, "USER b 0 * :Bob");
	ASSERT_HASNT(f, " 001 ");
	sendl(s, f, "CAP REQ :multi-prefix bogus");
	ASSERT_HAS(f, "CAP bob NAK :multi-prefix bogus\r\n");
	sendl(s, f, "CAP REQ :multi-prefix server-time");
	ASSERT_HAS(f, "CAP bob ACK :multi-prefix server-time\r\n");
	clear(f);
	sendl(s, f, "CAP LIST");
	ASSERT_HAS(f, "CAP bob LIST :cap-notify multi-prefix server-time\r\n");
	sendl(s, f, "CAP REQ :-server-time");
	sendl(s, f, "CAP END");
	ASSERT_HAS(f, " 001 bob ");
	ASSERT_EQ(f->cl->caps, IRC_CAP_MULTI_PREFIX | IRC_CAP_CAP_NOTIFY);
	clear(f);
	sendl(s, f, "CAP FOO");
	ASSERT_HAS(f, " 410 bob FOO :Invalid CAP command\r\n");
	server_done(s);
}

static void with_password(struct irc_config *c)
{
	char err[64];
	ASSERT_OK(irc_config_set(c, "password", "sesame", err, sizeof err));
}

TEST(register_password)
{
	struct irc_server *s = server_with(with_password);
	struct fake *good = connect_fake(s, 0), *bad = connect_fake(s, 0);
	sendl(s, good, "PASS sesame");
	sendl(s, good, "NICK good");
	sendl(s, good, "USER g 0 * :G");
	ASSERT_HAS(good, " 001 good ");
	sendl(s, bad, "PASS wrong");
	sendl(s, bad, "NICK bad");
	ASSERT_EQ(sendl(s, bad, "USER b 0 * :B"), IRC_CLOSED);
	ASSERT_HAS(bad, " 464 bad :Password incorrect\r\n");
	ASSERT_HAS(bad, "ERROR :Closing Link: 127.0.0.1 (Bad password)\r\n");
	ASSERT(bad->closed && bad->graceful);
	server_done(s);
}

TEST(nick_rules)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice");
	struct fake *b = connect_fake(s, 0);
	sendl(s, b, "NICK ALICE");
	ASSERT_HAS(b, " 433 * ALICE :Nickname is already in use\r\n");
	sendl(s, b, "NICK 9lives");
	ASSERT_HAS(b, " 432 * 9lives :Erroneous nickname\r\n");
	sendl(s, b, "NICK");
	ASSERT_HAS(b, " 431 * :No nickname given\r\n");
	sendl(s, b, "NICK bob");
	sendl(s, b, "USER b 0 * :B");
	ASSERT_HAS(b, " 001 bob ");
	sendl(s, a, "JOIN #c");
	sendl(s, b, "JOIN #c");
	clear(a);
	clear(b);
	/* A case change is allowed, and everyone sharing a channel sees it. */
	sendl(s, a, "NICK Alice");
	ASSERT_HAS(a, ":alice!~u@127.0.0.1 NICK :Alice\r\n");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 NICK :Alice\r\n");
	clear(a);
	sendl(s, a, "NICK Alice");
	ASSERT_EQ(sk_buf_len(&a->out), 0);
	/* The old nick is free again. */
	sendl(s, a, "NICK carol");
	struct fake *c = user(s, "alice");
	ASSERT(c->cl);
	server_done(s);
}

TEST(timeouts)
{
	struct irc_server *s = server_with(NULL);
	struct fake *lazy = connect_fake(s, 0);
	struct fake *a = user(s, "alice");
	irc_server_set_time(s, now_ms + 59000, 1700000059000);
	irc_server_tick(s);
	ASSERT(!lazy->closed);
	irc_server_set_time(s, now_ms + 61000, 1700000061000);
	irc_server_tick(s);
	ASSERT(lazy->closed);
	ASSERT_HAS(lazy, "ERROR :Closing Link: 127.0.0.1 (Registration timed out)");
	/* 120 s idle: a PING; 60 s more without a word: gone. */
	irc_server_set_time(s, now_ms + 125000, 1700000125000);
	irc_server_tick(s);
	ASSERT_HAS(a, "PING :irc.test\r\n");
	ASSERT(!a->closed);
	irc_server_set_time(s, now_ms + 185000, 1700000185000);
	irc_server_tick(s);
	ASSERT(a->closed);
	ASSERT_HAS(a, "(Ping timeout: 185 seconds)");
	server_done(s);
}

/* ---- channels ---------------------------------------------------------------- */

TEST(channel_life)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice"), *b = user(s, "bob");
	sendl(s, a, "JOIN #Chat");
	ASSERT_HAS(a, ":alice!~u@127.0.0.1 JOIN #Chat\r\n");
	ASSERT_HAS(a, ":irc.test 353 alice = #Chat :@alice\r\n");
	ASSERT_HAS(a, ":irc.test 366 alice #Chat :End of /NAMES list\r\n");
	clear(a);
	sendl(s, b, "JOIN #chat");
	ASSERT_HAS(a, ":bob!~u@127.0.0.1 JOIN #Chat\r\n");
	ASSERT_HAS(b, "353 bob = #Chat :");
	ASSERT_HAS(b, "@alice");
	clear(a);
	clear(b);
	sendl(s, b, "PRIVMSG #CHAT :hello there");
	ASSERT_HAS(a, ":bob!~u@127.0.0.1 PRIVMSG #Chat :hello there\r\n");
	ASSERT_EQ(sk_buf_len(&b->out), 0);
	sendl(s, a, "TOPIC #chat :new topic");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 TOPIC #Chat :new topic\r\n");
	clear(b);
	sendl(s, b, "TOPIC #chat");
	ASSERT_HAS(b, " 332 bob #Chat :new topic\r\n");
	ASSERT_HAS(b, " 333 bob #Chat alice!~u@127.0.0.1 1700000000\r\n");
	clear(b);
	sendl(s, b, "LIST");
	ASSERT_HAS(b, " 322 bob #Chat 2 :new topic\r\n");
	ASSERT_HAS(b, " 323 bob :End of /LIST\r\n");
	clear(a);
	sendl(s, b, "PART #chat :later");
	ASSERT_HAS(a, ":bob!~u@127.0.0.1 PART #Chat :later\r\n");
	sendl(s, a, "JOIN 0");
	ASSERT_HAS(a, ":alice!~u@127.0.0.1 PART #Chat\r\n");
	ASSERT_EQ(s->nchans, 0);
	ASSERT(irc_find_chan(s, "#chat", 5) == NULL);
	clear(b);
	sendl(s, b, "NAMES #chat");
	ASSERT_HAS(b, " 366 bob #chat :End of /NAMES list\r\n");
	server_done(s);
}

TEST(modes_and_bans)
{
	struct irc_server *s = server_with(NULL);
	struct fake *op = user(s, "op"), *b = user(s, "bob"), *c = user(s, "carl");
	sendl(s, op, "JOIN #m");
	clear(op);
	sendl(s, op, "MODE #m +b BOB!*@*");
	ASSERT_HAS(op, ":op!~u@127.0.0.1 MODE #m +b BOB!*@*\r\n");
	sendl(s, b, "JOIN #m");
	ASSERT_HAS(b, " 474 bob #m :Cannot join channel (+b)\r\n");
	clear(op);
	sendl(s, op, "MODE #m b");
	ASSERT_HAS(op, " 367 op #m BOB!*@* op!~u@127.0.0.1 1700000000\r\n");
	ASSERT_HAS(op, " 368 op #m :End of Channel Ban List\r\n");
	sendl(s, op, "MODE #m +e bob");
	clear(b);
	sendl(s, b, "JOIN #m");
	ASSERT_HAS(b, ":bob!~u@127.0.0.1 JOIN #m\r\n");
	sendl(s, op, "MODE #m -be bob!*@* bob!*@*");
	sendl(s, op, "MODE #m +kl secret 2");
	clear(op);
	sendl(s, c, "JOIN #m secret");
	ASSERT_HAS(c, " 471 carl #m :Cannot join channel (+l)\r\n");
	sendl(s, op, "MODE #m -l+i");
	ASSERT_HAS(op, "MODE #m -l+i\r\n");
	clear(c);
	sendl(s, c, "JOIN #m wrong");
	ASSERT_HAS(c, " 475 carl #m :Cannot join channel (+k)\r\n");
	sendl(s, c, "JOIN #m secret");
	ASSERT_HAS(c, " 473 carl #m :Cannot join channel (+i)\r\n");
	sendl(s, op, "INVITE carl #m");
	ASSERT_HAS(op, " 341 op carl #m\r\n");
	ASSERT_HAS(c, ":op!~u@127.0.0.1 INVITE carl #m\r\n");
	clear(c);
	sendl(s, c, "JOIN #m secret");
	ASSERT_HAS(c, "JOIN #m\r\n");
	/* +m: only voiced or opped members speak. */
	sendl(s, op, "MODE #m +mv carl");
	clear(b);
	sendl(s, b, "PRIVMSG #m :hi");
	ASSERT_HAS(b, " 404 bob #m :Cannot send to channel\r\n");
	clear(op);
	sendl(s, c, "PRIVMSG #m :voiced");
	ASSERT_HAS(op, ":carl!~u@127.0.0.1 PRIVMSG #m :voiced\r\n");
	sendl(s, b, "MODE #m +o bob");
	ASSERT_HAS(b, " 482 bob #m :You're not channel operator\r\n");
	clear(op);
	sendl(s, op, "MODE #m");
	ASSERT_HAS(op, " 324 op #m +ikmnt secret\r\n");
	sendl(s, op, "MODE #m +z");
	ASSERT_HAS(op, " 472 op z :is unknown mode char to me\r\n");
	clear(op);
	sendl(s, op, "KICK #m bob :out");
	ASSERT_HAS(op, ":op!~u@127.0.0.1 KICK #m bob :out\r\n");
	ASSERT_HAS(b, ":op!~u@127.0.0.1 KICK #m bob :out\r\n");
	clear(op);
	sendl(s, op, "MODE #m +k :has space");
	ASSERT_HAS(op, " 696 op #m k * :Invalid key\r\n");
	/* user modes */
	clear(b);
	sendl(s, b, "MODE bob +iw");
	ASSERT_HAS(b, ":bob MODE bob :+iw\r\n");
	sendl(s, b, "MODE op +i");
	ASSERT_HAS(b, " 502 bob :");
	ASSERT_EQ(s->ninvisible, 1);
	server_done(s);
}

TEST(error_numerics)
{
	struct irc_server *s = server_with(NULL);
	struct fake *u = connect_fake(s, 0);
	sendl(s, u, "JOIN #x");
	ASSERT_HAS(u, " 451 * :You have not registered\r\n");
	clear(u);
	sendl(s, u, "NICK nick");
	sendl(s, u, "USER u 0 * :x");
	clear(u);
	sendl(s, u, "FROBNICATE");
	ASSERT_HAS(u, " 421 nick FROBNICATE :Unknown command\r\n");
	sendl(s, u, "PRIVMSG nobody :hi");
	ASSERT_HAS(u, " 401 nick nobody :No such nick/channel\r\n");
	sendl(s, u, "PRIVMSG #none :hi");
	ASSERT_HAS(u, " 403 nick #none :No such channel\r\n");
	sendl(s, u, "PRIVMSG nick");
	ASSERT_HAS(u, " 412 nick :No text to send\r\n");
	sendl(s, u, "PRIVMSG");
	ASSERT_HAS(u, " 411 nick :No recipient given (PRIVMSG)\r\n");
	sendl(s, u, "KICK #x");
	ASSERT_HAS(u, " 461 nick KICK :Not enough parameters\r\n");
	sendl(s, u, "PART #none");
	ASSERT_HAS(u, " 403 nick #none :No such channel\r\n");
	sendl(s, u, "KILL nick");
	ASSERT_HAS(u, " 481 nick :Permission Denied");
	clear(u);
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sendl(s, u, "PRIVMSG nick :%s", big);
	ASSERT_HAS(u, " 417 nick :Input line was too long\r\n");
	clear(u);
	sendl(s, u, "NOTICE nobody :hi");
	ASSERT_EQ(sk_buf_len(&u->out), 0);
	sendl(s, u, "JOIN bad,#ok");
	ASSERT_HAS(u, " 403 nick bad :No such channel\r\n");
	ASSERT_HAS(u, "JOIN #ok\r\n");
	server_done(s);
}

/* ---- IRCv3 ----------------------------------------------------------------------- */

static struct fake *capuser(struct irc_server *s, const char *nick,
			    const char *caps)
{
	struct fake *f = connect_fake(s, 0);
	sendl(s, f, "CAP LS 302");
	sendl(s, f, "CAP REQ :%s", caps);
	sendl(s, f, "NICK %s", nick);
	sendl(s, f, "USER u 0 * :R");
	sendl(s, f, "CAP END");
	ASSERT_HAS(f, " 001 ");
	clear(f);
	return f;
}

TEST(labeled_and_tags)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = capuser(s, "alice", "batch labeled-response echo-message "
					     "message-tags");
	struct fake *b = capuser(s, "bob", "message-tags");
	struct fake *c = user(s, "carl");
	sendl(s, a, "@label=L1 PING x");
	ASSERT_HAS(a, "@label=L1 :irc.test PONG irc.test :x\r\n");
	clear(a);
	sendl(s, a, "@label=L2 PONG x");
	ASSERT_HAS(a, "@label=L2 :irc.test ACK\r\n");
	clear(a);
	sendl(s, a, "@label=L3 JOIN #t");
	ASSERT_HAS(a, "@label=L3 :irc.test BATCH +lr1 labeled-response\r\n");
	ASSERT_HAS(a, "@batch=lr1 :alice!~u@127.0.0.1 JOIN #t\r\n");
	ASSERT_HAS(a, ":irc.test BATCH -lr1\r\n");
	sendl(s, b, "JOIN #t");
	sendl(s, c, "JOIN #t");
	clear(a);
	clear(b);
	clear(c);
	sendl(s, a, "@label=L4;+draft/react=x;server=no PRIVMSG #t :hey");
	/* The echo carries the label, msgid and the client tag... */
	ASSERT_HAS(a, "@label=L4;msgid=");
	ASSERT_HAS(a, ";+draft/react=x :alice!~u@127.0.0.1 PRIVMSG #t :hey\r\n");
	/* ...bob gets the client tag but no label; carl gets no tags. */
	ASSERT_HAS(b, ";+draft/react=x :alice!~u@127.0.0.1 PRIVMSG #t :hey\r\n");
	ASSERT_HASNT(b, "label");
	ASSERT_HASNT(b, "server=no");
	ASSERT(strcmp(out(c), ":alice!~u@127.0.0.1 PRIVMSG #t :hey\r\n") == 0);
	clear(b);
	clear(c);
	sendl(s, a, "@+typing=active TAGMSG #t");
	ASSERT_HAS(b, "+typing=active :alice!~u@127.0.0.1 TAGMSG #t\r\n");
	ASSERT_EQ(sk_buf_len(&c->out), 0);
	server_done(s);
}

TEST(away_and_notify)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice");
	struct fake *b = capuser(s, "bob", "away-notify extended-join");
	sendl(s, b, "JOIN #c");
	clear(b);
	sendl(s, a, "AWAY :gone fishing");
	ASSERT_HAS(a, " 306 alice :You have been marked as being away\r\n");
	sendl(s, a, "JOIN #c");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 JOIN #c * :Real Name\r\n");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 AWAY :gone fishing\r\n");
	clear(b);
	sendl(s, b, "PRIVMSG alice :hi");
	ASSERT_HAS(b, " 301 bob alice :gone fishing\r\n");
	sendl(s, a, "AWAY");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 AWAY\r\n");
	server_done(s);
}

TEST(batched_fanout)
{
	struct irc_server *s = server_with(NULL);
	s->batching = true;
	struct fake *a = user(s, "alice"), *b = user(s, "bob");
	struct fake *e = capuser(s, "echo", "echo-message server-time");
	sendl(s, a, "JOIN #b");
	sendl(s, b, "JOIN #b");
	sendl(s, e, "JOIN #b");
	irc_server_flush(s);
	clear(a);
	clear(b);
	clear(e);
	sendl(s, a, "PRIVMSG #b :one");
	sendl(s, a, "PRIVMSG #b :two");
	/* Held back until the flush... */
	ASSERT_EQ(sk_buf_len(&b->out), 0);
	irc_server_flush(s);
	ASSERT(strcmp(out(b), ":alice!~u@127.0.0.1 PRIVMSG #b :one\r\n"
			      ":alice!~u@127.0.0.1 PRIVMSG #b :two\r\n") == 0);
	ASSERT_HAS(e, "Z :alice!~u@127.0.0.1 PRIVMSG #b :two\r\n");
	ASSERT_EQ(sk_buf_len(&a->out), 0);
	clear(b);
	/* ...or until anything else happens: a join must not see older
	 * lines, and the order across commands holds. */
	sendl(s, a, "PRIVMSG #b :three");
	struct fake *late = user(s, "late");
	sendl(s, late, "JOIN #b");
	ASSERT_HAS(b, "PRIVMSG #b :three\r\n:late!~u@127.0.0.1 JOIN #b\r\n");
	ASSERT_HASNT(late, "three");
	clear(b);
	sendl(s, e, "PRIVMSG #b :from echo");
	sendl(s, e, "PRIVMSG bob :direct");
	ASSERT_HAS(b, "PRIVMSG #b :from echo\r\n:echo!~u@127.0.0.1 PRIVMSG bob :direct\r\n");
	ASSERT_HAS(e, "PRIVMSG #b :from echo\r\n");
	server_done(s);
}

/* ---- limits and the end ------------------------------------------------------------ */

TEST(sendq_overflow)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice"), *b = user(s, "bob");
	struct fake *slow = connect_fake(s, 2048);
	sendl(s, slow, "NICK slow");
	sendl(s, slow, "USER u 0 * :x");
	sendl(s, a, "JOIN #c");
	sendl(s, b, "JOIN #c");
	sendl(s, slow, "JOIN #c");
	clear(a);
	for (int i = 0; i < 40 && !slow->closed; i++)
		sendl(s, a, "PRIVMSG #c :message number %d with some padding", i);
	ASSERT(slow->closed);
	ASSERT(!slow->graceful);
	ASSERT_HAS(b, ":slow!~u@127.0.0.1 QUIT :Max SendQ exceeded\r\n");
	ASSERT(irc_find_nick(s, "slow", 4) == NULL);
	ASSERT_EQ(s->nclients, 2);
	server_done(s);
}

TEST(quit_and_whowas)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice"), *b = user(s, "bob");
	sendl(s, a, "JOIN #c");
	sendl(s, b, "JOIN #c");
	clear(b);
	ASSERT_EQ(sendl(s, a, "QUIT :so long"), IRC_CLOSED);
	ASSERT(a->closed && a->graceful);
	ASSERT_HAS(a, "ERROR :Closing Link: 127.0.0.1 (Quit: so long)\r\n");
	ASSERT_HAS(b, ":alice!~u@127.0.0.1 QUIT :Quit: so long\r\n");
	clear(b);
	sendl(s, b, "WHOWAS alice");
	ASSERT_HAS(b, " 314 bob alice ~u 127.0.0.1 * :Real Name\r\n");
	ASSERT_HAS(b, " 369 bob alice :End of WHOWAS\r\n");
	clear(b);
	sendl(s, b, "WHOWAS nobody");
	ASSERT_HAS(b, " 406 bob nobody :There was no such nickname\r\n");
	/* a second alice leaves: the count limits the entries, newest first */
	struct fake *a2 = user(s, "alice");
	sendl(s, a2, "SETNAME :Second");
	ASSERT_EQ(sendl(s, a2, "QUIT"), IRC_CLOSED);
	clear(b);
	sendl(s, b, "WHOWAS alice 1");
	ASSERT_HAS(b, " 314 bob alice ~u 127.0.0.1 * :Second\r\n");
	ASSERT_HASNT(b, ":Real Name\r\n");
	clear(b);
	sendl(s, b, "WHOWAS alice 2");
	ASSERT_HAS(b, ":Second\r\n");
	ASSERT_HAS(b, ":Real Name\r\n");
	server_done(s);
}

static void with_oper(struct irc_config *c)
{
	char hash[IRC_PASSWD_MAX], line[256], err[128];
	ASSERT_OK(irc_passwd_hash("pw", 1000, hash, sizeof hash));
	snprintf(line, sizeof line, "boss %s", hash);
	ASSERT_OK(irc_config_set(c, "oper", line, err, sizeof err));
}

TEST(oper_kill_wallops)
{
	struct irc_server *s = server_with(with_oper);
	struct fake *o = user(s, "op"), *v = user(s, "victim"), *w = user(s, "w");
	sendl(s, o, "OPER boss nope");
	ASSERT_HAS(o, " 464 op :Password incorrect\r\n");
	/* Right after a failure even the right password waits. */
	sendl(s, o, "OPER boss pw");
	ASSERT_HASNT(o, " 381 ");
	irc_server_set_time(s, now_ms + 6000, 1700000006000);
	sendl(s, o, "OPER boss pw");
	ASSERT_HAS(o, " 381 op :You are now an IRC operator\r\n");
	ASSERT_HAS(o, ":op MODE op :+o\r\n");
	sendl(s, w, "MODE w +w");
	clear(w);
	sendl(s, o, "WALLOPS :hear ye");
	ASSERT_HAS(w, ":op!~u@127.0.0.1 WALLOPS :hear ye\r\n");
	clear(w);
	sendl(s, w, "WHOIS op");
	ASSERT_HAS(w, " 313 w op :is an IRC operator\r\n");
	ASSERT_HAS(w, " 318 w op :End of /WHOIS list\r\n");
	sendl(s, o, "KILL victim :spam");
	ASSERT(v->closed);
	ASSERT_HAS(v, ":op!~u@127.0.0.1 KILL victim :spam\r\n");
	ASSERT_HAS(v, "ERROR :Closing Link: 127.0.0.1 (Killed (op (spam)))\r\n");
	server_done(s);
}

TEST(who_whox)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice"), *b = user(s, "bob");
	sendl(s, a, "JOIN #w");
	sendl(s, b, "WHO #w");
	ASSERT_HAS(b, " 352 bob #w ~u 127.0.0.1 irc.test alice H@ :0 Real Name\r\n");
	ASSERT_HAS(b, " 315 bob #w :End of WHO list\r\n");
	clear(b);
	sendl(s, b, "WHO alice %s", "%tnfr,42");
	ASSERT_HAS(b, " 354 bob 42 alice H :Real Name\r\n");
	clear(b);
	sendl(s, b, "ISON alice nobody bob");
	ASSERT_HAS(b, " 303 bob :alice bob\r\n");
	sendl(s, b, "USERHOST alice");
	ASSERT_HAS(b, " 302 bob :alice=+~u@127.0.0.1\r\n");
	server_done(s);
}

TEST(shutdown_sends_error)
{
	struct irc_server *s = server_with(NULL);
	struct fake *a = user(s, "alice");
	struct fake *u = connect_fake(s, 0);
	irc_server_shutdown(s, "Server shutting down");
	ASSERT(a->closed && u->closed);
	ASSERT_HAS(a, "ERROR :Closing Link: 127.0.0.1 (Server shutting down)\r\n");
	ASSERT_HAS(u, "ERROR :Closing Link: 127.0.0.1 (Server shutting down)\r\n");
	ASSERT_EQ(s->nclients, 0);
	server_done(s);
}

TEST_MAIN(TEST_ENTRY(register_plain), TEST_ENTRY(register_cap),
	  TEST_ENTRY(register_password), TEST_ENTRY(nick_rules),
	  TEST_ENTRY(timeouts), TEST_ENTRY(channel_life),
	  TEST_ENTRY(modes_and_bans), TEST_ENTRY(error_numerics),
	  TEST_ENTRY(labeled_and_tags), TEST_ENTRY(away_and_notify),
	  TEST_ENTRY(batched_fanout),
	  TEST_ENTRY(sendq_overflow), TEST_ENTRY(quit_and_whowas),
	  TEST_ENTRY(oper_kill_wallops), TEST_ENTRY(who_whox),
	  TEST_ENTRY(shutdown_sends_error))
