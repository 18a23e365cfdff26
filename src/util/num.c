/*
 * src/util/num.c - the one number parser of the programs (see num.h).
 */
#include "util/num.h"

#include <string.h>

#include <sockit/error.h>

int util_parse_num(const char *s, bool sizes, uint64_t lo, uint64_t hi,
		   uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return SK_EINVAL;
	uint64_t v = 0, frac = 0, fden = 1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return SK_EINVAL;
		v = v * 10 + d;
	}
	if (sizes && *s == '.') {
		/* up to 6 decimals are kept: plenty for a multiple of 1024 */
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (fden < 1000000)
				frac = frac * 10 + (uint64_t)(*s - '0'), fden *= 10;
	}
	unsigned shift = 0;
	if (sizes) {
		switch (*s) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: break;
		}
		if (shift && (strcmp(++s, "iB") == 0 || strcmp(s, "B") == 0))
			s += strlen(s);
		if (fden > 1 && !shift)
			return SK_EINVAL; /* "2.5" bytes */
	}
	if (*s || v > UINT64_MAX >> shift)
		return SK_EINVAL;
	v = (v << shift) + ((frac << shift) / fden);
	if (v < lo || v > hi)
		return SK_EINVAL;
	*out = v;
	return 0;
}
