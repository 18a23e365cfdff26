/*
 * src/irc/cmd_mode.c - MODE for channels (b e I lists, k, l, i m n s t,
 * prefixes o v) and for users (i, w, and -o).
 *
 * irc_modes_parse() (modes.h) splits the mode string against the same
 * CHANMODES/PREFIX the server announces; each change is then checked and
 * applied here, and only the changes that really happened are broadcast,
 * in MODE lines that respect MODES= and the line length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

#define KEYLEN 23

/* Argument bytes of the changes that went through: copies, because a
 * removed ban's own string is freed before the broadcast. */
struct applied {
	struct irc_mode_change ch[IRC_MODE_MAX];
	size_t n;
	char arena[4096];
	size_t used;
};

static void applied_add(struct applied *a, char dir, char mode,
			enum irc_mode_kind kind, const char *arg)
{
	if (a->n >= IRC_MODE_MAX)
		return;
	struct irc_mode_change *c = &a->ch[a->n];
	c->dir = dir;
	c->mode = mode;
	c->kind = kind;
	c->arg = IRC_STR_NONE;
	if (arg) {
		size_t n = strlen(arg);
		if (a->used + n > sizeof a->arena)
			return;
		memcpy(a->arena + a->used, arg, n);
		c->arg = (struct irc_str){a->arena + a->used, n};
		a->used += n;
	}
	a->n++;
}

static struct irc_list *list_of(struct irc_chan *ch, char mode)
{
	switch (mode) {
	case 'b': return &ch->bans;
	case 'e': return &ch->excepts;
	default: return &ch->invex;
	}
}

static void send_list(struct irc_server *s, struct irc_client *c,
		      struct irc_chan *ch, char mode)
{
	const struct irc_list *l = list_of(ch, mode);
	int code = mode == 'b' ? RPL_BANLIST
		 : mode == 'e' ? RPL_EXCEPTLIST : RPL_INVEXLIST;
	for (uint32_t i = 0; i < l->n; i++)
		irc_num(s, c, code, RPL_LISTENTRY_F, ch->name, l->v[i].mask,
			l->v[i].setter, (long long)l->v[i].when);
	if (mode == 'b')
		irc_num(s, c, RPL_ENDOFBANLIST, RPL_ENDOFBANLIST_F, ch->name);
	else if (mode == 'e')
		irc_num(s, c, RPL_ENDOFEXCEPTLIST, RPL_ENDOFEXCEPTLIST_F,
			ch->name);
	else
		irc_num(s, c, RPL_ENDOFINVEXLIST, RPL_ENDOFINVEXLIST_F,
			ch->name);
}

static uint32_t list_total(const struct irc_chan *ch)
{
	return ch->bans.n + ch->excepts.n + ch->invex.n;
}

/* Add or remove a list entry; true when something changed.  *shown gets
 * the mask as it is (or was) stored. */
static bool list_change(struct irc_server *s, struct irc_client *c,
			struct irc_chan *ch, const struct irc_mode_change *m,
			char *shown, size_t shown_sz)
{
	char mask[IRC_MASK_MAX + 1];
	if (m->arg.n == 0 || memchr(m->arg.p, ' ', m->arg.n) ||
	    irc_mask_normalize(m->arg.p, m->arg.n, mask, sizeof mask) < 0)
		return false;
	struct irc_list *l = list_of(ch, m->mode);
	enum irc_casemap cm = s->cfg->casemap;
	size_t mn = strlen(mask);
	for (uint32_t i = 0; i < l->n; i++) {
		if (!irc_caseeq(cm, l->v[i].mask, strlen(l->v[i].mask), mask, mn))
			continue;
		if (m->dir == '+')
			return false; /* already there */
		snprintf(shown, shown_sz, "%s", l->v[i].mask);
		free(l->v[i].mask);
		free(l->v[i].setter);
		l->v[i] = l->v[--l->n];
		return true;
	}
	if (m->dir == '-')
		return false;
	if (list_total(ch) >= s->cfg->maxlist) {
		irc_num(s, c, ERR_BANLISTFULL, ERR_BANLISTFULL_F, ch->name,
			m->mode);
		return false;
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 4;
		struct irc_listent *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	char pfx[IRC_PREFIX_MAX];
	struct irc_listent *e = &l->v[l->n];
	e->mask = strdup(mask);
	e->setter = strdup(irc_prefix(c, pfx, sizeof pfx));
	e->when = s->wall_ms / 1000;
	if (!e->mask || !e->setter) {
		free(e->mask);
		free(e->setter);
		return false;
	}
	l->n++;
	snprintf(shown, shown_sz, "%s", mask);
	return true;
}

static bool key_valid(struct irc_str k)
{
	if (k.n == 0 || k.n > KEYLEN || k.p[0] == ':')
		return false;
	for (size_t i = 0; i < k.n; i++) {
		unsigned char ch = (unsigned char)k.p[i];
		if (ch <= ' ' || ch == ',' || ch >= 0x7f)
			return false;
	}
	return true;
}

static void invalid_param(struct irc_server *s, struct irc_client *c,
			  struct irc_chan *ch, char mode, const char *why)
{
	irc_num(s, c, ERR_INVALIDMODEPARAM, ERR_INVALIDMODEPARAM_F, ch->name,
		mode, "*", why);
}

static uint32_t flag_bit(char mode)
{
	switch (mode) {
	case 'C': return IRC_CMODE_C;
	case 'i': return IRC_CMODE_I;
	case 'm': return IRC_CMODE_M;
	case 'n': return IRC_CMODE_N;
	case 's': return IRC_CMODE_S;
	case 't': return IRC_CMODE_T;
	default: return 0;
	}
}

/* One change by an operator; records it in a when it took effect. */
static void apply_one(struct irc_server *s, struct irc_client *c,
		      struct irc_chan *ch, const struct irc_mode_change *m,
		      struct applied *a)
{
	char buf[IRC_MASK_MAX + 16];
	bool plus = m->dir == '+';
	switch (m->kind) {
	case IRC_MODE_PREFIX: {
		struct irc_client *t = irc_find_nick(s, m->arg.p, m->arg.n);
		struct irc_member *tm = t ? irc_member_of(t, ch) : NULL;
		if (!t || !irc_client_registered(t)) {
			irc_num(s, c, ERR_NOSUCHNICK, "%.*s :No such nick/channel",
				(int)(m->arg.n > 64 ? 64 : m->arg.n), m->arg.p);
			return;
		}
		if (!tm) {
			irc_num(s, c, ERR_USERNOTINCHANNEL,
				ERR_USERNOTINCHANNEL_F, t->nick, ch->name);
			return;
		}
		uint8_t bit = m->mode == 'o' ? IRC_PFX_O : IRC_PFX_V;
		if (!!(tm->pfx & bit) == plus)
			return;
		tm->pfx = plus ? (uint8_t)(tm->pfx | bit)
			       : (uint8_t)(tm->pfx & ~bit);
		applied_add(a, m->dir, m->mode, m->kind, t->nick);
		return;
	}
	case IRC_MODE_LIST:
		if (list_change(s, c, ch, m, buf, sizeof buf))
			applied_add(a, m->dir, m->mode, m->kind, buf);
		return;
	case IRC_MODE_ALWAYS: /* k */
		if (!plus) {
			if (!(ch->modes & IRC_CMODE_K))
				return;
			free(ch->key);
			ch->key = NULL;
			ch->modes &= ~IRC_CMODE_K;
			applied_add(a, '-', 'k', m->kind, "*");
			return;
		}
		if (!key_valid(m->arg)) {
			invalid_param(s, c, ch, 'k', "Invalid key");
			return;
		}
		free(ch->key);
		ch->key = strndup(m->arg.p, m->arg.n);
		ch->modes |= IRC_CMODE_K;
		applied_add(a, '+', 'k', m->kind, ch->key);
		return;
	case IRC_MODE_SET: { /* l */
		if (!plus) {
			if (!(ch->modes & IRC_CMODE_L))
				return;
			ch->modes &= ~IRC_CMODE_L;
			ch->limit = 0;
			applied_add(a, '-', 'l', m->kind, NULL);
			return;
		}
		unsigned long v = 0;
		size_t i = 0;
		for (; i < m->arg.n && m->arg.p[i] >= '0' && m->arg.p[i] <= '9' &&
		       v < 1000000000;
		     i++)
			v = v * 10 + (unsigned long)(m->arg.p[i] - '0');
		if (m->arg.n == 0 || i != m->arg.n || v == 0 || v >= 1000000000) {
			invalid_param(s, c, ch, 'l', "Invalid limit");
			return;
		}
		if ((ch->modes & IRC_CMODE_L) && ch->limit == v)
			return;
		ch->modes |= IRC_CMODE_L;
		ch->limit = (uint32_t)v;
		snprintf(buf, sizeof buf, "%lu", v);
		applied_add(a, '+', 'l', m->kind, buf);
		return;
	}
	case IRC_MODE_FLAG: {
		uint32_t bit = flag_bit(m->mode);
		if (!bit || !!(ch->modes & bit) == plus)
			return;
		ch->modes = plus ? ch->modes | bit : ch->modes & ~bit;
		applied_add(a, m->dir, m->mode, m->kind, NULL);
		return;
	}
	default:
		return;
	}
}

static void broadcast_modes(struct irc_server *s, struct irc_client *c,
			    struct irc_chan *ch, struct applied *a)
{
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	size_t room = IRC_BODY_MAX - strlen(pfx) - strlen(ch->name) - 10;
	size_t at = 0;
	while (at < a->n) {
		char modes[IRC_MODE_MAX * 2 + 4];
		struct irc_str args[IRC_MAX_PARAMS];
		size_t nargs = 0;
		int took = irc_modes_format(a->ch + at, a->n - at,
					    s->cfg->maxmodes, room, modes,
					    sizeof modes, args, &nargs);
		if (took <= 0)
			break;
		char line[IRC_LINE_MAX];
		size_t k = (size_t)snprintf(line, sizeof line, "%s", modes);
		for (size_t i = 0; i < nargs && k < sizeof line; i++)
			k += (size_t)snprintf(line + k, sizeof line - k, " %.*s",
					      (int)args[i].n, args[i].p);
		struct irc_bcast b;
		if (irc_bcast_init(&b, s, NULL, 0, pfx, "MODE %s %s", ch->name,
				   line) == 0)
			irc_bcast_chan(&b, ch, NULL);
		irc_bcast_free(&b);
		at += (size_t)took;
	}
}

static int chan_mode(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	char buf[IRC_LINE_MAX];
	struct irc_chan *ch = irc_find_chan(s, m->params[0].p, m->params[0].n);
	if (!ch) {
		irc_str_copy(m->params[0], buf, 201);
		irc_num(s, c, ERR_NOSUCHCHANNEL, ERR_NOSUCHCHANNEL_F, buf);
		return IRC_CONTINUE;
	}
	struct irc_member *me = irc_member_of(c, ch);
	if (m->nparams < 2) {
		irc_chan_modestr(ch, me != NULL, buf, sizeof buf);
		irc_num(s, c, RPL_CHANNELMODEIS, RPL_CHANNELMODEIS_F, ch->name,
			buf);
		irc_num(s, c, RPL_CREATIONTIME, RPL_CREATIONTIME_F, ch->name,
			(long long)ch->created);
		return IRC_CONTINUE;
	}
	struct irc_modes r;
	irc_modes_parse(&s->chanspec, m->params[1], m->params + 2,
			m->nparams - 2, &r);
	for (const char *u = r.unknown; *u; u++)
		irc_num(s, c, ERR_UNKNOWNMODE, ERR_UNKNOWNMODE_F, *u);
	struct applied a;
	a.n = a.used = 0;
	bool denied = false;
	char listed[8] = "";
	for (size_t i = 0; i < r.n; i++) {
		const struct irc_mode_change *mc = &r.ch[i];
		if (mc->kind == IRC_MODE_LIST && !mc->arg.p) {
			/* "+b" alone: show the list, once per letter. */
			size_t ln = strlen(listed);
			if (!strchr(listed, mc->mode) && ln < 4) {
				listed[ln] = mc->mode;
				listed[ln + 1] = '\0';
				send_list(s, c, ch, mc->mode);
			}
			continue;
		}
		if (!me || !(me->pfx & IRC_PFX_O)) {
			if (!denied)
				irc_num(s, c,
					me ? ERR_CHANOPRIVSNEEDED : ERR_NOTONCHANNEL,
					me ? ERR_CHANOPRIVSNEEDED_F
					   : ERR_NOTONCHANNEL_F,
					ch->name);
			denied = true;
			continue;
		}
		apply_one(s, c, ch, mc, &a);
	}
	if (r.missing[0] && me && (me->pfx & IRC_PFX_O))
		irc_num(s, c, ERR_NEEDMOREPARAMS, ERR_NEEDMOREPARAMS_F, "MODE");
	if (a.n)
		broadcast_modes(s, c, ch, &a);
	return IRC_CONTINUE;
}

/* ---- user modes --------------------------------------------------------------- */

static int user_mode(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	struct irc_str t = m->params[0];
	if (!irc_caseeq(s->cfg->casemap, t.p, t.n, c->nick, strlen(c->nick))) {
		if (irc_find_nick(s, t.p, t.n))
			irc_num(s, c, ERR_USERSDONTMATCH, ERR_USERSDONTMATCH_F);
		else
			irc_num(s, c, ERR_NOSUCHNICK, "%.*s :No such nick/channel",
				(int)(t.n > 64 ? 64 : t.n), t.p);
		return IRC_CONTINUE;
	}
	char modes[8];
	if (m->nparams < 2) {
		irc_umode_str(c, modes, sizeof modes);
		irc_num(s, c, RPL_UMODEIS, RPL_UMODEIS_F, modes);
		return IRC_CONTINUE;
	}
	char out[32];
	size_t n = 0;
	char dir = '+', last = 0;
	bool unknown = false;
	struct irc_str ms = m->params[1];
	for (size_t i = 0; i < ms.n && n + 3 < sizeof out; i++) {
		char ch = ms.p[i];
		if (ch == '+' || ch == '-') {
			dir = ch;
			continue;
		}
		uint16_t bit = ch == 'i' ? IRC_UMODE_I
			     : ch == 'w' ? IRC_UMODE_W
			     : ch == 'B' ? IRC_UMODE_B
			     : ch == 'o' ? IRC_UMODE_O : 0;
		if (!bit) {
			unknown = true;
			continue;
		}
		/* +o comes only from OPER. */
		if ((bit == IRC_UMODE_O && dir == '+') ||
		    !!(c->umodes & bit) == (dir == '+'))
			continue;
		if (dir == '+')
			c->umodes |= bit;
		else
			c->umodes &= (uint16_t)~bit;
		if (bit == IRC_UMODE_I)
			s->ninvisible += dir == '+' ? 1u : (unsigned)-1;
		if (bit == IRC_UMODE_O)
			s->nopers--;
		if (last != dir)
			out[n++] = last = dir;
		out[n++] = ch;
	}
	out[n] = '\0';
	if (unknown)
		irc_num(s, c, ERR_UMODEUNKNOWNFLAG, ERR_UMODEUNKNOWNFLAG_F);
	if (n)
		irc_sendf(s, c, c->nick, "MODE %s :%s", c->nick, out);
	return IRC_CONTINUE;
}

static int cmd_mode(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	char t0 = m->params[0].n ? m->params[0].p[0] : 0;
	if (t0 == '#' || t0 == '&')
		return chan_mode(s, c, m);
	return user_mode(s, c, m);
}

const struct irc_cmd irc_cmds_mode[] = {
	{"MODE", cmd_mode, 1, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
