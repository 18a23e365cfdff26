/*
 * src/irc/modes.h - channel and user mode strings: "+ov-k nick1 nick2 key"
 * into a list of changes, and back.
 *
 * A spec says what each letter takes, in the terms of RPL_ISUPPORT
 * CHANMODES=A,B,C,D and PREFIX=(ov)@+:
 *	A  list modes (b e I): an argument to add or remove an entry; with no
 *	   argument left, "+b" is a request for the list
 *	B  (k): always an argument
 *	C  (l): an argument only when set ("+l 10", "-l")
 *	D  (i m n s t): never an argument
 *	prefix modes (o v): a nick, both ways
 * User modes use the same machinery with every letter in D:
 *	irc_modespec_init(&umodes, ",,,iwo", NULL, 0);
 *
 *	struct irc_modespec cs;
 *	irc_modespec_init(&cs, "beI,k,l,imnst", "(ov)@+", 4);
 *	struct irc_modes r;
 *	irc_modes_parse(&cs, m.params[1], m.params + 2, m.nparams - 2, &r);
 *	for each r.unknown[i]: 472 ERR_UNKNOWNMODE
 *	for each r.ch[i]: check rights, apply, collect what really changed
 *	irc_modes_format(applied, n, ...) -> the MODE line to broadcast
 *
 * Pure functions, no allocation; argument slices point into the caller's
 * params, so a result lives as long as the parsed message.
 */
#ifndef SK_IRC_MODES_H
#define SK_IRC_MODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc/proto.h"

enum irc_mode_kind {
	IRC_MODE_UNKNOWN = 0, /* not in the spec */
	IRC_MODE_LIST,        /* type A */
	IRC_MODE_ALWAYS,      /* type B */
	IRC_MODE_SET,         /* type C */
	IRC_MODE_FLAG,        /* type D */
	IRC_MODE_PREFIX,      /* PREFIX modes */
};

#define IRC_MODE_PREFIX_MAX 8 /* prefix modes in a spec */

struct irc_modespec {
	uint8_t kind[128];    /* enum irc_mode_kind by ASCII letter */
	char prefix[IRC_MODE_PREFIX_MAX + 1]; /* prefix letters, highest
					       * rank first ("ov") */
	unsigned max_args;    /* MODES=: changes with an argument per
			       * command; 0 means no limit of its own */
};

/*
 * Build a spec.  chanmodes is CHANMODES syntax, "A,B,C,D" (trailing groups
 * may be left out).  prefix is "(ov)@+" or just "ov" (NULL or "" for none).
 * Letters must be ASCII letters, each in one place only.  max_args is the
 * ISUPPORT MODES value.  0 or SK_EINVAL.
 */
int irc_modespec_init(struct irc_modespec *s, const char *chanmodes,
		      const char *prefix, unsigned max_args);

static inline enum irc_mode_kind irc_modespec_kind(const struct irc_modespec *s,
						   char c)
{
	unsigned char u = (unsigned char)c;
	return u < 128 ? (enum irc_mode_kind)s->kind[u] : IRC_MODE_UNKNOWN;
}

struct irc_mode_change {
	char dir;                /* '+' or '-' */
	char mode;               /* the letter */
	enum irc_mode_kind kind;
	struct irc_str arg;      /* .p NULL: no argument (for a LIST mode
				  * that means "show the list") */
};

#define IRC_MODE_MAX 64 /* changes kept from one mode string */

struct irc_modes {
	struct irc_mode_change ch[IRC_MODE_MAX];
	size_t n;
	/* Letters not in the spec, each once, in order, NUL-terminated: one
	 * 472 ERR_UNKNOWNMODE each.  Only printable ASCII other than ':' is
	 * recorded (safe to echo as a param); other bytes are skipped. */
	char unknown[96];
	/* Letters that needed an argument and found none ("+k" alone), each
	 * once: a server may answer 461 ERR_NEEDMOREPARAMS or ignore them. */
	char missing[64];
	size_t args_used;        /* arguments consumed, from the first */
	bool truncated;          /* changes were dropped: more than max_args
				  * with arguments, or more than IRC_MODE_MAX */
};

/*
 * Parse a mode string with its arguments.  Without a leading '+' or '-'
 * the direction is '+'.  Arguments are taken in order as the letters need
 * them.  Once max_args changes with an argument were taken, later letters
 * that would take one (A, B, C when set, prefix) are dropped and truncated
 * is set; flags (D, and C when unset) still count.  Returns the number of
 * changes (out->n); never fails on any input.
 */
int irc_modes_parse(const struct irc_modespec *s, struct irc_str modestr,
		    const struct irc_str *args, size_t nargs,
		    struct irc_modes *out);

/*
 * The other way: a mode string ("+ov-k", NUL-terminated, into modes) and
 * its arguments (into args) for ch[0..n), as the params of one MODE line.
 * Takes changes in order while they fit: at most args_cap arguments (use
 * MODES, and at most IRC_MAX_PARAMS - 2 so target and mode string fit),
 * modes_size bytes, and, when max_bytes > 0, at most max_bytes for the mode
 * string, the arguments and the spaces and ':' between them (pass
 * IRC_BODY_MAX minus the length of ":source MODE target ").  Returns how
 * many changes were taken, so a caller loops until all are out; 0 when n
 * is 0; SK_ENOBUFS when not even the first one fits.
 */
int irc_modes_format(const struct irc_mode_change *ch, size_t n,
		     size_t args_cap, size_t max_bytes, char *modes,
		     size_t modes_size, struct irc_str *args, size_t *nargs);

#endif
