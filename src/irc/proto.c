/*
 * src/irc/proto.c - IRC line parsing and writing, IRCv3 tag escaping.
 *
 * The parser makes one pass for forbidden bytes and one left-to-right pass
 * over the fields; every field is a slice into the caller's line, so nothing
 * is copied or allocated.  Writers measure the whole line first, then
 * reserve exactly that much in the sk_buf and fill it, so a failure never
 * leaves half a line behind.
 */
#include "irc/proto.h"

#include <stdint.h>
#include <stdio.h>

const char *irc_strerror(int err)
{
	switch (err) {
	case IRC_EEMPTY: return "empty line";
	case IRC_EINPUTTOOLONG: return "input line was too long";
	case IRC_ETAGSTOOLONG: return "message tags were too long";
	case IRC_ETOOMANYTAGS: return "too many message tags";
	case IRC_ENOCOMMAND: return "no command";
	case IRC_EBADCOMMAND: return "malformed command";
	case IRC_EBADCHAR: return "NUL, CR or LF in a message";
	case IRC_EBADSOURCE: return "empty message source";
	case IRC_EBADPARAM: return "malformed parameter";
	default: return sk_strerror(err);
	}
}

ssize_t irc_str_copy(struct irc_str s, char *out, size_t outsz)
{
	if (outsz == 0)
		return SK_ENOBUFS;
	if (s.n >= outsz) {
		out[0] = '\0';
		return SK_ENOBUFS;
	}
	if (s.n)
		memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return (ssize_t)s.n;
}

unsigned long irc_str_ulong(struct irc_str s, unsigned long max, size_t *used)
{
	unsigned long v = 0;
	size_t i = 0;
	for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
		unsigned long d = (unsigned long)(s.p[i] - '0');
		v = v > (max - d) / 10 ? max : v * 10 + d;
	}
	if (used)
		*used = i;
	return v;
}

/* ---- parsing ---------------------------------------------------------- */

static bool bad_byte(unsigned char c)
{
	return c == '\0' || c == '\r' || c == '\n';
}

static bool has_bad_byte(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bad_byte((unsigned char)p[i]))
			return true;
	return false;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

static const char *find_space(const char *p, const char *end)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	return sp ? sp : end;
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool irc_cmd_valid(struct irc_str s)
{
	if (s.p == NULL || s.n == 0)
		return false;
	if (s.n == 3 && is_digit((unsigned char)s.p[0]) &&
	    is_digit((unsigned char)s.p[1]) && is_digit((unsigned char)s.p[2]))
		return true;
	for (size_t i = 0; i < s.n; i++)
		if (!is_alpha((unsigned char)s.p[i]))
			return false;
	return true;
}

/* Split the tag data on ';' into m->tags. */
static int split_tags(struct irc_msg *m)
{
	const char *q = m->tags_raw.p, *end = q + m->tags_raw.n;

	for (;;) {
		const char *e = memchr(q, ';', (size_t)(end - q));
		if (e == NULL)
			e = end;
		const char *eq = memchr(q, '=', (size_t)(e - q));
		const char *kend = eq ? eq : e;
		if (kend > q) {
			struct irc_tag *t;
			if (m->ntags == IRC_MAX_TAGS)
				return IRC_ETOOMANYTAGS;
			t = &m->tags[m->ntags++];
			t->key = (struct irc_str){q, (size_t)(kend - q)};
			t->has_value = eq != NULL;
			if (eq)
				t->value = (struct irc_str){eq + 1,
							    (size_t)(e - eq - 1)};
			else
				t->value = (struct irc_str){e, 0};
		}
		if (e == end)
			return 0;
		q = e + 1;
	}
}

static void parse_params(struct irc_msg *m, const char *p, const char *end)
{
	for (;;) {
		p = skip_spaces(p, end);
		if (p == end)
			return;
		if (*p == ':' || m->nparams == IRC_MAX_PARAMS - 1) {
			/* The trailing param, or the 15th taking the rest. */
			if (*p == ':') {
				p++;
				m->trailing = true;
			}
			m->params[m->nparams++] =
				(struct irc_str){p, (size_t)(end - p)};
			return;
		}
		const char *e = find_space(p, end);
		m->params[m->nparams++] = (struct irc_str){p, (size_t)(e - p)};
		p = e;
	}
}

int irc_parse(const char *line, size_t n, unsigned flags, struct irc_msg *m)
{
	const char *p, *end, *e;

	m->tags_raw = IRC_STR_NONE;
	m->ntags = 0;
	m->source = IRC_STR_NONE;
	m->command = IRC_STR_NONE;
	m->nparams = 0;
	m->trailing = false;

	if (n == 0)
		return IRC_EEMPTY;
	if (has_bad_byte(line, n))
		return IRC_EBADCHAR;
	p = line;
	end = line + n;
	p = skip_spaces(p, end);
	if (p == end)
		return IRC_EEMPTY;

	if (*p == '@') {
		size_t lim = (flags & IRC_PARSE_CLIENT) ? IRC_CLIENT_TAGDATA_MAX
							: IRC_TAGDATA_MAX;
		e = find_space(p, end);
		if ((size_t)(e - p - 1) > lim)
			return IRC_ETAGSTOOLONG;
		m->tags_raw = (struct irc_str){p + 1, (size_t)(e - p - 1)};
		int r = split_tags(m);
		if (r < 0)
			return r;
		if (e == end)
			return IRC_ENOCOMMAND;
		p = e + 1; /* the body starts after the one separating space */
	}
	if ((size_t)(end - p) > IRC_BODY_MAX)
		return IRC_EINPUTTOOLONG;
	p = skip_spaces(p, end);
	if (p == end)
		return IRC_ENOCOMMAND;

	if (*p == ':') {
		e = find_space(p, end);
		if (e == p + 1)
			return IRC_EBADSOURCE;
		m->source = (struct irc_str){p + 1, (size_t)(e - p - 1)};
		p = skip_spaces(e, end);
		if (p == end)
			return IRC_ENOCOMMAND;
	}

	e = find_space(p, end);
	m->command = (struct irc_str){p, (size_t)(e - p)};
	if (!irc_cmd_valid(m->command))
		return IRC_EBADCOMMAND;
	parse_params(m, e, end);
	return 0;
}

const struct irc_tag *irc_msg_tag(const struct irc_msg *m, const char *key)
{
	for (size_t i = m->ntags; i-- > 0;)
		if (irc_str_eq(m->tags[i].key, key))
			return &m->tags[i];
	return NULL;
}

static unsigned char ascii_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

bool irc_cmd_is(struct irc_str cmd, const char *name)
{
	size_t n = strlen(name);
	if (cmd.p == NULL || cmd.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_upper((unsigned char)cmd.p[i]) !=
		    ascii_upper((unsigned char)name[i]))
			return false;
	return true;
}

ssize_t irc_cmd_upper(struct irc_str cmd, char *out, size_t outsz)
{
	if (outsz == 0)
		return SK_ENOBUFS;
	if (cmd.n >= outsz) {
		out[0] = '\0';
		return SK_ENOBUFS;
	}
	for (size_t i = 0; i < cmd.n; i++)
		out[i] = (char)ascii_upper((unsigned char)cmd.p[i]);
	out[cmd.n] = '\0';
	return (ssize_t)cmd.n;
}

int irc_cmd_numeric(struct irc_str cmd)
{
	if (cmd.p == NULL || cmd.n != 3)
		return -1;
	int v = 0;
	for (size_t i = 0; i < 3; i++) {
		if (!is_digit((unsigned char)cmd.p[i]))
			return -1;
		v = v * 10 + (cmd.p[i] - '0');
	}
	return v;
}

/* ---- tag values ------------------------------------------------------- */

ssize_t irc_tag_unescape(struct irc_str v, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		if (c == '\\') {
			if (++i == v.n)
				break; /* a lone trailing backslash: dropped */
			switch (v.p[i]) {
			case ':': c = ';'; break;
			case 's': c = ' '; break;
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			default: c = v.p[i]; break; /* "\\" and "\b" -> "b" */
			}
		}
		if (o == outsz)
			return SK_ENOBUFS;
		out[o++] = c; /* o <= i, so out == v.p is safe */
	}
	return (ssize_t)o;
}

/* The escape sequence's second byte for c, or 0 when c goes as is. */
static char escape_of(char c)
{
	switch (c) {
	case ';': return ':';
	case ' ': return 's';
	case '\\': return '\\';
	case '\r': return 'r';
	case '\n': return 'n';
	default: return 0;
	}
}

ssize_t irc_tag_escape(const char *in, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i], e = escape_of(c);
		if (c == '\0')
			continue;
		if (outsz - o < (e ? 2u : 1u))
			return SK_ENOBUFS;
		if (e) {
			out[o++] = '\\';
			out[o++] = e;
		} else {
			out[o++] = c;
		}
	}
	return (ssize_t)o;
}

static bool key_ok(const char *key, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c == '=' || c == ';' || c == ' ' || bad_byte(c))
			return false;
	}
	return true;
}

/* Append "[;]key[=value]" where value is already escaped. */
static int tag_append_raw(struct sk_buf *tags, struct irc_str key,
			  struct irc_str value)
{
	size_t sep = sk_buf_len(tags) ? 1 : 0;
	size_t need = sep + key.n + (value.n ? 1 + value.n : 0);
	uint8_t *w;
	int r;

	if ((r = sk_buf_reserve(tags, need, &w)) < 0)
		return r;
	if (sep)
		*w++ = ';';
	memcpy(w, key.p, key.n);
	w += key.n;
	if (value.n) {
		*w++ = '=';
		memcpy(w, value.p, value.n);
	}
	sk_buf_commit(tags, need);
	return 0;
}

int irc_tags_add(struct sk_buf *tags, const char *key, const char *value,
		 size_t vlen)
{
	size_t kn = key ? strlen(key) : 0;
	size_t sep = sk_buf_len(tags) ? 1 : 0;
	size_t en = 0, need;
	uint8_t *w;
	int r;

	if (!key_ok(key, kn))
		return SK_EINVAL;
	/* Measure the escaped value first so the reservation is exact. */
	for (size_t i = 0; value && i < vlen; i++)
		if (value[i] != '\0')
			en += escape_of(value[i]) ? 2 : 1;
	if (en > IRC_TAGDATA_MAX)
		return SK_ENOBUFS;
	need = sep + kn + (en ? 1 + en : 0);
	if ((r = sk_buf_reserve(tags, need, &w)) < 0)
		return r;
	if (sep)
		*w++ = ';';
	memcpy(w, key, kn);
	w += kn;
	if (en) {
		*w++ = '=';
		(void)irc_tag_escape(value, vlen, (char *)w, en);
	}
	sk_buf_commit(tags, need);
	return 0;
}

int irc_tags_add_client(struct sk_buf *tags, const struct irc_msg *m)
{
	for (size_t i = 0; i < m->ntags; i++) {
		const struct irc_tag *t = &m->tags[i];
		bool later = false;
		if (t->key.n < 2 || t->key.p[0] != '+')
			continue;
		for (size_t j = i + 1; j < m->ntags && !later; j++)
			later = m->tags[j].key.n == t->key.n &&
				memcmp(m->tags[j].key.p, t->key.p,
				       t->key.n) == 0;
		if (later)
			continue;
		if (!key_ok(t->key.p, t->key.n) ||
		    has_bad_byte(t->value.p, t->value.n) ||
		    memchr(t->value.p, ' ', t->value.n) ||
		    memchr(t->value.p, ';', t->value.n))
			return SK_EINVAL;
		int r = tag_append_raw(tags, t->key, t->value);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

size_t irc_utf8_cut(const char *s, size_t n, size_t max)
{
	size_t k = max;

	if (n <= max)
		return n;
	for (int i = 0; i < 3 && k > 0; i++) {
		if (((unsigned char)s[k] & 0xC0) != 0x80)
			return k; /* s[k] starts a character: cut before it */
		k--;
	}
	if (((unsigned char)s[k] & 0xC0) != 0x80)
		return k;
	return max; /* not UTF-8 here: a byte cut is all we can do */
}

static bool has_byte(struct irc_str s, char c)
{
	return s.n && memchr(s.p, c, s.n) != NULL;
}

/* Validate everything and work out the line's layout. */
struct layout {
	size_t body;      /* body bytes */
	size_t lastn;     /* bytes of the last param to write */
	bool colon;       /* ':' before the last param */
};

static int plan(unsigned flags, struct irc_str tags, struct irc_str source,
		struct irc_str command, const struct irc_str *params,
		size_t nparams, struct layout *l)
{
	size_t body;

	if (nparams > IRC_MAX_PARAMS)
		return IRC_EBADPARAM;
	if (has_bad_byte(tags.p, tags.n) || has_bad_byte(command.p, command.n) ||
	    (source.p && has_bad_byte(source.p, source.n)))
		return IRC_EBADCHAR;
	for (size_t i = 0; i < nparams; i++) {
		if (params[i].n && params[i].p == NULL)
			return SK_EINVAL;
		if (has_bad_byte(params[i].p, params[i].n))
			return IRC_EBADCHAR;
	}
	if (!irc_cmd_valid(command) || has_byte(tags, ' ') ||
	    (source.p && (source.n == 0 || has_byte(source, ' '))))
		return SK_EINVAL;
	if (tags.n > IRC_TAGDATA_MAX)
		return SK_EMSGSIZE;

	body = (source.p ? source.n + 2 : 0) + command.n;
	for (size_t i = 0; i + 1 < nparams; i++) {
		const struct irc_str *p = &params[i];
		if (p->n == 0 || has_byte(*p, ' ') || p->p[0] == ':')
			return IRC_EBADPARAM;
		body += 1 + p->n;
	}
	l->lastn = 0;
	l->colon = false;
	if (nparams) {
		struct irc_str last = params[nparams - 1];
		l->lastn = last.n;
		l->colon = (flags & IRC_W_TRAILING) || last.n == 0 ||
			   last.p[0] == ':' || has_byte(last, ' ');
		if (body + 1 + l->colon + last.n > IRC_BODY_MAX &&
		    (flags & IRC_W_TRUNCATE) && body + 2 <= IRC_BODY_MAX) {
			l->colon = true; /* whatever the cut leaves is valid */
			l->lastn = irc_utf8_cut(last.p, last.n,
						IRC_BODY_MAX - body - 2);
		}
		body += 1 + l->colon + l->lastn;
	}
	if (body > IRC_BODY_MAX)
		return SK_EMSGSIZE;
	l->body = body;
	return 0;
}

static uint8_t *put(uint8_t *w, const char *p, size_t n)
{
	if (n)
		memcpy(w, p, n);
	return w + n;
}

int irc_write(struct sk_buf *out, unsigned flags, struct irc_str tags,
	      struct irc_str source, struct irc_str command,
	      const struct irc_str *params, size_t nparams)
{
	struct layout l;
	size_t total;
	uint8_t *w;
	int r;

	if ((r = plan(flags, tags, source, command, params, nparams, &l)) < 0)
		return r;
	total = (tags.n ? tags.n + 2 : 0) + l.body + 2;
	if ((r = sk_buf_reserve(out, total, &w)) < 0)
		return r;
	if (tags.n) {
		*w++ = '@';
		w = put(w, tags.p, tags.n);
		*w++ = ' ';
	}
	if (source.p) {
		*w++ = ':';
		w = put(w, source.p, source.n);
		*w++ = ' ';
	}
	w = put(w, command.p, command.n);
	for (size_t i = 0; i < nparams; i++) {
		bool last = i + 1 == nparams;
		*w++ = ' ';
		if (last && l.colon)
			*w++ = ':';
		w = put(w, params[i].p, last ? l.lastn : params[i].n);
	}
	*w++ = '\r';
	*w = '\n';
	sk_buf_commit(out, total);
	return (int)total;
}

int irc_write_msg(struct sk_buf *out, unsigned flags, const struct irc_msg *m)
{
	if (m->trailing)
		flags |= IRC_W_TRAILING;
	return irc_write(out, flags, m->tags_raw, m->source, m->command,
			 m->params, m->nparams);
}

int irc_writel(struct sk_buf *out, unsigned flags, const char *tags,
	       const char *source, const char *command, ...)
{
	struct irc_str params[IRC_MAX_PARAMS];
	size_t n = 0;
	const char *s;
	va_list ap;

	va_start(ap, command);
	while ((s = va_arg(ap, const char *)) != NULL) {
		if (n == IRC_MAX_PARAMS) {
			va_end(ap);
			return IRC_EBADPARAM;
		}
		params[n++] = irc_str(s);
	}
	va_end(ap);
	return irc_write(out, flags, irc_str(tags),
			 (source && *source) ? irc_str(source) : IRC_STR_NONE,
			 irc_str(command), params, n);
}

int irc_vfmtline(struct sk_buf *out, const char *tags, const char *source,
		 const char *fmt, va_list ap)
{
	/* One byte more than a body can hold: when the text is too long, the
	 * byte at the cut position is still known, so irc_utf8_cut() can see
	 * whether the cut would split a character. */
	char text[IRC_BODY_MAX + 2];
	struct irc_str t = irc_str(tags), s = irc_str(source);
	size_t pre, total, tn;
	uint8_t *w;
	int r;

	if (s.p && s.n == 0)
		s = IRC_STR_NONE;
	if (has_bad_byte(t.p, t.n) || (s.p && has_bad_byte(s.p, s.n)))
		return IRC_EBADCHAR;
	if (has_byte(t, ' ') || has_byte(s, ' '))
		return SK_EINVAL;
	if (t.n > IRC_TAGDATA_MAX)
		return SK_EMSGSIZE;
	pre = s.p ? s.n + 2 : 0;
	if (pre >= IRC_BODY_MAX)
		return SK_EMSGSIZE;

	r = vsnprintf(text, sizeof text, fmt, ap);
	if (r < 0)
		return SK_EINVAL;
	tn = (size_t)r < sizeof text ? (size_t)r : sizeof text - 1;
	/* vsnprintf stops at nothing: a %c of 0 or a %s with CR lands here. */
	if (has_bad_byte(text, tn))
		return IRC_EBADCHAR;
	tn = irc_utf8_cut(text, tn, IRC_BODY_MAX - pre);
	/* The text must start with a command, or the line would not parse
	 * back (a leading ':' or '@' would be read as source or tags). */
	const char *sp = memchr(text, ' ', tn);
	if (!irc_cmd_valid((struct irc_str){text, sp ? (size_t)(sp - text)
						     : tn}))
		return SK_EINVAL;

	total = (t.n ? t.n + 2 : 0) + pre + tn + 2;
	if ((r = sk_buf_reserve(out, total, &w)) < 0)
		return r;
	if (t.n) {
		*w++ = '@';
		w = put(w, t.p, t.n);
		*w++ = ' ';
	}
	if (s.p) {
		*w++ = ':';
		w = put(w, s.p, s.n);
		*w++ = ' ';
	}
	w = put(w, text, tn);
	*w++ = '\r';
	*w = '\n';
	sk_buf_commit(out, total);
	return (int)total;
}

int irc_fmtline(struct sk_buf *out, const char *tags, const char *source,
		const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = irc_vfmtline(out, tags, source, fmt, ap);
	va_end(ap);
	return r;
}

int irc_fmt_numeric(struct sk_buf *out, const char *server, int code,
		    const char *target, const char *fmt, ...)
{
	char text[IRC_BODY_MAX + 1];
	va_list ap;
	int r;

	if (code < 0 || code > 999 || fmt == NULL)
		return SK_EINVAL;
	if (target == NULL || *target == '\0')
		target = "*";
	if (strchr(target, ' ') != NULL || strchr(target, '\r') ||
	    strchr(target, '\n'))
		return SK_EINVAL;
	va_start(ap, fmt);
	r = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return SK_EINVAL;
	/* The text goes through irc_fmtline() again as a "%s", which would
	 * stop at a NUL from a %c of 0: catch that here.  Anything past
	 * sizeof text is cut by the body limit anyway. */
	if (strlen(text) != ((size_t)r < sizeof text ? (size_t)r
						      : sizeof text - 1))
		return IRC_EBADCHAR;
	if (r == 0)
		return irc_fmtline(out, NULL, server, "%03d %s", code, target);
	return irc_fmtline(out, NULL, server, "%03d %s %s", code, target,
			   text);
}
