/*
 * src/irc/server.c - the server's life cycle, clients, the command
 * dispatch, quitting and reaping, and the timers (see server.h).
 */
#include "irc/server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "irc/numerics.h"
#include "sockit/error.h"

/* ---- the command table ------------------------------------------------------ */

static const struct irc_cmd *const *all_tables(size_t *n)
{
	static const struct irc_cmd *const tables[] = {
		irc_cmds_login, irc_cmds_channel, irc_cmds_mode, irc_cmds_msg,
		irc_cmds_info,  irc_cmds_who,     irc_cmds_oper, irc_cmds_caps,
		irc_cmds_monitor, irc_cmds_help,
	};
	*n = sizeof tables / sizeof tables[0];
	return tables;
}

static int cmd_cmp(const void *a, const void *b)
{
	const struct irc_cmd *x = *(const struct irc_cmd *const *)a;
	const struct irc_cmd *y = *(const struct irc_cmd *const *)b;
	return strcmp(x->name, y->name);
}

/* The sorted index of every command, built once per server. */
static int build_index(struct irc_server *s)
{
	size_t nt, n = 0;
	const struct irc_cmd *const *t = all_tables(&nt);
	for (size_t i = 0; i < nt; i++)
		for (const struct irc_cmd *c = t[i]; c->name; c++)
			n++;
	s->cmds = calloc(n, sizeof *s->cmds);
	if (!s->cmds)
		return SK_ENOMEM;
	for (size_t i = 0; i < nt; i++)
		for (const struct irc_cmd *c = t[i]; c->name; c++)
			s->cmds[s->ncmds++] = c;
	qsort(s->cmds, s->ncmds, sizeof *s->cmds, cmd_cmp);
	return 0;
}

static const struct irc_cmd *find_cmd(const struct irc_server *s,
				      const char *name)
{
	size_t lo = 0, hi = s->ncmds;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(name, s->cmds[mid]->name);
		if (r == 0)
			return s->cmds[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- life cycle --------------------------------------------------------------- */

static int apply_config(struct irc_server *s)
{
	struct irc_config *cfg = s->cfg;
	int r = irc_modespec_init(&s->chanspec, IRC_CHANMODES, "(ov)@+",
				  cfg->maxmodes);
	if (r < 0)
		return r;
	irc_htab_recase(&s->nicks, cfg->casemap);
	irc_htab_recase(&s->chans, cfg->casemap);
	irc_htab_recase(&s->watches, cfg->casemap);
	return irc_isupport_build(s);
}

int irc_server_new(struct irc_config *cfg, struct irc_server **out)
{
	struct irc_server *s = calloc(1, sizeof *s);
	if (!s) {
		irc_config_free(cfg);
		free(cfg);
		return SK_ENOMEM;
	}
	s->cfg = cfg;
	irc_htab_init(&s->nicks, cfg->casemap);
	irc_htab_init(&s->chans, cfg->casemap);
	irc_htab_init(&s->watches, cfg->casemap);
	sk_buf_init(&s->line, IRC_LINE_MAX);
	sk_buf_init(&s->capture, cfg->sendq);
	sk_buf_init(&s->tags, IRC_TAGS_MAX);
	for (int v = 0; v < 4; v++)
		sk_buf_init(&s->batch.out[v], 4u << 20);
	sk_buf_init(&s->batch.ctags, 1u << 20);
	s->next_id = 1;
	s->started = (int64_t)time(NULL);
	s->wall_ms = s->started * 1000;
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
		rnd = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)s;
	snprintf(s->msgid_pfx, sizeof s->msgid_pfx, "%08" PRIx32 "-", rnd);
	struct tm tm;
	time_t now = (time_t)s->started;
	gmtime_r(&now, &tm);
	strftime(s->created, sizeof s->created, "%Y-%m-%d %H:%M:%S UTC", &tm);
	int r = build_index(s);
	if (r == 0)
		r = apply_config(s);
	if (r == 0 && cfg->whowas) {
		s->whowas = calloc(cfg->whowas, sizeof *s->whowas);
		s->whowas_cap = cfg->whowas;
		if (!s->whowas)
			r = SK_ENOMEM;
	}
	if (r < 0) {
		irc_server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void whowas_free(struct irc_server *s)
{
	for (size_t i = 0; i < s->whowas_cap; i++)
		free(s->whowas[i].realname);
	free(s->whowas);
	s->whowas = NULL;
	s->whowas_cap = s->whowas_n = s->whowas_pos = 0;
}

static void client_free(struct irc_client *c)
{
	free(c->realname);
	free(c->away);
	free(c->kill_reason);
	free(c->oper_name);
	free(c->invites);
	free(c);
}

void irc_server_free(struct irc_server *s)
{
	if (!s)
		return;
	irc_server_flush(s);
	s->shutting_down = true;
	/* Silent: the I/O layer is going away with us. */
	while (s->clients) {
		struct irc_client *c = s->clients;
		if (c->sink) {
			c->sink->close(c->sink_ctx, false);
			c->sink = NULL;
		}
		irc_quit(s, c, "Server shutting down", false);
	}
	irc_server_reap(s);
	irc_htab_free(&s->nicks);
	irc_htab_free(&s->chans);
	irc_htab_free(&s->watches);
	whowas_free(s);
	for (size_t i = 0; i < s->nisupport; i++)
		free(s->isupport[i]);
	sk_buf_free(&s->line);
	sk_buf_free(&s->capture);
	sk_buf_free(&s->tags);
	for (int v = 0; v < 4; v++)
		sk_buf_free(&s->batch.out[v]);
	sk_buf_free(&s->batch.ctags);
	free(s->batch.msgs);
	free(s->cmds);
	if (s->cfg) {
		irc_config_free(s->cfg);
		free(s->cfg);
	}
	free(s);
}

int irc_server_reconfigure(struct irc_server *s, struct irc_config *cfg)
{
	irc_server_flush(s);
	struct irc_config *old = s->cfg;
	s->cfg = cfg;
	int r = apply_config(s);
	if (r < 0) {
		s->cfg = old;
		(void)apply_config(s);
		irc_config_free(cfg);
		free(cfg);
		return r;
	}
	if (cfg->whowas != s->whowas_cap) {
		whowas_free(s);
		if (cfg->whowas) {
			s->whowas = calloc(cfg->whowas, sizeof *s->whowas);
			s->whowas_cap = s->whowas ? cfg->whowas : 0;
		}
	}
	s->capture.max = cfg->sendq;
	irc_config_free(old);
	free(old);
	return 0;
}

void irc_server_set_time(struct irc_server *s, uint64_t mono_ms,
			 int64_t wall_ms)
{
	s->now_ms = mono_ms;
	s->wall_ms = wall_ms;
}

/* ---- clients -------------------------------------------------------------------- */

int irc_client_new(struct irc_server *s, const struct irc_sink_ops *sink,
		   void *ctx, const char *ip, bool tls, struct irc_client **out)
{
	struct irc_client *c = calloc(1, sizeof *c);
	if (!c)
		return SK_ENOMEM;
	c->id = s->next_id++;
	c->sink = sink;
	c->sink_ctx = ctx;
	if (tls)
		c->flags |= IRC_CF_TLS;
	/* An IPv6 address starting with ':' would read as a trailing
	 * parameter in replies that carry the host; "0::1" is the usual
	 * fix.  A Unix socket peer has no address: it is "localhost". */
	if (!ip || !*ip)
		ip = "localhost";
	snprintf(c->host, sizeof c->host, "%s%s", ip[0] == ':' ? "0" : "", ip);
	c->created_ms = c->last_seen_ms = s->now_ms;
	c->tokens_at_ms = s->now_ms;
	c->tokens_ms = (int64_t)s->cfg->flood_burst * 1000;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	s->nunknown++;
	*out = c;
	return 0;
}

struct irc_client *irc_find_nick(struct irc_server *s, const char *nick,
				 size_t n)
{
	struct irc_hnode *h = irc_htab_find(&s->nicks, nick, n);
	return h ? IRC_CONTAINER(h, struct irc_client, hnick) : NULL;
}

int irc_set_nick(struct irc_server *s, struct irc_client *c, const char *nick,
		 size_t n)
{
	if (n >= sizeof c->nick)
		return SK_EINVAL;
	if (c->flags & IRC_CF_NICK)
		irc_htab_del(&s->nicks, &c->hnick);
	memcpy(c->nick, nick, n);
	c->nick[n] = '\0';
	c->hnick.key = c->nick;
	c->flags |= IRC_CF_NICK;
	return irc_htab_add(&s->nicks, &c->hnick);
}

const char *irc_prefix(const struct irc_client *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s!%s@%s", c->nick[0] ? c->nick : "*",
		 c->user[0] ? c->user : "*", c->host);
	return buf;
}

static void unlink_client(struct irc_server *s, struct irc_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

void irc_quit(struct irc_server *s, struct irc_client *c, const char *reason,
	      bool error_line)
{
	if (c->flags & IRC_CF_DEAD)
		return;
	irc_server_flush(s);
	/* On shutdown everyone goes: telling each about the others would be
	 * quadratic in a big channel, and nobody would read it. */
	if (irc_client_registered(c) && c->chans && !s->shutting_down) {
		char pfx[IRC_PREFIX_MAX];
		struct irc_bcast b;
		if (irc_bcast_init(&b, s, NULL, 0, irc_prefix(c, pfx, sizeof pfx),
				   "QUIT :%s", reason) == 0)
			irc_bcast_common(&b, c, false);
		irc_bcast_free(&b);
	}
	if (irc_client_registered(c)) {
		irc_whowas_add(s, c);
		irc_monitor_offline(s, c->nick);
	}
	irc_monitor_drop(s, c);
	while (c->chans)
		irc_chan_leave(s, c->chans);
	if (c->flags & IRC_CF_NICK)
		irc_htab_del(&s->nicks, &c->hnick);
	s->nclients--;
	if (!irc_client_registered(c))
		s->nunknown--;
	if (irc_client_registered(c) && (c->umodes & IRC_UMODE_I))
		s->ninvisible--;
	if (c->umodes & IRC_UMODE_O)
		s->nopers--;
	c->flags |= IRC_CF_DEAD;
	if (c == s->label_cl)
		s->label_cl = NULL;
	if (c->sink) {
		bool graceful = false;
		if (error_line) {
			char line[IRC_LINE_MAX + 1];
			int k = snprintf(line, sizeof line,
					 "ERROR :Closing Link: %s (%.380s)\r\n",
					 c->host, reason);
			graceful = k > 0 && (size_t)k < sizeof line &&
				   c->sink->write(c->sink_ctx, line, (size_t)k) >= 0;
		}
		const struct irc_sink_ops *sink = c->sink;
		c->sink = NULL;
		sink->close(c->sink_ctx, graceful);
	}
	unlink_client(s, c);
	c->next = s->graveyard;
	s->graveyard = c;
}

void irc_kill_later(struct irc_server *s, struct irc_client *c,
		    const char *reason)
{
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
		return;
	c->flags |= IRC_CF_KILLQ;
	free(c->kill_reason);
	c->kill_reason = strdup(reason);
	c->kill_next = s->killq;
	s->killq = c;
}

void irc_server_reap(struct irc_server *s)
{
	while (s->killq) {
		struct irc_client *c = s->killq;
		s->killq = c->kill_next;
		c->flags &= ~IRC_CF_KILLQ;
		irc_quit(s, c, c->kill_reason ? c->kill_reason : "Killed", true);
	}
	while (s->graveyard) {
		struct irc_client *c = s->graveyard;
		s->graveyard = c->next;
		client_free(c);
	}
}

void irc_client_gone(struct irc_server *s, struct irc_client *c,
		     const char *reason)
{
	irc_server_flush(s);
	c->sink = NULL;
	if (c->flags & IRC_CF_KILLQ) {
		/* Already going; its own reason (a full send queue) is the
		 * better one. */
		irc_server_reap(s);
		return;
	}
	irc_quit(s, c, reason, false);
	irc_server_reap(s);
}

void irc_client_kill(struct irc_server *s, struct irc_client *c,
		     const char *reason)
{
	irc_kill_later(s, c, reason);
	irc_server_reap(s);
}

/* ---- dispatch ------------------------------------------------------------------- */

static void parse_error(struct irc_server *s, struct irc_client *c, int r,
			const struct irc_msg *m)
{
	switch (r) {
	case IRC_EINPUTTOOLONG:
	case IRC_ETAGSTOOLONG:
	case IRC_ETOOMANYTAGS:
		irc_num(s, c, ERR_INPUTTOOLONG, ERR_INPUTTOOLONG_F);
		break;
	case IRC_EBADCOMMAND: {
		/* Echo a printable, bounded copy of the token. */
		char tok[33];
		size_t n = m->command.n < 32 ? m->command.n : 32, j = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)m->command.p[i];
			tok[j++] = ch > ' ' && ch < 0x7f && ch != ':' ? (char)ch
								    : '?';
		}
		tok[j] = '\0';
		if (j)
			irc_num(s, c, ERR_UNKNOWNCOMMAND, ERR_UNKNOWNCOMMAND_F,
				tok);
		break;
	}
	default:
		break; /* empty lines, bad bytes, no command: ignored */
	}
}

bool irc_utf8_valid(const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str, *e = p + n;
	while (p < e) {
		unsigned c = *p++;
		if (c < 0x80)
			continue;
		unsigned need, min;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, c &= 0x07;
		else
			return false;
		if ((size_t)(e - p) < need)
			return false;
		for (unsigned i = 0; i < need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i] & 0x3f);
		}
		p += need;
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
	}
	return true;
}

static void start_label(struct irc_server *s, struct irc_client *c,
			const struct irc_msg *m)
{
	if (!(c->caps & IRC_CAP_LABELED_RESPONSE) || !m->tags_raw.p)
		return;
	const struct irc_tag *t = irc_msg_tag(m, "label");
	if (!t || !t->has_value || t->value.n == 0)
		return;
	irc_label_begin(s, c, t->value.p, t->value.n);
}

int irc_server_line(struct irc_server *s, struct irc_client *c,
		    const char *line, size_t n, unsigned *cost)
{
	*cost = 0;
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ)) {
		irc_server_reap(s);
		return IRC_CLOSED;
	}
	c->last_seen_ms = s->now_ms;
	c->flags &= ~IRC_CF_PINGED;
	struct irc_msg m;
	int r = irc_parse(line, n, IRC_PARSE_CLIENT, &m);
	s->in_dispatch = true;
	if (r < 0) {
		if (r != IRC_EBADCHAR && r != IRC_EEMPTY && r != IRC_ENOCOMMAND)
			*cost = 1000;
		if (r == IRC_EBADCOMMAND)
			start_label(s, c, &m);
		parse_error(s, c, r, &m);
	} else {
		start_label(s, c, &m);
		char name[24];
		const struct irc_cmd *cmd = NULL;
		if (irc_cmd_upper(m.command, name, sizeof name) > 0)
			cmd = find_cmd(s, name);
		if (!cmd) {
			*cost = 1000;
			if (irc_cmd_numeric(m.command) < 0)
				irc_num(s, c, ERR_UNKNOWNCOMMAND,
					ERR_UNKNOWNCOMMAND_F, name);
		} else {
			*cost = cmd->penalty_ms;
			if (!(cmd->flags & IRC_CMD_BATCH) || s->label_cl)
				irc_server_flush(s);
			if (s->cfg->utf8_only && !irc_utf8_valid(line, n))
				irc_std_reply(s, c, "FAIL", name, "INVALID_UTF8",
					      NULL, "Message rejected, your "
					      "message contained invalid UTF-8");
			else if (!(cmd->flags & IRC_CMD_ANY) &&
				 !irc_client_registered(c))
				irc_num(s, c, ERR_NOTREGISTERED,
					ERR_NOTREGISTERED_F);
			else if ((cmd->flags & IRC_CMD_OPER) &&
				 !(c->umodes & IRC_UMODE_O))
				irc_num(s, c, ERR_NOPRIVILEGES,
					ERR_NOPRIVILEGES_F);
			else if (m.nparams < cmd->min_params)
				irc_num(s, c, ERR_NEEDMOREPARAMS,
					ERR_NEEDMOREPARAMS_F, name);
			else
				cmd->fn(s, c, &m);
		}
	}
	irc_label_end(s);
	if (!s->batching)
		irc_server_flush(s);
	s->in_dispatch = false;
	bool closed = (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ)) != 0;
	irc_server_reap(s);
	return closed ? IRC_CLOSED : IRC_CONTINUE;
}

void irc_client_too_long(struct irc_server *s, struct irc_client *c)
{
	if (!(c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ)))
		irc_num(s, c, ERR_INPUTTOOLONG, ERR_INPUTTOOLONG_F);
	irc_server_reap(s);
}

/* ---- timers ---------------------------------------------------------------------- */

void irc_server_tick(struct irc_server *s)
{
	const struct irc_config *cfg = s->cfg;
	uint64_t now = s->now_ms;
	irc_server_flush(s);
	for (struct irc_client *c = s->clients; c; c = c->next) {
		if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
			continue;
		if (!irc_client_registered(c)) {
			if (now - c->created_ms >= (uint64_t)cfg->reg_timeout * 1000)
				irc_kill_later(s, c, "Registration timed out");
			continue;
		}
		uint64_t idle = now - c->last_seen_ms;
		if (c->flags & IRC_CF_PINGED) {
			uint64_t limit = (uint64_t)(cfg->ping_freq + cfg->ping_timeout) *
					 1000;
			if (idle >= limit) {
				char why[64];
				snprintf(why, sizeof why,
					 "Ping timeout: %" PRIu64 " seconds",
					 idle / 1000);
				irc_kill_later(s, c, why);
			}
		} else if (idle >= (uint64_t)cfg->ping_freq * 1000) {
			c->flags |= IRC_CF_PINGED;
			irc_sendf(s, c, NULL, "PING :%s", cfg->server_name);
		}
	}
	irc_server_reap(s);
}

void irc_server_shutdown(struct irc_server *s, const char *reason)
{
	s->shutting_down = true;
	irc_server_flush(s);
	for (struct irc_client *c = s->clients; c; c = c->next)
		if (!(c->flags & IRC_CF_DEAD))
			irc_kill_later(s, c, reason);
	irc_server_reap(s);
}
