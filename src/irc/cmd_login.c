/*
 * src/irc/cmd_login.c - connection registration and the connection's own
 * commands: PASS, NICK, USER, PING, PONG, QUIT, SETNAME, and the welcome
 * burst (001-005, LUSERS, MOTD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

#define ERR_INVALIDUSERNAME 468
#define REALNAME_MAX 200

/* Each call sends the whole welcome burst once NICK, USER (and CAP END
 * and PASS, when they apply) are in. */
int irc_try_register(struct irc_server *s, struct irc_client *c)
{
	const struct irc_config *cfg = s->cfg;
	if (irc_client_registered(c) ||
	    (c->flags & (IRC_CF_NICK | IRC_CF_USER)) !=
		    (IRC_CF_NICK | IRC_CF_USER) ||
	    (c->flags & IRC_CF_CAPNEG))
		return IRC_CONTINUE;
	if (cfg->password && !(c->flags & IRC_CF_PASS)) {
		irc_num(s, c, ERR_PASSWDMISMATCH, ERR_PASSWDMISMATCH_F);
		irc_quit(s, c, "Bad password", true);
		return IRC_CLOSED;
	}
	c->flags |= IRC_CF_REG;
	s->nunknown--;
	c->signon = s->wall_ms / 1000;
	c->last_msg_ms = s->now_ms;
	unsigned users = s->nclients - s->nunknown;
	if (users > s->max_clients_seen)
		s->max_clients_seen = users;
	char pfx[IRC_PREFIX_MAX];
	irc_num(s, c, RPL_WELCOME, RPL_WELCOME_F, cfg->network,
		irc_prefix(c, pfx, sizeof pfx));
	irc_num(s, c, RPL_YOURHOST, RPL_YOURHOST_F, cfg->server_name,
		IRC_VERSION);
	irc_num(s, c, RPL_CREATED, RPL_CREATED_F, s->created);
	irc_num(s, c, RPL_MYINFO, RPL_MYINFO_F, cfg->server_name, IRC_VERSION,
		"Biow", "CbeIiklmnostv", "beIklov");
	irc_send_isupport(s, c);
	irc_send_lusers(s, c);
	irc_send_motd(s, c);
	irc_monitor_online(s, c);
	return IRC_CONTINUE;
}

static int cmd_pass(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (irc_client_registered(c)) {
		irc_num(s, c, ERR_ALREADYREGISTERED, ERR_ALREADYREGISTERED_F);
		return IRC_CONTINUE;
	}
	/* Only the first few count: a hashed password is slow to check. */
	if (c->npass >= 3)
		return IRC_CONTINUE;
	c->npass++;
	if (s->cfg->password &&
	    irc_passwd_check(s->cfg->password, m->params[0].p, m->params[0].n))
		c->flags = (c->flags | IRC_CF_PASS) & ~IRC_CF_BADPASS;
	else
		c->flags = (c->flags | IRC_CF_BADPASS) & ~IRC_CF_PASS;
	return IRC_CONTINUE;
}

static int cmd_nick(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (m->nparams == 0 || m->params[0].n == 0) {
		irc_num(s, c, ERR_NONICKNAMEGIVEN, ERR_NONICKNAMEGIVEN_F);
		return IRC_CONTINUE;
	}
	struct irc_str n = m->params[0];
	if (!irc_nick_valid(n.p, n.n, s->cfg->nicklen)) {
		char shown[IRC_NICKLEN_MAX + 1];
		size_t k = 0;
		for (; k < n.n && k < IRC_NICKLEN_MAX; k++)
			shown[k] = n.p[k] == ' ' ? '_' : n.p[k];
		shown[k] = '\0';
		if (shown[0] == ':')
			shown[0] = '*';
		irc_num(s, c, ERR_ERRONEUSNICKNAME, ERR_ERRONEUSNICKNAME_F,
			shown);
		return IRC_CONTINUE;
	}
	struct irc_client *o = irc_find_nick(s, n.p, n.n);
	if (o && o != c) {
		irc_num(s, c, ERR_NICKNAMEINUSE, "%.*s :Nickname is already "
			"in use", (int)n.n, n.p);
		return IRC_CONTINUE;
	}
	if (o == c && strlen(c->nick) == n.n && memcmp(c->nick, n.p, n.n) == 0)
		return IRC_CONTINUE; /* no change at all */
	if (!irc_client_registered(c)) {
		irc_set_nick(s, c, n.p, n.n);
		return irc_try_register(s, c);
	}
	char pfx[IRC_PREFIX_MAX];
	struct irc_bcast b;
	if (irc_bcast_init(&b, s, NULL, 0, irc_prefix(c, pfx, sizeof pfx),
			   "NICK :%.*s", (int)n.n, n.p) == 0) {
		bool renamed = o != c; /* not just a change of case */
		irc_whowas_add(s, c);
		if (renamed)
			irc_monitor_offline(s, c->nick);
		irc_set_nick(s, c, n.p, n.n);
		irc_bcast_common(&b, c, true);
		if (renamed)
			irc_monitor_online(s, c);
	}
	irc_bcast_free(&b);
	return IRC_CONTINUE;
}

/* The username as shown: "~" (no ident check) and the bytes of the given
 * one that are valid in a user@host, cut to userlen. */
static void set_user(struct irc_server *s, struct irc_client *c,
		     struct irc_str u)
{
	size_t max = s->cfg->userlen, k = 0;
	c->user[k++] = '~';
	for (size_t i = 0; i < u.n && k <= max; i++) {
		unsigned char ch = (unsigned char)u.p[i];
		if (ch > ' ' && ch < 0x7f && ch != '!' && ch != '@' &&
		    !(k == 1 && ch == ':'))
			c->user[k++] = (char)ch;
	}
	if (k == 1)
		memcpy(c->user + 1, "user", 4), k = 5;
	c->user[k] = '\0';
}

static int cmd_user(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (irc_client_registered(c)) {
		irc_num(s, c, ERR_ALREADYREGISTERED, ERR_ALREADYREGISTERED_F);
		return IRC_CONTINUE;
	}
	if (m->params[0].n == 0 || m->params[3].n == 0) {
		irc_num(s, c, ERR_NEEDMOREPARAMS, ERR_NEEDMOREPARAMS_F, "USER");
		return IRC_CONTINUE;
	}
	set_user(s, c, m->params[0]);
	size_t rn = irc_utf8_cut(m->params[3].p, m->params[3].n, REALNAME_MAX);
	char *rname = malloc(rn + 1);
	if (!rname)
		return IRC_CONTINUE;
	memcpy(rname, m->params[3].p, rn);
	rname[rn] = '\0';
	free(c->realname);
	c->realname = rname;
	c->flags |= IRC_CF_USER;
	return irc_try_register(s, c);
}

static int cmd_ping(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	if (m->nparams == 0 || m->params[0].n == 0) {
		irc_num(s, c, ERR_NOORIGIN, ERR_NOORIGIN_F);
		return IRC_CONTINUE;
	}
	irc_sendf(s, c, s->cfg->server_name, "PONG %s :%.*s",
		  s->cfg->server_name, (int)m->params[0].n, m->params[0].p);
	return IRC_CONTINUE;
}

static int cmd_pong(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	/* Any line already counts as a sign of life. */
	(void)s, (void)c, (void)m;
	return IRC_CONTINUE;
}

static int cmd_quit(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	char reason[400];
	if (m->nparams && m->params[0].n)
		snprintf(reason, sizeof reason, "Quit: %.*s",
			 (int)irc_utf8_cut(m->params[0].p, m->params[0].n, 300),
			 m->params[0].p);
	else
		snprintf(reason, sizeof reason, "Client Quit");
	irc_quit(s, c, reason, true);
	return IRC_CLOSED;
}

static int cmd_setname(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m)
{
	struct irc_str r = m->params[0];
	if (r.n == 0 || r.n > REALNAME_MAX) {
		irc_std_reply(s, c, "FAIL", "SETNAME", "INVALID_REALNAME", NULL,
			      "Realname is not valid");
		return IRC_CONTINUE;
	}
	char *rname = malloc(r.n + 1);
	if (!rname)
		return IRC_CONTINUE;
	memcpy(rname, r.p, r.n);
	rname[r.n] = '\0';
	free(c->realname);
	c->realname = rname;
	char pfx[IRC_PREFIX_MAX];
	struct irc_bcast b;
	if (irc_bcast_init(&b, s, NULL, 0, irc_prefix(c, pfx, sizeof pfx),
			   "SETNAME :%s", rname) == 0) {
		b.need_caps = IRC_CAP_SETNAME;
		irc_bcast_common(&b, c, true);
		irc_monitor_extend(&b, c);
	}
	irc_bcast_free(&b);
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_login[] = {
	{"NICK", cmd_nick, 0, IRC_CMD_ANY, 1000},
	{"PASS", cmd_pass, 1, IRC_CMD_ANY, 1000},
	{"PING", cmd_ping, 0, IRC_CMD_ANY, 500},
	{"PONG", cmd_pong, 0, IRC_CMD_ANY, 0},
	{"QUIT", cmd_quit, 0, IRC_CMD_ANY, 0},
	{"SETNAME", cmd_setname, 1, IRC_CMD_REG, 2000},
	{"USER", cmd_user, 4, IRC_CMD_ANY, 1000},
	{NULL, NULL, 0, 0, 0},
};
