/*
 * src/irc/chan.c - channel and membership state, ban matching, invites,
 * the WHOWAS ring, and small formatting helpers shared by the command
 * files.
 *
 * A channel keeps its members in an array (fan-out walks it with no
 * pointer chasing; removal swaps the last member in), each client keeps
 * its memberships in a doubly linked list (QUIT and NICK walk it).  One
 * struct irc_member is both entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/server.h"
#include "sockit/error.h"

struct irc_chan *irc_find_chan(struct irc_server *s, const char *name,
			       size_t n)
{
	struct irc_hnode *h = irc_htab_find(&s->chans, name, n);
	return h ? IRC_CONTAINER(h, struct irc_chan, hname) : NULL;
}

static void apply_default_modes(struct irc_server *s, struct irc_chan *ch)
{
	for (const char *p = s->cfg->default_chanmodes; p && *p; p++) {
		switch (*p) {
		case 'C': ch->modes |= IRC_CMODE_C; break;
		case 'i': ch->modes |= IRC_CMODE_I; break;
		case 'm': ch->modes |= IRC_CMODE_M; break;
		case 'n': ch->modes |= IRC_CMODE_N; break;
		case 's': ch->modes |= IRC_CMODE_S; break;
		case 't': ch->modes |= IRC_CMODE_T; break;
		default: break;
		}
	}
}

struct irc_chan *irc_chan_new(struct irc_server *s, const char *name, size_t n)
{
	struct irc_chan *ch = calloc(1, sizeof *ch + n + 1);
	if (!ch)
		return NULL;
	memcpy(ch->name, name, n);
	ch->name[n] = '\0';
	ch->hname.key = ch->name;
	ch->id = s->next_id++;
	ch->created = s->wall_ms / 1000;
	apply_default_modes(s, ch);
	if (irc_htab_add(&s->chans, &ch->hname) < 0) {
		free(ch);
		return NULL;
	}
	ch->next = s->chanlist;
	if (s->chanlist)
		s->chanlist->prev = ch;
	s->chanlist = ch;
	s->nchans++;
	return ch;
}

static void list_free(struct irc_list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		free(l->v[i].mask);
		free(l->v[i].setter);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void chan_free(struct irc_server *s, struct irc_chan *ch)
{
	irc_htab_del(&s->chans, &ch->hname);
	if (ch->prev)
		ch->prev->next = ch->next;
	else
		s->chanlist = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
	s->nchans--;
	list_free(&ch->bans);
	list_free(&ch->excepts);
	list_free(&ch->invex);
	free(ch->key);
	free(ch->topic);
	free(ch->topic_who);
	free(ch->mem);
	free(ch);
}

void irc_chan_gc(struct irc_server *s, struct irc_chan *ch)
{
	if (ch->nmem == 0)
		chan_free(s, ch);
}

struct irc_member *irc_chan_join(struct irc_server *s, struct irc_chan *ch,
				 struct irc_client *c, uint8_t pfx)
{
	irc_server_flush(s); /* the batch's lines predate the join */
	if (ch->nmem == ch->capmem) {
		uint32_t cap = ch->capmem ? ch->capmem * 2 : 4;
		struct irc_member **m = realloc(ch->mem, cap * sizeof *m);
		if (!m)
			return NULL;
		ch->mem = m;
		ch->capmem = cap;
	}
	struct irc_member *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cl = c;
	m->ch = ch;
	m->pfx = pfx;
	m->idx = ch->nmem;
	ch->mem[ch->nmem++] = m;
	m->cnext = c->chans;
	if (c->chans)
		c->chans->cprev = m;
	c->chans = m;
	c->nchans++;
	return m;
}

void irc_chan_leave(struct irc_server *s, struct irc_member *m)
{
	irc_server_flush(s);
	struct irc_chan *ch = m->ch;
	struct irc_client *c = m->cl;
	struct irc_member *last = ch->mem[--ch->nmem];
	ch->mem[m->idx] = last;
	last->idx = m->idx;
	if (m->cprev)
		m->cprev->cnext = m->cnext;
	else
		c->chans = m->cnext;
	if (m->cnext)
		m->cnext->cprev = m->cprev;
	c->nchans--;
	free(m);
	if (ch->nmem == 0)
		chan_free(s, ch);
	else if (ch->capmem > 16 && ch->nmem < ch->capmem / 4) {
		/* A big channel emptied: give the memory back. */
		struct irc_member **mem = realloc(ch->mem, ch->capmem / 2 *
							   sizeof *mem);
		if (mem) {
			ch->mem = mem;
			ch->capmem /= 2;
		}
	}
}

struct irc_member *irc_member_of(const struct irc_client *c,
				 const struct irc_chan *ch)
{
	for (struct irc_member *m = c->chans; m; m = m->cnext)
		if (m->ch == ch)
			return m;
	return NULL;
}

bool irc_share_chan(const struct irc_client *c, const struct irc_client *o)
{
	const struct irc_client *few = c->nchans <= o->nchans ? c : o;
	const struct irc_client *other = few == c ? o : c;
	for (struct irc_member *m = few->chans; m; m = m->cnext)
		if (irc_member_of(other, m->ch))
			return true;
	return false;
}

bool irc_chan_visible(const struct irc_chan *ch, const struct irc_client *v)
{
	return !(ch->modes & IRC_CMODE_S) || (v && irc_member_of(v, ch));
}

/* ---- masks ------------------------------------------------------------------------ */

bool irc_list_match(struct irc_server *s, const struct irc_list *l,
		    const struct irc_client *c)
{
	if (l->n == 0)
		return false;
	char a[IRC_PREFIX_MAX];
	size_t an = strlen(irc_prefix(c, a, sizeof a));
	enum irc_casemap cm = s->cfg->casemap;
	for (uint32_t i = 0; i < l->n; i++) {
		const char *mk = l->v[i].mask;
		size_t mn = strlen(mk);
		if (irc_mask_match(cm, mk, mn, a, an))
			return true;
	}
	return false;
}

bool irc_chan_is_banned(struct irc_server *s, struct irc_chan *ch,
			struct irc_client *c)
{
	return irc_list_match(s, &ch->bans, c) &&
	       !irc_list_match(s, &ch->excepts, c);
}

/* ---- invites ------------------------------------------------------------------------ */

bool irc_client_invited(const struct irc_client *c, const struct irc_chan *ch)
{
	for (uint32_t i = 0; i < c->ninvites; i++)
		if (c->invites[i] == ch->id)
			return true;
	return false;
}

void irc_client_uninvite(struct irc_client *c, const struct irc_chan *ch)
{
	for (uint32_t i = 0; i < c->ninvites; i++) {
		if (c->invites[i] == ch->id) {
			c->invites[i] = c->invites[--c->ninvites];
			return;
		}
	}
}

/* ---- whowas --------------------------------------------------------------------------- */

void irc_whowas_add(struct irc_server *s, const struct irc_client *c)
{
	if (!s->whowas_cap)
		return;
	struct irc_whowas *w = &s->whowas[s->whowas_pos];
	free(w->realname);
	memcpy(w->nick, c->nick, sizeof w->nick);
	memcpy(w->user, c->user, sizeof w->user);
	memcpy(w->host, c->host, sizeof w->host);
	w->realname = c->realname ? strdup(c->realname) : NULL;
	w->when = s->wall_ms / 1000;
	s->whowas_pos = (s->whowas_pos + 1) % s->whowas_cap;
	if (s->whowas_n < s->whowas_cap)
		s->whowas_n++;
}

/* ---- formatting --------------------------------------------------------------------------- */

const char *irc_member_prefix(const struct irc_member *m, bool multi,
			      char buf[4])
{
	size_t n = 0;
	if (m->pfx & IRC_PFX_O)
		buf[n++] = '@';
	if ((m->pfx & IRC_PFX_V) && (multi || n == 0))
		buf[n++] = '+';
	buf[n] = '\0';
	return buf;
}

void irc_chan_modestr(const struct irc_chan *ch, bool show_args, char *buf,
		      size_t n)
{
	char modes[16], args[128] = "";
	size_t k = 0;
	modes[k++] = '+';
	if (ch->modes & IRC_CMODE_C)
		modes[k++] = 'C';
	if (ch->modes & IRC_CMODE_I)
		modes[k++] = 'i';
	if (ch->modes & IRC_CMODE_K)
		modes[k++] = 'k';
	if (ch->modes & IRC_CMODE_L)
		modes[k++] = 'l';
	if (ch->modes & IRC_CMODE_M)
		modes[k++] = 'm';
	if (ch->modes & IRC_CMODE_N)
		modes[k++] = 'n';
	if (ch->modes & IRC_CMODE_S)
		modes[k++] = 's';
	if (ch->modes & IRC_CMODE_T)
		modes[k++] = 't';
	modes[k] = '\0';
	if (show_args) {
		size_t a = 0;
		if ((ch->modes & IRC_CMODE_K) && ch->key)
			a += (size_t)snprintf(args + a, sizeof args - a, " %s",
					      ch->key);
		if ((ch->modes & IRC_CMODE_L) && a < sizeof args)
			snprintf(args + a, sizeof args - a, " %u", ch->limit);
	}
	snprintf(buf, n, "%s%s", modes, args);
}

void irc_umode_str(const struct irc_client *c, char *buf, size_t n)
{
	snprintf(buf, n, "+%s%s%s%s", c->umodes & IRC_UMODE_B ? "B" : "",
		 c->umodes & IRC_UMODE_I ? "i" : "",
		 c->umodes & IRC_UMODE_O ? "o" : "",
		 c->umodes & IRC_UMODE_W ? "w" : "");
}

bool irc_param(const struct irc_msg *m, size_t i, char *buf, size_t n)
{
	if (i >= m->nparams)
		return false;
	return irc_str_copy(m->params[i], buf, n) >= 0;
}
