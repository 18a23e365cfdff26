/*
 * fuzz/fuzz_irc_msg.c - the IRC message layer (src/irc).
 *
 * The input is one line without its CR/LF.  It is parsed as from a server
 * and as from a client; every slice must lie inside the input and obey the
 * grammar.  A parsed message is written back with irc_write_msg() and
 * parsed again: command, source, params and tags must survive, and a
 * second write must give the same bytes.  The pieces also go through tag
 * (un)escaping, case folding and hashing, mask matching (against a
 * dynamic-programming reference), name validation, source splitting and
 * mode parsing/formatting.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/casemap.h"
#include "irc/modes.h"
#include "irc/proto.h"
#include "fuzz.h"

static const char *base;
static size_t base_n;

static bool inside(struct irc_str s)
{
	return s.p >= base && s.n <= base_n &&
	       (size_t)(s.p - base) <= base_n - s.n;
}

static bool same(struct irc_str a, struct irc_str b)
{
	if (a.p == NULL || b.p == NULL)
		return a.p == b.p;
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static bool has(struct irc_str s, char c)
{
	return s.n && memchr(s.p, c, s.n) != NULL;
}

static void check_msg(const struct irc_msg *m)
{
	CHECK(m->ntags <= IRC_MAX_TAGS && m->nparams <= IRC_MAX_PARAMS);
	CHECK(inside(m->command) && irc_cmd_valid(m->command));
	if (m->source.p)
		CHECK(inside(m->source) && m->source.n > 0 &&
		      !has(m->source, ' '));
	if (m->tags_raw.p)
		CHECK(inside(m->tags_raw) && !has(m->tags_raw, ' ') &&
		      m->tags_raw.n <= IRC_TAGDATA_MAX);
	for (size_t i = 0; i < m->ntags; i++) {
		const struct irc_tag *t = &m->tags[i];
		CHECK(inside(t->key) && inside(t->value) && t->key.n > 0);
		CHECK(!has(t->key, ';') && !has(t->key, '=') &&
		      !has(t->value, ';') && !has(t->value, ' '));
		CHECK(t->has_value || t->value.n == 0);
	}
	for (size_t i = 0; i < m->nparams; i++) {
		struct irc_str p = m->params[i];
		CHECK(inside(p));
		CHECK(!has(p, '\0') && !has(p, '\r') && !has(p, '\n'));
		bool last = i + 1 == m->nparams;
		if (!last || (!m->trailing && m->nparams < IRC_MAX_PARAMS))
			CHECK(p.n > 0 && !has(p, ' ') && p.p[0] != ':');
	}
}

static void round_trip(const struct irc_msg *m)
{
	struct sk_buf a = SK_BUF_INIT(1 << 16), b = SK_BUF_INIT(1 << 16);
	struct irc_msg m2;
	int w = irc_write_msg(&a, 0, m);

	if (w < 0) {
		/* Only the folded 15th param can grow (it gains a ':'). */
		CHECK(w == SK_EMSGSIZE && m->nparams == IRC_MAX_PARAMS);
		goto out;
	}
	CHECK((size_t)w == sk_buf_len(&a));
	const char *line = (const char *)sk_buf_data(&a);
	CHECK(line[w - 2] == '\r' && line[w - 1] == '\n');
	CHECK(irc_parse(line, (size_t)w - 2, 0, &m2) == 0);
	CHECK(same(m->command, m2.command) && same(m->source, m2.source));
	CHECK(m->nparams == m2.nparams);
	for (size_t i = 0; i < m->nparams; i++)
		CHECK(same(m->params[i], m2.params[i]));
	CHECK(m->trailing == m2.trailing ||
	      (m->nparams == IRC_MAX_PARAMS && m2.trailing));
	if (m->tags_raw.n)
		CHECK(same(m->tags_raw, m2.tags_raw));
	CHECK(m->ntags == m2.ntags);
	for (size_t i = 0; i < m->ntags; i++)
		CHECK(same(m->tags[i].key, m2.tags[i].key) &&
		      same(m->tags[i].value, m2.tags[i].value));
	/* writing the re-parsed message gives the same bytes */
	CHECK(irc_write_msg(&b, 0, &m2) == w);
	CHECK(memcmp(sk_buf_data(&b), line, (size_t)w) == 0);
	/* truncating never makes a line longer than the limit */
	sk_buf_clear(&b);
	w = irc_write(&b, IRC_W_TRUNCATE, IRC_STR_NONE,
		      irc_str("a.much.longer.source!with~user@and.host.example"),
		      m->command, m->params, m->nparams);
	CHECK(w == SK_EMSGSIZE || (w > 0 && w <= IRC_LINE_MAX));
	if (w > 0)
		CHECK(irc_parse((const char *)sk_buf_data(&b), (size_t)w - 2, 0,
				&m2) == 0);
out:
	sk_buf_free(&a);
	sk_buf_free(&b);
}

/* The printf-style writers cut long text at a character boundary. */
static void fmt(const struct irc_msg *m)
{
	struct sk_buf b = SK_BUF_INIT(1 << 16);
	struct irc_msg m2;
	struct irc_str last;

	if (m->nparams == 0)
		return;
	last = m->params[m->nparams - 1];
	int w = irc_fmtline(&b, NULL, NULL, "PRIVMSG #c :%.*s", (int)last.n,
			    last.p);
	CHECK(w > 0 && w <= IRC_LINE_MAX && (size_t)w == sk_buf_len(&b));
	CHECK(irc_parse((const char *)sk_buf_data(&b), (size_t)w - 2, 0,
			&m2) == 0);
	CHECK(m2.nparams == 2);
	CHECK(m2.params[1].n == irc_utf8_cut(last.p, last.n, IRC_BODY_MAX - 12));
	CHECK(memcmp(m2.params[1].p, last.p, m2.params[1].n) == 0);
	sk_buf_clear(&b);
	w = irc_fmt_numeric(&b, "irc.example", 401, "nick",
			    "%.*s :No such nick/channel", (int)last.n, last.p);
	if (has(last, ' ') || (last.n && last.p[0] == ':'))
		CHECK(w > 0 || w == SK_EINVAL);
	else
		CHECK(w > 0 && w <= IRC_LINE_MAX);
	sk_buf_free(&b);
}

static void tags(const struct irc_msg *m)
{
	char u[IRC_TAGDATA_MAX], e[2 * IRC_TAGDATA_MAX], u2[IRC_TAGDATA_MAX];
	for (size_t i = 0; i < m->ntags; i++) {
		ssize_t un = irc_tag_unescape(m->tags[i].value, u, sizeof u);
		CHECK(un >= 0 && (size_t)un <= m->tags[i].value.n);
		ssize_t en = irc_tag_escape(u, (size_t)un, e, sizeof e);
		CHECK(en >= 0 && !memchr(e, ' ', (size_t)en) &&
		      !memchr(e, ';', (size_t)en));
		ssize_t u2n = irc_tag_unescape((struct irc_str){e, (size_t)en},
					       u2, sizeof u2);
		CHECK(u2n == un && memcmp(u, u2, (size_t)un) == 0);
	}
	struct sk_buf t = SK_BUF_INIT(IRC_TAGDATA_MAX);
	int r = irc_tags_add_client(&t, m);
	CHECK(r == 0 || r == SK_ENOBUFS || r == SK_EINVAL);
	sk_buf_free(&t);
}

static bool ref_match(enum irc_casemap cm, struct irc_str p, struct irc_str s)
{
	static bool dp[IRC_MASK_MAX + 1][IRC_BODY_MAX + 1];
	for (size_t i = 0; i <= p.n; i++)
		for (size_t j = 0; j <= s.n; j++) {
			bool v;
			if (i == 0)
				v = j == 0;
			else if (p.p[i - 1] == '*')
				v = dp[i - 1][j] || (j > 0 && dp[i][j - 1]);
			else
				v = j > 0 && dp[i - 1][j - 1] &&
				    (p.p[i - 1] == '?' ||
				     irc_fold(cm, (unsigned char)p.p[i - 1]) ==
					     irc_fold(cm, (unsigned char)s.p[j - 1]));
			dp[i][j] = v;
		}
	return dp[p.n][s.n];
}

static void names(const struct irc_msg *m)
{
	static const uint64_t key[2] = {0x0123456789abcdefULL, 42};
	char f[IRC_BODY_MAX];
	enum irc_casemap cm = (enum irc_casemap)(m->command.n % 3);

	for (size_t i = 0; i < m->nparams; i++) {
		struct irc_str p = m->params[i];
		irc_casefold(cm, p.p, p.n, f);
		CHECK(irc_caseeq(cm, p.p, p.n, f, p.n));
		CHECK(irc_hash(cm, p.p, p.n, key) == irc_hash(cm, f, p.n, key));
		if (irc_nick_valid(p.p, p.n, IRC_NICKLEN_DEFAULT))
			CHECK(!has(p, ' ') && !has(p, '!') && !has(p, '@') &&
			      p.n <= IRC_NICKLEN_DEFAULT);
		if (irc_chan_valid(p.p, p.n, NULL, IRC_CHANNELLEN_DEFAULT))
			CHECK(!has(p, ' ') && !has(p, ','));
		(void)irc_user_valid(p.p, p.n, IRC_USERLEN_DEFAULT);
		char nm[2 * IRC_BODY_MAX];
		ssize_t nn = irc_mask_normalize(p.p, p.n, nm, sizeof nm);
		CHECK(nn >= 5 && strchr(nm, '!') && strchr(nm, '@'));
		/* any mask matches itself ('*' and '?' match themselves too)
		 * and its own case-fold */
		if (p.n <= IRC_MASK_MAX) {
			CHECK(irc_mask_match(cm, p.p, p.n, p.p, p.n));
			CHECK(irc_mask_match(cm, p.p, p.n, f, p.n));
			CHECK(irc_mask_match(cm, f, p.n, p.p, p.n));
		}
		/* without wildcards, matching is case-insensitive equality */
		if (p.n <= IRC_MASK_MAX && !irc_mask_is_wild(p.p, p.n) &&
		    i + 1 < m->nparams) {
			struct irc_str q = m->params[i + 1];
			CHECK(irc_mask_match(cm, p.p, p.n, q.p, q.n) ==
			      irc_caseeq(cm, p.p, p.n, q.p, q.n));
		}
	}
	if (m->nparams >= 2) {
		struct irc_str mask = m->params[0], subj = m->params[1];
		if (mask.n <= IRC_MASK_MAX)
			CHECK(irc_mask_match(cm, mask.p, mask.n, subj.p, subj.n) ==
			      ref_match(cm, mask, subj));
		else
			CHECK(!irc_mask_match(cm, mask.p, mask.n, subj.p, subj.n));
	}
	if (m->source.p) {
		struct irc_str n, u, h;
		irc_source_split(m->source, &n, &u, &h);
		CHECK(inside(n) && n.n <= m->source.n);
		CHECK(!u.p || inside(u));
		CHECK(!h.p || inside(h));
	}
}

static void modes(const struct irc_msg *m)
{
	struct irc_modespec s;
	struct irc_modes r, r2;
	struct irc_str out[IRC_MAX_PARAMS];
	char ms[2 * IRC_MODE_MAX + 1];
	size_t na;

	if (m->nparams < 1)
		return;
	CHECK(irc_modespec_init(&s, "beI,k,l,imnst", "(ov)@+",
				(unsigned)(m->command.n % 5)) == 0);
	irc_modes_parse(&s, m->params[0], m->params + 1, m->nparams - 1, &r);
	CHECK(r.n <= IRC_MODE_MAX && r.args_used <= m->nparams - 1);
	CHECK(strlen(r.unknown) < sizeof r.unknown);
	for (size_t i = 0; i < r.n; i++) {
		CHECK(r.ch[i].kind == irc_modespec_kind(&s, r.ch[i].mode));
		CHECK(r.ch[i].kind != IRC_MODE_UNKNOWN);
	}
	/* format -> parse gives the same changes (without a MODES cap) */
	s.max_args = 0;
	size_t done = 0;
	while (done < r.n) {
		int t = irc_modes_format(r.ch + done, r.n - done, 13, 0, ms,
					 sizeof ms, out, &na);
		CHECK(t > 0 && na <= 13);
		irc_modes_parse(&s, irc_str(ms), out, na, &r2);
		CHECK(r2.n == (size_t)t && r2.unknown[0] == '\0');
		for (size_t i = 0; i < r2.n; i++)
			CHECK(r2.ch[i].dir == r.ch[done + i].dir &&
			      r2.ch[i].mode == r.ch[done + i].mode &&
			      same(r2.ch[i].arg, r.ch[done + i].arg));
		done += (size_t)t;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int codes[] = {
		0, IRC_EEMPTY, IRC_EINPUTTOOLONG, IRC_ETAGSTOOLONG,
		IRC_ETOOMANYTAGS, IRC_ENOCOMMAND, IRC_EBADCOMMAND,
		IRC_EBADCHAR, IRC_EBADSOURCE,
	};
	struct irc_msg m;
	char *p;

	/* An exact-size copy so ASan catches any read past the end. */
	p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	if (size)
		memcpy(p, data, size);
	base = p;
	base_n = size;
	for (unsigned flags = 0; flags <= IRC_PARSE_CLIENT; flags++) {
		int r = irc_parse(p, size, flags, &m);
		bool known = false;
		for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
			known |= r == codes[i];
		CHECK(known);
		if (r == IRC_EBADCOMMAND)
			CHECK(inside(m.command) && !irc_cmd_valid(m.command) &&
			      !has(m.command, ' '));
		if (r != 0)
			continue;
		if (flags & IRC_PARSE_CLIENT)
			CHECK(m.tags_raw.n <= IRC_CLIENT_TAGDATA_MAX);
		check_msg(&m);
		round_trip(&m);
		fmt(&m);
		tags(&m);
		names(&m);
		modes(&m);
	}
	free(p);
	return 0;
}
