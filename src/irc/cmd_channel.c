/*
 * src/irc/cmd_channel.c - JOIN, PART, TOPIC, NAMES, LIST, INVITE, KICK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

/* Walk a comma-separated list: the next item into *item, false at the end. */
static bool next_item(struct irc_str *list, struct irc_str *item)
{
	if (!list->p || list->n == 0)
		return false;
	const char *comma = memchr(list->p, ',', list->n);
	size_t n = comma ? (size_t)(comma - list->p) : list->n;
	item->p = list->p;
	item->n = n;
	list->p += comma ? n + 1 : n;
	list->n -= comma ? n + 1 : n;
	return true;
}

static bool chan_name_ok(struct irc_server *s, struct irc_str n)
{
	return irc_chan_valid(n.p, n.n, IRC_CHANTYPES_DEFAULT,
			      s->cfg->channellen);
}

/* A bounded, printable copy of a name for an error reply. */
static const char *shown(struct irc_str n, char *buf, size_t size)
{
	size_t k = 0;
	for (; k < n.n && k + 1 < size; k++) {
		char ch = n.p[k];
		buf[k] = ch == ' ' || (k == 0 && ch == ':') ? '_' : ch;
	}
	buf[k] = '\0';
	if (k == 0)
		snprintf(buf, size, "*");
	return buf;
}

/* ---- NAMES and topic replies ----------------------------------------------------- */

void irc_send_topic(struct irc_server *s, struct irc_client *c,
		    struct irc_chan *ch, bool none)
{
	if (!ch->topic) {
		if (none)
			irc_num(s, c, RPL_NOTOPIC, RPL_NOTOPIC_F, ch->name);
		return;
	}
	irc_num(s, c, RPL_TOPIC, RPL_TOPIC_F, ch->name, ch->topic);
	irc_num(s, c, RPL_TOPICWHOTIME, RPL_TOPICWHOTIME_F, ch->name,
		ch->topic_who ? ch->topic_who : s->cfg->server_name,
		(long long)ch->topic_time);
}

/* The 353 lines of one channel (no 366). */
static void names_lines(struct irc_server *s, struct irc_client *c,
			struct irc_chan *ch)
{
	bool multi = c->caps & IRC_CAP_MULTI_PREFIX;
	bool uhnames = c->caps & IRC_CAP_USERHOST_IN_NAMES;
	bool member = irc_member_of(c, ch) != NULL;
	char sym = ch->modes & IRC_CMODE_S ? '@' : '=';
	/* ":server 353 nick = #chan :" plus the names must fit 510. */
	size_t room = IRC_BODY_MAX - 16 - strlen(s->cfg->server_name) -
		      strlen(c->nick) - strlen(ch->name);
	char names[IRC_LINE_MAX];
	size_t n = 0;
	for (uint32_t i = 0; i < ch->nmem; i++) {
		struct irc_member *m = ch->mem[i];
		struct irc_client *o = m->cl;
		if (!member && (o->umodes & IRC_UMODE_I))
			continue;
		char pfx[4], who[IRC_PREFIX_MAX + 4];
		int k;
		irc_member_prefix(m, multi, pfx);
		if (uhnames)
			k = snprintf(who, sizeof who, "%s%s!%s@%s", pfx, o->nick,
				     o->user, o->host);
		else
			k = snprintf(who, sizeof who, "%s%s", pfx, o->nick);
		if (k <= 0)
			continue;
		if (n && n + 1 + (size_t)k > room) {
			names[n] = '\0';
			irc_num(s, c, RPL_NAMREPLY, "%c %s :%s", sym, ch->name,
				names);
			n = 0;
		}
		if (n)
			names[n++] = ' ';
		memcpy(names + n, who, (size_t)k);
		n += (size_t)k;
	}
	if (n) {
		names[n] = '\0';
		irc_num(s, c, RPL_NAMREPLY, "%c %s :%s", sym, ch->name, names);
	}
}

void irc_send_names(struct irc_server *s, struct irc_client *c,
		    struct irc_chan *ch)
{
	names_lines(s, c, ch);
	irc_num(s, c, RPL_ENDOFNAMES, RPL_ENDOFNAMES_F, ch->name);
}

static int cmd_names(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	if (m->nparams == 0 || m->params[0].n == 0) {
		for (struct irc_chan *ch = s->chanlist; ch; ch = ch->next)
			if (irc_chan_visible(ch, c))
				names_lines(s, c, ch);
		irc_num(s, c, RPL_ENDOFNAMES, RPL_ENDOFNAMES_F, "*");
		return IRC_CONTINUE;
	}
	struct irc_str list = m->params[0], it;
	unsigned n = 0;
	while (next_item(&list, &it) && n++ < s->cfg->maxtargets) {
		struct irc_chan *ch = irc_find_chan(s, it.p, it.n);
		if (ch && irc_chan_visible(ch, c))
			names_lines(s, c, ch);
	}
	char buf[IRC_LINE_MAX];
	irc_num(s, c, RPL_ENDOFNAMES, RPL_ENDOFNAMES_F,
		shown(m->params[0], buf, 200));
	return IRC_CONTINUE;
}

/* ---- JOIN --------------------------------------------------------------------------- */

static void part_all(struct irc_server *s, struct irc_client *c)
{
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	while (c->chans) {
		struct irc_member *mb = c->chans;
		struct irc_bcast b;
		if (irc_bcast_init(&b, s, NULL, 0, pfx, "PART %s", mb->ch->name) == 0)
			irc_bcast_chan(&b, mb->ch, NULL);
		irc_bcast_free(&b);
		irc_chan_leave(s, mb);
	}
}

/* Why c may not join an existing channel: a numeric, or 0. */
static int join_denied(struct irc_server *s, struct irc_client *c,
		       struct irc_chan *ch, struct irc_str key)
{
	bool invited = irc_client_invited(c, ch);
	if ((ch->modes & IRC_CMODE_K) && ch->key &&
	    (key.n != strlen(ch->key) || memcmp(key.p, ch->key, key.n) != 0))
		return ERR_BADCHANNELKEY;
	if (invited)
		return 0;
	if ((ch->modes & IRC_CMODE_I) && !irc_list_match(s, &ch->invex, c))
		return ERR_INVITEONLYCHAN;
	if (irc_chan_is_banned(s, ch, c))
		return ERR_BANNEDFROMCHAN;
	if ((ch->modes & IRC_CMODE_L) && ch->nmem >= ch->limit)
		return ERR_CHANNELISFULL;
	return 0;
}

static const char *join_err_text(int code)
{
	switch (code) {
	case ERR_BADCHANNELKEY: return ERR_BADCHANNELKEY_F;
	case ERR_INVITEONLYCHAN: return ERR_INVITEONLYCHAN_F;
	case ERR_BANNEDFROMCHAN: return ERR_BANNEDFROMCHAN_F;
	default: return ERR_CHANNELISFULL_F;
	}
}

static void announce_join(struct irc_server *s, struct irc_client *c,
			  struct irc_chan *ch)
{
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	struct irc_bcast plain, ext;
	if (irc_bcast_init(&plain, s, NULL, 0, pfx, "JOIN %s", ch->name) == 0) {
		plain.skip_caps = IRC_CAP_EXTENDED_JOIN;
		irc_bcast_chan(&plain, ch, NULL);
	}
	irc_bcast_free(&plain);
	if (irc_bcast_init(&ext, s, NULL, 0, pfx, "JOIN %s * :%s", ch->name,
			   c->realname ? c->realname : "") == 0) {
		ext.need_caps = IRC_CAP_EXTENDED_JOIN;
		irc_bcast_chan(&ext, ch, NULL);
	}
	irc_bcast_free(&ext);
	if (c->away) {
		struct irc_bcast aw;
		if (irc_bcast_init(&aw, s, NULL, 0, pfx, "AWAY :%s", c->away) == 0) {
			aw.need_caps = IRC_CAP_AWAY_NOTIFY;
			irc_bcast_chan(&aw, ch, c);
		}
		irc_bcast_free(&aw);
	}
}

static void join_one(struct irc_server *s, struct irc_client *c,
		     struct irc_str name, struct irc_str key)
{
	char buf[IRC_LINE_MAX];
	if (!chan_name_ok(s, name)) {
		irc_num(s, c, ERR_NOSUCHCHANNEL, ERR_NOSUCHCHANNEL_F,
			shown(name, buf, 200));
		return;
	}
	struct irc_chan *ch = irc_find_chan(s, name.p, name.n);
	if (ch && irc_member_of(c, ch))
		return;
	if (c->nchans >= s->cfg->maxchannels) {
		irc_num(s, c, ERR_TOOMANYCHANNELS, ERR_TOOMANYCHANNELS_F,
			shown(name, buf, 200));
		return;
	}
	uint8_t pfx = 0;
	if (ch) {
		int deny = join_denied(s, c, ch, key);
		if (deny) {
			irc_num(s, c, deny, join_err_text(deny), ch->name);
			return;
		}
		irc_client_uninvite(c, ch);
	} else {
		if (!(ch = irc_chan_new(s, name.p, name.n)))
			return;
		pfx = IRC_PFX_O;
	}
	if (!irc_chan_join(s, ch, c, pfx)) {
		irc_chan_gc(s, ch); /* a channel made for nobody */
		return;
	}
	announce_join(s, c, ch);
	irc_send_topic(s, c, ch, false);
	irc_send_names(s, c, ch);
}

static int cmd_join(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (m->params[0].n == 1 && m->params[0].p[0] == '0') {
		part_all(s, c);
		return IRC_CONTINUE;
	}
	struct irc_str names = m->params[0], keys = IRC_STR_NONE, name, key;
	if (m->nparams > 1)
		keys = m->params[1];
	while (next_item(&names, &name)) {
		if (!next_item(&keys, &key))
			key = (struct irc_str){"", 0};
		join_one(s, c, name, key);
		if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
			break;
	}
	return IRC_CONTINUE;
}

/* ---- PART, TOPIC ------------------------------------------------------------------------ */

/* The channel named n with c a member, or NULL after the error reply. */
static struct irc_member *need_member(struct irc_server *s,
				      struct irc_client *c, struct irc_str n,
				      struct irc_chan **chp)
{
	char buf[IRC_LINE_MAX];
	struct irc_chan *ch = irc_find_chan(s, n.p, n.n);
	if (chp)
		*chp = ch;
	if (!ch) {
		irc_num(s, c, ERR_NOSUCHCHANNEL, ERR_NOSUCHCHANNEL_F,
			shown(n, buf, 200));
		return NULL;
	}
	struct irc_member *mb = irc_member_of(c, ch);
	if (!mb)
		irc_num(s, c, ERR_NOTONCHANNEL, ERR_NOTONCHANNEL_F, ch->name);
	return mb;
}

static int cmd_part(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	struct irc_str list = m->params[0], it;
	struct irc_str why = m->nparams > 1 ? m->params[1] : IRC_STR_NONE;
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	while (next_item(&list, &it)) {
		struct irc_member *mb = need_member(s, c, it, NULL);
		if (!mb)
			continue;
		struct irc_bcast b;
		int r = why.n ? irc_bcast_init(&b, s, NULL, 0, pfx, "PART %s :%.*s",
					       mb->ch->name,
					       (int)irc_utf8_cut(why.p, why.n, 300),
					       why.p)
			      : irc_bcast_init(&b, s, NULL, 0, pfx, "PART %s",
					       mb->ch->name);
		if (r == 0)
			irc_bcast_chan(&b, mb->ch, NULL);
		irc_bcast_free(&b);
		irc_chan_leave(s, mb);
	}
	return IRC_CONTINUE;
}

static int cmd_topic(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	struct irc_chan *ch;
	char buf[IRC_LINE_MAX];
	if (m->nparams < 2) {
		ch = irc_find_chan(s, m->params[0].p, m->params[0].n);
		if (!ch || !irc_chan_visible(ch, c))
			irc_num(s, c, ERR_NOSUCHCHANNEL, ERR_NOSUCHCHANNEL_F,
				shown(m->params[0], buf, 200));
		else
			irc_send_topic(s, c, ch, true);
		return IRC_CONTINUE;
	}
	struct irc_member *mb = need_member(s, c, m->params[0], &ch);
	if (!mb)
		return IRC_CONTINUE;
	if ((ch->modes & IRC_CMODE_T) && !(mb->pfx & IRC_PFX_O)) {
		irc_num(s, c, ERR_CHANOPRIVSNEEDED, ERR_CHANOPRIVSNEEDED_F,
			ch->name);
		return IRC_CONTINUE;
	}
	struct irc_str t = m->params[1];
	size_t tn = irc_utf8_cut(t.p, t.n, s->cfg->topiclen);
	free(ch->topic);
	free(ch->topic_who);
	ch->topic = ch->topic_who = NULL;
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	if (tn) {
		ch->topic = strndup(t.p, tn);
		ch->topic_who = strdup(pfx);
		ch->topic_time = s->wall_ms / 1000;
	}
	struct irc_bcast b;
	if (irc_bcast_init(&b, s, NULL, 0, pfx, "TOPIC %s :%.*s", ch->name,
			   (int)tn, t.p) == 0)
		irc_bcast_chan(&b, ch, NULL);
	irc_bcast_free(&b);
	return IRC_CONTINUE;
}

/* ---- KICK, INVITE ------------------------------------------------------------------------ */

static void kick_one(struct irc_server *s, struct irc_client *c,
		     struct irc_str chan, struct irc_str nick,
		     struct irc_str why)
{
	struct irc_chan *ch;
	char buf[IRC_LINE_MAX];
	struct irc_member *me = need_member(s, c, chan, &ch);
	if (!me)
		return;
	if (!(me->pfx & IRC_PFX_O)) {
		irc_num(s, c, ERR_CHANOPRIVSNEEDED, ERR_CHANOPRIVSNEEDED_F,
			ch->name);
		return;
	}
	struct irc_client *t = irc_find_nick(s, nick.p, nick.n);
	struct irc_member *tm = t ? irc_member_of(t, ch) : NULL;
	if (!tm) {
		irc_num(s, c, ERR_USERNOTINCHANNEL, ERR_USERNOTINCHANNEL_F,
			shown(nick, buf, IRC_NICKLEN_MAX + 1), ch->name);
		return;
	}
	if (why.n == 0)
		why = irc_str(c->nick);
	char pfx[IRC_PREFIX_MAX];
	struct irc_bcast b;
	if (irc_bcast_init(&b, s, NULL, 0, irc_prefix(c, pfx, sizeof pfx),
			   "KICK %s %s :%.*s", ch->name, t->nick,
			   (int)irc_utf8_cut(why.p, why.n, s->cfg->kicklen),
			   why.p) == 0)
		irc_bcast_chan(&b, ch, NULL);
	irc_bcast_free(&b);
	irc_chan_leave(s, tm);
}

static int cmd_kick(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	struct irc_str chans = m->params[0], nicks = m->params[1], ch, nk;
	struct irc_str why = m->nparams > 2 ? m->params[2] : IRC_STR_NONE;
	bool single = memchr(chans.p, ',', chans.n) == NULL;
	ch = chans;
	unsigned n = 0;
	while (next_item(&nicks, &nk) && n++ < s->cfg->maxtargets) {
		if (!single && !next_item(&chans, &ch))
			break;
		kick_one(s, c, ch, nk, why);
	}
	return IRC_CONTINUE;
}

static void invite_list(struct irc_server *s, struct irc_client *c)
{
	for (struct irc_chan *ch = s->chanlist; ch; ch = ch->next)
		if (irc_client_invited(c, ch))
			irc_num(s, c, RPL_INVITELIST, RPL_INVITELIST_F, ch->name);
	irc_num(s, c, RPL_ENDOFINVITELIST, RPL_ENDOFINVITELIST_F);
}

static int cmd_invite(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	char buf[IRC_LINE_MAX];
	if (m->nparams == 0) {
		invite_list(s, c);
		return IRC_CONTINUE;
	}
	if (m->nparams < 2) {
		irc_num(s, c, ERR_NEEDMOREPARAMS, ERR_NEEDMOREPARAMS_F, "INVITE");
		return IRC_CONTINUE;
	}
	struct irc_client *t = irc_find_nick(s, m->params[0].p, m->params[0].n);
	if (!t || !irc_client_registered(t)) {
		irc_num(s, c, ERR_NOSUCHNICK, ERR_NOSUCHNICK_F,
			shown(m->params[0], buf, IRC_NICKLEN_MAX + 1));
		return IRC_CONTINUE;
	}
	struct irc_str cn = m->params[1];
	struct irc_chan *ch = irc_find_chan(s, cn.p, cn.n);
	if (ch) {
		struct irc_member *me = irc_member_of(c, ch);
		if (!me) {
			irc_num(s, c, ERR_NOTONCHANNEL, ERR_NOTONCHANNEL_F,
				ch->name);
			return IRC_CONTINUE;
		}
		if ((ch->modes & IRC_CMODE_I) && !(me->pfx & IRC_PFX_O)) {
			irc_num(s, c, ERR_CHANOPRIVSNEEDED,
				ERR_CHANOPRIVSNEEDED_F, ch->name);
			return IRC_CONTINUE;
		}
		if (irc_member_of(t, ch)) {
			irc_num(s, c, ERR_USERONCHANNEL, ERR_USERONCHANNEL_F,
				t->nick, ch->name);
			return IRC_CONTINUE;
		}
		if (!irc_client_invited(t, ch)) {
			uint64_t *v = realloc(t->invites,
					      (t->ninvites + 1) * sizeof *v);
			if (v) {
				t->invites = v;
				v[t->ninvites++] = ch->id;
			}
		}
	} else if (!chan_name_ok(s, cn)) {
		irc_num(s, c, ERR_NOSUCHCHANNEL, ERR_NOSUCHCHANNEL_F,
			shown(cn, buf, 200));
		return IRC_CONTINUE;
	}
	const char *name = ch ? ch->name : shown(cn, buf, 200);
	irc_num(s, c, RPL_INVITING, RPL_INVITING_F, t->nick, name);
	if (t->away)
		irc_num(s, c, RPL_AWAY, RPL_AWAY_F, t->nick, t->away);
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	irc_sendf(s, t, pfx, "INVITE %s %s", t->nick, name);
	if (ch) {
		struct irc_bcast b;
		if (irc_bcast_init(&b, s, NULL, 0, pfx, "INVITE %s %s", t->nick,
				   name) == 0) {
			b.need_caps = IRC_CAP_INVITE_NOTIFY;
			irc_bcast_chan(&b, ch, c);
		}
		irc_bcast_free(&b);
	}
	return IRC_CONTINUE;
}

/* ---- LIST ------------------------------------------------------------------------------- */

struct list_filter {
	struct irc_str pos[16], neg[16];
	size_t npos, nneg;
	long umin, umax;              /* users: > umin and < umax */
	long cmin, cmax;              /* created minutes ago */
	long tmin, tmax;              /* topic set minutes ago */
};

static long num_of(struct irc_str s, size_t from)
{
	size_t at = from < s.n ? from : s.n;
	struct irc_str t = {s.p + at, s.n - at};
	return (long)irc_str_ulong(t, 1000000000, NULL);
}

static void filter_add(struct list_filter *f, struct irc_str it)
{
	if (it.n == 0)
		return;
	char c0 = it.p[0];
	if ((c0 == '<' || c0 == '>') && it.n > 1) {
		long v = num_of(it, 1);
		if (c0 == '<')
			f->umax = v < f->umax ? v : f->umax;
		else
			f->umin = v > f->umin ? v : f->umin;
	} else if ((c0 == 'C' || c0 == 'T') && it.n > 2 &&
		   (it.p[1] == '<' || it.p[1] == '>')) {
		long v = num_of(it, 2);
		long *mn = c0 == 'C' ? &f->cmin : &f->tmin;
		long *mx = c0 == 'C' ? &f->cmax : &f->tmax;
		if (it.p[1] == '<')
			*mx = v < *mx ? v : *mx;
		else
			*mn = v > *mn ? v : *mn;
	} else if (c0 == '!' && f->nneg < 16) {
		f->neg[f->nneg++] = (struct irc_str){it.p + 1, it.n - 1};
	} else if (f->npos < 16) {
		f->pos[f->npos++] = it;
	}
}

static bool filter_ok(struct irc_server *s, const struct list_filter *f,
		      const struct irc_chan *ch)
{
	enum irc_casemap cm = s->cfg->casemap;
	size_t nn = strlen(ch->name);
	long now = (long)(s->wall_ms / 1000);
	if ((long)ch->nmem <= f->umin || (long)ch->nmem >= f->umax)
		return false;
	long cage = (now - (long)ch->created) / 60;
	if (cage <= f->cmin || cage >= f->cmax)
		return false;
	if (f->tmin >= 0 || f->tmax < 0x7fffffff) {
		if (!ch->topic)
			return false;
		long tage = (now - (long)ch->topic_time) / 60;
		if (tage <= f->tmin || tage >= f->tmax)
			return false;
	}
	for (size_t i = 0; i < f->nneg; i++)
		if (irc_mask_match(cm, f->neg[i].p, f->neg[i].n, ch->name, nn))
			return false;
	if (f->npos == 0)
		return true;
	for (size_t i = 0; i < f->npos; i++)
		if (irc_mask_match(cm, f->pos[i].p, f->pos[i].n, ch->name, nn))
			return true;
	return false;
}

static int cmd_list(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	struct list_filter f = {.umin = -1, .umax = 0x7fffffff, .cmin = -1,
				.cmax = 0x7fffffff, .tmin = -1,
				.tmax = 0x7fffffff};
	if (m->nparams) {
		struct irc_str list = m->params[0], it;
		while (next_item(&list, &it))
			filter_add(&f, it);
	}
	irc_num(s, c, RPL_LISTSTART, RPL_LISTSTART_F);
	for (struct irc_chan *ch = s->chanlist; ch; ch = ch->next) {
		if (!irc_chan_visible(ch, c) || !filter_ok(s, &f, ch))
			continue;
		irc_num(s, c, RPL_LIST, RPL_LIST_F, ch->name, ch->nmem,
			ch->topic ? ch->topic : "");
		if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
			return IRC_CONTINUE;
	}
	irc_num(s, c, RPL_LISTEND, RPL_LISTEND_F);
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_channel[] = {
	{"INVITE", cmd_invite, 0, IRC_CMD_REG, 2000},
	{"JOIN", cmd_join, 1, IRC_CMD_REG, 1000},
	{"KICK", cmd_kick, 2, IRC_CMD_REG, 1000},
	{"LIST", cmd_list, 0, IRC_CMD_REG, 3000},
	{"NAMES", cmd_names, 0, IRC_CMD_REG, 1000},
	{"PART", cmd_part, 1, IRC_CMD_REG, 1000},
	{"TOPIC", cmd_topic, 1, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
