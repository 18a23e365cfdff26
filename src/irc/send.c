/*
 * src/irc/send.c - everything the server writes to clients: single lines,
 * numerics, standard replies, fan-out with per-capability tag variants,
 * and labeled-response capture.
 *
 * One choke point, irc_send_tb(), takes "@tags " and a body and either
 * captures them (the client is running a labeled command) or hands them to
 * the client's sink; a sink that refuses (full send queue) queues the
 * client to quit.  Broadcasts format the body once and one tag prefix per
 * variant (none / server-time / message-tags / both), so a message to a
 * thousand members costs a thousand queue appends and no formatting.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc/numerics.h"
#include "irc/server.h"

const char *irc_server_time(struct irc_server *s)
{
	if (s->timestamp_ms != s->wall_ms || !s->timestamp[0]) {
		time_t t = (time_t)(s->wall_ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		char day[24];
		strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(s->timestamp, sizeof s->timestamp, "%.20s.%03uZ", day,
			 (unsigned)(s->wall_ms % 1000));
		s->timestamp_ms = s->wall_ms;
	}
	return s->timestamp;
}

static void capture(struct irc_server *s, const char *tags, size_t tn,
		    const char *body, size_t bn)
{
	if (sk_buf_append(&s->capture, tags, tn) < 0 ||
	    sk_buf_append(&s->capture, body, bn) < 0) {
		irc_kill_later(s, s->label_cl, "Max SendQ exceeded");
		return;
	}
	s->capture_lines++;
}

static void sink_write(struct irc_server *s, struct irc_client *c,
		       const char *tags, size_t tn, const char *body, size_t bn)
{
	int r = 0;
	if (tn)
		r = c->sink->write(c->sink_ctx, tags, tn);
	if (r >= 0)
		r = c->sink->write(c->sink_ctx, body, bn);
	if (r < 0)
		irc_kill_later(s, c, "Max SendQ exceeded");
}

void irc_send_tb(struct irc_server *s, struct irc_client *c, const char *tags,
		 size_t tn, const char *body, size_t bn)
{
	if (s->batch.ch)
		irc_server_flush(s); /* keep every client's lines in order */
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
		return;
	if (c == s->label_cl)
		capture(s, tags, tn, body, bn);
	else
		sink_write(s, c, tags, tn, body, bn);
}

void irc_send_direct(struct irc_server *s, struct irc_client *c,
		     const char *tags, size_t tn, const char *body, size_t bn)
{
	if (s->batch.ch)
		irc_server_flush(s);
	if (!(c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ)))
		sink_write(s, c, tags, tn, body, bn);
}

/* "@time=... " for a client with server-time, else "". */
static size_t time_prefix(struct irc_server *s, const struct irc_client *c,
			  char *buf, size_t n)
{
	if (!(c->caps & IRC_CAP_SERVER_TIME))
		return 0;
	int k = snprintf(buf, n, "@time=%s ", irc_server_time(s));
	return k > 0 && (size_t)k < n ? (size_t)k : 0;
}

static void send_line_buf(struct irc_server *s, struct irc_client *c)
{
	char tp[48];
	size_t tn = time_prefix(s, c, tp, sizeof tp);
	irc_send_tb(s, c, tp, tn, (const char *)sk_buf_data(&s->line),
		    sk_buf_len(&s->line));
}

void irc_sendf(struct irc_server *s, struct irc_client *c, const char *source,
	       const char *fmt, ...)
{
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
		return;
	va_list ap;
	va_start(ap, fmt);
	sk_buf_clear(&s->line);
	int r = irc_vfmtline(&s->line, NULL, source, fmt, ap);
	va_end(ap);
	if (r > 0)
		send_line_buf(s, c);
}

static const char *target_of(const struct irc_client *c)
{
	return c->nick[0] ? c->nick : "*";
}

/* One line from the server to c: head (e.g. "001 nick ") then fmt. */
static void server_vline(struct irc_server *s, struct irc_client *c,
			 const char *head, const char *fmt, va_list ap)
{
	char text[1024];
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ) ||
	    vsnprintf(text, sizeof text, fmt, ap) < 0)
		return;
	sk_buf_clear(&s->line);
	if (irc_fmtline(&s->line, NULL, s->cfg->server_name, "%s%s", head,
			text) > 0)
		send_line_buf(s, c);
}

void irc_num(struct irc_server *s, struct irc_client *c, int code,
	     const char *fmt, ...)
{
	char head[IRC_NICKLEN_MAX + 8];
	va_list ap;
	snprintf(head, sizeof head, "%03d %s ", code, target_of(c));
	va_start(ap, fmt);
	server_vline(s, c, head, fmt, ap);
	va_end(ap);
}

void irc_notice(struct irc_server *s, struct irc_client *c, const char *fmt,
		...)
{
	char head[IRC_NICKLEN_MAX + 16];
	va_list ap;
	snprintf(head, sizeof head, "NOTICE %s :", target_of(c));
	va_start(ap, fmt);
	server_vline(s, c, head, fmt, ap);
	va_end(ap);
}

void irc_std_reply(struct irc_server *s, struct irc_client *c,
		   const char *type, const char *command, const char *code,
		   const char *context, const char *desc)
{
	if (c->caps & IRC_CAP_STANDARD_REPLIES || strcmp(type, "FAIL") == 0) {
		/* FAIL goes to everyone: clients without the cap still show
		 * an unknown command's text; WARN and NOTE are opt-in. */
		if (context)
			irc_sendf(s, c, s->cfg->server_name, "%s %s %s %s :%s",
				  type, command, code, context, desc);
		else
			irc_sendf(s, c, s->cfg->server_name, "%s %s %s :%s",
				  type, command, code, desc);
		return;
	}
	irc_notice(s, c, "%s", desc);
}

/* ---- broadcasts ------------------------------------------------------------- */

enum { V_TIME = 1, V_TAGS = 2 };

int irc_bcast_init(struct irc_bcast *b, struct irc_server *s,
		   const char *ctags, size_t clen, const char *source,
		   const char *fmt, ...)
{
	memset(b, 0, sizeof *b);
	b->s = s;
	b->ctags = clen ? ctags : NULL;
	b->clen = clen;
	for (int i = 0; i < 4; i++)
		sk_buf_init(&b->pre[i], IRC_TAGS_MAX + 64);
	struct sk_buf *body = &b->pre[0]; /* variant 0 has no prefix */
	va_list ap;
	va_start(ap, fmt);
	int r = irc_vfmtline(body, NULL, source, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	b->body = (const char *)sk_buf_data(body);
	b->blen = sk_buf_len(body);
	b->built[0] = true;
	return 0;
}

void irc_bcast_free(struct irc_bcast *b)
{
	for (int i = 0; i < 4; i++)
		sk_buf_free(&b->pre[i]);
}

/* "@time=..;msgid=..;<client tags> " for variant v into p. */
static void append_prefix(struct sk_buf *p, int v, const char *time,
			  const char *msgid, bool bot, const char *ctags,
			  size_t clen)
{
	bool ok = sk_buf_append(p, "@", 1) == 0;
	if (v & V_TIME)
		ok = ok && sk_buf_appendf(p, "time=%s", time) == 0;
	if (v & V_TAGS) {
		ok = ok && sk_buf_appendf(p, "%smsgid=%s%s", v & V_TIME ? ";" : "",
					  msgid, bot ? ";bot" : "") == 0;
		if (clen)
			ok = ok && sk_buf_append(p, ";", 1) == 0 &&
			     sk_buf_append(p, ctags, clen) == 0;
	}
	ok = ok && sk_buf_append(p, " ", 1) == 0;
	(void)ok; /* a prefix that did not fit is cut: tags are optional */
}

static void new_msgid(struct irc_server *s, char *out, size_t n)
{
	snprintf(out, n, "%s%" PRIx64, s->msgid_pfx, ++s->msgid_seq);
}

static void build_prefix(struct irc_bcast *b, int v)
{
	struct sk_buf *p = &b->pre[v];
	if ((v & V_TAGS) && !b->msgid[0])
		new_msgid(b->s, b->msgid, sizeof b->msgid);
	size_t before = sk_buf_len(p);
	append_prefix(p, v, irc_server_time(b->s), b->msgid, b->bot, b->ctags,
		      b->clen);
	if (sk_buf_len(p) == before || sk_buf_data(p)[sk_buf_len(p) - 1] != ' ')
		sk_buf_clear(p); /* falls back to no tags */
	b->built[v] = true;
}

/* The tag variant a client gets. */
static int variant(const struct irc_bcast *b, const struct irc_client *c)
{
	int v = 0;
	if (c->caps & IRC_CAP_SERVER_TIME)
		v |= V_TIME;
	if ((c->caps & IRC_CAP_MESSAGE_TAGS) && b->tagged)
		v |= V_TAGS;
	return v;
}

static void prefix_for(struct irc_bcast *b, const struct irc_client *c,
		       const char **p, size_t *n)
{
	int v = variant(b, c);
	if (v == 0) {
		*p = "";
		*n = 0;
		return;
	}
	if (!b->built[v])
		build_prefix(b, v);
	*p = (const char *)sk_buf_data(&b->pre[v]);
	*n = sk_buf_len(&b->pre[v]);
}

void irc_bcast_to(struct irc_bcast *b, struct irc_client *c)
{
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
		return;
	if ((c->caps & b->need_caps) != b->need_caps || (c->caps & b->skip_caps))
		return;
	const char *p;
	size_t n;
	prefix_for(b, c, &p, &n);
	irc_send_tb(b->s, c, p, n, b->body, b->blen);
}

void irc_bcast_direct(struct irc_bcast *b, struct irc_client *c)
{
	if ((c->caps & b->need_caps) != b->need_caps || (c->caps & b->skip_caps))
		return;
	const char *p;
	size_t n;
	prefix_for(b, c, &p, &n);
	irc_send_direct(b->s, c, p, n, b->body, b->blen);
}

void irc_bcast_chan(struct irc_bcast *b, struct irc_chan *ch,
		    struct irc_client *except)
{
	for (uint32_t i = 0; i < ch->nmem; i++) {
		struct irc_client *c = ch->mem[i]->cl;
		if (c != except)
			irc_bcast_to(b, c);
	}
}

void irc_bcast_common(struct irc_bcast *b, struct irc_client *c, bool self)
{
	struct irc_server *s = b->s;
	uint32_t mark = ++s->mark;
	c->mark = mark;
	if (self)
		irc_bcast_to(b, c);
	for (struct irc_member *m = c->chans; m; m = m->cnext) {
		struct irc_chan *ch = m->ch;
		for (uint32_t i = 0; i < ch->nmem; i++) {
			struct irc_client *o = ch->mem[i]->cl;
			if (o->mark == mark)
				continue;
			o->mark = mark;
			irc_bcast_to(b, o);
		}
	}
}

/* ---- channel batches ------------------------------------------------------------ */

void irc_batch_add(struct irc_server *s, struct irc_client *from,
		   struct irc_chan *ch, const char *ctags, size_t clen,
		   const char *source, const char *fmt, ...)
{
	struct irc_chanbatch *b = &s->batch;
	if (b->ch && (b->ch != ch || b->from != from))
		irc_server_flush(s);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct irc_batchmsg *m = realloc(b->msgs, cap * sizeof *m);
		if (!m)
			return;
		b->msgs = m;
		b->cap = cap;
	}
	struct irc_batchmsg *m = &b->msgs[b->n];
	struct sk_buf *body = &b->out[0];
	m->off = (uint32_t)sk_buf_len(body);
	m->toff = (uint32_t)sk_buf_len(&b->ctags);
	va_list ap;
	va_start(ap, fmt);
	int r = irc_vfmtline(body, NULL, source, fmt, ap);
	va_end(ap);
	if (r <= 0 || (clen && sk_buf_append(&b->ctags, ctags, clen) < 0)) {
		body->len = m->off; /* drop a half-made entry (off is 0) */
		b->ctags.len = m->toff;
		if (b->n == 0)
			irc_server_flush(s);
		return;
	}
	m->len = (uint32_t)r;
	m->tlen = (uint32_t)clen;
	snprintf(m->time, sizeof m->time, "%.27s", irc_server_time(s));
	new_msgid(s, m->msgid, sizeof m->msgid);
	b->ch = ch;
	b->from = from;
	b->n++;
	if (sk_buf_len(body) > 64 * 1024)
		irc_server_flush(s); /* bound the memory a batch holds */
}

static void batch_build(struct irc_chanbatch *b, int v)
{
	bool bot = (b->from->umodes & IRC_UMODE_B) != 0;
	const char *body = (const char *)sk_buf_data(&b->out[0]);
	const char *tags = (const char *)sk_buf_data(&b->ctags);
	struct sk_buf *out = &b->out[v];
	for (size_t i = 0; i < b->n; i++) {
		const struct irc_batchmsg *m = &b->msgs[i];
		append_prefix(out, v, m->time, m->msgid, bot, tags + m->toff,
			      m->tlen);
		if (sk_buf_append(out, body + m->off, m->len) < 0)
			break;
	}
	b->built[v] = true;
}

void irc_server_flush(struct irc_server *s)
{
	struct irc_chanbatch *b = &s->batch;
	struct irc_chan *ch = b->ch;
	if (!ch)
		return;
	b->ch = NULL; /* whatever happens below, this batch is done */
	b->built[0] = true;
	for (uint32_t i = 0; i < ch->nmem; i++) {
		struct irc_client *c = ch->mem[i]->cl;
		if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))
			continue;
		if (c == b->from && !(c->caps & IRC_CAP_ECHO_MESSAGE))
			continue;
		int v = 0;
		if (c->caps & IRC_CAP_SERVER_TIME)
			v |= V_TIME;
		if (c->caps & IRC_CAP_MESSAGE_TAGS)
			v |= V_TAGS;
		if (!b->built[v])
			batch_build(b, v);
		if (sk_buf_len(&b->out[v]))
			sink_write(s, c, "", 0, (const char *)sk_buf_data(&b->out[v]),
				   sk_buf_len(&b->out[v]));
	}
	/* The sender, when not a member (-n), still gets its echo. */
	if (b->from->caps & IRC_CAP_ECHO_MESSAGE && !irc_member_of(b->from, ch) &&
	    !(b->from->flags & (IRC_CF_DEAD | IRC_CF_KILLQ))) {
		int v = (b->from->caps & IRC_CAP_SERVER_TIME ? V_TIME : 0) |
			(b->from->caps & IRC_CAP_MESSAGE_TAGS ? V_TAGS : 0);
		if (!b->built[v])
			batch_build(b, v);
		sink_write(s, b->from, "", 0, (const char *)sk_buf_data(&b->out[v]),
			   sk_buf_len(&b->out[v]));
	}
	for (int v = 0; v < 4; v++) {
		sk_buf_clear(&b->out[v]);
		b->built[v] = false;
	}
	sk_buf_clear(&b->ctags);
	b->n = 0;
	b->from = NULL;
}

/* ---- labeled-response ---------------------------------------------------------- */

void irc_label_begin(struct irc_server *s, struct irc_client *c,
		     const char *label, size_t n)
{
	if (n >= sizeof s->label)
		return; /* over the spec's 64 bytes: answer unlabeled */
	memcpy(s->label, label, n);
	s->label[n] = '\0';
	s->label_cl = c;
	sk_buf_clear(&s->capture);
	s->capture_lines = 0;
}

/* Send one captured line with an extra tag ("label=x" or "batch=y")
 * merged into its tags. */
static void send_with_tag(struct irc_server *s, struct irc_client *c,
			  const char *tag, const char *line, size_t n)
{
	char pre[128];
	int k;
	if (n && line[0] == '@') {
		k = snprintf(pre, sizeof pre, "@%s;", tag);
		line++, n--;
	} else {
		k = snprintf(pre, sizeof pre, "@%s ", tag);
	}
	if (k > 0 && (size_t)k < sizeof pre)
		sink_write(s, c, pre, (size_t)k, line, n);
}

void irc_label_end(struct irc_server *s)
{
	struct irc_client *c = s->label_cl;
	if (!c)
		return;
	s->label_cl = NULL;
	if (c->flags & (IRC_CF_DEAD | IRC_CF_KILLQ)) {
		sk_buf_clear(&s->capture);
		return;
	}
	char tag[96];
	snprintf(tag, sizeof tag, "label=%s", s->label);
	const char *p = (const char *)sk_buf_data(&s->capture);
	size_t left = sk_buf_len(&s->capture);
	char tp[48];
	size_t tn = time_prefix(s, c, tp, sizeof tp);
	if (s->capture_lines == 0) {
		char ack[160];
		int k = snprintf(ack, sizeof ack, "%.*s:%s ACK\r\n", (int)tn,
				 tp, s->cfg->server_name);
		send_with_tag(s, c, tag, ack, (size_t)k);
	} else if (s->capture_lines == 1 || !(c->caps & IRC_CAP_BATCH)) {
		/* One line (or no batch support): label the first line. */
		const char *eol = memchr(p, '\n', left);
		size_t first = eol ? (size_t)(eol - p) + 1 : left;
		send_with_tag(s, c, tag, p, first);
		if (left > first)
			sink_write(s, c, "", 0, p + first, left - first);
	} else {
		char ref[24], btag[40], start[256];
		snprintf(ref, sizeof ref, "lr%u", ++s->batch_seq);
		snprintf(btag, sizeof btag, "batch=%s", ref);
		int k = snprintf(start, sizeof start,
				 "%.*s:%s BATCH +%s labeled-response\r\n",
				 (int)tn, tp, s->cfg->server_name, ref);
		send_with_tag(s, c, tag, start, (size_t)k);
		while (left) {
			const char *eol = memchr(p, '\n', left);
			size_t n = eol ? (size_t)(eol - p) + 1 : left;
			send_with_tag(s, c, btag, p, n);
			p += n;
			left -= n;
		}
		k = snprintf(start, sizeof start, "%.*s:%s BATCH -%s\r\n",
			     (int)tn, tp, s->cfg->server_name, ref);
		sink_write(s, c, "", 0, start, (size_t)k);
	}
	sk_buf_clear(&s->capture);
	s->capture_lines = 0;
}
