/*
 * tests/unit/test_frame.c - sk_frame_line, sk_frame_len, sk_buf_append_frame.
 */
#include "test.h"

#define U8(s) ((const uint8_t *)(s))

/* Run sk_frame_line over a C string. */
static int line(const char *s, size_t max, struct sk_slice *out, size_t *used)
{
	out->p = NULL;
	out->n = 12345;
	*used = 12345;
	return sk_frame_line(U8(s), strlen(s), max, out, used);
}

static void expect_line(const char *in, size_t max, const char *content,
			size_t used_expect)
{
	struct sk_slice s;
	size_t used;
	int r = line(in, max, &s, &used);
	if (r != 1)
		FAIL("\"%s\" max %zu: got %d, want a line", in, max, r);
	ASSERT(s.p == U8(in));
	ASSERT_EQ(s.n, strlen(content));
	ASSERT_MEMEQ(s.p, content, s.n);
	ASSERT_EQ(used, used_expect);
}

static void expect_rc(const char *in, size_t max, int rc)
{
	struct sk_slice s;
	size_t used;
	int r = line(in, max, &s, &used);
	if (r != rc)
		FAIL("\"%s\" max %zu: got %d, want %d", in, max, r, rc);
	/* nothing is reported when there is no line */
	ASSERT(s.p == NULL);
	ASSERT_EQ(used, 12345);
}

TEST(line_terminators)
{
	expect_line("hello\n", 100, "hello", 6);
	expect_line("hello\r\n", 100, "hello", 7);
	expect_line("\n", 100, "", 1);
	expect_line("\r\n", 100, "", 2);
	expect_line("a\nb\n", 100, "a", 2);
	/* a bare CR is content; only the CR right before LF is stripped */
	expect_line("a\rb\n", 100, "a\rb", 4);
	expect_line("\r\r\n", 100, "\r", 3);
	expect_line("a\r\rb\r\n", 100, "a\r\rb", 6);
	expect_line("\rx\n", 100, "\rx", 3);
}

TEST(line_incomplete)
{
	expect_rc("", 100, 0);
	expect_rc("partial", 100, 0);
	expect_rc("partial\r", 100, 0);
	expect_rc("\r", 100, 0);
	/* NULL with no bytes is fine */
	struct sk_slice s;
	size_t used;
	ASSERT_EQ(sk_frame_line(NULL, 0, 10, &s, &used), 0);
}

TEST(line_limits)
{
	/* content exactly max: accepted with either terminator */
	expect_line("12345\n", 5, "12345", 6);
	expect_line("12345\r\n", 5, "12345", 7);
	/* max+1 content with its newline present: too long */
	expect_rc("123456\n", 5, SK_ELINETOOLONG);
	expect_rc("123456\r\n", 5, SK_ELINETOOLONG);
	/* no newline yet: wait while a valid line is still possible ... */
	expect_rc("12345", 5, 0);
	expect_rc("12345\r", 5, 0);
	expect_rc("123456", 5, 0);
	/* ... and give up as soon as max+2 bytes hold no newline */
	expect_rc("1234567", 5, SK_ELINETOOLONG);
	expect_rc("12345\rx", 5, SK_ELINETOOLONG);
	expect_rc("12345678901234567890", 5, SK_ELINETOOLONG);
	/* a newline beyond max+2 is never looked at */
	expect_rc("1234567\n", 5, SK_ELINETOOLONG);
	/* max 0: only empty lines */
	expect_line("\n", 0, "", 1);
	expect_line("\r\n", 0, "", 2);
	expect_rc("x\n", 0, SK_ELINETOOLONG);
	expect_rc("\r", 0, 0);
	expect_rc("xy", 0, SK_ELINETOOLONG);
	/* huge max does not overflow */
	expect_line("abc\n", SIZE_MAX, "abc", 4);
	expect_rc("abc", SIZE_MAX, 0);
	expect_line("abc\n", SIZE_MAX - 1, "abc", 4);
}

TEST(line_embedded_nul)
{
	static const uint8_t in[] = {'a', 0, 'b', '\n'};
	struct sk_slice s;
	size_t used;
	ASSERT_EQ(sk_frame_line(in, sizeof in, 10, &s, &used), 1);
	ASSERT_EQ(s.n, 3);
	ASSERT_EQ(used, 4);
}

TEST(many_lines_in_one_buffer)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	char expect[64];
	for (int i = 0; i < 1000; i++)
		ASSERT_OK(sk_buf_appendf(&b, "line %d%s", i,
					 i % 3 == 0 ? "\r\n" : "\n"));
	ASSERT_OK(sk_buf_append_str(&b, "tail"));
	int got = 0;
	for (;;) {
		struct sk_slice s;
		size_t used;
		int r = sk_buf_line(&b, 100, &s, &used);
		ASSERT(r >= 0);
		if (r == 0)
			break;
		int n = snprintf(expect, sizeof expect, "line %d", got);
		ASSERT_EQ(s.n, n);
		ASSERT_MEMEQ(s.p, expect, s.n);
		ASSERT_EQ(used, (size_t)n + (got % 3 == 0 ? 2 : 1));
		sk_buf_consume(&b, used);
		got++;
	}
	ASSERT_EQ(got, 1000);
	ASSERT_EQ(sk_buf_len(&b), 4);
	ASSERT_MEMEQ(sk_buf_data(&b), "tail", 4);
	sk_buf_free(&b);
}

TEST(line_fed_byte_by_byte)
{
	/* a stream split at every position gives the same lines */
	static const char stream[] = "ab\r\ncd\n\r\n\nxyz\r\r\n";
	static const char *const want[] = {"ab", "cd", "", "", "xyz\r"};
	struct sk_buf b = SK_BUF_INIT(64);
	size_t k = 0;
	for (size_t i = 0; i < sizeof stream - 1; i++) {
		ASSERT_OK(sk_buf_append(&b, stream + i, 1));
		struct sk_slice s;
		size_t used;
		int r;
		while ((r = sk_buf_line(&b, 8, &s, &used)) == 1) {
			ASSERT(k < 5);
			ASSERT_EQ(s.n, strlen(want[k]));
			ASSERT_MEMEQ(s.p, want[k], s.n);
			sk_buf_consume(&b, used);
			k++;
		}
		ASSERT_EQ(r, 0);
	}
	ASSERT_EQ(k, 5);
	sk_buf_free(&b);
}

/* ---- length-prefixed frames ------------------------------------------------ */

TEST(len_each_header_size)
{
	static const unsigned hdrs[] = {1, 2, 4, 8};
	for (size_t h = 0; h < 4; h++) {
		unsigned hdr = hdrs[h];
		struct sk_buf b = SK_BUF_INIT(1 << 20);
		uint8_t payload[300];
		for (size_t i = 0; i < sizeof payload; i++)
			payload[i] = (uint8_t)i;
		size_t sizes[] = {0, 1, 5, 200, 255, 256, 300};
		size_t nsizes = hdr == 1 ? 5 : 7;
		for (size_t i = 0; i < nsizes; i++)
			ASSERT_OK(sk_buf_append_frame(&b, hdr, payload, sizes[i]));

		/* the header is big-endian */
		ASSERT_EQ(sk_buf_len(&b) > hdr, 1);
		for (unsigned i = 0; i < hdr; i++)
			ASSERT_EQ(sk_buf_data(&b)[i], 0);
		ASSERT_EQ(sk_buf_data(&b)[hdr + 0 + hdr - 1], 1);

		for (size_t i = 0; i < nsizes; i++) {
			struct sk_slice s;
			size_t used;
			int r = sk_frame_len(sk_buf_data(&b), sk_buf_len(&b), hdr,
					     1000, &s, &used);
			ASSERT_EQ(r, 1);
			ASSERT_EQ(s.n, sizes[i]);
			ASSERT(s.p == sk_buf_data(&b) + hdr);
			ASSERT_MEMEQ(s.p, payload, s.n);
			ASSERT_EQ(used, hdr + sizes[i]);
			/* every proper prefix is incomplete */
			for (size_t cut = 0; cut < used; cut++)
				ASSERT_EQ(sk_frame_len(sk_buf_data(&b), cut, hdr,
						       1000, &s, &used), 0);
			sk_buf_consume(&b, hdr + sizes[i]);
		}
		ASSERT_EQ(sk_buf_len(&b), 0);
		sk_buf_free(&b);
	}
}

TEST(len_header_values)
{
	static const uint8_t h2[] = {0x01, 0x02};
	static const uint8_t h4[] = {0x01, 0x02, 0x03, 0x04};
	static const uint8_t h8[] = {0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05};
	struct sk_slice s;
	size_t used;

	/* the limit is checked from the header alone, before the payload */
	ASSERT_EQ(sk_frame_len(h2, 2, 2, 0x101, &s, &used), SK_EFRAMETOOBIG);
	ASSERT_EQ(sk_frame_len(h2, 2, 2, 0x102, &s, &used), 0);
	ASSERT_EQ(sk_frame_len(h4, 4, 4, 0x01020303, &s, &used), SK_EFRAMETOOBIG);
	ASSERT_EQ(sk_frame_len(h4, 4, 4, 0x01020304, &s, &used), 0);
	ASSERT_EQ(sk_frame_len(h8, 8, 8, 0x0102030404ull, &s, &used),
		  SK_EFRAMETOOBIG);
	ASSERT_EQ(sk_frame_len(h8, 8, 8, 0x0102030405ull, &s, &used), 0);

	/* too big: max 3, payload 4 */
	static const uint8_t f[] = {4, 'a', 'b', 'c', 'd'};
	ASSERT_EQ(sk_frame_len(f, 5, 1, 3, &s, &used), SK_EFRAMETOOBIG);
	ASSERT_EQ(sk_frame_len(f, 1, 1, 3, &s, &used), SK_EFRAMETOOBIG);
	ASSERT_EQ(sk_frame_len(f, 5, 1, 4, &s, &used), 1);
	ASSERT_EQ(used, 5);
	/* max 0 still allows empty frames */
	static const uint8_t z[] = {0, 0, 9};
	ASSERT_EQ(sk_frame_len(z, 3, 2, 0, &s, &used), 1);
	ASSERT_EQ(s.n, 0);
	ASSERT_EQ(used, 2);

	/* the biggest 8-byte lengths are refused even with max SIZE_MAX */
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff};
	ASSERT_EQ(sk_frame_len(ff, 8, 8, SIZE_MAX, &s, &used), SK_EFRAMETOOBIG);

	/* bad header sizes */
	static const unsigned bad[] = {0, 3, 5, 6, 7, 9, 16, 64};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ASSERT_EQ(sk_frame_len(f, 5, bad[i], 100, &s, &used), SK_EINVAL);
		ASSERT_EQ(sk_frame_len(NULL, 0, bad[i], 100, &s, &used),
			  SK_EINVAL);
	}
	ASSERT_EQ(sk_frame_len(NULL, 0, 4, 100, &s, &used), 0);
}

TEST(append_frame_limits)
{
	struct sk_buf b = SK_BUF_INIT(1 << 20);
	static uint8_t big[70000];

	ASSERT_EQ(sk_buf_append_frame(&b, 3, "x", 1), SK_EINVAL);
	ASSERT_EQ(sk_buf_append_frame(&b, 0, "x", 1), SK_EINVAL);
	/* a length that does not fit in the header */
	ASSERT_EQ(sk_buf_append_frame(&b, 1, big, 256), SK_EMSGSIZE);
	ASSERT_EQ(sk_buf_append_frame(&b, 2, big, 65536), SK_EMSGSIZE);
	ASSERT_EQ(sk_buf_len(&b), 0);
	ASSERT_OK(sk_buf_append_frame(&b, 2, big, 65535));
	ASSERT_EQ(sk_buf_len(&b), 65537);
	ASSERT_EQ(sk_buf_data(&b)[0], 0xff);
	ASSERT_EQ(sk_buf_data(&b)[1], 0xff);
	sk_buf_free(&b);

	/* the buffer's max counts the header too; failure leaves it alone */
	struct sk_buf s = SK_BUF_INIT(10);
	ASSERT_OK(sk_buf_append_frame(&s, 4, "abcdef", 6));
	ASSERT_EQ(sk_buf_len(&s), 10);
	sk_buf_clear(&s);
	ASSERT_EQ(sk_buf_append_frame(&s, 4, "abcdefg", 7), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&s), 0);
	ASSERT_EQ(sk_buf_append_frame(&s, 8, "x", SIZE_MAX - 4), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&s), 0);
	sk_buf_free(&s);

	/* 8-byte header with an empty payload */
	struct sk_buf e = SK_BUF_INIT(100);
	ASSERT_OK(sk_buf_append_frame(&e, 8, NULL, 0));
	ASSERT_EQ(sk_buf_len(&e), 8);
	struct sk_slice sl;
	size_t used;
	ASSERT_EQ(sk_frame_len(sk_buf_data(&e), 8, 8, 0, &sl, &used), 1);
	ASSERT_EQ(sl.n, 0);
	ASSERT_EQ(used, 8);
	sk_buf_free(&e);
}

TEST_MAIN(TEST_ENTRY(line_terminators), TEST_ENTRY(line_incomplete),
	  TEST_ENTRY(line_limits), TEST_ENTRY(line_embedded_nul),
	  TEST_ENTRY(many_lines_in_one_buffer), TEST_ENTRY(line_fed_byte_by_byte),
	  TEST_ENTRY(len_each_header_size), TEST_ENTRY(len_header_values),
	  TEST_ENTRY(append_frame_limits))
