/*
 * src/irc/modes.c - mode strings against a CHANMODES/PREFIX spec.
 */
#include "irc/modes.h"

#include <string.h>

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int claim(struct irc_modespec *s, char c, enum irc_mode_kind k)
{
	if (!is_letter(c) || s->kind[(unsigned char)c] != IRC_MODE_UNKNOWN)
		return SK_EINVAL;
	s->kind[(unsigned char)c] = (uint8_t)k;
	return 0;
}

int irc_modespec_init(struct irc_modespec *s, const char *chanmodes,
		      const char *prefix, unsigned max_args)
{
	static const enum irc_mode_kind group[4] = {
		IRC_MODE_LIST, IRC_MODE_ALWAYS, IRC_MODE_SET, IRC_MODE_FLAG,
	};
	size_t g = 0, np = 0;
	const char *p;

	memset(s, 0, sizeof *s);
	s->max_args = max_args;
	for (p = chanmodes; p && *p; p++) {
		if (*p == ',') {
			if (++g == 4)
				return SK_EINVAL;
			continue;
		}
		if (claim(s, *p, group[g]) < 0)
			return SK_EINVAL;
	}
	if (prefix == NULL)
		return 0;
	/* "(ov)@+" or "ov": the letters are what matter here. */
	bool paren = *prefix == '(';
	for (p = prefix + paren; *p && !(paren && *p == ')'); p++) {
		if (np == IRC_MODE_PREFIX_MAX ||
		    claim(s, *p, IRC_MODE_PREFIX) < 0)
			return SK_EINVAL;
		s->prefix[np++] = *p;
	}
	if (paren && *p != ')')
		return SK_EINVAL;
	return 0;
}

/* Add c to a NUL-terminated set of letters unless present or full. */
static void note(char *set, size_t size, char c)
{
	size_t n = strlen(set);
	if (memchr(set, c, n) == NULL && n + 1 < size) {
		set[n] = c;
		set[n + 1] = '\0';
	}
}

static bool takes_arg(enum irc_mode_kind k, char dir)
{
	return k == IRC_MODE_LIST || k == IRC_MODE_ALWAYS ||
	       k == IRC_MODE_PREFIX || (k == IRC_MODE_SET && dir == '+');
}

int irc_modes_parse(const struct irc_modespec *s, struct irc_str modestr,
		    const struct irc_str *args, size_t nargs,
		    struct irc_modes *out)
{
	size_t with_arg = 0;
	char dir = '+';

	out->n = 0;
	out->unknown[0] = '\0';
	out->missing[0] = '\0';
	out->args_used = 0;
	out->truncated = false;
	for (size_t i = 0; i < modestr.n; i++) {
		char c = modestr.p[i];
		unsigned char u = (unsigned char)c;
		enum irc_mode_kind k;
		struct irc_str arg = IRC_STR_NONE;

		if (c == '+' || c == '-') {
			dir = c;
			continue;
		}
		k = irc_modespec_kind(s, c);
		if (k == IRC_MODE_UNKNOWN) {
			if (u > 0x20 && u < 0x7f && c != ':')
				note(out->unknown, sizeof out->unknown, c);
			continue;
		}
		if (out->n == IRC_MODE_MAX) {
			out->truncated = true;
			continue;
		}
		if (takes_arg(k, dir)) {
			if (s->max_args && with_arg >= s->max_args) {
				out->truncated = true;
				continue;
			}
			if (out->args_used < nargs) {
				arg = args[out->args_used++];
				with_arg++;
			} else if (k != IRC_MODE_LIST) {
				note(out->missing, sizeof out->missing, c);
				continue;
			}
		}
		out->ch[out->n++] = (struct irc_mode_change){dir, c, k, arg};
	}
	return (int)out->n;
}

int irc_modes_format(const struct irc_mode_change *ch, size_t n,
		     size_t args_cap, size_t max_bytes, char *modes,
		     size_t modes_size, struct irc_str *args, size_t *nargs)
{
	size_t mlen = 0, na = 0, argbytes = 0, i;
	char dir = 0;

	*nargs = 0;
	if (modes_size > 0)
		modes[0] = '\0';
	for (i = 0; i < n; i++) {
		bool has = ch[i].arg.p != NULL;
		size_t dm = ch[i].dir != dir ? 2 : 1;
		size_t da = has ? 1 + ch[i].arg.n : 0;

		if (mlen + dm + 1 > modes_size || (has && na == args_cap))
			break;
		/* Count a ':' for the last argument: it may need one. */
		if (max_bytes &&
		    mlen + dm + argbytes + da + (na || has ? 1 : 0) > max_bytes)
			break;
		if (dm == 2)
			modes[mlen++] = dir = ch[i].dir;
		modes[mlen++] = ch[i].mode;
		if (has) {
			args[na++] = ch[i].arg;
			argbytes += da;
		}
	}
	if (i == 0 && n > 0)
		return SK_ENOBUFS;
	if (modes_size > 0)
		modes[mlen] = '\0';
	*nargs = na;
	return (int)i;
}
