/*
 * src/bt/tracker_http.c - just enough HTTP/1.x for trackers: the client
 * parses a response head and delimits its body, the built-in tracker
 * parses a request head.
 *
 * Both parsers first look for the end of the head (an empty line) within
 * the size bound, so a peer cannot make us buffer an endless head; then
 * they walk the lines.  Bare LF line ends are accepted as well as CRLF
 * (RFC 9112 allows a recipient to).  Obsolete line folding, header names
 * with odd bytes and conflicting Content-Lengths are refused: those are
 * the ingredients of request smuggling.
 */
#include "bt/tracker_proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct lines {
	const uint8_t *p, *end;
};

/* The next line without its terminator; false at the end of the head. */
static bool next_line(struct lines *ls, struct sk_slice *line)
{
	if (ls->p >= ls->end)
		return false;
	const uint8_t *nl = memchr(ls->p, '\n', (size_t)(ls->end - ls->p));
	if (!nl)
		nl = ls->end;
	line->p = ls->p;
	line->n = (size_t)(nl - ls->p);
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	ls->p = nl + 1;
	return true;
}

/* Length of the head including the empty line, 0 if not there yet. */
static size_t head_end(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int find_head(const uint8_t *p, size_t n, size_t max, size_t *len)
{
	size_t lim = n < max ? n : max;
	*len = head_end(p, lim);
	if (*len)
		return 1;
	return n >= max ? SK_EMSGSIZE : 0;
}

static bool tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool slice_eq(struct sk_slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && strncasecmp((const char *)s.p, lit, n) == 0;
}

static bool slice_has(struct sk_slice s, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i + n <= s.n; i++)
		if (strncasecmp((const char *)s.p + i, word, n) == 0)
			return true;
	return false;
}

/* "Name: value" -> name and value without surrounding blanks. */
static int split_header(struct sk_slice line, struct sk_slice *name,
			struct sk_slice *val)
{
	const uint8_t *colon = memchr(line.p, ':', line.n);
	if (!colon || colon == line.p)
		return SK_EPROTO;
	for (const uint8_t *c = line.p; c < colon; c++)
		if (!tchar(*c))
			return SK_EPROTO; /* also catches obs-fold and "Name :" */
	name->p = line.p;
	name->n = (size_t)(colon - line.p);
	const uint8_t *v = colon + 1, *e = line.p + line.n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	val->p = v;
	val->n = (size_t)(e - v);
	return 0;
}

static int parse_length(struct sk_slice v, int64_t *out)
{
	int64_t x = 0;
	if (v.n == 0 || v.n > 18)
		return SK_EPROTO;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return SK_EPROTO;
		x = x * 10 + (v.p[i] - '0');
	}
	if (*out >= 0 && *out != x)
		return SK_EPROTO; /* two different lengths */
	*out = x;
	return 0;
}

/* "HTTP/1.x" -> x */
static int http_version(const uint8_t *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return SK_EPROTO;
	return p[7] - '0';
}

/* ---- responses ---------------------------------------------------------------- */

static int status_line(struct sk_slice l, struct bt_http_resp *r)
{
	if (l.n < 12 || l.p[8] != ' ')
		return SK_EPROTO;
	int minor = http_version(l.p, 8);
	if (minor < 0)
		return minor;
	r->minor = minor;
	for (int i = 9; i < 12; i++)
		if (l.p[i] < '0' || l.p[i] > '9')
			return SK_EPROTO;
	r->status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
	if (r->status < 100 || (l.n > 12 && l.p[12] != ' '))
		return SK_EPROTO;
	r->reason.p = l.p + (l.n > 12 ? 13 : 12);
	r->reason.n = l.n > 12 ? l.n - 13 : 0;
	return 0;
}

static int resp_header(struct sk_slice line, struct bt_http_resp *r)
{
	struct sk_slice name, val;
	int e = split_header(line, &name, &val);
	if (e < 0)
		return e;
	if (slice_eq(name, "Content-Length"))
		return parse_length(val, &r->content_length);
	if (slice_eq(name, "Transfer-Encoding"))
		r->chunked = r->chunked || slice_has(val, "chunked");
	else if (slice_eq(name, "Location"))
		r->location = val;
	return 0;
}

int bt_http_resp_parse(const uint8_t *p, size_t n, size_t max,
		       struct bt_http_resp *r)
{
	size_t len;
	int e = find_head(p, n, max, &len);

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	if (e <= 0)
		return e;
	struct lines ls = {p, p + len};
	struct sk_slice line;
	if (!next_line(&ls, &line) || (e = status_line(line, r)) < 0)
		return SK_EPROTO;
	while (next_line(&ls, &line) && line.n > 0)
		if ((e = resp_header(line, r)) < 0)
			return e;
	r->head_len = len;
	return 1;
}

/* 1xx, 204 and 304 never have a body. */
static bool no_body(int status)
{
	return status < 200 || status == 204 || status == 304;
}

int bt_http_body(const struct bt_http_resp *r, const uint8_t *p, size_t n,
		 bool eof, size_t max, struct sk_slice *body)
{
	body->p = p;
	body->n = 0;
	if (no_body(r->status))
		return 1;
	if (r->chunked)
		return SK_ENOTSUP;
	if (r->content_length >= 0) {
		if ((uint64_t)r->content_length > max)
			return SK_EMSGSIZE;
		if (n < (uint64_t)r->content_length)
			return eof ? SK_EPROTO : 0;
		body->n = (size_t)r->content_length;
		return 1;
	}
	if (n > max)
		return SK_EMSGSIZE;
	if (!eof)
		return 0;
	body->n = n;
	return 1;
}

int bt_http_get_write(struct sk_buf *b, const struct bt_url *u,
		      const char *user_agent)
{
	size_t start = sk_buf_len(b);
	bool v6 = memchr(u->host.p, ':', u->host.n) != NULL;
	bool dflt = (u->scheme == BT_URL_HTTP && u->port == 80) ||
		    (u->scheme == BT_URL_HTTPS && u->port == 443);
	char port[8] = "";

	if (!dflt)
		snprintf(port, sizeof port, ":%u", u->port);
	int e = sk_buf_appendf(b,
			       "GET %.*s HTTP/1.0\r\nHost: %s%.*s%s%s\r\n"
			       "User-Agent: %s\r\nAccept-Encoding: identity\r\n"
			       "Connection: close\r\n\r\n",
			       (int)u->target.n, (const char *)u->target.p,
			       v6 ? "[" : "", (int)u->host.n,
			       (const char *)u->host.p, v6 ? "]" : "", port,
			       user_agent);
	if (e < 0 && b->len > start)
		b->len = start;
	return e < 0 ? e : 0;
}

/* ---- requests ----------------------------------------------------------------- */

static int request_line(struct sk_slice l, struct bt_http_req *r)
{
	const uint8_t *sp1 = memchr(l.p, ' ', l.n);
	if (!sp1 || sp1 == l.p)
		return SK_EPROTO;
	const uint8_t *t = sp1 + 1, *end = l.p + l.n;
	const uint8_t *sp2 = memchr(t, ' ', (size_t)(end - t));
	if (!sp2 || sp2 == t || *t != '/')
		return SK_EPROTO;
	for (const uint8_t *c = l.p; c < sp1; c++)
		if (!tchar(*c))
			return SK_EPROTO;
	for (const uint8_t *c = t; c < sp2; c++)
		if (*c <= ' ' || *c == 0x7f)
			return SK_EPROTO;
	int minor = http_version(sp2 + 1, (size_t)(end - sp2 - 1));
	if (minor < 0)
		return minor;
	r->minor = minor;
	r->method = (struct sk_slice){l.p, (size_t)(sp1 - l.p)};
	r->target = (struct sk_slice){t, (size_t)(sp2 - t)};
	const uint8_t *q = memchr(t, '?', r->target.n);
	r->path = (struct sk_slice){t, q ? (size_t)(q - t) : r->target.n};
	if (q)
		r->query = (struct sk_slice){q + 1, (size_t)(sp2 - q - 1)};
	else
		r->query = (struct sk_slice){sp2, 0};
	return 0;
}

static int req_header(struct sk_slice line, struct bt_http_req *r,
		      int64_t *clen)
{
	struct sk_slice name, val;
	int e = split_header(line, &name, &val);
	if (e < 0)
		return e;
	if (slice_eq(name, "Content-Length")) {
		if ((e = parse_length(val, clen)) < 0)
			return e;
		return *clen == 0 ? 0 : SK_ENOTSUP;
	}
	if (slice_eq(name, "Transfer-Encoding"))
		return SK_ENOTSUP;
	if (slice_eq(name, "Connection")) {
		if (slice_has(val, "close"))
			r->keep_alive = false;
		else if (slice_has(val, "keep-alive"))
			r->keep_alive = true;
	}
	return 0;
}

int bt_http_req_parse(const uint8_t *p, size_t n, size_t max,
		      struct bt_http_req *r)
{
	int64_t clen = -1;
	size_t len;
	int e = find_head(p, n, max, &len);

	memset(r, 0, sizeof *r);
	if (e <= 0)
		return e;
	struct lines ls = {p, p + len};
	struct sk_slice line;
	if (!next_line(&ls, &line) || (e = request_line(line, r)) < 0)
		return SK_EPROTO;
	r->keep_alive = r->minor >= 1;
	while (next_line(&ls, &line) && line.n > 0)
		if ((e = req_header(line, r, &clen)) < 0)
			return e;
	r->head_len = len;
	return 1;
}
