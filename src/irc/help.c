/*
 * src/irc/help.c - HELP / HELPOP (RPL_HELPSTART 704, RPL_HELPTXT 705,
 * RPL_ENDOFHELP 706, ERR_HELPNOTFOUND 524) and LINKS.
 */
#include <stdio.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

#define RPL_HELPSTART 704
#define RPL_HELPTXT 705
#define RPL_ENDOFHELP 706
#define ERR_HELPNOTFOUND 524
#define RPL_LINKS 364
#define RPL_ENDOFLINKS 365

struct topic {
	const char *name;
	const char *text; /* lines separated by '\n' */
};

static const struct topic topics[] = {
	{"*", "sockit ircd commands (HELP <command> for details):\n"
	      "ADMIN AWAY CAP INFO INVITE ISON JOIN KICK KILL LINKS LIST\n"
	      "LUSERS MODE MONITOR MOTD NAMES NICK NOTICE OPER PART PASS PING\n"
	      "PONG PRIVMSG QUIT REHASH SETNAME TAGMSG TIME TOPIC USER USERHOST\n"
	      "VERSION WALLOPS WHO WHOIS WHOWAS"},
	{"ADMIN", "ADMIN: who runs this server."},
	{"AWAY", "AWAY [:message]\nMark yourself away with a message, or back "
		 "without one."},
	{"CAP", "CAP LS [302] | LIST | REQ :caps | END\nIRCv3 capability "
		"negotiation."},
	{"INFO", "INFO: about this server software."},
	{"INVITE", "INVITE <nick> <#channel>\nInvite someone (needs +o on "
		   "+i channels).  INVITE alone lists your invitations."},
	{"ISON", "ISON <nick> [<nick> ...]\nWhich of these nicks are online."},
	{"JOIN", "JOIN <#chan>[,<#chan>...] [<key>[,<key>...]]\nJoin channels; "
		 "JOIN 0 leaves them all."},
	{"KICK", "KICK <#channel> <nick>[,<nick>...] [:reason]\nRemove someone "
		 "from a channel (needs +o)."},
	{"KILL", "KILL <nick> [:reason]\nDisconnect a user (operators)."},
	{"LINKS", "LINKS: the servers of this network (just this one)."},
	{"LIST", "LIST [filters]\nChannels, with filters: masks, !mask, >N, <N "
		 "(users),\nC>N, C<N (created minutes ago), T>N, T<N (topic age)."},
	{"LUSERS", "LUSERS: user and channel counts."},
	{"MODE", "MODE <#channel> [modes [args]] | MODE <nick> [modes]\n"
		 "Channel modes: b e I (lists), k key, l limit, i m n s t, o v.\n"
		 "User modes: i invisible, w wallops, B bot, o operator."},
	{"MONITOR", "MONITOR + nick[,nick...] | - nick[,...] | C | L | S\n"
		    "Get told when these nicks come online or go offline."},
	{"MOTD", "MOTD: the message of the day."},
	{"NAMES", "NAMES [<#chan>[,<#chan>...]]\nWho is on a channel."},
	{"NICK", "NICK <nick>\nChoose or change your nickname."},
	{"NOTICE", "NOTICE <target>[,<target>...] :text\nLike PRIVMSG, but never "
		   "answered automatically."},
	{"OPER", "OPER <name> <password>\nBecome an IRC operator."},
	{"PART", "PART <#chan>[,<#chan>...] [:reason]\nLeave channels."},
	{"PASS", "PASS <password>\nThe connection password, before NICK/USER."},
	{"PING", "PING <token>\nThe server answers PONG <token>."},
	{"PONG", "PONG <token>\nThe answer to the server's PING."},
	{"PRIVMSG", "PRIVMSG <target>[,<target>...] :text\nSend a message to "
		    "nicks or channels (@#chan: its operators)."},
	{"QUIT", "QUIT [:reason]\nDisconnect."},
	{"REHASH", "REHASH: reload the configuration file (operators)."},
	{"SETNAME", "SETNAME :realname\nChange your real name (setname cap)."},
	{"TAGMSG", "TAGMSG <target>\nA message with only tags (message-tags)."},
	{"TIME", "TIME: the server's clock."},
	{"TOPIC", "TOPIC <#channel> [:topic]\nShow or set the topic (+t: "
		  "operators only)."},
	{"USER", "USER <username> 0 * :<realname>\nPart of registration."},
	{"USERHOST", "USERHOST <nick> [<nick> ...]\nnick=+user@host for up to "
		     "five nicks."},
	{"VERSION", "VERSION: the server version and its ISUPPORT tokens."},
	{"WALLOPS", "WALLOPS :text\nA message to everyone with +w (operators)."},
	{"WHO", "WHO <mask|#channel> [o][%fields[,token]]\nList users; %fields "
		"is WHOX (tcuihsnfdlaor)."},
	{"WHOIS", "WHOIS [server] <nick>\nAbout a user."},
	{"WHOWAS", "WHOWAS <nick> [count]\nAbout a user who left."},
};

static int cmd_help(struct irc_server *s, struct irc_client *c,
		    struct irc_msg *m)
{
	char subject[32] = "*";
	if (m->nparams && m->params[0].n &&
	    irc_cmd_upper(m->params[0], subject, sizeof subject) < 0) {
		snprintf(subject, sizeof subject, "%.31s", "?");
	} else if (m->nparams && m->params[0].n) {
		/* Echo only printable bytes: the subject is a middle param. */
		for (char *p = subject; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == ':' ||
			    (unsigned char)*p >= 0x7f)
				*p = '?';
	}
	const struct topic *t = NULL;
	for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
		if (strcmp(topics[i].name, subject) == 0)
			t = &topics[i];
	if (!t) {
		irc_num(s, c, ERR_HELPNOTFOUND, "%s :No help available on this topic",
			subject[0] ? subject : "*");
		return IRC_CONTINUE;
	}
	const char *p = t->text;
	int code = RPL_HELPSTART;
	while (*p) {
		size_t n = strcspn(p, "\n");
		irc_num(s, c, code, "%s :%.*s", subject, (int)n, p);
		code = RPL_HELPTXT;
		p += n + (p[n] == '\n');
	}
	irc_num(s, c, RPL_ENDOFHELP, "%s :End of /HELP", subject);
	return IRC_CONTINUE;
}

static int cmd_links(struct irc_server *s, struct irc_client *c,
		     struct irc_msg *m)
{
	(void)m;
	irc_num(s, c, RPL_LINKS, "%s %s :0 %s", s->cfg->server_name,
		s->cfg->server_name, s->cfg->description);
	irc_num(s, c, RPL_ENDOFLINKS, "* :End of /LINKS list");
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_help[] = {
	{"HELP", cmd_help, 0, IRC_CMD_REG, 1000},
	{"HELPOP", cmd_help, 0, IRC_CMD_REG, 1000},
	{"LINKS", cmd_links, 0, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
