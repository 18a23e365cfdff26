/*
 * src/irc/proto.h - the IRC message layer: parse one line into slices,
 * write lines into an sk_buf, escape and unescape IRCv3 tag values.
 *
 * Pure functions over bytes: no I/O, no allocation, no global state, so
 * every function is safe from any thread and can be fuzzed.  Parsing is
 * byte-based; invalid UTF-8 is carried through untouched.
 *
 * Receiving, in the server:
 *
 *	struct sk_slice line;
 *	size_t used;
 *	while (sk_buf_line(&c->in, IRC_CLIENT_FRAME_MAX, &line, &used) == 1) {
 *		struct irc_msg m;
 *		int r = irc_parse((const char *)line.p, line.n,
 *				  IRC_PARSE_CLIENT, &m);
 *		if (r == 0)
 *			dispatch(c, &m);  // m's slices point into c->in
 *		else if (r == IRC_EINPUTTOOLONG || ...)
 *			send 417, see the error table below
 *		sk_buf_consume(&c->in, used);  // only after m is done with
 *	}
 *
 * Sending:
 *
 *	irc_writel(&c->out, 0, NULL, "nick!user@host", "JOIN", "#chan", NULL);
 *	irc_fmt_numeric(&c->out, "irc.example", 401, c->nick,
 *			"%s :No such nick/channel", target);
 *
 * Every writer appends one whole line ending in CRLF, or nothing at all.
 */
#ifndef SK_IRC_PROTO_H
#define SK_IRC_PROTO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "sockit/buf.h"
#include "sockit/common.h"
#include "sockit/error.h"

#if defined(__GNUC__) || defined(__clang__)
#define IRC_SENTINEL __attribute__((sentinel))
#else
#define IRC_SENTINEL
#endif

/* ---- limits --------------------------------------------------------------
 * The "body" is everything after the tag section: [':' source ' '] command
 * params.  RFC 1459/2812 cap a line at 512 bytes including CRLF; IRCv3
 * message-tags gives tags their own 8191 bytes, counting the '@' and the
 * space after them, of which a client may fill 4094 ("tag data" is the part
 * between '@' and the space).
 */
#define IRC_MAX_PARAMS 15      /* params per message (RFC 2812, ngircd) */
#define IRC_MAX_TAGS 64        /* tags kept per parsed message */
#define IRC_BODY_MAX 510       /* body bytes, CRLF excluded */
#define IRC_LINE_MAX 512       /* body + CRLF */
#define IRC_TAGS_MAX 8191      /* '@' + tag data + ' ' */
#define IRC_TAGDATA_MAX (IRC_TAGS_MAX - 2)  /* 8189 */
#define IRC_CLIENT_TAGDATA_MAX 4094         /* from a client */
/* The longest line content (CRLF excluded) worth buffering before giving up:
 * pass it as the limit to sk_buf_line()/sk_frame_line().  Longer lines can
 * never parse, so the framer reports SK_ELINETOOLONG early. */
#define IRC_FRAME_MAX (IRC_TAGS_MAX + IRC_BODY_MAX)
#define IRC_CLIENT_FRAME_MAX (IRC_CLIENT_TAGDATA_MAX + 2 + IRC_BODY_MAX)

/* ---- error codes ---------------------------------------------------------
 * Negative, below sockit's own (-1000..), never renumbered.  The comment
 * says what a server does when parsing a client's line gives the code.
 */
#define IRC_EEMPTY (-2000)        /* empty or all spaces: ignore silently */
#define IRC_EINPUTTOOLONG (-2001) /* body > IRC_BODY_MAX: 417 ERR_INPUTTOOLONG */
#define IRC_ETAGSTOOLONG (-2002)  /* tag data over the limit: 417 (never truncate) */
#define IRC_ETOOMANYTAGS (-2003)  /* more than IRC_MAX_TAGS tags: 417 */
#define IRC_ENOCOMMAND (-2004)    /* tags and/or source, no command: ignore */
#define IRC_EBADCOMMAND (-2005)   /* command not letters nor 3 digits:
				   * 421 ERR_UNKNOWNCOMMAND; out->command is set */
#define IRC_EBADCHAR (-2006)      /* NUL, CR or LF inside a line or argument:
				   * ignore the line (writers: a caller bug) */
#define IRC_EBADSOURCE (-2007)    /* ':' prefix with an empty source: ignore */
#define IRC_EBADPARAM (-2008)     /* writers: a non-last param that is empty,
				   * holds a space or starts with ':', or more
				   * than IRC_MAX_PARAMS params */

/* Words for an IRC_E* code; other codes go to sk_strerror(). */
const char *irc_strerror(int err);

/* ---- slices --------------------------------------------------------------
 * A non-owning view of bytes, char-typed so "%.*s" works:
 *	printf("%.*s", (int)s.n, s.p);
 * Slices from irc_parse() never contain NUL, CR or LF.
 */
struct irc_str {
	const char *p; /* NULL when the field is absent */
	size_t n;
};

#define IRC_STR_NONE ((struct irc_str){NULL, 0})

/* A slice over a C string; NULL gives IRC_STR_NONE. */
static inline struct irc_str irc_str(const char *s)
{
	struct irc_str r = {s, s ? strlen(s) : 0};
	return r;
}

/* Exact, case-sensitive comparison with a C string (s NULL never equal). */
static inline bool irc_str_eq(struct irc_str a, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return s && a.p && a.n == n && memcmp(a.p, s, n) == 0;
}

/* Copy into out as a NUL-terminated string: the length, or SK_ENOBUFS when
 * out cannot hold s.n + 1 bytes (out then holds "" if outsz > 0). */
ssize_t irc_str_copy(struct irc_str s, char *out, size_t outsz);

/* The decimal number at the start of s (slices are not NUL-terminated, so
 * never strtol them): 0 when s does not start with a digit, saturating at
 * max.  *used, when not NULL, gets the number of digits read. */
unsigned long irc_str_ulong(struct irc_str s, unsigned long max, size_t *used);

/* ---- parsing -------------------------------------------------------------*/

struct irc_tag {
	struct irc_str key;   /* as sent, '+' client prefix included */
	struct irc_str value; /* still escaped: see irc_tag_unescape() */
	bool has_value;       /* an '=' was present (IRCv3: "a=" means "a") */
};

/*
 * A parsed line.  Every irc_str points into the line given to irc_parse(),
 * so the message lives exactly as long as those bytes: keep it no longer
 * than the input buffer stays unconsumed and unmodified.
 */
struct irc_msg {
	struct irc_str tags_raw; /* tag data between '@' and the space;
				  * .p NULL when the line has no '@' */
	struct irc_tag tags[IRC_MAX_TAGS];
	size_t ntags;            /* in order of appearance, duplicates kept */
	struct irc_str source;   /* without ':'; .p NULL when absent */
	struct irc_str command;  /* as sent: compare with irc_cmd_is() */
	struct irc_str params[IRC_MAX_PARAMS];
	size_t nparams;
	bool trailing;           /* the last param came after ':' (so it may
				  * be empty or hold spaces) */
};

/* Flags for irc_parse(). */
#define IRC_PARSE_CLIENT 0x1u /* the peer is a client: tag data <= 4094 */

/*
 * Parse one line, without its CR/LF, into *out.  Returns 0 or an IRC_E*
 * code; on error *out is unspecified, except that IRC_EBADCOMMAND leaves the
 * offending token in out->command (no spaces, possibly not printable).
 *
 * Grammar, as real servers accept it:
 *   [ '@' tags ' ' ] [ ':' source ' ' ] command { ' ' param } [ ' ' ':' trailing ]
 * - Runs of spaces separate fields, and spaces at the start and the end of
 *   the line are ignored ("MODE #c +n " has two params).  Only 0x20 counts
 *   as a space; a tab is an ordinary byte.
 * - NUL, CR or LF anywhere is IRC_EBADCHAR: a lone CR is a line break to
 *   some clients, so relaying one would let a user inject lines.
 * - The command is letters (any case) or exactly three digits.
 * - Parameters: after 14 middle params, the 15th takes the rest of the
 *   line, spaces included, with a leading ':' dropped (RFC 2812's
 *   "14( SPACE middle ) [ SPACE [ ":" ] trailing ]").  So there is never a
 *   "too many params" error and nothing is lost.
 * - Tags are split on ';'.  Keys are opaque (IRCv3 forbids rejecting a
 *   message for an odd key), so any non-empty key is kept; empty entries
 *   (";;", a trailing ';', "=x") are skipped.  Values stay escaped.
 * - Limits, checked in this order: bad bytes, tag data size (8189, or 4094
 *   with IRC_PARSE_CLIENT), tag count, body size (510).
 */
SK_NODISCARD int irc_parse(const char *line, size_t n, unsigned flags,
			   struct irc_msg *out);

/* The last tag with this exact key (IRCv3: later duplicates win), or NULL. */
const struct irc_tag *irc_msg_tag(const struct irc_msg *m, const char *key);

/* True when cmd equals name ignoring ASCII case: irc_cmd_is(m.command,
 * "PRIVMSG").  name is a C string, normally upper case. */
bool irc_cmd_is(struct irc_str cmd, const char *name);

/* The command in upper case into out (NUL-terminated), for a dispatch
 * table: its length, or SK_ENOBUFS when it does not fit. */
ssize_t irc_cmd_upper(struct irc_str cmd, char *out, size_t outsz);

/* A three-digit command as a number (0..999), or -1. */
int irc_cmd_numeric(struct irc_str cmd);

/* True when s is a command irc_parse() accepts (letters, or 3 digits). */
bool irc_cmd_valid(struct irc_str s);

/* ---- tag values ----------------------------------------------------------
 * Escaping per IRCv3:  ';' <-> "\:"   ' ' <-> "\s"   '\' <-> "\\"
 *                      CR  <-> "\r"   LF  <-> "\n"
 * Unescaping drops a backslash before any other byte ("\b" -> "b") and a
 * lone backslash at the end ("a\" -> "a"), as the spec says.
 */

/* Unescape v into out: the length (never more than v.n, so an out of v.n
 * bytes always fits; out may equal v.p), or SK_ENOBUFS.  No NUL is added.
 * The result may hold CR, LF, ';' and spaces: never put it on a line. */
ssize_t irc_tag_unescape(struct irc_str v, char *out, size_t outsz);

/* Escape in[0..n) into out: the length (at most 2n), or SK_ENOBUFS.
 * A NUL byte in the input is dropped: the wire format cannot carry it. */
ssize_t irc_tag_escape(const char *in, size_t n, char *out, size_t outsz);

/* Append one tag to a tag-data buffer being built for irc_write(): a ';'
 * first when tags is not empty, then the key, then '=' and the escaped
 * value when value is not NULL and vlen > 0 (an empty value is sent as a
 * bare key).  The key must be non-empty without '=', ';', ' ', NUL, CR or
 * LF (SK_EINVAL).  SK_ENOBUFS when tags's max is reached; nothing is added
 * on failure.  Server tags go in before client-only ones (IRCv3 asks it so
 * the 4094-byte client share cannot push them out). */
SK_NODISCARD int irc_tags_add(struct sk_buf *tags, const char *key,
			      const char *value, size_t vlen);

/* Append the client-only tags ('+' keys) of m to tags, for relaying a
 * PRIVMSG/NOTICE/TAGMSG; when a key repeats only its last value goes.
 * Values are copied escaped as received.  0 or SK_ENOBUFS/SK_EINVAL. */
SK_NODISCARD int irc_tags_add_client(struct sk_buf *tags,
				     const struct irc_msg *m);

/* ---- writing -------------------------------------------------------------
 * Writers append "[@tags ][:source ]command[ params]\r\n" to out and return
 * the number of bytes appended, or a negative code with out unchanged:
 *   SK_EINVAL        empty or invalid command (irc_cmd_valid), a source that
 *                    is empty or holds a space, tags holding a space
 *   IRC_EBADCHAR     NUL, CR or LF in any part
 *   IRC_EBADPARAM    see above
 *   SK_EMSGSIZE      body over IRC_BODY_MAX (and no IRC_W_TRUNCATE, or even
 *                    an empty last param does not fit), tags over
 *                    IRC_TAGDATA_MAX
 *   SK_ENOBUFS       out's max reached (the peer's send queue is full)
 * The last param gets a ':' when it is empty, holds a space or starts with
 * ':' (or always, with IRC_W_TRAILING).
 */
#define IRC_W_TRAILING 0x1u /* always ':' before the last param (the usual
			     * look of PRIVMSG text and numeric messages) */
#define IRC_W_TRUNCATE 0x2u /* cut the last param at a UTF-8 character
			     * boundary so the body fits in 510 bytes; for
			     * relaying text behind a longer source */

/* tags: escaped tag data without '@' (.n == 0: none).  source: without ':'
 * (.p NULL: none). */
SK_NODISCARD int irc_write(struct sk_buf *out, unsigned flags,
			   struct irc_str tags, struct irc_str source,
			   struct irc_str command, const struct irc_str *params,
			   size_t nparams);

/* Write a parsed (or hand-filled) message back: tags_raw, source, command,
 * params; m->trailing acts as IRC_W_TRAILING. */
SK_NODISCARD int irc_write_msg(struct sk_buf *out, unsigned flags,
			       const struct irc_msg *m);

/* C-string convenience: tags and source may be NULL (or "" for none), then
 * the params as const char *, ending with NULL:
 *	irc_writel(out, IRC_W_TRAILING, NULL, src, "PRIVMSG", "#c", text, NULL);
 */
SK_NODISCARD int irc_writel(struct sk_buf *out, unsigned flags,
			    const char *tags, const char *source,
			    const char *command, ...) IRC_SENTINEL;

/* printf-style: "[@tags ][:source ]" + the formatted command and params +
 * CRLF.  The formatted part is cut at a UTF-8 boundary to fit the body
 * limit (it is the caller's job that only the trailing text can be long).
 * IRC_EBADCHAR if the result holds NUL, CR or LF; SK_EINVAL if it does not
 * start with a valid command (irc_cmd_valid). */
SK_NODISCARD int irc_fmtline(struct sk_buf *out, const char *tags,
			     const char *source, const char *fmt, ...)
	SK_PRINTF(4, 5);
SK_NODISCARD int irc_vfmtline(struct sk_buf *out, const char *tags,
			      const char *source, const char *fmt, va_list ap);

/* A numeric reply ":<server> <code> <target> <formatted>\r\n"; code is
 * printed with three digits, target NULL or "" becomes "*" (a client that
 * has no nick yet), and an empty fmt ("") adds nothing after the target.
 *	irc_fmt_numeric(out, "irc.example", 1, "nick",
 *			":Welcome to the network, %s", "nick!u@h");
 */
SK_NODISCARD int irc_fmt_numeric(struct sk_buf *out, const char *server,
				 int code, const char *target,
				 const char *fmt, ...) SK_PRINTF(5, 6);

/* The longest prefix of s[0..n) of at most max bytes that does not end in
 * the middle of a UTF-8 sequence.  Byte-based on invalid input: it backs
 * off at most 3 continuation bytes, so it never returns less than max - 3
 * when n > max. */
size_t irc_utf8_cut(const char *s, size_t n, size_t max);

#endif
