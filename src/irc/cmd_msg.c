/*
 * src/irc/cmd_msg.c - PRIVMSG, NOTICE and TAGMSG (to nicks, channels and
 * "@#chan" status targets, several at once), and AWAY.
 *
 * The hot path of the server: a channel message is formatted once and
 * queued to each member through irc_bcast_chan().  NOTICE never draws an
 * error reply (RFC 2812 3.3.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

enum msg_kind { K_PRIVMSG, K_NOTICE, K_TAGMSG };

static const char *const kind_name[] = {"PRIVMSG", "NOTICE", "TAGMSG"};

struct msg_ctx {
	struct irc_server *s;
	struct irc_client *c;
	enum msg_kind kind;
	struct irc_str text;
	const char *ctags;     /* client-only tags to relay */
	size_t clen;
	char pfx[IRC_PREFIX_MAX];
};

/* Why c may not speak in ch: 0 or ERR_CANNOTSENDTOCHAN. */
static bool can_send(struct irc_server *s, struct irc_client *c,
		     struct irc_chan *ch)
{
	struct irc_member *mb = irc_member_of(c, ch);
	if (mb && (mb->pfx & (IRC_PFX_O | IRC_PFX_V)))
		return true;
	if (!mb && (ch->modes & IRC_CMODE_N))
		return false;
	if (ch->modes & IRC_CMODE_M)
		return false;
	return !irc_chan_is_banned(s, ch, c);
}

static int init_bcast(struct msg_ctx *x, struct irc_bcast *b,
		      const char *target)
{
	int r;
	if (x->kind == K_TAGMSG)
		r = irc_bcast_init(b, x->s, x->ctags, x->clen, x->pfx, "TAGMSG %s",
				   target);
	else
		r = irc_bcast_init(b, x->s, x->ctags, x->clen, x->pfx,
				   "%s %s :%.*s", kind_name[x->kind], target,
				   (int)x->text.n, x->text.p);
	b->tagged = true;
	b->bot = (x->c->umodes & IRC_UMODE_B) != 0;
	if (x->kind == K_TAGMSG)
		b->need_caps = IRC_CAP_MESSAGE_TAGS;
	return r;
}

static void echo(struct msg_ctx *x, struct irc_bcast *b)
{
	if (x->c->caps & IRC_CAP_ECHO_MESSAGE)
		irc_bcast_to(b, x->c);
}

static void to_chan(struct msg_ctx *x, struct irc_str t)
{
	struct irc_server *s = x->s;
	struct irc_client *c = x->c;
	/* STATUSMSG: "@#chan" reaches the ops, "+#chan" ops and voices. */
	uint8_t need = 0;
	const char *status = "";
	if (t.n > 1 && (t.p[0] == '@' || t.p[0] == '+')) {
		need = t.p[0] == '@' ? IRC_PFX_O : IRC_PFX_O | IRC_PFX_V;
		status = t.p[0] == '@' ? "@" : "+";
		t.p++, t.n--;
	}
	struct irc_chan *ch = irc_find_chan(s, t.p, t.n);
	if (!ch) {
		if (x->kind != K_NOTICE)
			irc_num(s, c, ERR_NOSUCHCHANNEL, "%.*s :No such channel",
				(int)t.n, t.p);
		return;
	}
	/* +C: no CTCP but ACTION (/me). */
	bool ctcp = x->text.n && x->text.p[0] == '\x01' &&
		    !(x->text.n >= 8 && memcmp(x->text.p, "\x01" "ACTION ", 8) == 0);
	if (!can_send(s, c, ch) || (ctcp && (ch->modes & IRC_CMODE_C))) {
		if (x->kind != K_NOTICE)
			irc_num(s, c, ERR_CANNOTSENDTOCHAN,
				ERR_CANNOTSENDTOCHAN_F, ch->name);
		return;
	}
	if (s->batching && !need && x->kind != K_TAGMSG && !s->label_cl) {
		irc_batch_add(s, c, ch, x->ctags, x->clen, x->pfx, "%s %s :%.*s",
			      kind_name[x->kind], ch->name, (int)x->text.n,
			      x->text.p);
		return;
	}
	char target[IRC_LINE_MAX];
	snprintf(target, sizeof target, "%s%s", status, ch->name);
	struct irc_bcast b;
	if (init_bcast(x, &b, target) == 0) {
		for (uint32_t i = 0; i < ch->nmem; i++) {
			struct irc_member *m = ch->mem[i];
			if (m->cl != c && (!need || (m->pfx & need)))
				irc_bcast_to(&b, m->cl);
		}
		echo(x, &b);
	}
	irc_bcast_free(&b);
}

static void to_nick(struct msg_ctx *x, struct irc_str t)
{
	struct irc_server *s = x->s;
	struct irc_client *c = x->c;
	struct irc_client *o = irc_find_nick(s, t.p, t.n);
	if (!o || !irc_client_registered(o)) {
		if (x->kind != K_NOTICE)
			irc_num(s, c, ERR_NOSUCHNICK, "%.*s :No such nick/channel",
				(int)(t.n > IRC_NICKLEN_MAX ? IRC_NICKLEN_MAX : t.n),
				t.p);
		return;
	}
	struct irc_bcast b;
	if (init_bcast(x, &b, o->nick) == 0) {
		if (o == c)
			irc_bcast_direct(&b, o);
		else
			irc_bcast_to(&b, o);
		echo(x, &b);
	}
	irc_bcast_free(&b);
	if (x->kind == K_PRIVMSG && o->away)
		irc_num(s, c, RPL_AWAY, RPL_AWAY_F, o->nick, o->away);
}

static int do_message(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m, enum msg_kind kind)
{
	if (m->nparams == 0 || m->params[0].n == 0) {
		if (kind != K_NOTICE)
			irc_num(s, c, ERR_NORECIPIENT, ERR_NORECIPIENT_F,
				kind_name[kind]);
		return IRC_CONTINUE;
	}
	struct msg_ctx x = {.s = s, .c = c, .kind = kind};
	if (kind != K_TAGMSG) {
		if (m->nparams < 2 || m->params[1].n == 0) {
			if (kind != K_NOTICE)
				irc_num(s, c, ERR_NOTEXTTOSEND,
					ERR_NOTEXTTOSEND_F);
			return IRC_CONTINUE;
		}
		x.text = m->params[1];
	}
	sk_buf_clear(&s->tags);
	if ((c->caps & IRC_CAP_MESSAGE_TAGS) && m->tags_raw.p &&
	    irc_tags_add_client(&s->tags, m) == 0 && sk_buf_len(&s->tags)) {
		x.ctags = (const char *)sk_buf_data(&s->tags);
		x.clen = sk_buf_len(&s->tags);
	}
	if (kind == K_TAGMSG && !x.clen)
		return IRC_CONTINUE; /* nothing to carry */
	irc_prefix(c, x.pfx, sizeof x.pfx);
	c->last_msg_ms = s->now_ms;
	struct irc_str list = m->params[0];
	unsigned n = 0;
	while (list.n && !(c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))) {
		const char *comma = memchr(list.p, ',', list.n);
		struct irc_str t = {list.p, comma ? (size_t)(comma - list.p)
						  : list.n};
		list.p += comma ? t.n + 1 : t.n;
		list.n -= comma ? t.n + 1 : t.n;
		if (t.n == 0)
			continue;
		if (++n > s->cfg->maxtargets) {
			if (kind != K_NOTICE)
				irc_num(s, c, ERR_TOOMANYTARGETS,
					"%.*s :Too many targets", (int)t.n,
					t.p);
			break;
		}
		char t0 = t.p[0];
		bool chan = t0 == '#' || t0 == '&' ||
			    ((t0 == '@' || t0 == '+') && t.n > 1 &&
			     (t.p[1] == '#' || t.p[1] == '&'));
		if (chan)
			to_chan(&x, t);
		else
			to_nick(&x, t);
	}
	return IRC_CONTINUE;
}

static int cmd_privmsg(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m)
{
	return do_message(s, c, m, K_PRIVMSG);
}

static int cmd_notice(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	return do_message(s, c, m, K_NOTICE);
}

static int cmd_tagmsg(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	return do_message(s, c, m, K_TAGMSG);
}

static int cmd_away(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	struct irc_str a = m->nparams ? m->params[0] : IRC_STR_NONE;
	free(c->away);
	c->away = NULL;
	if (a.n) {
		size_t n = irc_utf8_cut(a.p, a.n, s->cfg->awaylen);
		c->away = strndup(a.p, n);
	}
	irc_num(s, c, c->away ? RPL_NOWAWAY : RPL_UNAWAY,
		c->away ? RPL_NOWAWAY_F : RPL_UNAWAY_F);
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	struct irc_bcast b;
	int r = c->away ? irc_bcast_init(&b, s, NULL, 0, pfx, "AWAY :%s",
					 c->away)
			: irc_bcast_init(&b, s, NULL, 0, pfx, "AWAY");
	if (r == 0) {
		b.need_caps = IRC_CAP_AWAY_NOTIFY;
		irc_bcast_common(&b, c, false);
		irc_monitor_extend(&b, c);
	}
	irc_bcast_free(&b);
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_msg[] = {
	{"AWAY", cmd_away, 0, IRC_CMD_REG, 1000},
	{"NOTICE", cmd_notice, 0, IRC_CMD_REG | IRC_CMD_BATCH, 1000},
	{"PRIVMSG", cmd_privmsg, 0, IRC_CMD_REG | IRC_CMD_BATCH, 1000},
	{"TAGMSG", cmd_tagmsg, 0, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
