/*
 * tests/unit/test_addr.c - address strings: split, parse, format, compare.
 */
#include <arpa/inet.h>
#include <net/if.h>

#include "test.h"

static void expect_hp(const char *s, enum sk_addr_kind kind, const char *host,
		      unsigned port)
{
	struct sk_hostport hp;
	int r = sk_hostport_parse(s, strlen(s), &hp);
	if (r != 0)
		FAIL("sk_hostport_parse(\"%s\") = %d", s, r);
	ASSERT_EQ(hp.kind, kind);
	ASSERT_STREQ(hp.host, host);
	ASSERT_EQ(hp.port, port);
}

TEST(hostport_forms)
{
	expect_hp("1.2.3.4:80", SK_ADDR_INET, "1.2.3.4", 80);
	expect_hp("[::1]:80", SK_ADDR_INET, "::1", 80);
	expect_hp("[fe80::1%lo]:443", SK_ADDR_INET, "fe80::1%lo", 443);
	expect_hp("[fe80::1%eth0]:1", SK_ADDR_INET, "fe80::1%eth0", 1);
	expect_hp("example.com:6667", SK_ADDR_NAME, "example.com", 6667);
	expect_hp("localhost:0", SK_ADDR_NAME, "localhost", 0);
	expect_hp("my_host-1.local.:65535", SK_ADDR_NAME, "my_host-1.local.",
		  65535);
	expect_hp("*:80", SK_ADDR_INET, "0.0.0.0", 80);
	expect_hp(":80", SK_ADDR_INET, "0.0.0.0", 80);
	expect_hp("[::]:8080", SK_ADDR_INET, "::", 8080);
	expect_hp("[::ffff:1.2.3.4]:9", SK_ADDR_INET, "::ffff:1.2.3.4", 9);
	expect_hp("unix:/tmp/sock", SK_ADDR_UNIX, "/tmp/sock", 0);
	expect_hp("unix:rel/sock", SK_ADDR_UNIX, "rel/sock", 0);
	expect_hp("unix:@name", SK_ADDR_UNIX, "@name", 0);
	expect_hp("0.0.0.0:007", SK_ADDR_INET, "0.0.0.0", 7);
	expect_hp("1.2.3.4:00000", SK_ADDR_INET, "1.2.3.4", 0);

	/* the length bounds the input: trailing bytes are not looked at */
	struct sk_hostport hp;
	ASSERT_OK(sk_hostport_parse("1.2.3.4:80garbage", 10, &hp));
	ASSERT_EQ(hp.port, 80);

	/* longest host name */
	char name[300];
	memset(name, 'a', 255);
	memcpy(name + 255, ":1", 3);
	ASSERT_OK(sk_hostport_parse(name, strlen(name), &hp));
	ASSERT_EQ(hp.kind, SK_ADDR_NAME);
	ASSERT_EQ(strlen(hp.host), 255);
	memset(name, 'a', 256);
	memcpy(name + 256, ":1", 3);
	ASSERT_EQ(sk_hostport_parse(name, strlen(name), &hp), SK_EBADADDR);

	/* longest unix path: sun_path less its NUL; abstract: all of it */
	struct sockaddr_un un;
	const size_t maxpath = sizeof un.sun_path - 1;
	char path[200] = "unix:/";
	memset(path + 6, 'p', maxpath - 1);
	path[5 + maxpath] = '\0';
	ASSERT_OK(sk_hostport_parse(path, strlen(path), &hp));
	ASSERT_EQ(strlen(hp.host), maxpath);
	strcat(path, "p");
	ASSERT_EQ(sk_hostport_parse(path, strlen(path), &hp), SK_EBADADDR);
	char abs[200] = "unix:@";
	memset(abs + 6, 'n', maxpath);
	abs[6 + maxpath] = '\0';
	ASSERT_OK(sk_hostport_parse(abs, strlen(abs), &hp));
	strcat(abs, "n");
	ASSERT_EQ(sk_hostport_parse(abs, strlen(abs), &hp), SK_EBADADDR);
}

/* Inputs every parser must refuse. */
static const char *const malformed[] = {
	"",
	":",
	"1.2.3.4",          /* no port */
	"1.2.3.4:",         /* empty port */
	"1.2.3.4:65536",    /* port too big */
	"1.2.3.4:99999",
	"1.2.3.4:123456",
	"1.2.3.4:-1",       /* sign */
	"1.2.3.4:+80",
	"1.2.3.4: 80",      /* spaces */
	"1.2.3.4 :80",
	" 1.2.3.4:80",
	"1.2.3.4:80 ",
	"1.2.3.4:0x50",
	"1.2.3.4:8a",
	"::1:80",           /* IPv6 needs brackets */
	"[::1]",            /* no port */
	"[::1]:",
	"[::1]80",
	"[::1",             /* unbalanced */
	"::1]:80",
	"[[::1]]:80",
	"[::1]]:80",
	"[]:80",            /* empty host in brackets */
	"[1.2.3.4]:80",     /* brackets are for IPv6 */
	"[example.com]:80",
	"[::1%]:80",        /* empty zone */
	"[::1%a/b]:80",
	"[:::1]:80",
	"[::1]:80:80",
	"1.2.3.256:80",     /* a broken IPv4 address is not a name */
	"01.2.3.4:80",
	"1.2.3:80",
	"1..2.3.4:80",
	"host name:80",     /* bad name characters */
	"host/x:80",
	"host@x:80",
	"h\xc3\xb6.st:80",
	"-.:80x",
	".leading:80",
	"a..b:80",
	"**:80",
	"unix:",            /* empty path */
	"unix:@",           /* empty abstract name */
};

TEST(malformed_rejected)
{
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		const char *s = malformed[i];
		struct sk_hostport hp;
		struct sk_addr a;
		memset(&hp, 0x55, sizeof hp);
		int r = sk_hostport_parse(s, strlen(s), &hp);
		if (r != SK_EBADADDR)
			FAIL("sk_hostport_parse(\"%s\") = %d, want EBADADDR", s, r);
		ASSERT_EQ(hp.host[0], '\0'); /* nothing half-filled */
		r = sk_addr_parse(s, &a);
		if (r != SK_EBADADDR)
			FAIL("sk_addr_parse(\"%s\") = %d, want EBADADDR", s, r);
		ASSERT_EQ(sk_addr_family(&a), AF_UNSPEC);
	}

	/* embedded NUL, in any position */
	static const char withnul[] = "1.2.3.4:80\0";
	struct sk_hostport hp;
	struct sk_addr a;
	ASSERT_EQ(sk_hostport_parse(withnul, sizeof withnul - 1, &hp), SK_EBADADDR);
	ASSERT_EQ(sk_hostport_parse("1.2\0.3.4:80", 11, &hp), SK_EBADADDR);
	ASSERT_EQ(sk_hostport_parse("unix:/a\0b", 9, &hp), SK_EBADADDR);
	ASSERT_EQ(sk_addr_parsen("unix:/a\0b", 9, &a), SK_EBADADDR);
	ASSERT_EQ(sk_addr_parsen("[::1]:8\0", 8, &a), SK_EBADADDR);
	ASSERT_EQ(sk_hostport_parse(NULL, 0, &hp), SK_EBADADDR);
	ASSERT_EQ(sk_addr_parse(NULL, &a), SK_EBADADDR);

	/* names are fine for hostport but not for a numeric parse */
	ASSERT_OK(sk_hostport_parse("example.com:80", 14, &hp));
	ASSERT_EQ(sk_addr_parse("example.com:80", &a), SK_EBADADDR);
	ASSERT_EQ(sk_addr_parse("localhost:80", &a), SK_EBADADDR);

	/* a zone that is neither an interface nor a number */
	ASSERT_EQ(sk_addr_parse("[fe80::1%nosuchif0]:80", &a), SK_EBADADDR);
}

static void round_trip(const char *in, const char *out, int family)
{
	struct sk_addr a, b;
	char buf[SK_ADDR_STRLEN];
	int r = sk_addr_parse(in, &a);
	if (r != 0)
		FAIL("sk_addr_parse(\"%s\") = %d", in, r);
	ASSERT_EQ(sk_addr_family(&a), family);
	int n = sk_addr_format(&a, buf, sizeof buf);
	ASSERT_EQ(n, strlen(out));
	ASSERT_STREQ(buf, out);
	ASSERT_OK(sk_addr_parse(buf, &b));
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_EQ(a.len, b.len);
	/* exact fit works, one byte less does not */
	ASSERT_EQ(sk_addr_format(&a, buf, (size_t)n + 1), n);
	ASSERT_EQ(sk_addr_format(&a, buf, (size_t)n), SK_ENOBUFS);
	ASSERT_EQ(sk_addr_format(&a, NULL, 0), SK_ENOBUFS);
}

TEST(round_trips)
{
	round_trip("1.2.3.4:80", "1.2.3.4:80", AF_INET);
	round_trip("127.0.0.1:0", "127.0.0.1:0", AF_INET);
	round_trip("255.255.255.255:65535", "255.255.255.255:65535", AF_INET);
	round_trip("*:80", "0.0.0.0:80", AF_INET);
	round_trip(":6667", "0.0.0.0:6667", AF_INET);
	round_trip("1.2.3.4:0080", "1.2.3.4:80", AF_INET);
	round_trip("[::1]:80", "[::1]:80", AF_INET6);
	round_trip("[::]:8080", "[::]:8080", AF_INET6);
	round_trip("[2001:DB8:0:0::1]:443", "[2001:db8::1]:443", AF_INET6);
	round_trip("[::ffff:10.0.0.1]:5", "[::ffff:10.0.0.1]:5", AF_INET6);
	round_trip("[fe80::1%lo]:80", "[fe80::1%lo]:80", AF_INET6);
	/* a numeric zone comes back as the interface's name */
	char in[64], lo[IF_NAMESIZE];
	unsigned loidx = if_nametoindex("lo");
	ASSERT(loidx != 0 && if_indextoname(loidx, lo) != NULL);
	snprintf(in, sizeof in, "[fe80::1%%%u]:80", loidx);
	round_trip(in, "[fe80::1%lo]:80", AF_INET6);
	round_trip("[fe80::1%4000000]:80", "[fe80::1%4000000]:80", AF_INET6);
	round_trip("unix:/tmp/x.sock", "unix:/tmp/x.sock", AF_UNIX);
	round_trip("unix:relative", "unix:relative", AF_UNIX);
	round_trip("unix:@abstract", "unix:@abstract", AF_UNIX);

	struct sk_addr a;
	ASSERT_OK(sk_addr_parse("[fe80::1%lo]:80", &a));
	ASSERT_EQ(a.u.in6.sin6_scope_id, if_nametoindex("lo"));
	ASSERT_OK(sk_addr_parse("[fe80::1%4000000]:80", &a));
	ASSERT_EQ(a.u.in6.sin6_scope_id, 4000000);
}

TEST(sockaddr_contents)
{
	struct sk_addr a;
	ASSERT_OK(sk_addr_parse("10.1.2.3:8080", &a));
	ASSERT_EQ(a.len, sizeof(struct sockaddr_in));
	ASSERT_EQ(a.u.in4.sin_family, AF_INET);
	ASSERT_EQ(ntohs(a.u.in4.sin_port), 8080);
	ASSERT_EQ(ntohl(a.u.in4.sin_addr.s_addr), 0x0a010203);
	ASSERT_EQ(sk_addr_port(&a), 8080);

	ASSERT_OK(sk_addr_parse("[::1]:443", &a));
	ASSERT_EQ(a.len, sizeof(struct sockaddr_in6));
	ASSERT(IN6_IS_ADDR_LOOPBACK(&a.u.in6.sin6_addr));
	ASSERT_EQ(a.u.in6.sin6_scope_id, 0);
	ASSERT_EQ(sk_addr_port(&a), 443);

	/* pathname: length counts the NUL */
	ASSERT_OK(sk_addr_parse("unix:/tmp/s", &a));
	ASSERT_EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 7);
	ASSERT_STREQ(a.u.un.sun_path, "/tmp/s");
	ASSERT_EQ(sk_addr_port(&a), 0);

	/* abstract: leading NUL, length is exactly the name */
	ASSERT_OK(sk_addr_parse("unix:@abc", &a));
	ASSERT_EQ(a.len, offsetof(struct sockaddr_un, sun_path) + 1 + 3);
	ASSERT_EQ(a.u.un.sun_path[0], '\0');
	ASSERT_MEMEQ(a.u.un.sun_path + 1, "abc", 3);

	/* parsen honours the length */
	ASSERT_OK(sk_addr_parsen("1.2.3.4:80xyz", 10, &a));
	ASSERT_EQ(sk_addr_port(&a), 80);
	ASSERT_EQ(sk_addr_parsen("1.2.3.4:80xyz", 11, &a), SK_EBADADDR);

	/* the longest abstract name fills sun_path exactly */
	char abs[200] = "unix:@";
	memset(abs + 6, 'n', sizeof a.u.un.sun_path - 1);
	abs[6 + sizeof a.u.un.sun_path - 1] = '\0';
	ASSERT_OK(sk_addr_parse(abs, &a));
	ASSERT_EQ(a.len, sizeof(struct sockaddr_un));
	char buf[SK_ADDR_STRLEN];
	ASSERT_EQ(sk_addr_format(&a, buf, sizeof buf), strlen(abs));
	ASSERT_STREQ(buf, abs);
}

TEST(kernel_style_unix_addresses)
{
	/* getsockname() may report a path length without the NUL, or an
	 * unnamed socket with no path at all */
	struct sk_addr a, b;
	char buf[SK_ADDR_STRLEN];
	memset(&a, 0, sizeof a);
	a.u.un.sun_family = AF_UNIX;
	memcpy(a.u.un.sun_path, "/run/x", 6);
	a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 6);
	ASSERT_EQ(sk_addr_format(&a, buf, sizeof buf), 11);
	ASSERT_STREQ(buf, "unix:/run/x");
	ASSERT_OK(sk_addr_parse(buf, &b));
	ASSERT(sk_addr_equal(&a, &b)); /* same path, different len */

	a.len = sizeof(sa_family_t);
	ASSERT_EQ(sk_addr_format(&a, buf, sizeof buf), 5);
	ASSERT_STREQ(buf, "unix:");
	ASSERT(!sk_addr_equal(&a, &b));

	/* an abstract name holding a NUL shows it as '@' */
	memset(&a, 0, sizeof a);
	a.u.un.sun_family = AF_UNIX;
	memcpy(a.u.un.sun_path, "\0a\0b", 4);
	a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 4);
	ASSERT_EQ(sk_addr_format(&a, buf, sizeof buf), 9);
	ASSERT_STREQ(buf, "unix:@a@b");
	ASSERT_EQ(sk_addr_format_ip(&a, buf, sizeof buf), 4);
	ASSERT_STREQ(buf, "@a@b");

	/* unknown families are refused, not guessed */
	memset(&a, 0, sizeof a);
	a.u.sa.sa_family = AF_UNSPEC;
	ASSERT_EQ(sk_addr_format(&a, buf, sizeof buf), SK_EAFNOSUPPORT);
	ASSERT_EQ(sk_addr_format_ip(&a, buf, sizeof buf), SK_EAFNOSUPPORT);
}

TEST(format_ip)
{
	struct sk_addr a;
	char buf[SK_ADDR_STRLEN];
	ASSERT_OK(sk_addr_parse("1.2.3.4:80", &a));
	ASSERT_EQ(sk_addr_format_ip(&a, buf, sizeof buf), 7);
	ASSERT_STREQ(buf, "1.2.3.4");
	ASSERT_EQ(sk_addr_format_ip(&a, buf, 8), 7);
	ASSERT_EQ(sk_addr_format_ip(&a, buf, 7), SK_ENOBUFS);
	ASSERT_OK(sk_addr_parse("[::1]:80", &a));
	ASSERT_EQ(sk_addr_format_ip(&a, buf, sizeof buf), 3);
	ASSERT_STREQ(buf, "::1");
	ASSERT_OK(sk_addr_parse("[fe80::2%lo]:80", &a));
	ASSERT_OK(sk_addr_format_ip(&a, buf, sizeof buf));
	ASSERT_STREQ(buf, "fe80::2%lo");
	ASSERT_OK(sk_addr_parse("unix:/p/q", &a));
	ASSERT_EQ(sk_addr_format_ip(&a, buf, sizeof buf), 4);
	ASSERT_STREQ(buf, "/p/q");
	ASSERT_OK(sk_addr_parse("unix:@n", &a));
	ASSERT_OK(sk_addr_format_ip(&a, buf, sizeof buf));
	ASSERT_STREQ(buf, "@n");
}

TEST(from_ip)
{
	struct sk_addr a, b;
	ASSERT_OK(sk_addr_from_ip("127.0.0.1", 99, &a));
	ASSERT_OK(sk_addr_parse("127.0.0.1:99", &b));
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_from_ip("::1", 7, &a));
	ASSERT_OK(sk_addr_parse("[::1]:7", &b));
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_from_ip("[::1]", 7, &a));
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_from_ip("fe80::1%lo", 1, &a));
	ASSERT_EQ(a.u.in6.sin6_scope_id, if_nametoindex("lo"));

	static const char *const bad[] = {"", "[]", "example.com", "1.2.3.4:80",
					  "[::1]:80", "1.2.3", "::1%", "*",
					  "[::1", "unix:/x", "fe80::1%no/if"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = sk_addr_from_ip(bad[i], 1, &a);
		if (r != SK_EBADADDR)
			FAIL("sk_addr_from_ip(\"%s\") = %d", bad[i], r);
	}
	ASSERT_EQ(sk_addr_from_ip(NULL, 1, &a), SK_EBADADDR);
}

TEST(ports_and_equality)
{
	struct sk_addr a, b;
	ASSERT_OK(sk_addr_parse("1.2.3.4:80", &a));
	ASSERT_OK(sk_addr_parse("1.2.3.4:81", &b));
	ASSERT(!sk_addr_equal(&a, &b));
	sk_addr_set_port(&b, 80);
	ASSERT_EQ(sk_addr_port(&b), 80);
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_parse("1.2.3.5:80", &b));
	ASSERT(!sk_addr_equal(&a, &b));

	/* v4 and v4-mapped v6 are different socket addresses */
	ASSERT_OK(sk_addr_parse("[::ffff:1.2.3.4]:80", &b));
	ASSERT(!sk_addr_equal(&a, &b));

	ASSERT_OK(sk_addr_parse("[::1]:80", &a));
	ASSERT_OK(sk_addr_parse("[::1]:80", &b));
	ASSERT(sk_addr_equal(&a, &b));
	sk_addr_set_port(&b, 65535);
	ASSERT_EQ(sk_addr_port(&b), 65535);
	ASSERT(!sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_parse("[fe80::1]:80", &a));
	ASSERT_OK(sk_addr_parse("[fe80::1%lo]:80", &b));
	ASSERT(!sk_addr_equal(&a, &b)); /* the zone matters */

	ASSERT_OK(sk_addr_parse("unix:/a", &a));
	ASSERT_OK(sk_addr_parse("unix:/a", &b));
	ASSERT(sk_addr_equal(&a, &b));
	sk_addr_set_port(&a, 80); /* no port on unix: ignored */
	ASSERT_EQ(sk_addr_port(&a), 0);
	ASSERT(sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_parse("unix:/b", &b));
	ASSERT(!sk_addr_equal(&a, &b));
	ASSERT_OK(sk_addr_parse("unix:@a", &b));
	ASSERT(!sk_addr_equal(&a, &b)); /* "/a" vs abstract "a" */
	ASSERT_OK(sk_addr_parse("unix:@ab", &a));
	ASSERT(!sk_addr_equal(&a, &b));
}

TEST(loopback)
{
	static const struct {
		const char *s;
		bool lo;
	} cases[] = {
		{"127.0.0.1:1", true},      {"127.255.255.254:1", true},
		{"126.0.0.1:1", false},     {"128.0.0.1:1", false},
		{"0.0.0.0:1", false},       {"10.0.0.1:1", false},
		{"[::1]:1", true},          {"[::]:1", false},
		{"[::2]:1", false},         {"[::ffff:127.0.0.9]:1", true},
		{"[::ffff:10.0.0.1]:1", false}, {"[fe80::1%lo]:1", false},
		{"unix:/tmp/s", true},      {"unix:@x", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sk_addr a;
		ASSERT_OK(sk_addr_parse(cases[i].s, &a));
		if (sk_addr_is_loopback(&a) != cases[i].lo)
			FAIL("is_loopback(%s) != %d", cases[i].s, cases[i].lo);
	}
}

TEST_MAIN(TEST_ENTRY(hostport_forms), TEST_ENTRY(malformed_rejected),
	  TEST_ENTRY(round_trips), TEST_ENTRY(sockaddr_contents),
	  TEST_ENTRY(kernel_style_unix_addresses), TEST_ENTRY(format_ip),
	  TEST_ENTRY(from_ip), TEST_ENTRY(ports_and_equality),
	  TEST_ENTRY(loopback))
