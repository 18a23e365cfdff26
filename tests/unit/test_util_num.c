/*
 * test_util_num.c - the programs' one number parser: digits, ranges,
 * binary multiples, fractions, and what it refuses.
 */
#include "test.h"
#include "util/num.h"

static uint64_t num(const char *s, bool sizes, uint64_t lo, uint64_t hi)
{
	uint64_t v = 12345;
	if (util_parse_num(s, sizes, lo, hi, &v) < 0)
		FAIL("\"%s\" refused", s);
	return v;
}

static void refused(const char *s, bool sizes, uint64_t lo, uint64_t hi)
{
	uint64_t v = 777;
	ASSERT_EQ(util_parse_num(s, sizes, lo, hi, &v), SK_EINVAL);
	ASSERT_EQ(v, 777u); /* untouched */
}

TEST(plain_numbers)
{
	ASSERT_EQ(num("0", false, 0, 10), 0u);
	ASSERT_EQ(num("65535", false, 1, 65535), 65535u);
	ASSERT_EQ(num("18446744073709551615", false, 0, UINT64_MAX), UINT64_MAX);
	refused("65536", false, 1, 65535);       /* over the range */
	refused("0", false, 1, 10);              /* under it */
	refused("18446744073709551616", false, 0, UINT64_MAX); /* would wrap */
	refused("-1", false, 0, UINT64_MAX);     /* strtoul would wrap it */
	refused("+1", false, 0, 10);
	refused(" 1", false, 0, 10);
	refused("1 ", false, 0, 10);
	refused("", false, 0, 10);
	refused(NULL, false, 0, 10);
	refused("4K", false, 0, UINT64_MAX);    /* multiples only for sizes */
	refused("1.5", false, 0, 10);
}

TEST(sizes)
{
	ASSERT_EQ(num("262144", true, 0, UINT64_MAX), 262144u);
	ASSERT_EQ(num("256K", true, 0, UINT64_MAX), 256u << 10);
	ASSERT_EQ(num("256k", true, 0, UINT64_MAX), 256u << 10);
	ASSERT_EQ(num("4M", true, 0, UINT64_MAX), 4u << 20);
	ASSERT_EQ(num("4MiB", true, 0, UINT64_MAX), 4u << 20);
	ASSERT_EQ(num("4MB", true, 0, UINT64_MAX), 4u << 20);
	ASSERT_EQ(num("1G", true, 0, UINT64_MAX), 1u << 30);
	ASSERT_EQ(num("2.5M", true, 0, UINT64_MAX), 5u << 19);
	ASSERT_EQ(num("0.5K", true, 0, UINT64_MAX), 512u);
	ASSERT_EQ(num("1.0000001K", true, 0, UINT64_MAX), 1024u); /* rounded down */
	refused("2.5", true, 0, UINT64_MAX);     /* a fraction of a byte */
	refused("4KiBx", true, 0, UINT64_MAX);
	refused("4T", true, 0, UINT64_MAX);
	refused("4iB", true, 0, UINT64_MAX);
	refused("8K", true, 0, 8191);             /* the range counts bytes */
	refused("17179869184G", true, 0, UINT64_MAX); /* 2^64 bytes: would wrap */
	ASSERT_EQ(num("17179869183G", true, 0, UINT64_MAX), UINT64_C(17179869183) << 30);
}

TEST_MAIN(TEST_ENTRY(plain_numbers), TEST_ENTRY(sizes))
