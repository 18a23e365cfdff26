/*
 * tests/unit/test_irc_proto.c - irc_parse, the writers and tag escaping.
 *
 * The split and join tables transcribe a subset of the ircdocs parser-tests
 * vectors (msg-split.yaml, msg-join.yaml; CC0).  Every parse also runs with
 * the line placed right before a PROT_NONE page, so a read past the end
 * crashes (as picohttpparser's test.c does).
 */
#include <sys/mman.h>

#include "test.h"

#include "irc/proto.h"

/* ---- helpers ------------------------------------------------------------ */

static void str_is(struct irc_str s, const char *want, const char *what,
		   const char *line)
{
	if (want == NULL) {
		if (s.p != NULL)
			FAIL("%s of \"%s\": got \"%.*s\", want none", what,
			     line, (int)s.n, s.p);
		return;
	}
	if (s.p == NULL || s.n != strlen(want) || memcmp(s.p, want, s.n) != 0)
		FAIL("%s of \"%s\": got \"%.*s\", want \"%s\"", what, line,
		     (int)s.n, s.p ? s.p : "(none)", want);
}

static size_t map_size(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	return ((n + pg - 1) / pg + 1) * pg;
}

/* Parse s with its last byte just before an unreadable page. */
static int guarded_parse(const char *s, size_t n, unsigned flags,
			 struct irc_msg *m, char **mapped)
{
	size_t size = map_size(n), pg = (size_t)sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT(base != MAP_FAILED);
	ASSERT(mprotect(base + size - pg, pg, PROT_NONE) == 0);
	memcpy(base + size - pg - n, s, n);
	*mapped = base;
	return irc_parse(base + size - pg - n, n, flags, m);
}

static void unmap(char *base, size_t n)
{
	munmap(base, map_size(n));
}

/* ---- msg-split ---------------------------------------------------------- */

struct split_case {
	const char *in;
	const char *tags[16]; /* key, unescaped value, ...; NULL-ended */
	const char *source;
	const char *verb;
	const char *params[16];
};

static const struct split_case splits[] = {
	{"foo bar baz asdf", {0}, NULL, "foo", {"bar", "baz", "asdf"}},
	{":coolguy foo bar baz asdf", {0}, "coolguy", "foo",
	 {"bar", "baz", "asdf"}},
	{"foo bar baz :asdf quux", {0}, NULL, "foo", {"bar", "baz", "asdf quux"}},
	{"foo bar baz :", {0}, NULL, "foo", {"bar", "baz", ""}},
	{"foo bar baz ::asdf", {0}, NULL, "foo", {"bar", "baz", ":asdf"}},
	{":coolguy foo bar baz :asdf quux", {0}, "coolguy", "foo",
	 {"bar", "baz", "asdf quux"}},
	{":coolguy foo bar baz :  asdf quux ", {0}, "coolguy", "foo",
	 {"bar", "baz", "  asdf quux "}},
	{":coolguy PRIVMSG bar :lol :) ", {0}, "coolguy", "PRIVMSG",
	 {"bar", "lol :) "}},
	{":coolguy foo bar baz :", {0}, "coolguy", "foo", {"bar", "baz", ""}},
	{":coolguy foo bar baz :  ", {0}, "coolguy", "foo", {"bar", "baz", "  "}},
	{"@a=b;c=32;k;rt=ql7 foo", {"a", "b", "c", "32", "k", "", "rt", "ql7"},
	 NULL, "foo", {0}},
	{"@a=b\\\\and\\nk;c=72\\s45;d=gh\\:764 foo",
	 {"a", "b\\and\nk", "c", "72 45", "d", "gh;764"}, NULL, "foo", {0}},
	{"@c;h=;a=b :quux ab cd", {"c", "", "h", "", "a", "b"}, "quux", "ab",
	 {"cd"}},
	{":src JOIN #chan", {0}, "src", "JOIN", {"#chan"}},
	{":src JOIN :#chan", {0}, "src", "JOIN", {"#chan"}},
	{":src AWAY", {0}, "src", "AWAY", {0}},
	{":src AWAY ", {0}, "src", "AWAY", {0}},
	{":cool\tguy foo bar baz", {0}, "cool\tguy", "foo", {"bar", "baz"}},
	{":coolguy!ag@net\x03" "5w\x03ork.admin PRIVMSG foo :bar baz", {0},
	 "coolguy!ag@net\x03" "5w\x03ork.admin", "PRIVMSG", {"foo", "bar baz"}},
	{":coolguy!~ag@n\x02" "et\x03" "05w\x0f" "ork.admin PRIVMSG foo :bar baz",
	 {0}, "coolguy!~ag@n\x02" "et\x03" "05w\x0f" "ork.admin", "PRIVMSG",
	 {"foo", "bar baz"}},
	{"@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4= :irc.example.com "
	 "COMMAND param1 param2 :param3 param3",
	 {"tag1", "value1", "tag2", "", "vendor1/tag3", "value2", "vendor2/tag4",
	  ""},
	 "irc.example.com", "COMMAND", {"param1", "param2", "param3 param3"}},
	{":irc.example.com COMMAND param1 param2 :param3 param3", {0},
	 "irc.example.com", "COMMAND", {"param1", "param2", "param3 param3"}},
	{"@tag1=value1;tag2;vendor1/tag3=value2;vendor2/tag4 COMMAND param1 "
	 "param2 :param3 param3",
	 {"tag1", "value1", "tag2", "", "vendor1/tag3", "value2", "vendor2/tag4",
	  ""},
	 NULL, "COMMAND", {"param1", "param2", "param3 param3"}},
	{"COMMAND", {0}, NULL, "COMMAND", {0}},
	{"@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND", {"foo", "\\\\;\\s \r\n"}, NULL,
	 "COMMAND", {0}},
	{":gravel.mozilla.org 432  #momo :Erroneous Nickname: Illegal characters",
	 {0}, "gravel.mozilla.org", "432",
	 {"#momo", "Erroneous Nickname: Illegal characters"}},
	{":gravel.mozilla.org MODE #tckk +n ", {0}, "gravel.mozilla.org", "MODE",
	 {"#tckk", "+n"}},
	{":services.esper.net MODE #foo-bar +o foobar  ", {0},
	 "services.esper.net", "MODE", {"#foo-bar", "+o", "foobar"}},
	{"@tag1=value\\\\ntest COMMAND", {"tag1", "value\\ntest"}, NULL,
	 "COMMAND", {0}},
	{"@tag1=value\\1 COMMAND", {"tag1", "value1"}, NULL, "COMMAND", {0}},
	{"@tag1=value1\\ COMMAND", {"tag1", "value1"}, NULL, "COMMAND", {0}},
	{"@tag1=1;tag2=3;tag3=4;tag1=5 COMMAND",
	 {"tag1", "5", "tag2", "3", "tag3", "4"}, NULL, "COMMAND", {0}},
	{"@tag1=1;tag2=3;tag3=4;tag1=5;vendor/tag2=8 COMMAND",
	 {"tag1", "5", "tag2", "3", "tag3", "4", "vendor/tag2", "8"}, NULL,
	 "COMMAND", {0}},
	{":SomeOp MODE #channel :+i", {0}, "SomeOp", "MODE", {"#channel", "+i"}},
	{":SomeOp MODE #channel +oo SomeUser :AnotherUser", {0}, "SomeOp", "MODE",
	 {"#channel", "+oo", "SomeUser", "AnotherUser"}},
	/* ours: leading spaces, space runs after tags and source */
	{"   PING x", {0}, NULL, "PING", {"x"}},
	{"@a=1   :s    PING   x", {"a", "1"}, "s", "PING", {"x"}},
	{"@a;;b=2; PING", {"a", "", "b", "2"}, NULL, "PING", {0}},
	{"@=x;+c/d=e PING", {"+c/d", "e"}, NULL, "PING", {0}},
	{"privmsg #a :\xff\xfe bad utf8", {0}, NULL, "privmsg",
	 {"#a", "\xff\xfe bad utf8"}},
};

static void check_split(const struct split_case *c)
{
	struct irc_msg m;
	char *map;
	size_t n = strlen(c->in), np = 0, nt = 0;
	int r = guarded_parse(c->in, n, 0, &m, &map);

	if (r != 0)
		FAIL("\"%s\": %s", c->in, irc_strerror(r));
	str_is(m.source, c->source, "source", c->in);
	str_is(m.command, c->verb, "verb", c->in);
	while (c->params[np])
		np++;
	if (m.nparams != np)
		FAIL("\"%s\": %zu params, want %zu", c->in, m.nparams, np);
	for (size_t i = 0; i < np; i++)
		str_is(m.params[i], c->params[i], "param", c->in);
	/* tags compare as a dict: the last occurrence of a key wins */
	for (nt = 0; c->tags[nt]; nt += 2) {
		const struct irc_tag *t = irc_msg_tag(&m, c->tags[nt]);
		char v[256];
		if (t == NULL)
			FAIL("\"%s\": no tag %s", c->in, c->tags[nt]);
		ssize_t vn = irc_tag_unescape(t->value, v, sizeof v);
		ASSERT(vn >= 0);
		if ((size_t)vn != strlen(c->tags[nt + 1]) ||
		    memcmp(v, c->tags[nt + 1], (size_t)vn) != 0)
			FAIL("\"%s\": tag %s = \"%.*s\", want \"%s\"", c->in,
			     c->tags[nt], (int)vn, v, c->tags[nt + 1]);
	}
	for (size_t i = 0; i < m.ntags; i++) {
		bool known = false;
		for (size_t j = 0; c->tags[j]; j += 2)
			known |= irc_str_eq(m.tags[i].key, c->tags[j]);
		if (!known)
			FAIL("\"%s\": unexpected tag %.*s", c->in,
			     (int)m.tags[i].key.n, m.tags[i].key.p);
	}
	if (nt == 0 && c->in[0] != '@')
		ASSERT(m.tags_raw.p == NULL && m.ntags == 0);
	unmap(map, n);
}

TEST(split_vectors)
{
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++)
		check_split(&splits[i]);
}

TEST(split_details)
{
	struct irc_msg m;
	const char *l = "@k=v;flag;e= :src CMD a :b c";
	ASSERT_OK(irc_parse(l, strlen(l), 0, &m));
	str_is(m.tags_raw, "k=v;flag;e=", "raw tags", l);
	ASSERT_EQ(m.ntags, 3);
	ASSERT(m.tags[0].has_value && !m.tags[1].has_value && m.tags[2].has_value);
	ASSERT_EQ(m.tags[2].value.n, 0);
	ASSERT(m.trailing);
	/* slices point into the input */
	ASSERT(m.command.p == l + 18);
	ASSERT(irc_msg_tag(&m, "missing") == NULL);

	/* trailing is only set by a ':' */
	ASSERT_OK(irc_parse("CMD a b", 7, 0, &m));
	ASSERT(!m.trailing);
	ASSERT_OK(irc_parse("CMD a :b", 8, 0, &m));
	ASSERT(m.trailing);
	ASSERT_OK(irc_parse("CMD", 3, 0, &m));
	ASSERT(!m.trailing && m.nparams == 0);

	/* the line is not NUL-terminated: bytes after n are not read */
	ASSERT_OK(irc_parse("PING a b c", 6, 0, &m));
	ASSERT_EQ(m.nparams, 1);
	str_is(m.params[0], "a", "param", "PING a");
}

/* RFC 2812: after 14 middles, the 15th param takes the rest. */
TEST(fifteen_params)
{
	struct irc_msg m;
	const char *l = "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16  17";
	ASSERT_OK(irc_parse(l, strlen(l), 0, &m));
	ASSERT_EQ(m.nparams, 15);
	str_is(m.params[13], "14", "param 14", l);
	str_is(m.params[14], "15 16  17", "param 15", l);
	ASSERT(!m.trailing);

	l = "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16";
	ASSERT_OK(irc_parse(l, strlen(l), 0, &m));
	ASSERT_EQ(m.nparams, 15);
	str_is(m.params[14], "15 16", "param 15", l);
	ASSERT(m.trailing);

	l = "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
	ASSERT_OK(irc_parse(l, strlen(l), 0, &m));
	ASSERT_EQ(m.nparams, 15);
	str_is(m.params[14], "15", "param 15", l);

	l = "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14   ";
	ASSERT_OK(irc_parse(l, strlen(l), 0, &m));
	ASSERT_EQ(m.nparams, 14);
}

/* ---- errors and limits -------------------------------------------------- */

struct err_case {
	const char *in;
	size_t n; /* 0: strlen */
	int rc;
};

static const struct err_case errs[] = {
	{"", 0, IRC_EEMPTY},
	{"     ", 0, IRC_EEMPTY},
	{"PRIVMSG #a :x\ry", 0, IRC_EBADCHAR},
	{"PRIVMSG #a :x\ny", 0, IRC_EBADCHAR},
	{"PRIVMSG #a :x\0y", 15, IRC_EBADCHAR},
	{"\0", 1, IRC_EBADCHAR},
	{"@a=b", 0, IRC_ENOCOMMAND},
	{"@a=b ", 0, IRC_ENOCOMMAND},
	{"@a=b    ", 0, IRC_ENOCOMMAND},
	{":src", 0, IRC_ENOCOMMAND},
	{":src   ", 0, IRC_ENOCOMMAND},
	{"@a :src", 0, IRC_ENOCOMMAND},
	{": PING", 0, IRC_EBADSOURCE},
	{":", 0, IRC_EBADSOURCE},
	{"PRIV_MSG a", 0, IRC_EBADCOMMAND},
	{"1234 a", 0, IRC_EBADCOMMAND},
	{"12 a", 0, IRC_EBADCOMMAND},
	{"PRIVMSG1 a", 0, IRC_EBADCOMMAND},
	{":a :b", 0, IRC_EBADCOMMAND},
	{":a @b", 0, IRC_EBADCOMMAND},
	{"\x01PING", 0, IRC_EBADCOMMAND},
	{"P\xc3\xa9NG", 0, IRC_EBADCOMMAND},
};

TEST(parse_errors)
{
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		const struct err_case *c = &errs[i];
		size_t n = c->n ? c->n : strlen(c->in);
		struct irc_msg m;
		char *map;
		int r = guarded_parse(c->in, n, 0, &m, &map);
		if (r != c->rc)
			FAIL("case %zu \"%s\": got %d (%s), want %d (%s)", i,
			     c->in, r, irc_strerror(r), c->rc,
			     irc_strerror(c->rc));
		unmap(map, n);
	}
	/* IRC_EBADCOMMAND leaves the token for ERR_UNKNOWNCOMMAND */
	struct irc_msg m;
	ASSERT_EQ(irc_parse(":s FOO_BAR x", 12, 0, &m), IRC_EBADCOMMAND);
	str_is(m.command, "FOO_BAR", "command", "FOO_BAR");
}

/* Build "@" + tag data of exactly `data` bytes + " " + body of `body`
 * bytes into a static buffer. */
static const char *make_line(size_t data, size_t body, size_t *n)
{
	static char buf[IRC_TAGS_MAX + IRC_BODY_MAX + 64];
	size_t o = 0;
	if (data) {
		buf[o++] = '@';
		buf[o++] = 'k';
		buf[o++] = '=';
		memset(buf + o, 'v', data - 2);
		o += data - 2;
		buf[o++] = ' ';
	}
	memcpy(buf + o, "PRIVMSG #c :", 12);
	memset(buf + o + 12, 'x', body - 12);
	o += body;
	*n = o;
	return buf;
}

TEST(parse_limits)
{
	struct irc_msg m;
	size_t n;
	const char *l;
	char *map;

	/* body: 510 bytes fit, 511 do not */
	l = make_line(0, IRC_BODY_MAX, &n);
	ASSERT_OK(guarded_parse(l, n, 0, &m, &map));
	unmap(map, n);
	ASSERT_EQ(m.params[1].n, IRC_BODY_MAX - 12);
	l = make_line(0, IRC_BODY_MAX + 1, &n);
	ASSERT_EQ(irc_parse(l, n, 0, &m), IRC_EINPUTTOOLONG);
	/* the tag section does not count against the body */
	l = make_line(1000, IRC_BODY_MAX, &n);
	ASSERT_OK(irc_parse(l, n, 0, &m));
	l = make_line(1000, IRC_BODY_MAX + 1, &n);
	ASSERT_EQ(irc_parse(l, n, 0, &m), IRC_EINPUTTOOLONG);

	/* tag data: 8189 (8191 with '@' and ' ') fit, 8190 do not */
	l = make_line(IRC_TAGDATA_MAX, 20, &n);
	ASSERT_OK(guarded_parse(l, n, 0, &m, &map));
	unmap(map, n);
	ASSERT_EQ(m.tags_raw.n, IRC_TAGDATA_MAX);
	ASSERT_EQ(n, IRC_TAGS_MAX + 20);
	l = make_line(IRC_TAGDATA_MAX + 1, 20, &n);
	ASSERT_EQ(irc_parse(l, n, 0, &m), IRC_ETAGSTOOLONG);
	/* too long even without a command after it: length wins */
	ASSERT_EQ(irc_parse(l, IRC_TAGDATA_MAX + 2, 0, &m), IRC_ETAGSTOOLONG);

	/* from a client: 4094 */
	l = make_line(IRC_CLIENT_TAGDATA_MAX, 20, &n);
	ASSERT_OK(irc_parse(l, n, IRC_PARSE_CLIENT, &m));
	l = make_line(IRC_CLIENT_TAGDATA_MAX + 1, 20, &n);
	ASSERT_EQ(irc_parse(l, n, IRC_PARSE_CLIENT, &m), IRC_ETAGSTOOLONG);
	ASSERT_OK(irc_parse(l, n, 0, &m));

	/* the framing limits agree with the parser's */
	l = make_line(IRC_TAGDATA_MAX, IRC_BODY_MAX, &n);
	ASSERT_EQ(n, IRC_FRAME_MAX);
	ASSERT_OK(irc_parse(l, n, 0, &m));
	l = make_line(IRC_CLIENT_TAGDATA_MAX, IRC_BODY_MAX, &n);
	ASSERT_EQ(n, IRC_CLIENT_FRAME_MAX);
	ASSERT_OK(irc_parse(l, n, IRC_PARSE_CLIENT, &m));
}

TEST(tag_count)
{
	char line[IRC_MAX_TAGS * 4 + 32];
	struct irc_msg m;
	size_t o = 0;

	line[o++] = '@';
	for (int i = 0; i < IRC_MAX_TAGS; i++)
		o += (size_t)snprintf(line + o, sizeof line - o, "%s%c%c",
				      i ? ";" : "", 'a' + i / 26, 'a' + i % 26);
	memcpy(line + o, " PING", 5);
	ASSERT_OK(irc_parse(line, o + 5, 0, &m));
	ASSERT_EQ(m.ntags, IRC_MAX_TAGS);
	memcpy(line + o, ";zz PING", 8);
	ASSERT_EQ(irc_parse(line, o + 8, 0, &m), IRC_ETOOMANYTAGS);
}

TEST(commands)
{
	struct irc_str c = {"privMsg xyz", 7};
	char up[16];
	ASSERT(irc_cmd_is(c, "PRIVMSG"));
	ASSERT(irc_cmd_is(c, "privmsg"));
	ASSERT(!irc_cmd_is(c, "PRIVMSGX"));
	ASSERT(!irc_cmd_is(c, "PRIVMS"));
	ASSERT(!irc_cmd_is(IRC_STR_NONE, ""));
	ASSERT_EQ(irc_cmd_upper(c, up, sizeof up), 7);
	ASSERT_STREQ(up, "PRIVMSG");
	ASSERT_EQ(irc_cmd_upper(c, up, 7), SK_ENOBUFS);
	ASSERT_EQ(irc_cmd_upper(c, up, 8), 7);
	ASSERT_EQ(irc_cmd_numeric(irc_str("001")), 1);
	ASSERT_EQ(irc_cmd_numeric(irc_str("999")), 999);
	ASSERT_EQ(irc_cmd_numeric(irc_str("01")), -1);
	ASSERT_EQ(irc_cmd_numeric(irc_str("0a1")), -1);
	ASSERT_EQ(irc_cmd_numeric(c), -1);
	ASSERT(irc_cmd_valid(irc_str("a")));
	ASSERT(!irc_cmd_valid(irc_str("")));
	ASSERT(!irc_cmd_valid(irc_str("A1")));
	ASSERT(strcmp(irc_strerror(IRC_EINPUTTOOLONG), "input line was too long") == 0);
	ASSERT(strcmp(irc_strerror(SK_ENOBUFS), sk_strerror(SK_ENOBUFS)) == 0);

	char out[4];
	ASSERT_EQ(irc_str_copy(irc_str("abc"), out, 4), 3);
	ASSERT_STREQ(out, "abc");
	ASSERT_EQ(irc_str_copy(irc_str("abcd"), out, 4), SK_ENOBUFS);
	ASSERT_STREQ(out, "");
}

/* ---- tag escaping ------------------------------------------------------- */

TEST(tag_escaping)
{
	static const struct {
		const char *raw, *esc;
	} v[] = {
		{"", ""},
		{"plain", "plain"},
		{"a;b", "a\\:b"},
		{"a b", "a\\sb"},
		{"a\\b", "a\\\\b"},
		{"\r\n", "\\r\\n"},
		{"; \\\r\n", "\\:\\s\\\\\\r\\n"},
		{"\xe2\x82\xac \xff", "\xe2\x82\xac\\s\xff"},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ssize_t n = irc_tag_escape(v[i].raw, strlen(v[i].raw), buf,
					   sizeof buf);
		ASSERT_EQ(n, strlen(v[i].esc));
		ASSERT_MEMEQ(buf, v[i].esc, (size_t)n);
		n = irc_tag_unescape(irc_str(v[i].esc), buf, sizeof buf);
		ASSERT_EQ(n, strlen(v[i].raw));
		ASSERT_MEMEQ(buf, v[i].raw, (size_t)n);
	}
	/* lenient unescaping, as the spec asks */
	ASSERT_EQ(irc_tag_unescape(irc_str("a\\b"), buf, sizeof buf), 2);
	ASSERT_MEMEQ(buf, "ab", 2);
	ASSERT_EQ(irc_tag_unescape(irc_str("ab\\"), buf, sizeof buf), 2);
	ASSERT_EQ(irc_tag_unescape(irc_str("\\"), buf, sizeof buf), 0);
	/* NUL cannot be carried: dropped */
	ASSERT_EQ(irc_tag_escape("a\0b", 3, buf, sizeof buf), 2);
	ASSERT_MEMEQ(buf, "ab", 2);
	/* sizes */
	ASSERT_EQ(irc_tag_escape("a;", 2, buf, 2), SK_ENOBUFS);
	ASSERT_EQ(irc_tag_escape("a;", 2, buf, 3), 3);
	ASSERT_EQ(irc_tag_unescape(irc_str("abc"), buf, 2), SK_ENOBUFS);
	/* in place */
	char ip[] = "x\\sy\\:z";
	ASSERT_EQ(irc_tag_unescape(irc_str(ip), ip, sizeof ip), 5);
	ASSERT_MEMEQ(ip, "x y;z", 5);

	/* every byte string round-trips (NUL aside) */
	unsigned seed = 12345;
	for (int t = 0; t < 2000; t++) {
		char raw[24], esc[48], back[24];
		size_t n = (size_t)(t % 24);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			raw[i] = (char)("ab;\\ \r\n\x01\xc3\xff:s"[(seed >> 16) % 12]);
		}
		ssize_t e = irc_tag_escape(raw, n, esc, sizeof esc);
		ASSERT(e >= 0);
		ASSERT(memchr(esc, ' ', (size_t)e) == NULL);
		ASSERT(memchr(esc, ';', (size_t)e) == NULL);
		ASSERT(memchr(esc, '\r', (size_t)e) == NULL);
		ssize_t b = irc_tag_unescape((struct irc_str){esc, (size_t)e},
					     back, sizeof back);
		ASSERT_EQ(b, n);
		ASSERT_MEMEQ(back, raw, n);
	}
}

TEST(tags_build)
{
	struct sk_buf t = SK_BUF_INIT(64);
	ASSERT_OK(irc_tags_add(&t, "time", "2024-01-01T00:00:00.000Z", 24));
	ASSERT_OK(irc_tags_add(&t, "+draft/reply", "a b;c", 5));
	ASSERT_OK(irc_tags_add(&t, "bare", NULL, 0));
	ASSERT_OK(irc_tags_add(&t, "empty", "", 0));
	const char *want = "time=2024-01-01T00:00:00.000Z;+draft/reply=a\\sb\\:c;"
			   "bare;empty";
	ASSERT_EQ(sk_buf_len(&t), strlen(want));
	ASSERT_MEMEQ(sk_buf_data(&t), want, strlen(want));
	ASSERT_EQ(irc_tags_add(&t, "", "x", 1), SK_EINVAL);
	ASSERT_EQ(irc_tags_add(&t, "a=b", "x", 1), SK_EINVAL);
	ASSERT_EQ(irc_tags_add(&t, "a b", "x", 1), SK_EINVAL);
	ASSERT_EQ(irc_tags_add(&t, NULL, "x", 1), SK_EINVAL);
	/* over max: nothing added */
	size_t before = sk_buf_len(&t);
	ASSERT_EQ(irc_tags_add(&t, "k", "0123456789", 10), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&t), before);
	sk_buf_free(&t);

	/* relaying client-only tags: '+' keys only, last duplicate wins */
	struct irc_msg m;
	const char *l = "@+a=1;b=2;+c;+a=3;+=x;+d=x\\sy PRIVMSG #c :hi";
	ASSERT_OK(irc_parse(l, strlen(l), IRC_PARSE_CLIENT, &m));
	struct sk_buf c = SK_BUF_INIT(4096);
	ASSERT_OK(irc_tags_add(&c, "msgid", "42", 2));
	ASSERT_OK(irc_tags_add_client(&c, &m));
	want = "msgid=42;+c;+a=3;+d=x\\sy"; /* a bare "+" is no tag */
	ASSERT_EQ(sk_buf_len(&c), strlen(want));
	ASSERT_MEMEQ(sk_buf_data(&c), want, strlen(want));
	sk_buf_free(&c);
}

/* ---- writing ------------------------------------------------------------ */

static void expect_out(struct sk_buf *b, const char *want)
{
	size_t n = strlen(want);
	if (sk_buf_len(b) != n || memcmp(sk_buf_data(b), want, n) != 0)
		FAIL("wrote \"%.*s\", want \"%s\"", (int)sk_buf_len(b),
		     (const char *)sk_buf_data(b), want);
	sk_buf_clear(b);
}

/* msg-join: atoms -> one of the accepted lines (ours is the first). */
TEST(join_vectors)
{
	struct sk_buf b = SK_BUF_INIT(65536);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "foo", "bar", "baz", "asdf", NULL),
		  18);
	expect_out(&b, "foo bar baz asdf\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "src", "AWAY", NULL));
	expect_out(&b, ":src AWAY\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "src", "AWAY", "", NULL));
	expect_out(&b, ":src AWAY :\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "coolguy", "foo", "bar", "baz", "asdf",
			     NULL));
	expect_out(&b, ":coolguy foo bar baz asdf\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, NULL, "foo", "bar", "baz", "asdf quux",
			     NULL));
	expect_out(&b, "foo bar baz :asdf quux\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, NULL, "foo", "bar", "baz", "", NULL));
	expect_out(&b, "foo bar baz :\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, NULL, "foo", "bar", "baz", ":asdf",
			     NULL));
	expect_out(&b, "foo bar baz ::asdf\r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "coolguy", "foo", "bar", "baz",
			     "  asdf quux ", NULL));
	expect_out(&b, ":coolguy foo bar baz :  asdf quux \r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "coolguy", "PRIVMSG", "bar", "lol :) ",
			     NULL));
	expect_out(&b, ":coolguy PRIVMSG bar :lol :) \r\n");
	ASSERT_OK(irc_writel(&b, 0, NULL, "coolguy", "foo", "b\tar", "baz",
			     NULL));
	expect_out(&b, ":coolguy foo b\tar baz\r\n");

	/* with tags, built and escaped by irc_tags_add */
	struct sk_buf t = SK_BUF_INIT(IRC_TAGDATA_MAX);
	ASSERT_OK(irc_tags_add(&t, "asd", "", 0));
	ASSERT_OK(irc_write(&b, 0, sk_buf_len(&t) ? (struct irc_str){
		(const char *)sk_buf_data(&t), sk_buf_len(&t)} : IRC_STR_NONE,
		irc_str("coolguy"), irc_str("foo"),
		(struct irc_str[]){irc_str("bar"), irc_str("baz"), irc_str("  ")},
		3));
	expect_out(&b, "@asd :coolguy foo bar baz :  \r\n");
	sk_buf_clear(&t);
	ASSERT_OK(irc_tags_add(&t, "a", "b\\and\nk", 8));
	ASSERT_OK(irc_tags_add(&t, "d", "gh;764", 6));
	struct irc_str ts = {(const char *)sk_buf_data(&t), sk_buf_len(&t)};
	ASSERT_OK(irc_write(&b, 0, ts, IRC_STR_NONE, irc_str("foo"),
			    (struct irc_str[]){irc_str("par1"), irc_str("par2")},
			    2));
	expect_out(&b, "@a=b\\\\and\\nk;d=gh\\:764 foo par1 par2\r\n");
	sk_buf_clear(&t);
	ASSERT_OK(irc_tags_add(&t, "foo", "\\\\;\\s \r\n", 8));
	ts = (struct irc_str){(const char *)sk_buf_data(&t), sk_buf_len(&t)};
	ASSERT_OK(irc_write(&b, 0, ts, IRC_STR_NONE, irc_str("COMMAND"), NULL, 0));
	expect_out(&b, "@foo=\\\\\\\\\\:\\\\s\\s\\r\\n COMMAND\r\n");
	sk_buf_free(&t);
	sk_buf_free(&b);
}

TEST(write_flags_and_errors)
{
	struct sk_buf b = SK_BUF_INIT(65536);
	ASSERT_OK(irc_writel(&b, IRC_W_TRAILING, NULL, "n!u@h", "PRIVMSG", "#c",
			     "hi", NULL));
	expect_out(&b, ":n!u@h PRIVMSG #c :hi\r\n");
	ASSERT_OK(irc_writel(&b, IRC_W_TRAILING, "", "", "PING", NULL));
	expect_out(&b, "PING\r\n");

	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", "a b", "c", NULL),
		  IRC_EBADPARAM);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", ":a", "c", NULL),
		  IRC_EBADPARAM);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", "", "c", NULL),
		  IRC_EBADPARAM);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", "a", "x\r\nQUIT", NULL),
		  IRC_EBADCHAR);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", "a\n", "x", NULL),
		  IRC_EBADCHAR);
	ASSERT_EQ(irc_writel(&b, 0, "a\rb", NULL, "CMD", NULL), IRC_EBADCHAR);
	ASSERT_EQ(irc_writel(&b, 0, NULL, "s\r", "CMD", NULL), IRC_EBADCHAR);
	ASSERT_EQ(irc_writel(&b, 0, NULL, "s s", "CMD", NULL), SK_EINVAL);
	ASSERT_EQ(irc_writel(&b, 0, "a b", NULL, "CMD", NULL), SK_EINVAL);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "", NULL), SK_EINVAL);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, ":CMD", NULL), SK_EINVAL);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "C D", NULL), SK_EINVAL);
	ASSERT_EQ(irc_writel(&b, 0, NULL, NULL, "CMD", "1", "2", "3", "4", "5",
			     "6", "7", "8", "9", "10", "11", "12", "13", "14",
			     "15", "16", NULL),
		  IRC_EBADPARAM);
	ASSERT_EQ(sk_buf_len(&b), 0); /* nothing was written by failures */
	ASSERT_OK(irc_writel(&b, 0, NULL, NULL, "CMD", "1", "2", "3", "4", "5",
			     "6", "7", "8", "9", "10", "11", "12", "13", "14",
			     "15 16", NULL));
	expect_out(&b, "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16\r\n");

	/* a full send queue: SK_ENOBUFS and nothing half-written */
	struct sk_buf small = SK_BUF_INIT(20);
	ASSERT_EQ(irc_writel(&small, 0, NULL, NULL, "PING", "12345678", NULL), 15);
	ASSERT_EQ(irc_writel(&small, 0, NULL, NULL, "PING", "x", NULL), SK_ENOBUFS);
	ASSERT_EQ(sk_buf_len(&small), 15);
	sk_buf_free(&small);
	sk_buf_free(&b);
}

TEST(write_length)
{
	struct sk_buf b = SK_BUF_INIT(65536);
	char text[600];
	struct irc_msg m;

	/* ":n PRIVMSG #c :" is 15 bytes; 495 bytes of text fill 510 */
	memset(text, 'x', sizeof text);
	text[495] = '\0';
	ASSERT_EQ(irc_writel(&b, IRC_W_TRAILING, NULL, "n", "PRIVMSG", "#c", text,
			     NULL),
		  512);
	ASSERT_OK(irc_parse((const char *)sk_buf_data(&b), 510, 0, &m));
	sk_buf_clear(&b);
	text[495] = 'x';
	text[496] = '\0';
	ASSERT_EQ(irc_writel(&b, IRC_W_TRAILING, NULL, "n", "PRIVMSG", "#c", text,
			     NULL),
		  SK_EMSGSIZE);
	/* without the ':' the same text just fits */
	ASSERT_EQ(irc_writel(&b, 0, NULL, "n", "PRIVMSG", "#c", text, NULL), 512);
	sk_buf_clear(&b);
	ASSERT_EQ(irc_writel(&b, IRC_W_TRUNCATE | IRC_W_TRAILING, NULL, "n",
			     "PRIVMSG", "#c", text, NULL),
		  512);
	ASSERT_OK(irc_parse((const char *)sk_buf_data(&b), 510, 0, &m));
	ASSERT_EQ(m.params[1].n, 495);
	sk_buf_clear(&b);

	/* the cut never splits a UTF-8 character: "€" is 3 bytes, placed to
	 * straddle the limit at every offset */
	for (size_t shift = 0; shift < 4; shift++) {
		memset(text, 'x', sizeof text);
		memcpy(text + 493 + shift, "\xe2\x82\xac", 3);
		text[560] = '\0';
		int r = irc_writel(&b, IRC_W_TRUNCATE, NULL, "n", "PRIVMSG", "#c",
				   text, NULL);
		ASSERT(r > 0 && r <= IRC_LINE_MAX);
		ASSERT_OK(irc_parse((const char *)sk_buf_data(&b),
				    sk_buf_len(&b) - 2, 0, &m));
		size_t keep = m.params[1].n;
		ASSERT(keep >= 492 && keep <= 495);
		/* the kept text ends with a whole character */
		ASSERT(keep <= 493 + shift || keep >= 496 + shift);
		sk_buf_clear(&b);
	}
	/* a cut text that has no spaces still gets its ':' */
	ASSERT_OK(irc_writel(&b, IRC_W_TRUNCATE, NULL, "n", "PRIVMSG", "#c", text,
			     NULL));
	ASSERT_MEMEQ(sk_buf_data(&b), ":n PRIVMSG #c :x", 16);
	sk_buf_clear(&b);
	/* no room even for an empty last param */
	memset(text, 'y', 520);
	text[520] = '\0';
	ASSERT_EQ(irc_writel(&b, IRC_W_TRUNCATE, NULL, text, "PRIVMSG", "#c",
			     "hi", NULL),
		  SK_EMSGSIZE);
	ASSERT_EQ(irc_writel(&b, IRC_W_TRUNCATE, NULL, NULL, text, NULL),
		  SK_EMSGSIZE);

	/* tag data has its own limit */
	static char tags[IRC_TAGDATA_MAX + 2];
	memset(tags, 't', IRC_TAGDATA_MAX);
	tags[IRC_TAGDATA_MAX] = '\0';
	ASSERT_EQ(irc_writel(&b, 0, tags, NULL, "PING", NULL),
		  IRC_TAGDATA_MAX + 2 + 6);
	sk_buf_clear(&b);
	tags[IRC_TAGDATA_MAX] = 't';
	ASSERT_EQ(irc_writel(&b, 0, tags, NULL, "PING", NULL), SK_EMSGSIZE);

	ASSERT_EQ(irc_utf8_cut("abc", 3, 5), 3);
	ASSERT_EQ(irc_utf8_cut("abc", 3, 2), 2);
	ASSERT_EQ(irc_utf8_cut("a\xc3\xa9", 3, 2), 1);
	ASSERT_EQ(irc_utf8_cut("a\xf0\x9f\x98\x80z", 6, 4), 1);
	ASSERT_EQ(irc_utf8_cut("a\xf0\x9f\x98\x80z", 6, 5), 5);
	/* invalid: a run of continuation bytes is cut bytewise */
	ASSERT_EQ(irc_utf8_cut("a\x80\x80\x80\x80\x80", 6, 5), 5);
	sk_buf_free(&b);
}

TEST(numerics)
{
	struct sk_buf b = SK_BUF_INIT(4096);
	ASSERT_OK(irc_fmt_numeric(&b, "irc.example", 1, "nick",
				  ":Welcome to the network, %s", "nick!u@h"));
	expect_out(&b, ":irc.example 001 nick :Welcome to the network, nick!u@h\r\n");
	ASSERT_OK(irc_fmt_numeric(&b, "irc.example", 451, NULL,
				  ":You have not registered"));
	expect_out(&b, ":irc.example 451 * :You have not registered\r\n");
	ASSERT_OK(irc_fmt_numeric(&b, "srv", 421, "", "%s :Unknown command",
				  "FOO"));
	expect_out(&b, ":srv 421 * FOO :Unknown command\r\n");
	ASSERT_OK(irc_fmt_numeric(&b, "srv", 376, "n", "%s", ""));
	expect_out(&b, ":srv 376 n\r\n");

	/* long text is cut to the line limit */
	char big[700];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ASSERT_EQ(irc_fmt_numeric(&b, "srv", 372, "n", ":- %s", big), 512);
	struct irc_msg m;
	ASSERT_OK(irc_parse((const char *)sk_buf_data(&b), 510, 0, &m));
	ASSERT_EQ(irc_cmd_numeric(m.command), 372);
	sk_buf_clear(&b);

	/* line breaks and NULs are refused, never sent */
	ASSERT_EQ(irc_fmt_numeric(&b, "srv", 401, "n", "%s :No such nick",
				  "a\r\nQUIT"),
		  IRC_EBADCHAR);
	ASSERT_EQ(irc_fmt_numeric(&b, "srv", 401, "n", "%c", 0), IRC_EBADCHAR);
	ASSERT_EQ(irc_fmt_numeric(&b, "srv", 401, "a b", "x"), SK_EINVAL);
	ASSERT_EQ(irc_fmt_numeric(&b, "srv", 1000, "n", "x"), SK_EINVAL);
	ASSERT_EQ(sk_buf_len(&b), 0);

	ASSERT_OK(irc_fmtline(&b, "label=x", "srv", "NOTICE %s :%s", "n", "hi"));
	expect_out(&b, "@label=x :srv NOTICE n :hi\r\n");
	ASSERT_OK(irc_fmtline(&b, NULL, NULL, "PING :%d", 7));
	expect_out(&b, "PING :7\r\n");
	/* "PING :" + 503 bytes, then a 3-byte character across the limit */
	memset(big, 'z', 503);
	memcpy(big + 503, "\xe2\x82\xac!", 5);
	ASSERT_EQ(irc_fmtline(&b, NULL, NULL, "PING :%s", big), 509 + 2);
	ASSERT_EQ(sk_buf_data(&b)[508], 'z');
	sk_buf_clear(&b);
	ASSERT_EQ(irc_fmtline(&b, NULL, NULL, ":x PING"), SK_EINVAL);
	ASSERT_EQ(irc_fmtline(&b, NULL, NULL, " PING"), SK_EINVAL);
	ASSERT_EQ(irc_fmtline(&b, NULL, NULL, "%s", ""), SK_EINVAL);
	sk_buf_free(&b);
}

static bool str_same(struct irc_str a, struct irc_str b)
{
	if (a.p == NULL || b.p == NULL)
		return a.p == b.p;
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static void same_msg(const struct irc_msg *a, const struct irc_msg *c,
		     const char *in)
{
	if (!str_same(a->command, c->command) || !str_same(a->source, c->source))
		FAIL("\"%s\": command or source changed", in);
	if (a->nparams != c->nparams || a->trailing != c->trailing)
		FAIL("\"%s\": params changed", in);
	for (size_t j = 0; j < a->nparams; j++)
		if (!str_same(a->params[j], c->params[j]))
			FAIL("\"%s\": param %zu changed", in, j);
	if (a->tags_raw.n != c->tags_raw.n || a->ntags != c->ntags)
		FAIL("\"%s\": tags changed", in);
	for (size_t j = 0; j < a->ntags; j++)
		if (!str_same(a->tags[j].key, c->tags[j].key) ||
		    !str_same(a->tags[j].value, c->tags[j].value))
			FAIL("\"%s\": tag %zu changed", in, j);
}

/* Parse -> write -> parse gives the same message for every split vector. */
TEST(round_trip)
{
	struct sk_buf b = SK_BUF_INIT(16384);
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
		struct irc_msg a, c;
		const char *in = splits[i].in;
		ASSERT_OK(irc_parse(in, strlen(in), 0, &a));
		int w = irc_write_msg(&b, 0, &a);
		if (w < 0)
			FAIL("\"%s\": write %s", in, irc_strerror(w));
		ASSERT_EQ((size_t)w, sk_buf_len(&b));
		ASSERT_OK(irc_parse((const char *)sk_buf_data(&b), (size_t)w - 2,
				    0, &c));
		same_msg(&a, &c, in);
		sk_buf_clear(&b);
	}
	sk_buf_free(&b);
}

/* Numbers inside slices: bounded by the slice, not by a NUL that is not there. */
TEST(str_ulong)
{
	/* "12" followed by more digits outside the slice must read as 12 */
	const char buf[] = "123456";
	size_t used = 99;
	ASSERT_EQ(irc_str_ulong((struct irc_str){buf, 2}, 1000, &used), 12ul);
	ASSERT_EQ(used, (size_t)2);
	ASSERT_EQ(irc_str_ulong(irc_str("42abc"), 1000, &used), 42ul);
	ASSERT_EQ(used, (size_t)2);
	ASSERT_EQ(irc_str_ulong(irc_str("x1"), 1000, &used), 0ul);
	ASSERT_EQ(used, (size_t)0);
	ASSERT_EQ(irc_str_ulong(IRC_STR_NONE, 1000, NULL), 0ul);
	/* saturates instead of wrapping */
	ASSERT_EQ(irc_str_ulong(irc_str("99999999999999999999999"), 1000, NULL),
		  1000ul);
	ASSERT_EQ(irc_str_ulong(irc_str("1000"), 1000, NULL), 1000ul);
	ASSERT_EQ(irc_str_ulong(irc_str("1001"), 1000, NULL), 1000ul);
	ASSERT_EQ(irc_str_ulong(irc_str("999"), 1000, NULL), 999ul);
}

TEST_MAIN(TEST_ENTRY(split_vectors), TEST_ENTRY(str_ulong), TEST_ENTRY(split_details),
	  TEST_ENTRY(fifteen_params), TEST_ENTRY(parse_errors),
	  TEST_ENTRY(parse_limits), TEST_ENTRY(tag_count),
	  TEST_ENTRY(commands), TEST_ENTRY(tag_escaping),
	  TEST_ENTRY(tags_build), TEST_ENTRY(join_vectors),
	  TEST_ENTRY(write_flags_and_errors), TEST_ENTRY(write_length),
	  TEST_ENTRY(numerics), TEST_ENTRY(round_trip))
