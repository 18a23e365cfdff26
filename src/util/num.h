/*
 * src/util/num.h - numbers on command lines and in config files, parsed
 * one way for every program: digits first (no sign, no spaces), the whole
 * string used, a range checked without wrapping.
 */
#ifndef SK_UTIL_NUM_H
#define SK_UTIL_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* A decimal number in [lo, hi].  With sizes true it may carry a binary
 * multiple: K, M or G (any case, optionally followed by "iB" or "B"), and
 * then a fraction ("2.5M"); the result is rounded down.  0, or SK_EINVAL. */
int util_parse_num(const char *s, bool sizes, uint64_t lo, uint64_t hi,
		   uint64_t *out);

#endif
