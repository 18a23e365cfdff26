/*
 * src/irc/cmd_oper.c - operators: OPER (PBKDF2-hashed passwords from the
 * config), KILL, WALLOPS, REHASH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

static const struct irc_oper *find_oper(const struct irc_config *cfg,
					struct irc_str name)
{
	for (size_t i = 0; i < cfg->nopers; i++)
		if (irc_str_eq(name, cfg->opers[i].name))
			return &cfg->opers[i];
	return NULL;
}

/* The oper block's user@host mask against the client's. */
static bool oper_host_ok(struct irc_server *s, const struct irc_client *c,
			 const struct irc_oper *o)
{
	char uh[IRC_PREFIX_MAX];
	int n = snprintf(uh, sizeof uh, "%s@%s", c->user, c->host);
	const char *mask = o->mask ? o->mask : "*@*";
	if (n < 0)
		return false;
	return irc_mask_match(s->cfg->casemap, mask, strlen(mask), uh, (size_t)n);
}

#define OPER_RETRY_MS 5000

static int cmd_oper(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	/* A password check is a deliberately slow hash: one failure makes
	 * the next attempt wait, so OPER cannot be used to burn CPU. */
	if (c->oper_fail_ms && s->now_ms - c->oper_fail_ms < OPER_RETRY_MS) {
		irc_num(s, c, ERR_PASSWDMISMATCH, ERR_PASSWDMISMATCH_F);
		return IRC_CONTINUE;
	}
	const struct irc_oper *o = find_oper(s->cfg, m->params[0]);
	if (!o) {
		irc_num(s, c, ERR_PASSWDMISMATCH, ERR_PASSWDMISMATCH_F);
		return IRC_CONTINUE;
	}
	if (!oper_host_ok(s, c, o)) {
		irc_num(s, c, ERR_NOOPERHOST, ERR_NOOPERHOST_F);
		return IRC_CONTINUE;
	}
	if (!irc_passwd_check(o->hash, m->params[1].p, m->params[1].n)) {
		c->oper_fail_ms = s->now_ms ? s->now_ms : 1;
		irc_num(s, c, ERR_PASSWDMISMATCH, ERR_PASSWDMISMATCH_F);
		return IRC_CONTINUE;
	}
	free(c->oper_name);
	c->oper_name = strdup(o->name);
	irc_num(s, c, RPL_YOUREOPER, RPL_YOUREOPER_F);
	if (!(c->umodes & IRC_UMODE_O)) {
		c->umodes |= IRC_UMODE_O;
		s->nopers++;
		irc_sendf(s, c, c->nick, "MODE %s :+o", c->nick);
	}
	return IRC_CONTINUE;
}

static int cmd_kill(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	struct irc_str t = m->params[0];
	struct irc_client *v = irc_find_nick(s, t.p, t.n);
	if (!v) {
		irc_num(s, c, ERR_NOSUCHNICK, "%.*s :No such nick/channel",
			(int)(t.n > 64 ? 64 : t.n), t.p);
		return IRC_CONTINUE;
	}
	struct irc_str why = m->nparams > 1 && m->params[1].n
				     ? m->params[1]
				     : irc_str("No reason given");
	char pfx[IRC_PREFIX_MAX], reason[400];
	snprintf(reason, sizeof reason, "Killed (%s (%.*s))", c->nick,
		 (int)irc_utf8_cut(why.p, why.n, 300), why.p);
	irc_sendf(s, v, irc_prefix(c, pfx, sizeof pfx), "KILL %s :%.*s",
		  v->nick, (int)irc_utf8_cut(why.p, why.n, 300), why.p);
	irc_quit(s, v, reason, true);
	return v == c ? IRC_CLOSED : IRC_CONTINUE;
}

static int cmd_wallops(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m)
{
	char pfx[IRC_PREFIX_MAX];
	struct irc_bcast b;
	if (irc_bcast_init(&b, s, NULL, 0, irc_prefix(c, pfx, sizeof pfx),
			   "WALLOPS :%.*s", (int)m->params[0].n,
			   m->params[0].p) == 0) {
		for (struct irc_client *o = s->clients; o; o = o->next)
			if (irc_client_registered(o) && (o->umodes & IRC_UMODE_W))
				irc_bcast_to(&b, o);
	}
	irc_bcast_free(&b);
	return IRC_CONTINUE;
}

static int cmd_rehash(struct irc_server *s, struct irc_client *c,
		      struct irc_msg *m)
{
	(void)m;
	irc_num(s, c, RPL_REHASHING, RPL_REHASHING_F, "ircd.conf");
	if (!s->rehash) {
		irc_notice(s, c, "*** No configuration file to reload");
		return IRC_CONTINUE;
	}
	char err[256] = "";
	if (s->rehash(s->rehash_ud, err, sizeof err) < 0)
		irc_notice(s, c, "*** Rehash failed: %s", err);
	else
		irc_notice(s, c, "*** Configuration reloaded");
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_oper[] = {
	{"KILL", cmd_kill, 1, IRC_CMD_REG | IRC_CMD_OPER, 500},
	{"OPER", cmd_oper, 2, IRC_CMD_REG, 5000},
	{"REHASH", cmd_rehash, 0, IRC_CMD_REG | IRC_CMD_OPER, 5000},
	{"WALLOPS", cmd_wallops, 1, IRC_CMD_REG | IRC_CMD_OPER, 1000},
	{NULL, NULL, 0, 0, 0},
};
