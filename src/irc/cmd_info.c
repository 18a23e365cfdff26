/*
 * src/irc/cmd_info.c - what the server says about itself: RPL_ISUPPORT,
 * LUSERS, MOTD, VERSION, TIME, ADMIN, INFO.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc/numerics.h"
#include "irc/server.h"
#include "sockit/error.h"

#define TOKENS_PER_LINE 13 /* 15 params minus the nick and the text */

/* RPL_ISUPPORT is built from the same config values the commands
 * enforce, so the two cannot drift apart. */
int irc_isupport_build(struct irc_server *s)
{
	const struct irc_config *c = s->cfg;
	char tok[32][160];
	size_t n = 0;
#define TOK(...) snprintf(tok[n++], sizeof tok[0], __VA_ARGS__)
	TOK("AWAYLEN=%u", c->awaylen);
	TOK("BOT=B");
	TOK("CASEMAPPING=%s", irc_casemap_name(c->casemap));
	TOK("CHANLIMIT=#&:%u", c->maxchannels);
	TOK("CHANMODES=%s", IRC_CHANMODES);
	TOK("CHANNELLEN=%u", c->channellen);
	TOK("CHANTYPES=" IRC_CHANTYPES_DEFAULT);
	TOK("ELIST=CMNTU");
	TOK("EXCEPTS=e");
	TOK("HOSTLEN=%u", IRC_HOSTLEN_MAX);
	TOK("INVEX=I");
	TOK("KICKLEN=%u", c->kicklen);
	TOK("MAXLIST=beI:%u", c->maxlist);
	TOK("MAXTARGETS=%u", c->maxtargets);
	TOK("MODES=%u", c->maxmodes);
	TOK("MONITOR=%u", IRC_MONITOR_MAX);
	TOK("NETWORK=%s", c->network);
	TOK("NICKLEN=%u", c->nicklen);
	TOK("PREFIX=(ov)@+");
	TOK("STATUSMSG=@+");
	TOK("TARGMAX=JOIN:,KICK:%u,NAMES:%u,NOTICE:%u,PART:,PRIVMSG:%u,"
	    "TAGMSG:%u,WHOIS:1",
	    c->maxtargets, c->maxtargets, c->maxtargets, c->maxtargets,
	    c->maxtargets);
	TOK("TOPICLEN=%u", c->topiclen);
	TOK("USERLEN=%u", c->userlen);
	if (c->utf8_only)
		TOK("UTF8ONLY");
	TOK("WHOX");
#undef TOK
	for (size_t i = 0; i < s->nisupport; i++)
		free(s->isupport[i]);
	s->nisupport = 0;
	for (size_t i = 0; i < n && s->nisupport < IRC_ISUPPORT_LINES;
	     i += TOKENS_PER_LINE) {
		char line[IRC_LINE_MAX];
		size_t k = 0;
		for (size_t j = i; j < n && j < i + TOKENS_PER_LINE; j++)
			k += (size_t)snprintf(line + k, sizeof line - k, "%s%s",
					      k ? " " : "", tok[j]);
		if (!(s->isupport[s->nisupport] = strdup(line)))
			return SK_ENOMEM;
		s->nisupport++;
	}
	return 0;
}

void irc_send_isupport(struct irc_server *s, struct irc_client *c)
{
	for (size_t i = 0; i < s->nisupport; i++)
		irc_num(s, c, RPL_ISUPPORT, RPL_ISUPPORT_F, s->isupport[i]);
}

void irc_send_lusers(struct irc_server *s, struct irc_client *c)
{
	unsigned users = s->nclients - s->nunknown;
	unsigned max = s->max_clients_seen;
	irc_num(s, c, RPL_LUSERCLIENT, RPL_LUSERCLIENT_F, users - s->ninvisible,
		s->ninvisible);
	irc_num(s, c, RPL_LUSEROP, RPL_LUSEROP_F, s->nopers);
	irc_num(s, c, RPL_LUSERUNKNOWN, RPL_LUSERUNKNOWN_F, s->nunknown);
	irc_num(s, c, RPL_LUSERCHANNELS, RPL_LUSERCHANNELS_F, s->nchans);
	irc_num(s, c, RPL_LUSERME, RPL_LUSERME_F, users);
	irc_num(s, c, RPL_LOCALUSERS, RPL_LOCALUSERS_F, users, max, users, max);
	irc_num(s, c, RPL_GLOBALUSERS, RPL_GLOBALUSERS_F, users, max, users,
		max);
}

void irc_send_motd(struct irc_server *s, struct irc_client *c)
{
	const char *p = s->cfg->motd;
	if (!p || !*p) {
		irc_num(s, c, ERR_NOMOTD, ERR_NOMOTD_F);
		return;
	}
	irc_num(s, c, RPL_MOTDSTART, RPL_MOTDSTART_F, s->cfg->server_name);
	while (*p) {
		size_t n = strcspn(p, "\n");
		/* Long lines are cut by the line writer. */
		irc_num(s, c, RPL_MOTD, ":- %.*s", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
		if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
			return;
	}
	irc_num(s, c, RPL_ENDOFMOTD, RPL_ENDOFMOTD_F);
}

/* A server parameter that is not us: 402 and false. */
static bool our_server(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m, size_t i)
{
	if (m->nparams <= i || m->params[i].n == 0)
		return true;
	struct irc_str t = m->params[i];
	const char *name = s->cfg->server_name;
	if (irc_mask_match(s->cfg->casemap, t.p, t.n, name, strlen(name)))
		return true;
	/* A nick names the server that user is on: this one. */
	if (irc_find_nick(s, t.p, t.n))
		return true;
	irc_num(s, c, ERR_NOSUCHSERVER, "%.*s :No such server",
		(int)(t.n > 64 ? 64 : t.n), t.p);
	return false;
}

static int cmd_lusers(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	(void)m;
	irc_send_lusers(s, c);
	return IRC_CONTINUE;
}

static int cmd_motd(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (our_server(s, c, m, 0))
		irc_send_motd(s, c);
	return IRC_CONTINUE;
}

static int cmd_version(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m)
{
	if (!our_server(s, c, m, 0))
		return IRC_CONTINUE;
	irc_num(s, c, RPL_VERSION, RPL_VERSION_F, IRC_VERSION,
		s->cfg->server_name, "libsockit event loop");
	irc_send_isupport(s, c);
	return IRC_CONTINUE;
}

static int cmd_time(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (!our_server(s, c, m, 0))
		return IRC_CONTINUE;
	time_t now = (time_t)(s->wall_ms / 1000);
	struct tm tm;
	char human[64];
	gmtime_r(&now, &tm);
	strftime(human, sizeof human, "%A %B %d %Y -- %H:%M:%S +00:00", &tm);
	irc_num(s, c, RPL_TIME, RPL_TIME_F, s->cfg->server_name,
		(long long)now, human);
	return IRC_CONTINUE;
}

static int cmd_admin(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	if (!our_server(s, c, m, 0))
		return IRC_CONTINUE;
	const struct irc_config *cfg = s->cfg;
	irc_num(s, c, RPL_ADMINME, RPL_ADMINME_F, cfg->server_name);
	irc_num(s, c, RPL_ADMINLOC1, RPL_ADMIN_F, cfg->admin1 ? cfg->admin1 : "");
	irc_num(s, c, RPL_ADMINLOC2, RPL_ADMIN_F, cfg->admin2 ? cfg->admin2 : "");
	irc_num(s, c, RPL_ADMINEMAIL, RPL_ADMIN_F,
		cfg->admin_email ? cfg->admin_email : "");
	return IRC_CONTINUE;
}

static int cmd_info(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (!our_server(s, c, m, 0))
		return IRC_CONTINUE;
	static const char *const lines[] = {
		"sockit ircd: an IRC server built on libsockit,",
		"an event-driven C socket library.",
		"",
		"The protocol layer is pure functions over bytes; the server",
		"state machine is driven one line at a time, and every",
		"connection, timer and signal goes through the sockit loop.",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		irc_num(s, c, RPL_INFO, RPL_INFO_F, lines[i]);
	irc_num(s, c, RPL_INFO, ":Birth date: %s", s->created);
	irc_num(s, c, RPL_ENDOFINFO, RPL_ENDOFINFO_F);
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_info[] = {
	{"ADMIN", cmd_admin, 0, IRC_CMD_REG, 1000},
	{"INFO", cmd_info, 0, IRC_CMD_REG, 2000},
	{"LUSERS", cmd_lusers, 0, IRC_CMD_REG, 1000},
	{"MOTD", cmd_motd, 0, IRC_CMD_REG, 2000},
	{"TIME", cmd_time, 0, IRC_CMD_REG, 1000},
	{"VERSION", cmd_version, 0, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
