/*
 * src/irc/caps.c - IRCv3 capability negotiation: CAP LS / LIST / REQ /
 * END (capability-negotiation 3.2, "CAP LS 302").
 *
 * A client that sends CAP LS or CAP REQ before registering is held until
 * CAP END.  REQ is all-or-nothing: one unknown name NAKs the whole list,
 * echoed as sent.  "-name" removes a capability.  A 302 client gets
 * cap-notify implicitly, as the spec says.
 */
#include <stdio.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

#define ERR_INVALIDCAPCMD 410

static const struct {
	const char *name;
	uint32_t bit;
} caps[] = {
	{"account-notify", IRC_CAP_ACCOUNT_NOTIFY},
	{"away-notify", IRC_CAP_AWAY_NOTIFY},
	{"batch", IRC_CAP_BATCH},
	{"cap-notify", IRC_CAP_CAP_NOTIFY},
	{"echo-message", IRC_CAP_ECHO_MESSAGE},
	{"extended-join", IRC_CAP_EXTENDED_JOIN},
	{"extended-monitor", IRC_CAP_EXTENDED_MONITOR},
	{"invite-notify", IRC_CAP_INVITE_NOTIFY},
	{"labeled-response", IRC_CAP_LABELED_RESPONSE},
	{"message-tags", IRC_CAP_MESSAGE_TAGS},
	{"multi-prefix", IRC_CAP_MULTI_PREFIX},
	{"server-time", IRC_CAP_SERVER_TIME},
	{"setname", IRC_CAP_SETNAME},
	{"standard-replies", IRC_CAP_STANDARD_REPLIES},
	{"userhost-in-names", IRC_CAP_USERHOST_IN_NAMES},
};
#define NCAPS (sizeof caps / sizeof caps[0])

uint32_t irc_cap_bit(const char *name, size_t n)
{
	for (size_t i = 0; i < NCAPS; i++)
		if (strlen(caps[i].name) == n && memcmp(caps[i].name, name, n) == 0)
			return caps[i].bit;
	return 0;
}

static const char *target(const struct irc_client *c)
{
	return c->nick[0] ? c->nick : "*";
}

static void cap_ls(struct irc_server *s, struct irc_client *c)
{
	char list[512];
	size_t n = 0;
	for (size_t i = 0; i < NCAPS; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
				      i ? " " : "", caps[i].name);
	irc_sendf(s, c, s->cfg->server_name, "CAP %s LS :%s", target(c), list);
}

static void cap_list(struct irc_server *s, struct irc_client *c)
{
	char list[512];
	size_t n = 0;
	list[0] = '\0';
	for (size_t i = 0; i < NCAPS; i++)
		if (c->caps & caps[i].bit)
			n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
					      n ? " " : "", caps[i].name);
	irc_sendf(s, c, s->cfg->server_name, "CAP %s LIST :%s", target(c),
		  list);
}

/* Parse a REQ list; false if any name is unknown. */
static bool cap_parse(struct irc_str list, uint32_t *add, uint32_t *del)
{
	*add = *del = 0;
	size_t i = 0;
	while (i < list.n) {
		while (i < list.n && list.p[i] == ' ')
			i++;
		size_t start = i;
		while (i < list.n && list.p[i] != ' ')
			i++;
		if (i == start)
			break;
		const char *w = list.p + start;
		size_t wn = i - start;
		bool minus = w[0] == '-';
		uint32_t bit = irc_cap_bit(w + minus, wn - minus);
		if (!bit)
			return false;
		if (minus)
			*del |= bit;
		else
			*add |= bit;
	}
	return true;
}

static void cap_req(struct irc_server *s, struct irc_client *c,
		    struct irc_str list)
{
	uint32_t add, del;
	/* Echo at most ~400 bytes: the spec asks for the first 100. */
	int echo = (int)(list.n > 400 ? 400 : list.n);
	if (!irc_client_registered(c))
		c->flags |= IRC_CF_CAPNEG;
	if (!cap_parse(list, &add, &del) || (add & del)) {
		irc_sendf(s, c, s->cfg->server_name, "CAP %s NAK :%.*s",
			  target(c), echo, list.p);
		return;
	}
	c->caps = (c->caps | add) & ~del;
	irc_sendf(s, c, s->cfg->server_name, "CAP %s ACK :%.*s", target(c),
		  echo, list.p);
}

static int cmd_cap(struct irc_server *s, struct irc_client *c,
		   struct irc_msg *m)
{
	char sub[16];
	if (irc_cmd_upper(m->params[0], sub, sizeof sub) < 0)
		sub[0] = '\0';
	if (strcmp(sub, "LS") == 0) {
		if (!irc_client_registered(c))
			c->flags |= IRC_CF_CAPNEG;
		if (m->nparams > 1 && m->params[1].n >= 3 &&
		    m->params[1].p[0] >= '3') {
			c->flags |= IRC_CF_CAP302;
			c->caps |= IRC_CAP_CAP_NOTIFY;
		}
		cap_ls(s, c);
	} else if (strcmp(sub, "LIST") == 0) {
		cap_list(s, c);
	} else if (strcmp(sub, "REQ") == 0) {
		if (m->nparams < 2) {
			irc_num(s, c, ERR_NEEDMOREPARAMS, ERR_NEEDMOREPARAMS_F,
				"CAP");
			return IRC_CONTINUE;
		}
		cap_req(s, c, m->params[1]);
	} else if (strcmp(sub, "END") == 0) {
		if (!irc_client_registered(c)) {
			c->flags &= ~IRC_CF_CAPNEG;
			return irc_try_register(s, c);
		}
	} else {
		char shown[32];
		size_t n = 0;
		for (; n < m->params[0].n && n < 31; n++) {
			char ch = m->params[0].p[n];
			if (ch == ' ')
				break;
			shown[n] = n == 0 && ch == ':' ? '*' : ch;
		}
		shown[n] = '\0';
		irc_num(s, c, ERR_INVALIDCAPCMD, "%s :Invalid CAP command",
			n ? shown : "*");
	}
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_caps[] = {
	{"CAP", cmd_cap, 1, IRC_CMD_ANY, 500},
	{NULL, NULL, 0, 0, 0},
};
