/*
 * src/irc/casemap.c - case mapping, keyed hashing, mask matching and name
 * validation.
 */
#include "irc/casemap.h"

#include <string.h>

int irc_casemap_parse(const char *name)
{
	if (name == NULL)
		return SK_EINVAL;
	if (strcmp(name, "rfc1459") == 0)
		return IRC_CASEMAP_RFC1459;
	if (strcmp(name, "ascii") == 0)
		return IRC_CASEMAP_ASCII;
	if (strcmp(name, "strict-rfc1459") == 0)
		return IRC_CASEMAP_STRICT_RFC1459;
	return SK_EINVAL;
}

const char *irc_casemap_name(enum irc_casemap m)
{
	switch (m) {
	case IRC_CASEMAP_ASCII: return "ascii";
	case IRC_CASEMAP_STRICT_RFC1459: return "strict-rfc1459";
	case IRC_CASEMAP_RFC1459:
	default: return "rfc1459";
	}
}

void irc_casefold(enum irc_casemap m, const char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)irc_fold(m, (unsigned char)in[i]);
}

int irc_casecmp(enum irc_casemap m, const char *a, size_t an, const char *b,
		size_t bn)
{
	size_t n = an < bn ? an : bn;

	for (size_t i = 0; i < n; i++) {
		int x = irc_fold(m, (unsigned char)a[i]);
		int y = irc_fold(m, (unsigned char)b[i]);
		if (x != y)
			return x - y;
	}
	return an < bn ? -1 : an > bn;
}

/* ---- SipHash-2-4 over folded bytes ------------------------------------
 * The reference algorithm (Aumasson & Bernstein), reading the message in
 * little-endian 64-bit words after folding each byte. */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void sipblock(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

uint64_t irc_hash(enum irc_casemap cm, const char *s, size_t n,
		  const uint64_t key[2])
{
	uint64_t v[4] = {
		key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
		key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL,
	};
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		m |= (uint64_t)irc_fold(cm, (unsigned char)s[i]) << (8 * (i & 7));
		if ((i & 7) == 7) {
			sipblock(v, m);
			m = 0;
		}
	}
	sipblock(v, m | (uint64_t)n << 56);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- masks -------------------------------------------------------------
 * The mask, with runs of '*' collapsed, is a chain of k states; state i
 * means "the first i mask bytes are matched".  A set of live states is a
 * bit set S over 0..k.  Reading subject byte c:
 *   S' = ((S & (lit[c] | qmark)) << 1)   advance over a literal or '?'
 *      | (S & star)                       stay on a '*' (it eats c)
 * then the epsilon step: a live '*' state also makes the next one live.
 * Collapsing star runs means one epsilon step is enough.  lit[c] is kept
 * per distinct mask byte (class), so setup costs O(k), not O(256 * k).
 */
#define MASK_WORDS ((IRC_MASK_MAX + 1 + 63) / 64)

struct nfa {
	size_t k, w;                        /* states - 1, words */
	uint16_t cls[256];                  /* folded byte -> row, 0 = none */
	uint64_t row[IRC_MASK_MAX + 1][MASK_WORDS];
	uint64_t qmark[MASK_WORDS], star[MASK_WORDS];
};

static void set_bit(uint64_t *v, size_t i)
{
	v[i / 64] |= (uint64_t)1 << (i % 64);
}

static void nfa_build(struct nfa *a, enum irc_casemap cm, const char *mask,
		      size_t mn)
{
	size_t k = 0, rows = 1;
	unsigned char prev = 0;

	memset(a->cls, 0, sizeof a->cls);
	memset(a->qmark, 0, sizeof a->qmark);
	memset(a->star, 0, sizeof a->star);
	memset(a->row[0], 0, sizeof a->row[0]);
	for (size_t i = 0; i < mn; i++) {
		unsigned char c = irc_fold(cm, (unsigned char)mask[i]);
		if (c == '*' && k > 0 && prev == '*')
			continue;
		prev = c;
		if (c == '*') {
			set_bit(a->star, k);
		} else if (c == '?') {
			set_bit(a->qmark, k);
		} else {
			if (a->cls[c] == 0) {
				a->cls[c] = (uint16_t)rows;
				memset(a->row[rows], 0, sizeof a->row[rows]);
				rows++;
			}
			set_bit(a->row[a->cls[c]], k);
		}
		k++;
	}
	a->k = k;
	a->w = (k + 1 + 63) / 64;
}

/* S |= (S & star) << 1 */
static void eps(const struct nfa *a, uint64_t *s)
{
	uint64_t carry = 0;

	for (size_t j = 0; j < a->w; j++) {
		uint64_t x = s[j] & a->star[j];
		s[j] |= (x << 1) | carry;
		carry = x >> 63;
	}
}

bool irc_mask_match(enum irc_casemap cm, const char *mask, size_t mn,
		    const char *s, size_t sn)
{
	struct nfa a;
	uint64_t st[MASK_WORDS] = {0};

	if (mn > IRC_MASK_MAX)
		return false;
	nfa_build(&a, cm, mask, mn);
	st[0] = 1;
	eps(&a, st);
	for (size_t i = 0; i < sn; i++) {
		const uint64_t *lit =
			a.row[a.cls[irc_fold(cm, (unsigned char)s[i])]];
		uint64_t carry = 0, any = 0;
		for (size_t j = 0; j < a.w; j++) {
			uint64_t adv = st[j] & (lit[j] | a.qmark[j]);
			uint64_t stay = st[j] & a.star[j];
			st[j] = (adv << 1) | carry | stay;
			carry = adv >> 63;
			any |= st[j];
		}
		if (!any)
			return false;
		eps(&a, st);
	}
	return (st[a.k / 64] >> (a.k % 64)) & 1;
}

bool irc_mask_is_wild(const char *mask, size_t n)
{
	return n > 0 && (memchr(mask, '*', n) != NULL || memchr(mask, '?', n) != NULL);
}

/* Append part (or "*" when empty) at out[*o], keeping room for the NUL. */
static bool put_part(char *out, size_t outsz, size_t *o, const char *p,
		     size_t n)
{
	if (n == 0) {
		p = "*";
		n = 1;
	}
	if (outsz - *o <= n)
		return false;
	memcpy(out + *o, p, n);
	*o += n;
	return true;
}

ssize_t irc_mask_normalize(const char *in, size_t n, char *out, size_t outsz)
{
	const char *bang, *at, *end;
	struct irc_str nick, user, host;
	size_t o = 0;

	if (n == 0)
		in = ""; /* memchr and pointer arithmetic must not see NULL */
	end = in + n;
	bang = memchr(in, '!', n);
	at = bang ? memchr(bang, '@', (size_t)(end - bang)) : memchr(in, '@', n);
	if (bang) {
		nick = (struct irc_str){in, (size_t)(bang - in)};
		const char *ue = at ? at : end;
		user = (struct irc_str){bang + 1, (size_t)(ue - bang - 1)};
		host = at ? (struct irc_str){at + 1, (size_t)(end - at - 1)}
			  : IRC_STR_NONE;
	} else if (at) {
		nick = IRC_STR_NONE;
		user = (struct irc_str){in, (size_t)(at - in)};
		host = (struct irc_str){at + 1, (size_t)(end - at - 1)};
	} else if (memchr(in, '.', n) || memchr(in, ':', n)) {
		nick = user = IRC_STR_NONE;
		host = (struct irc_str){in, n};
	} else {
		nick = (struct irc_str){in, n};
		user = host = IRC_STR_NONE;
	}
	if (outsz == 0)
		return SK_ENOBUFS;
	if (!put_part(out, outsz, &o, nick.p, nick.n) ||
	    !put_part(out, outsz, &o, "!", 1) ||
	    !put_part(out, outsz, &o, user.p, user.n) ||
	    !put_part(out, outsz, &o, "@", 1) ||
	    !put_part(out, outsz, &o, host.p, host.n)) {
		out[0] = '\0';
		return SK_ENOBUFS;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* ---- names ------------------------------------------------------------ */

static bool nick_special(unsigned char c)
{
	/* [ \ ] ^ _ ` are 0x5B-0x60; { | } are 0x7B-0x7D */
	return (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7D);
}

static bool nick_first(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       nick_special(c);
}

bool irc_nick_valid(const char *s, size_t n, size_t nicklen)
{
	if (n == 0 || n > nicklen || !nick_first((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!nick_first(c) && !(c >= '0' && c <= '9') && c != '-')
			return false;
	}
	return true;
}

bool irc_chan_valid(const char *s, size_t n, const char *chantypes,
		    size_t chanlen)
{
	if (chantypes == NULL)
		chantypes = IRC_CHANTYPES_DEFAULT;
	if (n == 0 || n > chanlen || s[0] == '\0' ||
	    strchr(chantypes, s[0]) == NULL)
		return false;
	for (size_t i = 1; i < n; i++) {
		switch (s[i]) {
		case ' ': case ',': case '\a': case '\0': case '\r': case '\n':
			return false;
		default:
			break;
		}
	}
	return true;
}

bool irc_user_valid(const char *s, size_t n, size_t userlen)
{
	if (n == 0 || n > userlen || s[0] == ':')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == '!' || c == '@')
			return false;
	}
	return true;
}

/* ---- nick!user@host --------------------------------------------------- */

ssize_t irc_hostmask(char *out, size_t outsz, const char *nick,
		     const char *user, const char *host)
{
	size_t a = strlen(nick), b = strlen(user), c = strlen(host);

	if (outsz == 0)
		return SK_ENOBUFS;
	if (a + b + c + 2 >= outsz) {
		out[0] = '\0';
		return SK_ENOBUFS;
	}
	memcpy(out, nick, a);
	out[a] = '!';
	memcpy(out + a + 1, user, b);
	out[a + 1 + b] = '@';
	memcpy(out + a + b + 2, host, c);
	out[a + b + c + 2] = '\0';
	return (ssize_t)(a + b + c + 2);
}

void irc_source_split(struct irc_str src, struct irc_str *nick,
		      struct irc_str *user, struct irc_str *host)
{
	const char *end, *at, *bang, *lim;

	*nick = *user = *host = IRC_STR_NONE;
	if (src.p == NULL)
		return;
	end = src.p + src.n;
	at = memchr(src.p, '@', src.n);
	lim = at ? at : end;
	bang = memchr(src.p, '!', (size_t)(lim - src.p));
	*nick = (struct irc_str){src.p, (size_t)((bang ? bang : lim) - src.p)};
	if (bang)
		*user = (struct irc_str){bang + 1, (size_t)(lim - bang - 1)};
	if (at)
		*host = (struct irc_str){at + 1, (size_t)(end - at - 1)};
}
