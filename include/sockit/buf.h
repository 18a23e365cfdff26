/*
 * sockit/buf.h - the byte buffer and the framing helpers.
 *
 * struct sk_buf owns a growable byte array with a mandatory maximum size.
 * Live bytes are data[off .. off+len).  Consuming advances off (O(1)); the
 * buffer compacts only when it needs room and at least half of it is dead,
 * so a stream of appends and consumes costs amortised O(1) per byte.
 *
 * A buffer may be *borrowed*: it then points at memory the library owns for
 * the duration of one callback (sockit hands input to on_read this way to
 * avoid a copy).  Every function works on a borrowed buffer; the first one
 * that needs to grow it copies the bytes into owned memory.  Never keep a
 * pointer into a buffer across callbacks.
 *
 * The framing helpers are pure functions over bytes: no allocation, no I/O.
 */
#ifndef SOCKIT_BUF_H
#define SOCKIT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A non-owning view of bytes. */
struct sk_slice {
	const uint8_t *p;
	size_t n;
};

#define SK_BUF_BORROWED 0x1u

struct sk_buf {
	uint8_t *data; /* storage (NULL while empty and unallocated) */
	size_t off;    /* first live byte */
	size_t len;    /* live bytes */
	size_t cap;    /* bytes allocated at data (0 when borrowed) */
	size_t max;    /* the most live bytes this buffer may hold */
	unsigned flags;
};

#define SK_BUF_INIT(maxbytes) {NULL, 0, 0, 0, (maxbytes), 0}

SK_EXPORT void sk_buf_init(struct sk_buf *b, size_t max);
SK_EXPORT void sk_buf_free(struct sk_buf *b); /* releases storage; b reusable */
SK_EXPORT void sk_buf_clear(struct sk_buf *b); /* drops bytes, keeps storage */

static inline const uint8_t *sk_buf_data(const struct sk_buf *b)
{
	return b->data ? b->data + b->off : (const uint8_t *)"";
}
static inline size_t sk_buf_len(const struct sk_buf *b) { return b->len; }
static inline struct sk_slice sk_buf_slice(const struct sk_buf *b)
{
	struct sk_slice s = {sk_buf_data(b), b->len};
	return s;
}

/* Make room for n more bytes and return a pointer to them in *p; nothing is
 * live until sk_buf_commit().  SK_ENOBUFS when len+n would exceed max. */
SK_EXPORT SK_NODISCARD int sk_buf_reserve(struct sk_buf *b, size_t n, uint8_t **p);
SK_EXPORT void sk_buf_commit(struct sk_buf *b, size_t n);

SK_EXPORT SK_NODISCARD int sk_buf_append(struct sk_buf *b, const void *p, size_t n);
SK_EXPORT SK_NODISCARD int sk_buf_append_str(struct sk_buf *b, const char *s);
SK_EXPORT SK_NODISCARD int sk_buf_appendf(struct sk_buf *b, const char *fmt, ...)
	SK_PRINTF(2, 3);
SK_EXPORT SK_NODISCARD int sk_buf_vappendf(struct sk_buf *b, const char *fmt, va_list ap);

/* Drop n bytes from the front (n > len drops all). */
SK_EXPORT void sk_buf_consume(struct sk_buf *b, size_t n);

/* Copy up to n bytes from the front into out without consuming; returns the
 * count copied. */
SK_EXPORT size_t sk_buf_peek(const struct sk_buf *b, void *out, size_t n);

/* Offset of the first occurrence of needle[0..nn) at or after `from`, or -1. */
SK_EXPORT ptrdiff_t sk_buf_find(const struct sk_buf *b, size_t from,
				const void *needle, size_t nn);

/* Move all of src to the end of dst (src ends empty).  When dst is empty and
 * src owns its storage the storage changes hands without a copy. */
SK_EXPORT SK_NODISCARD int sk_buf_move(struct sk_buf *dst, struct sk_buf *src);

/* Turn a borrowed buffer into an owned one (copies the live bytes). */
SK_EXPORT SK_NODISCARD int sk_buf_own(struct sk_buf *b);

/* ---- framing -------------------------------------------------------------
 * Each returns 1 and fills *out and *used when a whole unit is at the front of
 * p[0..n), 0 when more bytes are needed, or a negative code when the input
 * can never form a valid unit within the limit.
 */

/* A line ends at "\n"; a "\r" right before it is stripped too.  *out is the
 * line without its terminator, *used the bytes it took including it.  A line
 * whose content exceeds max bytes gives SK_ELINETOOLONG (as soon as max+2
 * bytes without a newline are seen, so a peer cannot make it buffer more). */
SK_EXPORT int sk_frame_line(const uint8_t *p, size_t n, size_t max,
			    struct sk_slice *out, size_t *used);

/* A frame is a big-endian unsigned length of hdr bytes (1, 2, 4 or 8)
 * followed by that many payload bytes.  Payloads over max give
 * SK_EFRAMETOOBIG; a bad hdr gives SK_EINVAL. */
SK_EXPORT int sk_frame_len(const uint8_t *p, size_t n, unsigned hdr, size_t max,
			   struct sk_slice *out, size_t *used);

/* Append a length-prefixed frame (header + payload) to b. */
SK_EXPORT SK_NODISCARD int sk_buf_append_frame(struct sk_buf *b, unsigned hdr,
					       const void *p, size_t n);

/* Convenience over a buffer: find the next line in b (as sk_frame_line);
 * the caller consumes `used` bytes when done with *out. */
static inline int sk_buf_line(const struct sk_buf *b, size_t max,
			      struct sk_slice *out, size_t *used)
{
	return sk_frame_line(sk_buf_data(b), b->len, max, out, used);
}

#ifdef __cplusplus
}
#endif
#endif
