/*
 * fuzz/fuzz_frame.c - the framing helpers.
 *
 * Input: byte 0 picks the length-header size, bytes 1-2 the line limit and
 * bytes 3-4 the frame limit; the rest is the stream.  Every unit found must
 * lie inside the input, consume at least one byte and no more than there
 * is, and agree with a naive reference; lines hold no '\n'.  Frames written
 * with sk_buf_append_frame must parse back to the same payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockit/sockit.h"
#include "fuzz.h"

static bool inside(const uint8_t *p, size_t n, struct sk_slice s)
{
	return s.p >= p && s.n <= n && (size_t)(s.p - p) <= n - s.n;
}

/* The obvious line splitter, for comparison. */
static int ref_line(const uint8_t *p, size_t n, size_t max, size_t *len,
		    size_t *used)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			size_t l = (i > 0 && p[i - 1] == '\r') ? i - 1 : i;
			if (l > max)
				return SK_ELINETOOLONG;
			*len = l;
			*used = i + 1;
			return 1;
		}
		/* max+2 bytes without a newline: hopeless */
		if (i + 1 >= max + 2)
			return SK_ELINETOOLONG;
	}
	return 0;
}

static void lines(const uint8_t *p, size_t n, size_t max)
{
	while (n > 0) {
		struct sk_slice s;
		size_t used = 0, rlen = 0, rused = 0;
		int r = sk_frame_line(p, n, max, &s, &used);
		int rr = ref_line(p, n, max, &rlen, &rused);
		CHECK(r == rr);
		if (r != 1)
			return;
		CHECK(used >= 1 && used <= n);
		CHECK(inside(p, n, s) && s.p == p);
		CHECK(s.n <= max && memchr(s.p, '\n', s.n) == NULL);
		CHECK(p[used - 1] == '\n');
		CHECK(s.n == rlen && used == rused);
		p += used;
		n -= used;
	}
}

static void frames(const uint8_t *p, size_t n, unsigned hdr, size_t max)
{
	while (n > 0) {
		struct sk_slice s;
		size_t used = 0;
		int r = sk_frame_len(p, n, hdr, max, &s, &used);
		if (hdr != 1 && hdr != 2 && hdr != 4 && hdr != 8) {
			CHECK(r == SK_EINVAL);
			return;
		}
		CHECK(r == 0 || r == 1 || r == SK_EFRAMETOOBIG);
		if (r != 1)
			return;
		CHECK(used == hdr + s.n && used <= n);
		CHECK(inside(p, n, s) && s.p == p + hdr && s.n <= max);
		p += used;
		n -= used;
	}
}

/* Re-frame the stream through a small buffer and parse it back. */
static void reframe(const uint8_t *p, size_t n, unsigned hdr)
{
	struct sk_buf b = SK_BUF_INIT(4096);
	size_t chunk = n % 61 + 1;
	struct sk_slice s;
	size_t used;

	for (size_t i = 0; i < n; i += chunk) {
		size_t c = n - i < chunk ? n - i : chunk;
		int r = sk_buf_append_frame(&b, hdr, p + i, c);
		if (r == SK_ENOBUFS)
			break;
		CHECK(r == 0);
		CHECK(sk_frame_len(sk_buf_data(&b), sk_buf_len(&b), hdr, 4096,
				   &s, &used) == 1);
		CHECK(s.n == c && memcmp(s.p, p + i, c) == 0);
		CHECK(used == sk_buf_len(&b));
		sk_buf_consume(&b, used);
	}
	sk_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned hdrs[] = {1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 5, 9};
	unsigned hdr;
	size_t lmax, fmax;
	uint8_t *p;

	if (size < 5)
		return 0;
	hdr = hdrs[data[0] % (sizeof hdrs / sizeof hdrs[0])];
	lmax = (size_t)data[1] << 8 | data[2];
	fmax = (size_t)data[3] << 8 | data[4];
	if (data[0] & 0x80)
		fmax = SIZE_MAX; /* exercise the overflow guards */
	data += 5;
	size -= 5;
	/* An exact-size copy so ASan catches any read past the end. */
	p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	if (size)
		memcpy(p, data, size);
	lines(p, size, lmax % 300);
	lines(p, size, lmax);
	frames(p, size, hdr, fmax);
	if (hdr == 1 || hdr == 2 || hdr == 4 || hdr == 8)
		reframe(p, size, hdr);
	free(p);
	return 0;
}
