/*
 * src/core/buf.c - the byte buffer and the framing helpers.
 *
 * Layout: data[0 .. off) is dead (consumed), data[off .. off+len) is live,
 * data[off+len .. cap) is free tail room.  Consuming only moves off.  When a
 * reserve finds too little tail room the buffer either compacts (moves the
 * live bytes to the front) or grows (doubling, at least 256 bytes, never
 * more than max unless one request needs it), choosing compaction only when
 * the dead prefix is at least as large as the live part or when growing is
 * impossible.  The memmove is then paid for by the bytes consumed since the
 * last compaction, and growth is paid for by doubling: amortised O(1) per
 * byte either way.
 *
 * A borrowed buffer (SK_BUF_BORROWED, cap == 0) points at foreign memory;
 * reading and consuming work in place, anything that writes first copies the
 * live bytes into owned storage (sk_buf_own).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockit/buf.h"
#include "sockit/error.h"

#define BUF_MIN_CAP 256u

static bool borrowed(const struct sk_buf *b)
{
	return (b->flags & SK_BUF_BORROWED) != 0;
}

void sk_buf_init(struct sk_buf *b, size_t max)
{
	b->data = NULL;
	b->off = 0;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->flags = 0;
}

void sk_buf_free(struct sk_buf *b)
{
	if (!borrowed(b))
		free(b->data);
	b->data = NULL;
	b->off = 0;
	b->len = 0;
	b->cap = 0;
	b->flags &= ~SK_BUF_BORROWED;
}

void sk_buf_clear(struct sk_buf *b)
{
	if (borrowed(b)) {
		/* Nothing of ours to keep: just forget the foreign bytes. */
		b->data = NULL;
		b->flags &= ~SK_BUF_BORROWED;
	}
	b->off = 0;
	b->len = 0;
}

/* New capacity for `need` live bytes: at least double the current size (and
 * BUF_MIN_CAP), clamped to max but never below need. */
static size_t grow_cap(const struct sk_buf *b, size_t need)
{
	size_t c = b->cap > SIZE_MAX / 2 ? SIZE_MAX : b->cap * 2;

	if (c < BUF_MIN_CAP)
		c = BUF_MIN_CAP;
	while (c < need) {
		if (c > SIZE_MAX / 2) {
			c = need;
			break;
		}
		c *= 2;
	}
	if (c > b->max)
		c = b->max;
	if (c < need)
		c = need;
	return c;
}

/* Move the live bytes into a fresh allocation of newcap bytes (off = 0). */
static int realloc_live(struct sk_buf *b, size_t newcap)
{
	uint8_t *p;

	if (newcap == 0)
		newcap = 1; /* malloc(0) may return NULL */
	if (b->off == 0 && !borrowed(b)) {
		p = realloc(b->data, newcap);
		if (p == NULL)
			return SK_ENOMEM;
	} else {
		p = malloc(newcap);
		if (p == NULL)
			return SK_ENOMEM;
		if (b->len)
			memcpy(p, b->data + b->off, b->len);
		if (!borrowed(b))
			free(b->data);
	}
	b->data = p;
	b->off = 0;
	b->cap = newcap;
	b->flags &= ~SK_BUF_BORROWED;
	return 0;
}

/* Make at least n bytes of tail room, ignoring max (callers check it). */
static int make_room(struct sk_buf *b, size_t n)
{
	size_t need;

	if (n > SIZE_MAX - b->len)
		return SK_ENOBUFS;
	need = b->len + n;
	if (borrowed(b))
		return realloc_live(b, grow_cap(b, need));
	if (b->cap - b->off - b->len >= n && b->data != NULL)
		return 0;
	if (b->cap >= need && (b->off >= b->len || b->cap >= b->max)) {
		/* Compact: either the dead prefix pays for the move, or the
		 * buffer may not grow any further. */
		if (b->len)
			memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		return 0;
	}
	return realloc_live(b, grow_cap(b, need));
}

/* n more live bytes would exceed max? */
static bool over_max(const struct sk_buf *b, size_t n)
{
	return b->len > b->max || n > b->max - b->len;
}

int sk_buf_reserve(struct sk_buf *b, size_t n, uint8_t **p)
{
	int r;

	*p = NULL;
	if (over_max(b, n))
		return SK_ENOBUFS;
	if (n == 0 && b->data == NULL)
		return 0;
	if ((r = make_room(b, n)) < 0)
		return r;
	*p = b->data + b->off + b->len;
	return 0;
}

void sk_buf_commit(struct sk_buf *b, size_t n)
{
	size_t room = borrowed(b) ? 0 : b->cap - b->off - b->len;

	/* Committing more than was reserved is a caller bug; never let it
	 * expose bytes past the allocation. */
	if (n > room)
		n = room;
	b->len += n;
}

/* Reserve n bytes for a copy from src, which may point into b itself: the
 * live bytes can move while making room, so re-derive src afterwards. */
static int reserve_from(struct sk_buf *b, size_t n, const void **src)
{
	uintptr_t s = (uintptr_t)*src;
	uintptr_t lo = (uintptr_t)(b->data ? b->data + b->off : NULL);
	bool inside = b->data != NULL && b->len > 0 && s >= lo &&
		      s < lo + b->len;
	size_t rel = inside ? (size_t)(s - lo) : 0;
	uint8_t *dst;
	int r;

	if ((r = sk_buf_reserve(b, n, &dst)) < 0)
		return r;
	if (inside)
		*src = b->data + b->off + rel;
	return 0;
}

int sk_buf_append(struct sk_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = reserve_from(b, n, &p)) < 0)
		return r;
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	return 0;
}

int sk_buf_append_str(struct sk_buf *b, const char *s)
{
	return sk_buf_append(b, s, strlen(s));
}

int sk_buf_appendf(struct sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sk_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return r;
}

int sk_buf_vappendf(struct sk_buf *b, const char *fmt, va_list ap)
{
	size_t room, n;
	va_list aq;
	int r;

	/* First try the tail room we already have; vsnprintf needs one more
	 * byte than it produces for the NUL, which is never made live. */
	room = (b->data && !borrowed(b)) ? b->cap - b->off - b->len : 0;
	va_copy(aq, ap);
	r = vsnprintf(room ? (char *)b->data + b->off + b->len : NULL, room,
		      fmt, aq);
	va_end(aq);
	if (r < 0)
		return SK_EINVAL;
	n = (size_t)r;
	if (over_max(b, n))
		return SK_ENOBUFS;
	if (n < room) {
		b->len += n;
		return 0;
	}
	/* n + 1 cannot overflow: n came from an int. */
	if ((r = make_room(b, n + 1)) < 0)
		return r;
	va_copy(aq, ap);
	r = vsnprintf((char *)b->data + b->off + b->len, n + 1, fmt, aq);
	va_end(aq);
	if (r < 0 || (size_t)r != n)
		return SK_EINVAL;
	b->len += n;
	return 0;
}

void sk_buf_consume(struct sk_buf *b, size_t n)
{
	if (n >= b->len) {
		/* Empty: rewind for free, so the next append needs no move. */
		b->off = 0;
		b->len = 0;
		if (borrowed(b)) {
			b->data = NULL;
			b->flags &= ~SK_BUF_BORROWED;
		}
		return;
	}
	b->off += n;
	b->len -= n;
}

size_t sk_buf_peek(const struct sk_buf *b, void *out, size_t n)
{
	if (n > b->len)
		n = b->len;
	if (n)
		memcpy(out, b->data + b->off, n);
	return n;
}

ptrdiff_t sk_buf_find(const struct sk_buf *b, size_t from, const void *needle,
		      size_t nn)
{
	const uint8_t *base, *hit;

	if (from > b->len || nn > b->len - from)
		return -1;
	if (nn == 0)
		return (ptrdiff_t)from;
	base = b->data + b->off;
	hit = memmem(base + from, b->len - from, needle, nn);
	return hit ? hit - base : -1;
}

int sk_buf_move(struct sk_buf *dst, struct sk_buf *src)
{
	int r;

	if (dst == src)
		return SK_EINVAL;
	if (src->len == 0) {
		sk_buf_clear(src);
		return 0;
	}
	if (over_max(dst, src->len))
		return SK_ENOBUFS;
	if (dst->len == 0 && !borrowed(src)) {
		/* Hand the storage over; dst keeps its own max. */
		sk_buf_free(dst);
		dst->data = src->data;
		dst->off = src->off;
		dst->len = src->len;
		dst->cap = src->cap;
		src->data = NULL;
		src->off = src->len = src->cap = 0;
		return 0;
	}
	if ((r = sk_buf_append(dst, src->data + src->off, src->len)) < 0)
		return r;
	sk_buf_clear(src);
	return 0;
}

int sk_buf_own(struct sk_buf *b)
{
	if (!borrowed(b))
		return 0;
	if (b->len == 0) {
		sk_buf_clear(b);
		return 0;
	}
	return realloc_live(b, grow_cap(b, b->len));
}

/* ---- framing ------------------------------------------------------------- */

int sk_frame_line(const uint8_t *p, size_t n, size_t max, struct sk_slice *out,
		  size_t *used)
{
	/* Content of max bytes plus "\r\n" is the longest valid line. */
	size_t lim = max > SIZE_MAX - 2 ? SIZE_MAX : max + 2;
	const uint8_t *nl;
	size_t end;

	if (n == 0)
		return 0;
	nl = memchr(p, '\n', n < lim ? n : lim);
	if (nl == NULL)
		return n >= lim ? SK_ELINETOOLONG : 0;
	end = (size_t)(nl - p);
	if (end > 0 && p[end - 1] == '\r')
		end--;
	if (end > max)
		return SK_ELINETOOLONG;
	out->p = p;
	out->n = end;
	*used = (size_t)(nl - p) + 1;
	return 1;
}

int sk_frame_len(const uint8_t *p, size_t n, unsigned hdr, size_t max,
		 struct sk_slice *out, size_t *used)
{
	uint64_t len = 0;

	if (hdr != 1 && hdr != 2 && hdr != 4 && hdr != 8)
		return SK_EINVAL;
	if (n < hdr)
		return 0;
	for (unsigned i = 0; i < hdr; i++)
		len = (len << 8) | p[i];
	/* Also refuse lengths no buffer in this address space could hold. */
	if (len > max || len > SIZE_MAX - hdr)
		return SK_EFRAMETOOBIG;
	if (n - hdr < len)
		return 0;
	out->p = p + hdr;
	out->n = (size_t)len;
	*used = hdr + (size_t)len;
	return 1;
}

int sk_buf_append_frame(struct sk_buf *b, unsigned hdr, const void *p, size_t n)
{
	uint8_t *w;
	int r;

	if (hdr != 1 && hdr != 2 && hdr != 4 && hdr != 8)
		return SK_EINVAL;
	/* The length must be representable in hdr bytes. */
	if (hdr < 8 && (uint64_t)n >> (8 * hdr) != 0)
		return SK_EMSGSIZE;
	if (n > SIZE_MAX - hdr)
		return SK_ENOBUFS;
	if ((r = reserve_from(b, hdr + n, &p)) < 0)
		return r;
	w = b->data + b->off + b->len;
	for (unsigned i = 0; i < hdr; i++)
		w[i] = (uint8_t)((uint64_t)n >> (8 * (hdr - 1 - i)));
	if (n)
		memcpy(w + hdr, p, n);
	b->len += hdr + n;
	return 0;
}
