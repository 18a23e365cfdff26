/*
 * tests/unit/test_buf.c - struct sk_buf: growth, limits, consume/compaction,
 * borrowed buffers, move, find, and a randomized differential test against a
 * trivially correct reference.
 */
#include <stdint.h>

#include "test.h"

/* Fill p[0..n) with a pattern that depends on the absolute position. */
static void pattern(uint8_t *p, size_t n, size_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((start + i) * 131u + 7u);
}

static void check_pattern(const struct sk_buf *b, size_t start)
{
	const uint8_t *d = sk_buf_data(b);
	for (size_t i = 0; i < sk_buf_len(b); i++)
		if (d[i] != (uint8_t)((start + i) * 131u + 7u))
			FAIL("byte %zu (abs %zu) wrong", i, start + i);
}

TEST(empty_buffer)
{
	struct sk_buf b = SK_BUF_INIT(100);
	ASSERT(b.data == NULL);
	ASSERT_EQ(sk_buf_len(&b), 0);
	ASSERT(sk_buf_data(&b) != NULL);
	ASSERT_STREQ((const char *)sk_buf_data(&b), "");
	ASSERT_EQ(sk_buf_find(&b, 0, "x", 1), -1);
	ASSERT_EQ(sk_buf_find(&b, 0, "", 0), 0);
	ASSERT_EQ(sk_buf_find(&b, 1, "", 0), -1);
	char c = 'z';
	ASSERT_EQ(sk_buf_peek(&b, &c, 1), 0);
	ASSERT_EQ(c, 'z');
	sk_buf_consume(&b, 10);
	ASSERT_EQ(sk_buf_len(&b), 0);
	ASSERT_OK(sk_buf_append(&b, NULL, 0));
	ASSERT(b.data == NULL); /* an empty append allocates nothing */
	sk_buf_clear(&b);
	sk_buf_free(&b);
	sk_buf_free(&b); /* twice is fine */
	ASSERT_EQ(b.max, 100);

	struct sk_buf c2;
	sk_buf_init(&c2, 42);
	ASSERT_EQ(c2.max, 42);
	ASSERT(c2.data == NULL && c2.len == 0 && c2.off == 0 && c2.cap == 0);
}

TEST(growth_many_sizes)
{
	static const size_t steps[] = {1, 2, 3, 7, 255, 256, 257, 511, 1000,
				       4096, 4097, 65536, 100003};
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		struct sk_buf b = SK_BUF_INIT(1u << 22);
		uint8_t *chunk = malloc(steps[s]);
		ASSERT(chunk);
		size_t total = 0;
		while (total < 300000) {
			pattern(chunk, steps[s], total);
			ASSERT_OK(sk_buf_append(&b, chunk, steps[s]));
			total += steps[s];
			ASSERT_EQ(sk_buf_len(&b), total);
			ASSERT(b.cap >= b.off + b.len);
			ASSERT(b.cap >= 256);
		}
		check_pattern(&b, 0);
		/* doubling: capacity is within 2x of what is needed */
		ASSERT(b.cap < 2 * total + 256);
		free(chunk);
		sk_buf_free(&b);
		ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
	}
}

TEST(max_enforced)
{
	struct sk_buf b = SK_BUF_INIT(1000);
	uint8_t big[1001];
	uint8_t *p;
	memset(big, 'a', sizeof big);

	ASSERT_EQ(sk_buf_append(&b, big, 1001), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&b), 0);
	ASSERT_OK(sk_buf_append(&b, big, 1000));
	ASSERT(b.cap <= 1000); /* storage never exceeds max when max >= 256 */
	ASSERT_EQ(sk_buf_append(&b, "x", 1), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_append_str(&b, "x"), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_appendf(&b, "%d", 1), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_reserve(&b, 1, &p), SK_ENOBUFS);
	ASSERT(p == NULL);
	ASSERT_EQ(sk_buf_reserve(&b, SIZE_MAX, &p), SK_ENOBUFS);
	ASSERT_OK(sk_buf_append(&b, NULL, 0));
	ASSERT_EQ(sk_buf_len(&b), 1000);

	/* consuming makes room again; the 1000-byte storage is reused */
	sk_buf_consume(&b, 10);
	ASSERT_OK(sk_buf_append(&b, "0123456789", 10));
	ASSERT_EQ(sk_buf_len(&b), 1000);
	ASSERT(b.cap <= 1000);
	ASSERT_MEMEQ(sk_buf_data(&b) + 990, "0123456789", 10);
	ASSERT_EQ(sk_buf_append(&b, "x", 1), SK_ENOBUFS);

	/* appendf that would land exactly on max works (the NUL is not live) */
	sk_buf_clear(&b);
	ASSERT_OK(sk_buf_append(&b, big, 995));
	ASSERT_OK(sk_buf_appendf(&b, "%05d", 42));
	ASSERT_EQ(sk_buf_len(&b), 1000);
	ASSERT_MEMEQ(sk_buf_data(&b) + 995, "00042", 5);
	sk_buf_free(&b);

	/* tiny and zero maxima */
	struct sk_buf t = SK_BUF_INIT(5);
	ASSERT_OK(sk_buf_append(&t, "abcde", 5));
	ASSERT_EQ(sk_buf_append(&t, "f", 1), SK_ENOBUFS);
	ASSERT_MEMEQ(sk_buf_data(&t), "abcde", 5);
	sk_buf_consume(&t, 2);
	ASSERT_OK(sk_buf_appendf(&t, "%s", "fg"));
	ASSERT_MEMEQ(sk_buf_data(&t), "cdefg", 5);
	sk_buf_free(&t);

	struct sk_buf z = SK_BUF_INIT(0);
	ASSERT_EQ(sk_buf_append(&z, "a", 1), SK_ENOBUFS);
	ASSERT_OK(sk_buf_appendf(&z, "%s", ""));
	ASSERT_EQ(sk_buf_len(&z), 0);
	sk_buf_free(&z);
}

TEST(reserve_commit)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	uint8_t *p;

	ASSERT_OK(sk_buf_reserve(&b, 0, &p)); /* nothing needed, nothing done */
	ASSERT_OK(sk_buf_reserve(&b, 100, &p));
	ASSERT(p != NULL);
	ASSERT_EQ(sk_buf_len(&b), 0); /* nothing live before commit */
	memcpy(p, "hello world", 11);
	sk_buf_commit(&b, 5);
	ASSERT_EQ(sk_buf_len(&b), 5);
	ASSERT_MEMEQ(sk_buf_data(&b), "hello", 5);

	/* reserve exposes room right after the live bytes */
	ASSERT_OK(sk_buf_reserve(&b, 10000, &p));
	ASSERT(p == sk_buf_data(&b) + 5);
	ASSERT(b.cap - b.off - b.len >= 10000);
	memset(p, '!', 10000);
	sk_buf_commit(&b, 10000);
	ASSERT_EQ(sk_buf_len(&b), 10005);
	ASSERT_MEMEQ(sk_buf_data(&b), "hello!!!", 8);

	/* over-committing is clamped to the storage */
	ASSERT_OK(sk_buf_reserve(&b, 1, &p));
	size_t room = b.cap - b.off - b.len;
	sk_buf_commit(&b, room + 1000);
	ASSERT(b.off + b.len <= b.cap);
	sk_buf_free(&b);
}

TEST(consume_and_compaction)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	uint8_t tmp[256];

	pattern(tmp, 256, 0);
	ASSERT_OK(sk_buf_append(&b, tmp, 256));
	ASSERT_EQ(b.cap, 256);
	uint8_t *storage = b.data;

	/* consuming is O(1): it only moves the offset */
	sk_buf_consume(&b, 200);
	ASSERT(b.data == storage);
	ASSERT_EQ(b.off, 200);
	ASSERT_EQ(sk_buf_len(&b), 56);
	check_pattern(&b, 200);

	/* more dead than live: the next append compacts in place */
	pattern(tmp, 100, 256);
	ASSERT_OK(sk_buf_append(&b, tmp, 100));
	ASSERT(b.data == storage);
	ASSERT_EQ(b.cap, 256);
	ASSERT_EQ(b.off, 0);
	check_pattern(&b, 200);

	/* little dead, lots live: grow (doubling) instead of moving often */
	sk_buf_clear(&b);
	pattern(tmp, 256, 0);
	ASSERT_OK(sk_buf_append(&b, tmp, 256));
	sk_buf_consume(&b, 10);
	pattern(tmp, 5, 256);
	ASSERT_OK(sk_buf_append(&b, tmp, 5));
	ASSERT_EQ(b.cap, 512);
	ASSERT_EQ(b.off, 0);
	check_pattern(&b, 10);

	/* consuming everything rewinds the offset */
	sk_buf_consume(&b, 3);
	sk_buf_consume(&b, SIZE_MAX);
	ASSERT_EQ(b.off, 0);
	ASSERT_EQ(sk_buf_len(&b), 0);
	ASSERT_EQ(b.cap, 512); /* storage kept */
	sk_buf_free(&b);

	/* at max, compaction happens whenever needed */
	struct sk_buf m = SK_BUF_INIT(300);
	size_t head = 0, tail = 0;
	for (int i = 0; i < 1000; i++) {
		size_t n = (size_t)(i % 37) + 1;
		if (sk_buf_len(&m) + n > 300) {
			sk_buf_consume(&m, n);
			head += n;
		}
		pattern(tmp, n, tail);
		ASSERT_OK(sk_buf_append(&m, tmp, n));
		tail += n;
		ASSERT(m.cap <= 300);
		check_pattern(&m, head);
	}
	sk_buf_free(&m);
}

TEST(appendf_formats)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);

	ASSERT_OK(sk_buf_appendf(&b, "%s %d %c", "PRIVMSG", 42, '!'));
	ASSERT_EQ(sk_buf_len(&b), 12);
	ASSERT_MEMEQ(sk_buf_data(&b), "PRIVMSG 42 !", 12);
	ASSERT_OK(sk_buf_appendf(&b, "%s", ""));
	ASSERT_EQ(sk_buf_len(&b), 12);

	/* longer than any tail room: takes the grow-and-retry path */
	char *big = malloc(5001);
	ASSERT(big);
	memset(big, 'q', 5000);
	big[5000] = '\0';
	ASSERT_OK(sk_buf_appendf(&b, "<%s>", big));
	ASSERT_EQ(sk_buf_len(&b), 12 + 5002);
	ASSERT_EQ(sk_buf_data(&b)[12], '<');
	ASSERT_EQ(sk_buf_data(&b)[12 + 5001], '>');
	ASSERT_EQ(sk_buf_data(&b)[12 + 1], 'q');

	/* exactly filling the tail room (the NUL would not fit) */
	sk_buf_free(&b);
	ASSERT_OK(sk_buf_append(&b, "x", 1));
	size_t room = b.cap - b.off - b.len;
	memset(big, 'r', room);
	big[room] = '\0';
	ASSERT_OK(sk_buf_appendf(&b, "%s", big));
	ASSERT_EQ(sk_buf_len(&b), 1 + room);
	ASSERT_EQ(sk_buf_data(&b)[room], 'r');
	free(big);

	/* a failed appendf leaves the content alone */
	struct sk_buf s = SK_BUF_INIT(8);
	ASSERT_OK(sk_buf_append(&s, "abc", 3));
	ASSERT_EQ(sk_buf_appendf(&s, "%s", "123456"), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&s), 3);
	ASSERT_MEMEQ(sk_buf_data(&s), "abc", 3);
	sk_buf_free(&s);
	sk_buf_free(&b);
}

TEST(append_from_itself)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	ASSERT_OK(sk_buf_append_str(&b, "abcdefgh"));
	/* doubling the content forces a reallocation at some point */
	for (int i = 0; i < 12; i++)
		ASSERT_OK(sk_buf_append(&b, sk_buf_data(&b), sk_buf_len(&b)));
	ASSERT_EQ(sk_buf_len(&b), 8u << 12);
	for (size_t i = 0; i < sk_buf_len(&b); i += 8)
		ASSERT_MEMEQ(sk_buf_data(&b) + i, "abcdefgh", 8);

	/* a slice of itself after a consume (compaction path) */
	sk_buf_free(&b);
	uint8_t tmp[256];
	pattern(tmp, 256, 0);
	ASSERT_OK(sk_buf_append(&b, tmp, 256));
	sk_buf_consume(&b, 200);
	ASSERT_OK(sk_buf_append(&b, sk_buf_data(&b) + 6, 50));
	ASSERT_EQ(sk_buf_len(&b), 106);
	ASSERT_MEMEQ(sk_buf_data(&b), tmp + 200, 56);
	ASSERT_MEMEQ(sk_buf_data(&b) + 56, tmp + 206, 50);

	/* and as a frame payload */
	ASSERT_OK(sk_buf_append_frame(&b, 2, sk_buf_data(&b), 4));
	ASSERT_EQ(sk_buf_len(&b), 112);
	ASSERT_EQ(sk_buf_data(&b)[106], 0);
	ASSERT_EQ(sk_buf_data(&b)[107], 4);
	ASSERT_MEMEQ(sk_buf_data(&b) + 108, tmp + 200, 4);
	sk_buf_free(&b);
}

TEST(find_across_compaction)
{
	struct sk_buf b = SK_BUF_INIT(1 << 16);
	ASSERT_OK(sk_buf_append_str(&b, "hello\r\nworld\r\n"));
	ASSERT_EQ(sk_buf_find(&b, 0, "\r\n", 2), 5);
	ASSERT_EQ(sk_buf_find(&b, 5, "\r\n", 2), 5);
	ASSERT_EQ(sk_buf_find(&b, 6, "\r\n", 2), 12);
	ASSERT_EQ(sk_buf_find(&b, 13, "\r\n", 2), -1);
	ASSERT_EQ(sk_buf_find(&b, 14, "", 0), 14);
	ASSERT_EQ(sk_buf_find(&b, 15, "", 0), -1);
	ASSERT_EQ(sk_buf_find(&b, SIZE_MAX, "x", 1), -1);
	ASSERT_EQ(sk_buf_find(&b, 0, "hello\r\nworld\r\n!", 15), -1);

	/* offsets are relative to the live bytes, before and after moves */
	sk_buf_consume(&b, 7);
	ASSERT_EQ(sk_buf_find(&b, 0, "world", 5), 0);
	ASSERT_EQ(sk_buf_find(&b, 0, "\r\n", 2), 5);
	uint8_t fill[300];
	memset(fill, '.', sizeof fill);
	for (int i = 0; i < 50; i++) {
		ASSERT_OK(sk_buf_append(&b, fill, sizeof fill));
		sk_buf_consume(&b, 290);
	}
	ASSERT_OK(sk_buf_append_str(&b, "NEEDLE"));
	ptrdiff_t at = sk_buf_find(&b, 0, "NEEDLE", 6);
	ASSERT_EQ(at, (ptrdiff_t)sk_buf_len(&b) - 6);
	/* a needle split across the old end and a new append */
	ASSERT_OK(sk_buf_append_str(&b, "ab"));
	ASSERT_EQ(sk_buf_find(&b, 0, "abc", 3), -1);
	ASSERT_OK(sk_buf_append_str(&b, "c"));
	ASSERT_EQ(sk_buf_find(&b, 0, "abc", 3), (ptrdiff_t)sk_buf_len(&b) - 3);
	sk_buf_free(&b);
}

/* A borrowed buffer as the loop hands it to on_read. */
static void borrow(struct sk_buf *b, const uint8_t *p, size_t n, size_t max)
{
	sk_buf_init(b, max);
	b->data = (uint8_t *)(uintptr_t)p;
	b->len = n;
	b->flags = SK_BUF_BORROWED;
}

TEST(borrowed_buffers)
{
	static const uint8_t foreign[] = "line one\nline two\n";
	const size_t flen = sizeof foreign - 1;
	struct sk_buf b;
	struct sk_slice s;
	size_t used;
	char out[8];

	/* reading and consuming work in place */
	borrow(&b, foreign, flen, 1024);
	ASSERT(sk_buf_data(&b) == foreign);
	ASSERT_EQ(sk_buf_line(&b, 100, &s, &used), 1);
	ASSERT(s.p == foreign);
	ASSERT_EQ(s.n, 8);
	sk_buf_consume(&b, used);
	ASSERT(sk_buf_data(&b) == foreign + 9);
	ASSERT(b.flags & SK_BUF_BORROWED);
	ASSERT_EQ(sk_buf_peek(&b, out, 4), 4);
	ASSERT_MEMEQ(out, "line", 4);
	ASSERT_EQ(sk_buf_find(&b, 0, "two", 3), 5);

	/* appending copies into owned storage first */
	ASSERT_OK(sk_buf_append_str(&b, "three"));
	ASSERT(!(b.flags & SK_BUF_BORROWED));
	ASSERT(b.cap >= b.len);
	ASSERT(sk_buf_data(&b) != foreign + 9);
	ASSERT_EQ(sk_buf_len(&b), 14);
	ASSERT_MEMEQ(sk_buf_data(&b), "line two\nthree", 14);
	ASSERT_MEMEQ(foreign, "line one\nline two\n", flen); /* untouched */
	sk_buf_free(&b); /* frees the owned copy (ASan checks the rest) */

	/* sk_buf_own copies the live bytes */
	borrow(&b, foreign, flen, 1024);
	sk_buf_consume(&b, 5);
	ASSERT_OK(sk_buf_own(&b));
	ASSERT(!(b.flags & SK_BUF_BORROWED));
	ASSERT(sk_buf_data(&b) != foreign + 5);
	ASSERT_EQ(sk_buf_len(&b), flen - 5);
	ASSERT_MEMEQ(sk_buf_data(&b), foreign + 5, flen - 5);
	ASSERT_OK(sk_buf_own(&b)); /* owned already: no-op */
	ASSERT_EQ(sk_buf_len(&b), flen - 5);
	sk_buf_free(&b);

	/* own of an empty borrowed buffer just forgets the pointer */
	borrow(&b, foreign, 0, 1024);
	ASSERT_OK(sk_buf_own(&b));
	ASSERT(b.data == NULL && !(b.flags & SK_BUF_BORROWED));

	/* reserve and appendf also convert */
	borrow(&b, foreign, 4, 1024);
	uint8_t *p;
	ASSERT_OK(sk_buf_reserve(&b, 3, &p));
	ASSERT(!(b.flags & SK_BUF_BORROWED));
	memcpy(p, "xyz", 3);
	sk_buf_commit(&b, 3);
	ASSERT_MEMEQ(sk_buf_data(&b), "linexyz", 7);
	sk_buf_free(&b);
	borrow(&b, foreign, 4, 1024);
	ASSERT_OK(sk_buf_appendf(&b, "-%d", 7));
	ASSERT(!(b.flags & SK_BUF_BORROWED));
	ASSERT_MEMEQ(sk_buf_data(&b), "line-7", 6);
	sk_buf_free(&b);

	/* append of its own borrowed bytes */
	borrow(&b, foreign, 4, 1024);
	ASSERT_OK(sk_buf_append(&b, sk_buf_data(&b), 4));
	ASSERT_MEMEQ(sk_buf_data(&b), "lineline", 8);
	sk_buf_free(&b);

	/* free and clear of a borrowed buffer only forget the pointer */
	borrow(&b, foreign, flen, 1024);
	sk_buf_free(&b);
	ASSERT(b.data == NULL && b.len == 0 && !(b.flags & SK_BUF_BORROWED));
	borrow(&b, foreign, flen, 1024);
	sk_buf_clear(&b);
	ASSERT(b.data == NULL && b.len == 0 && !(b.flags & SK_BUF_BORROWED));
	ASSERT_OK(sk_buf_append_str(&b, "new"));
	ASSERT_MEMEQ(sk_buf_data(&b), "new", 3);
	sk_buf_free(&b);

	/* the limit still applies when converting */
	borrow(&b, foreign, flen, flen);
	ASSERT_EQ(sk_buf_append(&b, "x", 1), SK_ENOBUFS);
	ASSERT(b.flags & SK_BUF_BORROWED);
	sk_buf_free(&b);
}

TEST(move_semantics)
{
	struct sk_buf a = SK_BUF_INIT(1 << 16), b = SK_BUF_INIT(1 << 16);

	/* dst empty, src owns: the storage changes hands */
	ASSERT_OK(sk_buf_append_str(&a, "payload"));
	sk_buf_consume(&a, 3);
	const uint8_t *pa = sk_buf_data(&a);
	ASSERT_OK(sk_buf_move(&b, &a));
	ASSERT(sk_buf_data(&b) == pa);
	ASSERT_EQ(sk_buf_len(&b), 4);
	ASSERT_MEMEQ(sk_buf_data(&b), "load", 4);
	ASSERT_EQ(sk_buf_len(&a), 0);
	ASSERT(a.data == NULL);
	ASSERT_EQ(b.max, 1 << 16);

	/* dst not empty: copied to the end */
	ASSERT_OK(sk_buf_append_str(&a, "++"));
	ASSERT_OK(sk_buf_move(&b, &a));
	ASSERT_EQ(sk_buf_len(&b), 6);
	ASSERT_MEMEQ(sk_buf_data(&b), "load++", 6);
	ASSERT_EQ(sk_buf_len(&a), 0);
	ASSERT_OK(sk_buf_append_str(&a, "again")); /* src still usable */
	ASSERT_MEMEQ(sk_buf_data(&a), "again", 5);

	/* empty src: nothing happens */
	struct sk_buf e = SK_BUF_INIT(10);
	ASSERT_OK(sk_buf_move(&b, &e));
	ASSERT_EQ(sk_buf_len(&b), 6);

	/* dst limit: refused, both unchanged */
	struct sk_buf small = SK_BUF_INIT(4);
	ASSERT_EQ(sk_buf_move(&small, &a), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&a), 5);
	ASSERT_EQ(sk_buf_len(&small), 0);
	ASSERT_OK(sk_buf_append_str(&small, "ab"));
	ASSERT_EQ(sk_buf_move(&small, &a), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&small), 2);

	/* moving into itself is refused */
	ASSERT_EQ(sk_buf_move(&a, &a), SK_EINVAL);
	ASSERT_EQ(sk_buf_len(&a), 5);

	/* borrowed src is copied, never stolen */
	static const uint8_t foreign[] = "borrowed";
	struct sk_buf br;
	sk_buf_init(&br, 100);
	br.data = (uint8_t *)(uintptr_t)foreign;
	br.len = 8;
	br.flags = SK_BUF_BORROWED;
	struct sk_buf d = SK_BUF_INIT(100);
	ASSERT_OK(sk_buf_move(&d, &br));
	ASSERT(sk_buf_data(&d) != foreign);
	ASSERT_MEMEQ(sk_buf_data(&d), "borrowed", 8);
	ASSERT_EQ(sk_buf_len(&br), 0);
	ASSERT(!(br.flags & SK_BUF_BORROWED));

	/* dst borrowed but empty: stealing replaces it cleanly */
	struct sk_buf db;
	sk_buf_init(&db, 100);
	db.data = (uint8_t *)(uintptr_t)foreign;
	db.flags = SK_BUF_BORROWED;
	ASSERT_OK(sk_buf_move(&db, &d));
	ASSERT(!(db.flags & SK_BUF_BORROWED));
	ASSERT_MEMEQ(sk_buf_data(&db), "borrowed", 8);

	sk_buf_free(&a);
	sk_buf_free(&b);
	sk_buf_free(&small);
	sk_buf_free(&d);
	sk_buf_free(&db);
}

/* ---- randomized differential test ---------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	/* xorshift64*: fixed seed, so failures reproduce */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

struct ref {
	uint8_t *p;
	size_t n, max;
};

static void ref_append(struct ref *r, const void *p, size_t n)
{
	uint8_t *q = realloc(r->p, r->n + n + 1);
	ASSERT(q);
	r->p = q;
	memcpy(r->p + r->n, p, n);
	r->n += n;
}

static void ref_consume(struct ref *r, size_t n)
{
	if (n > r->n)
		n = r->n;
	if (n == 0)
		return;
	memmove(r->p, r->p + n, r->n - n);
	r->n -= n;
}

static void same(const struct sk_buf *b, const struct ref *r, int step)
{
	if (sk_buf_len(b) != r->n)
		FAIL("step %d: len %zu != %zu", step, sk_buf_len(b), r->n);
	if (r->n && memcmp(sk_buf_data(b), r->p, r->n) != 0)
		FAIL("step %d: contents differ", step);
	if (!(b->flags & SK_BUF_BORROWED)) {
		ASSERT(b->off + b->len <= b->cap || b->data == NULL);
		/* storage stays within max (or the 256 minimum) */
		ASSERT(b->cap <= (b->max > 256 ? b->max : 256) + 1);
	}
}

TEST(randomized_differential)
{
	static const size_t maxes[] = {17, 300, 4096, 100000};
	uint8_t chunk[5000];
	int step = 0;

	for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		struct sk_buf b = SK_BUF_INIT(maxes[m]);
		struct sk_buf other = SK_BUF_INIT(maxes[m]);
		struct ref r = {NULL, 0, maxes[m]};
		for (int i = 0; i < 20000; i++, step++) {
			uint32_t op = rnd() % 100;
			size_t n = rnd() % (op < 5 ? sizeof chunk : 400);
			for (size_t k = 0; k < n; k++)
				chunk[k] = (uint8_t)rnd();
			int rc;
			if (op < 40) {
				rc = sk_buf_append(&b, chunk, n);
				if (r.n + n > r.max) {
					ASSERT_EQ(rc, SK_ENOBUFS);
				} else {
					ASSERT_OK(rc);
					ref_append(&r, chunk, n);
				}
			} else if (op < 70) {
				sk_buf_consume(&b, n);
				ref_consume(&r, n);
			} else if (op < 78) {
				/* reserve n, commit a part */
				uint8_t *p;
				rc = sk_buf_reserve(&b, n, &p);
				if (r.n + n > r.max) {
					ASSERT_EQ(rc, SK_ENOBUFS);
				} else {
					ASSERT_OK(rc);
					size_t c = n ? rnd() % (n + 1) : 0;
					if (c)
						memcpy(p, chunk, c);
					sk_buf_commit(&b, c);
					ref_append(&r, chunk, c);
				}
			} else if (op < 83) {
				char txt[32];
				unsigned v = rnd();
				int tl = snprintf(txt, sizeof txt, "<%u>", v);
				rc = sk_buf_appendf(&b, "<%u>", v);
				if (r.n + (size_t)tl > r.max) {
					ASSERT_EQ(rc, SK_ENOBUFS);
				} else {
					ASSERT_OK(rc);
					ref_append(&r, txt, (size_t)tl);
				}
			} else if (op < 88) {
				/* find a needle copied from a random spot */
				if (r.n >= 3) {
					size_t at = rnd() % (r.n - 2);
					ptrdiff_t f = sk_buf_find(&b, 0, r.p + at, 3);
					ASSERT(f >= 0 && (size_t)f <= at);
					ASSERT_MEMEQ(sk_buf_data(&b) + f, r.p + at, 3);
					ptrdiff_t g = sk_buf_find(&b, at, r.p + at, 3);
					ASSERT_EQ(g, (ptrdiff_t)at);
				}
			} else if (op < 92) {
				/* move out and back through an empty buffer */
				ASSERT_OK(sk_buf_move(&other, &b));
				ASSERT_EQ(sk_buf_len(&b), 0);
				ASSERT_OK(sk_buf_move(&b, &other));
			} else if (op < 95) {
				/* turn the contents into a borrowed view of
				 * a copy, as the loop would, then keep going */
				uint8_t *copy = malloc(r.n + 1);
				ASSERT(copy);
				if (r.n)
					memcpy(copy, r.p, r.n);
				sk_buf_free(&b);
				b.data = copy;
				b.len = r.n;
				b.flags = SK_BUF_BORROWED;
				if (rnd() % 2) {
					sk_buf_consume(&b, 1);
					ref_consume(&r, 1);
				}
				ASSERT_OK(sk_buf_own(&b));
				free(copy);
			} else if (op < 97) {
				size_t c = sk_buf_peek(&b, chunk, n);
				ASSERT_EQ(c, n < r.n ? n : r.n);
				if (c)
					ASSERT_MEMEQ(chunk, r.p, c);
			} else {
				sk_buf_clear(&b);
				r.n = 0;
			}
			same(&b, &r, step);
		}
		sk_buf_free(&b);
		sk_buf_free(&other);
		free(r.p);
	}
}

TEST_MAIN(TEST_ENTRY(empty_buffer), TEST_ENTRY(growth_many_sizes),
	  TEST_ENTRY(max_enforced), TEST_ENTRY(reserve_commit),
	  TEST_ENTRY(consume_and_compaction), TEST_ENTRY(appendf_formats),
	  TEST_ENTRY(append_from_itself), TEST_ENTRY(find_across_compaction),
	  TEST_ENTRY(borrowed_buffers), TEST_ENTRY(move_semantics),
	  TEST_ENTRY(randomized_differential))
