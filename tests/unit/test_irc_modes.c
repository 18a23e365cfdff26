/*
 * tests/unit/test_irc_modes.c - mode specs, mode string parsing and
 * formatting.
 */
#include "test.h"

#include "irc/modes.h"

TEST(spec_init)
{
	struct irc_modespec s;
	ASSERT_OK(irc_modespec_init(&s, "beI,k,l,imnst", "(ov)@+", 4));
	ASSERT_EQ(irc_modespec_kind(&s, 'b'), IRC_MODE_LIST);
	ASSERT_EQ(irc_modespec_kind(&s, 'I'), IRC_MODE_LIST);
	ASSERT_EQ(irc_modespec_kind(&s, 'k'), IRC_MODE_ALWAYS);
	ASSERT_EQ(irc_modespec_kind(&s, 'l'), IRC_MODE_SET);
	ASSERT_EQ(irc_modespec_kind(&s, 't'), IRC_MODE_FLAG);
	ASSERT_EQ(irc_modespec_kind(&s, 'o'), IRC_MODE_PREFIX);
	ASSERT_EQ(irc_modespec_kind(&s, 'v'), IRC_MODE_PREFIX);
	ASSERT_EQ(irc_modespec_kind(&s, 'x'), IRC_MODE_UNKNOWN);
	ASSERT_EQ(irc_modespec_kind(&s, 'B'), IRC_MODE_UNKNOWN); /* case matters */
	ASSERT_EQ(irc_modespec_kind(&s, (char)0xe9), IRC_MODE_UNKNOWN);
	ASSERT_STREQ(s.prefix, "ov");
	ASSERT_EQ(s.max_args, 4);

	/* short forms */
	ASSERT_OK(irc_modespec_init(&s, ",,,iwo", NULL, 0));
	ASSERT_EQ(irc_modespec_kind(&s, 'o'), IRC_MODE_FLAG);
	ASSERT_OK(irc_modespec_init(&s, "b", "ov", 0));
	ASSERT_EQ(irc_modespec_kind(&s, 'v'), IRC_MODE_PREFIX);
	ASSERT_OK(irc_modespec_init(&s, "", "", 0));
	ASSERT_OK(irc_modespec_init(&s, NULL, NULL, 0));

	/* errors */
	ASSERT_EQ(irc_modespec_init(&s, "b,k,l,i,x", NULL, 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "bb", NULL, 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b,b", NULL, 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b,1", NULL, 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b,+", NULL, 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "o,,,", "ov", 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b", "(ov@+", 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b", "(o@)", 0), SK_EINVAL);
	ASSERT_EQ(irc_modespec_init(&s, "b", "acdefghjk", 0), SK_EINVAL);
	ASSERT_OK(irc_modespec_init(&s, "b", "acdefghj", 0));
	ASSERT_EQ(irc_modespec_init(&s, "b", "ab", 0), SK_EINVAL);
}

/* "+o:nick -k:key +b" -- one token per change, arg after ':' */
static void render(const struct irc_modes *r, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const struct irc_mode_change *c = &r->ch[i];
		int w = snprintf(out + o, size - o, "%s%c%c", i ? " " : "",
				 c->dir, c->mode);
		o += (size_t)w;
		if (c->arg.p)
			o += (size_t)snprintf(out + o, size - o, ":%.*s",
					      (int)c->arg.n, c->arg.p);
	}
}

struct mode_case {
	const char *modes;
	const char *args[8];
	const char *want;      /* rendered changes */
	const char *unknown;
	const char *missing;
	size_t args_used;
	bool truncated;
};

static const struct mode_case cases[] = {
	{"+o", {"alice"}, "+o:alice", "", "", 1, false},
	{"+ov-k", {"alice", "bob", "key"}, "+o:alice +v:bob -k:key", "", "", 3,
	 false},
	{"-o+v", {"a", "b"}, "-o:a +v:b", "", "", 2, false},
	{"imnt", {0}, "+i +m +n +t", "", "", 0, false},
	{"+i-m+n-t", {0}, "+i -m +n -t", "", "", 0, false},
	{"+l", {"10"}, "+l:10", "", "", 1, false},
	{"-l", {"10"}, "-l", "", "", 0, false},
	{"+l", {0}, "", "", "l", 0, false},
	{"+k", {0}, "", "", "k", 0, false},
	{"-k", {0}, "", "", "k", 0, false},
	{"+o", {0}, "", "", "o", 0, false},
	{"+kl", {"secret"}, "+k:secret", "", "l", 1, false},
	{"+b", {0}, "+b", "", "", 0, false},
	{"b", {0}, "+b", "", "", 0, false},
	{"+b", {"*!*@bad"}, "+b:*!*@bad", "", "", 1, false},
	{"-b", {"*!*@bad"}, "-b:*!*@bad", "", "", 1, false},
	{"+beI", {"a", "b"}, "+b:a +e:b +I", "", "", 2, false},
	{"+xyz", {0}, "", "xyz", "", 0, false},
	{"+xnx-x", {"u"}, "+n", "x", "", 0, false},
	{"+i:\x01 \xff" "Z", {0}, "+i", "Z", "", 0, false},
	{"+", {0}, "", "", "", 0, false},
	{"", {0}, "", "", "", 0, false},
	{"+-+-", {0}, "", "", "", 0, false},
	/* MODES=4: a fifth argument-taking change is dropped, flags stay */
	{"+ooooo", {"a", "b", "c", "d", "e"}, "+o:a +o:b +o:c +o:d", "", "", 4,
	 true},
	{"+oooooi", {"a", "b", "c", "d", "e"}, "+o:a +o:b +o:c +o:d +i", "", "",
	 4, true},
	{"+ooookl-l", {"a", "b", "c", "d", "k", "9"},
	 "+o:a +o:b +o:c +o:d -l", "", "", 4, true},
	{"+oooob", {"a", "b", "c", "d"}, "+o:a +o:b +o:c +o:d", "", "", 4, true},
	/* arguments are used in order; extra ones are left */
	{"+o", {"a", "b", "c"}, "+o:a", "", "", 1, false},
	/* a trailing empty argument is still an argument */
	{"+k", {""}, "+k:", "", "", 1, false},
};

TEST(parse_table)
{
	struct irc_modespec s;
	ASSERT_OK(irc_modespec_init(&s, "beI,k,l,imnst", "(ov)@+", 4));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mode_case *c = &cases[i];
		struct irc_str args[8];
		size_t na = 0;
		struct irc_modes r;
		char got[512];

		while (na < 8 && c->args[na]) {
			args[na] = irc_str(c->args[na]);
			na++;
		}
		int n = irc_modes_parse(&s, irc_str(c->modes), args, na, &r);
		ASSERT_EQ(n, r.n);
		render(&r, got, sizeof got);
		if (strcmp(got, c->want) != 0)
			FAIL("\"%s\": got \"%s\", want \"%s\"", c->modes, got,
			     c->want);
		if (strcmp(r.unknown, c->unknown) != 0)
			FAIL("\"%s\": unknown \"%s\", want \"%s\"", c->modes,
			     r.unknown, c->unknown);
		if (strcmp(r.missing, c->missing) != 0)
			FAIL("\"%s\": missing \"%s\", want \"%s\"", c->modes,
			     r.missing, c->missing);
		if (r.args_used != c->args_used || r.truncated != c->truncated)
			FAIL("\"%s\": args_used %zu truncated %d", c->modes,
			     r.args_used, r.truncated);
		/* kinds are filled in, args point into the caller's params */
		for (size_t j = 0; j < r.n; j++) {
			ASSERT_EQ(r.ch[j].kind, irc_modespec_kind(&s, r.ch[j].mode));
			if (r.ch[j].arg.p) {
				bool inside = false;
				for (size_t k = 0; k < na; k++)
					inside |= r.ch[j].arg.p == args[k].p;
				ASSERT(inside);
			}
		}
	}
}

TEST(limits)
{
	struct irc_modespec s;
	struct irc_modes r;
	char many[200];

	/* no MODES limit: bounded by IRC_MODE_MAX */
	ASSERT_OK(irc_modespec_init(&s, "b,k,l,imnst", "ov", 0));
	memset(many, 'i', sizeof many);
	ASSERT_EQ(irc_modes_parse(&s, (struct irc_str){many, sizeof many}, NULL,
				  0, &r),
		  IRC_MODE_MAX);
	ASSERT(r.truncated);
	/* the unknown list holds each printable byte once */
	for (int i = 0; i < 200; i++)
		many[i] = (char)(0x21 + i % 94);
	ASSERT_OK(irc_modes_parse(&s, (struct irc_str){many, sizeof many}, NULL,
				  0, &r));
	ASSERT(strlen(r.unknown) < sizeof r.unknown);
	ASSERT(strchr(r.unknown, ':') == NULL && strchr(r.unknown, 'i') == NULL);
	ASSERT(strchr(r.unknown, 'a') && strchr(r.unknown, '~'));

	/* user modes: all flags, arguments never taken */
	struct irc_modespec u;
	ASSERT_OK(irc_modespec_init(&u, ",,,iwo", NULL, 0));
	struct irc_str arg = irc_str("x");
	ASSERT_EQ(irc_modes_parse(&u, irc_str("+iw-o+x"), &arg, 1, &r), 3);
	ASSERT_EQ(r.args_used, 0);
	ASSERT_STREQ(r.unknown, "x");
	ASSERT_EQ(r.ch[2].dir, '-');
	ASSERT_EQ(r.ch[2].mode, 'o');
}

TEST(format)
{
	struct irc_modespec s;
	struct irc_modes r;
	struct irc_str args[13], out[13];
	const char *a[] = {"alice", "bob", "key", "*!*@x", "10"};
	char modes[64];
	size_t na;

	ASSERT_OK(irc_modespec_init(&s, "beI,k,l,imnst", "(ov)@+", 0));
	for (size_t i = 0; i < 5; i++)
		args[i] = irc_str(a[i]);
	ASSERT_EQ(irc_modes_parse(&s, irc_str("+ov-k+bnl-mt"), args, 5, &r), 8);

	/* everything in one line */
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 0, modes, sizeof modes, out,
				   &na),
		  8);
	ASSERT_STREQ(modes, "+ov-k+bnl-mt");
	ASSERT_EQ(na, 5);
	for (size_t i = 0; i < 5; i++)
		ASSERT(out[i].p == args[i].p);

	/* and it parses back to the same changes */
	struct irc_modes r2;
	ASSERT_EQ(irc_modes_parse(&s, irc_str(modes), out, na, &r2), 8);
	for (size_t i = 0; i < 8; i++) {
		ASSERT_EQ(r2.ch[i].dir, r.ch[i].dir);
		ASSERT_EQ(r2.ch[i].mode, r.ch[i].mode);
		ASSERT(r2.ch[i].arg.p == r.ch[i].arg.p);
	}

	/* chunks of at most 2 arguments, as MODES=2 asks */
	const char *want[] = {"+ov", "-k+bn", "+l-mt"};
	size_t done = 0, k = 0;
	while (done < r.n) {
		int t = irc_modes_format(r.ch + done, r.n - done, 2, 0, modes,
					 sizeof modes, out, &na);
		ASSERT(t > 0 && na <= 2);
		ASSERT(k < 3);
		ASSERT_STREQ(modes, want[k]);
		k++;
		done += (size_t)t;
	}
	ASSERT_EQ(k, 3);

	/* a byte budget: "+ov alice :bob" is 14 bytes */
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 14, modes, sizeof modes, out,
				   &na),
		  2);
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 13, modes, sizeof modes, out,
				   &na),
		  1);
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 5, modes, sizeof modes, out,
				   &na),
		  SK_ENOBUFS);
	/* the mode string's buffer */
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 0, modes, 4, out, &na), 2);
	ASSERT_STREQ(modes, "+ov");
	ASSERT_EQ(irc_modes_format(r.ch, r.n, 13, 0, modes, 2, out, &na),
		  SK_ENOBUFS);
	ASSERT_EQ(irc_modes_format(r.ch, 0, 13, 0, modes, sizeof modes, out,
				   &na),
		  0);
	ASSERT_STREQ(modes, "");
	/* no room for arguments: flags still go, "+l 10" cannot */
	ASSERT_EQ(irc_modes_format(r.ch + 6, 2, 0, 0, modes, sizeof modes, out,
				   &na),
		  2);
	ASSERT_STREQ(modes, "-mt");
	ASSERT_EQ(na, 0);
	ASSERT_EQ(irc_modes_format(r.ch + 5, 3, 0, 0, modes, sizeof modes, out,
				   &na),
		  SK_ENOBUFS);
}

TEST_MAIN(TEST_ENTRY(spec_init), TEST_ENTRY(parse_table), TEST_ENTRY(limits),
	  TEST_ENTRY(format))
