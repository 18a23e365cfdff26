/*
 * src/cat/hexdump.c - --hex: traffic as `hexdump -C` lines on stderr, each
 * with a direction mark ('>' towards B, '<' towards A) and an offset that
 * counts that direction's bytes.
 */
#include <stdio.h>
#include <string.h>

#include "cat/cat_int.h"

size_t cat_hexdump_line(char *out, char mark, uint64_t off, const uint8_t *p,
			size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (n > 16)
		n = 16;
	int len = snprintf(out, CAT_HEXLINE, "%c %08llx  ", mark,
			   (unsigned long long)off);
	char *q = out + len;
	for (size_t i = 0; i < 16; i++) {
		if (i < n) {
			*q++ = hex[p[i] >> 4];
			*q++ = hex[p[i] & 15];
		} else {
			*q++ = ' ';
			*q++ = ' ';
		}
		*q++ = ' ';
		if (i == 7)
			*q++ = ' ';
	}
	*q++ = ' ';
	*q++ = '|';
	for (size_t i = 0; i < n; i++)
		*q++ = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	*q++ = '|';
	*q++ = '\n';
	*q = '\0';
	return (size_t)(q - out);
}

void cat_hexdump(FILE *f, char mark, uint64_t *off, const uint8_t *p, size_t n)
{
	char block[64 * CAT_HEXLINE];
	size_t used = 0;
	while (n > 0) {
		size_t k = n < 16 ? n : 16;
		used += cat_hexdump_line(block + used, mark, *off, p, k);
		*off += k;
		p += k;
		n -= k;
		if (used > sizeof block - CAT_HEXLINE || n == 0) {
			fwrite(block, 1, used, f);
			used = 0;
		}
	}
}
