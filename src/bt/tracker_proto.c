/*
 * src/bt/tracker_proto.c - tracker URLs, percent encoding, and the HTTP
 * announce and scrape messages (BEP 3, 7, 23, 48).
 *
 * Responses are bencoded documents decoded with bt_bdecode (one
 * allocation, released before returning); everything handed back is a
 * slice into the caller's body or a copy into the caller's array.
 */
#include "bt/tracker_proto.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"

/* ---- peers ----------------------------------------------------------------- */

size_t bt_peers_compact(struct sk_slice s, int family, struct bt_peer *out,
			size_t max)
{
	size_t alen = family == 6 ? 16 : 4, step = alen + 2, k = 0;
	if (!s.p)
		return 0;
	for (size_t off = 0; s.n - off >= step; off += step) {
		const uint8_t *e = s.p + off;
		uint16_t port = (uint16_t)(e[alen] << 8 | e[alen + 1]);
		if (port == 0)
			continue;
		if (k < max) {
			memset(&out[k], 0, sizeof out[k]);
			memcpy(out[k].ip, e, alen);
			out[k].family = (uint8_t)(family == 6 ? 6 : 4);
			out[k].port = port;
		}
		k++;
	}
	return k;
}

int bt_peer_compact_write(struct sk_buf *b, const struct bt_peer *p)
{
	uint8_t tmp[BT_COMPACT6_LEN];
	size_t alen = p->family == 6 ? 16 : 4;
	memcpy(tmp, p->ip, alen);
	tmp[alen] = (uint8_t)(p->port >> 8);
	tmp[alen + 1] = (uint8_t)p->port;
	return sk_buf_append(b, tmp, alen + 2);
}

void bt_peer_to_addr(const struct bt_peer *p, struct sk_addr *a)
{
	memset(a, 0, sizeof *a);
	if (p->family == 6) {
		a->u.in6.sin6_family = AF_INET6;
		memcpy(&a->u.in6.sin6_addr, p->ip, 16);
		a->u.in6.sin6_port = htons(p->port);
		a->len = sizeof a->u.in6;
	} else {
		a->u.in4.sin_family = AF_INET;
		memcpy(&a->u.in4.sin_addr, p->ip, 4);
		a->u.in4.sin_port = htons(p->port);
		a->len = sizeof a->u.in4;
	}
}

int bt_peer_from_addr(struct bt_peer *p, const struct sk_addr *a)
{
	memset(p, 0, sizeof *p);
	if (a->u.sa.sa_family == AF_INET) {
		memcpy(p->ip, &a->u.in4.sin_addr, 4);
		p->family = 4;
		p->port = ntohs(a->u.in4.sin_port);
		return 0;
	}
	if (a->u.sa.sa_family != AF_INET6)
		return SK_EAFNOSUPPORT;
	p->port = ntohs(a->u.in6.sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr)) {
		memcpy(p->ip, a->u.in6.sin6_addr.s6_addr + 12, 4);
		p->family = 4;
	} else {
		memcpy(p->ip, &a->u.in6.sin6_addr, 16);
		p->family = 6;
	}
	return 0;
}

/* ---- URLs ------------------------------------------------------------------ */

static bool prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n >= k && strncasecmp(s, pre, k) == 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" */
static int url_authority(const char *s, size_t n, struct bt_url *u)
{
	const char *colon = NULL, *end = s + n;
	if (n == 0 || memchr(s, '@', n))
		return SK_EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb || rb == s + 1)
			return SK_EINVAL;
		u->host.p = (const uint8_t *)s + 1;
		u->host.n = (size_t)(rb - s - 1);
		if (rb + 1 < end && rb[1] != ':')
			return SK_EINVAL;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', n);
		u->host.p = (const uint8_t *)s;
		u->host.n = colon ? (size_t)(colon - s) : n;
		if (u->host.n == 0)
			return SK_EINVAL;
	}
	if (!colon)
		return u->scheme == BT_URL_UDP ? SK_EINVAL : 0;
	unsigned long port = 0;
	const char *q = colon + 1;
	if (q == end || end - q > 5)
		return SK_EINVAL;
	for (; q < end; q++) {
		if (*q < '0' || *q > '9')
			return SK_EINVAL;
		port = port * 10 + (unsigned long)(*q - '0');
	}
	if (port == 0 || port > 65535)
		return SK_EINVAL;
	u->port = (uint16_t)port;
	return 0;
}

int bt_url_parse(const char *s, size_t n, struct bt_url *u)
{
	static const char slash[] = "/";
	size_t skip;

	memset(u, 0, sizeof *u);
	if (prefix(s, n, "http://")) {
		u->scheme = BT_URL_HTTP, u->port = 80, skip = 7;
	} else if (prefix(s, n, "https://")) {
		u->scheme = BT_URL_HTTPS, u->port = 443, skip = 8;
	} else if (prefix(s, n, "udp://")) {
		u->scheme = BT_URL_UDP, skip = 6;
	} else {
		return SK_EINVAL;
	}
	s += skip;
	n -= skip;
	const char *hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	size_t auth = 0;
	while (auth < n && s[auth] != '/' && s[auth] != '?')
		auth++;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return SK_EINVAL; /* no spaces or controls in a URL */
	int r = url_authority(s, auth, u);
	if (r < 0)
		return r;
	u->target.p = (const uint8_t *)(auth < n ? s + auth : slash);
	u->target.n = auth < n ? n - auth : 1;
	return 0;
}

static bool unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int bt_pct_encode(struct sk_buf *b, const void *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *s = p;
	size_t need = 0;
	uint8_t *o;

	for (size_t i = 0; i < n; i++)
		need += unreserved(s[i]) ? 1 : 3;
	int r = sk_buf_reserve(b, need, &o);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (unreserved(s[i])) {
			*o++ = s[i];
			continue;
		}
		*o++ = '%';
		*o++ = (uint8_t)hex[s[i] >> 4];
		*o++ = (uint8_t)hex[s[i] & 15];
	}
	sk_buf_commit(b, need);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int bt_pct_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '%') {
			int hi = n - i >= 3 ? hexval(s[i + 1]) : -1;
			int lo = n - i >= 3 ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return SK_EPROTO;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
		if (k >= cap)
			return SK_ENOBUFS;
		out[k++] = c;
	}
	return k > INT32_MAX ? SK_ENOBUFS : (int)k;
}

int bt_query_next(struct sk_slice *q, struct sk_slice *key,
		  struct sk_slice *val)
{
	while (q->n > 0) {
		const uint8_t *amp = memchr(q->p, '&', q->n);
		size_t len = amp ? (size_t)(amp - q->p) : q->n;
		const uint8_t *p = q->p;
		q->p += amp ? len + 1 : len;
		q->n -= amp ? len + 1 : len;
		if (len == 0)
			continue; /* "a=1&&b=2" */
		const uint8_t *eq = memchr(p, '=', len);
		key->p = p;
		key->n = eq ? (size_t)(eq - p) : len;
		val->p = eq ? eq + 1 : p + len;
		val->n = eq ? len - key->n - 1 : 0;
		return 1;
	}
	return 0;
}

/* ---- HTTP announce ------------------------------------------------------------ */

static void truncate_to(struct sk_buf *b, size_t len)
{
	if (b->len > len)
		b->len = len;
}

static const char *event_name(int ev)
{
	switch (ev) {
	case BT_EVENT_STARTED: return "started";
	case BT_EVENT_COMPLETED: return "completed";
	case BT_EVENT_STOPPED: return "stopped";
	default: return NULL;
	}
}

static int query_bin(struct sk_buf *b, const char *key, const void *p, size_t n)
{
	int r = sk_buf_appendf(b, "&%s=", key);
	return r < 0 ? r : bt_pct_encode(b, p, n);
}

static int announce_params(struct sk_buf *b, const struct bt_announce_req *r)
{
	const char *ev = event_name(r->event);
	int e = 0;

	if (!e)
		e = query_bin(b, "info_hash", r->info_hash, 20);
	if (!e)
		e = query_bin(b, "peer_id", r->peer_id, 20);
	if (!e)
		e = sk_buf_appendf(b, "&port=%u&uploaded=%" PRIu64 "&downloaded=%" PRIu64
				   "&left=%" PRIu64 "&compact=%d&key=%08" PRIX32,
				   r->port, r->uploaded, r->downloaded, r->left,
				   r->compact ? 1 : 0, r->key);
	if (!e && r->no_peer_id)
		e = sk_buf_append_str(b, "&no_peer_id=1");
	if (!e && ev)
		e = sk_buf_appendf(b, "&event=%s", ev);
	if (!e && r->numwant >= 0)
		e = sk_buf_appendf(b, "&numwant=%" PRId32, r->numwant);
	if (!e && r->trackerid.n)
		e = query_bin(b, "trackerid", r->trackerid.p, r->trackerid.n);
	return e < 0 ? e : 0;
}

int bt_announce_url(struct sk_buf *b, const char *base,
		    const struct bt_announce_req *r)
{
	size_t start = sk_buf_len(b);
	int e = sk_buf_append_str(b, base);
	if (e == 0) {
		/* The first parameter goes after '?' (or '&' when base has a
		 * query): write it with '&' and patch that byte. */
		size_t mark = sk_buf_len(b);
		e = announce_params(b, r);
		if (e == 0 && !strchr(base, '?'))
			b->data[b->off + mark] = '?';
	}
	if (e < 0)
		truncate_to(b, start);
	return e;
}

static bool key_is(struct sk_slice k, const char *name)
{
	size_t n = strlen(name);
	return k.n == n && memcmp(k.p, name, n) == 0;
}

/* A decoded value as a C string in buf[0..cap). */
static int qval(struct sk_slice v, char *buf, size_t cap)
{
	int n = bt_pct_decode((const char *)v.p, v.n, (uint8_t *)buf, cap - 1);
	if (n < 0)
		return n;
	if (memchr(buf, '\0', (size_t)n))
		return SK_EPROTO;
	buf[n] = '\0';
	return n;
}

static int qnum(struct sk_slice v, uint64_t max, uint64_t *out)
{
	char buf[24];
	int n = qval(v, buf, sizeof buf);
	uint64_t x = 0;
	if (n <= 0)
		return SK_EPROTO;
	for (int i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return SK_EPROTO;
		unsigned d = (unsigned)(buf[i] - '0');
		if (x > (max - d) / 10)
			return SK_EPROTO;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

static int qhash(struct sk_slice v, uint8_t out[20])
{
	uint8_t tmp[20];
	if (bt_pct_decode((const char *)v.p, v.n, tmp, sizeof tmp) != 20)
		return SK_EPROTO;
	memcpy(out, tmp, 20);
	return 0;
}

static int query_event(struct sk_slice v)
{
	char buf[16];
	if (qval(v, buf, sizeof buf) < 0)
		return BT_EVENT_NONE;
	if (strcmp(buf, "started") == 0)
		return BT_EVENT_STARTED;
	if (strcmp(buf, "completed") == 0)
		return BT_EVENT_COMPLETED;
	if (strcmp(buf, "stopped") == 0)
		return BT_EVENT_STOPPED;
	return BT_EVENT_NONE; /* "", "empty", "paused" (BEP 21) */
}

/* One key=value pair; bits of *have: 1 info_hash, 2 peer_id, 4 port. */
static int query_param(struct bt_announce_req *r, struct sk_slice k,
		       struct sk_slice v, unsigned *have)
{
	uint64_t x;
	char buf[16];

	if (key_is(k, "info_hash"))
		return qhash(v, r->info_hash) < 0 ? SK_EPROTO : (*have |= 1, 0);
	if (key_is(k, "peer_id"))
		return qhash(v, r->peer_id) < 0 ? SK_EPROTO : (*have |= 2, 0);
	if (key_is(k, "port")) {
		if (qnum(v, 65535, &x) < 0 || x == 0)
			return SK_EPROTO;
		r->port = (uint16_t)x;
		*have |= 4;
	} else if (key_is(k, "uploaded")) {
		return qnum(v, UINT64_MAX, &r->uploaded);
	} else if (key_is(k, "downloaded")) {
		return qnum(v, UINT64_MAX, &r->downloaded);
	} else if (key_is(k, "left")) {
		return qnum(v, UINT64_MAX, &r->left);
	} else if (key_is(k, "event")) {
		r->event = query_event(v);
	} else if (key_is(k, "numwant")) {
		if (qnum(v, INT32_MAX, &x) == 0)
			r->numwant = (int32_t)x;
	} else if (key_is(k, "compact")) {
		r->compact = qval(v, buf, sizeof buf) == 1 && buf[0] == '1';
	} else if (key_is(k, "no_peer_id")) {
		r->no_peer_id = qval(v, buf, sizeof buf) == 1 && buf[0] == '1';
	} else if (key_is(k, "key")) {
		if (qval(v, buf, sizeof buf) > 0)
			r->key = (uint32_t)strtoul(buf, NULL, 16);
	}
	return 0;
}

int bt_announce_query_parse(const char *q, size_t n, struct bt_announce_req *r)
{
	struct sk_slice qs = {(const uint8_t *)q, n}, k, v;
	unsigned have = 0;
	int e;

	memset(r, 0, sizeof *r);
	r->numwant = -1;
	while (bt_query_next(&qs, &k, &v))
		if ((e = query_param(r, k, v, &have)) < 0)
			return e;
	return have == 7 ? 0 : SK_EPROTO;
}

/* A dict-form peer {ip, port[, peer id]} with a numeric address. */
static bool dict_peer(const struct bt_bnode *d, struct bt_peer *p)
{
	struct sk_slice ip = bt_bstr(bt_bdict_get(d, "ip"));
	int64_t port;
	char buf[48];

	if (!ip.p || ip.n >= sizeof buf ||
	    bt_bint(bt_bdict_get(d, "port"), &port) < 0 || port < 1 || port > 65535)
		return false;
	memcpy(buf, ip.p, ip.n);
	buf[ip.n] = '\0';
	memset(p, 0, sizeof *p);
	p->port = (uint16_t)port;
	if (inet_pton(AF_INET, buf, p->ip) == 1)
		p->family = 4;
	else if (inet_pton(AF_INET6, buf, p->ip) == 1)
		p->family = 6;
	return p->family != 0; /* a host name: not ours to resolve */
}

static void resp_peers(const struct bt_bnode *root, struct bt_announce_resp *r,
		       struct bt_peer *out, size_t max)
{
	const struct bt_bnode *peers = bt_bdict_get(root, "peers");
	size_t k = 0;

	if (bt_bis(peers, BT_BSTR)) {
		k += bt_peers_compact(bt_bstr(peers), 4, out, max);
	} else if (bt_bis(peers, BT_BLIST)) {
		for (const struct bt_bnode *d = bt_bfirst(peers); d;
		     d = bt_bnext(peers, d)) {
			struct bt_peer p;
			if (!dict_peer(d, &p))
				continue;
			if (k < max)
				out[k] = p;
			k++;
		}
	}
	size_t used = k < max ? k : max;
	k += bt_peers_compact(bt_bstr(bt_bdict_get(root, "peers6")), 6,
			      out ? out + used : NULL, max - used);
	r->npeers = k;
}

static int64_t opt_int(const struct bt_bnode *d, const char *key)
{
	int64_t v;
	return bt_bint(bt_bdict_get(d, key), &v) == 0 && v >= 0 ? v : -1;
}

int bt_announce_resp_parse(const uint8_t *p, size_t n,
			   struct bt_announce_resp *r, struct bt_peer *out,
			   size_t max)
{
	struct bt_blimits lim = {.max_depth = 8};
	struct bt_bdoc doc;

	memset(r, 0, sizeof *r);
	r->interval = r->min_interval = r->complete = r->incomplete = -1;
	if (bt_bdecode(&doc, p, n, &lim) < 0)
		return SK_EPROTO;
	const struct bt_bnode *root = bt_broot(&doc);
	int ret = 0;
	if (!bt_bis(root, BT_BDICT)) {
		ret = SK_EPROTO;
		goto out;
	}
	r->failure = bt_bstr(bt_bdict_get(root, "failure reason"));
	r->warning = bt_bstr(bt_bdict_get(root, "warning message"));
	r->tracker_id = bt_bstr(bt_bdict_get(root, "tracker id"));
	r->interval = opt_int(root, "interval");
	r->min_interval = opt_int(root, "min interval");
	r->complete = opt_int(root, "complete");
	r->incomplete = opt_int(root, "incomplete");
	resp_peers(root, r, out, max);
	if (!r->failure.p && r->interval < 0 && !bt_bdict_get(root, "peers") &&
	    !bt_bdict_get(root, "peers6"))
		ret = SK_EPROTO; /* some other dictionary */
out:
	bt_bdoc_free(&doc);
	return ret;
}

static void put_int(struct bt_benc *e, const char *key, int64_t v)
{
	if (v < 0)
		return;
	bt_benc_cstr(e, key);
	bt_benc_int(e, v);
}

static void put_compact(struct bt_benc *e, const char *key,
			const struct bt_peer *peers, size_t n, int family)
{
	size_t cnt = 0, len = family == 6 ? BT_COMPACT6_LEN : BT_COMPACT4_LEN;
	for (size_t i = 0; i < n; i++)
		cnt += peers[i].family == family;
	if (cnt == 0 && family == 6)
		return; /* peers6 only when there are some */
	char hdr[24];
	bt_benc_cstr(e, key);
	bt_benc_raw(e, hdr, (size_t)snprintf(hdr, sizeof hdr, "%zu:", cnt * len));
	for (size_t i = 0; i < n && e->err == 0; i++)
		if (peers[i].family == family)
			e->err = bt_peer_compact_write(e->b, &peers[i]);
}

static void put_dict_peers(struct bt_benc *e, const struct bt_peer *peers,
			   size_t n)
{
	bt_benc_cstr(e, "peers");
	bt_benc_list(e);
	for (size_t i = 0; i < n; i++) {
		char ip[INET6_ADDRSTRLEN];
		int af = peers[i].family == 6 ? AF_INET6 : AF_INET;
		if (!inet_ntop(af, peers[i].ip, ip, sizeof ip))
			continue;
		bt_benc_dict(e);
		bt_benc_cstr(e, "ip");
		bt_benc_cstr(e, ip);
		bt_benc_cstr(e, "port");
		bt_benc_int(e, peers[i].port);
		bt_benc_end(e);
	}
	bt_benc_end(e);
}

int bt_announce_resp_write(struct sk_buf *b, const struct bt_announce_resp *r,
			   const struct bt_peer *peers, size_t n, bool compact)
{
	size_t start = sk_buf_len(b);
	struct bt_benc e;

	bt_benc_init(&e, b);
	bt_benc_dict(&e);
	if (r->failure.p) {
		bt_benc_cstr(&e, "failure reason");
		bt_benc_str(&e, r->failure.p, r->failure.n);
	} else {
		put_int(&e, "complete", r->complete);
		put_int(&e, "incomplete", r->incomplete);
		put_int(&e, "interval", r->interval);
		put_int(&e, "min interval", r->min_interval);
		if (compact) {
			put_compact(&e, "peers", peers, n, 4);
			put_compact(&e, "peers6", peers, n, 6);
		} else {
			put_dict_peers(&e, peers, n);
		}
		if (r->tracker_id.n) {
			bt_benc_cstr(&e, "tracker id");
			bt_benc_str(&e, r->tracker_id.p, r->tracker_id.n);
		}
		if (r->warning.p) {
			bt_benc_cstr(&e, "warning message");
			bt_benc_str(&e, r->warning.p, r->warning.n);
		}
	}
	bt_benc_end(&e);
	if (e.err < 0)
		truncate_to(b, start);
	return e.err;
}

/* ---- HTTP scrape ------------------------------------------------------------ */

int bt_scrape_url(struct sk_buf *b, const char *announce,
		  const uint8_t (*hashes)[20], size_t n)
{
	size_t plen = strcspn(announce, "?");
	const char *slash = NULL;
	for (size_t i = 0; i < plen; i++)
		if (announce[i] == '/')
			slash = announce + i;
	if (!slash || strncmp(slash + 1, "announce", 8) != 0)
		return SK_ENOTSUP;
	size_t start = sk_buf_len(b);
	const char *rest = slash + 9;
	int e = sk_buf_appendf(b, "%.*sscrape%s", (int)(slash + 1 - announce),
			       announce, rest);
	char sep = strchr(rest, '?') ? '&' : '?';
	for (size_t i = 0; i < n && e == 0; i++, sep = '&') {
		e = sk_buf_appendf(b, "%cinfo_hash=", sep);
		if (e == 0)
			e = bt_pct_encode(b, hashes[i], 20);
	}
	if (e < 0)
		truncate_to(b, start);
	return e < 0 ? e : 0;
}

int bt_scrape_resp_parse(const uint8_t *p, size_t n, struct sk_slice *failure,
			 struct bt_scrape_entry *out, size_t max)
{
	struct bt_blimits lim = {.max_depth = 8};
	struct bt_bdoc doc;
	int k = 0;

	failure->p = NULL;
	failure->n = 0;
	if (bt_bdecode(&doc, p, n, &lim) < 0)
		return SK_EPROTO;
	const struct bt_bnode *root = bt_broot(&doc);
	const struct bt_bnode *files = bt_bdict_get(root, "files");
	*failure = bt_bstr(bt_bdict_get(root, "failure reason"));
	if (!bt_bis(root, BT_BDICT) || (!failure->p && !bt_bis(files, BT_BDICT)))
		k = SK_EPROTO;
	for (const struct bt_bnode *key = bt_bfirst(files); key && k >= 0; ) {
		const struct bt_bnode *v = bt_bnext(files, key);
		struct sk_slice h = bt_bstr(key);
		if (h.n == 20 && bt_bis(v, BT_BDICT) && k < INT32_MAX) {
			if ((size_t)k < max) {
				memcpy(out[k].info_hash, h.p, 20);
				out[k].complete = opt_int(v, "complete");
				out[k].downloaded = opt_int(v, "downloaded");
				out[k].incomplete = opt_int(v, "incomplete");
			}
			k++;
		}
		key = bt_bnext(files, v);
	}
	bt_bdoc_free(&doc);
	return k;
}

int bt_scrape_resp_write(struct sk_buf *b, const struct bt_scrape_entry *e,
			 size_t n)
{
	size_t start = sk_buf_len(b);
	struct bt_benc enc;

	bt_benc_init(&enc, b);
	bt_benc_dict(&enc);
	bt_benc_cstr(&enc, "files");
	bt_benc_dict(&enc);
	for (size_t i = 0; i < n; i++) {
		bt_benc_str(&enc, e[i].info_hash, 20);
		bt_benc_dict(&enc);
		put_int(&enc, "complete", e[i].complete);
		put_int(&enc, "downloaded", e[i].downloaded);
		put_int(&enc, "incomplete", e[i].incomplete);
		bt_benc_end(&enc);
	}
	bt_benc_end(&enc);
	bt_benc_end(&enc);
	if (enc.err < 0)
		truncate_to(b, start);
	return enc.err;
}
