/*
 * fuzz/fuzz_num.c - the programs' number parser (src/util/num.c), which
 * reads command lines and config files.
 *
 * Invariants: an accepted string gives a value inside the range asked
 * for; a string of digits alone parses the same with and without sizes;
 * a refused parse leaves the output untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/num.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 64)
		return 0;
	/* two bytes pick the range, the rest is the text */
	uint64_t lo = data[0] % 4 == 0 ? 0 : (uint64_t)data[0] << (data[0] % 40);
	uint64_t hi = data[1] % 4 == 0 ? UINT64_MAX : (uint64_t)data[1] << (data[1] % 50);
	char s[64];
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';
	uint64_t a = 7, b = 7;
	int ra = util_parse_num(s, false, lo, hi, &a);
	int rb = util_parse_num(s, true, lo, hi, &b);
	if (ra == 0) {
		CHECK(a >= lo && a <= hi);
		CHECK(rb == 0 && a == b); /* plain digits mean the same */
	} else {
		CHECK(a == 7);
	}
	if (rb == 0)
		CHECK(b >= lo && b <= hi);
	else
		CHECK(b == 7);
	return 0;
}
