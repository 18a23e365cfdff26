/*
 * tests/unit/test_irc_casemap.c - case mapping, hashing, masks, names.
 *
 * The mask-match and userhost-split tables transcribe the ircdocs
 * parser-tests vectors (CC0); the rest are ours.  Mask matching is also
 * checked against a dynamic-programming reference on random inputs.
 */
#include <time.h>

#include "test.h"

#include "irc/casemap.h"

static const enum irc_casemap maps[] = {
	IRC_CASEMAP_ASCII, IRC_CASEMAP_RFC1459, IRC_CASEMAP_STRICT_RFC1459,
};

TEST(casemap_names)
{
	ASSERT_EQ(irc_casemap_parse("ascii"), IRC_CASEMAP_ASCII);
	ASSERT_EQ(irc_casemap_parse("rfc1459"), IRC_CASEMAP_RFC1459);
	ASSERT_EQ(irc_casemap_parse("strict-rfc1459"), IRC_CASEMAP_STRICT_RFC1459);
	ASSERT_EQ(irc_casemap_parse("RFC1459"), SK_EINVAL);
	ASSERT_EQ(irc_casemap_parse("rfc7613"), SK_EINVAL);
	ASSERT_EQ(irc_casemap_parse(NULL), SK_EINVAL);
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(irc_casemap_parse(irc_casemap_name(maps[i])), maps[i]);
}

/* The fold of every byte under every map, from the definitions. */
TEST(fold_table)
{
	for (size_t i = 0; i < 3; i++) {
		enum irc_casemap m = maps[i];
		for (int c = 0; c < 256; c++) {
			int want = c;
			if (c >= 'A' && c <= 'Z')
				want = c + 32;
			else if (m != IRC_CASEMAP_ASCII && c == '[')
				want = '{';
			else if (m != IRC_CASEMAP_ASCII && c == ']')
				want = '}';
			else if (m != IRC_CASEMAP_ASCII && c == '\\')
				want = '|';
			else if (m == IRC_CASEMAP_RFC1459 && c == '~')
				want = '^';
			if (irc_fold(m, (unsigned char)c) != want)
				FAIL("%s: fold(0x%02x) = 0x%02x, want 0x%02x",
				     irc_casemap_name(m), c,
				     irc_fold(m, (unsigned char)c), want);
			/* folding is idempotent */
			ASSERT_EQ(irc_fold(m, irc_fold(m, (unsigned char)c)),
				  irc_fold(m, (unsigned char)c));
		}
	}
}

static bool eq(enum irc_casemap m, const char *a, const char *b)
{
	return irc_caseeq(m, a, strlen(a), b, strlen(b));
}

TEST(compare)
{
	ASSERT(eq(IRC_CASEMAP_ASCII, "NiCk", "nick"));
	ASSERT(!eq(IRC_CASEMAP_ASCII, "a[b]", "a{b}"));
	ASSERT(eq(IRC_CASEMAP_RFC1459, "Nick[a]\\", "nick{A}|"));
	ASSERT(eq(IRC_CASEMAP_RFC1459, "x~", "X^"));
	ASSERT(eq(IRC_CASEMAP_STRICT_RFC1459, "Nick[a]\\", "nick{A}|"));
	ASSERT(!eq(IRC_CASEMAP_STRICT_RFC1459, "x~", "x^"));
	ASSERT(!eq(IRC_CASEMAP_RFC1459, "nick", "nick_"));
	ASSERT(!eq(IRC_CASEMAP_RFC1459, "\xc3\x89", "\xc3\xa9")); /* É, é */
	ASSERT(eq(IRC_CASEMAP_RFC1459, "", ""));

	ASSERT(irc_casecmp(IRC_CASEMAP_ASCII, "abc", 3, "ABD", 3) < 0);
	ASSERT(irc_casecmp(IRC_CASEMAP_ASCII, "abd", 3, "ABC", 3) > 0);
	ASSERT(irc_casecmp(IRC_CASEMAP_ASCII, "ab", 2, "ABC", 3) < 0);
	ASSERT(irc_casecmp(IRC_CASEMAP_ASCII, "abc", 3, "AB", 2) > 0);
	ASSERT_EQ(irc_casecmp(IRC_CASEMAP_ASCII, "abc", 3, "ABC", 3), 0);
	/* bytes compare unsigned */
	ASSERT(irc_casecmp(IRC_CASEMAP_ASCII, "\xff", 1, "a", 1) > 0);

	char s[] = "HeLLo[World]~";
	irc_casefold(IRC_CASEMAP_RFC1459, s, strlen(s), s);
	ASSERT_STREQ(s, "hello{world}^");
	char o[8];
	irc_casefold(IRC_CASEMAP_ASCII, "AB[~", 4, o);
	ASSERT_MEMEQ(o, "ab[~", 4);
}

TEST(hash)
{
	/* SipHash-2-4 reference vector: key 00..0f, message 00..0e */
	uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	char msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (char)i;
	ASSERT(irc_hash(IRC_CASEMAP_RFC1459, msg, 15, key) ==
	       0xa129ca6149be45e5ULL);
	ASSERT(irc_hash(IRC_CASEMAP_ASCII, "", 0, key) == 0x726fdb47dd0e0e31ULL);

	/* equal names hash equal, whatever their case */
	const char *pairs[][2] = {
		{"Nick", "nICK"}, {"#Chan[x]", "#chan{X}"}, {"a~b", "A^B"},
		{"A_much_longer_name_over_16", "a_MUCH_longer_NAME_over_16"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const char *a = pairs[i][0], *b = pairs[i][1];
		ASSERT(eq(IRC_CASEMAP_RFC1459, a, b));
		ASSERT(irc_hash(IRC_CASEMAP_RFC1459, a, strlen(a), key) ==
		       irc_hash(IRC_CASEMAP_RFC1459, b, strlen(b), key));
	}
	/* strict: ~ and ^ differ, and so do their hashes (almost surely) */
	ASSERT(irc_hash(IRC_CASEMAP_STRICT_RFC1459, "a~", 2, key) !=
	       irc_hash(IRC_CASEMAP_STRICT_RFC1459, "a^", 2, key));
	/* the key matters */
	uint64_t key2[2] = {1, 2};
	ASSERT(irc_hash(IRC_CASEMAP_RFC1459, "nick", 4, key) !=
	       irc_hash(IRC_CASEMAP_RFC1459, "nick", 4, key2));
	/* length is mixed in: "a" and "a\0" differ */
	ASSERT(irc_hash(IRC_CASEMAP_ASCII, "a\0", 1, key) !=
	       irc_hash(IRC_CASEMAP_ASCII, "a\0", 2, key));
}

/* ---- masks -------------------------------------------------------------- */

struct mask_case {
	const char *mask;
	const char *match[6];
	const char *fail[6];
};

static const struct mask_case masks[] = {
	/* parser-tests mask-match.yaml */
	{"*@127.0.0.1", {"coolguy!ab@127.0.0.1", "cooldud3!~bc@127.0.0.1"},
	 {"coolguy!ab@127.0.0.5", "cooldud3!~d@124.0.0.1"}},
	{"cool*@*", {"coolguy!ab@127.0.0.1", "cooldud3!~bc@127.0.0.1",
		     "cool132!ab@example.com"},
	 {"koolguy!ab@127.0.0.5", "cooodud3!~d@124.0.0.1"}},
	{"cool!*@*", {"cool!guyab@127.0.0.1", "cool!~dudebc@127.0.0.1",
		      "cool!312ab@example.com"},
	 {"coolguy!ab@127.0.0.1", "cooldud3!~bc@127.0.0.1",
	  "koolguy!ab@127.0.0.5", "cooodud3!~d@124.0.0.1"}},
	{"cool!?username@*", {"cool!ausername@127.0.0.1",
			      "cool!~username@127.0.0.1"},
	 {"cool!username@127.0.0.1"}},
	{"cool!a?*@*", {"cool!ab@127.0.0.1", "cool!abc@127.0.0.1"},
	 {"cool!a@127.0.0.1"}},
	{"cool[guy]!*@*", {"cool[guy]!guy@127.0.0.1", "cool[guy]!a@example.com"},
	 {"coolg!ab@127.0.0.1", "cool[!ac@127.0.1.1"}},
	/* ours */
	{"*", {"", "x", "anything at all"}, {0}},
	{"**", {"", "x"}, {0}},
	{"", {""}, {"x"}},
	{"?", {"x", "?", "*"}, {"", "xy"}},
	{"a*b*c", {"abc", "aXbYc", "abbbc", "acbc"}, {"ab", "acb", "abcd"}},
	{"*a", {"a", "ba", "aaa"}, {"", "ab"}},
	{"a*", {"a", "ab"}, {"", "ba"}},
	{"*?*?*", {"ab", "abc"}, {"", "a"}},
	{"NICK!*@*", {"nick!u@h", "NiCk!x@y"}, {"nick2!u@h"}},
	{"{foo}|*", {"[FOO]\\bar", "{foo}|"}, {"(foo)|"}},
	{"a\\*", {"a\\", "a|xyz"}, {"a*x"}},
};

TEST(mask_vectors)
{
	for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
		const struct mask_case *c = &masks[i];
		size_t mn = strlen(c->mask);
		for (size_t j = 0; j < 6 && c->match[j]; j++)
			if (!irc_mask_match(IRC_CASEMAP_RFC1459, c->mask, mn,
					    c->match[j], strlen(c->match[j])))
				FAIL("\"%s\" should match \"%s\"", c->mask,
				     c->match[j]);
		for (size_t j = 0; j < 6 && c->fail[j]; j++)
			if (irc_mask_match(IRC_CASEMAP_RFC1459, c->mask, mn,
					   c->fail[j], strlen(c->fail[j])))
				FAIL("\"%s\" should not match \"%s\"", c->mask,
				     c->fail[j]);
	}
	/* the casemap applies: [ and { are one letter under rfc1459 only */
	ASSERT(irc_mask_match(IRC_CASEMAP_RFC1459, "[a]*", 4, "{A}b", 4));
	ASSERT(!irc_mask_match(IRC_CASEMAP_ASCII, "[a]*", 4, "{A}b", 4));
	ASSERT(irc_mask_match(IRC_CASEMAP_ASCII, "[a]*", 4, "[A]b", 4));
	ASSERT(!irc_mask_match(IRC_CASEMAP_STRICT_RFC1459, "~", 1, "^", 1));
	ASSERT(irc_mask_match(IRC_CASEMAP_RFC1459, "~", 1, "^", 1));
	/* NULs are ordinary bytes; a NULL pointer with no bytes is fine */
	ASSERT(irc_mask_match(IRC_CASEMAP_ASCII, "a?b", 3, "a\0b", 3));
	ASSERT(irc_mask_match(IRC_CASEMAP_ASCII, NULL, 0, NULL, 0));
	ASSERT(irc_mask_is_wild("a*", 2) && irc_mask_is_wild("?", 1));
	ASSERT(!irc_mask_is_wild("abc", 3) && !irc_mask_is_wild(NULL, 0));
}

/* Reference: the textbook O(n*m) dynamic programme over folded bytes. */
static bool ref_match(const char *p, size_t pn, const char *s, size_t sn)
{
	static bool dp[IRC_MASK_MAX + 2][602];
	for (size_t i = 0; i <= pn; i++)
		for (size_t j = 0; j <= sn; j++) {
			bool v;
			if (i == 0)
				v = j == 0;
			else if (p[i - 1] == '*')
				v = dp[i - 1][j] || (j > 0 && dp[i][j - 1]);
			else
				v = j > 0 && dp[i - 1][j - 1] &&
				    (p[i - 1] == '?' ||
				     irc_fold(IRC_CASEMAP_RFC1459,
					      (unsigned char)p[i - 1]) ==
					     irc_fold(IRC_CASEMAP_RFC1459,
						      (unsigned char)s[j - 1]));
			dp[i][j] = v;
		}
	return dp[pn][sn];
}

TEST(mask_random)
{
	static const char pa[] = "ab*?A[{";
	static const char sa[] = "abAB[{";
	unsigned seed = 7;
	char p[IRC_MASK_MAX], s[600];

	for (int t = 0; t < 20000; t++) {
		/* mostly short; sometimes long enough to span bit-set words */
		size_t pn = (size_t)(t % 10 == 0 ? t % (IRC_MASK_MAX + 1)
						 : t % 12);
		size_t sn = (size_t)(t % 7 == 0 ? (t * 31) % 600 : t % 17);
		for (size_t i = 0; i < pn; i++) {
			seed = seed * 1103515245u + 12345u;
			p[i] = pa[(seed >> 16) % 7];
		}
		for (size_t i = 0; i < sn; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = sa[(seed >> 16) % (t % 3 ? 2 : 6)];
		}
		bool got = irc_mask_match(IRC_CASEMAP_RFC1459, p, pn, s, sn);
		bool want = ref_match(p, pn, s, sn);
		if (got != want)
			FAIL("mask \"%.*s\" subject \"%.*s\": got %d want %d",
			     (int)pn, p, (int)sn, s, got, want);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Masks that make backtracking matchers exponential or quadratic. */
TEST(mask_hostile)
{
	static char p[IRC_MASK_MAX + 1], s[200001];
	size_t pn = 0;
	while (pn + 2 <= IRC_MASK_MAX - 1) {
		p[pn++] = '*';
		p[pn++] = 'a';
	}
	p[pn++] = 'b';
	memset(s, 'a', sizeof s - 1);

	double t0 = now_s();
	for (int i = 0; i < 10; i++)
		ASSERT(!irc_mask_match(IRC_CASEMAP_RFC1459, p, pn, s,
				       sizeof s - 1));
	s[sizeof s - 2] = 'b';
	ASSERT(irc_mask_match(IRC_CASEMAP_RFC1459, p, pn, s, sizeof s - 1));
	double dt = now_s() - t0;
	/* 2 million bytes through a 5-word automaton: milliseconds.  A
	 * backtracking matcher would take minutes. */
	if (dt > 5.0)
		FAIL("hostile mask took %.2f s", dt);

	/* over the length limit: never matches, even "*...*" */
	memset(p, '*', sizeof p);
	ASSERT(irc_mask_match(IRC_CASEMAP_RFC1459, p, IRC_MASK_MAX, "x", 1));
	ASSERT(!irc_mask_match(IRC_CASEMAP_RFC1459, p, IRC_MASK_MAX + 1, "x", 1));
}

TEST(mask_normalize)
{
	static const char *v[][2] = {
		{"nick", "nick!*@*"},
		{"*.example.com", "*!*@*.example.com"},
		{"2001:db8::1", "*!*@2001:db8::1"},
		{"user@host", "*!user@host"},
		{"nick!user", "nick!user@*"},
		{"n!u@h", "n!u@h"},
		{"n!@h", "n!*@h"},
		{"!@", "*!*@*"},
		{"", "*!*@*"},
		{"@", "*!*@*"},
		{"a!b!c@d", "a!b!c@d"},
		{"*", "*!*@*"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ssize_t n = irc_mask_normalize(v[i][0], strlen(v[i][0]), out,
					       sizeof out);
		if (n < 0 || strcmp(out, v[i][1]) != 0)
			FAIL("normalize \"%s\": \"%s\", want \"%s\"", v[i][0],
			     out, v[i][1]);
		ASSERT_EQ(n, strlen(v[i][1]));
	}
	ASSERT_EQ(irc_mask_normalize("nick", 4, out, 9), 8);
	ASSERT_EQ(irc_mask_normalize("nick", 4, out, 8), SK_ENOBUFS);
	ASSERT_STREQ(out, "");
	ASSERT_EQ(irc_mask_normalize("nick", 4, out, 0), SK_ENOBUFS);
	ASSERT_EQ(irc_mask_normalize(NULL, 0, out, sizeof out), 5);
}

/* ---- names -------------------------------------------------------------- */

TEST(nicks)
{
	static const char *ok[] = {
		"a", "Nick", "[x]", "{x}", "\\o", "`_^|", "nick-1", "n123",
		"A23456789012345678901234567890", /* 30 */
	};
	static const char *bad[] = {
		"", "1nick", "-nick", "ni ck", "ni,ck", "ni*ck", "ni?ck",
		"ni!ck", "ni@ck", "n/ck", "$nick", ":nick", "#nick", "&nick", "+nick",
		"%nick", "~nick", "ni.ck", "ni\001ck", "ni\xc3\xa9", "ni\tck",
		"A234567890123456789012345678901", /* 31 */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!irc_nick_valid(ok[i], strlen(ok[i]), IRC_NICKLEN_DEFAULT))
			FAIL("nick \"%s\" should be valid", ok[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (irc_nick_valid(bad[i], strlen(bad[i]), IRC_NICKLEN_DEFAULT))
			FAIL("nick \"%s\" should be invalid", bad[i]);
	ASSERT(!irc_nick_valid("nick", 4, 3));
	ASSERT(!irc_nick_valid("ni\0k", 4, 9));
}

TEST(channels)
{
	static const char *ok[] = {
		"#", "#chan", "&local", "#a.b-c_d", "#\xc3\xa9t\xc3\xa9",
		"#with:colon", "#\002bold", "##double",
	};
	static const char *bad[] = {
		"", "chan", "!chan", "+chan", "#a b", "#a,b", "#a\007b",
		"#a\rb", "#a\nb",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!irc_chan_valid(ok[i], strlen(ok[i]), NULL,
				    IRC_CHANNELLEN_DEFAULT))
			FAIL("channel \"%s\" should be valid", ok[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (irc_chan_valid(bad[i], strlen(bad[i]), NULL,
				   IRC_CHANNELLEN_DEFAULT))
			FAIL("channel \"%s\" should be invalid", bad[i]);
	ASSERT(!irc_chan_valid("#a\0b", 4, NULL, 50));
	ASSERT(!irc_chan_valid("#abc", 4, NULL, 3));
	ASSERT(irc_chan_valid("#abc", 4, NULL, 4));
	ASSERT(irc_chan_valid("!abc", 4, "#!", 50));
	ASSERT(!irc_chan_valid("&abc", 4, "#", 50));
	ASSERT(!irc_chan_valid("\0abc", 4, "#", 50));
}

TEST(users)
{
	ASSERT(irc_user_valid("~user", 5, IRC_USERLEN_DEFAULT));
	ASSERT(irc_user_valid("a.b-c_d", 7, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("", 0, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("us er", 5, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("us@er", 5, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("us!er", 5, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid(":user", 5, IRC_USERLEN_DEFAULT));
	ASSERT(irc_user_valid("us:er", 5, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("us\x01r", 4, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("us\xc3\xa9", 4, IRC_USERLEN_DEFAULT));
	ASSERT(!irc_user_valid("abcdefghijk", 11, IRC_USERLEN_DEFAULT));
}

TEST(hostmasks)
{
	char out[32];
	ASSERT_EQ(irc_hostmask(out, sizeof out, "nick", "~u", "host.example"),
		  20);
	ASSERT_STREQ(out, "nick!~u@host.example");
	ASSERT_EQ(irc_hostmask(out, 20, "nick", "~u", "host.example"),
		  SK_ENOBUFS);
	ASSERT_STREQ(out, "");
	ASSERT_EQ(irc_hostmask(out, 21, "nick", "~u", "host.example"), 20);
	ASSERT_EQ(irc_hostmask(out, 0, "n", "u", "h"), SK_ENOBUFS);
}

/* parser-tests userhost-split.yaml */
TEST(source_split)
{
	static const char *v[][4] = {
		{"coolguy", "coolguy", NULL, NULL},
		{"coolguy!ag@127.0.0.1", "coolguy", "ag", "127.0.0.1"},
		{"coolguy!~ag@localhost", "coolguy", "~ag", "localhost"},
		{"coolguy@127.0.0.1", "coolguy", NULL, "127.0.0.1"},
		{"coolguy!ag", "coolguy", "ag", NULL},
		{"coolguy!ag@net\x03" "5w\x03ork.admin", "coolguy", "ag",
		 "net\x03" "5w\x03ork.admin"},
		{"coolguy!~ag@n\x02" "et\x03" "05w\x0f" "ork.admin", "coolguy",
		 "~ag", "n\x02" "et\x03" "05w\x0f" "ork.admin"},
		/* ours */
		{"irc.example.com", "irc.example.com", NULL, NULL},
		{"n!u@h@x", "n", "u", "h@x"},
		{"n@h!x", "n", NULL, "h!x"},
		{"!@", "", "", ""},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct irc_str part[3];
		irc_source_split(irc_str(v[i][0]), &part[0], &part[1], &part[2]);
		for (int k = 0; k < 3; k++) {
			const char *w = v[i][k + 1];
			bool ok = w ? part[k].p && part[k].n == strlen(w) &&
					      memcmp(part[k].p, w, part[k].n) == 0
				    : part[k].p == NULL;
			if (!ok)
				FAIL("split \"%s\" part %d: \"%.*s\", want %s",
				     v[i][0], k, (int)part[k].n,
				     part[k].p ? part[k].p : "(none)",
				     w ? w : "(none)");
		}
	}
	struct irc_str a, b, c;
	irc_source_split(IRC_STR_NONE, &a, &b, &c);
	ASSERT(a.p == NULL && b.p == NULL && c.p == NULL);
}

TEST_MAIN(TEST_ENTRY(casemap_names), TEST_ENTRY(fold_table),
	  TEST_ENTRY(compare), TEST_ENTRY(hash), TEST_ENTRY(mask_vectors),
	  TEST_ENTRY(mask_random), TEST_ENTRY(mask_hostile),
	  TEST_ENTRY(mask_normalize), TEST_ENTRY(nicks), TEST_ENTRY(channels),
	  TEST_ENTRY(users), TEST_ENTRY(hostmasks), TEST_ENTRY(source_split))
