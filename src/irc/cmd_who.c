/*
 * src/irc/cmd_who.c - questions about users: WHO (with WHOX), WHOIS,
 * WHOWAS, ISON, USERHOST.
 *
 * Visibility follows the usual rules: an invisible (+i) user shows up in
 * mask searches only to people sharing a channel with them, but an exact
 * nick always answers; secret channels show only to their members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc/numerics.h"
#include "irc/server.h"

static unsigned long long idle_secs(struct irc_server *s,
				    const struct irc_client *o)
{
	return (unsigned long long)((s->now_ms - o->last_msg_ms) / 1000);
}

/* "H"/"G", "*" for an oper, then the channel prefixes. */
static void who_flags(const struct irc_client *o, const struct irc_member *mb,
		      bool multi, char *buf, size_t n)
{
	char pfx[4] = "";
	if (mb)
		irc_member_prefix(mb, multi, pfx);
	snprintf(buf, n, "%c%s%s%s", o->away ? 'G' : 'H',
		 o->umodes & IRC_UMODE_O ? "*" : "",
		 o->umodes & IRC_UMODE_B ? "B" : "", pfx);
}

struct whox {
	bool on;
	char fields[16];     /* requested letters, any order */
	char token[8];
};

static void parse_whox(struct irc_str opt, struct whox *w, bool *oper_only)
{
	memset(w, 0, sizeof *w);
	*oper_only = false;
	size_t i = 0;
	for (; i < opt.n && opt.p[i] != '%'; i++)
		if (opt.p[i] == 'o')
			*oper_only = true;
	if (i == opt.n)
		return;
	w->on = true;
	size_t k = 0;
	for (i++; i < opt.n && opt.p[i] != ','; i++)
		if (k + 1 < sizeof w->fields && strchr("tcuihsnfdlaor", opt.p[i]) &&
		    !memchr(w->fields, opt.p[i], k))
			w->fields[k++] = opt.p[i];
	if (i < opt.n) {
		size_t t = 0;
		for (i++; i < opt.n && t + 1 < sizeof w->token; i++)
			if (opt.p[i] >= '0' && opt.p[i] <= '9')
				w->token[t++] = opt.p[i];
		if (t == 0)
			w->token[t++] = '0';
	}
}

static void who_reply(struct irc_server *s, struct irc_client *c,
		      struct irc_client *o, const char *chan,
		      const struct irc_member *mb, const struct whox *w)
{
	char flags[8];
	who_flags(o, mb, c->caps & IRC_CAP_MULTI_PREFIX, flags, sizeof flags);
	if (!w->on) {
		irc_num(s, c, RPL_WHOREPLY, RPL_WHOREPLY_F, chan, o->user, o->host,
			s->cfg->server_name, o->nick, flags,
			o->realname ? o->realname : "");
		return;
	}
	/* WHOX fields go out in the spec's order, whatever the request's. */
	char out[IRC_LINE_MAX];
	size_t n = 0;
	for (const char *f = "tcuihsnfdlaor"; *f; f++) {
		if (!strchr(w->fields, *f))
			continue;
		const char *v = NULL;
		char num[32];
		switch (*f) {
		case 't': v = w->token[0] ? w->token : "0"; break;
		case 'c': v = chan; break;
		case 'u': v = o->user; break;
		case 'i': v = o->host; break;
		case 'h': v = o->host; break;
		case 's': v = s->cfg->server_name; break;
		case 'n': v = o->nick; break;
		case 'f': v = flags; break;
		case 'd': v = "0"; break;
		case 'l':
			snprintf(num, sizeof num, "%llu", idle_secs(s, o));
			v = num;
			break;
		case 'a': v = "0"; break;
		case 'o': v = "n/a"; break;
		case 'r': v = o->realname ? o->realname : ""; break;
		default: break;
		}
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s%s",
				      n ? " " : "", *f == 'r' ? ":" : "", v);
		if (n >= sizeof out)
			return;
	}
	irc_num(s, c, RPL_WHOSPCRPL, "%s", n ? out : "");
}

/* Does o match a WHO mask (nick, user, host, realname or server)? */
static bool who_match(struct irc_server *s, const struct irc_client *o,
		      struct irc_str mask)
{
	enum irc_casemap cm = s->cfg->casemap;
	const char *cand[] = {o->nick, o->user, o->host, o->realname,
			      s->cfg->server_name};
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
		if (cand[i] && irc_mask_match(cm, mask.p, mask.n, cand[i],
					      strlen(cand[i])))
			return true;
	/* "~user" is how users show: let "user" match it too. */
	return o->user[0] == '~' &&
	       irc_mask_match(cm, mask.p, mask.n, o->user + 1,
			      strlen(o->user + 1));
}

static int cmd_who(struct irc_server *s, struct irc_client *c,
		   struct irc_msg *m)
{
	struct irc_str mask = m->nparams ? m->params[0] : irc_str("*");
	if (mask.n == 0 || (mask.n == 1 && mask.p[0] == '0'))
		mask = irc_str("*");
	struct whox w;
	bool oper_only;
	parse_whox(m->nparams > 1 ? m->params[1] : IRC_STR_NONE, &w, &oper_only);
	if (mask.p[0] == '#' || mask.p[0] == '&') {
		struct irc_chan *ch = irc_find_chan(s, mask.p, mask.n);
		bool member = ch && irc_member_of(c, ch);
		if (ch && (member || !(ch->modes & IRC_CMODE_S))) {
			for (uint32_t i = 0; i < ch->nmem; i++) {
				struct irc_member *mb = ch->mem[i];
				struct irc_client *o = mb->cl;
				if ((!member && (o->umodes & IRC_UMODE_I)) ||
				    (oper_only && !(o->umodes & IRC_UMODE_O)))
					continue;
				who_reply(s, c, o, ch->name, mb, &w);
			}
		}
	} else {
		bool wild = irc_mask_is_wild(mask.p, mask.n);
		struct irc_client *exact = wild ? NULL
						: irc_find_nick(s, mask.p, mask.n);
		if (exact && irc_client_registered(exact)) {
			if (!oper_only || (exact->umodes & IRC_UMODE_O))
				who_reply(s, c, exact, "*", NULL, &w);
		} else {
			for (struct irc_client *o = s->clients; o; o = o->next) {
				if (!irc_client_registered(o) ||
				    (oper_only && !(o->umodes & IRC_UMODE_O)))
					continue;
				if (o != c && (o->umodes & IRC_UMODE_I) &&
				    !irc_share_chan(c, o))
					continue;
				if (who_match(s, o, mask))
					who_reply(s, c, o, "*", NULL, &w);
				if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
					return IRC_CONTINUE;
			}
		}
	}
	irc_num(s, c, RPL_ENDOFWHO, "%.*s :End of WHO list",
		(int)(mask.n > 200 ? 200 : mask.n), mask.p);
	return IRC_CONTINUE;
}

/* ---- WHOIS ---------------------------------------------------------------------- */

static void whois_channels(struct irc_server *s, struct irc_client *c,
			   struct irc_client *o)
{
	bool multi = c->caps & IRC_CAP_MULTI_PREFIX;
	char list[400];
	size_t n = 0;
	for (struct irc_member *mb = o->chans; mb; mb = mb->cnext) {
		struct irc_chan *ch = mb->ch;
		bool shared = irc_member_of(c, ch) != NULL;
		if (c != o && !shared &&
		    ((ch->modes & IRC_CMODE_S) || (o->umodes & IRC_UMODE_I)))
			continue;
		char pfx[4];
		irc_member_prefix(mb, multi, pfx);
		size_t need = strlen(pfx) + strlen(ch->name) + 1;
		if (n && n + need >= sizeof list) {
			list[n] = '\0';
			irc_num(s, c, RPL_WHOISCHANNELS, RPL_WHOISCHANNELS_F,
				o->nick, list);
			n = 0;
		}
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s%s",
				      n ? " " : "", pfx, ch->name);
	}
	if (n)
		irc_num(s, c, RPL_WHOISCHANNELS, RPL_WHOISCHANNELS_F, o->nick,
			list);
}

static void whois_one(struct irc_server *s, struct irc_client *c,
		      struct irc_client *o)
{
	irc_num(s, c, RPL_WHOISUSER, RPL_WHOISUSER_F, o->nick, o->user, o->host,
		o->realname ? o->realname : "");
	whois_channels(s, c, o);
	irc_num(s, c, RPL_WHOISSERVER, RPL_WHOISSERVER_F, o->nick,
		s->cfg->server_name, s->cfg->description);
	if (o->umodes & IRC_UMODE_O)
		irc_num(s, c, RPL_WHOISOPERATOR, RPL_WHOISOPERATOR_F, o->nick);
	if (o->umodes & IRC_UMODE_B)
		irc_num(s, c, RPL_WHOISBOT, RPL_WHOISBOT_F, o->nick,
			s->cfg->network);
	if (o->away)
		irc_num(s, c, RPL_AWAY, RPL_AWAY_F, o->nick, o->away);
	if (c == o || (c->umodes & IRC_UMODE_O)) {
		char modes[8];
		irc_umode_str(o, modes, sizeof modes);
		irc_num(s, c, RPL_WHOISHOST, RPL_WHOISHOST_F, o->nick, o->user,
			o->host, o->host);
		irc_num(s, c, RPL_WHOISMODES, RPL_WHOISMODES_F, o->nick, modes);
	}
	if (o->flags & IRC_CF_TLS)
		irc_num(s, c, RPL_WHOISSECURE, RPL_WHOISSECURE_F, o->nick);
	irc_num(s, c, RPL_WHOISIDLE, RPL_WHOISIDLE_F, o->nick, idle_secs(s, o),
		(long long)o->signon);
}

static int cmd_whois(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	/* "WHOIS [server] nick": the nick is the last parameter. */
	struct irc_str t = m->params[m->nparams - 1];
	const char *comma = memchr(t.p, ',', t.n);
	if (comma)
		t.n = (size_t)(comma - t.p); /* TARGMAX WHOIS:1 */
	int shown = (int)(t.n > IRC_NICKLEN_MAX ? IRC_NICKLEN_MAX : t.n);
	struct irc_client *o = irc_find_nick(s, t.p, t.n);
	if (!o || !irc_client_registered(o))
		irc_num(s, c, ERR_NOSUCHNICK, "%.*s :No such nick/channel", shown,
			t.p);
	else
		whois_one(s, c, o);
	irc_num(s, c, RPL_ENDOFWHOIS, "%.*s :End of /WHOIS list",
		o ? (int)strlen(o->nick) : shown, o ? o->nick : t.p);
	return IRC_CONTINUE;
}

/* ---- WHOWAS -------------------------------------------------------------------- */

static int cmd_whowas(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	if (m->nparams == 0 || m->params[0].n == 0) {
		irc_num(s, c, ERR_NONICKNAMEGIVEN, ERR_NONICKNAMEGIVEN_F);
		return IRC_CONTINUE;
	}
	struct irc_str t = m->params[0];
	unsigned long count = 0;
	if (m->nparams > 1)
		count = irc_str_ulong(m->params[1], 1000000, NULL);
	enum irc_casemap cm = s->cfg->casemap;
	bool wild = irc_mask_is_wild(t.p, t.n);
	unsigned long found = 0;
	for (size_t i = 0; i < s->whowas_n; i++) {
		if (count > 0 && found >= count)
			break;
		size_t at = (s->whowas_pos + s->whowas_cap - 1 - i) % s->whowas_cap;
		const struct irc_whowas *w = &s->whowas[at];
		size_t nn = strlen(w->nick);
		if (wild ? !irc_mask_match(cm, t.p, t.n, w->nick, nn)
			 : !irc_caseeq(cm, t.p, t.n, w->nick, nn))
			continue;
		found++;
		irc_num(s, c, RPL_WHOWASUSER, RPL_WHOWASUSER_F, w->nick, w->user,
			w->host, w->realname ? w->realname : "");
		time_t when = (time_t)w->when;
		char tbuf[64];
		struct tm tm;
		gmtime_r(&when, &tm);
		strftime(tbuf, sizeof tbuf, "%a %b %d %H:%M:%S %Y", &tm);
		irc_num(s, c, RPL_WHOISSERVER, RPL_WHOISSERVER_F, w->nick,
			s->cfg->server_name, tbuf);
	}
	int shown = (int)(t.n > 64 ? 64 : t.n);
	if (!found)
		irc_num(s, c, ERR_WASNOSUCHNICK, "%.*s :There was no such nickname",
			shown, t.p);
	irc_num(s, c, RPL_ENDOFWHOWAS, "%.*s :End of WHOWAS", shown, t.p);
	return IRC_CONTINUE;
}

/* ---- ISON, USERHOST --------------------------------------------------------------- */

static int cmd_ison(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	char out[IRC_LINE_MAX];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nparams; i++) {
		struct irc_str l = m->params[i];
		while (l.n) {
			const char *sp = memchr(l.p, ' ', l.n);
			size_t wn = sp ? (size_t)(sp - l.p) : l.n;
			struct irc_client *o = wn ? irc_find_nick(s, l.p, wn) : NULL;
			if (o && irc_client_registered(o) &&
			    n + strlen(o->nick) + 2 < 400)
				n += (size_t)snprintf(out + n, sizeof out - n,
						      "%s%s", n ? " " : "",
						      o->nick);
			l.p += sp ? wn + 1 : wn;
			l.n -= sp ? wn + 1 : wn;
		}
	}
	irc_num(s, c, RPL_ISON, RPL_ISON_F, out);
	return IRC_CONTINUE;
}

static int cmd_userhost(struct irc_server *s, struct irc_client *c,
			struct irc_msg *m)
{
	char out[IRC_LINE_MAX];
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nparams && i < 5; i++) {
		struct irc_client *o = irc_find_nick(s, m->params[i].p,
						     m->params[i].n);
		if (!o || !irc_client_registered(o))
			continue;
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s%s=%c%s@%s",
				      n ? " " : "", o->nick,
				      o->umodes & IRC_UMODE_O ? "*" : "",
				      o->away ? '-' : '+', o->user,
				      o->host);
	}
	irc_num(s, c, RPL_USERHOST, RPL_USERHOST_F, out);
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_who[] = {
	{"ISON", cmd_ison, 1, IRC_CMD_REG, 500},
	{"USERHOST", cmd_userhost, 1, IRC_CMD_REG, 500},
	{"WHO", cmd_who, 0, IRC_CMD_REG, 2000},
	{"WHOIS", cmd_whois, 1, IRC_CMD_REG, 1000},
	{"WHOWAS", cmd_whowas, 0, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
