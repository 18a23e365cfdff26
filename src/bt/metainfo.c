/*
 * src/bt/metainfo.c - parsing and checking .torrent files, and mapping
 * piece ranges onto files.
 *
 * Memory: the struct keeps a private copy of the torrent (pieces and the
 * info bytes point into it) and one string arena.  Every string copied out
 * of the torrent ("k:" + k bytes in the input) needs at most k + 1 bytes
 * in the arena (k bytes and a NUL or a '/' separator), so an arena as big
 * as the input always suffices and is allocated once.  The bencode node
 * array is only needed while parsing.
 */
#include "bt/metainfo.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt/bencode.h"

static int fail(struct bt_metainfo *m, int code, const char *fmt, ...)
	SK_PRINTF(3, 4);

static int fail(struct bt_metainfo *m, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof m->error, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- string arena ---------------------------------------------------------- */

static char *arena_alloc(struct bt_metainfo *m, size_t n)
{
	if (n > m->strs_cap - m->strs_len)
		return NULL; /* cannot happen for strings from the input */
	char *s = m->strs + m->strs_len;
	m->strs_len += n;
	return s;
}

static const char *arena_str(struct bt_metainfo *m, struct sk_slice v)
{
	char *s = arena_alloc(m, v.n + 1);
	if (!s)
		return NULL;
	if (v.n)
		memcpy(s, v.p, v.n);
	s[v.n] = '\0';
	return s;
}

/* An optional string field as a C string; NULL if absent or holding NUL. */
static const char *opt_str(struct bt_metainfo *m, const struct bt_bnode *d,
			   const char *key)
{
	struct sk_slice v = bt_bstr(bt_bdict_get(d, key));
	if (!v.p || memchr(v.p, '\0', v.n))
		return NULL;
	return arena_str(m, v);
}

bool bt_path_component_ok(const void *s, size_t n)
{
	const char *c = s;
	if (n == 0 || (n == 1 && c[0] == '.') ||
	    (n == 2 && c[0] == '.' && c[1] == '.'))
		return false;
	return !memchr(c, '/', n) && !memchr(c, '\0', n);
}

/* ---- files ----------------------------------------------------------------- */

/* "a/b/c" from a list of components, each checked. */
static int join_path(struct bt_metainfo *m, const struct bt_bnode *list,
		     size_t fi, const char **out)
{
	size_t total = 0;
	const struct bt_bnode *c;

	if (!bt_bis(list, BT_BLIST) || list->count == 0)
		return fail(m, SK_EPROTO, "file %zu: path is not a non-empty list", fi);
	for (c = bt_bfirst(list); c; c = bt_bnext(list, c)) {
		struct sk_slice s = bt_bstr(c);
		if (!s.p || !bt_path_component_ok(s.p, s.n))
			return fail(m, SK_EPROTO, "file %zu: unsafe or empty path component", fi);
		total += s.n + 1;
	}
	char *p = arena_alloc(m, total);
	if (!p)
		return fail(m, SK_ENOMEM, "out of string space");
	*out = p;
	for (c = bt_bfirst(list); c; c = bt_bnext(list, c)) {
		struct sk_slice s = bt_bstr(c);
		memcpy(p, s.p, s.n);
		p += s.n;
		*p++ = '/';
	}
	p[-1] = '\0';
	return 0;
}

/* Adds len to the running total, refusing negatives and int64 overflow. */
static int add_length(struct bt_metainfo *m, const struct bt_bnode *n,
		      size_t fi, uint64_t *len)
{
	int64_t v;
	if (bt_bint(n, &v) < 0 || v < 0)
		return fail(m, SK_EPROTO, "file %zu: missing or negative length", fi);
	if ((uint64_t)v > (uint64_t)INT64_MAX - m->total_length)
		return fail(m, SK_EPROTO, "total length overflows");
	*len = (uint64_t)v;
	m->total_length += (uint64_t)v;
	return 0;
}

static int parse_file(struct bt_metainfo *m, const struct bt_bnode *d,
		      size_t fi)
{
	struct bt_file *f = &m->files[fi];
	int r;

	if (!bt_bis(d, BT_BDICT))
		return fail(m, SK_EPROTO, "file %zu is not a dictionary", fi);
	f->offset = m->total_length;
	if ((r = add_length(m, bt_bdict_get(d, "length"), fi, &f->length)) < 0)
		return r;
	if ((r = join_path(m, bt_bdict_get(d, "path"), fi, &f->path)) < 0)
		return r;
	struct sk_slice attr = bt_bstr(bt_bdict_get(d, "attr"));
	f->pad = attr.p && memchr(attr.p, 'p', attr.n);
	return 0;
}

/* Component-wise order: the end of a string sorts first, then '/', then
 * every other byte, so a file "a" and everything under "a/" end up next to
 * each other. */
static int path_key(unsigned char c)
{
	return c == '\0' ? -1 : c == '/' ? 0 : c;
}

static int path_cmp(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	for (; *x && *x == *y; x++, y++)
		;
	return path_key(*x) - path_key(*y);
}

/* No duplicates, and no file that is a directory of another file. */
static int check_unique(struct bt_metainfo *m)
{
	const char **v = malloc(m->nfiles * sizeof *v);
	int r = 0;

	if (!v)
		return fail(m, SK_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nfiles; i++)
		v[i] = m->files[i].path;
	qsort(v, m->nfiles, sizeof *v, path_cmp);
	for (size_t i = 1; i < m->nfiles && r == 0; i++) {
		size_t n = strlen(v[i - 1]);
		if (strncmp(v[i - 1], v[i], n) == 0 &&
		    (v[i][n] == '\0' || v[i][n] == '/'))
			r = fail(m, SK_EPROTO, "file path \"%s\" used twice", v[i - 1]);
	}
	free(v);
	return r;
}

static int parse_files(struct bt_metainfo *m, const struct bt_bnode *info)
{
	const struct bt_bnode *len = bt_bdict_get(info, "length");
	const struct bt_bnode *files = bt_bdict_get(info, "files");
	int r;

	if (!len == !files)
		return fail(m, SK_EPROTO, "info needs exactly one of length and files");
	m->multi_file = files != NULL;
	m->nfiles = files ? (bt_bis(files, BT_BLIST) ? files->count : 0) : 1;
	if (m->nfiles == 0)
		return fail(m, SK_EPROTO, "info.files is not a non-empty list");
	m->files = calloc(m->nfiles, sizeof *m->files);
	if (!m->files)
		return fail(m, SK_ENOMEM, "out of memory");
	if (!files) {
		m->files[0].path = m->name;
		return add_length(m, len, 0, &m->files[0].length);
	}
	size_t i = 0;
	for (const struct bt_bnode *f = bt_bfirst(files); f; f = bt_bnext(files, f))
		if ((r = parse_file(m, f, i++)) < 0)
			return r;
	return check_unique(m);
}

/* ---- info ------------------------------------------------------------------ */

static int parse_pieces(struct bt_metainfo *m, const struct bt_bnode *info)
{
	int64_t plen;
	if (bt_bint(bt_bdict_get(info, "piece length"), &plen) < 0 || plen < 1 ||
	    plen > BT_PIECE_LENGTH_MAX)
		return fail(m, SK_EPROTO, "missing or bad piece length");
	m->piece_length = (uint32_t)plen;
	if (m->total_length == 0)
		return fail(m, SK_EPROTO, "the torrent holds no data");
	uint64_t np = (m->total_length - 1) / m->piece_length + 1;
	struct sk_slice pieces = bt_bstr(bt_bdict_get(info, "pieces"));
	if (!pieces.p || np > UINT32_MAX || pieces.n != np * BT_HASH_LEN)
		return fail(m, SK_EPROTO,
			    "pieces holds %zu bytes, %llu pieces need %llu",
			    pieces.n, (unsigned long long)np,
			    (unsigned long long)np * BT_HASH_LEN);
	m->npieces = (uint32_t)np;
	m->pieces = pieces.p;
	return 0;
}

static int parse_info(struct bt_metainfo *m, const struct bt_bnode *info)
{
	int r;

	if (!bt_bis(info, BT_BDICT))
		return fail(m, SK_EPROTO, "no info dictionary");
	m->info.p = info->raw;
	m->info.n = info->raw_len;
	if (!EVP_Digest(info->raw, info->raw_len, m->info_hash, NULL, EVP_sha1(),
			NULL))
		return fail(m, SK_ENOMEM, "SHA-1 failed");
	struct sk_slice name = bt_bstr(bt_bdict_get(info, "name"));
	if (!name.p || !bt_path_component_ok(name.p, name.n))
		return fail(m, SK_EPROTO, "missing, empty or unsafe name");
	if (!(m->name = arena_str(m, name)))
		return fail(m, SK_ENOMEM, "out of string space");
	int64_t priv = 0;
	(void)bt_bint(bt_bdict_get(info, "private"), &priv);
	m->is_private = priv == 1;
	m->source = opt_str(m, info, "source");
	if ((r = parse_files(m, info)) < 0)
		return r;
	return parse_pieces(m, info);
}

/* ---- trackers -------------------------------------------------------------- */

static bool usable_url(const struct bt_bnode *u)
{
	struct sk_slice s = bt_bstr(u);
	return s.p && s.n > 0 && !memchr(s.p, '\0', s.n);
}

/* Count the usable URLs and tiers of an announce-list. */
static void count_tiers(const struct bt_bnode *al, size_t *ntiers, size_t *nurls)
{
	*ntiers = *nurls = 0;
	if (!bt_bis(al, BT_BLIST))
		return;
	for (const struct bt_bnode *t = bt_bfirst(al); t; t = bt_bnext(al, t)) {
		size_t k = 0;
		for (const struct bt_bnode *u = bt_bfirst(t); u && bt_bis(t, BT_BLIST);
		     u = bt_bnext(t, u))
			k += usable_url(u);
		*nurls += k;
		*ntiers += k > 0;
	}
}

static void fill_tiers(struct bt_metainfo *m, const struct bt_bnode *al)
{
	size_t ui = 0, ti = 0;
	for (const struct bt_bnode *t = bt_bfirst(al); t; t = bt_bnext(al, t)) {
		size_t start = ui;
		for (const struct bt_bnode *u = bt_bfirst(t); u && bt_bis(t, BT_BLIST);
		     u = bt_bnext(t, u))
			if (usable_url(u))
				m->urlv[ui++] = arena_str(m, bt_bstr(u));
		if (ui == start)
			continue; /* an empty tier is no tier */
		m->tiers[ti].urls = &m->urlv[start];
		m->tiers[ti].n = ui - start;
		ti++;
	}
	m->ntiers = ti;
}

/* BEP 12: announce-list wins when it holds any usable URL; otherwise the
 * single announce URL is the only tier. */
static int parse_trackers(struct bt_metainfo *m, const struct bt_bnode *root)
{
	const struct bt_bnode *al = bt_bdict_get(root, "announce-list");
	size_t ntiers, nurls;

	m->announce = opt_str(m, root, "announce");
	count_tiers(al, &ntiers, &nurls);
	if (ntiers == 0 && m->announce && m->announce[0]) {
		ntiers = nurls = 1;
		al = NULL;
	}
	if (ntiers == 0)
		return 0; /* trackerless (DHT or magnet only): still a torrent */
	m->tiers = calloc(ntiers, sizeof *m->tiers);
	m->urlv = calloc(nurls, sizeof *m->urlv);
	if (!m->tiers || !m->urlv)
		return fail(m, SK_ENOMEM, "out of memory");
	if (al) {
		fill_tiers(m, al);
		return 0;
	}
	m->urlv[0] = m->announce;
	m->tiers[0].urls = m->urlv;
	m->tiers[0].n = 1;
	m->ntiers = 1;
	return 0;
}

/* ---- entry points ---------------------------------------------------------- */

static int parse_doc(struct bt_metainfo *m, struct bt_bdoc *doc)
{
	const struct bt_bnode *root = bt_broot(doc);
	int r;

	if (!bt_bis(root, BT_BDICT))
		return fail(m, SK_EPROTO, "not a dictionary at the top");
	if ((r = parse_info(m, bt_bdict_get(root, "info"))) < 0)
		return r;
	if ((r = parse_trackers(m, root)) < 0)
		return r;
	m->comment = opt_str(m, root, "comment");
	m->created_by = opt_str(m, root, "created by");
	(void)bt_bint(bt_bdict_get(root, "creation date"), &m->creation_date);
	return 0;
}

int bt_metainfo_parse(struct bt_metainfo *m, const void *p, size_t n)
{
	struct bt_bdoc doc;
	int r;

	memset(m, 0, sizeof *m);
	if (n > BT_METAINFO_MAX_SIZE)
		return fail(m, SK_EMSGSIZE, "larger than %u bytes", BT_METAINFO_MAX_SIZE);
	m->raw_copy = malloc(n ? n : 1);
	m->strs_cap = n + 64;
	m->strs = malloc(m->strs_cap);
	if (!m->raw_copy || !m->strs) {
		bt_metainfo_free(m);
		return fail(m, SK_ENOMEM, "out of memory");
	}
	if (n)
		memcpy(m->raw_copy, p, n);
	m->raw.p = m->raw_copy;
	m->raw.n = n;
	r = bt_bdecode(&doc, m->raw_copy, n, NULL);
	if (r < 0) {
		bt_metainfo_free(m);
		return fail(m, r, "bad bencode at byte %zu (%s)", doc.err_off,
			    r == SK_EMSGSIZE ? "too big or deep" : "malformed");
	}
	r = parse_doc(m, &doc);
	bt_bdoc_free(&doc);
	if (r < 0) {
		char msg[sizeof m->error];
		memcpy(msg, m->error, sizeof msg);
		bt_metainfo_free(m);
		memcpy(m->error, msg, sizeof msg);
	}
	return r;
}

/* All of fd, growing the buffer as it comes (pipes have no size), up to
 * BT_METAINFO_MAX_SIZE. */
static int read_bounded(int fd, uint8_t **out, size_t *outn)
{
	size_t cap = 64 * 1024, n = 0;
	uint8_t *buf = malloc(cap), *nb;

	for (;;) {
		if (!buf)
			return SK_ENOMEM;
		if (n == cap) {
			if (!(nb = realloc(buf, cap * 2)))
				free(buf);
			buf = nb;
			cap *= 2;
			continue;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (n += (size_t)k) > BT_METAINFO_MAX_SIZE) {
			int e = k < 0 ? -errno : k > 0 ? SK_EMSGSIZE : 0;
			if (e == 0) {
				*out = buf;
				*outn = n;
				return 0;
			}
			free(buf);
			return e;
		}
	}
}

int bt_metainfo_load_fd(struct bt_metainfo *m, int fd)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r = read_bounded(fd, &buf, &n);

	memset(m, 0, sizeof *m);
	if (r < 0)
		return fail(m, r, "%s", r == SK_EMSGSIZE ? "too big for a torrent"
							 : sk_strerror(r));
	r = bt_metainfo_parse(m, buf, n);
	free(buf);
	return r;
}

int bt_metainfo_load(struct bt_metainfo *m, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		memset(m, 0, sizeof *m);
		return fail(m, e, "%s", sk_strerror(e));
	}
	int r = bt_metainfo_load_fd(m, fd);
	close(fd);
	return r;
}

void bt_metainfo_free(struct bt_metainfo *m)
{
	free(m->raw_copy);
	free(m->strs);
	free(m->files);
	free(m->tiers);
	free(m->urlv);
	memset(m, 0, sizeof *m);
}

/* ---- pieces and files ------------------------------------------------------ */

uint32_t bt_piece_size(const struct bt_metainfo *m, uint32_t i)
{
	if (i >= m->npieces)
		return 0;
	if (i + 1 < m->npieces)
		return m->piece_length;
	return (uint32_t)(m->total_length - (uint64_t)i * m->piece_length);
}

/* The last file starting at or before off.  Zero-length files share their
 * offset with the next file, which comes after them, so the answer always
 * has off inside it when off < total_length. */
size_t bt_metainfo_file_at(const struct bt_metainfo *m, uint64_t off)
{
	size_t lo = 0, hi = m->nfiles;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->files[mid].offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int bt_metainfo_first_span(const struct bt_metainfo *m, uint64_t off,
			   uint64_t len, struct bt_span *out)
{
	if (len == 0 || off >= m->total_length || len > m->total_length - off)
		return SK_EINVAL;
	size_t f = bt_metainfo_file_at(m, off);
	while (f < m->nfiles && off - m->files[f].offset >= m->files[f].length)
		f++; /* zero-length files (defensive: file_at skips them) */
	if (f >= m->nfiles)
		return SK_EINVAL;
	uint64_t in = off - m->files[f].offset, avail = m->files[f].length - in;
	out->file = f;
	out->file_off = in;
	out->len = (uint32_t)(avail < len ? avail : len < UINT32_MAX ? len : UINT32_MAX);
	return 0;
}

int bt_metainfo_map(const struct bt_metainfo *m, uint32_t piece,
		    uint32_t begin, uint32_t len, struct bt_span *out,
		    size_t max)
{
	uint32_t psz = bt_piece_size(m, piece);
	if (len == 0 || begin >= psz || len > psz - begin)
		return SK_EINVAL;
	uint64_t off = (uint64_t)piece * m->piece_length + begin;
	int k = 0;
	while (len > 0) {
		if ((size_t)k >= max || k == INT32_MAX)
			return SK_ENOBUFS;
		int r = bt_metainfo_first_span(m, off, len, &out[k]);
		if (r < 0)
			return r;
		off += out[k].len;
		len -= out[k].len;
		k++;
	}
	return k;
}

int bt_metainfo_file_path(const struct bt_metainfo *m, size_t i, char *buf,
			  size_t cap)
{
	int n;
	if (i >= m->nfiles)
		return SK_EINVAL;
	if (m->multi_file)
		n = snprintf(buf, cap, "%s/%s", m->name, m->files[i].path);
	else
		n = snprintf(buf, cap, "%s", m->name);
	return n < 0 || (size_t)n >= cap ? SK_ENOBUFS : n;
}

void bt_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
