/*
 * src/irc/monitor.c - IRCv3 MONITOR (online/offline notifications for a
 * list of nicks) and extended-monitor.
 *
 * The server keeps one struct irc_watch per monitored nick (folded, in
 * srv->watches) holding the clients that watch it; each client keeps the
 * watches it holds, so a quit drops them all without a search.  A nick is
 * "online" while a registered client has it.  Masks are refused (432):
 * MONITOR follows nicks, not hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/numerics.h"
#include "irc/server.h"

#define RPL_MONONLINE 730
#define RPL_MONOFFLINE 731
#define RPL_MONLIST 732
#define RPL_ENDOFMONLIST 733
#define ERR_MONLISTFULL 734

struct irc_watch {
	struct irc_hnode h;
	struct irc_client **w;
	uint32_t n, cap;
	char nick[];
};

static struct irc_watch *find_watch(struct irc_server *s, const char *nick,
				    size_t n)
{
	struct irc_hnode *h = irc_htab_find(&s->watches, nick, n);
	return h ? IRC_CONTAINER(h, struct irc_watch, h) : NULL;
}

static bool watching(const struct irc_client *c, const struct irc_watch *w)
{
	for (uint32_t i = 0; i < c->nwatch; i++)
		if (c->watch[i] == w)
			return true;
	return false;
}

/* c starts watching nick; false when out of memory. */
static bool watch_add(struct irc_server *s, struct irc_client *c,
		      const char *nick, size_t n)
{
	struct irc_watch *w = find_watch(s, nick, n);
	if (w && watching(c, w))
		return true;
	if (!w) {
		if (!(w = calloc(1, sizeof *w + n + 1)))
			return false;
		memcpy(w->nick, nick, n);
		w->h.key = w->nick;
		irc_htab_add(&s->watches, &w->h);
	}
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? w->cap * 2 : 2;
		struct irc_client **v = realloc(w->w, cap * sizeof *v);
		if (!v)
			goto fail;
		w->w = v;
		w->cap = cap;
	}
	struct irc_watch **cw = realloc(c->watch, (c->nwatch + 1u) * sizeof *cw);
	if (!cw)
		goto fail;
	c->watch = cw;
	cw[c->nwatch++] = w;
	w->w[w->n++] = c;
	return true;
fail:
	if (w->n == 0) {
		irc_htab_del(&s->watches, &w->h);
		free(w->w);
		free(w);
	}
	return false;
}

/* Unlink c from w (and free w when nobody watches it any more). */
static void watch_unlink(struct irc_server *s, struct irc_watch *w,
			 struct irc_client *c)
{
	for (uint32_t i = 0; i < w->n; i++) {
		if (w->w[i] == c) {
			w->w[i] = w->w[--w->n];
			break;
		}
	}
	if (w->n == 0) {
		irc_htab_del(&s->watches, &w->h);
		free(w->w);
		free(w);
	}
}

static void watch_del(struct irc_server *s, struct irc_client *c,
		      const char *nick, size_t n)
{
	struct irc_watch *w = find_watch(s, nick, n);
	if (!w)
		return;
	for (uint32_t i = 0; i < c->nwatch; i++) {
		if (c->watch[i] == w) {
			c->watch[i] = c->watch[--c->nwatch];
			watch_unlink(s, w, c);
			return;
		}
	}
}

void irc_monitor_drop(struct irc_server *s, struct irc_client *c)
{
	while (c->nwatch)
		watch_unlink(s, c->watch[--c->nwatch], c);
	free(c->watch);
	c->watch = NULL;
}

static struct irc_client *online(struct irc_server *s, const char *nick,
				 size_t n)
{
	struct irc_client *o = irc_find_nick(s, nick, n);
	return o && irc_client_registered(o) ? o : NULL;
}

void irc_monitor_online(struct irc_server *s, struct irc_client *c)
{
	struct irc_watch *w = find_watch(s, c->nick, strlen(c->nick));
	if (!w)
		return;
	char pfx[IRC_PREFIX_MAX];
	irc_prefix(c, pfx, sizeof pfx);
	for (uint32_t i = 0; i < w->n; i++)
		irc_num(s, w->w[i], RPL_MONONLINE, ":%s", pfx);
}

void irc_monitor_offline(struct irc_server *s, const char *nick)
{
	struct irc_watch *w = find_watch(s, nick, strlen(nick));
	if (!w)
		return;
	for (uint32_t i = 0; i < w->n; i++)
		irc_num(s, w->w[i], RPL_MONOFFLINE, ":%s", nick);
}

void irc_monitor_extend(struct irc_bcast *b, struct irc_client *c)
{
	struct irc_watch *w = find_watch(b->s, c->nick, strlen(c->nick));
	if (!w)
		return;
	uint32_t mark = b->s->mark; /* the one irc_bcast_common() used */
	for (uint32_t i = 0; i < w->n; i++) {
		struct irc_client *o = w->w[i];
		if (o->mark == mark || !(o->caps & IRC_CAP_EXTENDED_MONITOR))
			continue;
		o->mark = mark;
		irc_bcast_to(b, o);
	}
}

/* Replies listing nicks, cut into lines that fit. */
struct nicklist {
	struct irc_server *s;
	struct irc_client *c;
	int code;
	char buf[400];
	size_t n;
};

static void list_put(struct nicklist *l, const char *item)
{
	size_t k = strlen(item);
	if (l->n && l->n + 1 + k >= sizeof l->buf) {
		irc_num(l->s, l->c, l->code, ":%s", l->buf);
		l->n = 0;
	}
	l->n += (size_t)snprintf(l->buf + l->n, sizeof l->buf - l->n, "%s%s",
				 l->n ? "," : "", item);
}

static void list_end(struct nicklist *l)
{
	if (l->n)
		irc_num(l->s, l->c, l->code, ":%s", l->buf);
	l->n = 0;
}

static void monitor_add(struct irc_server *s, struct irc_client *c,
			struct irc_str list)
{
	struct nicklist on = {s, c, RPL_MONONLINE, "", 0};
	struct nicklist off = {s, c, RPL_MONOFFLINE, "", 0};
	while (list.n) {
		const char *comma = memchr(list.p, ',', list.n);
		struct irc_str t = {list.p, comma ? (size_t)(comma - list.p) : list.n};
		list.p += comma ? t.n + 1 : t.n;
		list.n -= comma ? t.n + 1 : t.n;
		if (t.n == 0)
			continue;
		char nick[IRC_NICKLEN_MAX + 1];
		if (!irc_nick_valid(t.p, t.n, s->cfg->nicklen)) {
			irc_num(s, c, ERR_ERRONEUSNICKNAME, "%.*s :Erroneous nickname",
				(int)(t.n > 64 ? 64 : t.n), t.p);
			continue;
		}
		memcpy(nick, t.p, t.n);
		nick[t.n] = '\0';
		if (c->nwatch >= IRC_MONITOR_MAX && !find_watch(s, nick, t.n)) {
			list_end(&on);
			list_end(&off);
			irc_num(s, c, ERR_MONLISTFULL, "%u %s%s%.*s :Monitor list is full",
				IRC_MONITOR_MAX, nick, list.n ? "," : "",
				(int)(list.n > 300 ? 300 : list.n), list.p);
			return;
		}
		if (!watch_add(s, c, nick, t.n))
			continue;
		struct irc_client *o = online(s, nick, t.n);
		if (o) {
			char pfx[IRC_PREFIX_MAX];
			list_put(&on, irc_prefix(o, pfx, sizeof pfx));
		} else {
			list_put(&off, nick);
		}
	}
	list_end(&on);
	list_end(&off);
}

static int cmd_monitor(struct irc_server *s, struct irc_client *c,
		       struct irc_msg *m)
{
	char op = m->params[0].n == 1 ? m->params[0].p[0] : 0;
	struct irc_str list = m->nparams > 1 ? m->params[1] : IRC_STR_NONE;
	if ((op == '+' || op == '-') && !list.n) {
		irc_num(s, c, ERR_NEEDMOREPARAMS, ERR_NEEDMOREPARAMS_F, "MONITOR");
		return IRC_CONTINUE;
	}
	switch (op) {
	case '+':
		monitor_add(s, c, list);
		break;
	case '-':
		while (list.n) {
			const char *comma = memchr(list.p, ',', list.n);
			size_t n = comma ? (size_t)(comma - list.p) : list.n;
			if (n)
				watch_del(s, c, list.p, n);
			list.p += comma ? n + 1 : n;
			list.n -= comma ? n + 1 : n;
		}
		break;
	case 'C':
	case 'c':
		irc_monitor_drop(s, c);
		break;
	case 'L':
	case 'l': {
		struct nicklist l = {s, c, RPL_MONLIST, "", 0};
		for (uint32_t i = 0; i < c->nwatch; i++)
			list_put(&l, c->watch[i]->nick);
		list_end(&l);
		irc_num(s, c, RPL_ENDOFMONLIST, ":End of MONITOR list");
		break;
	}
	case 'S':
	case 's': {
		struct nicklist on = {s, c, RPL_MONONLINE, "", 0};
		struct nicklist off = {s, c, RPL_MONOFFLINE, "", 0};
		char pfx[IRC_PREFIX_MAX];
		for (uint32_t i = 0; i < c->nwatch; i++) {
			const char *nick = c->watch[i]->nick;
			struct irc_client *o = online(s, nick, strlen(nick));
			if (o)
				list_put(&on, irc_prefix(o, pfx, sizeof pfx));
			else
				list_put(&off, nick);
		}
		list_end(&on);
		list_end(&off);
		break;
	}
	default:
		break;
	}
	return IRC_CONTINUE;
}

const struct irc_cmd irc_cmds_monitor[] = {
	{"MONITOR", cmd_monitor, 1, IRC_CMD_REG, 1000},
	{NULL, NULL, 0, 0, 0},
};
