/*
 * src/irc/casemap.h - names on IRC: case mapping, case-insensitive
 * comparison and hashing, wildcard masks, nick/channel/user validation and
 * "nick!user@host" strings.
 *
 * Pure functions over bytes; no allocation, no global state.  Every
 * comparison of nicks or channel names in the server goes through the
 * casemap it announces in RPL_ISUPPORT (CASEMAPPING=rfc1459 is the classic
 * default):
 *
 *	ascii           A-Z       fold to a-z
 *	rfc1459         A-Z [ ] \ ~  fold to  a-z { } | ^
 *	strict-rfc1459  A-Z [ ] \    fold to  a-z { } |
 *
 * Folding goes to lower case.  Bytes >= 0x80 never fold, so UTF-8 passes
 * through unchanged (and "É" and "é" are different names).
 */
#ifndef SK_IRC_CASEMAP_H
#define SK_IRC_CASEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "irc/proto.h"

enum irc_casemap {
	IRC_CASEMAP_RFC1459 = 0, /* the zero value is the usual default */
	IRC_CASEMAP_ASCII,
	IRC_CASEMAP_STRICT_RFC1459,
};

/* "ascii", "rfc1459", "strict-rfc1459" (exact, lower case) -> the value, or
 * SK_EINVAL. */
int irc_casemap_parse(const char *name);

/* The ISUPPORT name of a casemap ("rfc1459" for an unknown value). */
const char *irc_casemap_name(enum irc_casemap m);

/* One byte folded to lower case under m. */
static inline unsigned char irc_fold(enum irc_casemap m, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c + 32);
	if (m == IRC_CASEMAP_ASCII)
		return c;
	if (c >= '[' && c <= ']') /* [ \ ] -> { | } */
		return (unsigned char)(c + 32);
	if (c == '~' && m == IRC_CASEMAP_RFC1459)
		return '^';
	return c;
}

/* Fold in[0..n) into out[0..n); out may equal in.  No NUL is added. */
void irc_casefold(enum irc_casemap m, const char *in, size_t n, char *out);

/* Compare folded: <0, 0 or >0 like memcmp, a proper prefix sorting first.
 * Suits a sorted index; for equality irc_caseeq() is simpler. */
int irc_casecmp(enum irc_casemap m, const char *a, size_t an, const char *b,
		size_t bn);

static inline bool irc_caseeq(enum irc_casemap m, const char *a, size_t an,
			      const char *b, size_t bn)
{
	return an == bn && irc_casecmp(m, a, an, b, bn) == 0;
}

/*
 * A keyed hash of the folded bytes (SipHash-2-4), so names that compare
 * equal under m hash equal.  Keyed because nicks and channel names come
 * from users: with an unkeyed hash anyone could pick names that all land in
 * one bucket.  Draw key once per table from a random source (getrandom()).
 */
uint64_t irc_hash(enum irc_casemap m, const char *s, size_t n,
		  const uint64_t key[2]);

/* ---- masks ---------------------------------------------------------------
 * '*' matches any run of bytes (also none), '?' exactly one byte; every
 * other byte matches itself under the casemap.  There is no escape and no
 * bracket class ("cool[guy]" matches only itself, as the parser-tests
 * vectors demand).  The matcher simulates the mask as an automaton over a
 * bit set, so its time is O(len(subject) * len(mask) / 64) whatever the
 * input: no backtracking, nothing a hostile mask can blow up.
 */
#define IRC_MASK_MAX 256 /* longer masks never match: reject them on +b */

bool irc_mask_match(enum irc_casemap m, const char *mask, size_t mn,
		    const char *s, size_t sn);

/* True when the mask has a '*' or '?'. */
bool irc_mask_is_wild(const char *mask, size_t n);

/*
 * Complete a ban-style mask to nick!user@host form, as servers store them:
 *	"nick"        -> "nick!*@*"
 *	"*.example"   -> "*!*@*.example"   (a '.' or ':' without '!' or '@'
 *	                                    means a host)
 *	"user@host"   -> "*!user@host"
 *	"nick!user"   -> "nick!user@*"
 *	"n!@h"        -> "n!*@h"           (empty parts become '*')
 * Writes a NUL-terminated string: its length, or SK_ENOBUFS.
 */
ssize_t irc_mask_normalize(const char *in, size_t n, char *out, size_t outsz);

/* ---- names ---------------------------------------------------------------
 * Nicks: the RFC 2812 alphabet, which is a subset of what the modern client
 * protocol allows (so every nick accepted here is valid there too):
 *	first:  A-Z a-z [ ] \ ` _ ^ { | }
 *	rest:   the same, digits and '-'
 * That rules out everything the modern document forbids (space , * ? ! @,
 * a leading $ : # & or membership prefix, '.'), and also control codes and
 * non-ASCII bytes, which no casemap above can fold.
 */
#define IRC_NICKLEN_DEFAULT 30
#define IRC_CHANNELLEN_DEFAULT 50
#define IRC_USERLEN_DEFAULT 10
#define IRC_CHANTYPES_DEFAULT "#&"

bool irc_nick_valid(const char *s, size_t n, size_t nicklen);

/* Channels: the first byte is one of chantypes (a C string such as "#&";
 * NULL means IRC_CHANTYPES_DEFAULT), then any bytes but space, comma, BEL
 * (0x07), NUL, CR, LF; n at most chanlen.  A lone "#" is valid. */
bool irc_chan_valid(const char *s, size_t n, const char *chantypes,
		    size_t chanlen);

/* The username of USER: 1..userlen bytes of 0x21-0x7e except '!' and '@',
 * not starting with ':'.  So "nick!user@host" splits back unambiguously and
 * the name can be a middle param (RPL_WHOISUSER).  A server that would
 * rather truncate long ones checks a prefix. */
bool irc_user_valid(const char *s, size_t n, size_t userlen);

/* ---- nick!user@host -----------------------------------------------------*/

/* Write "nick!user@host" NUL-terminated into out: its length, or
 * SK_ENOBUFS.  All three are C strings; they are copied as given. */
ssize_t irc_hostmask(char *out, size_t outsz, const char *nick,
		     const char *user, const char *host);

/* Split a message source at its first '@' (host after it) and the first
 * '!' before that (nick before it, user after it).  Absent parts come back
 * as IRC_STR_NONE; "server.name" gives just a nick. */
void irc_source_split(struct irc_str src, struct irc_str *nick,
		      struct irc_str *user, struct irc_str *host);

#endif
